/*
 * HTTP/1.1 head parsing (RFC 9112 sections 2-7, RFC 9110 section 5).
 *
 * One pass over a complete head: start line, field lines, and the framing
 * decision. A head is parsed only once it is complete; while it is not, a
 * cheap scan of the new bytes looks for its end (see worth_parsing), so bytes
 * arriving one at a time cost O(n) in all.
 */
#include <string.h>

#include "http1_internal.h"

#define INCOMPLETE LG_HTTP1_INCOMPLETE

/* What the field lines said about framing and the connection, a bit each. */
enum {
    IS_REQUEST = 1u << 0,
    HOST_SEEN = 1u << 1,
    CL_SEEN = 1u << 2,
    CL_CONFLICT = 1u << 3,     /* two Content-Length values differ */
    TE_SEEN = 1u << 4,
    TE_CHUNKED = 1u << 5,      /* chunked was among the codings */
    TE_CHUNKED_TWICE = 1u << 6,
    TE_LAST_CHUNKED = 1u << 7, /* the last coding seen so far is chunked */
    TE_OTHER = 1u << 8,        /* a coding other than chunked */
    CONN_CLOSE = 1u << 9,
    CONN_KEEP_ALIVE = 1u << 10,
    CONN_UPGRADE = 1u << 11,
    UPGRADE = 1u << 12,
    EXPECT_CONTINUE = 1u << 13,
    EXPECT_OTHER = 1u << 14
};

/* What the field lines said, as bits; the value of Content-Length goes
 * straight to lg_head.content_length. */
typedef struct fields_seen {
    unsigned bits;
} fields_seen;

/* p points at a CR: does an LF follow it? */
static int lf_after_cr(const char *p, const char *end)
{
    if (p + 1 == end) return INCOMPLETE;
    return p[1] == '\n' ? 0 : LG_ERR_LINE_ENDING;
}

static int is_ows(char c) { return c == ' ' || c == '\t'; }

/* The CRLF ending a field value or a reason phrase at or after *pp, which
 * may hold HTAB but no other control character (`bad` is the error for
 * one). Sets *pp to the CR; returns 0, INCOMPLETE or an error. */
static int text_to_crlf(const char **pp, const char *end, const char *lo, int bad)
{
    const char *p = *pp;
    for (;;) {
        p = lg_find_ctl_lo(p, end, lo);
        if (p == end) return INCOMPLETE;
        if (*p != '\t') break;
        p++;
    }
    if (*p != '\r') return *p == '\n' ? LG_ERR_LINE_ENDING : bad;
    *pp = p;
    return lf_after_cr(p, end);
}

/* ---------------------------------------------------------------------------
 * Field values with meaning for framing (RFC 9112 6, RFC 9110 7.6.1, 10.1.1)
 * ------------------------------------------------------------------------ */

/* Which word of `list` (each after its length byte) is e[0..n)? Returns its
 * index, or -1. With fold = 0x20 the comparison ignores case, for lists of
 * lower-case words of letters, digits and '-': setting bit 5 lowers a
 * letter, and maps no other byte that a token or a field value may hold
 * (values hold no control characters) onto a letter, a digit or '-'. */
static int word_index(const char *list, const char *e, size_t n, unsigned fold)
{
    for (int i = 0; *list; list += 1 + *list, i++) {
        if ((size_t)*list != n) continue;
        size_t j = 0;
        while (j < n && ((unsigned char)e[j] | fold) == (unsigned char)list[1 + j]) j++;
        if (j == n) return i;
    }
    return -1;
}

/* Each element of a comma-separated list (RFC 9110 5.6.1), trimmed of OWS;
 * empty elements are skipped, as recipients must. */
static void for_each_element(fields_seen *s, const char *p, const char *end,
                             void (*fn)(fields_seen *s, const char *e, size_t n))
{
    for (;;) {
        const char *comma = p;
        while (comma < end && *comma != ',') comma++;
        const char *q = comma;
        while (p < q && is_ows(*p)) p++;
        while (q > p && is_ows(q[-1])) q--;
        if (q > p) fn(s, p, (size_t)(q - p));
        if (comma == end) return;
        p = comma + 1;
    }
}

static void transfer_coding(fields_seen *s, const char *e, size_t n)
{
    if (word_index("\7chunked", e, n, 0x20) == 0) {
        if (s->bits & TE_CHUNKED) s->bits |= TE_CHUNKED_TWICE;
        s->bits |= TE_CHUNKED | TE_LAST_CHUNKED;
    } else {
        s->bits = (s->bits & ~(unsigned)TE_LAST_CHUNKED) | TE_OTHER;
    }
}

static void connection_option(fields_seen *s, const char *e, size_t n)
{
    /* in the order of their bits: CONN_CLOSE, CONN_KEEP_ALIVE, CONN_UPGRADE */
    int i = word_index("\5close\12keep-alive\7upgrade", e, n, 0x20);
    if (i >= 0) s->bits |= (unsigned)CONN_CLOSE << i;
}

/* Content-Length = 1*DIGIT; a list of identical values is one value
 * (RFC 9110 8.6). Anything else is a smuggling vector and refused: an empty
 * element, a sign, a space inside, an overflow; values that differ are
 * refused too, but a malformed element anywhere is reported first. */
static int content_length(lg_head *h, fields_seen *s, const char *p, const char *end)
{
    for (;;) {
        const char *digits = p;
        uint64_t v = 0;
        for (; p < end; p++) {
            unsigned d = (unsigned char)*p - '0';
            if (d > 9) break;
            /* 2^63 - 1 = 9223372036854775807 is the largest length */
            if (v > UINT64_C(922337203685477580) || (v == UINT64_C(922337203685477580) && d > 7))
                return LG_ERR_CONTENT_LENGTH;
            v = v * 10 + d;
        }
        if (p == digits) return LG_ERR_CONTENT_LENGTH;
        if ((s->bits & CL_SEEN) && h->content_length != v) s->bits |= CL_CONFLICT;
        s->bits |= CL_SEEN;
        h->content_length = v;
        while (p < end && is_ows(*p)) p++;
        if (p == end) return s->bits & CL_CONFLICT ? LG_ERR_CONTENT_LENGTH_CONFLICT : 0;
        if (*p++ != ',') return LG_ERR_CONTENT_LENGTH;
        while (p < end && is_ows(*p)) p++;
    }
}

/* Are the bytes of the field name s[4..n) (n >= 4) those of the lower-case
 * name `lower`? maybe_known has compared the first four. A word of four
 * bytes at a time, the last word overlapping the one before; bit 5 does for
 * each byte what it does in word_index. */
static int name_rest_is(const char *s, const char *lower, size_t n)
{
    for (size_t i = 4; i < n; i += 4) {
        size_t j = i + 4 > n ? n - 4 : i;
        uint32_t a, b;
        memcpy(&a, s + j, 4);
        memcpy(&b, lower + j, 4);
        if ((a | 0x20202020u) != b) return 0;
    }
    return 1;
}

/* The field names with a meaning here. No two have the same length, so the
 * length says which one a name may be, and one comparison settles it. */
static const char known_names[] = "host" "expect" "upgrade" "connection" "content-length"
                                  "transfer-encoding";
/* 1 + where the name of each length starts in known_names; 0 for none. */
static const uint8_t known_at[18] = { [4] = 1, [6] = 5, [7] = 11, [10] = 18, [14] = 28, [17] = 42 };

/* May this be one of the names with a meaning? Its length and first four
 * bytes say no to most fields (User-Agent has the length of Connection),
 * without a call; field_meaning makes sure. */
static int maybe_known(const char *name, size_t name_len)
{
    if (name_len > 17 || !known_at[name_len]) return 0;
    uint32_t a, b;
    memcpy(&a, name, 4);
    memcpy(&b, known_names + known_at[name_len] - 1, 4);
    return (a | 0x20202020u) == b;
}

/* After maybe_known said yes. Out of line: most fields never get here, and
 * the line loops keep their vector constants in registers across the call
 * sites that do. */
static LG_NOINLINE int field_meaning(lg_head *h, fields_seen *s, const char *name, size_t name_len,
                         const char *v, const char *end, const char *lo)
{
    if (!name_rest_is(name, known_names + known_at[name_len] - 1, name_len)) return 0;
    size_t n = (size_t)(end - v);
    switch (name_len) {
    case 4: /* Host */
        if (!(s->bits & IS_REQUEST)) break;
        if (s->bits & HOST_SEEN) return LG_ERR_HOST_DUPLICATE;
        s->bits |= HOST_SEEN;
        /* Host = uri-host [ ":" port ] (RFC 9110 7.2); empty is allowed. */
        if (lg_skip_host(v, end, lo) != end) return LG_ERR_HOST_INVALID;
        /* RFC 9112 3.2.2: with an absolute-form target the server MUST
         * ignore the Host field and use the target's authority, which
         * classify_target has put in host. The field is still required
         * and checked, as above. */
        if (h->target_form == LG_TARGET_ABSOLUTE) break;
        h->host.ptr = v;
        h->host.len = n;
        break;
    case 6: /* Expect */
        if (s->bits & IS_REQUEST)
            s->bits |= word_index("\14" "100-continue", v, n, 0x20) == 0 ? EXPECT_CONTINUE
                                                                         : EXPECT_OTHER;
        break;
    case 7: /* Upgrade */
        s->bits |= UPGRADE;
        break;
    case 10: /* Connection */
        for_each_element(s, v, end, connection_option);
        break;
    case 14: /* Content-Length */
        return content_length(h, s, v, end);
    default: /* Transfer-Encoding */
        s->bits |= TE_SEEN;
        for_each_element(s, v, end, transfer_coding);
        break;
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * Field lines
 * ------------------------------------------------------------------------ */

/* parse_line found the empty line that ends the section. */
#define SECTION_END 2

/* The value of a field line, (colon, cr) without the OWS around it:
 * returns its start, sets *value_end. Both loops stop at the latest at the
 * CR or the colon. */
static LG_ALWAYS_INLINE const char *trim_value(const char *colon, const char *cr,
                                               const char **value_end)
{
    const char *value = colon + 1 + (colon[1] == ' '), *e = cr; /* the usual single SP */
    while (is_ows(e[-1])) e--;
    while (is_ows(*value)) value++;
    *value_end = e < value ? value : e; /* nothing but OWS: empty, at the CR */
    return value;
}

/* Keep a field line whose name is name[0..colon) and whose value, OWS
 * still around it, is (colon, cr), and act on what it means. */
static int add_field(lg_head *h, fields_seen *s, const char *name, const char *colon,
                     const char *cr, const char *lo)
{
    const char *value_end, *value = trim_value(colon, cr, &value_end);
    size_t name_len = (size_t)(colon - name);
    if (h->headers) {
        if (h->num_headers >= h->max_headers) return LG_ERR_TOO_MANY_HEADERS;
        lg_header *f = &h->headers[h->num_headers++];
        f->name.ptr = name;
        f->name.len = name_len;
        f->value.ptr = value;
        f->value.len = (size_t)(value_end - value);
    }
    if (s && maybe_known(name, name_len))
        return field_meaning(h, s, name, name_len, value, value_end, lo);
    return 0;
}

/* One line at *pp: a field line (returns 0), the empty line ending the
 * section (SECTION_END), INCOMPLETE, or an error. Advances *pp past the
 * line. This is the full grammar with every error; fast_lines below only
 * takes the plain lines off its hands. */
static int parse_line(const char **pp, const char *end, const char *lo, lg_head *h,
                      fields_seen *s)
{
    const char *p = *pp;
    if (p == end) return INCOMPLETE;
    const char *name = p;
    p = lg_skip_token(p, end, lo);
    if (p == end) return INCOMPLETE;
    if (*p != ':' || p == name) {
        if (p == name) {
            if (*p == '\r') {
                int rc = lf_after_cr(p, end);
                *pp = p + 2;
                return rc ? rc : SECTION_END;
            }
            if (*p == '\n') return LG_ERR_LINE_ENDING;
            /* A line starting with whitespace continues the previous one
             * (obs-fold) or, after the start line, hides a field from
             * some parsers: RFC 9112 5.2 and 2.2 allow rejecting both. */
            if (is_ows(*p)) return LG_ERR_OBS_FOLD;
            return LG_ERR_HEADER_NAME;
        }
        /* "Name : v" is its own error (RFC 9112 5.1); "Na me: v" is a bad name. */
        if (!is_ows(*p)) return LG_ERR_HEADER_NAME;
        while (p < end && is_ows(*p)) p++;
        if (p == end) return INCOMPLETE;
        return *p == ':' ? LG_ERR_SPACE_BEFORE_COLON : LG_ERR_HEADER_NAME;
    }
    const char *colon = p++;
    int rc = text_to_crlf(&p, end, lo, LG_ERR_HEADER_VALUE);
    if (rc) return rc;
    *pp = p + 2;
    return add_field(h, s, name, colon, p, lo);
}

#if defined(LG_SIMD_LINES)
/* The common lines: a name of letters, digits and '-', a colon, a value
 * without control characters, CRLF. Where each line ends comes from bit
 * masks of 64 bytes at a time (lg_line_ends), each byte looked at once, so
 * finding the next line does not wait for the work on this one. Returns 0
 * with *pp at the first line that is anything else (a tab, another token
 * character in the name, an error, the end of the input), for parse_line;
 * SECTION_END; or an error from add_field. */
static int fast_lines(const char **pp, const char *end, const char *lo, lg_head *h,
                      fields_seen *s)
{
    const char *p = *pp;
    /* see lg_vfind and lg_line_ends; fields that are only checked (no
     * array: trailers nobody keeps) take the other path */
    if (end - lo < 16 || p >= end || !h->headers) return 0;
    /* in registers: as far as the compiler knows, each field stored could
     * change *h */
    lg_header *hv = h->headers;
    unsigned n = h->num_headers, max = h->max_headers;
    int rc = 0;
    const char *base = p;
    size_t nbits;
    uint64_t ends = lg_line_ends(base, end, &nbits);
    for (;;) {
        while (!ends) { /* this line goes on past these 64 bytes */
            if (nbits < 64 || end - base == 64) goto out;
            base += 64;
            ends = lg_line_ends(base, end, &nbits);
            /* p is before base, or base + 1 after a CR at the last bit */
            if (p > base) ends &= ends - 1;
        }
        const char *cr = base + __builtin_ctzll(ends);
        if (end - cr < 2 || memcmp(cr, "\r\n", 2) != 0) goto out; /* one 16-bit compare */
        if (cr == p) {
            p += 2;
            rc = SECTION_END;
            goto out;
        }
        /* the name ends at the CR at the latest */
        const char *colon = lg_vfind(p, end, lo, LG_SCAN_NAME_END);
        if (*colon != ':' || colon == p) goto out;
        const char *value_end, *value = trim_value(colon, cr, &value_end);
        size_t name_len = (size_t)(colon - p);
        if (n >= max) {
            rc = LG_ERR_TOO_MANY_HEADERS;
            goto out;
        }
        hv[n].name.ptr = p;
        hv[n].name.len = name_len;
        hv[n].value.ptr = value;
        hv[n].value.len = (size_t)(value_end - value);
        n++;
        if (s && maybe_known(p, name_len)) {
            rc = field_meaning(h, s, p, name_len, value, value_end, lo);
            if (rc) goto out;
        }
        p = cr + 2;
        ends &= ends - 1; /* the CR, and the LF unless it is in the next 64 bytes */
        ends &= ends - 1;
    }
out:
    h->num_headers = (uint16_t)n;
    *pp = p;
    return rc;
}
#endif

static int parse_fields(const char **pp, const char *end, const char *lo, lg_head *h,
                        fields_seen *s)
{
    const char *p = *pp;
    int rc;
    for (;;) {
#if defined(LG_SIMD_LINES)
        rc = fast_lines(&p, end, lo, h, s);
        if (rc) break;
#endif
        rc = parse_line(&p, end, lo, h, s);
        if (rc) break;
    }
    if (rc != SECTION_END) return rc;
    *pp = p;
    return 0;
}

int lg_http1_parse_trailer_fields(const char **pp, const char *end, lg_head *h)
{
    return parse_fields(pp, end, *pp, h, NULL);
}

/* ---------------------------------------------------------------------------
 * Start lines
 * ------------------------------------------------------------------------ */

/* HTTP-version = "HTTP/" DIGIT "." DIGIT at p, with `need` bytes from p
 * to complete the line. 0 for any HTTP/1.x (version_minor set, 0 or 1); a
 * well formed other major version is LG_ERR_VERSION_UNSUPPORTED (505),
 * anything else LG_ERR_VERSION. INCOMPLETE while fewer bytes are there,
 * unless those already differ from "HTTP/". */
static LG_SPEED_INLINE int parse_version(const char *p, const char *end, size_t need,
                                         lg_head *h)
{
    static const char http[] = "HTTP/";
    if ((size_t)(end - p) >= need && memcmp(p, "HTTP/1.1", 8) == 0) { /* nearly always */
        h->version_minor = 1;
        return 0;
    }
    if ((size_t)(end - p) < need) {
        for (size_t i = 0; i < 5 && p + i < end; i++)
            if (p[i] != http[i]) return LG_ERR_VERSION;
        return INCOMPLETE;
    }
    unsigned major = (unsigned char)p[5] - '0', minor = (unsigned char)p[7] - '0';
    if (memcmp(p, http, 5) != 0 || major > 9 || p[6] != '.' || minor > 9) return LG_ERR_VERSION;
    if (major != 1) return LG_ERR_VERSION_UNSUPPORTED;
    /* RFC 9110 2.5: a message of a higher minor version than ours is
     * processed as the highest we conform to, HTTP/1.1. version_minor says
     * 1 then, so that what reads it (Host required, persistence, chunked,
     * the version of the answer) treats HTTP/1.2 as 1.1. */
    h->version_minor = minor ? 1 : 0;
    return 0;
}

/* The methods lg_method names, each after its length, the common ones
 * first; method_ids says which lg_method each is. */
static const char methods[] = "\3GET\4POST\3PUT\6DELETE\4HEAD\5PATCH\7OPTIONS\7CONNECT\5TRACE";
static const uint8_t method_ids[] = { LG_METHOD_GET,    LG_METHOD_POST,    LG_METHOD_PUT,
                                      LG_METHOD_DELETE, LG_METHOD_HEAD,    LG_METHOD_PATCH,
                                      LG_METHOD_OPTIONS, LG_METHOD_CONNECT, LG_METHOD_TRACE };

static uint8_t method_id(const char *m, size_t n)
{
    /* Methods are case-sensitive (RFC 9110 9.1): "get" is another method. */
    int i = word_index(methods, m, n, 0);
    return i < 0 ? LG_METHOD_OTHER : method_ids[i];
}

/* Is [p, end) host [":" port] (RFC 3986 3.2.2, 3.2.3)? The host is a
 * bracketed IP-literal or a non-empty reg-name or IPv4 address (RFC 9110
 * 4.2.1: an http URI with an empty host is invalid and MUST be rejected);
 * the port, when there is a colon, is digits. No userinfo: '@' is no host
 * character (see absolute_authority). */
static int authority_valid(const char *p, const char *end)
{
    const char *q = p;
    if (q < end && *q == '[') {
        for (q++; q < end && *q != ']'; q++)
            if (!lg_is_host(*q) || *q == '[') return 0;
        if (q == end || q == p + 1) return 0; /* unclosed, or "[]" */
        q++;
    } else {
        for (; q < end && *q != ':'; q++)
            if (!lg_is_host(*q) || *q == '[' || *q == ']') return 0;
        if (q == p) return 0;
    }
    if (q == end) return 1;
    if (*q != ':') return 0;
    for (q++; q < end; q++)
        if ((unsigned)(*q - '0') > 9u) return 0;
    return 1;
}

/* The rest of an absolute-form target after "scheme:", [p, end): it must
 * be "//" authority, the authority ending at the path or the query (where
 * the server's split_target ends it too). The authority is what the
 * request is for (RFC 9112 3.2.2), so it becomes head->host; the Host field
 * then goes unkept (field_meaning). A target without an authority names no
 * host to use instead of Host, and is refused. So is userinfo
 * ("http://user@host/"): RFC 9110 4.2.4 deprecates it in http(s) URIs and
 * says a recipient SHOULD treat it as an error, since it is how a link
 * hides its real host ("http://bank.example@evil.example/"). */
static int absolute_authority(lg_head *h, const char *p, const char *end)
{
    if (end - p < 2 || p[0] != '/' || p[1] != '/') return LG_ERR_TARGET;
    p += 2;
    const char *a = p;
    while (p < end && *p != '/' && *p != '?') p++;
    if (!authority_valid(a, p)) return LG_ERR_TARGET;
    h->host.ptr = a;
    h->host.len = (size_t)(p - a);
    return 0;
}

/* RFC 9112 3.2: which target forms each method may use. */
static int classify_target(lg_head *h)
{
    const char *t = h->target.ptr;
    size_t n = h->target.len;
    if (h->method_id == LG_METHOD_CONNECT) {
        /* authority-form: host ":" port, port required */
        size_t colon = n;
        for (size_t i = 0; i < n; i++) {
            if (!lg_is_host(t[i])) return LG_ERR_TARGET;
            if (t[i] == ':') colon = i;
        }
        if (colon == 0 || colon + 1 >= n || t[0] == '/') return LG_ERR_TARGET;
        for (size_t i = colon + 1; i < n; i++)
            if (t[i] < '0' || t[i] > '9') return LG_ERR_TARGET;
        h->target_form = LG_TARGET_AUTHORITY;
        return 0;
    }
    if (t[0] == '/') {
        h->target_form = LG_TARGET_ORIGIN;
        return 0;
    }
    if (n == 1 && t[0] == '*') {
        if (h->method_id != LG_METHOD_OPTIONS) return LG_ERR_TARGET;
        h->target_form = LG_TARGET_ASTERISK;
        return 0;
    }
    /* absolute-form: scheme ":" "//" authority ..., scheme = ALPHA
     * *(ALPHA/DIGIT/+-.) */
    if (((unsigned char)t[0] | 0x20u) - 'a' >= 26u) return LG_ERR_TARGET;
    for (size_t i = 1; i < n; i++) {
        if (t[i] == ':') {
            h->target_form = LG_TARGET_ABSOLUTE;
            return absolute_authority(h, t + i + 1, t + n);
        }
        if (!lg_is_scheme(t[i])) return LG_ERR_TARGET;
    }
    return LG_ERR_TARGET;
}

static int parse_request_line(const char **pp, const char *end, const char *lo, lg_head *h)
{
    const char *p = *pp;
    const char *m = p;
    p = lg_skip_token(p, end, lo);
    if (p == end) return INCOMPLETE;
    if (*p != ' ') {
        if (p == m) return LG_ERR_REQUEST_LINE;
        return (*p == '\r' || *p == '\n') ? LG_ERR_REQUEST_LINE : LG_ERR_METHOD;
    }
    if (p == m) return LG_ERR_REQUEST_LINE;
    h->method.ptr = m;
    h->method.len = (size_t)(p - m);
    h->method_id = method_id(m, h->method.len);
    p++;

    const char *t = p;
    p = lg_find_ctl_or_space_lo(p, end, lo);
    if (p == end) return INCOMPLETE;
    if (*p != ' ') {
        /* "GET /\r\n" is HTTP/0.9, which nobody speaks any more. */
        return (*p == '\r' || *p == '\n') ? LG_ERR_REQUEST_LINE : LG_ERR_TARGET;
    }
    if (p == t) return LG_ERR_REQUEST_LINE;
    h->target.ptr = t;
    h->target.len = (size_t)(p - t);
    p++;

    /* the version and CRLF; while they are not all there, a byte already
     * wrong is wrong now */
    int rc = parse_version(p, end, 10, h);
    if (rc) return rc;
    p += 8;
    if (p[0] != '\r') return p[0] == '\n' ? LG_ERR_LINE_ENDING : LG_ERR_REQUEST_LINE;
    if (p[1] != '\n') return LG_ERR_LINE_ENDING;
    rc = classify_target(h);
    if (rc) return rc;
    *pp = p + 2;
    return 0;
}

static int parse_status_line(const char **pp, const char *end, const char *lo, lg_head *h)
{
    const char *p = *pp;
    /* "HTTP/1.1 200" and one more byte */
    int rc = parse_version(p, end, 13, h);
    if (rc) return rc == LG_ERR_VERSION ? LG_ERR_STATUS_LINE : rc;
    p += 8;
    if (*p++ != ' ') return LG_ERR_STATUS_LINE;
    unsigned d0 = (unsigned char)p[0] - '0', d1 = (unsigned char)p[1] - '0',
             d2 = (unsigned char)p[2] - '0';
    if (d0 < 1 || d0 > 9 || d1 > 9 || d2 > 9) return LG_ERR_STATUS_LINE;
    h->status = (uint16_t)(d0 * 100 + d1 * 10 + d2);
    p += 3;
    /* The SP before an empty reason is often left out; accept its absence. */
    if (*p == ' ') p++;
    else if (*p != '\r' && *p != '\n') return LG_ERR_STATUS_LINE;
    const char *reason = p;
    rc = text_to_crlf(&p, end, lo, LG_ERR_STATUS_LINE);
    if (rc) return rc;
    h->reason.ptr = reason;
    h->reason.len = (size_t)(p - reason);
    *pp = p + 2;
    return 0;
}

/* ---------------------------------------------------------------------------
 * Framing (RFC 9112 6.1-6.3) and persistence (RFC 9112 9.3)
 * ------------------------------------------------------------------------ */

static int transfer_encoding_valid(const lg_head *h, const fields_seen *s)
{
    if (h->version_minor == 0) return LG_ERR_TRANSFER_ENCODING_HTTP10;
    if (s->bits & CL_SEEN) return LG_ERR_LENGTH_AND_CHUNKED;
    /* chunked must be last and applied once (RFC 9112 6.1); the codings
     * before it would have to be undone, and linger undoes none. */
    if ((s->bits & (TE_LAST_CHUNKED | TE_CHUNKED_TWICE)) != TE_LAST_CHUNKED)
        return LG_ERR_CHUNKED_NOT_LAST;
    if (s->bits & TE_OTHER) return LG_ERR_TRANSFER_CODING;
    return 0;
}

static void set_persistence(lg_head *h, const fields_seen *s)
{
    unsigned b = s->bits;
    int keep = !(b & CONN_CLOSE) && (h->version_minor || (b & CONN_KEEP_ALIVE));
    if (h->framing == LG_FRAMING_CLOSE || h->framing == LG_FRAMING_TUNNEL) keep = 0;
    if (keep) h->flags |= LG_HEAD_KEEP_ALIVE;
    if (b & CONN_CLOSE) h->flags |= LG_HEAD_CONNECTION_CLOSE;
    if ((b & (CONN_UPGRADE | UPGRADE)) == (CONN_UPGRADE | UPGRADE)) h->flags |= LG_HEAD_UPGRADE;
}

static int request_framing(lg_head *h, const fields_seen *s)
{
    if (h->version_minor == 1 && !(s->bits & HOST_SEEN)) return LG_ERR_HOST_MISSING;
    if (s->bits & TE_SEEN) {
        int rc = transfer_encoding_valid(h, s);
        if (rc) return rc;
        h->framing = LG_FRAMING_CHUNKED;
    } else if (h->content_length > 0) {
        h->framing = LG_FRAMING_LENGTH;
    } else {
        h->framing = LG_FRAMING_NONE;
    }
    /* RFC 9110 10.1.1: an HTTP/1.0 client cannot wait for 100 Continue. */
    if ((s->bits & EXPECT_CONTINUE) && h->version_minor == 1) h->flags |= LG_HEAD_EXPECT_CONTINUE;
    if (s->bits & EXPECT_OTHER) h->flags |= LG_HEAD_EXPECT_OTHER;
    set_persistence(h, s);
    return 0;
}

static int response_framing(lg_head *h, const fields_seen *s, int request_method)
{
    /* Conflicting or unknown framing is refused even where the status says
     * there is no body: a response like that is an attack or a broken peer. */
    if (s->bits & TE_SEEN) {
        int rc = transfer_encoding_valid(h, s);
        if (rc) return rc;
    }
    unsigned st = h->status;
    if (st == 101 || (request_method == LG_METHOD_CONNECT && st >= 200 && st < 300)) {
        h->framing = LG_FRAMING_TUNNEL;
        h->content_length = 0; /* what follows is not a body */
    } else if (st < 200 || st == 204 || st == 304 || request_method == LG_METHOD_HEAD) {
        h->framing = LG_FRAMING_NONE; /* content_length: what GET would get */
    } else if (s->bits & TE_SEEN) {
        h->framing = LG_FRAMING_CHUNKED;
    } else if (s->bits & CL_SEEN) {
        h->framing = h->content_length ? LG_FRAMING_LENGTH : LG_FRAMING_NONE;
    } else {
        h->framing = LG_FRAMING_CLOSE;
    }
    set_persistence(h, s);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Completeness and limits
 * ------------------------------------------------------------------------ */

/* Is there an empty line among the bytes that arrived since prev_len? Looks
 * only at new bytes (plus three before them), so repeated calls on a growing
 * buffer stay linear. Returns 1 when the head may be complete, or when a bare
 * CR or LF makes it worth a full parse to report the error now; 0 when it
 * certainly is not complete. */
static int worth_parsing(const char *buf, const char *end, size_t prev_len, int section_only)
{
    for (const char *p = buf + (prev_len >= 3 ? prev_len - 3 : 0); p < end; p++) {
#if defined(LG_SIMD_LINES)
        p = lg_find_ctl_lo(p, end, buf); /* CR and LF are control bytes */
        if (p == end) break;
#endif
        if (*p == '\r') {
            if (p + 1 < end && p[1] != '\n') return 1;
        } else if (*p == '\n') {
            if (p == buf || p[-1] != '\r') return 1;
            if (section_only && p == buf + 1) return 1; /* empty trailer section */
            if (p - buf >= 3 && p[-2] == '\n' && p[-3] == '\r') return 1;
        }
    }
    return 0;
}

static void head_reset(lg_head *h)
{
    lg_head fresh = { .headers = h->headers, .max_headers = h->max_headers };
    *h = fresh;
}

/* Fold "incomplete" into the caller's answer: need more bytes, or the limit
 * is reached and more bytes can never complete the head. */
static int incomplete(size_t len, size_t max_head, int start_line_done, int is_request)
{
    if (len < max_head) return 0;
    if (is_request && !start_line_done) return LG_ERR_URI_TOO_LONG;
    return LG_ERR_HEADERS_TOO_LARGE;
}

enum { KIND_REQUEST, KIND_RESPONSE };

/* Inlined into each caller in vector builds, where `kind` is then known. */
static LG_SPEED_INLINE int parse_head(lg_head *h, const char *buf, size_t len, size_t prev_len,
                                      size_t max_head, int kind, int request_method)
{
    if (max_head == 0) max_head = LG_DEFAULT_MAX_HEAD;
    /* Only the first max_head bytes are looked at: whatever lies beyond can
     * not belong to a head we accept. */
    size_t span = len < max_head ? len : max_head;
    const char *end = buf + span;
    /* Not complete yet: say so cheaply. At the limit, parse anyway, so that
     * a syntax error in the bytes we have wins over the size error, exactly
     * as when the same bytes arrive at once. */
    if (prev_len && len < max_head && !worth_parsing(buf, end, prev_len, 0)) return 0;

    head_reset(h);
    fields_seen s = { kind == KIND_REQUEST ? IS_REQUEST : 0 };

    const char *p = buf;
    int rc;
    if (kind == KIND_REQUEST) {
        /* RFC 9112 2.2: ignore empty lines before a request line. */
        while (p < end) {
            if (*p == '\n') return LG_ERR_LINE_ENDING;
            if (*p != '\r') break;
            if (p + 1 == end) return incomplete(len, max_head, 0, 1);
            if (p[1] != '\n') break; /* the request line will not parse */
            p += 2;
        }
        rc = parse_request_line(&p, end, buf, h);
    } else {
        rc = parse_status_line(&p, end, buf, h);
    }
    if (rc == INCOMPLETE) return incomplete(len, max_head, 0, kind == KIND_REQUEST);
    if (rc) return rc;

    rc = parse_fields(&p, end, buf, h, &s);
    if (rc == INCOMPLETE) return incomplete(len, max_head, 1, kind == KIND_REQUEST);
    if (rc) return rc;

    rc = kind == KIND_REQUEST ? request_framing(h, &s) : response_framing(h, &s, request_method);
    if (rc) return rc;
    return (int)(p - buf);
}

int lg_parse_request(lg_head *head, const char *buf, size_t len, size_t prev_len, size_t max_head)
{
    return parse_head(head, buf, len, prev_len, max_head, KIND_REQUEST, 0);
}

int lg_parse_response(lg_head *head, const char *buf, size_t len, size_t prev_len,
                      size_t max_head, int request_method)
{
    return parse_head(head, buf, len, prev_len, max_head, KIND_RESPONSE, request_method);
}

int lg_parse_trailers(lg_head *head, const char *buf, size_t len, size_t prev_len,
                      size_t max_trailers)
{
    if (max_trailers == 0) max_trailers = LG_DEFAULT_MAX_HEAD;
    size_t span = len < max_trailers ? len : max_trailers;
    const char *end = buf + span;
    if (prev_len && len < max_trailers && !worth_parsing(buf, end, prev_len, 1)) return 0;
    head->num_headers = 0;
    const char *p = buf;
    int rc = parse_fields(&p, end, buf, head, NULL);
    if (rc == INCOMPLETE) return len >= max_trailers ? LG_ERR_HEADERS_TOO_LARGE : 0;
    if (rc) return rc;
    return (int)(p - buf);
}
