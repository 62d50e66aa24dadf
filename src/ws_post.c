/*
 * Sending from other threads and tasks. The only shared state is a byte
 * count (the compiler's atomics) and the loop's post queue (lg_loop_post, FIFO): the
 * posting thread copies the payload into a block with room for the
 * longest header before it; the loop's thread writes the header there,
 * masks a client's payload in place, and queues the block whole
 * (lg_stream_write_ref), so a frame is never interleaved with another and
 * never copied again. The count falls when the frame has been sent (or
 * dropped), which bounds what other threads can have waiting.
 *
 * Lifetime: lg_ws_keep keeps the lg_ws after on_close; lg_ws_release,
 * posted like a frame, lets it go after every frame its thread posted
 * before it.
 */
#include <string.h>

#include "ws_internal.h"

#if !defined(LG_NO_WEBSOCKET)

void lg_ws_keep(lg_ws *ws)
{
    ws->kept = 1;
}

static void release_now(lg_defer *d)
{
    lg_ws *ws = LG_CONTAINER_OF(d, lg_ws, release);
    ws->kept = 0;
    if (ws->freed_at_close && ws->abandoned != 1) lg__ws_free(ws);
}

void lg_ws_release(lg_ws *ws)
{
    /* Without threads (or before the connection knows its loop) this is
     * the loop's own thread. */
    if (!ws->loop || lg_loop_post(ws->loop, &ws->release, release_now) != LG_OK)
        release_now(&ws->release);
}

#if defined(LG_WS_ATOMICS)

static void posted_done(lg_write_req *req, int status)
{
    ws_block *b = (ws_block *)(void *)req;
    LG_UNUSED(status);
    lg_ws_counter_sub(&b->ws->posted, (unsigned)(b->size - sizeof *b));
    lg__ws_block_free(b);
}

/* On the loop's thread: the header in front of the payload, the payload
 * masked in place (a client's), and the block queued whole. */
static void post_arrived(lg_defer *d)
{
    ws_block *b = LG_CONTAINER_OF(d, ws_block, post);
    lg_ws *ws = b->ws;
    char *payload = b->bytes + LG_WS_MAX_HEADER;
    if (ws->state != WS_OPEN || !ws->s || !lg_stream_is_open(ws->s)) {
        posted_done(&b->req, LG_ERR_CLOSED); /* closing or closed: dropped */
        return;
    }
    char hdr[LG_WS_MAX_HEADER];
    uint8_t key[4];
    lg_writer w;
    lg_writer_init(&w, hdr, sizeof hdr);
    if (ws->client) lg__ws_random(ws, key, sizeof key);
    lg_ws_write_header(&w, b->opcode, LG_WS_FIN, b->len,
                       ws->client ? key : NULL);
    if (ws->client) lg_ws_mask(payload, payload, b->len, key, 0);
    memcpy(payload - w.len, hdr, w.len);
    size_t len = w.len + b->len;
    int rc = lg_stream_write_ref(ws->s, &b->req, payload - w.len, len, posted_done);
    if (rc) posted_done(&b->req, rc);
    else lg__ws_drained(ws); /* (the write may have emptied the queue at once) */
}

int lg_ws_post(lg_ws *ws, unsigned opcode, const void *data, size_t len)
{
    int rc = lg__ws_check_message(opcode, data, len);
    if (rc) return rc;
    if (!ws->loop) return LG_ERR_CLOSED; /* a client not open yet */
    size_t count = LG_WS_MAX_HEADER + len;
    if (count > UINT32_MAX / 2) return LG_ERR_INVALID_ARG;
    size_t before = lg_ws_counter_add(&ws->posted, (unsigned)count);
    if (before && before + count > ws->max_queued) {
        lg_ws_counter_sub(&ws->posted, (unsigned)count);
        return LG_ERR_AGAIN;
    }
    ws_block *b = lg__ws_block_new(count);
    if (!b) {
        lg_ws_counter_sub(&ws->posted, (unsigned)count);
        return LG_ERR_NOMEM;
    }
    b->ws = ws;
    b->len = len;
    b->opcode = (uint8_t)opcode;
    if (len) memcpy(b->bytes + LG_WS_MAX_HEADER, data, len);
    rc = lg_loop_post(ws->loop, &b->post, post_arrived);
    if (rc) {
        lg_ws_counter_sub(&ws->posted, (unsigned)count);
        lg__ws_block_free(b);
    }
    return rc;
}

#else

int lg_ws_post(lg_ws *ws, unsigned opcode, const void *data, size_t len)
{
    LG_UNUSED(ws);
    LG_UNUSED(opcode);
    LG_UNUSED(data);
    LG_UNUSED(len);
    return LG_ERR_UNSUPPORTED;
}

#endif /* LG_WS_ATOMICS */

#endif /* !LG_NO_WEBSOCKET */
