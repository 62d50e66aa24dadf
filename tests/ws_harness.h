/* Feeding the WebSocket frame parser every way its input can arrive: whole,
 * in two pieces cut at every byte, in three cut at every pair of bytes
 * (short inputs), a byte at a time; each call's bytes at the end of a
 * guard page (an over-read crashes) and, for the single cuts, at the start
 * of one (a read before the buffer crashes). The caller in between keeps
 * what was not consumed and presents it again with the next piece, as
 * lg_ws_parse asks.
 *
 * What the parser said becomes a trace, the same whatever the pieces:
 *   "[1 5m]"   a frame: opcode (hex), "-" without FIN, "r<hex>" for RSV
 *              bits, the payload length, "m" when masked
 *   "Hello"    payload bytes (the DATA events, joined); \xHH for bytes
 *              outside printable ASCII, "\\" for a backslash
 *   "."        the end of a frame
 * and an error stops it. Every event is checked on the way: slices inside
 * the consumed bytes, FRAME, DATA and FRAME_END in order, DATA never empty,
 * a control frame's payload in one piece, a frame's DATA adding up to its
 * length. */
#ifndef LG_WS_HARNESS_H
#define LG_WS_HARNESS_H

#include <stdint.h>

#include "guard.h"
#include "linger_ws.h"
#include "test.h"

typedef struct ws_trace {
    char *s;
    size_t len, cap;
} ws_trace;

static inline void trace_add(ws_trace *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (t->len + n + 1 > cap) cap *= 2;
        t->s = realloc(t->s, cap);
        if (!t->s) exit(2);
        t->cap = cap;
    }
    if (n) memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = 0;
}

static inline void trace_bytes(ws_trace *t, const void *data, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = data;
    trace_add(t, "", 0); /* allocated */
    if (t->len + 4 * n + 1 > t->cap) { /* room for the longest form */
        while (t->len + 4 * n + 1 > t->cap) {
            t->cap *= 2;
            t->s = realloc(t->s, t->cap);
            if (!t->s) exit(2);
        }
    }
    char *o = t->s + t->len;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\') {
            *o++ = '\\';
            *o++ = '\\';
        } else if (p[i] >= 0x20 && p[i] < 0x7f) {
            *o++ = (char)p[i];
        } else {
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[p[i] >> 4];
            *o++ = hex[p[i] & 15];
        }
    }
    t->len = (size_t)(o - t->s);
    t->s[t->len] = 0;
}

static inline void trace_frame(ws_trace *t, const lg_ws_frame *f)
{
    char e[64];
    int n = sprintf(e, "[%x%s", f->opcode, f->flags & LG_WS_FIN ? "" : "-");
    if (f->flags & 0x70) n += sprintf(e + n, "r%x", (f->flags >> 4) & 7);
    n += sprintf(e + n, " %lu%s]", (unsigned long)f->length, f->masked ? "m" : "");
    trace_add(t, e, (size_t)n);
}

typedef struct ws_run {
    ws_trace trace;
    int result;      /* LG_WS_NEED_MORE when the input ran out, else the error */
    size_t error_at; /* the bytes fed when the error came */
    size_t leftover; /* bytes not consumed at the end */
    int bad;         /* broken event rules (reported as they happen) */
} ws_run;

typedef struct ws_feed_opts {
    unsigned flags;             /* lg_ws_parser_init's */
    uint64_t max_message_bytes; /* 0: the default */
    int front;                  /* place the bytes at the start of a page */
} ws_feed_opts;

#define WS_BAD(run, ...)                                                                    \
    do {                                                                                    \
        if ((run)->bad++ < 3) {                                                             \
            fprintf(stderr, "  event rule: ");                                              \
            fprintf(stderr, __VA_ARGS__);                                                   \
            fprintf(stderr, "\n");                                                          \
        }                                                                                   \
    } while (0)

/* Feeds in[0..len) in pieces ending at cuts[0..ncuts) (ascending, each
 * below len) and at len. */
static inline void ws_feed(const char *in, size_t len, const size_t *cuts, size_t ncuts,
                           const ws_feed_opts *o, guard_buf *g, ws_run *run)
{
    lg_ws_parser p;
    lg_ws_parser_init(&p, o->flags, o->max_message_bytes);
    char *pending = malloc(len + 1);
    size_t have = 0, fed = 0;
    int in_frame = 0;
    uint64_t delivered = 0;
    memset(run, 0, sizeof *run);
    trace_add(&run->trace, "", 0);
    for (size_t piece = 0; piece <= ncuts; piece++) {
        size_t upto = piece < ncuts ? cuts[piece] : len;
        memcpy(pending + have, in + fed, upto - fed);
        have += upto - fed;
        fed = upto;
        for (int calls = 0;; calls++) {
            if (calls > 100000) {
                WS_BAD(run, "no progress");
                goto out;
            }
            char *b = o->front ? guard_place_front(g, pending, have) : guard_place(g, pending, have);
            size_t used = 12345;
            lg_str d = { "x", 1 };
            int ev = lg_ws_parse(&p, b, have, &used, &d);
            if (ev < 0) {
                run->result = ev;
                run->error_at = fed;
                /* the error stays */
                size_t u2;
                lg_str d2;
                if (lg_ws_parse(&p, b, have, &u2, &d2) != ev) WS_BAD(run, "error not kept");
                goto out;
            }
            if (used > have) WS_BAD(run, "consumed %lu of %lu", (unsigned long)used, (unsigned long)have);
            if (ev != LG_WS_DATA && (d.ptr || d.len)) WS_BAD(run, "data with event %d", ev);
            switch (ev) {
            case LG_WS_FRAME:
                if (in_frame) WS_BAD(run, "a frame inside a frame");
                if (used < 2 || used > LG_WS_MAX_HEADER) WS_BAD(run, "header of %lu", (unsigned long)used);
                if (p.remaining != p.frame.length) WS_BAD(run, "remaining at the start");
                in_frame = 1;
                delivered = 0;
                trace_frame(&run->trace, &p.frame);
                break;
            case LG_WS_DATA:
                if (!in_frame) WS_BAD(run, "data outside a frame");
                if (d.ptr != b || d.len != used || d.len == 0) WS_BAD(run, "data is not what was consumed");
                if ((p.frame.opcode & 8) && d.len != p.frame.length) WS_BAD(run, "control payload in pieces");
                delivered += d.len;
                if (delivered + p.remaining != p.frame.length) WS_BAD(run, "remaining does not add up");
                trace_bytes(&run->trace, d.ptr, d.len);
                break;
            case LG_WS_FRAME_END:
                if (!in_frame) WS_BAD(run, "end outside a frame");
                if (used != 0) WS_BAD(run, "end consumed bytes");
                if (delivered != p.frame.length) WS_BAD(run, "end before the payload");
                in_frame = 0;
                trace_add(&run->trace, ".", 1);
                break;
            case LG_WS_NEED_MORE:
                break;
            default:
                WS_BAD(run, "event %d", ev);
                goto out;
            }
            /* keep what was not consumed (as the parser left it) */
            memmove(pending, b + used, have - used);
            have -= used;
            if (ev == LG_WS_NEED_MORE) break;
        }
    }
    run->result = LG_WS_NEED_MORE;
    run->leftover = have;
out:
    free(pending);
}

/* What one case must give:
 *   trace     the trace, fed a byte at a time (for an error, up to it;
 *             other arrivals may have delivered less of the last frame's
 *             payload by then, never more)
 *   result    LG_WS_NEED_MORE or the error
 *   decide_at for an error: the bytes that must have arrived for it to be
 *             reported; it comes with the first piece that brings them
 *   leftover  bytes left unconsumed at the end (a partial frame) */
typedef struct ws_expect {
    const char *trace;
    int result;
    size_t decide_at;
    size_t leftover;
} ws_expect;

static inline int ws_check_run(const char *name, const char *how, const ws_run *run,
                               const ws_expect *e, size_t first_cut_at_decision, int exact)
{
    int bad = run->bad;
    if (run->result != e->result) {
        fprintf(stderr, "  %s (%s): result %d (%s), expected %d (%s)\n", name, how, run->result,
                lg_err_name(run->result), e->result, lg_err_name(e->result));
        bad++;
    } else if (e->result < 0 && run->error_at != first_cut_at_decision) {
        fprintf(stderr, "  %s (%s): error after %lu bytes, expected after %lu\n", name, how,
                (unsigned long)run->error_at, (unsigned long)first_cut_at_decision);
        bad++;
    }
    int trace_ok = e->result < 0 && !exact ? strncmp(e->trace, run->trace.s, run->trace.len) == 0
                                           : strcmp(e->trace, run->trace.s) == 0;
    if (!trace_ok) {
        fprintf(stderr, "  %s (%s): trace\n    %.300s\n  expected\n    %.300s\n", name, how,
                run->trace.s, e->trace);
        bad++;
    }
    if (e->result >= 0 && run->leftover != e->leftover) {
        fprintf(stderr, "  %s (%s): %lu bytes left, expected %lu\n", name, how,
                (unsigned long)run->leftover, (unsigned long)e->leftover);
        bad++;
    }
    return bad;
}

/* The first piece boundary at or after `at` (the end counts). */
static inline size_t ws_first_cut(const size_t *cuts, size_t ncuts, size_t len, size_t at)
{
    for (size_t i = 0; i < ncuts; i++)
        if (cuts[i] >= at) return cuts[i];
    return len;
}

/* Every arrival pattern; returns the number of mismatches (at most a few
 * reported). Inputs up to `pairs_up_to` bytes are also cut at every pair
 * of points; longer ones at every point only up to `singles_up_to` bytes
 * (beyond it, at the first and last 16 bytes and about 60 points between),
 * to keep big inputs quick. */
static inline int ws_feed_every_way(const char *name, const void *input, size_t len,
                                    const ws_feed_opts *opts, const ws_expect *e)
{
    const char *in = input;
    const size_t pairs_up_to = 48, singles_up_to = 2048;
    int bad = 0;
    guard_buf g;
    guard_init(&g, len + 1);
    size_t *cuts = malloc((len + 1) * sizeof *cuts);
    ws_run run;
    char how[64];
    ws_feed_opts o = *opts;

    /* a byte at a time */
    for (size_t i = 0; i + 1 < len; i++) cuts[i] = i + 1;
    ws_feed(in, len, cuts, len ? len - 1 : 0, &o, &g, &run);
    bad += ws_check_run(name, "a byte at a time", &run, e, e->decide_at, 1);
    free(run.trace.s);

    /* whole */
    ws_feed(in, len, NULL, 0, &o, &g, &run);
    bad += ws_check_run(name, "whole", &run, e, len, 0);
    free(run.trace.s);

    /* two pieces, at the end and at the start of a page */
    size_t step = len <= singles_up_to ? 1 : len / 61 + 1; /* (a prime count of steps) */
    for (int front = 0; front <= 1 && bad < 3; front++) {
        o.front = front;
        for (size_t k = 1; k < len && bad < 3; k += (k < 16 || len - k < 16) ? 1 : step) {
            cuts[0] = k;
            ws_feed(in, len, cuts, 1, &o, &g, &run);
            sprintf(how, "cut at %lu%s", (unsigned long)k, front ? ", page start" : "");
            bad += ws_check_run(name, how, &run, e, ws_first_cut(cuts, 1, len, e->decide_at), 0);
            free(run.trace.s);
        }
    }
    o.front = 0;

    /* three pieces */
    if (len <= pairs_up_to) {
        for (size_t a = 1; a < len && bad < 3; a++) {
            for (size_t b = a + 1; b < len && bad < 3; b++) {
                cuts[0] = a;
                cuts[1] = b;
                ws_feed(in, len, cuts, 2, &o, &g, &run);
                sprintf(how, "cut at %lu and %lu", (unsigned long)a, (unsigned long)b);
                bad += ws_check_run(name, how, &run, e, ws_first_cut(cuts, 2, len, e->decide_at), 0);
                free(run.trace.s);
            }
        }
    }
    free(cuts);
    guard_free(&g);
    if (bad) fprintf(stderr, "%s: %d mismatches\n", name, bad);
    return bad;
}

/* Test inputs are written as hex bytes with 'quoted ASCII' between them:
 * "81 05 'Hello'". Returns the length written to out. */
static inline size_t ws_bytes(char *out, const char *spec)
{
    size_t n = 0;
    for (const char *s = spec; *s;) {
        if (*s == ' ') {
            s++;
        } else if (*s == '\'') {
            for (s++; *s && *s != '\''; s++) out[n++] = *s;
            if (*s) s++;
        } else {
            unsigned v;
            if (sscanf(s, "%2x", &v) != 1) {
                fprintf(stderr, "ws_bytes: bad spec at \"%s\"\n", s);
                exit(2);
            }
            out[n++] = (char)v;
            s += 2;
        }
    }
    return n;
}

#endif
