/*
 * Static files over real sockets: a linger server (its loop on a thread of
 * its own) serves a temporary directory tree, and a blocking client on the
 * main thread asks for files the way browsers, caches, download managers
 * and attackers do. Responses are read with linger's own response parser
 * and framed by Content-Length, so a wrong length shows up as a broken next
 * response on the same connection.
 *
 *   content types; ETag and Last-Modified with 304, 412 and precedence;
 *   one range in all three forms, at the edges, 416, If-Range; .gz
 *   siblings by Accept-Encoding; index.html and 301s; 404 and 405; every
 *   traversal we could think of (decoded "..", symlinks out, absolute
 *   form); HEAD; a FIFO that must not hang the loop; keep-alive and
 *   pipelining across file answers; no descriptor left open.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "linger.h"
#include "tcp_peer.h"
#include "test.h"

#define BIG_SIZE (3u << 20) /* several sendfile rounds, several windows */
#define MID_SIZE 100000u
#define KNOWN_MTIME 1000000000 /* Sun, 09 Sep 2001 01:46:40 GMT */
#define KNOWN_DATE "Sun, 09 Sep 2001 01:46:40 GMT"
#define SECRET "TOP SECRET"

static char base[64], root[128];
static uint16_t port;
static int conns_opened, requests_sent;

/* --- the tree --- */

static void path_of(char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/%s", base, rel);
}

static void put_file(const char *rel, const void *data, size_t len)
{
    char p[256];
    path_of(p, sizeof p, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, data, len) == (ssize_t)len);
    close(fd);
}

static void put_str(const char *rel, const char *s)
{
    put_file(rel, s, strlen(s));
}

static void set_mtime(const char *rel, time_t t)
{
    char p[256];
    path_of(p, sizeof p, rel);
    struct timeval tv[2] = { { t, 0 }, { t, 0 } };
    CHECK(utimes(p, tv) == 0);
}

static void make_dir(const char *rel)
{
    char p[256];
    path_of(p, sizeof p, rel);
    CHECK(mkdir(p, 0755) == 0);
}

static void make_link(const char *target, const char *rel)
{
    char p[256];
    path_of(p, sizeof p, rel);
    CHECK(symlink(target, p) == 0);
}

static unsigned char pattern_byte(size_t i)
{
    return (unsigned char)((i * 7 + i / 251) & 0xff);
}

static void build_tree(void)
{
    strcpy(base, "/tmp/linger-static-XXXXXX");
    CHECK(mkdtemp(base) != NULL);
    snprintf(root, sizeof root, "%s/www", base);
    put_str("secret", SECRET "\n");
    make_dir("www");
    put_str("www/index.html", "<h1>root index</h1>\n");
    put_str("www/style.css", "body { color: black }\n");
    put_str("www/app.js", "console.log(1)\n");
    put_str("www/mod.mjs", "export default 1\n");
    put_str("www/data.json", "{\"a\": 1}\n");
    put_str("www/notes.txt", "some notes\n");
    put_str("www/logo.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n");
    put_file("www/pic.png", "\x89PNG\r\n\x1a\n", 8);
    put_file("www/photo.JPG", "\xff\xd8\xff", 3);
    put_str("www/m.wasm", "\0asm");
    put_str("www/font.woff2", "wOF2");
    put_str("www/noext", "raw bytes");
    put_str("www/site.tar.gz", "not really gzip");
    put_str("www/empty.txt", "");
    put_str("www/.hidden", SECRET);
    make_dir("www/.well-known");
    put_str("www/.well-known/security.txt", "Contact: nobody\n");
    /* one file, two encodings */
    put_str("www/gzme.js", "PLAIN JS\n");
    put_str("www/gzme.js.gz", "GZIPPED BYTES");
    set_mtime("www/gzme.js", KNOWN_MTIME);
    set_mtime("www/gzme.js.gz", KNOWN_MTIME + 5);
    make_dir("www/sub");
    put_str("www/sub/index.html", "<h1>sub index</h1>\n");
    make_dir("www/sub/nested");
    make_dir("www/noindex");
    set_mtime("www/style.css", KNOWN_MTIME);

    unsigned char *big = malloc(BIG_SIZE);
    for (size_t i = 0; i < BIG_SIZE; i++) big[i] = pattern_byte(i);
    put_file("www/big.bin", big, BIG_SIZE);
    put_file("www/mid.bin", big, MID_SIZE);
    set_mtime("www/mid.bin", KNOWN_MTIME);
    free(big);

    /* symlinks: inside to inside is fine, anything leading out is not */
    make_link("style.css", "www/link_in");
    make_link("sub", "www/sublink");
    make_link("../secret", "www/link_out");
    make_link("..", "www/dirlink_out");
    make_link(base, "www/abslink_out");
    make_link("www", "wwwlink"); /* a root given through a symlink */
    char fifo[256];
    path_of(fifo, sizeof fifo, "www/fifo");
    CHECK(mkfifo(fifo, 0644) == 0);
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            remove_tree(p);
            rmdir(p);
        } else {
            unlink(p);
        }
    }
    closedir(d);
    rmdir(dir);
}

/* --- the server, on its own thread --- */

static lg_loop *loop;
static lg_server *srv;
static atomic_int stop_server;

static void *server_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_server)) lg_loop_run_once(loop, 20);
    return NULL;
}

/* --- the client --- */

typedef struct conn {
    int fd;
    size_t len;
    char buf[1 << 16];
} conn;

typedef struct resp {
    int status;
    char head[8192];
    lg_header hv[48];
    lg_head h;
    char *body;
    size_t body_len;
} resp;

static void resp_free(resp *r)
{
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}

static lg_str hdr(const resp *r, const char *name)
{
    return lg_head_get(&r->h, name);
}

static int has_hdr(const resp *r, const char *name)
{
    return hdr(r, name).ptr != NULL;
}

static int body_is(const resp *r, const char *s)
{
    return r->body_len == strlen(s) && memcmp(r->body, s, r->body_len) == 0;
}

static int body_has_secret(const resp *r)
{
    for (size_t i = 0; i + sizeof SECRET - 1 <= r->body_len; i++)
        if (memcmp(r->body + i, SECRET, sizeof SECRET - 1) == 0) return 1;
    return 0;
}

static void conn_open(conn *c)
{
    c->fd = peer_connect(port);
    c->len = 0;
    CHECK(c->fd >= 0);
    struct timeval tv = { 5, 0 }; /* nothing here should take long */
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    conns_opened++;
}

static void conn_close(conn *c)
{
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
}

static int fill(conn *c)
{
    if (c->len == sizeof c->buf) return -1;
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (n <= 0) return -1;
    c->len += (size_t)n;
    return 0;
}

static void take(conn *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* Read one response to a request of method_id. 0, or -1 when the
 * connection broke or the response did not parse. */
static int read_response(conn *c, int method_id, resp *r)
{
    memset(r, 0, sizeof *r);
    r->h.headers = r->hv;
    r->h.max_headers = 48;
    int n;
    while ((n = lg_parse_response(&r->h, c->buf, c->len, 0, sizeof r->head, method_id)) == 0)
        if (fill(c) != 0) return -1;
    if (n < 0) return -1;
    /* Keep the head (the slices point into it) and parse it again there. */
    memcpy(r->head, c->buf, (size_t)n);
    take(c, (size_t)n);
    r->h.num_headers = 0;
    CHECK_EQ_INT(lg_parse_response(&r->h, r->head, (size_t)n, 0, sizeof r->head, method_id), n);
    r->status = r->h.status;
    if (r->h.framing == LG_FRAMING_NONE) return 0;
    if (r->h.framing != LG_FRAMING_LENGTH) return -1; /* files have lengths */
    size_t want = (size_t)r->h.content_length;
    r->body = malloc(want + 1);
    while (r->body_len < want) {
        if (c->len == 0 && fill(c) != 0) return -1;
        size_t k = c->len < want - r->body_len ? c->len : want - r->body_len;
        memcpy(r->body + r->body_len, c->buf, k);
        r->body_len += k;
        take(c, k);
    }
    r->body[want] = 0;
    return 0;
}

static int send_request(conn *c, const char *method, const char *target, const char *extra)
{
    char req[2048];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", method, target,
                     extra ? extra : "");
    requests_sent++;
    return peer_send_all(c->fd, req, (size_t)n);
}

/* Most requests go over one connection, kept alive; it is opened again
 * only when the server said it would close. */
static conn C = { .fd = -1 };

static int request(const char *method, const char *target, const char *extra, resp *r)
{
    if (C.fd < 0) conn_open(&C);
    int method_id = strcmp(method, "HEAD") == 0 ? LG_METHOD_HEAD : LG_METHOD_GET;
    if (send_request(&C, method, target, extra) != 0 || read_response(&C, method_id, r) != 0) {
        fprintf(stderr, "%s %s: no response\n", method, target);
        conn_close(&C);
        r->status = -1;
        return -1;
    }
    lg_str conn_hdr = hdr(r, "Connection");
    if (conn_hdr.ptr && lg_list_has(conn_hdr, "close")) conn_close(&C);
    return r->status;
}

static int get(const char *target, const char *extra, resp *r)
{
    return request("GET", target, extra, r);
}

/* --- the tests --- */

static void test_types(void)
{
    static const struct {
        const char *path, *type, *body;
    } cases[] = {
        { "/static/index.html", "text/html; charset=utf-8", "<h1>root index</h1>\n" },
        { "/static/style.css", "text/css; charset=utf-8", "body { color: black }\n" },
        { "/static/app.js", "text/javascript; charset=utf-8", "console.log(1)\n" },
        { "/static/mod.mjs", "text/javascript; charset=utf-8", "export default 1\n" },
        { "/static/data.json", "application/json", "{\"a\": 1}\n" },
        { "/static/notes.txt", "text/plain; charset=utf-8", "some notes\n" },
        { "/static/logo.svg", "image/svg+xml", NULL },
        { "/static/pic.png", "image/png", NULL },
        { "/static/photo.JPG", "image/jpeg", NULL },
        { "/static/m.wasm", "application/wasm", NULL },
        { "/static/font.woff2", "font/woff2", NULL },
        { "/static/noext", "application/octet-stream", "raw bytes" },
        { "/static/site.tar.gz", "application/gzip", "not really gzip" },
        { "/static/.well-known/security.txt", "text/plain; charset=utf-8", "Contact: nobody\n" },
        { "/static/link_in", "application/octet-stream", "body { color: black }\n" },
        { "/static/sublink/index.html", "text/html; charset=utf-8", "<h1>sub index</h1>\n" },
        { "/static/no%74es.txt", "text/plain; charset=utf-8", "some notes\n" }, /* encoded */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        resp r;
        CHECK_EQ_INT(get(cases[i].path, NULL, &r), 200);
        CHECK_STR(hdr(&r, "Content-Type"), cases[i].type);
        CHECK_STR(hdr(&r, "Accept-Ranges"), "bytes");
        CHECK(!has_hdr(&r, "Content-Encoding"));
        if (cases[i].body) CHECK(body_is(&r, cases[i].body));
        resp_free(&r);
    }
    /* The .gz file itself is a gzip file, not an encoding of something. */
    resp r;
    CHECK_EQ_INT(get("/static/site.tar.gz", "Accept-Encoding: gzip\r\n", &r), 200);
    CHECK(!has_hdr(&r, "Content-Encoding"));
    resp_free(&r);
    /* An empty file. */
    CHECK_EQ_INT(get("/static/empty.txt", NULL, &r), 200);
    CHECK_STR(hdr(&r, "Content-Length"), "0");
    CHECK_EQ_INT(r.body_len, 0);
    resp_free(&r);
}

static void test_validators(void)
{
    resp r;
    char extra[256];
    CHECK_EQ_INT(get("/static/style.css", NULL, &r), 200);
    CHECK_STR(hdr(&r, "Last-Modified"), KNOWN_DATE);
    lg_str e = hdr(&r, "ETag");
    char etag[64] = "";
    CHECK(e.ptr && e.len < sizeof etag && e.ptr[0] == '"');
    if (e.ptr && e.len < sizeof etag) memcpy(etag, e.ptr, e.len);
    resp_free(&r);

    /* If-None-Match: the same tag, weakly compared, in a list, or "*". */
    const char *matching[] = { "%s", "W/%s", "\"nope\", %s", "*" };
    for (size_t i = 0; i < 4; i++) {
        char v[128];
        snprintf(v, sizeof v, matching[i], etag);
        snprintf(extra, sizeof extra, "If-None-Match: %s\r\n", v);
        CHECK_EQ_INT(get("/static/style.css", extra, &r), 304);
        CHECK_STR(hdr(&r, "ETag"), etag); /* RFC 9110 15.4.5 */
        CHECK_EQ_INT(r.body_len, 0);
        resp_free(&r);
    }
    CHECK_EQ_INT(get("/static/style.css", "If-None-Match: \"other\"\r\n", &r), 200);
    CHECK(body_is(&r, "body { color: black }\n"));
    resp_free(&r);
    snprintf(extra, sizeof extra, "If-None-Match: %s\r\n", etag);
    CHECK_EQ_INT(request("HEAD", "/static/style.css", extra, &r), 304);
    resp_free(&r);

    /* If-Modified-Since in all three date forms, and a second earlier. */
    static const char *same[] = { KNOWN_DATE, "Sunday, 09-Sep-01 01:46:40 GMT",
                                  "Sun Sep  9 01:46:40 2001", "Mon, 10 Sep 2001 00:00:00 GMT" };
    for (size_t i = 0; i < 4; i++) {
        snprintf(extra, sizeof extra, "If-Modified-Since: %s\r\n", same[i]);
        CHECK_EQ_INT(get("/static/style.css", extra, &r), 304);
        resp_free(&r);
    }
    CHECK_EQ_INT(get("/static/style.css", "If-Modified-Since: Sun, 09 Sep 2001 01:46:39 GMT\r\n", &r), 200);
    resp_free(&r);
    CHECK_EQ_INT(get("/static/style.css", "If-Modified-Since: not a date\r\n", &r), 200);
    resp_free(&r);
    /* If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2). */
    CHECK_EQ_INT(get("/static/style.css",
                     "If-None-Match: \"other\"\r\nIf-Modified-Since: " KNOWN_DATE "\r\n", &r), 200);
    resp_free(&r);

    /* If-Match (strong) and If-Unmodified-Since: 412 when they fail. */
    snprintf(extra, sizeof extra, "If-Match: %s\r\n", etag);
    CHECK_EQ_INT(get("/static/style.css", extra, &r), 200);
    resp_free(&r);
    snprintf(extra, sizeof extra, "If-Match: W/%s\r\n", etag);
    CHECK_EQ_INT(get("/static/style.css", extra, &r), 412);
    resp_free(&r);
    CHECK_EQ_INT(get("/static/style.css", "If-Match: \"other\"\r\n", &r), 412);
    resp_free(&r);
    CHECK_EQ_INT(get("/static/style.css", "If-Unmodified-Since: " KNOWN_DATE "\r\n", &r), 200);
    resp_free(&r);
    CHECK_EQ_INT(get("/static/style.css", "If-Unmodified-Since: Sat, 01 Jan 2000 00:00:00 GMT\r\n", &r), 412);
    resp_free(&r);
}

static int mid_slice_ok(const resp *r, size_t first, size_t len)
{
    if (r->body_len != len) return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)r->body[i] != pattern_byte(first + i)) return 0;
    return 1;
}

static void test_ranges(void)
{
    static const struct {
        const char *range;
        size_t first, len;
    } ok[] = {
        { "bytes=0-0", 0, 1 },
        { "bytes=0-99", 0, 100 },
        { "bytes=1000-1999", 1000, 1000 },
        { "bytes=99999-99999", 99999, 1 },  /* the last byte */
        { "bytes=99990-", 99990, 10 },
        { "bytes=0-", 0, MID_SIZE },
        { "bytes=-10", 99990, 10 },
        { "bytes=-1", 99999, 1 },
        { "bytes=-200000", 0, MID_SIZE },   /* suffix longer than the file */
        { "bytes=50000-999999", 50000, 50000 }, /* clamped */
    };
    char extra[256], want[96];
    resp r;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        snprintf(extra, sizeof extra, "Range: %s\r\n", ok[i].range);
        CHECK_EQ_INT(get("/static/mid.bin", extra, &r), 206);
        snprintf(want, sizeof want, "bytes %zu-%zu/%u", ok[i].first, ok[i].first + ok[i].len - 1, MID_SIZE);
        CHECK_STR(hdr(&r, "Content-Range"), want);
        CHECK(mid_slice_ok(&r, ok[i].first, ok[i].len));
        resp_free(&r);
    }
    static const char *unsat[] = { "bytes=100000-", "bytes=100000-100001", "bytes=-0" };
    for (size_t i = 0; i < 3; i++) {
        snprintf(extra, sizeof extra, "Range: %s\r\n", unsat[i]);
        CHECK_EQ_INT(get("/static/mid.bin", extra, &r), 416);
        CHECK_STR(hdr(&r, "Content-Range"), "bytes */100000");
        resp_free(&r);
    }
    CHECK_EQ_INT(get("/static/empty.txt", "Range: bytes=0-\r\n", &r), 416);
    CHECK_STR(hdr(&r, "Content-Range"), "bytes */0");
    resp_free(&r);
    /* Ignored: whole file, 200 — invalid, several ranges, other units. */
    static const char *ignored[] = { "bytes=5-2", "bytes=0-1,5-6", "items=0-5", "bytes=x" };
    for (size_t i = 0; i < 4; i++) {
        snprintf(extra, sizeof extra, "Range: %s\r\n", ignored[i]);
        CHECK_EQ_INT(get("/static/mid.bin", extra, &r), 200);
        CHECK(!has_hdr(&r, "Content-Range"));
        CHECK(mid_slice_ok(&r, 0, MID_SIZE));
        resp_free(&r);
    }
    /* If-Range: a strong tag or the exact date lets the range through;
     * anything else gets the whole file. */
    CHECK_EQ_INT(get("/static/mid.bin", NULL, &r), 200);
    char etag[64] = "";
    lg_str e = hdr(&r, "ETag");
    if (e.ptr && e.len < sizeof etag) memcpy(etag, e.ptr, e.len);
    resp_free(&r);
    snprintf(extra, sizeof extra, "Range: bytes=10-19\r\nIf-Range: %s\r\n", etag);
    CHECK_EQ_INT(get("/static/mid.bin", extra, &r), 206);
    CHECK(mid_slice_ok(&r, 10, 10));
    resp_free(&r);
    CHECK_EQ_INT(get("/static/mid.bin", "Range: bytes=10-19\r\nIf-Range: " KNOWN_DATE "\r\n", &r), 206);
    resp_free(&r);
    snprintf(extra, sizeof extra, "Range: bytes=10-19\r\nIf-Range: W/%s\r\n", etag);
    CHECK_EQ_INT(get("/static/mid.bin", extra, &r), 200);
    CHECK(mid_slice_ok(&r, 0, MID_SIZE));
    resp_free(&r);
    CHECK_EQ_INT(get("/static/mid.bin", "Range: bytes=10-19\r\nIf-Range: \"old\"\r\n", &r), 200);
    resp_free(&r);
    CHECK_EQ_INT(get("/static/mid.bin", "Range: bytes=10-19\r\nIf-Range: Sat, 01 Jan 2000 00:00:00 GMT\r\n", &r), 200);
    resp_free(&r);
    /* Range is defined for GET only (RFC 9110 14.2): HEAD gets 200. */
    CHECK_EQ_INT(request("HEAD", "/static/mid.bin", "Range: bytes=0-9\r\n", &r), 200);
    CHECK_STR(hdr(&r, "Content-Length"), "100000");
    resp_free(&r);
}

static void test_gzip(void)
{
    resp r;
    CHECK_EQ_INT(get("/static/gzme.js", "Accept-Encoding: gzip, deflate, br\r\n", &r), 200);
    CHECK(body_is(&r, "GZIPPED BYTES"));
    CHECK_STR(hdr(&r, "Content-Encoding"), "gzip");
    CHECK_STR(hdr(&r, "Vary"), "Accept-Encoding");
    CHECK_STR(hdr(&r, "Content-Type"), "text/javascript; charset=utf-8");
    char gz_etag[64] = "";
    lg_str e = hdr(&r, "ETag");
    if (e.ptr && e.len < sizeof gz_etag) memcpy(gz_etag, e.ptr, e.len);
    resp_free(&r);

    CHECK_EQ_INT(get("/static/gzme.js", NULL, &r), 200);
    CHECK(body_is(&r, "PLAIN JS\n"));
    CHECK(!has_hdr(&r, "Content-Encoding"));
    CHECK_STR(hdr(&r, "Vary"), "Accept-Encoding"); /* the choice depended on it */
    e = hdr(&r, "ETag");
    CHECK(e.ptr && (e.len != strlen(gz_etag) || memcmp(e.ptr, gz_etag, e.len) != 0));
    resp_free(&r);

    static const struct {
        const char *ae;
        int gz;
    } cases[] = {
        { "gzip;q=0", 0 }, { "gzip;q=0.000, deflate", 0 }, { "*", 1 },   { "*;q=0", 0 },
        { "deflate, br", 0 }, { "br, gzip;q=0.5", 1 },    { "x-gzip", 1 }, { "identity", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char extra[128];
        snprintf(extra, sizeof extra, "Accept-Encoding: %s\r\n", cases[i].ae);
        CHECK_EQ_INT(get("/static/gzme.js", extra, &r), 200);
        if (!body_is(&r, cases[i].gz ? "GZIPPED BYTES" : "PLAIN JS\n"))
            fprintf(stderr, "Accept-Encoding: %s chose wrong\n", cases[i].ae);
        CHECK(body_is(&r, cases[i].gz ? "GZIPPED BYTES" : "PLAIN JS\n"));
        CHECK_EQ_INT(has_hdr(&r, "Content-Encoding"), cases[i].gz);
        resp_free(&r);
    }
    /* A range applies to the identity file: never half of one encoding
     * and half of another. */
    CHECK_EQ_INT(get("/static/gzme.js", "Accept-Encoding: gzip\r\nRange: bytes=0-4\r\n", &r), 206);
    CHECK(body_is(&r, "PLAIN"));
    CHECK(!has_hdr(&r, "Content-Encoding"));
    resp_free(&r);
    /* The compressed file's validator revalidates the compressed answer. */
    char extra[160];
    snprintf(extra, sizeof extra, "Accept-Encoding: gzip\r\nIf-None-Match: %s\r\n", gz_etag);
    CHECK_EQ_INT(get("/static/gzme.js", extra, &r), 304);
    CHECK_STR(hdr(&r, "Vary"), "Accept-Encoding");
    resp_free(&r);
    snprintf(extra, sizeof extra, "If-None-Match: %s\r\n", gz_etag);
    CHECK_EQ_INT(get("/static/gzme.js", extra, &r), 200); /* but not the plain one */
    resp_free(&r);
    /* No sibling, no Vary. */
    CHECK_EQ_INT(get("/static/notes.txt", "Accept-Encoding: gzip\r\n", &r), 200);
    CHECK(!has_hdr(&r, "Vary"));
    CHECK(!has_hdr(&r, "Content-Encoding"));
    resp_free(&r);
}

static void test_directories(void)
{
    resp r;
    CHECK_EQ_INT(get("/static/", NULL, &r), 200);
    CHECK(body_is(&r, "<h1>root index</h1>\n"));
    CHECK_STR(hdr(&r, "Content-Type"), "text/html; charset=utf-8");
    resp_free(&r);
    CHECK_EQ_INT(get("/static/sub/", NULL, &r), 200);
    CHECK(body_is(&r, "<h1>sub index</h1>\n"));
    resp_free(&r);
    static const struct {
        const char *target, *location;
    } redirects[] = {
        { "/static", "/static/" },
        { "/static/sub", "/static/sub/" },
        { "/static/sub?x=1&y", "/static/sub/?x=1&y" },
        { "/static/s%75b", "/static/s%75b/" }, /* as the client spelled it */
        { "/static/sublink", "/static/sublink/" },
        { "/files", "/files/" },
    };
    for (size_t i = 0; i < sizeof redirects / sizeof redirects[0]; i++) {
        CHECK_EQ_INT(get(redirects[i].target, NULL, &r), 301);
        CHECK_STR(hdr(&r, "Location"), redirects[i].location);
        resp_free(&r);
    }
    /* No listings. */
    CHECK_EQ_INT(get("/static/noindex/", NULL, &r), 404);
    resp_free(&r);
    CHECK_EQ_INT(get("/static/sub/nested/", NULL, &r), 404);
    resp_free(&r);
    /* A second mount, given with a trailing slash, and one whose root is
     * a symlink. */
    CHECK_EQ_INT(get("/files/notes.txt", NULL, &r), 200);
    CHECK(body_is(&r, "some notes\n"));
    resp_free(&r);
    CHECK_EQ_INT(get("/files/", NULL, &r), 200);
    CHECK(body_is(&r, "<h1>root index</h1>\n"));
    resp_free(&r);
    CHECK_EQ_INT(get("/viasym/sub/index.html", NULL, &r), 200);
    CHECK(body_is(&r, "<h1>sub index</h1>\n"));
    resp_free(&r);
}

static void test_missing(void)
{
    resp r;
    static const char *missing[] = { "/static/nope.txt", "/static/notes.txt/", "/static/notes.txt/x",
                                     "/static/sub/nope/", "/static/fifo" /* and no hang */ };
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        CHECK_EQ_INT(get(missing[i], NULL, &r), 404);
        resp_free(&r);
    }
    /* Other methods: 405 with Allow (the route is GET, HEAD follows). */
    if (C.fd < 0) conn_open(&C);
    send_request(&C, "POST", "/static/notes.txt", "Content-Length: 1\r\n");
    peer_send_all(C.fd, "x", 1); /* the body, which the server must skip */
    CHECK_EQ_INT(read_response(&C, LG_METHOD_POST, &r), 0);
    CHECK_EQ_INT(r.status, 405);
    CHECK_STR(hdr(&r, "Allow"), "GET, HEAD");
    lg_str ch = hdr(&r, "Connection");
    if (ch.ptr && lg_list_has(ch, "close")) conn_close(&C);
    resp_free(&r);
}

static void test_traversal(void)
{
    char abs1[160], abs2[160];
    snprintf(abs1, sizeof abs1, "http://127.0.0.1:%u/static/../secret", port);
    snprintf(abs2, sizeof abs2, "http://127.0.0.1:%u/static/%%2e%%2e/secret", port);
    const char *attempts[] = {
        "/static/../secret",
        "/static/%2e%2e/secret",
        "/static/%2E%2E/secret",
        "/static/..%2fsecret",
        "/static/..%2Fsecret",
        "/static/%2e%2e%2fsecret",
        "/static/a/..%2f..%2fsecret",
        "/static/sub/..%2f..%2fsecret",
        "/static/sub/../../secret",
        "/static/./../secret",
        "/static/sub/%2e%2e/%2e%2e/secret",
        "/static/..%5csecret",
        "/static/link_out",
        "/static/dirlink_out/secret",
        "/static/abslink_out/secret",
        "/static/sublink/../../secret",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/static/.hidden",
        "/static/%2ehidden",
        "/static/secret%00.txt",
        "/static/..",
        "/static/%2e%2e",
        abs1,
        abs2,
    };
    for (size_t i = 0; i < sizeof attempts / sizeof attempts[0]; i++) {
        resp r;
        int status = get(attempts[i], NULL, &r);
        int refused = (status == 404 || status == 400) && !body_has_secret(&r) &&
                      !(r.body && strstr(r.body, "root:"));
        if (!refused) fprintf(stderr, "traversal %s: status %d\n", attempts[i], status);
        CHECK(refused);
        resp_free(&r);
    }
    /* The secret is really there to be found, one level up. */
    char p[256];
    path_of(p, sizeof p, "secret");
    CHECK(access(p, R_OK) == 0);
}

static void test_head(void)
{
    resp r;
    CHECK_EQ_INT(request("HEAD", "/static/big.bin", NULL, &r), 200);
    char len[32];
    snprintf(len, sizeof len, "%u", BIG_SIZE);
    CHECK_STR(hdr(&r, "Content-Length"), len);
    CHECK_STR(hdr(&r, "Content-Type"), "application/octet-stream");
    CHECK(has_hdr(&r, "ETag"));
    CHECK(has_hdr(&r, "Last-Modified"));
    resp_free(&r);
    /* No body went out: the next answer on the connection starts clean. */
    CHECK_EQ_INT(request("HEAD", "/static/", NULL, &r), 200);
    CHECK_STR(hdr(&r, "Content-Length"), "20");
    resp_free(&r);
    CHECK_EQ_INT(get("/static/notes.txt", NULL, &r), 200);
    CHECK(body_is(&r, "some notes\n"));
    resp_free(&r);
}

/* Several file answers on one connection, first one by one, then all
 * pipelined at once, big file included: each must come whole and in
 * order. */
static void test_keep_alive(void)
{
    conn *c = malloc(sizeof *c);
    conn_open(c);
    const int before = conns_opened;
    resp r;
    for (int i = 0; i < 5; i++) {
        send_request(c, "GET", "/static/style.css", NULL);
        CHECK_EQ_INT(read_response(c, LG_METHOD_GET, &r), 0);
        CHECK_EQ_INT(r.status, 200);
        CHECK(!has_hdr(&r, "Connection"));
        resp_free(&r);
        send_request(c, "GET", "/static/mid.bin", "Range: bytes=-10\r\n");
        CHECK_EQ_INT(read_response(c, LG_METHOD_GET, &r), 0);
        CHECK_EQ_INT(r.status, 206);
        resp_free(&r);
    }
    char all[2048];
    int n = snprintf(all, sizeof all,
                     "GET /static/big.bin HTTP/1.1\r\nHost: x\r\n\r\n"
                     "HEAD /static/mid.bin HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /static/mid.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=100-199\r\n\r\n"
                     "GET /static/nope HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /static/style.css HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: " KNOWN_DATE "\r\n\r\n"
                     "GET /static/notes.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    requests_sent += 6;
    CHECK_EQ_INT(peer_send_all(c->fd, all, (size_t)n), 0);
    CHECK_EQ_INT(read_response(c, LG_METHOD_GET, &r), 0);
    CHECK_EQ_INT(r.status, 200);
    int big_ok = r.body_len == BIG_SIZE;
    for (size_t i = 0; big_ok && i < BIG_SIZE; i++) big_ok = (unsigned char)r.body[i] == pattern_byte(i);
    CHECK(big_ok);
    resp_free(&r);
    CHECK_EQ_INT(read_response(c, LG_METHOD_HEAD, &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_STR(hdr(&r, "Content-Length"), "100000");
    resp_free(&r);
    CHECK_EQ_INT(read_response(c, LG_METHOD_GET, &r), 0);
    CHECK_EQ_INT(r.status, 206);
    CHECK(mid_slice_ok(&r, 100, 100));
    resp_free(&r);
    CHECK_EQ_INT(read_response(c, LG_METHOD_GET, &r), 0);
    CHECK_EQ_INT(r.status, 404);
    resp_free(&r);
    CHECK_EQ_INT(read_response(c, LG_METHOD_GET, &r), 0);
    CHECK_EQ_INT(r.status, 304);
    resp_free(&r);
    CHECK_EQ_INT(read_response(c, LG_METHOD_GET, &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK(body_is(&r, "some notes\n"));
    resp_free(&r);
    CHECK_EQ_INT(conns_opened, before); /* all of it on one connection */
    CHECK_EQ_INT(c->len, 0);            /* and nothing more than that */
    conn_close(c);
    free(c);
}

/* Clients that leave in the middle of a big file, by closing or by
 * resetting: the server must close the file and the connection, and go on
 * serving (the descriptor count at the end checks the files). */
static void test_abandoned_downloads(void)
{
    for (int reset = 0; reset < 2; reset++) {
        conn *c = malloc(sizeof *c);
        conn_open(c);
        send_request(c, "GET", "/static/big.bin", NULL);
        size_t got = 0;
        while (got < 200000) {
            char tmp[16384];
            ssize_t n = recv(c->fd, tmp, sizeof tmp, 0);
            if (n <= 0) break;
            got += (size_t)n;
        }
        CHECK(got >= 200000);
        if (reset) peer_reset(c->fd);
        else close(c->fd);
        free(c);
    }
    /* The server is still there for the next one. */
    resp r;
    CHECK_EQ_INT(get("/static/notes.txt", NULL, &r), 200);
    CHECK(body_is(&r, "some notes\n"));
    resp_free(&r);
}

static void test_mount_errors(void)
{
    lg_server *s = lg_server_new(loop, NULL);
    char p[256];
    path_of(p, sizeof p, "nowhere");
    CHECK_EQ_INT(lg_server_static(s, "/x", p), LG_ERR_NOT_FOUND);
    path_of(p, sizeof p, "secret");
    CHECK_EQ_INT(lg_server_static(s, "/x", p), LG_ERR_INVALID_ARG); /* a file, not a directory */
    CHECK_EQ_INT(lg_server_static(s, "x", root), LG_ERR_INVALID_ARG);
    CHECK_EQ_INT(lg_server_static(s, "/a/:id", root), LG_ERR_INVALID_ARG);
    CHECK_EQ_INT(lg_server_static(s, "/a/*rest", root), LG_ERR_INVALID_ARG);
    CHECK_EQ_INT(lg_server_static(s, "/ok", root), LG_OK);
    CHECK_EQ_INT(lg_server_static(s, "/", root), LG_OK);
    lg_server_free(s); /* mounts freed with it (ASan checks) */
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

static void shutdown_done(lg_server *s, void *user)
{
    (void)s;
    *(int *)user = 1;
}

int main(void)
{
    build_tree();
    int fds_before = count_fds();
    loop = lg_loop_new(NULL);
    test_mount_errors();
    srv = lg_server_new(loop, NULL);
    CHECK_EQ_INT(lg_server_static(srv, "/static", root), LG_OK);
    CHECK_EQ_INT(lg_server_static(srv, "/files/", root), LG_OK);
    char via[256];
    path_of(via, sizeof via, "wwwlink");
    CHECK_EQ_INT(lg_server_static(srv, "/viasym", via), LG_OK);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:0", 0), LG_OK);
    port = lg_server_port(srv);
    pthread_t t;
    pthread_create(&t, NULL, server_main, NULL);

    test_types();
    test_validators();
    test_ranges();
    test_gzip();
    test_directories();
    test_missing();
    test_traversal();
    test_head();
    test_keep_alive();
    test_abandoned_downloads();
    conn_close(&C);

    atomic_store(&stop_server, 1);
    pthread_join(t, NULL);
    const lg_server_stats *st = lg_server_get_stats(srv);
    /* An abandoned download may still be failing its last write: let the
     * loop (now on this thread) settle it. */
    for (int i = 0; i < 200 && st->requests < (uint64_t)requests_sent; i++) lg_loop_run_once(loop, 10);
    printf("%d requests over %d connections; server: %llu requests, %llu connections\n",
           requests_sent, conns_opened, (unsigned long long)st->requests,
           (unsigned long long)st->connections);
    CHECK_EQ_INT(st->requests, (uint64_t)requests_sent);
    CHECK_EQ_INT(st->connections, (uint64_t)conns_opened);
    CHECK(conns_opened * 4 < requests_sent); /* keep-alive carried most of them */

    int done = 0;
    lg_server_shutdown(srv, 2000, shutdown_done, &done);
    for (int i = 0; i < 300 && !done; i++) lg_loop_run_once(loop, 10);
    CHECK(done);
    lg_server_free(srv);
    lg_loop_free(loop);
    CHECK_EQ_INT(count_fds(), fds_before); /* every file was closed */
    remove_tree(base);
    TEST_MAIN_END();
}
