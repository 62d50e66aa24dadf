/*
 * Routes: patterns compiled into segments once, matched segment by segment
 * against the raw path, so that an encoded "%2F" inside a segment stays
 * inside it (decoding first would let "/files/a%2F..%2Fsecret" escape).
 */
#include <string.h>

#include "server_internal.h"

#if !defined(LG_NO_SERVER)

static char *dup_str(const char *s, size_t *size)
{
    size_t n = strlen(s) + 1;
    char *d = lg__alloc(n);
    if (d) memcpy(d, s, n);
    *size = n;
    return d;
}

static int valid_name(const char *p, size_t n)
{
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

static void route_free(route *r)
{
    if (!r) return;
    if (r->method) lg__free(r->method, strlen(r->method) + 1);
    if (r->pattern) lg__free(r->pattern, strlen(r->pattern) + 1);
    lg__free(r, r->alloc_size);
}

int lg__router_add(lg_server *srv, const char *method, const char *pattern, unsigned flags,
                   lg_handler handler, void *user)
{
    if (!pattern || pattern[0] != '/' || !handler || !method) return LG_ERR_INVALID_ARG;
    size_t nsegs = 0;
    for (const char *p = pattern + 1; *p; p++) nsegs += *p == '/';
    if (pattern[1]) nsegs++;
    size_t size = sizeof(route) + nsegs * sizeof(route_seg);
    route *r = lg__alloc(size);
    if (!r) return LG_ERR_NOMEM;
    memset(r, 0, size);
    r->alloc_size = size;
    size_t ignored;
    r->pattern = dup_str(pattern, &ignored);
    r->method = strcmp(method, "*") == 0 ? NULL : dup_str(method, &ignored);
    if (!r->pattern || (strcmp(method, "*") != 0 && !r->method)) {
        route_free(r);
        return LG_ERR_NOMEM;
    }
    r->handler = handler;
    r->user = user;
    r->flags = flags;

    /* Split after the leading "/". */
    const char *p = r->pattern + 1;
    size_t nparams = 0;
    for (size_t i = 0; i < nsegs; i++) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        route_seg *s = &r->segs[i];
        if (len && p[0] == ':') {
            const char *lt = memchr(p, '<', len);
            size_t nlen = lt ? (size_t)(lt - p - 1) : len - 1;
            s->kind = SEG_PARAM;
            if (lt) {
                if (len - (size_t)(lt - p) == 5 && memcmp(lt, "<int>", 5) == 0) s->kind = SEG_INT;
                else goto bad;
            }
            if (!valid_name(p + 1, nlen)) goto bad;
            s->text = p + 1;
            s->len = (uint16_t)nlen;
            nparams++;
        } else if (len && p[0] == '*') {
            if (end) goto bad; /* the rest of the path: last segment only */
            if (!valid_name(p + 1, len - 1)) goto bad;
            s->kind = SEG_REST;
            s->text = p + 1;
            s->len = (uint16_t)(len - 1);
            nparams++;
        } else {
            s->kind = SEG_LITERAL;
            s->text = p;
            s->len = (uint16_t)len;
        }
        p = end ? end + 1 : p + len;
    }
    if (nparams > LG_MAX_PARAMS) goto bad;
    r->nsegs = (uint16_t)nsegs;

    if (srv->nroutes == srv->routes_cap) {
        uint32_t cap = srv->routes_cap ? srv->routes_cap * 2 : 8;
        route **rs = lg__realloc(srv->routes, srv->routes_cap * sizeof *rs, cap * sizeof *rs);
        if (!rs) {
            route_free(r);
            return LG_ERR_NOMEM;
        }
        srv->routes = rs;
        srv->routes_cap = cap;
    }
    srv->routes[srv->nroutes++] = r;
    return LG_OK;
bad:
    route_free(r);
    return LG_ERR_INVALID_ARG;
}

void lg__router_free(lg_server *srv)
{
    for (uint32_t i = 0; i < srv->nroutes; i++) route_free(srv->routes[i]);
    lg__free(srv->routes, srv->routes_cap * sizeof *srv->routes);
    srv->routes = NULL;
    srv->nroutes = srv->routes_cap = 0;
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

/* Does the path fit the route's segments? Fills m->params. */
static int path_matches(const route *r, lg_str path, route_match *m)
{
    const char *p = path.ptr + 1, *end = path.ptr + path.len;
    m->nparams = 0;
    if (path.len == 0 || path.ptr[0] != '/') return 0;
    for (uint16_t i = 0; i < r->nsegs; i++) {
        const route_seg *s = &r->segs[i];
        if (s->kind == SEG_REST) {
            lg_str *v = &m->params[m->nparams++];
            v->ptr = p <= end ? p : end;
            v->len = p <= end ? (size_t)(end - p) : 0;
            return 1;
        }
        if (p > end) return 0; /* the path has fewer segments */
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *seg_end = slash ? slash : end;
        size_t n = (size_t)(seg_end - p);
        if (s->kind == SEG_LITERAL) {
            if (!segment_equals(p, n, s->text, s->len)) return 0;
        } else {
            if (n == 0 || (s->kind == SEG_INT && !is_int(p, n))) return 0;
            lg_str *v = &m->params[m->nparams++];
            v->ptr = p;
            v->len = n;
        }
        p = slash ? slash + 1 : end + 1;
    }
    /* "/" has no segments; otherwise every path segment must be used. */
    return r->nsegs == 0 ? path.len == 1 : p == end + 1;
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
