/*
 * Serialising HTTP/1.1 heads and chunked bodies into a caller's buffer.
 *
 * Every name and value is checked on the way out: a CR or LF smuggled into a
 * header value through user data would split the message (response
 * splitting), so the writer refuses it rather than trusting callers.
 */
#include <string.h>

#include "http1_internal.h"

void lg_writer_init(lg_writer *w, char *buf, size_t cap)
{
    w->buf = buf;
    w->len = 0;
    w->cap = cap;
    w->err = 0;
}

void lg_write_bytes(lg_writer *w, const void *data, size_t len)
{
    if (w->err) return;
    if (len > w->cap - w->len) {
        w->err = LG_ERR_BUFFER_TOO_SMALL;
        return;
    }
    memcpy(w->buf + w->len, data, len);
    w->len += len;
}

/* A 64-bit division on a 32-bit CPU is a libgcc routine of about 800
 * bytes (__udivmoddi4), which a device would link only for this: numbers
 * that fit 32 bits (nearly all) are divided natively, larger ones in 16-bit
 * steps with 32-bit arithmetic (long division by 10, four steps a digit). */
size_t lg__format_dec(char *out, uint64_t v)
{
    char tmp[20];
    size_t i = sizeof tmp;
    while (v > UINT32_MAX) {
        uint64_t q = 0;
        uint32_t r = 0;
        for (int shift = 48; shift >= 0; shift -= 16) {
            uint32_t cur = r << 16 | (uint32_t)(v >> shift & 0xffffu);
            q |= (uint64_t)(cur / 10) << shift;
            r = cur % 10;
        }
        tmp[--i] = (char)('0' + r);
        v = q;
    }
    uint32_t v32 = (uint32_t)v;
    do {
        tmp[--i] = (char)('0' + v32 % 10);
        v32 /= 10;
    } while (v32);
    memcpy(out, tmp + i, sizeof tmp - i);
    return sizeof tmp - i;
}

int lg__parse_dec(const char *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0) return LG_ERR_CONTENT_LENGTH;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)p[i] - '0';
        if (d > 9) return LG_ERR_CONTENT_LENGTH;
        /* 2^63 - 1, as the parser's Content-Length */
        if (v > UINT64_C(922337203685477580) || (v == UINT64_C(922337203685477580) && d > 7))
            return LG_ERR_CONTENT_LENGTH;
        v = v * 10 + d;
    }
    *out = v;
    return LG_OK;
}

static void write_dec(lg_writer *w, uint64_t v)
{
    char tmp[20];
    lg_write_bytes(w, tmp, lg__format_dec(tmp, v));
}

static void write_hex(lg_writer *w, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[16];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = digits[v & 15];
        v >>= 4;
    } while (v);
    lg_write_bytes(w, tmp + i, sizeof tmp - i);
}

static int token_ok(const char *s, size_t n)
{
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (!lg_is_token(s[i])) return 0;
    return 1;
}

/* A request target is a URI (RFC 9112 3.2): visible ASCII only. Raw
 * non-ASCII bytes must be percent-encoded by the caller. */
static int target_ok(lg_str t)
{
    if (t.len == 0) return 0;
    for (size_t i = 0; i < t.len; i++) {
        unsigned char c = (unsigned char)t.ptr[i];
        if (c <= 0x20 || c >= 0x7f) return 0;
    }
    return 1;
}

void lg_write_request_line(lg_writer *w, const char *method, lg_str target)
{
    size_t mlen = strlen(method);
    if (!token_ok(method, mlen) || !target_ok(target)) {
        if (!w->err) w->err = LG_ERR_INVALID_ARG;
        return;
    }
    lg_write_bytes(w, method, mlen);
    lg_write_bytes(w, " ", 1);
    lg_write_bytes(w, target.ptr, target.len);
    lg_write_bytes(w, " HTTP/1.1\r\n", 11);
}

void lg_write_status_line(lg_writer *w, int version_minor, int status, const char *reason)
{
    if (status < 100 || status > 999 || (version_minor != 0 && version_minor != 1)) {
        if (!w->err) w->err = LG_ERR_INVALID_ARG;
        return;
    }
    if (!reason) reason = lg_status_reason(status);
    size_t rlen = strlen(reason);
    for (size_t i = 0; i < rlen; i++) {
        if (!lg_is_value(reason[i])) {
            if (!w->err) w->err = LG_ERR_HEADER_VALUE;
            return;
        }
    }
    lg_write_bytes(w, version_minor ? "HTTP/1.1 " : "HTTP/1.0 ", 9);
    write_dec(w, (uint64_t)status);
    lg_write_bytes(w, " ", 1);
    lg_write_bytes(w, reason, rlen);
    lg_write_bytes(w, "\r\n", 2);
}

void lg_write_header_str(lg_writer *w, lg_str name, lg_str value)
{
    if (w->err) return;
    if (!token_ok(name.ptr, name.len)) {
        w->err = LG_ERR_HEADER_NAME;
        return;
    }
    for (size_t i = 0; i < value.len; i++) {
        if (!lg_is_value(value.ptr[i])) {
            w->err = LG_ERR_HEADER_VALUE;
            return;
        }
    }
    /* One bounds check for the whole line. */
    if (name.len + value.len + 4 > w->cap - w->len) {
        w->err = LG_ERR_BUFFER_TOO_SMALL;
        return;
    }
    char *p = w->buf + w->len;
    memcpy(p, name.ptr, name.len);
    p += name.len;
    *p++ = ':';
    *p++ = ' ';
    memcpy(p, value.ptr, value.len);
    p += value.len;
    *p++ = '\r';
    *p++ = '\n';
    w->len = (size_t)(p - w->buf);
}

void lg_write_header(lg_writer *w, const char *name, const char *value)
{
    lg_str n = { name, strlen(name) }, v = { value, strlen(value) };
    lg_write_header_str(w, n, v);
}

void lg_write_header_uint(lg_writer *w, const char *name, uint64_t value)
{
    size_t n = strlen(name);
    if (w->err) return;
    if (!token_ok(name, n)) {
        w->err = LG_ERR_HEADER_NAME;
        return;
    }
    lg_write_bytes(w, name, n);
    lg_write_bytes(w, ": ", 2);
    write_dec(w, value);
    lg_write_bytes(w, "\r\n", 2);
}

void lg_write_end_head(lg_writer *w)
{
    lg_write_bytes(w, "\r\n", 2);
}

void lg_write_chunk_start(lg_writer *w, size_t size)
{
    /* "0" is the last-chunk: an empty piece written as a chunk would end
     * the body early and make a truncated body look complete. */
    if (size == 0) {
        if (!w->err) w->err = LG_ERR_INVALID_ARG;
        return;
    }
    write_hex(w, (uint64_t)size);
    lg_write_bytes(w, "\r\n", 2);
}

void lg_write_chunk_end(lg_writer *w)
{
    lg_write_bytes(w, "\r\n", 2);
}

void lg_write_last_chunk(lg_writer *w, const lg_header *trailers, size_t n)
{
    lg_write_bytes(w, "0\r\n", 3);
    for (size_t i = 0; i < n; i++) lg_write_header_str(w, trailers[i].name, trailers[i].value);
    lg_write_bytes(w, "\r\n", 2);
}

/* X(status, reason, 1 when linger answers with it itself). The reasons
 * are one string and the statuses a table beside it: a switch over them
 * compiles to more code than the strings it returns. With
 * LG_NO_ERROR_STRINGS only linger's own statuses keep their reason (RFC
 * 9112 4: a client ignores the reason phrase; it is for people). */
#define LG_STATUSES(X) \
    X(100, "Continue", 1) \
    X(101, "Switching Protocols", 0) \
    X(200, "OK", 1) \
    X(201, "Created", 0) \
    X(202, "Accepted", 0) \
    X(204, "No Content", 0) \
    X(206, "Partial Content", 1) \
    X(301, "Moved Permanently", 1) \
    X(302, "Found", 0) \
    X(303, "See Other", 0) \
    X(304, "Not Modified", 1) \
    X(307, "Temporary Redirect", 0) \
    X(308, "Permanent Redirect", 0) \
    X(400, "Bad Request", 1) \
    X(401, "Unauthorized", 0) \
    X(403, "Forbidden", 1) \
    X(404, "Not Found", 1) \
    X(405, "Method Not Allowed", 1) \
    X(408, "Request Timeout", 1) \
    X(409, "Conflict", 0) \
    X(411, "Length Required", 1) \
    X(412, "Precondition Failed", 1) \
    X(413, "Content Too Large", 1) \
    X(414, "URI Too Long", 1) \
    X(415, "Unsupported Media Type", 0) \
    X(416, "Range Not Satisfiable", 1) \
    X(417, "Expectation Failed", 1) \
    X(426, "Upgrade Required", 0) \
    X(429, "Too Many Requests", 0) \
    X(431, "Request Header Fields Too Large", 1) \
    X(500, "Internal Server Error", 1) \
    X(501, "Not Implemented", 1) \
    X(502, "Bad Gateway", 0) \
    X(503, "Service Unavailable", 1) \
    X(504, "Gateway Timeout", 0) \
    X(505, "HTTP Version Not Supported", 1)

#define CODE_1(status, reason) status,
#define TEXT_1(status, reason) reason "\0"
#if defined(LG_NO_ERROR_STRINGS)
#define CODE_0(status, reason)
#define TEXT_0(status, reason)
#else
#define CODE_0(status, reason) CODE_1(status, reason)
#define TEXT_0(status, reason) TEXT_1(status, reason)
#endif
#define STATUS_CODE(status, reason, own) CODE_##own(status, reason)
#define STATUS_TEXT(status, reason, own) TEXT_##own(status, reason)

const char *lg_status_reason(int status)
{
    static const uint16_t codes[] = { LG_STATUSES(STATUS_CODE) };
    static const char texts[] = LG_STATUSES(STATUS_TEXT) "Unknown";
    const char *p = texts;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0] && codes[i] != status; i++)
        p += strlen(p) + 1;
    return p;
}
