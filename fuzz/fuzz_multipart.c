/*
 * The multipart/form-data decoder on arbitrary bytes: the input's first
 * byte picks the limits and how the rest is cut; the rest is the body
 * under "boundary=XyZ". The same body fed whole and a byte at a time (and
 * in the picked pieces) must give the same events and content, every data
 * slice must lie inside what was presented, nothing may be consumed past
 * it, and an error must stay (the decoder returns it again).
 */
#include "fuzz_check.h"

typedef struct run_result {
    char trace[4096]; /* events, with each part's fields and content hashed */
    size_t len;
    uint64_t content_hash;
    int result; /* the last event or error, or the finish code */
} run_result;

static void note(run_result *r, const char *fmt, uint64_t v)
{
    int n = snprintf(r->trace + r->len, sizeof r->trace - r->len, fmt, (unsigned long long)v);
    if (n > 0 && (size_t)n < sizeof r->trace - r->len) r->len += (size_t)n;
}

static uint64_t hash(uint64_t h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static void run(const char *body, size_t len, size_t step, uint32_t parts, uint16_t hdr,
                run_result *r)
{
    memset(r, 0, sizeof *r);
    r->content_hash = 1469598103934665603ull;
    lg_multipart mp;
    static const char ct[] = "multipart/form-data; boundary=XyZ";
    lg_str cts = { ct, sizeof ct - 1 };
    FUZZ_ASSERT(lg_multipart_init(&mp, cts, parts, hdr) == LG_OK);
    char *buf = malloc(len + 1);
    size_t have = 0, fed = 0;
    int in_part = 0;
    for (;;) {
        size_t take = step == 0 || len - fed < step ? len - fed : step;
        memcpy(buf + have, body + fed, take);
        have += take;
        fed += take;
        size_t off = 0;
        int e;
        for (;;) {
            size_t used = (size_t)-1;
            lg_multipart_event ev;
            e = lg_multipart_parse(&mp, buf + off, have - off, &used, &ev);
            FUZZ_ASSERT(used <= have - off);
            if (e < 0) {
                size_t again;
                FUZZ_ASSERT(lg_multipart_parse(&mp, buf + off, have - off, &again, &ev) == e);
                FUZZ_ASSERT(lg_err_http_status(e) == 400 || lg_err_http_status(e) == 413);
                note(r, "!%llu", (uint64_t)-e);
                r->result = e;
                free(buf);
                return;
            }
            if (e == LG_MP_DATA) {
                FUZZ_ASSERT(in_part && ev.data.len > 0 && ev.data.ptr >= buf + off &&
                            ev.data.ptr + ev.data.len <= buf + off + used);
                r->content_hash = hash(r->content_hash, ev.data.ptr, ev.data.len);
            } else if (e == LG_MP_PART) {
                FUZZ_ASSERT(!in_part && ev.name.ptr != NULL);
                FUZZ_ASSERT(ev.headers.ptr >= buf + off &&
                            ev.headers.ptr + ev.headers.len <= buf + off + used);
                FUZZ_ASSERT(ev.name.ptr >= ev.headers.ptr &&
                            ev.name.ptr + ev.name.len <= ev.headers.ptr + ev.headers.len);
                in_part = 1;
                note(r, "P%llx", hash(hash(1, ev.name.ptr, ev.name.len),
                                      ev.filename.ptr ? ev.filename.ptr : "-",
                                      ev.filename.ptr ? ev.filename.len : 1));
            } else if (e == LG_MP_PART_END) {
                FUZZ_ASSERT(in_part);
                in_part = 0;
                note(r, "E%llx", r->content_hash);
                r->content_hash = 1469598103934665603ull;
            } else if (e == LG_MP_DONE) {
                FUZZ_ASSERT(!in_part && used == have - off);
                FUZZ_ASSERT(lg_multipart_finish(&mp) == LG_OK);
            }
            off += used;
            if (e == LG_MP_NEED_MORE || e == LG_MP_DONE) break;
        }
        memmove(buf, buf + off, have - off);
        have -= off;
        if (fed == len) {
            if (e == LG_MP_DONE) {
                note(r, "$%llu", 0);
                r->result = LG_OK;
            } else {
                r->result = lg_multipart_finish(&mp);
                FUZZ_ASSERT(r->result == LG_ERR_MULTIPART_TRUNCATED);
                note(r, "?%llx", r->content_hash);
            }
            free(buf);
            return;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t how = data[0];
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    uint32_t parts = (how & 3) ? (how & 3) : 0;            /* 1..3, or the default */
    uint16_t hdr = (how & 4) ? 48 : 0;                       /* tight, or the default */
    size_t step = (how >> 3) & 15;                           /* 0: whole */
    run_result whole, bytes, pieces;
    run(body, len, 0, parts, hdr, &whole);
    run(body, len, 1, parts, hdr, &bytes);
    run(body, len, step, parts, hdr, &pieces);
    FUZZ_ASSERT(whole.result == bytes.result && whole.result == pieces.result);
    FUZZ_ASSERT(strcmp(whole.trace, bytes.trace) == 0 && strcmp(whole.trace, pieces.trace) == 0);
    return 0;
}
