/*
 * The HTTP a file server reads and writes about its files, as pure
 * functions over bytes: media types by extension, entity-tag lists, byte
 * ranges and Accept-Encoding. No I/O, no allocation. (HTTP dates, which it
 * reads and writes too, are the codec's: src/http1_date.c.)
 */
#include <string.h>

#include "http1_internal.h"
#include "static_internal.h"

#if !defined(LG_NO_SERVER) && !defined(LG_NO_FILES)

/* --- media types --- */

/* Extension and type, each NUL-terminated, pair after pair, ending with an
 * empty extension. One constant block and no pointers: a table of
 * pointers, built position-independent, lands in RAM on a microcontroller.
 *
 * Text gets its charset: without one a browser guesses (and for
 * JavaScript, RFC 9239 says text/javascript with UTF-8). JSON has no
 * charset parameter (RFC 8259 11). */
static const char types[] =
    "html\0text/html; charset=utf-8\0"
    "htm\0text/html; charset=utf-8\0"
    "css\0text/css; charset=utf-8\0"
    "js\0text/javascript; charset=utf-8\0"
    "mjs\0text/javascript; charset=utf-8\0"
    "txt\0text/plain; charset=utf-8\0"
    "json\0application/json\0"
    "map\0application/json\0"
    "xml\0application/xml\0"
    "svg\0image/svg+xml\0"
    "png\0image/png\0"
    "jpg\0image/jpeg\0"
    "jpeg\0image/jpeg\0"
    "gif\0image/gif\0"
    "ico\0image/x-icon\0"
    "webp\0image/webp\0"
    "wasm\0application/wasm\0"
    "pdf\0application/pdf\0"
    "woff\0font/woff\0"
    "woff2\0font/woff2\0"
    "gz\0application/gzip\0";

const char *lg__mime_type(const char *name, size_t len)
{
    size_t dot = len;
    while (dot && name[dot - 1] != '.' && name[dot - 1] != '/') dot--;
    if (dot == 0 || name[dot - 1] != '.') return "application/octet-stream";
    const char *ext = name + dot;
    size_t n = len - dot;
    for (const char *p = types; *p;) {
        size_t elen = strlen(p);
        const char *type = p + elen + 1;
        if (elen == n && lg__ieq(ext, p, n)) return type;
        p = type + strlen(type) + 1;
    }
    return "application/octet-stream";
}

/* A position in a header value being read. */
typedef struct cursor {
    const char *p, *end;
} cursor;

/* --- entity tags (RFC 9110 8.8.3) --- */

int lg__etag_list_match(lg_str list, const char *etag, int weak)
{
    if (!list.ptr) return 0;
    size_t elen = strlen(etag);
    const char *p = list.ptr, *end = list.ptr + list.len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) p++;
        if (p == end) break;
        if (*p == '*') return 1; /* any current representation */
        int is_weak = 0;
        if (end - p >= 2 && p[0] == 'W' && p[1] == '/') {
            is_weak = 1;
            p += 2;
        }
        if (p == end || *p != '"') return 0; /* not an entity tag: no match */
        const char *close = memchr(p + 1, '"', (size_t)(end - p - 1));
        if (!close) return 0;
        size_t n = (size_t)(close + 1 - p);
        /* Strong comparison: both strong and equal; weak: equal tags. */
        if ((weak || !is_weak) && n == elen && memcmp(p, etag, n) == 0) return 1;
        p = close + 1;
    }
    return 0;
}

/* --- ranges (RFC 9110 14.1.2) --- */

/* 1*DIGIT, saturating: "bytes=0-99999999999999999999999" is a valid way to
 * say "to the end". Returns 0 when there is no digit. */
static int number(cursor *c, uint64_t *v)
{
    const char *start = c->p;
    *v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        unsigned dgt = (unsigned)(*c->p++ - '0');
        *v = *v > (UINT64_MAX - dgt) / 10 ? UINT64_MAX : *v * 10 + dgt;
    }
    return c->p != start;
}

static void ows(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t')) c->p++;
}

int lg__range_parse(lg_str value, uint64_t size, uint64_t *first, uint64_t *len)
{
    if (!value.ptr) return LG_RANGE_IGNORE;
    cursor c = { value.ptr, value.ptr + value.len };
    if (value.len < 6 || !lg__ieq(c.p, "bytes=", 6)) return LG_RANGE_IGNORE; /* other units */
    c.p += 6;
    int nranges = 0;
    uint64_t a = 0, b = 0;
    int suffix = 0, open_end = 0;
    while (c.p < c.end) {
        ows(&c);
        if (c.p < c.end && *c.p == ',') { /* empty list elements are allowed */
            c.p++;
            continue;
        }
        if (c.p == c.end) break;
        if (++nranges > 1) return LG_RANGE_IGNORE; /* no multipart/byteranges here */
        if (*c.p == '-') {
            c.p++;
            suffix = 1;
            if (!number(&c, &b)) return LG_RANGE_IGNORE;
        } else {
            if (!number(&c, &a) || c.p == c.end || *c.p != '-') return LG_RANGE_IGNORE;
            c.p++;
            open_end = !number(&c, &b);
            if (!open_end && b < a) return LG_RANGE_IGNORE; /* invalid: ignored */
        }
        ows(&c);
        if (c.p < c.end && *c.p != ',') return LG_RANGE_IGNORE;
    }
    if (nranges == 0) return LG_RANGE_IGNORE;
    if (suffix) {
        /* The last b bytes; "-0" selects nothing. */
        if (b == 0 || size == 0) return LG_RANGE_UNSATISFIABLE;
        if (b > size) b = size;
        *first = size - b;
        *len = b;
        return LG_RANGE_OK;
    }
    if (a >= size) return LG_RANGE_UNSATISFIABLE;
    if (open_end || b >= size) b = size - 1;
    *first = a;
    *len = b - a + 1;
    return LG_RANGE_OK;
}

/* --- Accept-Encoding (RFC 9110 12.5.3) --- */

/* Is a qvalue ("0", "0.000", "1", "0.5") zero? Malformed ones count as
 * not zero: the token was named, and a typo should not turn it off. */
static int qvalue_is_zero(const char *p, const char *end)
{
    if (p == end || *p != '0') return 0;
    for (p++; p < end; p++)
        if (*p != '.' && *p != '0') return 0;
    return 1;
}

int lg__accepts_gzip(lg_str ae)
{
    if (!ae.ptr) return 0;
    int gzip = -1, star = -1; /* -1: not named; else 1 when q > 0 */
    const char *p = ae.ptr, *end = ae.ptr + ae.len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        while (p < e && (*p == ' ' || *p == '\t')) p++;
        const char *tok = p;
        while (p < e && *p != ';' && *p != ' ' && *p != '\t') p++;
        size_t tn = (size_t)(p - tok);
        int ok = 1;
        /* Parameters: only q matters ("gzip;q=0" refuses gzip). */
        while (p < e) {
            while (p < e && (*p == ' ' || *p == '\t' || *p == ';')) p++;
            if (e - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
                const char *v = p + 2, *ve = v;
                while (ve < e && *ve != ';' && *ve != ' ' && *ve != '\t') ve++;
                ok = !qvalue_is_zero(v, ve);
                p = ve;
            } else {
                while (p < e && *p != ';') p++;
            }
        }
        if ((tn == 4 && lg__ieq(tok, "gzip", 4)) || (tn == 6 && lg__ieq(tok, "x-gzip", 6))) gzip = ok;
        else if (tn == 1 && tok[0] == '*') star = ok;
        p = comma ? comma + 1 : end;
    }
    return gzip >= 0 ? gzip : star > 0;
}

#endif /* !LG_NO_SERVER && !LG_NO_FILES */
