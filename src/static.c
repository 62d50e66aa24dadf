/*
 * Static files under a URL prefix: lg_server_static(srv, "/static", "www").
 *
 * A mount is one route, the prefix followed by a rest parameter ("*path")
 * for GET (HEAD follows GET in the router), whose handler maps the decoded
 * rest of the path onto a file below the root and answers it with
 * sendfile. What it implements:
 *   - Content-Type by extension (static_http.c);
 *   - validators: a strong ETag from mtime and size (as nginx does) and
 *     Last-Modified, with If-Match / If-Unmodified-Since (412) and
 *     If-None-Match / If-Modified-Since (304), in RFC 9110 13.2.2's order;
 *   - one byte range (206, 416), If-Range; several ranges get the whole
 *     file (200), which RFC 9110 14.2 allows;
 *   - a precompressed "x.gz" sibling for clients that accept gzip (not for
 *     range requests, so a resumed download never mixes encodings);
 *   - index.html for a directory, a 301 to the slash form without slash.
 *
 * No way out of the root, in two steps:
 *   1. the decoded path is checked segment by segment: no "." or "..",
 *      no hidden names (".git", ".env"; ".well-known" is allowed, RFC
 *      8615), no NUL and no backslash (a separator on FAT file systems).
 *      The router hands the rest parameter over percent-decoded, so
 *      "%2e%2e" and "..%2f" are caught here as the ".." they are;
 *   2. on POSIX systems the path is resolved with realpath() and must
 *      still be below the (resolved) root, so a symlink inside the root
 *      that leads outside it answers 404 — while symlinks that stay inside
 *      (www/current -> releases/7) keep working, which O_NOFOLLOW on every
 *      component would forbid. The resolved path is the one opened. What
 *      is left is a race with somebody who can already write below the
 *      root (swap a checked directory for a symlink between realpath and
 *      open); a root writable by strangers is not one to serve anyway.
 *      Microcontroller file systems (FAT, LittleFS, SPIFFS) have no
 *      symlinks and their newlib has no realpath: step 1 is the guard
 *      there.
 */
#if !defined(_XOPEN_SOURCE)
#define _XOPEN_SOURCE 700 /* realpath, O_CLOEXEC, st_mtime */
#endif
#include "linger.h"

#if !defined(LG_NO_SERVER) && defined(LG_NO_FILES)
#include "server_internal.h"

/* A build without files: the call is there, and says so. */
int lg_server_static(lg_server *srv, const char *prefix, const char *root)
{
    LG_UNUSED(srv);
    LG_UNUSED(prefix);
    LG_UNUSED(root);
    return LG_ERR_UNSUPPORTED;
}

void lg__static_free(lg_server *srv)
{
    LG_UNUSED(srv);
}
#elif !defined(LG_NO_SERVER)
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http1_internal.h"
#include "server_internal.h"
#include "static_internal.h"

#if defined(__unix__) || defined(__APPLE__)
#define LG_STATIC_REALPATH 1
#else
#define LG_STATIC_REALPATH 0
#endif

/* Longest file path built from root and request. */
#ifndef LG_STATIC_PATH_BYTES
#if LG_STATIC_REALPATH && defined(PATH_MAX)
#define LG_STATIC_PATH_BYTES PATH_MAX
#else
#define LG_STATIC_PATH_BYTES 256
#endif
#endif

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif
#ifndef O_NOCTTY
#define O_NOCTTY 0
#endif
#ifndef O_NONBLOCK
#define O_NONBLOCK 0
#endif

/* Only the root is kept: the router keeps its own copy of the pattern, and
 * redirects are built from the request's own path. */
struct static_mount {
    static_mount *next;
    size_t alloc_size;
    size_t root_len;
    char root[]; /* resolved (absolute) where realpath exists */
};

/* --- 1. the path, as text --- */

static int segment_ok(const char *s, size_t n)
{
    if (n == 0) return 1; /* "a//b": the file system folds it */
    if (s[0] != '.') return 1;
    /* ".", "..", and hidden files (dot files are configuration, not
     * content: .git, .env, .htpasswd). */
    return n == 11 && memcmp(s, ".well-known", 11) == 0;
}

static int rel_path_ok(lg_str rel)
{
    if (memchr(rel.ptr, 0, rel.len) || memchr(rel.ptr, '\\', rel.len)) return 0;
    const char *p = rel.ptr, *end = rel.ptr + rel.len;
    while (p < end) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *seg_end = slash ? slash : end;
        if (!segment_ok(p, (size_t)(seg_end - p))) return 0;
        p = slash ? slash + 1 : end;
    }
    return 1;
}

/* --- 2. the file --- */

static int errno_to_lg(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
#ifdef ELOOP
    case ELOOP:
#endif
        return LG_ERR_NOT_FOUND;
    case EACCES:
    case EPERM:
        return LG_ERR_ACCESS;
    case EMFILE:
    case ENFILE:
        return LG_ERR_LIMIT;
    default:
        return LG_ERR_IO;
    }
}

/* Open `path` (NUL-terminated, in a buffer of LG_STATIC_PATH_BYTES) if it
 * is below the root; on success `path` holds what was opened. */
static int open_below_root(const static_mount *m, char *path, int *fd, struct stat *st)
{
#if LG_STATIC_REALPATH
    char real[LG_STATIC_PATH_BYTES > PATH_MAX ? LG_STATIC_PATH_BYTES : PATH_MAX];
    if (!realpath(path, real)) return errno_to_lg(errno);
    size_t n = strlen(real);
    /* Below the root: the root itself, or root + "/" + more (a root of "/"
     * is kept as "", and everything is below it). */
    if (m->root_len &&
        (n < m->root_len || memcmp(real, m->root, m->root_len) != 0 ||
         (real[m->root_len] != '/' && real[m->root_len] != 0)))
        return LG_ERR_NOT_FOUND;
    if (n >= LG_STATIC_PATH_BYTES) return LG_ERR_NOT_FOUND;
    memcpy(path, real, n + 1);
#else
    (void)m;
#endif
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
     * writer, and the whole loop with it. Regular files ignore it. */
    int f = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (f < 0) return errno_to_lg(errno);
    if (fstat(f, st) != 0) {
        int e = errno;
        close(f);
        return errno_to_lg(e);
    }
    if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)) {
        close(f); /* devices, sockets, FIFOs are not content */
        return LG_ERR_NOT_FOUND;
    }
    *fd = f;
    return LG_OK;
}

/* Append s to the path in buf (of LG_STATIC_PATH_BYTES). */
static int path_append(char *buf, const char *s, size_t n)
{
    size_t len = strlen(buf);
    if (len + n + 1 > LG_STATIC_PATH_BYTES) return -1;
    memcpy(buf + len, s, n);
    buf[len + n] = 0;
    return 0;
}

static int fail(lg_res *res, int err)
{
    if (err == LG_ERR_ACCESS) return lg_res_error(res, 403, "not readable");
    if (err == LG_ERR_LIMIT) return lg_res_error(res, 503, "out of file descriptors");
    if (err == LG_ERR_IO) return lg_res_error(res, 500, "cannot read the file");
    return lg_res_error(res, 404, "no such file");
}

/* 301 to the path as the client sent it, plus "/" (and its query): a
 * directory's relative links resolve against the slash form. */
static void redirect_to_slash(lg_req *req, lg_res *res)
{
    const lg_exchange *ex = req->ex;
    char loc[512];
    size_t n = ex->path_raw.len, q = ex->query_raw.len;
    if (n + 2 + q >= sizeof loc) {
        lg_res_error(res, 404, "path too long");
        return;
    }
    memcpy(loc, ex->path_raw.ptr, n);
    loc[n++] = '/';
    if (q) {
        loc[n++] = '?';
        memcpy(loc + n, ex->query_raw.ptr, q);
        n += q;
    }
    loc[n] = 0;
    lg_res_redirect(res, 301, loc);
}

static size_t put_hex(char *out, uint64_t v)
{
    char tmp[16];
    size_t n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    return n;
}

/* --- 3. the answer --- */

static int method_is_get_or_head(const lg_req *req)
{
    int m = lg_req_method_id(req);
    return m == LG_METHOD_GET || m == LG_METHOD_HEAD;
}

static void on_static(lg_req *req, lg_res *res, void *user)
{
    const static_mount *m = user;
    lg_str rel = lg_req_param(req, "path");
    if (!rel.ptr) rel = LG_STR("");
    if (!rel_path_ok(rel)) {
        lg_res_error(res, 404, "no such file");
        return;
    }

    char path[LG_STATIC_PATH_BYTES];
    if (m->root_len + 1 + rel.len + 1 > sizeof path) {
        lg_res_error(res, 404, "path too long");
        return;
    }
    memcpy(path, m->root, m->root_len);
    path[m->root_len] = '/';
    memcpy(path + m->root_len + 1, rel.ptr, rel.len);
    path[m->root_len + 1 + rel.len] = 0;

    int fd;
    struct stat st;
    int rc = open_below_root(m, path, &fd, &st);
    if (rc) {
        fail(res, rc);
        return;
    }
    /* The name the type comes from: the request's, so that a symlink
     * "latest.js" -> "build-7f3a" is still JavaScript. */
    const char *type_name = rel.ptr;
    size_t type_len = rel.len;
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        lg_str raw = req->ex->path_raw;
        if (raw.len == 0 || raw.ptr[raw.len - 1] != '/') {
            redirect_to_slash(req, res);
            return;
        }
        /* No listings: a directory answers with its index.html or 404. */
        if (path_append(path, "/index.html", 11) != 0) {
            lg_res_error(res, 404, "path too long");
            return;
        }
        rc = open_below_root(m, path, &fd, &st);
        if (rc == LG_OK && !S_ISREG(st.st_mode)) {
            close(fd);
            rc = LG_ERR_NOT_FOUND;
        }
        if (rc) {
            fail(res, rc);
            return;
        }
        type_name = "index.html";
        type_len = 10;
    }
    const char *type = lg__mime_type(type_name, type_len);

    /* A precompressed sibling: its existence alone makes the answer
     * depend on Accept-Encoding (Vary, RFC 9110 12.5.5), whichever one is
     * sent. A request for "x.gz" itself is just a gzip file. */
    int is_get = lg_req_method_id(req) == LG_METHOD_GET;
    lg_str range = is_get ? lg_req_header(req, "Range") : (lg_str){ NULL, 0 };
    int vary = 0, gzipped = 0;
    size_t plen = strlen(path);
    if (!(plen >= 3 && memcmp(path + plen - 3, ".gz", 3) == 0) && path_append(path, ".gz", 3) == 0) {
        int gz_fd;
        struct stat gz_st;
        if (open_below_root(m, path, &gz_fd, &gz_st) == LG_OK) {
            if (S_ISREG(gz_st.st_mode)) {
                vary = 1;
                if (!range.ptr && lg__accepts_gzip(lg_req_header(req, "Accept-Encoding"))) {
                    close(fd);
                    fd = gz_fd;
                    st = gz_st;
                    gzipped = 1;
                }
            }
            if (!gzipped) close(gz_fd);
        }
    }

    /* Validators. Last-Modified may not be later than Date (RFC 9110
     * 8.8.2.1): a file from the future is dated now. */
    uint64_t size = (uint64_t)st.st_size;
    int64_t mtime = (int64_t)st.st_mtime;
    int64_t now = (int64_t)time(NULL);
    if (now > 0 && mtime > now) mtime = now;
    char etag[40], last_mod[LG_HTTP_DATE_BYTES];
    size_t n = 0;
    etag[n++] = '"';
    n += put_hex(etag + n, (uint64_t)mtime);
    etag[n++] = '-';
    n += put_hex(etag + n, size);
    etag[n++] = '"';
    etag[n] = 0;
    lg__http_date_format(mtime, last_mod);

    /* Preconditions, in the order of RFC 9110 13.2.2. */
    lg_str if_match = lg_req_header(req, "If-Match");
    lg_str if_unmod = lg_req_header(req, "If-Unmodified-Since");
    lg_str if_none = lg_req_header(req, "If-None-Match");
    lg_str if_mod = lg_req_header(req, "If-Modified-Since");
    int64_t when;
    if (if_match.ptr ? !lg__etag_list_match(if_match, etag, 0)
                     : (if_unmod.ptr && lg__http_date_parse(if_unmod, &when) == 0 && mtime > when)) {
        close(fd);
        lg_res_error(res, 412, "the file has changed");
        return;
    }
    if (method_is_get_or_head(req) &&
        (if_none.ptr ? lg__etag_list_match(if_none, etag, 1)
                     : (if_mod.ptr && lg__http_date_parse(if_mod, &when) == 0 && mtime <= when))) {
        /* 304 carries what a 200 would have said for caches to update:
         * ETag and Vary (RFC 9110 15.4.5). */
        close(fd);
        lg_res_header(res, "ETag", etag);
        if (vary) lg_res_header(res, "Vary", "Accept-Encoding");
        lg_res_send(res, 304, NULL, 0);
        return;
    }

    /* One range, if the client's copy is the one we have (If-Range: an
     * entity tag compared strongly, or exactly our date). */
    uint64_t first = 0, len = size;
    int rstate = LG_RANGE_IGNORE;
    if (range.ptr) {
        lg_str if_range = lg_req_header(req, "If-Range");
        int current = 1;
        if (if_range.ptr) {
            if (if_range.len && (if_range.ptr[0] == '"' || if_range.ptr[0] == 'W'))
                current = lg__etag_list_match(if_range, etag, 0) && if_range.ptr[0] == '"';
            else
                current = lg__http_date_parse(if_range, &when) == 0 && when == mtime;
        }
        if (current) rstate = lg__range_parse(range, size, &first, &len);
    }

    char cr[80];
    if (rstate == LG_RANGE_UNSATISFIABLE) {
        /* The error answer has its own body and type; it says how long
         * the file is (RFC 9110 15.5.17). */
        close(fd);
        memcpy(cr, "bytes */", 8);
        cr[8 + lg__format_dec(cr + 8, size)] = 0;
        lg_res_header(res, "Content-Range", cr);
        lg_res_header(res, "Accept-Ranges", "bytes");
        lg_res_error(res, 416, "the range is outside the file");
        return;
    }
    lg_res_header(res, "Content-Type", type);
    if (gzipped) lg_res_header(res, "Content-Encoding", "gzip");
    if (vary) lg_res_header(res, "Vary", "Accept-Encoding");
    lg_res_header(res, "Accept-Ranges", "bytes");
    lg_res_header(res, "ETag", etag);
    lg_res_header(res, "Last-Modified", last_mod);
    int status = 200;
    if (rstate == LG_RANGE_OK) {
        status = 206;
        memcpy(cr, "bytes ", 6);
        n = 6;
        n += lg__format_dec(cr + n, first);
        cr[n++] = '-';
        n += lg__format_dec(cr + n, first + len - 1);
        cr[n++] = '/';
        n += lg__format_dec(cr + n, size);
        cr[n] = 0;
        lg_res_header(res, "Content-Range", cr);
    }
    lg_res_send_fd(res, status, fd, first, len);
}

/* --- mounting --- */

int lg_server_static(lg_server *srv, const char *prefix, const char *root)
{
    if (!srv || !prefix || !root || prefix[0] != '/' || !root[0]) return LG_ERR_INVALID_ARG;
    size_t plen = strlen(prefix);
    while (plen > 1 && prefix[plen - 1] == '/') plen--; /* "/static/" is "/static" */
    if (plen == 1) plen = 0;                              /* "/" mounts at the top */
    /* The prefix is literal: a segment that starts with ':' or '*' would
     * turn into a route parameter. */
    for (size_t i = 1; i < plen; i++)
        if (prefix[i - 1] == '/' && (prefix[i] == ':' || prefix[i] == '*')) return LG_ERR_INVALID_ARG;

    char resolved[LG_STATIC_PATH_BYTES > 256 ? LG_STATIC_PATH_BYTES : 256];
#if LG_STATIC_REALPATH
    char real[LG_STATIC_PATH_BYTES > PATH_MAX ? LG_STATIC_PATH_BYTES : PATH_MAX];
    /* Resolved once, now: the check in open_below_root compares resolved
     * paths, and a later chdir() must not move the root. */
    if (!realpath(root, real)) return errno_to_lg(errno);
    if (strlen(real) >= sizeof resolved) return LG_ERR_INVALID_ARG;
    strcpy(resolved, real);
#else
    if (strlen(root) >= sizeof resolved) return LG_ERR_INVALID_ARG;
    strcpy(resolved, root);
#endif
    size_t rlen = strlen(resolved);
    while (rlen > 1 && resolved[rlen - 1] == '/') rlen--;
    if (rlen == 1 && resolved[0] == '/') rlen = 0; /* "/" + "/" + rel */
    struct stat st;
    if (stat(rlen ? resolved : "/", &st) != 0) return errno_to_lg(errno);
    if (!S_ISDIR(st.st_mode)) return LG_ERR_INVALID_ARG;

    size_t size = sizeof(static_mount) + rlen + 1;
    static_mount *m = lg__alloc(size);
    if (!m) return LG_ERR_NOMEM;
    m->alloc_size = size;
    m->root_len = rlen;
    memcpy(m->root, resolved, rlen);
    m->root[rlen] = 0;

    char pattern[300];
    if (plen + 7 > sizeof pattern) {
        lg__free(m, size);
        return LG_ERR_INVALID_ARG;
    }
    memcpy(pattern, prefix, plen);
    memcpy(pattern + plen, "/*path", 7);
    int rc = lg__router_add(srv, "GET", pattern, 0, on_static, m);
    if (rc) {
        lg__free(m, size);
        return rc;
    }
    m->next = srv->mounts;
    srv->mounts = m;
    return LG_OK;
}

void lg__static_free(lg_server *srv)
{
    while (srv->mounts) {
        static_mount *m = srv->mounts;
        srv->mounts = m->next;
        lg__free(m, m->alloc_size);
    }
}

#endif /* LG_NO_SERVER, LG_NO_FILES */
