/* Feeding a codec input every way it can arrive: whole; every prefix on its
 * own; and grown one byte at a time with prev_len, as a server would. Each
 * input sits at the end of a guard page, so an over-read crashes; every
 * prefix is also parsed at the very start of a page after a guard page, so
 * a read before the buffer crashes too. */
#ifndef LG_CODEC_HARNESS_H
#define LG_CODEC_HARNESS_H

#include "guard.h"
#include "linger.h"
#include "test.h"

typedef int (*head_parse_fn)(lg_head *h, const char *buf, size_t len, size_t prev_len,
                             size_t max_head, int request_method);

static inline int parse_req_adapter(lg_head *h, const char *buf, size_t len, size_t prev,
                                    size_t max, int unused)
{
    (void)unused;
    return lg_parse_request(h, buf, len, prev, max);
}

static inline int parse_resp_adapter(lg_head *h, const char *buf, size_t len, size_t prev,
                                     size_t max, int method)
{
    return lg_parse_response(h, buf, len, prev, max, method);
}

#define HARNESS_MAX_HEADERS 64

/* Runs the parser over `input` in every arrival pattern and checks that each
 * gives `expect` once the input is all there, and only 0 (need more) or that
 * same error before. Leaves the whole-input result in *out (headers in hv).
 * Returns the number of mismatches. */
static inline int feed_head_every_way(head_parse_fn fn, const char *name, const char *input,
                                      size_t len, size_t max_head, int method, int expect,
                                      lg_head *out, lg_header *hv, size_t max_headers)
{
    int bad = 0;
    guard_buf g;
    guard_init(&g, len + 1);
    lg_header scratch[HARNESS_MAX_HEADERS];
    size_t cap = max_headers < HARNESS_MAX_HEADERS ? max_headers : HARNESS_MAX_HEADERS;

    /* The result a prefix of k bytes must give. */
    for (size_t k = 0; k <= len; k++) {
        lg_head h = { .headers = scratch, .max_headers = (uint16_t)cap };
        const char *p = guard_place(&g, input, k);
        int r = fn(&h, p, k, 0, max_head, method);
        int ok;
        if (k == len || (expect > 0 && (size_t)expect <= k)) ok = r == expect;
        else ok = r == 0 || (expect < 0 && r == expect);
        if (!ok) {
            if (bad++ < 3)
                fprintf(stderr, "  %s: prefix %lu/%lu gave %d (%s), expected %d\n", name,
                        (unsigned long)k, (unsigned long)len, r,
                        r < 0 ? lg_err_name(r) : "", expect);
        }
    }

    /* The same prefixes right after an unreadable page. */
    for (size_t k = 0; k <= len; k++) {
        lg_head h = { .headers = scratch, .max_headers = (uint16_t)cap };
        const char *p = guard_place_front(&g, input, k);
        int r = fn(&h, p, k, 0, max_head, method);
        int ok;
        if (k == len || (expect > 0 && (size_t)expect <= k)) ok = r == expect;
        else ok = r == 0 || (expect < 0 && r == expect);
        if (!ok) {
            if (bad++ < 3)
                fprintf(stderr, "  %s: prefix %lu/%lu at a page start gave %d (%s), expected %d\n", name,
                        (unsigned long)k, (unsigned long)len, r, r < 0 ? lg_err_name(r) : "", expect);
        }
    }

    /* Grown a byte at a time, telling the parser what it saw before. */
    {
        size_t prev = 0;
        for (size_t k = 1; k <= len; k++) {
            lg_head h = { .headers = scratch, .max_headers = (uint16_t)cap };
            const char *p = guard_place(&g, input, k);
            int r = fn(&h, p, k, prev, max_head, method);
            if (r != 0) {
                int ok = r == expect && (expect < 0 || (size_t)expect <= k);
                if (!ok && bad++ < 3)
                    fprintf(stderr, "  %s: growing, at %lu/%lu gave %d (%s), expected %d\n", name,
                            (unsigned long)k, (unsigned long)len, r, r < 0 ? lg_err_name(r) : "", expect);
                break;
            }
            if (k == len && expect != 0) {
                if (bad++ < 3)
                    fprintf(stderr, "  %s: growing, never completed (expected %d)\n", name, expect);
            }
            prev = k;
        }
    }

    /* Whole, for the caller to inspect. The guard buffer is leaked on purpose
     * so the slices in *out stay valid for the caller's checks. */
    out->headers = hv;
    out->max_headers = (uint16_t)max_headers;
    const char *p = guard_place(&g, input, len);
    int r = fn(out, p, len, 0, max_head, method);
    if (r != expect) {
        if (bad++ < 3)
            fprintf(stderr, "  %s: whole gave %d (%s), expected %d (%s)\n", name, r,
                    r < 0 ? lg_err_name(r) : "", expect, expect < 0 ? lg_err_name(expect) : "");
    }
    return bad;
}

#endif
