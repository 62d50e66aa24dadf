/*
 * multipart/form-data (RFC 7578 on RFC 2046 5.1), sans-IO: bytes in,
 * events out, no allocation, slices into the caller's buffer.
 *
 *   body      = [preamble CRLF] "--" boundary padding CRLF part
 *               *(CRLF "--" boundary padding CRLF part)
 *               CRLF "--" boundary "--" [epilogue]
 *   part      = headers CRLF content
 *   padding   = *(SP / HTAB)
 *
 * The body is read as if a CRLF came before it, so that the first boundary
 * may open it; from then on the delimiter is CRLF "--" boundary, which the
 * sender chose so that no content holds it. Content is handed over up to
 * the first byte that could begin a delimiter; a possible delimiter cut by
 * the end of the input is left unconsumed, to be presented again with what
 * follows.
 */
#include <string.h>

#include "http1_internal.h"

#if !defined(LG_NO_MULTIPART)

enum {
    ST_START,        /* nothing read: a boundary may open the body */
    ST_PREAMBLE,     /* before the first delimiter: skipped */
    ST_AFTER_DELIM,  /* a delimiter matched: "--" (the end) or padding CRLF */
    ST_PADDING,      /* after a delimiter: spaces, then CRLF */
    ST_HEADERS,      /* a part's header section */
    ST_CONTENT,      /* a part's content */
    ST_EPILOGUE,     /* after the final boundary: ignored */
    ST_FAILED        /* an error was returned: it is returned again */
};

static int fail(lg_multipart *m, int err)
{
    m->state = ST_FAILED;
    m->error = (int8_t)err;
    return err;
}

/* bchars (RFC 2046 5.1.1): a space only inside. */
static int bchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("'()+_,-./:=? ", c) != NULL);
}

static int tchar(unsigned char c)
{
    return (lg_char_class[c] & LG_CC_TOKEN) != 0;
}

static const char *skip_ows(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    return p;
}

/* One parameter of a header value: ";" OWS name "=" (token / quoted-string).
 * *p is at the ";"; the value's quotes are removed, nothing is unescaped
 * (form-data names and filenames come percent-encoded from browsers, with
 * no backslash escapes). Returns 0, or -1 when malformed. */
static int next_param(const char **p, const char *end, lg_str *name, lg_str *value)
{
    const char *q = skip_ows(*p + 1, end);
    const char *n = q;
    while (q < end && tchar((unsigned char)*q)) q++;
    if (q == n || q == end || *q != '=') return -1;
    name->ptr = n;
    name->len = (size_t)(q - n);
    q++;
    if (q < end && *q == '"') {
        const char *v = ++q;
        while (q < end && *q != '"') {
            if (*q == '\\' && q + 1 < end) q++;
            q++;
        }
        if (q == end) return -1;
        value->ptr = v;
        value->len = (size_t)(q - v);
        q++;
    } else {
        const char *v = q;
        while (q < end && tchar((unsigned char)*q)) q++;
        if (q == v) return -1;
        value->ptr = v;
        value->len = (size_t)(q - v);
    }
    q = skip_ows(q, end);
    if (q < end && *q != ';') return -1;
    *p = q;
    return 0;
}

int lg_multipart_init(lg_multipart *m, lg_str content_type, uint32_t max_parts,
                      uint16_t max_header_bytes)
{
    memset(m, 0, sizeof *m);
    m->state = ST_FAILED;
    m->error = (int8_t)LG_ERR_MULTIPART_BOUNDARY;
    m->max_parts = max_parts ? max_parts : LG_MULTIPART_DEFAULT_PARTS;
    m->max_header_bytes = max_header_bytes ? max_header_bytes : LG_MULTIPART_DEFAULT_HEADER;
    if (!content_type.ptr) return LG_ERR_MULTIPART_BOUNDARY;
    const char *p = content_type.ptr, *end = p + content_type.len;
    static const char type[] = "multipart/form-data";
    const char *semi = memchr(p, ';', content_type.len);
    const char *type_end = semi ? semi : end;
    while (type_end > p && (type_end[-1] == ' ' || type_end[-1] == '\t')) type_end--;
    lg_str t = { p, (size_t)(type_end - p) };
    if (!lg__str_ieq(t, type) || !semi) return LG_ERR_MULTIPART_BOUNDARY;
    p = semi;
    lg_str name, value, boundary = { NULL, 0 };
    while (p < end) {
        if (next_param(&p, end, &name, &value) != 0) return LG_ERR_MULTIPART_BOUNDARY;
        if (lg__str_ieq(name, "boundary")) {
            if (boundary.ptr) return LG_ERR_MULTIPART_BOUNDARY; /* said twice */
            boundary = value;
        }
    }
    if (!boundary.ptr || boundary.len == 0 || boundary.len > LG_MULTIPART_MAX_BOUNDARY ||
        boundary.ptr[boundary.len - 1] == ' ')
        return LG_ERR_MULTIPART_BOUNDARY;
    for (size_t i = 0; i < boundary.len; i++)
        if (!bchar((unsigned char)boundary.ptr[i])) return LG_ERR_MULTIPART_BOUNDARY;
    memcpy(m->delim, "\r\n--", 4);
    memcpy(m->delim + 4, boundary.ptr, boundary.len);
    m->delim_len = (uint8_t)(4 + boundary.len);
    m->state = ST_START;
    m->error = 0;
    return LG_OK;
}

/* Where the next possible delimiter starts in buf[0..len): at `len` when
 * none can start there; *whole says whether all of it is there. */
static size_t find_delim(const lg_multipart *m, const char *buf, size_t len, int *whole)
{
    size_t i = 0;
    *whole = 0;
    while (i < len) {
        const char *cr = memchr(buf + i, '\r', len - i);
        if (!cr) return len;
        size_t k = (size_t)(cr - buf);
        size_t have = len - k < m->delim_len ? len - k : m->delim_len;
        if (memcmp(cr, m->delim, have) == 0) {
            *whole = have == m->delim_len;
            return k;
        }
        i = k + 1;
    }
    return len;
}

/* The header section buf[0..n) (each line ending in CRLF): the fields a
 * form-data part has, checked. */
static int read_part_headers(const char *buf, size_t n, lg_multipart_event *ev)
{
    const char *p = buf, *end = buf + n;
    int disposition = 0;
    ev->headers.ptr = buf;
    ev->headers.len = n;
    while (p < end) {
        const char *eol = memchr(p, '\r', (size_t)(end - p));
        if (!eol || eol + 1 >= end || eol[1] != '\n') return LG_ERR_MULTIPART;
        const char *n0 = p;
        while (p < eol && tchar((unsigned char)*p)) p++;
        if (p == n0 || p == eol || *p != ':') return LG_ERR_MULTIPART; /* and obs-fold */
        lg_str fname = { n0, (size_t)(p - n0) };
        const char *v = skip_ows(p + 1, eol), *vend = eol;
        while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t')) vend--;
        for (const char *c = v; c < vend; c++) {
            unsigned char u = (unsigned char)*c;
            if ((u < 0x20 && u != '\t') || u == 0x7f) return LG_ERR_MULTIPART;
        }
        if (lg__str_ieq(fname, "Content-Disposition")) {
            if (disposition) return LG_ERR_MULTIPART;
            const char *semi = memchr(v, ';', (size_t)(vend - v));
            const char *tend = semi ? semi : vend;
            while (tend > v && (tend[-1] == ' ' || tend[-1] == '\t')) tend--;
            lg_str dtype = { v, (size_t)(tend - v) };
            if (!lg__str_ieq(dtype, "form-data")) return LG_ERR_MULTIPART;
            const char *q = semi ? semi : vend;
            lg_str pn, pv;
            while (q < vend) {
                if (next_param(&q, vend, &pn, &pv) != 0) return LG_ERR_MULTIPART;
                if (lg__str_ieq(pn, "name")) ev->name = pv;
                else if (lg__str_ieq(pn, "filename")) ev->filename = pv;
            }
            if (!ev->name.ptr) return LG_ERR_MULTIPART; /* RFC 7578 4.2 */
            disposition = 1;
        } else if (lg__str_ieq(fname, "Content-Type")) {
            ev->content_type.ptr = v;
            ev->content_type.len = (size_t)(vend - v);
        }
        p = eol + 2;
    }
    return disposition ? LG_OK : LG_ERR_MULTIPART;
}

int lg_multipart_parse(lg_multipart *m, const char *buf, size_t len, size_t *consumed,
                       lg_multipart_event *ev)
{
    memset(ev, 0, sizeof *ev);
    size_t pos = 0;
    int whole;
    for (;;) {
        const char *p = buf + pos;
        size_t n = len - pos;
        *consumed = pos;
        switch (m->state) {
        case ST_FAILED:
            return m->error;

        case ST_START: {
            /* "--" boundary at the very start: the virtual CRLF before it. */
            size_t want = (size_t)m->delim_len - 2;
            size_t have = n < want ? n : want;
            if (memcmp(p, m->delim + 2, have) == 0) {
                if (have < want) return LG_MP_NEED_MORE;
                pos += want;
                m->state = ST_AFTER_DELIM;
                break;
            }
            m->state = ST_PREAMBLE;
            break;
        }

        case ST_PREAMBLE: {
            size_t k = find_delim(m, p, n, &whole);
            if (!whole) {
                *consumed = pos + k; /* the preamble is dropped */
                return LG_MP_NEED_MORE;
            }
            pos += k + m->delim_len;
            m->state = ST_AFTER_DELIM;
            break;
        }

        case ST_AFTER_DELIM:
            if (n == 0) return LG_MP_NEED_MORE;
            if (p[0] == '-') {
                if (n < 2) return LG_MP_NEED_MORE;
                if (p[1] != '-') return fail(m, LG_ERR_MULTIPART);
                m->state = ST_EPILOGUE;
                *consumed = len;
                return LG_MP_DONE;
            }
            m->state = ST_PADDING;
            break;

        case ST_PADDING: {
            size_t i = 0;
            while (i < n && (p[i] == ' ' || p[i] == '\t')) i++;
            if (i + 2 > n) {
                if (i < n && p[i] != '\r') return fail(m, LG_ERR_MULTIPART);
                *consumed = pos + i;
                return LG_MP_NEED_MORE;
            }
            if (p[i] != '\r' || p[i + 1] != '\n') return fail(m, LG_ERR_MULTIPART);
            pos += i + 2;
            if (m->parts == m->max_parts) return fail(m, LG_ERR_MULTIPART_PARTS);
            m->parts++;
            m->state = ST_HEADERS;
            break;
        }

        case ST_HEADERS: {
            /* Consumed only whole: find the empty line that ends it. */
            size_t limit = (size_t)m->max_header_bytes + 2;
            size_t look = n < limit ? n : limit;
            size_t end = 0;
            int found = 0;
            if (look >= 2 && p[0] == '\r' && p[1] == '\n') {
                found = 1; /* no fields at all (refused below) */
            } else {
                for (size_t i = 0; i + 3 < look; i++) {
                    const char *cr = memchr(p + i, '\r', look - 3 - i);
                    if (!cr) break;
                    i = (size_t)(cr - p);
                    if (cr[1] == '\n' && cr[2] == '\r' && cr[3] == '\n') {
                        end = i + 2;
                        found = 1;
                        break;
                    }
                }
            }
            if (!found) {
                if (n >= limit) return fail(m, LG_ERR_MULTIPART_HEADER);
                return LG_MP_NEED_MORE;
            }
            int rc = read_part_headers(p, end, ev);
            if (rc) {
                memset(ev, 0, sizeof *ev);
                return fail(m, rc);
            }
            *consumed = pos + end + 2;
            m->state = ST_CONTENT;
            return LG_MP_PART;
        }

        case ST_CONTENT: {
            size_t k = find_delim(m, p, n, &whole);
            if (k > 0) {
                ev->data.ptr = p;
                ev->data.len = k;
                *consumed = pos + k;
                return LG_MP_DATA;
            }
            if (!whole) return LG_MP_NEED_MORE;
            *consumed = pos + m->delim_len;
            m->state = ST_AFTER_DELIM;
            return LG_MP_PART_END;
        }

        case ST_EPILOGUE:
        default:
            *consumed = len;
            return LG_MP_DONE;
        }
    }
}

int lg_multipart_finish(const lg_multipart *m)
{
    if (m->state == ST_EPILOGUE) return LG_OK;
    if (m->state == ST_FAILED) return m->error;
    return LG_ERR_MULTIPART_TRUNCATED;
}

#endif /* !LG_NO_MULTIPART */
