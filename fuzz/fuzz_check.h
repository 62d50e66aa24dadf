/* Invariants the fuzz targets assert on every input, written independently
 * of the codec's own tables so that a bug there cannot hide itself. A broken
 * invariant aborts, which libFuzzer reports as a crash with the input. */
#ifndef LG_FUZZ_CHECK_H
#define LG_FUZZ_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linger.h"

/* Header slots the targets give the parser. */
#define FUZZ_MAX_HEADERS 16

#define FUZZ_ASSERT(cond)                                                          \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                               \
        }                                                                          \
    } while (0)

/* A codec failure is one of the codec's own codes (-1 .. -29), never an API,
 * network or unknown one. */
static inline int fuzz_is_codec_error(int e)
{
    return e < 0 && e >= LG_ERR_EXPECTATION && strcmp(lg_err_name(e), "LG_ERR_UNKNOWN") != 0;
}

static inline int fuzz_in(lg_str s, const char *lo, const char *hi)
{
    return s.ptr && s.ptr >= lo && s.ptr + s.len <= hi;
}

static inline int fuzz_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Field lines as RFC 9110 5 has them: a token name; a value of visible
 * characters, SP, HTAB and obs-text, with no whitespace at either end. */
static inline void fuzz_check_fields(const lg_head *h, const char *lo, const char *hi)
{
    FUZZ_ASSERT(h->num_headers <= h->max_headers);
    for (size_t i = 0; i < h->num_headers; i++) {
        const lg_header *f = &h->headers[i];
        FUZZ_ASSERT(fuzz_in(f->name, lo, hi) && f->name.len > 0);
        for (size_t j = 0; j < f->name.len; j++) FUZZ_ASSERT(fuzz_tchar((unsigned char)f->name.ptr[j]));
        FUZZ_ASSERT(fuzz_in(f->value, lo, hi));
        for (size_t j = 0; j < f->value.len; j++) {
            unsigned char c = (unsigned char)f->value.ptr[j];
            FUZZ_ASSERT(c == '\t' || (c >= 0x20 && c != 0x7f));
        }
        if (f->value.len) {
            char a = f->value.ptr[0], z = f->value.ptr[f->value.len - 1];
            FUZZ_ASSERT(a != ' ' && a != '\t' && z != ' ' && z != '\t');
        }
    }
}

#define FUZZ_KNOWN_FLAGS                                                                          \
    (LG_HEAD_KEEP_ALIVE | LG_HEAD_EXPECT_CONTINUE | LG_HEAD_EXPECT_OTHER | LG_HEAD_UPGRADE |      \
     LG_HEAD_CONNECTION_CLOSE)

/* What any successful head parse must satisfy: n bytes taken out of len,
 * within the limit, every slice inside those bytes. */
static inline void fuzz_check_head_common(const lg_head *h, const char *buf, size_t len, int n, size_t max_head)
{
    if (max_head == 0) max_head = LG_DEFAULT_MAX_HEAD;
    FUZZ_ASSERT((size_t)n <= len && (size_t)n <= max_head);
    /* a head ends with an empty line */
    FUZZ_ASSERT(n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0);
    fuzz_check_fields(h, buf, buf + n);
    FUZZ_ASSERT(h->version_minor <= 1);
    FUZZ_ASSERT((h->flags & ~FUZZ_KNOWN_FLAGS) == 0);
    FUZZ_ASSERT(!((h->flags & LG_HEAD_KEEP_ALIVE) && (h->flags & LG_HEAD_CONNECTION_CLOSE)));
    if (h->framing == LG_FRAMING_LENGTH)
        FUZZ_ASSERT(h->content_length > 0 && h->content_length <= UINT64_C(0x7fffffffffffffff));
    if (h->framing == LG_FRAMING_CLOSE || h->framing == LG_FRAMING_TUNNEL)
        FUZZ_ASSERT(!(h->flags & LG_HEAD_KEEP_ALIVE));
}

/* ---------------------------------------------------------------------------
 * Body decoding
 * ------------------------------------------------------------------------ */

typedef struct fuzz_body {
    int result;        /* DONE offset, a codec error, or FUZZ_BODY_OPEN */
    size_t data_len;
    char *data;        /* the caller's buffer, at least len bytes */
    uint16_t trailers;
} fuzz_body;

#define FUZZ_BODY_OPEN (-1000)

/* Decodes in[0..len) arriving in pieces ending at cut (0: one piece). Each
 * call sees its unconsumed bytes copied to the very end of `scratch` (a
 * heap block of exactly len bytes), so ASan catches a read past them. */
static inline void fuzz_run_body(const lg_head *head, const char *in, size_t len, size_t cut, int keep_trailers,
                                 uint16_t max_trailer_bytes, char *scratch, fuzz_body *out)
{
    lg_header tv[4];
    lg_head trailers = { .headers = tv, .max_headers = 4 };
    lg_body_reader r;
    lg_body_reader_init(&r, head);
    if (keep_trailers) r.trailers = &trailers;
    r.max_trailer_bytes = max_trailer_bytes;

    out->result = FUZZ_BODY_OPEN;
    out->data_len = 0;
    out->trailers = 0;
    size_t base = 0;
    size_t cuts[2] = { cut, len };
    for (int i = cut && cut < len ? 0 : 1; i < 2; i++) {
        size_t fed = cuts[i];
        for (;;) {
            size_t n = fed - base, used;
            char *p = scratch + len - n;
            memmove(p, in + base, n);
            lg_str d;
            int ev = lg_body_read(&r, p, n, &used, &d);
            if (ev < 0) {
                FUZZ_ASSERT(fuzz_is_codec_error(ev));
                out->result = ev;
                return;
            }
            FUZZ_ASSERT(used <= n);
            base += used;
            if (ev == LG_BODY_DATA) {
                /* progress is guaranteed: data is never empty */
                FUZZ_ASSERT(d.len > 0 && fuzz_in(d, p, p + used));
                memcpy(out->data + out->data_len, d.ptr, d.len);
                out->data_len += d.len;
                if (head->framing == LG_FRAMING_LENGTH) FUZZ_ASSERT(out->data_len <= head->content_length);
                continue;
            }
            FUZZ_ASSERT(d.len == 0);
            if (ev == LG_BODY_NEED_MORE) break;
            FUZZ_ASSERT(ev == LG_BODY_DONE);
            FUZZ_ASSERT(lg_body_reader_done(&r) && lg_body_reader_eof(&r) == LG_OK);
            if (head->framing == LG_FRAMING_LENGTH) FUZZ_ASSERT(out->data_len == head->content_length);
            if (head->framing == LG_FRAMING_NONE || head->framing == LG_FRAMING_TUNNEL)
                FUZZ_ASSERT(base == 0 && out->data_len == 0);
            FUZZ_ASSERT(head->framing != LG_FRAMING_CLOSE);
            if (keep_trailers) {
                fuzz_check_fields(&trailers, p, p + used);
                out->trailers = trailers.num_headers;
            }
            out->result = (int)base;
            return;
        }
    }
    /* The input ran out before the body did. */
    FUZZ_ASSERT(!lg_body_reader_done(&r));
    FUZZ_ASSERT(lg_body_reader_eof(&r) == (head->framing == LG_FRAMING_CLOSE ? LG_OK : LG_ERR_CLOSED_EARLY));
    if (head->framing == LG_FRAMING_CLOSE) FUZZ_ASSERT(out->data_len == len);
}

/* The trailer section, like a head fed with prev_len, is only fully parsed
 * once a line end arrives, so a malformed field line in an unfinished
 * section may show as "need more" in one arrival pattern and as the error in
 * another. Nothing else may differ. */
static inline int fuzz_same_ending(int a, int b)
{
    if (a == b) return 1;
    int e = a == FUZZ_BODY_OPEN ? b : b == FUZZ_BODY_OPEN ? a : 0;
    return e == LG_ERR_HEADER_NAME || e == LG_ERR_HEADER_VALUE || e == LG_ERR_SPACE_BEFORE_COLON ||
           e == LG_ERR_OBS_FOLD || e == LG_ERR_LINE_ENDING || e == LG_ERR_TOO_MANY_HEADERS;
}

/* The same body whole and in two pieces gives the same data and the same
 * ending; with trailers kept or skipped too (unless keeping them overflowed
 * the caller's array). */
static inline void fuzz_body_every_way(const lg_head *head, const char *in, size_t len, size_t cut,
                                       uint16_t max_trailer_bytes)
{
    char *scratch = malloc(len ? len : 1);
    char *d1 = malloc(len ? len : 1), *d2 = malloc(len ? len : 1);
    fuzz_body a = { .data = d1 }, b = { .data = d2 };
    fuzz_run_body(head, in, len, 0, 1, max_trailer_bytes, scratch, &a);
    fuzz_run_body(head, in, len, cut, 0, max_trailer_bytes, scratch, &b);
    if (a.result != LG_ERR_TOO_MANY_HEADERS) FUZZ_ASSERT(fuzz_same_ending(a.result, b.result));
    FUZZ_ASSERT(a.data_len == b.data_len && memcmp(d1, d2, a.data_len) == 0);
    fuzz_run_body(head, in, len, cut, 1, max_trailer_bytes, scratch, &b);
    FUZZ_ASSERT(fuzz_same_ending(a.result, b.result));
    if (a.result >= 0) FUZZ_ASSERT(a.trailers == b.trailers);
    FUZZ_ASSERT(a.data_len == b.data_len && memcmp(d1, d2, a.data_len) == 0);
    free(scratch);
    free(d1);
    free(d2);
}

/* Parsing a prefix of k bytes, then the whole with prev_len = k, agrees with
 * parsing the whole at once: a complete head or an error found in a prefix
 * stands; "need more" may only stay so while the whole is an error. */
typedef int (*fuzz_parse_fn)(lg_head *h, const char *buf, size_t len, size_t prev_len, size_t max_head, int method);

static inline void fuzz_check_prefix(fuzz_parse_fn fn, const char *buf, size_t len, size_t k, size_t max_head,
                                     int method, int whole)
{
    lg_header hv[FUZZ_MAX_HEADERS];
    lg_head h = { .headers = hv, .max_headers = FUZZ_MAX_HEADERS };
    int r1 = fn(&h, buf, k, 0, max_head, method);
    if (r1 != 0) {
        FUZZ_ASSERT(r1 == whole);
        return;
    }
    int r2 = fn(&h, buf, len, k, max_head, method);
    FUZZ_ASSERT(r2 == whole || (r2 == 0 && whole < 0));
}

#endif
