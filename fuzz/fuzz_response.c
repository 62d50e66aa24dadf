/* libFuzzer target: response heads for every kind of request, chunked
 * decoding with trailers, and trailer sections on their own.
 *
 * Each input is parsed as the response to a GET, a HEAD, a CONNECT and a
 * POST (each changes the framing, RFC 9112 6.3), under a small and the
 * default head limit and in two pieces with prev_len; the body each head
 * announces is decoded over the rest, whole and in two pieces. The whole
 * input is also decoded as a chunked body directly, so the chunked decoder
 * is fuzzed even where no head parses, and parsed as a trailer section. */
#include "fuzz_check.h"

static int parse_resp(lg_head *h, const char *buf, size_t len, size_t prev_len, size_t max_head, int method)
{
    return lg_parse_response(h, buf, len, prev_len, max_head, method);
}

static void check_response(const lg_head *h, const char *buf, size_t len, int n, size_t max_head, int method)
{
    if (n <= 0) {
        FUZZ_ASSERT(n == 0 || fuzz_is_codec_error(n));
        if (n == 0) FUZZ_ASSERT(len < (max_head ? max_head : LG_DEFAULT_MAX_HEAD));
        /* a response is never "URI too long" */
        FUZZ_ASSERT(n != LG_ERR_URI_TOO_LONG);
        return;
    }
    fuzz_check_head_common(h, buf, len, n, max_head);
    FUZZ_ASSERT(h->status >= 100 && h->status <= 999);
    FUZZ_ASSERT(fuzz_in(h->reason, buf, buf + n));
    FUZZ_ASSERT(h->host.ptr == NULL && h->method.ptr == NULL && h->target.ptr == NULL);
    FUZZ_ASSERT(!(h->flags & (LG_HEAD_EXPECT_CONTINUE | LG_HEAD_EXPECT_OTHER)));
    /* RFC 9112 6.3, items 1 and 2 */
    unsigned st = h->status;
    if (st == 101 || (method == LG_METHOD_CONNECT && st / 100 == 2))
        FUZZ_ASSERT(h->framing == LG_FRAMING_TUNNEL);
    else if (st < 200 || st == 204 || st == 304 || method == LG_METHOD_HEAD)
        FUZZ_ASSERT(h->framing == LG_FRAMING_NONE);
    else
        FUZZ_ASSERT(h->framing != LG_FRAMING_TUNNEL);
    if (h->framing == LG_FRAMING_CHUNKED) FUZZ_ASSERT(h->version_minor == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    static const int methods[] = { LG_METHOD_GET, LG_METHOD_HEAD, LG_METHOD_CONNECT, LG_METHOD_POST };
    size_t cut = size ? data[0] % (size + 1) : 0;

    for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++) {
        lg_header hv[FUZZ_MAX_HEADERS];
        lg_head h = { .headers = hv, .max_headers = FUZZ_MAX_HEADERS };
        int small = lg_parse_response(&h, buf, size, 0, 48, methods[m]);
        check_response(&h, buf, size, small, 48, methods[m]);

        int whole = lg_parse_response(&h, buf, size, 0, 0, methods[m]);
        check_response(&h, buf, size, whole, 0, methods[m]);
        fuzz_check_prefix(parse_resp, buf, size, cut, 0, methods[m], whole);
        if (whole > 0) {
            size_t rest = size - (size_t)whole;
            size_t body_cut = rest ? (size_t)data[size - 1] % (rest + 1) : 0;
            fuzz_body_every_way(&h, buf + whole, rest, body_cut, (uint16_t)(m == 0 ? 0 : 32));
        }
    }

    /* The chunked decoder on raw input, with the default and a tiny trailer
     * limit. */
    lg_head chunked = { .framing = LG_FRAMING_CHUNKED };
    fuzz_body_every_way(&chunked, buf, size, cut, 0);
    fuzz_body_every_way(&chunked, buf, size, size / 2, 16);

    /* A Content-Length body of an input-chosen length. */
    lg_head length = { .framing = LG_FRAMING_LENGTH, .content_length = size ? (uint64_t)data[0] + 1 : 1 };
    fuzz_body_every_way(&length, buf, size, cut, 0);

    /* A trailer section on its own: complete, incomplete or an error, and
     * every slice inside what it took. */
    lg_header tv[8];
    lg_head t = { .headers = tv, .max_headers = 8 };
    int n = lg_parse_trailers(&t, buf, size, 0, 0);
    FUZZ_ASSERT(n == 0 || fuzz_is_codec_error(n) || (n > 0 && (size_t)n <= size));
    if (n > 0) {
        FUZZ_ASSERT(n >= 2 && memcmp(buf + n - 2, "\r\n", 2) == 0);
        fuzz_check_fields(&t, buf, buf + n);
    }
    return 0;
}
