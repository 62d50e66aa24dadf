/* libFuzzer target: the whole client on the response side. The input is
 * what a server sends, delivered by the fault injector in pieces chosen by
 * the input, ending in EOF, a reset or silence; the client runs one request
 * to completion (virtual time makes its timeouts instant).
 *
 * Input: byte 0 picks the request (GET, HEAD, POST with a small body,
 * streamed to on_body or buffered, a small body limit), byte 1 the piece
 * size (0: all at once) and EAGAIN between pieces, byte 2 the ending; the
 * rest is the server's bytes.
 *
 * Asserted on every input: the callback runs exactly once; the run ends
 * (no hang); the error is a known code; a success is a complete final
 * response (status >= 200, stage DONE, a Content-Length body of exactly
 * its length, buffered bodies NUL-terminated); a failure names a stage
 * before DONE; never more body bytes than the server sent. ASan and
 * LeakSanitizer check memory. */
#include <stdlib.h>
#include <string.h>

#include "fault/fault_net.h"
#include "fuzz_check.h"
#include "loop_internal.h"

static fault_net FN;

typedef struct seen {
    int calls, err, stage, status, framing;
    uint64_t body_bytes, content_length, streamed;
    size_t body_len;
    int nul_ok;
} seen;

static void on_response(lg_response *res, void *user)
{
    seen *s = user;
    s->calls++;
    s->err = res->err;
    s->stage = res->stage;
    s->status = res->status;
    s->framing = res->framing;
    s->body_bytes = res->body_bytes;
    s->content_length = res->content_length;
    s->body_len = res->body.len;
    s->nul_ok = res->body.ptr && res->body.ptr[res->body.len] == 0;
}

static int on_body(lg_response *res, lg_str chunk, void *user)
{
    seen *s = user;
    (void)res;
    FUZZ_ASSERT(chunk.len > 0 && chunk.ptr);
    s->streamed += chunk.len;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    uint8_t mode = data[0], piece = data[1], end = data[2];
    const char *in = (const char *)data + 3;
    size_t len = size - 3;

    fault_net_free(&FN);
    fault_net_init(&FN);
    lg_loop *loop = fault_loop_new(&FN);
    lg_client_config cfg = { .max_head_bytes = (mode & 0x40) ? 256 : 0, .max_headers = 16 };
    lg_client *cli = lg_client_new(loop, &cfg);
    fault_sock script = { 0 };
    script.in = in;
    script.in_len = len;
    script.in_piece = piece & 0x7f;
    script.in_again = piece >> 7;
    script.in_end = end % 3; /* silent, EOF, reset */
    fault_expect_connect(&FN, &script);

    static const char *const methods[] = { "GET", "HEAD", "POST", "PUT" };
    lg_request req = { .method = methods[mode & 3], .url = "http://10.0.0.1:8080/f?z=1",
                       .flags = LG_FETCH_NO_REDIRECTS };
    if ((mode & 3) >= 2) {
        req.body = "0123456789abcdef";
        req.body_len = 16;
    }
    if (mode & 0x04) req.on_body = on_body;
    if (mode & 0x08) req.max_body_bytes = 64;
    if (mode & 0x10) req.flags |= LG_FETCH_EXPECT_CONTINUE;
    if (mode & 0x20) req.flags &= ~(uint32_t)LG_FETCH_NO_REDIRECTS; /* the next connect is refused */

    seen s;
    memset(&s, 0, sizeof s);
    FUZZ_ASSERT(lg_fetch(cli, &req, on_response, &s) != NULL);
    FUZZ_ASSERT(s.calls == 0);
    for (int i = 0; i < 200000 && !s.calls; i++) {
        int before = FN.stalled_waits;
        lg_loop_run_once(loop, -1);
        FUZZ_ASSERT(FN.stalled_waits == before); /* a hang: nothing could ever happen */
    }
    FUZZ_ASSERT(s.calls == 1);
    lg_client_free(cli);
    FUZZ_ASSERT(fault_run(loop, 200000) > 0);
    /* The client gives up gracefully (nothing here cancels): never a
     * reset; input left unread only when the linger's bounds ran out, or
     * when it came late after a complete answer that closed at once. */
    const lg_loop_stats *st = lg_loop_get_stats(loop);
    fault_sock *k = fault_connected(&FN, 0);
    if (k) {
        FUZZ_ASSERT(!k->aborted);
        FUZZ_ASSERT(!k->closed_with_unread || st->linger_timeouts || st->linger_overflows ||
                    (k->closed_before_input && st->closes_at_once));
    }
    lg_loop_free(loop);
    FUZZ_ASSERT(s.calls == 1);

    FUZZ_ASSERT(strcmp(lg_err_name(s.err), "LG_ERR_UNKNOWN") != 0);
    FUZZ_ASSERT(s.body_bytes <= len);
    if (s.err == LG_OK) {
        FUZZ_ASSERT(s.stage == LG_STAGE_DONE);
        FUZZ_ASSERT(s.status >= 200 && s.status <= 999);
        if (s.framing == LG_FRAMING_LENGTH) FUZZ_ASSERT(s.body_bytes == s.content_length);
        if (s.framing == LG_FRAMING_NONE) FUZZ_ASSERT(s.body_bytes == 0);
        if (req.on_body) FUZZ_ASSERT(s.streamed == s.body_bytes && s.body_len == 0);
        else FUZZ_ASSERT(s.body_len == s.body_bytes && s.nul_ok);
        if (req.max_body_bytes && !req.on_body) FUZZ_ASSERT(s.body_bytes <= 64);
    } else {
        FUZZ_ASSERT(s.stage < LG_STAGE_DONE || s.err == LG_ERR_REFUSED || s.err == LG_ERR_URL ||
                    s.err == LG_ERR_REDIRECTS);
        if (s.stage <= LG_STAGE_HEAD) FUZZ_ASSERT(s.status == 0);
    }
    return 0;
}
