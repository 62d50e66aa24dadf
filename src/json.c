/*
 * A JSON writer (RFC 8259) on lg_writer: no allocation, bounded by the
 * writer's buffer, strings escaped, structure checked. Like every lg_writer
 * user it keeps the first failure and ignores what follows it, so a
 * document is built with plain calls and checked once (lg_json_finish).
 *
 * Nesting is two bit stacks, one bit per level: whether the level is an
 * object, and whether it already holds a member (a comma comes first).
 */
#include <string.h>

#include "http1_internal.h"

#if !defined(LG_NO_JSON)

#define LG_JSON_MAX_DEPTH 32

static void misuse(lg_json *j)
{
    if (!j->w->err) j->w->err = LG_ERR_INVALID_ARG;
}

static uint32_t level_bit(const lg_json *j)
{
    return 1u << (j->depth - 1);
}

static int in_object(const lg_json *j)
{
    return j->depth && (j->objects & level_bit(j));
}

/* Before any value: in an object one comes only after its key; in an
 * array or at the top, a comma between members; one value at the top. */
static int value_may_come(lg_json *j)
{
    if (j->w->err) return 0;
    if (in_object(j)) {
        if (!j->after_key) {
            misuse(j);
            return 0;
        }
        j->after_key = 0;
        return 1;
    }
    if (!j->depth) {
        if (j->done) {
            misuse(j);
            return 0;
        }
        j->done = 1;
        return 1;
    }
    if (j->members & level_bit(j)) lg_write_bytes(j->w, ",", 1);
    j->members |= level_bit(j);
    return 1;
}

void lg_json_init(lg_json *j, lg_writer *w)
{
    memset(j, 0, sizeof *j);
    j->w = w;
}

static void begin(lg_json *j, char open, int object)
{
    if (!value_may_come(j)) return;
    if (j->depth == LG_JSON_MAX_DEPTH) {
        misuse(j);
        return;
    }
    j->depth++;
    if (object) j->objects |= level_bit(j);
    else j->objects &= ~level_bit(j);
    j->members &= ~level_bit(j);
    lg_write_bytes(j->w, &open, 1);
}

static void end(lg_json *j, char close, int object)
{
    if (j->w->err) return;
    if (!j->depth || in_object(j) != object || j->after_key) {
        misuse(j);
        return;
    }
    j->depth--;
    lg_write_bytes(j->w, &close, 1);
}

void lg_json_begin_object(lg_json *j)
{
    begin(j, '{', 1);
}

void lg_json_end_object(lg_json *j)
{
    end(j, '}', 1);
}

void lg_json_begin_array(lg_json *j)
{
    begin(j, '[', 0);
}

void lg_json_end_array(lg_json *j)
{
    end(j, ']', 0);
}

/* The length of the well-formed UTF-8 sequence at p (1..4), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xbf; /* the second byte's range */
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) lo = 0xa0;      /* no overlong forms */
        else if (c == 0xed) hi = 0x9f; /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) lo = 0x90;
        else if (c == 0xf4) hi = 0x8f; /* nothing past U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    return len;
}

/* A string's contents, escaped; a byte that starts no well-formed UTF-8
 * sequence becomes U+FFFD (JSON is UTF-8 text: RFC 8259 8.1). */
static void write_escaped(lg_writer *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end && !w->err) {
        const unsigned char *run = p;
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') p++;
        if (p > run) lg_write_bytes(w, run, (size_t)(p - run));
        if (p == end) break;
        unsigned c = *p;
        if (c >= 0x80) {
            size_t len = utf8_len(p, (size_t)(end - p));
            if (len) lg_write_bytes(w, p, len);
            else lg_write_bytes(w, "\\ufffd", 6);
            p += len ? len : 1;
            continue;
        }
        char esc[6] = { '\\', 0, 0, 0, 0, 0 };
        size_t elen = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        lg_write_bytes(w, esc, elen);
        p++;
    }
}

static void quoted(lg_writer *w, const char *s, size_t n)
{
    lg_write_bytes(w, "\"", 1);
    write_escaped(w, s, n);
    lg_write_bytes(w, "\"", 1);
}

void lg_json_key_str(lg_json *j, lg_str key)
{
    if (j->w->err) return;
    if (!in_object(j) || j->after_key || (!key.ptr && key.len)) {
        misuse(j);
        return;
    }
    if (j->members & level_bit(j)) lg_write_bytes(j->w, ",", 1);
    j->members |= level_bit(j);
    quoted(j->w, key.ptr ? key.ptr : "", key.len);
    lg_write_bytes(j->w, ":", 1);
    j->after_key = 1;
}

void lg_json_key(lg_json *j, const char *key)
{
    lg_str k = { key ? key : "", key ? strlen(key) : 0 };
    lg_json_key_str(j, k);
}

void lg_json_str(lg_json *j, lg_str s)
{
    if (!s.ptr && s.len) {
        misuse(j);
        return;
    }
    if (value_may_come(j)) quoted(j->w, s.ptr ? s.ptr : "", s.len);
}

void lg_json_string(lg_json *j, const char *s)
{
    if (!s) {
        lg_json_null(j);
        return;
    }
    lg_str v = { s, strlen(s) };
    lg_json_str(j, v);
}

void lg_json_uint(lg_json *j, uint64_t v)
{
    if (!value_may_come(j)) return;
    char d[20];
    lg_write_bytes(j->w, d, lg__format_dec(d, v));
}

void lg_json_int(lg_json *j, int64_t v)
{
    if (!value_may_come(j)) return;
    char d[21];
    size_t n = 0;
    uint64_t u = (uint64_t)v;
    if (v < 0) {
        d[n++] = '-';
        u = 0 - u; /* also right for INT64_MIN */
    }
    n += lg__format_dec(d + n, u);
    lg_write_bytes(j->w, d, n);
}

void lg_json_bool(lg_json *j, int v)
{
    if (value_may_come(j)) lg_write_bytes(j->w, v ? "true" : "false", v ? 4 : 5);
}

void lg_json_null(lg_json *j)
{
    if (value_may_come(j)) lg_write_bytes(j->w, "null", 4);
}

int lg_json_finish(const lg_json *j)
{
    if (j->w->err) return j->w->err;
    return j->depth || !j->done ? LG_ERR_INVALID_ARG : LG_OK;
}

#endif /* !LG_NO_JSON */
