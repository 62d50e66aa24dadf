/*
 * Routes: a pattern is kept as text and matched against the raw path one
 * segment at a time, so that an encoded "%2F" inside a segment stays inside
 * it (decoding first would let "/files/a%2F..%2Fsecret" escape). Nothing is
 * compiled: a route costs its strings and a few words, and the code that
 * walks a pattern is the same for checking, matching and naming parameters
 * — on a device, flash is paid for every line here.
 *
 * A pattern is "/" or "/" followed by segments split on "/": a literal,
 * ":name" (one non-empty segment), ":name<int>" (an optionally signed
 * decimal), or "*name" (the rest of the path, possibly empty; last only).
 */
#include <string.h>

#include "server_internal.h"

#if !defined(LG_NO_SERVER)

/* Bytes up to the next "/" or the end of a pattern. */
static size_t seg_len(const char *q)
{
    size_t n = 0;
    while (q[n] && q[n] != '/') n++;
    return n;
}

/* The name of a parameter segment ":id<int>" or "*rest": its length. */
static size_t name_len(const char *q, size_t len)
{
    size_t n = 1;
    while (n < len && q[n] != '<') n++;
    return n - 1;
}

static int valid_pattern(const char *q)
{
    size_t nparams = 0;
    if (!*q) return 1; /* "/" */
    for (;;) {
        size_t len = seg_len(q);
        if (len && (q[0] == ':' || q[0] == '*')) {
            size_t n = name_len(q, len);
            if (n == 0 || ++nparams > LG_MAX_PARAMS) return 0;
            for (size_t i = 1; i <= n; i++) {
                char c = q[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_'))
                    return 0;
            }
            size_t tail = len - 1 - n; /* "<int>" or nothing */
            if (tail && !(q[0] == ':' && tail == 5 && memcmp(q + 1 + n, "<int>", 5) == 0))
                return 0;
            if (q[0] == '*' && q[len]) return 0; /* the rest of the path: last only */
        }
        if (!q[len]) return 1;
        q += len + 1;
    }
}

int lg__router_add(lg_server *srv, const char *method, const char *pattern, unsigned flags,
                   lg_handler handler, void *user)
{
    if (!pattern || pattern[0] != '/' || !handler || !method) return LG_ERR_INVALID_ARG;
    if (!valid_pattern(pattern + 1)) return LG_ERR_INVALID_ARG;
    int any = strcmp(method, "*") == 0;
    size_t mlen = any ? 0 : strlen(method) + 1, plen = strlen(pattern) + 1;
    if (srv->nroutes == srv->routes_cap) {
        uint32_t cap = srv->routes_cap ? srv->routes_cap * 2 : 8;
        route **rs = lg__realloc(srv->routes, srv->routes_cap * sizeof *rs, cap * sizeof *rs);
        if (!rs) return LG_ERR_NOMEM;
        srv->routes = rs;
        srv->routes_cap = cap;
    }
    size_t size = sizeof(route) + mlen + plen;
    route *r = lg__alloc(size);
    if (!r) return LG_ERR_NOMEM;
    r->handler = handler;
    r->user = user;
    r->flags = flags;
    r->alloc_size = size;
    r->method = any ? NULL : memcpy(r->text, method, mlen);
    r->pattern = memcpy(r->text + mlen, pattern, plen);
    srv->routes[srv->nroutes++] = r;
    return LG_OK;
}

void lg__router_free(lg_server *srv)
{
    for (uint32_t i = 0; i < srv->nroutes; i++) lg__free(srv->routes[i], srv->routes[i]->alloc_size);
    lg__free(srv->routes, srv->routes_cap * sizeof *srv->routes);
    srv->routes = NULL;
    srv->nroutes = srv->routes_cap = 0;
}

int lg__route_param_index(const route *r, const char *name, size_t len)
{
    const char *q = r->pattern + 1;
    int i = 0;
    while (*q) {
        size_t n = seg_len(q);
        if (n && (q[0] == ':' || q[0] == '*')) {
            if (name_len(q, n) == len && memcmp(q + 1, name, len) == 0) return i;
            i++;
        }
        if (!q[n]) break;
        q += n + 1;
    }
    return -1;
}

/* Does a raw segment, once percent-decoded, equal the literal? */
static int segment_equals(const char *raw, size_t n, const char *lit, size_t lit_len)
{
    if (!memchr(raw, '%', n)) return n == lit_len && memcmp(raw, lit, n) == 0;
    char buf[256];
    lg_str in = { raw, n };
    int d = n <= sizeof buf ? lg_url_decode_to(in, buf, sizeof buf, 0) : -1;
    return d >= 0 && (size_t)d == lit_len && memcmp(buf, lit, lit_len) == 0;
}

static int is_int(const char *p, size_t n)
{
    size_t i = 0;
    if (n && (p[0] == '-' || p[0] == '+')) i = 1;
    if (i == n) return 0;
    for (; i < n; i++)
        if (p[i] < '0' || p[i] > '9') return 0;
    return 1;
}

/* Does the path fit the pattern? Fills m->params. */
static int path_matches(const route *r, lg_str path, route_match *m)
{
    const char *q = r->pattern + 1;
    const char *p = path.ptr + 1, *end = path.ptr + path.len;
    m->nparams = 0;
    if (path.len == 0 || path.ptr[0] != '/') return 0;
    if (!*q) return path.len == 1; /* "/" matches only itself */
    for (;;) {
        size_t qn = seg_len(q);
        if (qn && q[0] == '*') {
            lg_str *v = &m->params[m->nparams++];
            v->ptr = p <= end ? p : end;
            v->len = p <= end ? (size_t)(end - p) : 0;
            return 1;
        }
        if (p > end) return 0; /* the path has fewer segments */
        const char *slash = memchr(p, '/', (size_t)(end - p));
        size_t n = (size_t)((slash ? slash : end) - p);
        if (qn && q[0] == ':') {
            if (n == 0 || (q[qn - 1] == '>' && !is_int(p, n))) return 0;
            lg_str *v = &m->params[m->nparams++];
            v->ptr = p;
            v->len = n;
        } else if (!segment_equals(p, n, q, qn)) {
            return 0;
        }
        p = slash ? slash + 1 : end + 1;
        if (!q[qn]) return p == end + 1; /* every path segment used */
        q += qn + 1;
    }
}

static int method_matches(const route *r, lg_str method)
{
    if (!r->method) return 1;
    size_t n = strlen(r->method);
    if (n == method.len && memcmp(r->method, method.ptr, n) == 0) return 1;
    /* HEAD is GET without the body (RFC 9110 9.3.2). */
    return method.len == 4 && memcmp(method.ptr, "HEAD", 4) == 0 && strcmp(r->method, "GET") == 0;
}

static void allow_add(char *allow, size_t cap, const char *method)
{
    size_t len = strlen(allow), n = strlen(method);
    /* no duplicates */
    for (const char *p = allow; (p = strstr(p, method)) != NULL; p += n)
        if ((p == allow || p[-1] == ' ') && (p[n] == ',' || p[n] == 0)) return;
    if (len + n + 3 > cap) return;
    if (len) {
        memcpy(allow + len, ", ", 2);
        len += 2;
    }
    memcpy(allow + len, method, n + 1);
}

int lg__router_match(const lg_server *srv, lg_str method, lg_str raw_path, route_match *m,
                     char *allow, size_t allow_cap)
{
    int path_seen = 0;
    if (allow_cap) allow[0] = 0;
    for (uint32_t i = 0; i < srv->nroutes; i++) {
        const route *r = srv->routes[i];
        if (!path_matches(r, raw_path, m)) continue;
        if (method_matches(r, method)) {
            m->route = r;
            return ROUTE_FOUND;
        }
        path_seen = 1;
        if (allow_cap) {
            allow_add(allow, allow_cap, r->method);
            if (strcmp(r->method, "GET") == 0) allow_add(allow, allow_cap, "HEAD");
        }
    }
    m->route = NULL;
    m->nparams = 0;
    return path_seen ? ROUTE_WRONG_METHOD : ROUTE_NOT_FOUND;
}

#endif /* !LG_NO_SERVER */
