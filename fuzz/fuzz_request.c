/* libFuzzer target: request heads, then the body they announce.
 *
 * Each input is parsed as a request head under several head limits and
 * header-array sizes, in two pieces (with prev_len) at an input-chosen split
 * and at the middle, and, when the head is complete, its body is decoded
 * over the rest of the input, whole and in two pieces. Every result is
 * checked against the invariants in fuzz_check.h. */
#include "fuzz_check.h"

static int parse_req(lg_head *h, const char *buf, size_t len, size_t prev_len, size_t max_head, int unused)
{
    (void)unused;
    return lg_parse_request(h, buf, len, prev_len, max_head);
}

static void check_request(const lg_head *h, const char *buf, size_t len, int n, size_t max_head)
{
    if (n <= 0) {
        FUZZ_ASSERT(n == 0 || fuzz_is_codec_error(n));
        /* a head can only be incomplete while it is under the limit */
        if (n == 0) FUZZ_ASSERT(len < (max_head ? max_head : LG_DEFAULT_MAX_HEAD));
        return;
    }
    const char *end = buf + n;
    fuzz_check_head_common(h, buf, len, n, max_head);
    FUZZ_ASSERT(fuzz_in(h->method, buf, end) && h->method.len > 0);
    for (size_t i = 0; i < h->method.len; i++) FUZZ_ASSERT(fuzz_tchar((unsigned char)h->method.ptr[i]));
    FUZZ_ASSERT(fuzz_in(h->target, buf, end) && h->target.len > 0);
    for (size_t i = 0; i < h->target.len; i++) {
        unsigned char c = (unsigned char)h->target.ptr[i];
        FUZZ_ASSERT(c > 0x20 && c != 0x7f);
    }
    if (h->host.ptr) FUZZ_ASSERT(fuzz_in(h->host, buf, end));
    if (h->version_minor == 1) FUZZ_ASSERT(h->host.ptr != NULL); /* RFC 9112 3.2 */
    FUZZ_ASSERT(h->framing == LG_FRAMING_NONE || h->framing == LG_FRAMING_LENGTH ||
                h->framing == LG_FRAMING_CHUNKED);
    if (h->framing == LG_FRAMING_CHUNKED) FUZZ_ASSERT(h->version_minor == 1);
    FUZZ_ASSERT((h->target_form == LG_TARGET_AUTHORITY) == (h->method_id == LG_METHOD_CONNECT));
    if (h->target_form == LG_TARGET_ASTERISK) FUZZ_ASSERT(h->method_id == LG_METHOD_OPTIONS);
    if (h->target_form == LG_TARGET_ORIGIN) FUZZ_ASSERT(h->target.ptr[0] == '/');
    if (h->target_form == LG_TARGET_ABSOLUTE) {
        /* RFC 9112 3.2.2: host is the target's authority, not the Host
         * field; never empty, never with userinfo (RFC 9110 4.2.1, 4.2.4) */
        FUZZ_ASSERT(fuzz_in(h->host, h->target.ptr, h->target.ptr + h->target.len));
        FUZZ_ASSERT(h->host.len > 0 && !memchr(h->host.ptr, '@', h->host.len));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    static const size_t limits[] = { 0, 1, 16, 40, 100, 300 };
    lg_header hv[FUZZ_MAX_HEADERS];
    lg_head h = { .headers = hv, .max_headers = FUZZ_MAX_HEADERS };

    for (size_t i = 1; i < sizeof limits / sizeof limits[0]; i++) {
        lg_head hl = { .headers = hv, .max_headers = FUZZ_MAX_HEADERS };
        check_request(&hl, buf, size, lg_parse_request(&hl, buf, size, 0, limits[i]), limits[i]);
    }
    /* Fewer header slots than lines: LG_ERR_TOO_MANY_HEADERS, never more. */
    lg_header few[2];
    lg_head hf = { .headers = few, .max_headers = 2 };
    check_request(&hf, buf, size, lg_parse_request(&hf, buf, size, 0, 0), 0);

    int whole = lg_parse_request(&h, buf, size, 0, 0);
    check_request(&h, buf, size, whole, 0);

    size_t cut = size ? data[0] % (size + 1) : 0;
    fuzz_check_prefix(parse_req, buf, size, cut, 0, 0, whole);
    fuzz_check_prefix(parse_req, buf, size, size / 2, 0, 0, whole);

    if (whole > 0) {
        size_t rest = size - (size_t)whole;
        size_t body_cut = rest ? (size_t)data[size - 1] % (rest + 1) : 0;
        fuzz_body_every_way(&h, buf + whole, rest, body_cut, 0);
        fuzz_body_every_way(&h, buf + whole, rest, rest / 3, 24);
    }
    return 0;
}
