/*
 * URLs (RFC 3986), percent-encoding, query strings and base64.
 *
 * Portable like the codec: string.h only, no allocation, no globals that
 * change. Parsed parts are slices of the caller's string; everything that
 * produces bytes writes into a buffer the caller gives and says how long
 * the result is. The client uses it for request URLs and redirects; the
 * server for request targets, query strings and forms.
 */
#include <string.h>

#include "http1_internal.h"
#include "linger.h"

/* Character classes of RFC 3986 2.2 and 2.3. */
#define C_UNRESERVED 0x01u /* ALPHA DIGIT - . _ ~ */
#define C_SUBDELIM 0x02u   /* ! $ & ' ( ) * + , ; = */
#define C_HEX 0x04u
#define C_VISIBLE 0x08u    /* 0x21 .. 0x7e */
#define C_SCHEME 0x10u     /* ALPHA DIGIT + - . */

/* The classes above for every byte (generated from their definitions; the
 * tests check the table against them). */
static const uint8_t url_class[256] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x0a, 0x08, 0x08, 0x0a, 0x08, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x1a, 0x0a, 0x19, 0x19, 0x08,
    0x1d, 0x1d, 0x1d, 0x1d, 0x1d, 0x1d, 0x1d, 0x1d, 0x1d, 0x1d, 0x08, 0x0a, 0x08, 0x0a, 0x08, 0x08,
    0x08, 0x1d, 0x1d, 0x1d, 0x1d, 0x1d, 0x1d, 0x19, 0x19, 0x19, 0x19, 0x19, 0x19, 0x19, 0x19, 0x19,
    0x19, 0x19, 0x19, 0x19, 0x19, 0x19, 0x19, 0x19, 0x19, 0x19, 0x19, 0x08, 0x08, 0x08, 0x08, 0x09,
    0x08, 0x1d, 0x1d, 0x1d, 0x1d, 0x1d, 0x1d, 0x19, 0x19, 0x19, 0x19, 0x19, 0x19, 0x19, 0x19, 0x19,
    0x19, 0x19, 0x19, 0x19, 0x19, 0x19, 0x19, 0x19, 0x19, 0x19, 0x19, 0x08, 0x08, 0x08, 0x09, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static unsigned cclass(unsigned char c)
{
    return url_class[c];
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = (char)(c | 0x20);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Every byte visible ASCII, and every "%" followed by two hex digits. */
static int valid_text(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (!(cclass(c) & C_VISIBLE)) return 0;
        if (c == '%') {
            if (n - i < 3) return 0;
            if (hexval(p[i + 1]) < 0 || hexval(p[i + 2]) < 0) return 0;
            i += 2;
        }
    }
    return 1;
}

static uint16_t default_port(lg_str scheme)
{
    if (lg__str_ieq(scheme, "http") || lg__str_ieq(scheme, "ws")) return 80;
    if (lg__str_ieq(scheme, "https") || lg__str_ieq(scheme, "wss")) return 443;
    return 0;
}

static int is_ipv4(const char *p, size_t n)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        unsigned v = 0, digits = 0;
        while (i < n && p[i] >= '0' && p[i] <= '9') {
            v = v * 10 + (unsigned)(p[i++] - '0');
            if (++digits > 3 || v > 255) return 0;
        }
        if (!digits) return 0;
        if (part < 3) {
            if (i >= n || p[i] != '.') return 0;
            i++;
        }
    }
    return i == n;
}

/* "[v6]" contents: hex digits, ":" and "." (a trailing IPv4), at least one
 * ":", then an optional zone "%25" 1*unreserved (RFC 6874). The address
 * itself is checked when it is used (lg_addr_parse). */
static int valid_ipv6(const char *p, size_t n)
{
    size_t i = 0, colons = 0;
    for (; i < n && p[i] != '%'; i++) {
        if (p[i] == ':') colons++;
        else if (p[i] != '.' && hexval(p[i]) < 0) return 0;
    }
    if (colons < 2 || i > 45) return 0;
    if (i == n) return 1;
    if (n - i < 4 || p[i + 1] != '2' || p[i + 2] != '5') return 0;
    for (i += 3; i < n; i++)
        if (!(cclass((unsigned char)p[i]) & C_UNRESERVED)) return 0;
    return 1;
}

/* authority = [ userinfo "@" ] host [ ":" port ] */
static int parse_authority(lg_url *u, const char *p, const char *end)
{
    const char *at = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == '@') at = q; /* the last "@": it cannot appear in a host */
    if (at) {
        u->userinfo.ptr = p;
        u->userinfo.len = (size_t)(at - p);
        for (const char *q = p; q < at; q++) {
            unsigned k = cclass((unsigned char)*q);
            if (!(k & (C_UNRESERVED | C_SUBDELIM)) && *q != ':' && *q != '%') return LG_ERR_URL;
        }
        p = at + 1;
    }
    const char *host_end;
    if (p < end && *p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p));
        if (!close || !valid_ipv6(p + 1, (size_t)(close - p - 1))) return LG_ERR_URL;
        u->host.ptr = p + 1;
        u->host.len = (size_t)(close - p - 1);
        u->flags |= LG_URL_IPV6;
        host_end = close + 1;
        if (host_end < end && *host_end != ':') return LG_ERR_URL;
    } else {
        host_end = p;
        while (host_end < end && *host_end != ':') host_end++;
        u->host.ptr = p;
        u->host.len = (size_t)(host_end - p);
        for (const char *q = p; q < host_end; q++) {
            if (*q == '%') continue; /* escapes were checked with the whole URL */
            if (!(cclass((unsigned char)*q) & C_UNRESERVED)) return LG_ERR_URL;
        }
        if (is_ipv4(p, u->host.len)) u->flags |= LG_URL_IPV4;
    }
    if (u->host.len == 0) return LG_ERR_URL;
    if (host_end < end) { /* ":" port; an empty port means the default */
        uint32_t v = 0;
        const char *q = host_end + 1;
        if (q < end) u->flags |= LG_URL_HAS_PORT;
        for (; q < end; q++) {
            if (*q < '0' || *q > '9') return LG_ERR_URL;
            v = v * 10 + (uint32_t)(*q - '0');
            if (v > 65535) return LG_ERR_URL;
        }
        if (u->flags & LG_URL_HAS_PORT) u->port = (uint16_t)v;
    }
    return LG_OK;
}

/* Where the scheme's ":" is, or NULL when the string has no scheme. */
static const char *scheme_end(const char *s, const char *end)
{
    if (s == end || !is_alpha(*s)) return NULL;
    for (const char *p = s + 1; p < end; p++) {
        if (*p == ':') return p;
        if (!(cclass((unsigned char)*p) & C_SCHEME)) return NULL;
    }
    return NULL;
}

int lg_url_parse(lg_url *u, const char *s, size_t len)
{
    memset(u, 0, sizeof *u);
    if (!s || !valid_text(s, len)) return LG_ERR_URL;
    const char *p = s, *end = s + len;

    if (p < end && *p != '/') {
        const char *colon = scheme_end(p, end);
        if (!colon) return LG_ERR_URL;
        u->scheme.ptr = p;
        u->scheme.len = (size_t)(colon - p);
        p = colon + 1;
        if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
            p += 2;
            const char *a_end = p;
            while (a_end < end && *a_end != '/' && *a_end != '?' && *a_end != '#') a_end++;
            u->flags |= LG_URL_AUTHORITY;
            int rc = parse_authority(u, p, a_end);
            if (rc) return rc;
            p = a_end;
        }
    } else if (p == end) {
        return LG_ERR_URL;
    }

    const char *q = p;
    while (q < end && *q != '?' && *q != '#') q++;
    u->path.ptr = p;
    u->path.len = (size_t)(q - p);
    p = q;
    if (p < end && *p == '?') {
        q = ++p;
        while (q < end && *q != '#') q++;
        u->query.ptr = p;
        u->query.len = (size_t)(q - p);
        p = q;
    }
    if (p < end && *p == '#') {
        u->fragment.ptr = p + 1;
        u->fragment.len = (size_t)(end - p - 1);
    }
    if (!(u->flags & LG_URL_HAS_PORT)) u->port = default_port(u->scheme);
    return LG_OK;
}

int lg_url_target(const lg_url *u, char *out, size_t cap)
{
    lg_writer w;
    lg_writer_init(&w, out, cap);
    if (u->path.len) lg_write_bytes(&w, u->path.ptr, u->path.len);
    else lg_write_bytes(&w, "/", 1);
    if (u->query.ptr) {
        lg_write_bytes(&w, "?", 1);
        lg_write_bytes(&w, u->query.ptr, u->query.len);
    }
    lg_write_bytes(&w, "", 1); /* NUL, not counted */
    if (w.err) return w.err;
    return (int)w.len - 1;
}

/* ---------------------------------------------------------------------------
 * Reference resolution (RFC 3986 5.2)
 * ------------------------------------------------------------------------ */

/* RFC 3986 5.2.4, in place: the output never outgrows the input, so it is
 * written over the input's own bytes. Returns the new length. */
static size_t remove_dot_segments(char *p, size_t n)
{
    size_t r = 0, w = 0;
    while (r < n) {
        size_t left = n - r;
        const char *in = p + r;
        if (left >= 3 && memcmp(in, "../", 3) == 0) {
            r += 3;
        } else if (left >= 2 && memcmp(in, "./", 2) == 0) {
            r += 2;
        } else if (left >= 3 && memcmp(in, "/./", 3) == 0) {
            r += 2;
        } else if (left == 2 && memcmp(in, "/.", 2) == 0) {
            p[w++] = '/';
            r = n;
        } else if (left >= 4 && memcmp(in, "/../", 4) == 0) {
            while (w > 0 && p[w - 1] != '/') w--;
            if (w > 0) w--;
            r += 3;
        } else if (left == 3 && memcmp(in, "/..", 3) == 0) {
            while (w > 0 && p[w - 1] != '/') w--;
            if (w > 0) w--;
            p[w++] = '/';
            r = n;
        } else if ((left == 1 && in[0] == '.') || (left == 2 && memcmp(in, "..", 2) == 0)) {
            r = n;
        } else {
            if (p[r] == '/') p[w++] = p[r++];
            while (r < n && p[r] != '/') p[w++] = p[r++];
        }
    }
    return w;
}

/* A reference split without validation (it is validated once resolved). */
typedef struct ref_parts {
    lg_str scheme, authority, path, query;
    int has_authority;
} ref_parts;

static void split_ref(lg_str ref, ref_parts *r)
{
    memset(r, 0, sizeof *r);
    const char *p = ref.ptr, *end = ref.ptr + ref.len;
    const char *colon = scheme_end(p, end);
    if (colon) {
        r->scheme.ptr = p;
        r->scheme.len = (size_t)(colon - p);
        p = colon + 1;
    }
    if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
        p += 2;
        const char *a = p;
        while (p < end && *p != '/' && *p != '?' && *p != '#') p++;
        r->authority.ptr = a;
        r->authority.len = (size_t)(p - a);
        r->has_authority = 1;
    }
    const char *q = p;
    while (q < end && *q != '?' && *q != '#') q++;
    r->path.ptr = p;
    r->path.len = (size_t)(q - p);
    if (q < end && *q == '?') {
        const char *v = ++q;
        while (q < end && *q != '#') q++;
        r->query.ptr = v;
        r->query.len = (size_t)(q - v);
    }
}

int lg_url_resolve(const lg_url *base, lg_str ref, char *out, size_t cap)
{
    if (!base->scheme.ptr || !(base->flags & LG_URL_AUTHORITY)) return LG_ERR_URL;
    if (!ref.ptr) return LG_ERR_URL;
    ref_parts r;
    split_ref(ref, &r);

    /* The base's authority: from after "//" to where its path starts. */
    lg_str base_auth;
    base_auth.ptr = base->scheme.ptr + base->scheme.len + 3;
    base_auth.len = (size_t)(base->path.ptr - base_auth.ptr);

    lg_writer w;
    lg_writer_init(&w, out, cap);
    lg_str scheme = r.scheme.ptr ? r.scheme : base->scheme;
    lg_write_bytes(&w, scheme.ptr, scheme.len);
    lg_write_bytes(&w, "://", 3);
    lg_str query = r.query;
    size_t path_start;
    if (r.scheme.ptr || r.has_authority) {
        if (!r.has_authority) return LG_ERR_URL; /* "http:foo": no host to go to */
        lg_write_bytes(&w, r.authority.ptr, r.authority.len);
        path_start = w.len;
        lg_write_bytes(&w, r.path.ptr, r.path.len);
    } else {
        lg_write_bytes(&w, base_auth.ptr, base_auth.len);
        path_start = w.len;
        if (r.path.len == 0) {
            lg_write_bytes(&w, base->path.ptr, base->path.len);
            if (!query.ptr) query = base->query;
        } else if (r.path.ptr[0] == '/') {
            lg_write_bytes(&w, r.path.ptr, r.path.len);
        } else {
            /* merge (5.2.3): the base path up to its last "/", then ref */
            if (base->path.len == 0) {
                lg_write_bytes(&w, "/", 1);
            } else {
                size_t keep = base->path.len;
                while (keep > 0 && base->path.ptr[keep - 1] != '/') keep--;
                lg_write_bytes(&w, base->path.ptr, keep);
            }
            lg_write_bytes(&w, r.path.ptr, r.path.len);
        }
    }
    if (w.err) return w.err;
    w.len = path_start + remove_dot_segments(out + path_start, w.len - path_start);
    if (query.ptr) {
        lg_write_bytes(&w, "?", 1);
        lg_write_bytes(&w, query.ptr, query.len);
    }
    lg_write_bytes(&w, "", 1);
    if (w.err) return w.err;
    size_t len = w.len - 1;
    lg_url check;
    if (lg_url_parse(&check, out, len) != LG_OK || !(check.flags & LG_URL_AUTHORITY))
        return LG_ERR_URL;
    return (int)len;
}

/* ---------------------------------------------------------------------------
 * Percent-encoding
 * ------------------------------------------------------------------------ */

int lg_url_decode_to(lg_str in, char *out, size_t cap, unsigned flags)
{
    size_t w = 0;
    for (size_t i = 0; i < in.len; i++) {
        char c = in.ptr[i];
        if (c == '%') {
            if (in.len - i < 3) return LG_ERR_URL;
            int hi = hexval(in.ptr[i + 1]), lo = hexval(in.ptr[i + 2]);
            if (hi < 0 || lo < 0) return LG_ERR_URL;
            c = (char)(hi << 4 | lo);
            if ((flags & LG_URL_PATH) && (c == 0 || c == '/')) return LG_ERR_URL;
            i += 2;
        } else if (c == '+' && (flags & LG_URL_FORM)) {
            c = ' ';
        }
        if (w == cap) return LG_ERR_BUFFER_TOO_SMALL;
        out[w++] = c;
    }
    return (int)w;
}

int lg_url_decode(char *s, size_t len, unsigned flags)
{
    /* Decoding only shrinks, and the write position never passes the read
     * position, so the output may overwrite the input. */
    lg_str in = { s, len };
    return lg_url_decode_to(in, s, len, flags);
}

static int keep_unencoded(unsigned char c, unsigned flags)
{
    unsigned k = cclass(c);
    if (c == '+' && (flags & LG_URL_FORM)) return 0; /* it would decode as a space */
    if (k & C_UNRESERVED) return 1;
    if (flags & LG_URL_PATH) return (k & C_SUBDELIM) || c == ':' || c == '@' || c == '/';
    return 0;
}

int lg_url_encode(lg_str in, char *out, size_t cap, unsigned flags)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t w = 0;
    for (size_t i = 0; i < in.len; i++) {
        unsigned char c = (unsigned char)in.ptr[i];
        if (keep_unencoded(c, flags) || (c == ' ' && (flags & LG_URL_FORM))) {
            if (out) {
                if (w + 1 > cap) return LG_ERR_BUFFER_TOO_SMALL;
                out[w] = c == ' ' ? '+' : (char)c;
            }
            w++;
        } else {
            if (out) {
                if (w + 3 > cap) return LG_ERR_BUFFER_TOO_SMALL;
                out[w] = '%';
                out[w + 1] = hex[c >> 4];
                out[w + 2] = hex[c & 15];
            }
            w += 3;
        }
    }
    return (int)w;
}

/* ---------------------------------------------------------------------------
 * Query strings and forms
 * ------------------------------------------------------------------------ */

void lg_query_init(lg_query_iter *it, lg_str query)
{
    it->p = query.ptr;
    it->end = query.ptr ? query.ptr + query.len : NULL;
}

int lg_query_next(lg_query_iter *it, lg_str *key, lg_str *value)
{
    while (it->p && it->p < it->end) {
        const char *start = it->p;
        const char *amp = memchr(start, '&', (size_t)(it->end - start));
        const char *pair_end = amp ? amp : it->end;
        it->p = amp ? amp + 1 : it->end;
        if (pair_end == start) continue;
        const char *eq = memchr(start, '=', (size_t)(pair_end - start));
        key->ptr = start;
        key->len = (size_t)((eq ? eq : pair_end) - start);
        value->ptr = eq ? eq + 1 : NULL;
        value->len = eq ? (size_t)(pair_end - eq - 1) : 0;
        return 1;
    }
    return 0;
}

int lg_query_next_decoded(lg_query_iter *it, char *buf, size_t cap, lg_str *key, lg_str *value)
{
    lg_str k, v;
    if (!lg_query_next(it, &k, &v)) return 0;
    int kn = lg_url_decode_to(k, buf, cap, LG_URL_FORM);
    if (kn < 0) return kn;
    key->ptr = buf;
    key->len = (size_t)kn;
    value->ptr = NULL;
    value->len = 0;
    if (v.ptr) {
        int vn = lg_url_decode_to(v, buf + kn, cap - (size_t)kn, LG_URL_FORM);
        if (vn < 0) return vn;
        value->ptr = buf + kn;
        value->len = (size_t)vn;
    }
    return 1;
}

/* Does the encoded `raw` decode (form rules) to exactly `key`? */
static int decoded_equals(lg_str raw, const char *key)
{
    size_t j = 0, klen = strlen(key);
    for (size_t i = 0; i < raw.len; i++, j++) {
        char c = raw.ptr[i];
        if (c == '%') {
            if (raw.len - i < 3) return 0;
            int hi = hexval(raw.ptr[i + 1]), lo = hexval(raw.ptr[i + 2]);
            if (hi < 0 || lo < 0) return 0;
            c = (char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (j >= klen || key[j] != c) return 0;
    }
    return j == klen;
}

int lg_query_get(lg_str query, const char *key, char *out, size_t cap)
{
    lg_query_iter it;
    lg_str k, v;
    lg_query_init(&it, query);
    while (lg_query_next(&it, &k, &v)) {
        if (!decoded_equals(k, key)) continue;
        if (cap == 0) return LG_ERR_BUFFER_TOO_SMALL;
        int n = v.ptr ? lg_url_decode_to(v, out, cap - 1, LG_URL_FORM) : 0;
        if (n < 0) return n;
        out[n] = 0;
        return n;
    }
    return LG_ERR_NOT_FOUND;
}

/* ---------------------------------------------------------------------------
 * Base64 (RFC 4648 4)
 * ------------------------------------------------------------------------ */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int lg_base64_encode(const void *in, size_t len, char *out, size_t cap)
{
    const unsigned char *p = in;
    size_t need = (len + 2) / 3 * 4;
    if (!out) return (int)need;
    if (cap < need + 1) return LG_ERR_BUFFER_TOO_SMALL;
    size_t w = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < len) v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < len) v |= p[i + 2];
        out[w++] = b64[v >> 18 & 63];
        out[w++] = b64[v >> 12 & 63];
        out[w++] = i + 1 < len ? b64[v >> 6 & 63] : '=';
        out[w++] = i + 2 < len ? b64[v & 63] : '=';
    }
    out[w] = 0;
    return (int)w;
}

int lg_hex_encode(const void *in, size_t len, char *out, size_t cap)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = in;
    if (len > (SIZE_MAX - 1) / 2 || cap < 2 * len + 1) return LG_ERR_BUFFER_TOO_SMALL;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * len] = 0;
    return (int)(2 * len);
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int lg_base64_decode(const char *in, size_t len, void *out, size_t cap)
{
    unsigned char *o = out;
    if (len % 4) return LG_ERR_INVALID_ARG;
    size_t w = 0;
    for (size_t i = 0; i < len; i += 4) {
        int last = i + 4 == len;
        int pad = 0;
        uint32_t v = 0;
        for (int k = 0; k < 4; k++) {
            char c = in[i + (size_t)k];
            int d;
            if (c == '=' && last && k >= 2) {
                pad++;
                d = 0;
            } else {
                d = b64_value(c);
                if (d < 0 || pad) return LG_ERR_INVALID_ARG; /* nothing after "=" */
            }
            v = v << 6 | (uint32_t)d;
        }
        size_t n = 3 - (size_t)pad;
        /* Bits under the padding must be zero (RFC 4648 3.5, canonical). */
        if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff))) return LG_ERR_INVALID_ARG;
        if (w + n > cap) return LG_ERR_BUFFER_TOO_SMALL;
        o[w++] = (unsigned char)(v >> 16);
        if (n > 1) o[w++] = (unsigned char)(v >> 8);
        if (n > 2) o[w++] = (unsigned char)v;
    }
    return (int)w;
}
