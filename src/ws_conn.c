/*
 * A WebSocket connection (RFC 6455) on a stream handed over after 101:
 * frames in through the codec, whole messages or pieces out to the owner,
 * pings and the keep-alive, the closing handshake and TCP's close, frames
 * out through one bounded queue, and broadcast.
 *
 * The stream's one timer is the connection's (lg_stream_set_timeout): the
 * keep-alive Ping after ping_interval of silence, the dead-peer wait after
 * it, the wait for the peer's Close, and a client's wait for the server's
 * FIN. TCP's close is always lg_stream_close, so rule 3 holds: the peer's
 * input is read until its EOF (bounded) before the socket closes, and a
 * Close from the peer, after which it may send nothing, lets the server
 * close at once (lg_stream_peer_done).
 *
 * Payload is unmasked in the stream's buffer (lg_stream_peek_writable) and
 * a message that arrived whole is handed over there; only a message that
 * spans reads is assembled, in a buffer that grows to its size (at most
 * max_message) and is freed once it was delivered.
 */
#include <string.h>

#include "ws_internal.h"
#include "assert_internal.h"

#if !defined(LG_NO_WEBSOCKET)

#if defined(__linux__)
#include <sys/random.h>
#endif

#define WS_DEFAULT_QUEUE (1u << 20)
#define WS_DEFAULT_PING 30000u
#define WS_DEFAULT_PONG 20000u
#define WS_DEFAULT_CLOSE 5000u
/* A client builds frames this small on its stack (masked copy), larger
 * ones in a block of their own. */
#define WS_SMALL_FRAME 256u

/* ---------------------------------------------------------------------------
 * Life
 * ------------------------------------------------------------------------ */

lg_ws *lg__ws_new(lg_loop *loop, const lg_ws_config *cfg, const lg_ws_callbacks *cbs, void *user,
                  int client)
{
    lg_ws *ws = lg__alloc(sizeof *ws);
    if (!ws) return NULL;
    memset(ws, 0, sizeof *ws);
    static const lg_ws_config defaults;
    if (!cfg) cfg = &defaults;
    ws->cbs = cbs;
    ws->user = user;
    ws->loop = loop;
    ws->client = (uint8_t)(client != 0);
    ws->streaming = cfg->streaming != 0;
    ws->max_message = cfg->max_message_bytes ? cfg->max_message_bytes : LG_WS_DEFAULT_MAX_MESSAGE;
    ws->max_queued = cfg->max_queued_bytes ? cfg->max_queued_bytes : WS_DEFAULT_QUEUE;
    ws->ping_interval = cfg->ping_interval_ms ? cfg->ping_interval_ms : WS_DEFAULT_PING;
    ws->pong_timeout = cfg->pong_timeout_ms ? cfg->pong_timeout_ms : WS_DEFAULT_PONG;
    ws->close_timeout = cfg->close_timeout_ms ? cfg->close_timeout_ms : WS_DEFAULT_CLOSE;
    ws->random = cfg->random;
    ws->random_user = cfg->random_user;
    ws->first_piece = 1;
    lg_ws_parser_init(&ws->parser, client ? LG_WS_CLIENT : 0, ws->max_message);
#if defined(LG_WS_ATOMICS)
    ws->posted = 0;
#endif
    return ws;
}

static void msg_free(lg_ws *ws)
{
    if (ws->msg) lg__free(ws->msg, ws->msg_cap);
    ws->msg = NULL;
    ws->msg_len = ws->msg_cap = 0;
}

void lg__ws_free(lg_ws *ws)
{
    msg_free(ws);
    lg__free(ws, sizeof *ws);
}

void lg__ws_random(lg_ws *ws, void *buf, size_t n)
{
    if (ws->random) {
        ws->random(buf, n, ws->random_user);
        return;
    }
#if defined(__linux__)
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom((char *)buf + got, n - got, 0);
        if (r <= 0) break;
        got += (size_t)r;
    }
    if (got == n) return;
#endif
    /* No source of the platform's: xorshift64*, seeded from what differs
     * between connections and runs. Not unpredictable (see lg_ws_config). */
    if (!ws->rng) {
        ws->rng = (uint64_t)(uintptr_t)ws * 0x9E3779B97F4A7C15ull;
        if (ws->loop) ws->rng ^= lg_loop_now(ws->loop) << 20;
        if (!ws->rng) ws->rng = 1;
    }
    uint8_t *p = buf;
    for (size_t i = 0; i < n; i++) {
        ws->rng ^= ws->rng >> 12;
        ws->rng ^= ws->rng << 25;
        ws->rng ^= ws->rng >> 27;
        p[i] = (uint8_t)((ws->rng * 0x2545F4914F6CDD1Dull) >> 56);
    }
}

/* ---------------------------------------------------------------------------
 * The timer
 * ------------------------------------------------------------------------ */

static uint32_t ms_or_none(uint32_t ms)
{
    return ms == LG_WS_NEVER ? 0 : ms;
}

/* What the stream's timer waits for now. */
static void arm(lg_ws *ws)
{
    if (!ws->s || !lg_stream_is_open(ws->s)) return;
    uint32_t ms = 0;
    if (ws->state == WS_OPEN) {
        if (!ws->paused) ms = ms_or_none(ws->ping_out ? ws->pong_timeout : ws->ping_interval);
    } else if (ws->state == WS_CLOSING || ws->state == WS_CLOSED_HS) {
        ms = ms_or_none(ws->close_timeout);
    }
    lg_stream_set_timeout(ws->s, ms);
}

/* ---------------------------------------------------------------------------
 * Sending
 * ------------------------------------------------------------------------ */

size_t lg__ws_frame(lg_ws *ws, char *out, unsigned opcode, const void *data, size_t len)
{
    uint8_t key[4];
    lg_writer w;
    lg_writer_init(&w, out, LG_WS_MAX_HEADER + len);
    if (ws->client) lg__ws_random(ws, key, sizeof key);
    lg_ws_write_header(&w, opcode, LG_WS_FIN, len, ws->client ? key : NULL);
    LG_ASSERT(!w.err);
    if (ws->client) lg_ws_mask(out + w.len, data, len, key, 0);
    else if (len) memcpy(out + w.len, data, len);
    return w.len + len;
}

ws_block *lg__ws_block_new(size_t frame_len)
{
    size_t size = sizeof(ws_block) + frame_len;
    ws_block *b = lg__alloc(size);
    if (!b) return NULL;
    memset(b, 0, sizeof *b);
    b->size = size;
    return b;
}

void lg__ws_block_free(ws_block *b)
{
    lg__free(b, b->size);
}

static void block_done(lg_write_req *req, int status)
{
    LG_UNUSED(status);
    lg__ws_block_free((ws_block *)(void *)req);
}

int lg__ws_queue_block(lg_ws *ws, ws_block *b, void (*done)(lg_write_req *, int))
{
    if (!done) done = block_done;
    int rc = lg_stream_write_ref(ws->s, &b->req, b->bytes, b->len, done);
    if (rc) done(&b->req, rc); /* refused before it was queued */
    return rc;
}

/* One whole frame onto the stream's queue. A server's goes out straight
 * from the caller's memory where the socket takes it (the stream copies
 * what it does not); a client's is masked into a copy. */
static int send_frame(lg_ws *ws, unsigned opcode, const void *data, size_t len)
{
    lg_stream *s = ws->s;
    int rc;
    if (!ws->client) {
        char hdr[LG_WS_MAX_HEADER];
        lg_writer w;
        lg_writer_init(&w, hdr, sizeof hdr);
        lg_ws_write_header(&w, opcode, LG_WS_FIN, len, NULL);
        lg_str parts[2] = { { hdr, w.len }, { data, len } };
        rc = lg_stream_writev(s, parts, len ? 2 : 1);
        if (rc != LG_ERR_LIMIT) return rc;
        /* Over the stream's own bound (its config's max_queued_bytes): a
         * block of our own, which that bound does not count. */
    } else if (len <= WS_SMALL_FRAME) {
        char frame[LG_WS_MAX_HEADER + WS_SMALL_FRAME];
        size_t n = lg__ws_frame(ws, frame, opcode, data, len);
        rc = lg_stream_write(s, frame, n);
        if (rc != LG_ERR_LIMIT) return rc;
    }
    ws_block *b = lg__ws_block_new(LG_WS_MAX_HEADER + len);
    if (!b) return LG_ERR_NOMEM;
    b->len = lg__ws_frame(ws, b->bytes, opcode, data, len);
    return lg__ws_queue_block(ws, b, NULL);
}

static void close_tcp(lg_ws *ws, int peer_closed);

/* What a send returns. A socket that failed (the peer reset, a send
 * timeout) ends the connection: the stream tells its owner only of
 * failures it meets itself, not of those a write call returns. */
static int sent(lg_ws *ws, int rc)
{
    if (rc == LG_OK || rc == LG_ERR_NOMEM) return rc;
    if (!ws->error) ws->error = rc;
    if (lg_stream_is_open(ws->s)) close_tcp(ws, 0);
    return LG_ERR_CLOSED;
}

int lg__ws_check_message(unsigned opcode, const void *data, size_t len)
{
    if (opcode != LG_WS_TEXT && opcode != LG_WS_BINARY) return LG_ERR_INVALID_ARG;
    if (len && !data) return LG_ERR_INVALID_ARG;
    if (opcode == LG_WS_TEXT) {
        lg_ws_utf8 v;
        lg_ws_utf8_init(&v);
        if (lg_ws_utf8_check(&v, data, len) != LG_OK || lg_ws_utf8_end(&v) != LG_OK)
            return LG_ERR_WS_UTF8;
    }
    return LG_OK;
}

static int can_send(const lg_ws *ws)
{
    return ws->state == WS_OPEN && ws->s && lg_stream_is_open(ws->s);
}

static void drain_check(lg_defer *d)
{
    lg__ws_drained(LG_CONTAINER_OF(d, lg_ws, drain_check));
}

/* The queue is full: on_drain must come once it has emptied. */
static void want_drain(lg_ws *ws)
{
    ws->want_drain = 1;
    lg_defer_call(ws->loop, &ws->drain_check, drain_check);
}

static int full(lg_ws *ws)
{
    want_drain(ws);
    return LG_ERR_AGAIN;
}

int lg_ws_send(lg_ws *ws, unsigned opcode, const void *data, size_t len)
{
    int rc = lg__ws_check_message(opcode, data, len);
    if (rc) return rc;
    if (!can_send(ws)) return LG_ERR_CLOSED;
    if (lg_stream_queued(ws->s) >= ws->max_queued) return full(ws);
    rc = sent(ws, send_frame(ws, opcode, data, len));
    /* Full now: on_drain will say when it has emptied (an owner that
     * paused its reading at this point resumes there). */
    if (rc == LG_OK && lg_stream_queued(ws->s) >= ws->max_queued) want_drain(ws);
    return rc;
}

int lg_ws_send_text(lg_ws *ws, const char *text, size_t len)
{
    return lg_ws_send(ws, LG_WS_TEXT, text, len);
}

int lg_ws_send_binary(lg_ws *ws, const void *data, size_t len)
{
    return lg_ws_send(ws, LG_WS_BINARY, data, len);
}

int lg_ws_send_ping(lg_ws *ws, const void *data, size_t len)
{
    if (len > LG_WS_MAX_CONTROL_PAYLOAD || (len && !data)) return LG_ERR_INVALID_ARG;
    if (!can_send(ws)) return LG_ERR_CLOSED;
    if (lg_stream_queued(ws->s) >= ws->max_queued) return full(ws);
    return sent(ws, send_frame(ws, LG_WS_PING, data, len));
}

/* A Pong for the Ping whose payload is in ws->ctl; with the queue full it
 * waits (one at a time: RFC 6455 5.5.3 lets the latest Ping alone be
 * answered), so a peer that pings and never reads cannot grow the queue. */
static void send_pong(lg_ws *ws)
{
    if (!can_send(ws)) return;
    if (lg_stream_queued(ws->s) >= ws->max_queued) {
        ws->pong_due = 1;
        return;
    }
    ws->pong_due = 0;
    sent(ws, send_frame(ws, LG_WS_PONG, ws->ctl, ws->ctl_len));
}

static int send_close_frame(lg_ws *ws, unsigned code, lg_str reason)
{
    char frame[LG_WS_MAX_CONTROL_FRAME];
    uint8_t key[4];
    lg_writer w;
    lg_writer_init(&w, frame, sizeof frame);
    if (ws->client) lg__ws_random(ws, key, sizeof key);
    lg_ws_write_close(&w, code, reason, ws->client ? key : NULL);
    if (w.err) return w.err;
    return lg_stream_write(ws->s, frame, w.len);
}

/* ---------------------------------------------------------------------------
 * Closing
 * ------------------------------------------------------------------------ */

/* Both Closes are seen (or the peer was failed): TCP's close. The server
 * closes first and at once, the peer having promised nothing more; a
 * client waits for the server's FIN (arm: close_timeout), unless it came. */
static void close_tcp(lg_ws *ws, int peer_closed)
{
    lg_stream *s = ws->s;
    ws->state = WS_CLOSED_HS;
    if (!lg_stream_is_open(s)) return;
    if (ws->client && peer_closed && lg_stream_ending(s) == LG_END_NONE) {
        lg_stream_read_start(s); /* (a paused reader too: the FIN must be seen) */
        arm(ws);
        return;
    }
    if (peer_closed) lg_stream_peer_done(s);
    lg_stream_close(s);
}

/* The peer broke the protocol (or we cannot go on): our Close with the
 * code, then TCP's close (RFC 6455 7.1.7); what else it sends is drained
 * by the stream's close. */
static void fail(lg_ws *ws, int err, unsigned code)
{
    if (!ws->error) ws->error = err;
    if (ws->state == WS_OPEN && lg_stream_is_open(ws->s)) send_close_frame(ws, code, LG_STR(""));
    close_tcp(ws, 0);
}

int lg_ws_close(lg_ws *ws, unsigned code, const char *reason)
{
    lg_str r = { reason ? reason : "", reason ? strlen(reason) : 0 };
    if (code && !lg_ws_close_code_valid(code)) return LG_ERR_INVALID_ARG;
    if ((r.len && !code) || r.len > LG_WS_MAX_CONTROL_PAYLOAD - 2) return LG_ERR_INVALID_ARG;
    lg_ws_utf8 v;
    lg_ws_utf8_init(&v);
    if (lg_ws_utf8_check(&v, r.ptr, r.len) != LG_OK || lg_ws_utf8_end(&v) != LG_OK)
        return LG_ERR_INVALID_ARG;
    if (ws->state == WS_CONNECTING) {
        /* on_close now (through a pointer: a server's program links
         * nothing of the client) */
        if (ws->cancel) ws->cancel(ws);
        return LG_OK;
    }
    if (ws->state != WS_OPEN || !lg_stream_is_open(ws->s)) return LG_ERR_CLOSED;
    if (send_close_frame(ws, code, r) != LG_OK) {
        if (!ws->error) ws->error = LG_ERR_CLOSED;
        close_tcp(ws, 0);
        return LG_OK;
    }
    ws->state = WS_CLOSING;
    ws->pong_due = 0;
    if (ws->paused) {
        /* The peer's Close must be read. */
        ws->paused = 0;
        lg_stream_read_start(ws->s);
        lg_stream_redeliver(ws->s);
    }
    arm(ws);
    return LG_OK;
}

/* The peer's Close came (its payload checked by the parser). */
static void peer_closed(lg_ws *ws, lg_str payload)
{
    unsigned code = LG_WS_CLOSE_NO_STATUS;
    lg_str reason = { "", 0 };
    lg_ws_parse_close(payload, &code, &reason);
    ws->close_code = (uint16_t)code;
    memcpy(ws->ctl, reason.ptr, reason.len);
    ws->ctl_len = (uint8_t)reason.len;
    ws->pong_due = 0;
    /* Answer it, echoing its code (RFC 6455 5.5.1), unless ours went first. */
    if (ws->state == WS_OPEN)
        send_close_frame(ws, code == LG_WS_CLOSE_NO_STATUS ? 0 : code, LG_STR(""));
    close_tcp(ws, 1);
}

/* ---------------------------------------------------------------------------
 * Receiving
 * ------------------------------------------------------------------------ */

static int append(lg_ws *ws, lg_str d)
{
    size_t need = ws->msg_len + d.len;
    if (need > ws->msg_cap) {
        size_t cap = ws->msg_cap ? ws->msg_cap : 256;
        while (cap < need) cap = cap <= SIZE_MAX / 2 ? cap * 2 : need;
        if (cap > ws->max_message && need <= ws->max_message) cap = (size_t)ws->max_message;
        char *p = ws->msg ? lg__realloc(ws->msg, ws->msg_cap, cap) : lg__alloc(cap);
        if (!p) return LG_ERR_NOMEM;
        ws->msg = p;
        ws->msg_cap = cap;
    }
    memcpy(ws->msg + ws->msg_len, d.ptr, d.len);
    ws->msg_len = need;
    return LG_OK;
}

/* Until the peer's Close, what it sent is delivered (after ours too: it
 * may have sent it before it saw ours). */
static int delivering(const lg_ws *ws)
{
    return ws->state == WS_OPEN || ws->state == WS_CLOSING;
}

/* Data payload: a piece to a streaming owner; else kept for the whole
 * message, or handed over where it is when it is the whole message. */
static void on_payload(lg_ws *ws, lg_str d)
{
    const lg_ws_parser *p = &ws->parser;
    int last = (p->frame.flags & LG_WS_FIN) && p->remaining == 0;
    if (!delivering(ws)) return;
    if (ws->streaming) {
        unsigned flags = (ws->first_piece ? LG_WS_FIRST : 0u) | (last ? LG_WS_LAST : 0u);
        ws->first_piece = 0;
        if (last) ws->delivered = 1;
        if (ws->cbs->on_fragment) ws->cbs->on_fragment(ws, p->message_opcode, d, flags);
        return;
    }
    if (last && ws->msg_len == 0) { /* whole in the buffer: no copy */
        ws->delivered = 1;
        if (ws->cbs->on_message) ws->cbs->on_message(ws, p->message_opcode, d);
        return;
    }
    if (append(ws, d) != LG_OK) fail(ws, LG_ERR_NOMEM, LG_WS_CLOSE_TOO_BIG);
}

static void message_end(lg_ws *ws)
{
    const lg_ws_parser *p = &ws->parser;
    if (!ws->delivered && delivering(ws)) {
        if (ws->streaming) {
            if (ws->cbs->on_fragment)
                ws->cbs->on_fragment(ws, p->message_opcode, LG_STR(""),
                                     (ws->first_piece ? LG_WS_FIRST : 0u) | LG_WS_LAST);
        } else if (ws->cbs->on_message) {
            lg_str m = { ws->msg ? ws->msg : "", ws->msg_len };
            ws->cbs->on_message(ws, p->message_opcode, m);
        }
    }
    ws->first_piece = 1;
    msg_free(ws);
}

/* One event of the parser; ctl collects a control frame's payload. */
static void on_event(lg_ws *ws, int ev, lg_str d, lg_str *ctl)
{
    const lg_ws_frame *f = &ws->parser.frame;
    int control = f->opcode >= LG_WS_CLOSE;
    if (ev == LG_WS_FRAME) {
        *ctl = LG_STR("");
        if (!control) ws->delivered = 0;
        return;
    }
    if (ev == LG_WS_DATA) {
        if (control) *ctl = d;
        else on_payload(ws, d);
        return;
    }
    /* LG_WS_FRAME_END */
    if (!control) {
        if (f->flags & LG_WS_FIN) message_end(ws);
        return;
    }
    if (f->opcode == LG_WS_PING) {
        if (ws->state != WS_OPEN) return;
        memcpy(ws->ctl, ctl->ptr, ctl->len);
        ws->ctl_len = (uint8_t)ctl->len;
        send_pong(ws);
    } else if (f->opcode == LG_WS_PONG) {
        if (delivering(ws) && ws->cbs->on_pong) ws->cbs->on_pong(ws, *ctl);
    } else if (ws->state == WS_OPEN || ws->state == WS_CLOSING) {
        peer_closed(ws, *ctl);
    }
}

static void ws_on_data(lg_stream *s)
{
    lg_ws *ws = s->data;
    size_t len;
    char empty[1];
    char *buf = lg_stream_peek_writable(s, &len);
    if (!buf) buf = empty;
    if (ws->state == WS_OPEN && len && !ws->paused) {
        ws->ping_out = 0; /* any byte shows the peer is alive */
        arm(ws);
    }
    if (ws->state == WS_CLOSED_HS && len) {
        lg_stream_consume(s, len); /* after a Close, nothing counts */
        buf = empty;
        len = 0;
    }
    /* The parse loop: stops when it needs more, when the stream closes
     * under it (nothing of the buffer may be touched then), or when the
     * owner paused. Slices handed out stay valid until the consume. */
    size_t off = 0;
    lg_str ctl = { "", 0 };
    char close_payload[LG_WS_MAX_CONTROL_PAYLOAD];
    while (lg_stream_is_open(s) && !(ws->paused && ws->state == WS_OPEN) &&
           ws->state != WS_CLOSED_HS) {
        size_t used;
        lg_str d;
        int ev = lg_ws_parse(&ws->parser, buf + off, len - off, &used, &d);
        if (ev < 0) {
            fail(ws, ev, (unsigned)lg_err_ws_close_code(ev));
            break;
        }
        off += used;
        if (ev == LG_WS_NEED_MORE) break;
        if (ev == LG_WS_FRAME_END && ws->parser.frame.opcode == LG_WS_CLOSE) {
            /* What follows a Close is ignored: the buffer is consumed
             * before the close (its payload kept), so that nothing counts
             * as unread. */
            memcpy(close_payload, ctl.ptr, ctl.len);
            ctl.ptr = close_payload;
            lg_stream_consume(s, len);
            buf = empty;
            off = len = 0;
        }
        on_event(ws, ev, d, &ctl);
    }
    if (!lg_stream_is_open(s)) return;
    if (off) lg_stream_consume(s, off);
    /* How the input ended, once what came before the end was used. */
    lg_ending end = lg_stream_ending(s);
    if (end == LG_END_NONE || (ws->paused && ws->state == WS_OPEN && lg_stream_peek(s).len)) return;
    if (ws->state == WS_OPEN || ws->state == WS_CLOSING) {
        if (!ws->error)
            ws->error = end == LG_END_EOF     ? LG_ERR_CLOSED_EARLY
                        : end == LG_END_RESET ? LG_ERR_RESET
                        : lg_stream_error(s)  ? lg_stream_error(s)
                                              : LG_ERR_IO;
    }
    ws->state = WS_CLOSED_HS;
    lg_stream_close(s);
}

static void ws_on_drain(lg_stream *s)
{
    lg_ws *ws = s->data;
    if (ws->pong_due) send_pong(ws);
    lg__ws_drained(ws);
}

void lg__ws_drained(lg_ws *ws)
{
    if (!ws->want_drain || !can_send(ws) || lg_stream_queued(ws->s)) return;
    ws->want_drain = 0;
    if (ws->cbs->on_drain) ws->cbs->on_drain(ws);
}

static void ws_on_write_error(lg_stream *s, int err)
{
    lg_ws *ws = s->data;
    if (!ws->error) ws->error = err;
    close_tcp(ws, 0);
}

static void ws_on_timeout(lg_stream *s)
{
    lg_ws *ws = s->data;
    switch (ws->state) {
    case WS_OPEN:
        if (ws->paused) return;
        if (!ws->ping_out) {
            /* Quiet for ping_interval: ask. With the queue full, the send
             * timeout watches the peer instead. */
            if (lg_stream_queued(s) < ws->max_queued &&
                sent(ws, send_frame(ws, LG_WS_PING, NULL, 0)) == LG_OK)
                ws->ping_out = 1;
            arm(ws);
            return;
        }
        fail(ws, LG_ERR_TIMEOUT, LG_WS_CLOSE_INTERNAL_ERROR); /* no answer: dead */
        return;
    case WS_CLOSING: /* our Close was never answered */
        if (!ws->error) ws->error = LG_ERR_TIMEOUT;
        close_tcp(ws, 0);
        return;
    case WS_CLOSED_HS: /* a client: no FIN from the server in time */
        lg_stream_close(s);
        return;
    default:
        return;
    }
}

/* The server shuts down: say so (1001); the server closes what is still
 * open at its deadline. */
static void ws_on_shutdown(lg_stream *s)
{
    lg_ws_close(s->data, LG_WS_CLOSE_GOING_AWAY, "server shutting down");
}

static void ws_on_close(lg_stream *s)
{
    lg_ws *ws = s->data;
    if ((ws->state == WS_OPEN || ws->state == WS_CLOSING) && !ws->error)
        ws->error = LG_ERR_CLOSED; /* closed under us (a server's deadline, lg_client_free) */
    ws->state = WS_GONE;
    ws->s = NULL;
    lg_defer_cancel(ws->loop, &ws->drain_check);
    msg_free(ws);
    unsigned code = ws->close_code ? ws->close_code : LG_WS_CLOSE_ABNORMAL;
    lg_str reason = { ws->ctl, ws->close_code ? ws->ctl_len : 0u };
    if (ws->cbs->on_close) ws->cbs->on_close(ws, code, reason);
    if (ws->kept) ws->freed_at_close = 1;
    else lg__ws_free(ws);
}

const lg_stream_callbacks lg__ws_stream_callbacks = {
    ws_on_data, ws_on_drain, ws_on_write_error, ws_on_close, ws_on_timeout, ws_on_shutdown
};

void lg__ws_opened(lg_ws *ws, lg_stream *s)
{
    ws->s = s;
    ws->loop = lg_stream_loop(s);
    ws->state = WS_OPEN;
    arm(ws);
    if (ws->cbs->on_open) ws->cbs->on_open(ws);
}

void lg__ws_failed(lg_ws *ws, int err)
{
    ws->error = err;
    ws->state = WS_GONE;
    if (ws->cbs->on_close) ws->cbs->on_close(ws, LG_WS_CLOSE_ABNORMAL, LG_STR(""));
    if (ws->kept) ws->freed_at_close = 1;
    else lg__ws_free(ws);
}

/* ---------------------------------------------------------------------------
 * What the owner may ask
 * ------------------------------------------------------------------------ */

void lg_ws_pause(lg_ws *ws)
{
    if (ws->state != WS_OPEN || ws->paused || !lg_stream_is_open(ws->s)) return;
    ws->paused = 1;
    lg_stream_read_stop(ws->s);
    lg_stream_set_timeout(ws->s, 0);
}

void lg_ws_resume(lg_ws *ws)
{
    if (!ws->paused) return;
    ws->paused = 0;
    if (ws->state != WS_OPEN || !ws->s || !lg_stream_is_open(ws->s)) return;
    ws->ping_out = 0;
    lg_stream_read_start(ws->s);
    lg_stream_redeliver(ws->s);
    arm(ws);
}

uint64_t lg_ws_queued(const lg_ws *ws)
{
    return ws->s ? lg_stream_queued(ws->s) : 0;
}

void *lg_ws_user(const lg_ws *ws)
{
    return ws->user;
}

void lg_ws_set_user(lg_ws *ws, void *user)
{
    ws->user = user;
}

const char *lg_ws_protocol(const lg_ws *ws)
{
    return ws->protocol;
}

int lg_ws_error(const lg_ws *ws)
{
    return ws->error;
}

lg_stream *lg_ws_stream(const lg_ws *ws)
{
    return ws->state == WS_GONE ? NULL : ws->s;
}

/* ---------------------------------------------------------------------------
 * Broadcast: one frame, queued by reference on every connection
 * ------------------------------------------------------------------------ */

typedef struct shared_frame {
    size_t size;     /* of the allocation */
    size_t refs;     /* queued requests, and the broadcast's own hold */
    size_t len;      /* of the frame */
    char *frame;
    lg_write_req reqs[]; /* one per server connection; the frame follows them */
} shared_frame;

static void shared_unref(shared_frame *f)
{
    if (--f->refs == 0) lg__free(f, f->size);
}

static void shared_done(lg_write_req *req, int status)
{
    LG_UNUSED(status);
    shared_unref(req->data);
}

long lg_ws_broadcast(lg_ws *const *conns, size_t n, unsigned opcode, const void *data, size_t len,
                     unsigned slow_policy)
{
    int rc = lg__ws_check_message(opcode, data, len);
    if (rc) return rc;
    if (slow_policy != LG_WS_SLOW_SKIP && slow_policy != LG_WS_SLOW_CLOSE) return LG_ERR_INVALID_ARG;
    size_t servers = 0;
    for (size_t i = 0; i < n; i++)
        if (conns[i] && !conns[i]->client && can_send(conns[i])) servers++;
    shared_frame *f = NULL;
    if (servers) {
        size_t size = sizeof *f + servers * sizeof(lg_write_req) + LG_WS_MAX_HEADER + len;
        f = lg__alloc(size);
        if (!f) return LG_ERR_NOMEM;
        f->size = size;
        f->refs = 1;
        f->frame = (char *)&f->reqs[servers];
        lg_writer w;
        lg_writer_init(&w, f->frame, LG_WS_MAX_HEADER);
        lg_ws_write_header(&w, opcode, LG_WS_FIN, len, NULL);
        if (len) memcpy(f->frame + w.len, data, len);
        f->len = w.len + len;
    }
    long nsent = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        lg_ws *ws = conns[i];
        if (!ws || !can_send(ws)) continue;
        if (lg_stream_queued(ws->s) >= ws->max_queued) {
            if (slow_policy == LG_WS_SLOW_CLOSE) lg_ws_close(ws, LG_WS_CLOSE_POLICY, "too slow");
            continue;
        }
        if (ws->client) {
            if (sent(ws, send_frame(ws, opcode, data, len)) == LG_OK) nsent++;
            continue;
        }
        if (k == servers) continue; /* (cannot happen: counted above) */
        lg_write_req *req = &f->reqs[k++];
        req->data = f;
        f->refs++;
        if (lg_stream_write_ref(ws->s, req, f->frame, f->len, shared_done) == LG_OK) nsent++;
        else f->refs--; /* refused before it was queued: no callback */
    }
    if (f) shared_unref(f);
    return nsent;
}

#endif /* !LG_NO_WEBSOCKET */
