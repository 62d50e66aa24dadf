/*
 * Streams: a TCP connection with a receive buffer, an ordered send queue,
 * and one place where it closes.
 *
 * Life of a stream (s->state):
 *
 *   OPEN ──close()──> FLUSHING ──queue empty──> DRAINING ──EOF──> CLOSED
 *     │                   │  (FIN sent; input read    │
 *     │                   │   and thrown away)        ├─ linger timeout ─┤
 *     │                   ├── input already ended ────┴─ byte budget  ───┤
 *     │                   └── peer done, nothing unread (at once) ───────┤
 *     ├──abort()─────────────────────────────────────────────────────────┤
 *     └──close_now() (its owner goes away: what came read, FIN) ─────────┘
 *
 * The descriptor is closed only in finish_close(), and only from DRAINING
 * (after the peer's EOF, or when time or budget ran out, both counted),
 * when the peer promised to send nothing more and nothing is unread (the
 * owner knows that from its protocol: lg_stream_peer_done), by abort(),
 * or by close_now() when the owner is freed with the stream still open.
 * That is rule 3: closing with unread input is what makes a TCP stack send
 * RST and lose the response the peer was about to read.
 *
 * The waits are bounded apart: FLUSHING by the peer's progress (it must
 * take some of the queue every send_timeout_ms, or the rest is dropped),
 * DRAINING by the linger time and byte budget, counted from when the answer
 * has gone. A big last answer to a slow reader is never cut by the linger
 * time meant for the input that follows it.
 *
 * One timer does everything a stream waits for: while OPEN, the owner's
 * timeout (lg_stream_set_timeout) and the send timeout (queued bytes must
 * move); then the flush; then the linger. `discarded` keeps what the
 * current wait compares against: while OPEN, when queued bytes last moved;
 * while FLUSHING, the queue's length at the last look; while DRAINING, the
 * bytes thrown away.
 *
 * Bytes go through the stream's transport (TLS, a test's), or, with none,
 * straight to the platform's socket functions: plain TCP costs a branch.
 *
 * Reads end with a cause (rule 2): EOF, or a reset after whatever data came
 * before it, which stays buffered for the owner to use.
 */
#include <string.h>

#include "assert_internal.h"
#include "loop_internal.h"
#include "stream_internal.h"
#if !defined(LG_NO_FILES)
#include <errno.h>
#include <sys/types.h> /* off_t */
#include <unistd.h>
#endif

#if UINTPTR_MAX == 0xffffffffu
/* 104 bytes on 32-bit CPUs, so that a server's connection, which embeds
 * its stream, keeps to 128 (server_internal.h checks that). */
typedef char lg_stream_within_104_bytes[sizeof(lg_stream) <= 104 ? 1 : -1];
#endif

static const lg_stream_config default_config = {
    .recv_buffer_bytes = 4096,
    .max_queued_bytes = 1u << 20,
    .linger_timeout_ms = 5000,
    .linger_max_bytes = 16u << 20,
    .send_timeout_ms = 30000,
    .keep_idle_buffer = 0,
};

#define CFG(s, field) ((s)->config->field ? (s)->config->field : default_config.field)

static lg_loop *loop_of(const lg_stream *s)
{
    return s->io.loop;
}

/* The loop's clock as timers keep it: 32-bit milliseconds that wrap. */
static uint32_t now32(const lg_stream *s)
{
    return (uint32_t)loop_of(s)->now;
}

static int before(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

static uint32_t clamp_ms(uint32_t ms)
{
    return ms > LG_TIMER_MAX_MS ? LG_TIMER_MAX_MS : ms;
}

/* ---------------------------------------------------------------------------
 * The socket, through the transport if there is one.
 * ------------------------------------------------------------------------ */

long lg_stream_socket_recv(lg_stream *s, void *buf, size_t len)
{
    lg_loop *loop = loop_of(s);
    return loop->net->recv(loop->net_ctx, s->io.fd, buf, len);
}

long lg_stream_socket_send(lg_stream *s, const lg_str *parts, size_t n)
{
    lg_loop *loop = loop_of(s);
    return loop->net->send(loop->net_ctx, s->io.fd, parts, n);
}

int lg_stream_socket_shutdown(lg_stream *s)
{
    lg_loop *loop = loop_of(s);
    return loop->net->shutdown_write(loop->net_ctx, s->io.fd);
}

static void update_events(lg_stream *s);

/* A transport that says "would block" may have taken a step (of a
 * handshake) after which it waits for other readiness than before: its
 * want is asked again, or the stream would sleep on the old one (or spin
 * on a writability nobody uses). */
static long transport_called(lg_stream *s, long n)
{
    if (n == LG_ERR_AGAIN && s->transport && s->transport->ops->want) update_events(s);
    return n;
}

static long io_recv(lg_stream *s, void *buf, size_t len)
{
    if (s->transport) return transport_called(s, s->transport->ops->recv(s, buf, len));
    return lg_stream_socket_recv(s, buf, len);
}

static long io_send(lg_stream *s, const lg_str *parts, size_t n)
{
    if (s->transport) return transport_called(s, s->transport->ops->send(s, parts, n));
    return lg_stream_socket_send(s, parts, n);
}

/* Bytes that the FIN or a file's bytes follow at once: the platform may
 * let them share a segment. */
static long io_send_more(lg_stream *s, const lg_str *parts, size_t n)
{
    lg_loop *loop = loop_of(s);
    if (s->transport || !loop->net->send_more) return io_send(s, parts, n);
    return loop->net->send_more(loop->net_ctx, s->io.fd, parts, n);
}

static int io_shutdown(lg_stream *s)
{
    if (s->transport) return s->transport->ops->shutdown(s);
    return lg_stream_socket_shutdown(s);
}

static size_t io_pending(const lg_stream *s)
{
    return s->transport && s->transport->ops->pending ? s->transport->ops->pending(s) : 0;
}

/* ---------------------------------------------------------------------------
 * Interest: one function decides what the descriptor is watched for.
 * ------------------------------------------------------------------------ */

/* The receive buffer's size: the config's, which outlives the stream. */
static uint32_t rcap(const lg_stream *s)
{
    return CFG(s, recv_buffer_bytes);
}

static int rbuf_full(const lg_stream *s)
{
    return s->rbuf && s->rstart == 0 && s->rend == rcap(s);
}

static void schedule_read(lg_stream *s);

static void update_events(lg_stream *s)
{
    unsigned ev = 0;
    if (s->state == LG_STREAM_DRAINING) {
        ev = LG_READABLE;
        if (s->flags & LG_SF_SHUT_AGAIN) ev |= LG_WRITABLE;
    } else if (s->state == LG_STREAM_OPEN || s->state == LG_STREAM_FLUSHING) {
        if (s->state == LG_STREAM_OPEN && (s->flags & LG_SF_READING) && s->ending == LG_END_NONE &&
            !rbuf_full(s))
            ev |= LG_READABLE;
        if (s->wq_head && !s->cork && !(s->flags & LG_SF_WRITE_FAILED)) ev |= LG_WRITABLE;
        if ((s->flags & LG_SF_SHUT_AGAIN) && !(s->flags & LG_SF_WRITE_FAILED)) ev |= LG_WRITABLE;
        if (s->transport && s->transport->ops->want && s->state == LG_STREAM_OPEN)
            ev = s->transport->ops->want(s, ev);
    }
    if (lg_io_set(&s->io, ev) != LG_OK && ev) {
        /* The backend could not watch us (out of memory): fail loudly
         * rather than hang silently. */
        if (!s->error) s->error = LG_ERR_NOMEM;
    }
    /* Input the transport already holds is not announced by the socket:
     * whenever the stream wants input, it reads that itself (next tick). */
    if ((ev & LG_READABLE) && s->state == LG_STREAM_OPEN && io_pending(s)) schedule_read(s);
}

/* ---------------------------------------------------------------------------
 * Receive buffer
 * ------------------------------------------------------------------------ */

static void rbuf_release(lg_stream *s)
{
    if (!s->rbuf) return;
    lg__buf_put(loop_of(s), s->rbuf, rcap(s));
    s->rbuf = NULL;
    s->rstart = s->rend = 0;
}

void lg__stream_release_if_idle(lg_stream *s)
{
    if (s->rbuf && s->rstart == s->rend && !s->config->keep_idle_buffer) rbuf_release(s);
}

static int rbuf_make_room(lg_stream *s)
{
    if (!s->rbuf) {
        uint32_t size = CFG(s, recv_buffer_bytes);
        s->rbuf = lg__buf_get(loop_of(s), size);
        if (!s->rbuf) return LG_ERR_NOMEM;
        s->rstart = s->rend = 0;
        return LG_OK;
    }
    if (s->rend == rcap(s) && s->rstart > 0) lg_stream_compact(s);
    return LG_OK;
}

lg_str lg_stream_peek(const lg_stream *s)
{
    lg_str v;
    v.ptr = s->rbuf ? s->rbuf + s->rstart : NULL;
    v.len = s->rbuf ? s->rend - s->rstart : 0;
    if (!v.ptr) v.ptr = "";
    return v;
}

char *lg_stream_peek_writable(lg_stream *s, size_t *len)
{
    *len = s->rbuf ? s->rend - s->rstart : 0;
    return *len ? s->rbuf + s->rstart : NULL;
}

void lg_stream_consume(lg_stream *s, size_t n)
{
    if (!s->rbuf) return;
    size_t have = s->rend - s->rstart;
    if (n > have) n = have;
    int was_full = rbuf_full(s);
    s->rstart += (uint32_t)n;
    if (s->rstart == s->rend) {
        s->rstart = s->rend = 0;
        if (!s->config->keep_idle_buffer) rbuf_release(s);
    }
    if (was_full && s->state == LG_STREAM_OPEN) update_events(s);
}

void lg_stream_compact(lg_stream *s)
{
    if (!s->rbuf || s->rstart == 0) return;
    memmove(s->rbuf, s->rbuf + s->rstart, s->rend - s->rstart);
    s->rend -= s->rstart;
    s->rstart = 0;
}

void lg_stream_cut(lg_stream *s, size_t offset, size_t n)
{
    if (!s->rbuf) return;
    size_t have = s->rend - s->rstart;
    if (offset >= have) return;
    if (n > have - offset) n = have - offset;
    if (offset == 0) {
        lg_stream_consume(s, n);
        return;
    }
    int was_full = rbuf_full(s);
    char *at = s->rbuf + s->rstart + offset;
    memmove(at, at + n, have - offset - n);
    s->rend -= (uint32_t)n;
    if (was_full && s->state == LG_STREAM_OPEN) update_events(s);
}

lg_ending lg_stream_ending(const lg_stream *s)
{
    return (lg_ending)s->ending;
}

int lg_stream_error(const lg_stream *s)
{
    return s->error;
}

/* ---------------------------------------------------------------------------
 * The timer while open: the owner's timeout and the send timeout.
 * ------------------------------------------------------------------------ */

/* Make the timer fire no later than `due`. It may fire earlier (a
 * deadline moved later is found then, lazily: moving it on every byte
 * would cost a heap operation each time). */
static void fire_by(lg_stream *s, uint32_t due)
{
    lg_timer *t = &s->timer;
    if (lg_timer_active(t) && !before(due, t->due_ms)) return;
    uint32_t now = now32(s);
    lg_timer_start(t, before(now, due) ? due - now : 0);
}

static int send_timed(const lg_stream *s)
{
    return s->queued && !(s->flags & LG_SF_WRITE_FAILED);
}

/* Queued bytes began to wait, or some went out: the send timeout counts
 * from now. */
static void send_progress(lg_stream *s)
{
    s->discarded = now32(s);
    if (s->state == LG_STREAM_OPEN && send_timed(s))
        fire_by(s, s->discarded + clamp_ms(CFG(s, send_timeout_ms)));
}

void lg_stream_set_timeout(lg_stream *s, uint32_t ms)
{
    if (s->state != LG_STREAM_OPEN) return;
    if (!ms) {
        s->deadline = 0; /* the timer may still fire, and finds nothing due */
        return;
    }
    s->deadline = now32(s) + clamp_ms(ms);
    if (!s->deadline) s->deadline = 1; /* 0 means none: a millisecond later */
    fire_by(s, s->deadline);
}

static void write_failed(lg_stream *s, int err);

static void open_timer_fired(lg_stream *s)
{
    uint32_t now = now32(s);
    if (send_timed(s) && !before(now, s->discarded + clamp_ms(CFG(s, send_timeout_ms)))) {
        write_failed(s, LG_ERR_TIMEOUT); /* the peer stopped taking our bytes */
        if (s->state != LG_STREAM_OPEN) return;
    }
    if (s->deadline && !before(now, s->deadline)) {
        s->deadline = 0;
        if (s->cbs && s->cbs->on_timeout) s->cbs->on_timeout(s);
        if (s->state != LG_STREAM_OPEN) return;
    }
    if (send_timed(s)) fire_by(s, s->discarded + clamp_ms(CFG(s, send_timeout_ms)));
    if (s->deadline) fire_by(s, s->deadline);
}

/* ---------------------------------------------------------------------------
 * Closing: the one place a descriptor is closed.
 * ------------------------------------------------------------------------ */

static void fail_queue(lg_stream *s, int err);
static int flush(lg_stream *s);
static void queue_emptied(lg_stream *s, int notify);

static void deferred_close_cb(lg_defer *d)
{
    lg_stream *s = LG_CONTAINER_OF(d, lg_stream, deferred);
    LG_ASSERT(s->state == LG_STREAM_CLOSED); /* on_close: once, and last */
    if (s->cbs && s->cbs->on_close) s->cbs->on_close(s);
}

/* How finish_close ends the descriptor: after the linger (or without one
 * when nothing can be unread), with RST, or at once for an owner that goes
 * away (lg_stream_close_now: what came is read and dropped, then FIN). */
enum { CLOSE_LINGERED = 0, CLOSE_ABORT = 1, CLOSE_NOW = 2 };

static void finish_close(lg_stream *s, int how)
{
    lg_loop *loop = loop_of(s);
    if (s->state == LG_STREAM_CLOSED) return;
    /* Rule 3: a descriptor closes only from DRAINING, or once the peer's
     * input has ended or it promised no more (and nothing is unread), or
     * by an abort, or when its owner cannot wait for a linger. */
    LG_ASSERT(how != CLOSE_LINGERED || s->state == LG_STREAM_DRAINING ||
              s->ending == LG_END_EOF || s->ending == LG_END_RESET ||
              (s->flags & LG_SF_PEER_DONE));
    int fd = s->io.fd;
    lg_timer_stop(&s->timer);
    lg_io_close(&s->io);
    if (s->transport) {
        /* it finds its state in s->transport (TLS: close_notify unless aborted) */
        s->transport->ops->close(s, how == CLOSE_ABORT);
        s->transport = NULL;
    }
    if (how == CLOSE_ABORT) loop->net->abort(loop->net_ctx, fd);
    else if (how == CLOSE_NOW) lg_close_unserved(loop, fd);
    else loop->net->close(loop->net_ctx, fd);
    s->state = LG_STREAM_CLOSED;
    rbuf_release(s);
    fail_queue(s, LG_ERR_CLOSED);
    if (s->read_req) {
        lg_read_req *r = s->read_req;
        s->read_req = NULL;
        r->cb(r, LG_ERR_CANCELLED, r->len);
    }
    lg_defer_call(loop, &s->deferred, deferred_close_cb);
}

/* FLUSHING: the queue only shrinks once closing, so a length unchanged
 * since the last look means the peer took nothing. */
static void flush_timer_fired(lg_stream *s)
{
    lg_loop *loop = loop_of(s);
    if ((uint32_t)s->queued != s->discarded) {
        s->discarded = (uint32_t)s->queued;
        lg_timer_start(&s->timer, CFG(s, send_timeout_ms));
        return;
    }
    loop->stats.send_timeouts++;
    lg_log(loop, LG_LOG_INFO, "fd %d: peer took nothing for %u ms while closing; dropping "
           "what is queued", s->io.fd, (unsigned)CFG(s, send_timeout_ms));
    lg_stream_fail_writes(s, LG_ERR_TIMEOUT); /* and on to DRAINING */
}

/* The linger time is meant for the input that may follow the answer, not
 * for the answer: where the platform can tell (lg_net.unacked) that the
 * peer has not yet taken all of it from its buffers, the wait goes on for
 * as long as the peer keeps taking some (send_timeout_ms at a time), and
 * the linger time starts over once all is gone. Asked only when the timer
 * fires: a peer that answers our FIN with its own never costs the question.
 * s->queued, empty while DRAINING, holds what the platform had at the last
 * look. */
static void linger_timer_fired(lg_stream *s)
{
    lg_loop *loop = loop_of(s);
    long q = loop->net->unacked ? loop->net->unacked(loop->net_ctx, s->io.fd) : 0;
    if (q > 0 && (uint64_t)q != s->queued) {
        s->queued = (uint64_t)q; /* the peer is still taking the answer: wait on */
        lg_timer_start(&s->timer, CFG(s, send_timeout_ms));
        return;
    }
    if (q > 0) {
        loop->stats.send_timeouts++;
        lg_log(loop, LG_LOG_INFO, "fd %d: peer took nothing for %u ms while closing", s->io.fd,
               (unsigned)CFG(s, send_timeout_ms));
        finish_close(s, 0);
        return;
    }
    if (s->queued) { /* all taken since the last look: the linger time from now */
        s->queued = 0;
        lg_timer_start(&s->timer, CFG(s, linger_timeout_ms));
        return;
    }
    loop->stats.linger_timeouts++;
    lg_log(loop, LG_LOG_INFO, "fd %d: no EOF within the linger time, closing", s->io.fd);
    finish_close(s, 0);
}

static void timer_fired(lg_timer *t)
{
    lg_stream *s = LG_CONTAINER_OF(t, lg_stream, timer);
    switch (s->state) {
    case LG_STREAM_OPEN:
        open_timer_fired(s);
        break;
    case LG_STREAM_FLUSHING:
        flush_timer_fired(s);
        break;
    case LG_STREAM_DRAINING:
        linger_timer_fired(s);
        break;
    default:
        break;
    }
}

/* Count input thrown away while closing; saturates rather than wraps (the
 * budget, linger_max_bytes, is 32-bit too). */
static void discard(lg_stream *s, size_t n)
{
    uint32_t room = UINT32_MAX - s->discarded;
    s->discarded += n < room ? (uint32_t)n : room;
}

static void drain_input(lg_stream *s);

/* Send FIN through the transport (TLS says close_notify first). One that
 * cannot write yet is asked again when the socket is writable. */
static void end_sending(lg_stream *s)
{
    int rc = io_shutdown(s);
    if (rc == LG_ERR_AGAIN) {
        s->flags |= LG_SF_SHUT_AGAIN;
        return;
    }
    s->flags &= (uint8_t)~LG_SF_SHUT_AGAIN;
    s->flags |= LG_SF_SHUT_DONE;
}

/* Closing at once hands what the kernel still holds of the answer to a
 * socket nobody watches: fine for the tail of an ordinary answer, which
 * leaves within a round trip, but not for a big one to a slow reader (the
 * kernel gives up on a closed socket whose peer stops taking data, and a
 * stray byte from the peer turns it into a reset). Beyond this much, or
 * where the platform cannot tell (no lg_net.unacked), the close lingers. */
#define AT_ONCE_MAX_HELD 16384

/* The peer promised to send nothing more (lg_stream_peer_done): if nothing
 * is unread, the buffer empty and one read finding the socket empty, a
 * close now sends FIN behind the answer and no RST can follow it, so the
 * linger would only cost a wait. Returns 1 once closed; 0 to linger, with
 * whatever the read found counted as thrown away. Not under a transport:
 * a TLS 1.2 peer answers our close_notify with its own, input that must
 * not meet a closed socket. */
static int closed_at_once(lg_stream *s)
{
    lg_loop *loop = loop_of(s);
    if (!(s->flags & LG_SF_PEER_DONE) || s->transport || (s->rbuf && s->rend > s->rstart) ||
        !loop->net->unacked)
        return 0;
    long held = loop->net->unacked(loop->net_ctx, s->io.fd);
    if (held < 0 || held > AT_ONCE_MAX_HELD) return 0;
    char probe[64];
    long n = loop->net->recv(loop->net_ctx, s->io.fd, probe, sizeof probe);
    if (n > 0) {
        discard(s, (size_t)n); /* it broke its promise: linger */
        return 0;
    }
    if (n == LG_ERR_AGAIN) loop->stats.closes_at_once++;
    else if (n == 0) loop->stats.graceful_closes++;
    finish_close(s, 0); /* (or the peer reset: nothing left to protect) */
    return 1;
}

/* The send side is done: close at once if the peer is done too, or send
 * FIN and wait for the peer's. */
static void start_draining(lg_stream *s)
{
    lg_loop *loop = loop_of(s);
    if (s->ending == LG_END_EOF || s->ending == LG_END_RESET) {
        /* Nothing more can arrive: closing cannot destroy unread input. (A
         * local error, such as no memory for a buffer, is not the peer's
         * end: its input still has to be drained.) */
        if (s->ending == LG_END_EOF) loop->stats.graceful_closes++;
        finish_close(s, 0);
        return;
    }
    LG_ASSERT(!s->wq_head); /* everything sent, or dropped by a write failure */
    s->discarded = 0; /* from here: the bytes thrown away */
    if (closed_at_once(s)) return;
    s->state = LG_STREAM_DRAINING;
    loop->stats.lingering_closes++;
    lg_timer_stop(&s->timer);
    if (s->rbuf) {
        discard(s, s->rend - s->rstart);
        s->rstart = s->rend = 0;
    }
    if (!(s->flags & LG_SF_SHUT_DONE)) {
        if (loop->net->read_before_fin) {
            drain_input(s); /* the peer's FIN, if it came, closes right here */
            if (s->state != LG_STREAM_DRAINING) return;
        }
        end_sending(s);
    }
    s->queued = 0;
    lg_timer_start(&s->timer, CFG(s, linger_timeout_ms));
    update_events(s);
}

/* What arrives while draining is read from the socket itself and thrown
 * away, transport or not: nobody will look at it. */
static void drain_input(lg_stream *s)
{
    lg_loop *loop = loop_of(s);
    char scratch[512];
    char *buf = s->rbuf ? s->rbuf : scratch;
    size_t cap = s->rbuf ? rcap(s) : sizeof scratch;
    for (int i = 0; i < 16; i++) {
        long n = lg_stream_socket_recv(s, buf, cap);
        if (n == LG_ERR_AGAIN) return;
        if (n == 0) {
            loop->stats.graceful_closes++;
            finish_close(s, 0);
            return;
        }
        if (n < 0) { /* the peer reset: nothing left to protect */
            finish_close(s, 0);
            return;
        }
        discard(s, (size_t)n);
        if (s->discarded > CFG(s, linger_max_bytes)) {
            loop->stats.linger_overflows++;
            lg_log(loop, LG_LOG_INFO, "fd %d: peer sent more than the linger budget, closing",
                   s->io.fd);
            finish_close(s, 0);
            return;
        }
    }
}

void lg_stream_peer_done(lg_stream *s)
{
    s->flags |= LG_SF_PEER_DONE;
}

void lg_stream_close(lg_stream *s)
{
    if (s->state != LG_STREAM_OPEN) return;
    s->state = LG_STREAM_FLUSHING;
    if (s->read_req) {
        lg_read_req *r = s->read_req;
        s->read_req = NULL;
        r->cb(r, LG_ERR_CANCELLED, r->len);
        if (s->state != LG_STREAM_FLUSHING) return;
    }
    s->cork = 0;
    s->deadline = 0;
    lg_timer_stop(&s->timer);
    if (s->wq_head && !(s->flags & LG_SF_WRITE_FAILED)) {
        s->discarded = (uint32_t)s->queued;
        lg_timer_start(&s->timer, CFG(s, send_timeout_ms));
    }
    if (!s->wq_head || (s->flags & LG_SF_WRITE_FAILED)) {
        start_draining(s);
    } else if (!(s->flags & LG_SF_FLUSHING)) {
        /* What was queued (corked answers, the last one saying "Connection:
         * close") goes out now, and FIN right behind it, instead of after a
         * round through the loop to learn that the socket is writable. */
        int f = flush(s);
        if (f == 1 && s->state == LG_STREAM_FLUSHING) queue_emptied(s, 0);
        else if (f == 0) update_events(s);
    } else {
        update_events(s);
    }
}

void lg_stream_abort(lg_stream *s)
{
    if (s->state == LG_STREAM_CLOSED) return;
    lg_loop *loop = loop_of(s);
    loop->stats.aborts++;
    lg_log(loop, LG_LOG_WARN, "fd %d: aborted (RST sent to the peer)", s->io.fd);
    finish_close(s, CLOSE_ABORT);
}

/* For an owner freed with the stream still open (lg_server_free): no loop
 * will run for a linger, and the stream's memory may go as soon as this
 * returns, so on_close cannot wait for the next tick (a close already
 * begun, its on_close still queued, gets it now too). */
void lg_stream_close_now(lg_stream *s)
{
    lg_loop *loop = loop_of(s);
    if (s->state != LG_STREAM_CLOSED) {
        lg_log(loop, LG_LOG_WARN, "fd %d: closed at once: its owner went away", s->io.fd);
        finish_close(s, CLOSE_NOW);
    }
    if (s->deferred.next) { /* queued: the on_close (or a delivery, now moot) */
        int closed = s->deferred.cb == deferred_close_cb;
        lg_defer_cancel(loop, &s->deferred);
        if (closed) deferred_close_cb(&s->deferred);
    }
}

/* A socket nobody will serve (no memory for a stream, a limit reached at
 * accept): rule 3 as far as it can go without memory. What the client has
 * already sent is read and dropped and FIN goes out before the close, so a
 * client that sent its request at once sees an EOF, not a reset. What
 * arrives after this returns meets a closed socket (and is answered with
 * RST by the kernel): with nothing allocated for it, the socket cannot be
 * watched until the client's EOF. */
void lg_close_unserved(lg_loop *loop, int fd)
{
    char scratch[512];
    for (int i = 0; i < 16; i++) {
        long n = loop->net->recv(loop->net_ctx, fd, scratch, sizeof scratch);
        if (n <= 0) break; /* EAGAIN (all read), EOF or an error */
    }
    loop->net->shutdown_write(loop->net_ctx, fd);
    loop->net->close(loop->net_ctx, fd);
}

/* ---------------------------------------------------------------------------
 * Sending
 * ------------------------------------------------------------------------ */

enum { WQ_COPY = 1, WQ_REF = 2, WQ_FILE = 3 };

/* A block of copied bytes in the queue; its req points at the unsent part. */
#define COPY_CHAIN_BLOCKS 8
typedef struct copy_block {
    lg_write_req req;
    uint32_t cap;
    uint32_t used;
    char bytes[];
} copy_block;

static void wq_push(lg_stream *s, lg_write_req *r)
{
    r->next = NULL;
    if (s->wq_tail) s->wq_tail->next = r;
    else s->wq_head = r;
    s->wq_tail = r;
}

static void wq_pop(lg_stream *s)
{
    s->wq_head = s->wq_head->next;
    if (!s->wq_head) s->wq_tail = NULL;
}

static void copy_block_free(lg_stream *s, copy_block *b)
{
    size_t size = sizeof *b + b->cap;
    if (size == CFG(s, recv_buffer_bytes)) lg__buf_put(loop_of(s), (char *)b, (uint32_t)size);
    else lg__free(b, size);
}

static void fail_queue(lg_stream *s, int err)
{
    while (s->wq_head) {
        lg_write_req *r = s->wq_head;
        wq_pop(s);
        if (r->kind == WQ_COPY) copy_block_free(s, (copy_block *)r);
        else if (r->cb) r->cb(r, err);
    }
    s->queued = 0;
}

/* Append bytes to the queue, filling the last copy block first. */
static int queue_copy(lg_stream *s, const char *p, size_t n)
{
    lg_write_req *tail = s->wq_tail;
    if (tail && tail->kind == WQ_COPY) {
        copy_block *b = (copy_block *)tail;
        size_t room = b->cap - b->used;
        size_t take = n < room ? n : room;
        memcpy(b->bytes + b->used, p, take);
        b->used += (uint32_t)take;
        b->req.len += take;
        s->queued += take;
        p += take;
        n -= take;
    }
    /* Pieces share buffer-sized blocks from the loop's cache, cut across
     * several when they are longer (an answer of some kilobytes written
     * while corked), so that the steady state allocates nothing; a piece
     * longer than COPY_CHAIN_BLOCKS of them gets one block of its own. */
    uint32_t std = CFG(s, recv_buffer_bytes);
    size_t per = std > sizeof(copy_block) ? std - sizeof(copy_block) : 0;
    while (n) {
        /* (With a static pool there is no other memory: always chain.) */
        int cached = per && (n <= COPY_CHAIN_BLOCKS * per || loop_of(s)->buf_fixed);
        size_t take = cached && n > per ? per : n;
        size_t size = cached ? std : sizeof(copy_block) + n;
        copy_block *b = cached ? (copy_block *)(void *)lg__buf_get(loop_of(s), std)
                               : lg__alloc(size);
        if (!b) return LG_ERR_NOMEM;
        memset(&b->req, 0, sizeof b->req);
        b->req.kind = WQ_COPY;
        b->req.file = -1;
        b->cap = (uint32_t)(size - sizeof *b);
        b->used = (uint32_t)take;
        memcpy(b->bytes, p, take);
        b->req.ptr = b->bytes;
        b->req.len = take;
        s->queued += take;
        wq_push(s, &b->req);
        p += take;
        n -= take;
    }
    return LG_OK;
}

void lg_stream_fail_writes(lg_stream *s, int err)
{
    if (s->state != LG_STREAM_OPEN && s->state != LG_STREAM_FLUSHING) return;
    if (s->flags & LG_SF_WRITE_FAILED) return;
    if (!s->error) s->error = (int8_t)err;
    s->flags |= LG_SF_WRITE_FAILED;
    fail_queue(s, err);
    if (s->state == LG_STREAM_FLUSHING) start_draining(s);
    else update_events(s);
}

/* Sending failed on its own (the peer, memory, the send timeout): as
 * lg_stream_fail_writes, and the owner of an open stream is told. */
static void write_failed(lg_stream *s, int err)
{
    lg_stream_fail_writes(s, err);
    if (s->state == LG_STREAM_OPEN && s->cbs && s->cbs->on_write_error)
        s->cbs->on_write_error(s, err);
}

/* What to do once everything queued has gone out. */
static void queue_emptied(lg_stream *s, int notify)
{
    if (s->state == LG_STREAM_FLUSHING) {
        start_draining(s);
        return;
    }
    if ((s->flags & LG_SF_SHUT_REQUESTED) && !(s->flags & (LG_SF_SHUT_DONE | LG_SF_SHUT_AGAIN)))
        end_sending(s);
    update_events(s);
    if (notify && s->state == LG_STREAM_OPEN && s->cbs && s->cbs->on_drain) s->cbs->on_drain(s);
}

/* Advance the queue past n sent bytes, completing what is done. */
static void wq_advance(lg_stream *s, uint64_t n)
{
    LG_ASSERT(n <= s->queued); /* a platform never takes more than it was given */
    s->queued -= n;
    if (n && s->state == LG_STREAM_OPEN) send_progress(s);
    while (n && s->wq_head) {
        lg_write_req *r = s->wq_head;
        uint64_t take = n < r->len ? n : r->len;
        r->len -= take;
        if (r->kind == WQ_FILE) r->offset += take;
        else r->ptr += take;
        n -= take;
        if (r->len) break;
        wq_pop(s);
        if (r->kind == WQ_COPY) copy_block_free(s, (copy_block *)r);
        else if (r->cb) r->cb(r, LG_OK);
    }
    /* Zero-length requests complete as soon as they reach the head. */
    while (s->wq_head && s->wq_head->len == 0) {
        lg_write_req *r = s->wq_head;
        wq_pop(s);
        if (r->kind == WQ_COPY) copy_block_free(s, (copy_block *)r);
        else if (r->cb) r->cb(r, LG_OK);
    }
}

#if !defined(LG_NO_FILES)
#ifndef LG_FILE_PIECE_BYTES
#if defined(LG__HOSTED_DEFAULTS)
#define LG_FILE_PIECE_BYTES 16384
#else
#define LG_FILE_PIECE_BYTES 2048
#endif
#endif

static int sendfile_usable(const lg_stream *s)
{
    return !s->transport && loop_of(s)->net->sendfile;
}

/* The next piece of a file: by the platform's sendfile on plain TCP;
 * otherwise read into a piece on the stack and sent from there (a
 * transport must see the bytes; lwIP has no sendfile), behind the n
 * `parts` before it (a head: one send, one segment where they fit; parts
 * has room for one more). What the socket does not take is read again next
 * time, so nothing of the file is ever kept in memory. A file shorter than
 * promised is LG_ERR_IO: the peer must not be given fewer bytes as if they
 * were all. */
static long send_file_piece(lg_stream *s, lg_write_req *r, lg_str *parts, size_t n)
{
    lg_loop *loop = loop_of(s);
    if (sendfile_usable(s)) {
        LG_ASSERT(n == 0);
        size_t chunk = r->len > (1u << 30) ? (1u << 30) : (size_t)r->len;
        long w = loop->net->sendfile(loop->net_ctx, s->io.fd, r->file, r->offset, chunk);
        return w == 0 ? LG_ERR_IO : w;
    }
    char piece[LG_FILE_PIECE_BYTES];
    size_t want = r->len < sizeof piece ? (size_t)r->len : sizeof piece;
    if (lseek(r->file, (off_t)r->offset, SEEK_SET) < 0) return LG_ERR_IO;
    ssize_t got;
    do {
        got = read(r->file, piece, want);
    } while (got < 0 && errno == EINTR);
    if (got <= 0) return LG_ERR_IO;
    parts[n].ptr = piece;
    parts[n].len = (size_t)got;
    return io_send(s, parts, n + 1);
}
#endif

/* Send as much of the queue as the socket takes. Returns 1 when the queue
 * is empty, 0 when it must wait for writability, < 0 after a write error. */
static int flush(lg_stream *s)
{
    s->flags |= LG_SF_FLUSHING;
    int result = 1;
    while (s->wq_head) {
        lg_write_req *r = s->wq_head;
        long w;
        lg_str parts[16 + 1]; /* and a file's piece behind them */
#if !defined(LG_NO_FILES)
        if (r->kind == WQ_FILE) {
            w = send_file_piece(s, r, parts, 0);
        } else
#endif
        {
            size_t n = 0;
            lg_write_req *q = r;
            for (; q && n < 16 && q->kind != WQ_FILE; q = q->next) {
                if (!q->len) continue;
                parts[n].ptr = q->ptr;
                parts[n].len = (size_t)q->len;
                n++;
            }
            /* The whole rest of the queue, with FIN due right after it; or
             * a head that a file's first bytes follow: sendfile cannot take
             * the head along, so the platform holds it back for them;
             * without sendfile the first piece joins the head's send. */
            int fin_next = !q && !(s->flags & LG_SF_SHUT_DONE) &&
                           (s->state == LG_STREAM_FLUSHING || (s->flags & LG_SF_SHUT_REQUESTED));
            int file_next = q && q->kind == WQ_FILE && q->len;
#if !defined(LG_NO_FILES)
            if (file_next && n && !sendfile_usable(s)) w = send_file_piece(s, q, parts, n);
            else
#endif
                w = !n ? 0 : fin_next || file_next ? io_send_more(s, parts, n) : io_send(s, parts, n);
        }
        if (w == LG_ERR_AGAIN) {
            result = 0;
            break;
        }
        if (w < 0) {
            s->flags &= (uint8_t)~LG_SF_FLUSHING;
            write_failed(s, (int)w);
            return (int)w;
        }
        wq_advance(s, (uint64_t)w);
        if (s->state == LG_STREAM_CLOSED) break;
    }
    s->flags &= (uint8_t)~LG_SF_FLUSHING;
    return result;
}

static int check_writable(const lg_stream *s)
{
    if (s->flags & LG_SF_WRITE_FAILED) return s->error ? s->error : LG_ERR_PIPE;
    if (s->state != LG_STREAM_OPEN || (s->flags & LG_SF_SHUT_REQUESTED)) return LG_ERR_CLOSED;
    return LG_OK;
}

int lg_stream_writev(lg_stream *s, const lg_str *parts, size_t n)
{
    int rc = check_writable(s);
    if (rc) return rc;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) total += parts[i].len;
    if (total == 0) return LG_OK;
    if (s->queued + total > CFG(s, max_queued_bytes)) return LG_ERR_LIMIT;

    size_t first = 0, skip = 0; /* what the socket took at once */
    if (!s->wq_head && !s->cork && !(s->flags & LG_SF_FLUSHING)) {
        long w = io_send(s, parts, n);
        if (w < 0 && w != LG_ERR_AGAIN) {
            lg_stream_fail_writes(s, (int)w); /* the caller learns it here */
            return (int)w;
        }
        if (w > 0) {
            size_t left = (size_t)w;
            while (first < n && left >= parts[first].len) left -= parts[first++].len;
            skip = left;
        }
        if (first == n) return LG_OK;
    }
    int was_empty = !s->wq_head;
    for (size_t i = first; i < n; i++) {
        rc = queue_copy(s, parts[i].ptr + skip, parts[i].len - skip);
        skip = 0;
        if (rc) {
            /* Out of memory halfway: the message is broken, and so is the
             * connection. */
            write_failed(s, rc);
            return rc;
        }
    }
    if (was_empty) send_progress(s);
    update_events(s);
    return LG_OK;
}

int lg_stream_write(lg_stream *s, const void *data, size_t len)
{
    lg_str part = { data, len };
    return lg_stream_writev(s, &part, 1);
}

static int queue_req(lg_stream *s, lg_write_req *req)
{
    int rc = check_writable(s);
    if (rc) return rc;
    int was_empty = !s->wq_head;
    wq_push(s, req);
    s->queued += req->len;
    if (was_empty) send_progress(s);
    if (!s->cork && !(s->flags & LG_SF_FLUSHING)) {
        int f = flush(s);
        if (f < 0) return LG_OK; /* reported through req->cb and on_write_error */
        if (f == 1 && s->state == LG_STREAM_OPEN) {
            queue_emptied(s, 0);
            return LG_OK;
        }
    }
    update_events(s);
    return LG_OK;
}

int lg_stream_write_ref(lg_stream *s, lg_write_req *req, const void *data, size_t len,
                        void (*cb)(lg_write_req *, int))
{
    req->kind = WQ_REF;
    req->cb = cb;
    req->ptr = data;
    req->len = len;
    req->file = -1;
    req->offset = 0;
    return queue_req(s, req);
}

int lg_stream_sendfile(lg_stream *s, lg_write_req *req, int file, uint64_t offset, uint64_t len,
                       void (*cb)(lg_write_req *, int))
{
#if defined(LG_NO_FILES)
    LG_UNUSED(s);
    LG_UNUSED(req);
    LG_UNUSED(file);
    LG_UNUSED(offset);
    LG_UNUSED(len);
    LG_UNUSED(cb);
    return LG_ERR_UNSUPPORTED;
#else
    req->kind = WQ_FILE;
    req->cb = cb;
    req->ptr = NULL;
    req->len = len;
    req->file = file;
    req->offset = offset;
    return queue_req(s, req);
#endif
}

size_t lg_stream_block_bytes(const lg_stream *s)
{
    uint32_t std = CFG(s, recv_buffer_bytes);
    return std > sizeof(copy_block) ? std - sizeof(copy_block) : 0;
}

size_t lg_stream_copy_room(const lg_stream *s)
{
    const lg_write_req *tail = s->wq_tail;
    if (!tail || tail->kind != WQ_COPY) return 0;
    const copy_block *b = (const copy_block *)(const void *)tail;
    return b->cap - b->used;
}

uint64_t lg_stream_queued(const lg_stream *s)
{
    return s->queued;
}

void lg_stream_cork(lg_stream *s)
{
    if (s->cork < 255) s->cork++;
}

void lg_stream_uncork(lg_stream *s)
{
    if (!s->cork || --s->cork) return;
    if (s->state != LG_STREAM_OPEN || !s->wq_head || (s->flags & LG_SF_FLUSHING)) {
        update_events(s);
        return;
    }
    int f = flush(s);
    if (f == 1 && s->state == LG_STREAM_OPEN) queue_emptied(s, 0);
    else if (f == 0) update_events(s);
}

int lg_stream_shutdown(lg_stream *s)
{
    int rc = check_writable(s);
    if (rc) return rc;
    s->flags |= LG_SF_SHUT_REQUESTED;
    if (!s->wq_head) queue_emptied(s, 0);
    return LG_OK;
}

/* ---------------------------------------------------------------------------
 * Receiving
 * ------------------------------------------------------------------------ */

static void input_ended(lg_stream *s, long rc)
{
    /* A send that met the peer's RST took the socket's error with it: on
     * Linux the next recv then returns 0 as if a FIN had come. EPIPE on
     * send likewise means the connection was reset. Rule 2 says a reset is
     * reported as one, so that a close-delimited body cut by it is never
     * taken for complete. */
    if (rc == 0 && (s->flags & LG_SF_WRITE_FAILED) &&
        (s->error == LG_ERR_RESET || s->error == LG_ERR_PIPE))
        rc = LG_ERR_RESET;
    if (rc == 0) {
        s->ending = LG_END_EOF;
    } else if (rc == LG_ERR_RESET || rc == LG_ERR_PIPE) {
        s->ending = LG_END_RESET;
        if (!s->error) s->error = LG_ERR_RESET;
    } else {
        s->ending = LG_END_ERROR;
        if (!s->error) s->error = (int8_t)rc;
    }
}

/* Hand what is buffered (and how the input ended) to the owner. */
void (*lg__stream_reader)(lg_stream *s);

static void deliver(lg_stream *s)
{
    if (s->state != LG_STREAM_OPEN) return;
    if (s->read_req) lg__stream_reader(s);
    else if (s->cbs && s->cbs->on_data) s->cbs->on_data(s);
}

static void deferred_deliver_cb(lg_defer *d);

/* A transport holds bytes it read ahead (TLS records): the socket will not
 * say so, so the stream reads them on the next tick (the deferred delivery
 * reads first when the transport has something). */
static void schedule_read(lg_stream *s)
{
    lg_defer_call(loop_of(s), &s->deferred, deferred_deliver_cb);
}

static void on_readable(lg_stream *s)
{
    int rc = rbuf_make_room(s);
    if (rc) {
        input_ended(s, rc);
    } else if (s->rend < rcap(s)) {
        long n = io_recv(s, s->rbuf + s->rend, rcap(s) - s->rend);
        if (n == LG_ERR_AGAIN) {
            /* A spurious wake-up must not leave an idle buffer behind. */
            lg__stream_release_if_idle(s);
            return;
        }
        if (n > 0) s->rend += (uint32_t)n;
        else input_ended(s, n);
    }
    if (s->ending != LG_END_NONE) update_events(s);
    deliver(s);
    if (s->state != LG_STREAM_OPEN) return;
    /* Stop asking the socket only if the owner left the buffer full: checking
     * before delivery would drop and re-add the interest (two epoll_ctl
     * calls) every time a download fills the buffer. */
    if (rbuf_full(s)) update_events(s);
    else if ((s->flags & LG_SF_READING) && s->ending == LG_END_NONE && io_pending(s))
        schedule_read(s);
}

static void on_io(lg_io *io, unsigned events)
{
    lg_stream *s = LG_CONTAINER_OF(io, lg_stream, io);
    if ((events & LG_WRITABLE) && (s->flags & LG_SF_SHUT_AGAIN) && !s->wq_head) {
        end_sending(s);
        update_events(s);
    }
    /* Writable with nothing of ours to send: the transport asked for it
     * (want: a handshake that must write). Its recv drives its progress. */
    if ((events & LG_WRITABLE) && !s->wq_head && s->transport && s->state == LG_STREAM_OPEN &&
        (s->flags & LG_SF_READING) && !(events & LG_READABLE)) {
        on_readable(s);
        return;
    }
    if ((events & LG_WRITABLE) && s->wq_head) {
        int f = flush(s);
        if (s->state == LG_STREAM_CLOSED) return;
        if (f == 1) queue_emptied(s, 1);
        if (s->state == LG_STREAM_CLOSED) return;
    }
    if (events & LG_READABLE) {
        if (s->state == LG_STREAM_DRAINING) drain_input(s);
        else if (s->state == LG_STREAM_OPEN) on_readable(s);
    }
}

/* One deferred call serves both a delivery and a read of what the
 * transport holds (a later request for either replaces the earlier one in
 * the queue): reading delivers too. */
static void deferred_deliver_cb(lg_defer *d)
{
    lg_stream *s = LG_CONTAINER_OF(d, lg_stream, deferred);
    if (s->state == LG_STREAM_OPEN && (s->flags & LG_SF_READING) && s->ending == LG_END_NONE &&
        !rbuf_full(s) && io_pending(s))
        on_readable(s);
    else
        deliver(s);
}

/* Data already buffered (or an ending already known) is not announced by
 * the socket again: hand it over on the next tick. */
void lg__stream_schedule_delivery(lg_stream *s, int force)
{
    if (s->state != LG_STREAM_OPEN) return;
    if (force || (s->rbuf && s->rend > s->rstart) || s->ending != LG_END_NONE)
        lg_defer_call(loop_of(s), &s->deferred, deferred_deliver_cb);
}

void lg_stream_redeliver(lg_stream *s)
{
    lg__stream_schedule_delivery(s, 1);
}

int lg_stream_read_start(lg_stream *s)
{
    if (s->state != LG_STREAM_OPEN) return LG_ERR_CLOSED;
    if (s->flags & LG_SF_READING) return LG_OK;
    s->flags |= LG_SF_READING;
    update_events(s);
    lg__stream_schedule_delivery(s, 0);
    return LG_OK;
}

int lg_stream_read_stop(lg_stream *s)
{
    if (s->state != LG_STREAM_OPEN) return LG_ERR_CLOSED;
    s->flags &= (uint8_t)~LG_SF_READING;
    update_events(s);
    return LG_OK;
}

/* ---------------------------------------------------------------------------
 * Opening, and what an owner may ask
 * ------------------------------------------------------------------------ */

int lg_stream_open(lg_loop *loop, lg_stream *s, int fd, const lg_stream_config *config,
                   const lg_stream_callbacks *cbs, void *data)
{
    memset(s, 0, sizeof *s);
    lg_io_init(loop, &s->io, fd, on_io);
    lg_timer_init(loop, &s->timer, timer_fired);
    s->config = config ? config : &default_config;
    s->cbs = cbs;
    s->data = data;
    s->state = LG_STREAM_OPEN;
    s->flags = LG_SF_READING;
    update_events(s);
    if (s->error) {
        s->state = LG_STREAM_CLOSED;
        lg_close_unserved(loop, fd);
        return s->error;
    }
    return LG_OK;
}

int lg_stream_set_transport(lg_stream *s, lg_transport *t)
{
    LG_ASSERT(t == NULL || (t->ops && t->ops->recv && t->ops->send && t->ops->shutdown &&
                            t->ops->close));
    if (s->state != LG_STREAM_OPEN || s->transport) return LG_ERR_INVALID_ARG;
    s->transport = t;
    update_events(s); /* it may want other readiness (a handshake) */
    return LG_OK;
}

int lg_stream_handshaking(const lg_stream *s)
{
    return s->state != LG_STREAM_CLOSED && s->transport && s->transport->ops->handshaking &&
           s->transport->ops->handshaking(s);
}

void lg_stream_set_callbacks(lg_stream *s, const lg_stream_callbacks *cbs, void *data)
{
    s->cbs = cbs;
    s->data = data;
}

lg_loop *lg_stream_loop(const lg_stream *s)
{
    return s->io.loop;
}

int lg_stream_is_open(const lg_stream *s)
{
    return s->state == LG_STREAM_OPEN;
}

int lg_stream_peer(const lg_stream *s, lg_addr *peer)
{
    lg_loop *loop = loop_of(s);
    if (s->state == LG_STREAM_CLOSED || !loop->net->peer_address) return LG_ERR_UNSUPPORTED;
    return loop->net->peer_address(loop->net_ctx, s->io.fd, peer);
}
