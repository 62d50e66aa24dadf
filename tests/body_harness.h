/* Feeding a body decoder every way its input can arrive, as a caller of
 * lg_body_read must: whole; in two pieces split at every offset; one byte at
 * a time; and truncated at every offset, then EOF. Bytes the reader leaves
 * unconsumed are presented again with the next piece, as the API requires,
 * and every call sees its input at the very end of a guard page (and, in
 * one more whole and one more byte-at-a-time run, at the very start of a
 * page after a guard page).
 *
 * Each run checks the event stream itself (consumed <= len, DATA non-empty
 * and inside the consumed prefix, NEED_MORE stable when called again, DONE
 * sticky) and returns what it saw, for the caller to compare with what the
 * input must give. */
#ifndef LG_BODY_HARNESS_H
#define LG_BODY_HARNESS_H

#include "guard.h"
#include "linger.h"
#include "test.h"

/* The body never ends within the input: close-delimited, or truncated. */
#define BODY_OPEN (-999)

typedef struct body_case {
    const char *name;
    int framing;
    unsigned long long content_length;
    const char *input;
    size_t len;
    int expect;          /* offset where the body ends (DONE), an lg_err, or BODY_OPEN */
    const char *body;    /* every DATA byte, in order (up to the error, for errors) */
    size_t body_len;
    const char *trailers; /* "Name: value\n" per trailer; NULL: none expected */
    uint16_t max_trailer_bytes;
} body_case;

typedef struct body_run {
    int result;          /* as body_case.expect */
    char *data;          /* malloc'd, len + 1 bytes */
    size_t data_len;
    char trailers[2048];
    int eof;             /* lg_body_reader_eof after the last call */
    int done;            /* lg_body_reader_done after the last call */
    int bad;             /* event-stream invariants broken */
} body_run;

#define BODY_HARNESS_TRAILERS 64

static inline void body_report(const body_case *c, const char *how, const char *what)
{
    fprintf(stderr, "  %s: %s: %s\n", c->name, how, what);
}

/* Runs the reader over input[0..cuts[n-1]) arriving in pieces ending at each
 * cut. With keep_trailers, r->trailers is set and what it got is recorded. */
static inline const char *body_place(guard_buf *g, const char *data, size_t len, int front)
{
    return front ? guard_place_front(g, data, len) : guard_place(g, data, len);
}

static inline void body_run_cuts(const body_case *c, guard_buf *g, const size_t *cuts, size_t ncuts,
                                 int keep_trailers, int front, body_run *out)
{
    lg_head head;
    memset(&head, 0, sizeof head);
    head.framing = (uint8_t)c->framing;
    head.content_length = c->content_length;
    lg_header tv[BODY_HARNESS_TRAILERS];
    lg_head trailers = { .headers = tv, .max_headers = BODY_HARNESS_TRAILERS };

    lg_body_reader r;
    lg_body_reader_init(&r, &head);
    if (keep_trailers) r.trailers = &trailers;
    r.max_trailer_bytes = c->max_trailer_bytes;

    out->result = BODY_OPEN;
    out->data_len = 0;
    out->trailers[0] = 0;
    out->bad = 0;
    size_t base = 0; /* input offset of the first byte not consumed */
    for (size_t i = 0; i < ncuts; i++) {
        size_t fed = cuts[i];
        for (;;) {
            size_t n = fed - base, used = 12345;
            const char *p = body_place(g, c->input + base, n, front);
            lg_str d = { "x", 99 };
            int ev = lg_body_read(&r, p, n, &used, &d);
            if (ev < 0) {
                out->result = ev;
                goto end;
            }
            if (used > n) {
                body_report(c, "run", "consumed more than given");
                out->bad++;
                goto end;
            }
            if (ev == LG_BODY_DATA) {
                if (d.len == 0 || d.ptr < p || d.ptr + d.len > p + used) {
                    body_report(c, "run", "DATA empty or outside the consumed bytes");
                    out->bad++;
                    goto end;
                }
                memcpy(out->data + out->data_len, d.ptr, d.len);
                out->data_len += d.len;
                base += used;
                continue;
            }
            if (d.len != 0) {
                body_report(c, "run", "data set on an event other than DATA");
                out->bad++;
            }
            if (ev == LG_BODY_NEED_MORE) {
                base += used;
                /* "Everything usable consumed": the same bytes again give
                 * the same answer and consume nothing. */
                size_t again;
                p = body_place(g, c->input + base, fed - base, front);
                if (lg_body_read(&r, p, fed - base, &again, &d) != LG_BODY_NEED_MORE || again != 0) {
                    body_report(c, "run", "NEED_MORE not stable");
                    out->bad++;
                }
                break;
            }
            if (ev == LG_BODY_DONE) {
                base += used;
                out->result = (int)base;
                if (keep_trailers) {
                    size_t at = 0;
                    for (size_t t = 0; t < trailers.num_headers; t++)
                        at += (size_t)snprintf(out->trailers + at, sizeof out->trailers - at,
                                               "%.*s: %.*s\n", (int)tv[t].name.len, tv[t].name.ptr,
                                               (int)tv[t].value.len, tv[t].value.ptr);
                }
                /* DONE is sticky and consumes nothing more. */
                size_t again;
                p = body_place(g, c->input + base, fed - base, front);
                if (lg_body_read(&r, p, fed - base, &again, &d) != LG_BODY_DONE || again != 0) {
                    body_report(c, "run", "DONE not sticky");
                    out->bad++;
                }
                goto end;
            }
            body_report(c, "run", "unknown event");
            out->bad++;
            goto end;
        }
    }
end:
    out->eof = lg_body_reader_eof(&r);
    out->done = lg_body_reader_done(&r);
}

/* Compares a run of the complete input with the case. */
static inline int body_check_full(const body_case *c, const body_run *run, const char *how, int keep)
{
    int bad = run->bad;
    char msg[160];
    if (run->result != c->expect) {
        snprintf(msg, sizeof msg, "result %d (%s), expected %d (%s)", run->result,
                 run->result < 0 && run->result != BODY_OPEN ? lg_err_name(run->result) : "", c->expect,
                 c->expect < 0 && c->expect != BODY_OPEN ? lg_err_name(c->expect) : "");
        body_report(c, how, msg);
        bad++;
    }
    if (run->data_len != c->body_len || memcmp(run->data, c->body, c->body_len) != 0) {
        snprintf(msg, sizeof msg, "data \"%.*s\" (%lu bytes), expected %lu bytes",
                 (int)(run->data_len < 60 ? run->data_len : 60), run->data,
                 (unsigned long)run->data_len, (unsigned long)c->body_len);
        body_report(c, how, msg);
        bad++;
    }
    if (c->expect >= 0 && (run->eof != LG_OK || !run->done)) {
        body_report(c, how, "complete, but eof/done say otherwise");
        bad++;
    }
    if (keep && c->expect >= 0 && strcmp(run->trailers, c->trailers ? c->trailers : "") != 0) {
        fprintf(stderr, "  %s: %s: trailers \"%s\", expected \"%s\"\n", c->name, how, run->trailers,
                c->trailers ? c->trailers : "");
        bad++;
    }
    if (c->expect == BODY_OPEN) {
        int want = c->framing == LG_FRAMING_CLOSE ? LG_OK : LG_ERR_CLOSED_EARLY;
        if (run->eof != want || run->done) {
            body_report(c, how, "open body: wrong eof/done");
            bad++;
        }
    }
    return bad;
}

/* Every arrival pattern of the case. Returns the number of mismatches. */
static inline int feed_body_every_way(const body_case *c)
{
    int bad = 0;
    guard_buf g;
    guard_init(&g, c->len + 1);
    size_t *cuts = malloc((c->len + 2) * sizeof *cuts);
    body_run run;
    run.data = malloc(c->len + 1);
    char how[64];

    for (int keep = 0; keep <= 1; keep++) {
        /* Whole. */
        cuts[0] = c->len;
        body_run_cuts(c, &g, cuts, 1, keep, 0, &run);
        bad += body_check_full(c, &run, keep ? "whole, keeping trailers" : "whole", keep);

        /* Two pieces, split at every offset. */
        for (size_t k = 0; k <= c->len && bad < 4; k++) {
            cuts[0] = k;
            cuts[1] = c->len;
            body_run_cuts(c, &g, cuts, 2, keep, 0, &run);
            snprintf(how, sizeof how, "split at %lu%s", (unsigned long)k, keep ? ", keeping trailers" : "");
            bad += body_check_full(c, &run, how, keep);
        }

        /* One byte at a time (and an empty piece first). */
        for (size_t k = 0; k <= c->len; k++) cuts[k] = k;
        body_run_cuts(c, &g, cuts, c->len + 1, keep, 0, &run);
        bad += body_check_full(c, &run, keep ? "byte at a time, keeping trailers" : "byte at a time", keep);
    }

    /* Right after an unreadable page: whole, and a byte at a time. */
    cuts[0] = c->len;
    body_run_cuts(c, &g, cuts, 1, 1, 1, &run);
    bad += body_check_full(c, &run, "whole, at a page start", 1);
    for (size_t k = 0; k <= c->len; k++) cuts[k] = k;
    body_run_cuts(c, &g, cuts, c->len + 1, 1, 1, &run);
    bad += body_check_full(c, &run, "byte at a time, at a page start", 1);

    /* Truncated at every offset, then EOF: a framed body that has not ended
     * is LG_ERR_CLOSED_EARLY, never a success; a close-delimited one is all
     * data. Before the end, the reader may only need more or fail the same
     * way the whole input does. */
    for (size_t k = 0; k < c->len && bad < 4; k++) {
        cuts[0] = k;
        body_run_cuts(c, &g, cuts, 1, 0, 0, &run);
        bad += run.bad;
        int ended = c->expect >= 0 && (size_t)c->expect <= k;
        int ok;
        if (ended) ok = run.result == c->expect && run.eof == LG_OK && run.done;
        else if (run.result == BODY_OPEN)
            ok = !run.done && run.eof == (c->framing == LG_FRAMING_CLOSE ? LG_OK : LG_ERR_CLOSED_EARLY);
        else ok = run.result == c->expect && c->expect < 0 && c->expect != BODY_OPEN;
        /* What came out so far is a prefix of the body. */
        if (run.data_len > c->body_len || memcmp(run.data, c->body, run.data_len) != 0) ok = 0;
        if (!ok) {
            char msg[128];
            snprintf(msg, sizeof msg, "result %d, eof %d, done %d, %lu data bytes", run.result, run.eof,
                     run.done, (unsigned long)run.data_len);
            snprintf(how, sizeof how, "truncated at %lu", (unsigned long)k);
            body_report(c, how, msg);
            bad++;
        }
    }

    free(run.data);
    free(cuts);
    guard_free(&g);
    return bad;
}

#endif
