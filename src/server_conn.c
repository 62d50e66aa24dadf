/*
 * One connection of the server: reading heads and bodies from the stream's
 * buffer, dispatching, and deciding what happens after each answer.
 *
 * Phases (c->phase), one request at a time, answers in order:
 *
 *   IDLE ─first byte─> HEAD ─head─> [hooks, route] ─┬─ body wanted ─> BODY ─┐
 *     ^                                             └──────────────────────┴─> HANDLER
 *     │                                                                           │
 *     │                     answer complete, body complete ───────────────────────┤
 *     ├──────────────────── DISCARD <── answer complete, body not (rule 3) ───────┤
 *     │                                                                           │
 *     └── next request (pipelined ones are already in the buffer) <── SENDING <───┘
 *
 * The request's head stays at the front of the receive buffer while it is
 * being handled (its slices point there); body bytes are taken from behind
 * it with lg_stream_cut. A handler that keeps a request without a body
 * (answers later) gets its head moved into a block of its own, and the
 * receive buffer goes back to the loop (move_head_apart). Closing always
 * goes through lg_stream_close (rule 3).
 */
#include <string.h>

#include "server_internal.h"
#include "assert_internal.h"

#if !defined(LG_NO_SERVER)

static lg_server *srv_of(const lg_conn *c)
{
    return c->srv;
}

/* The loop's clock as its timers keep it: 32-bit, wrapping. */
static uint32_t now_of(const lg_conn *c)
{
    return (uint32_t)lg_loop_now(srv_of(c)->loop);
}

void lg__conn_close(lg_conn *c)
{
    if (c->phase == PH_CLOSING) return;
    /* A handed-over connection stays marked so until it has closed: its
     * owner's callbacks are where its request used to be. */
    if (c->phase != PH_UPGRADED) c->phase = PH_CLOSING;
    lg_stream_close(&c->s);
}

/* Waiting for the client from now on (newly connected, or between
 * requests): make_room gives way from the one quiet longest. */
static void quiet_from_now(lg_conn *c, uint32_t timeout_ms)
{
    c->quiet_ms = now_of(c);
    lg_stream_set_timeout(&c->s, timeout_ms);
}

/* --- finishing requests --- */

static void process(lg_conn *c);

/* Keep going with what is buffered, now or (outside on_data) on the next
 * tick: lg_stream_read_start hands buffered bytes over again. */
static void resume(lg_conn *c)
{
    if (c->flags & CF_IN_DATA) return;
    if (!lg_stream_is_open(&c->s)) return;
    lg_stream_read_start(&c->s);
    lg_stream_redeliver(&c->s);
}

/* The client has taken the answers that held its connection back. */
static void release_held(lg_conn *c)
{
    c->flags &= (uint8_t)~CF_HELD;
    resume(c);
}

void lg__conn_wake_waiting(lg_server *srv)
{
    for (lg_conn *c = srv->conns; c; c = c->next) {
        if (!(c->flags & CF_WAIT_SLOT)) continue;
        c->flags &= (uint8_t)~CF_WAIT_SLOT;
        srv->nwaiting--;
        resume(c);
        return;
    }
}

static void finish_exchange(lg_conn *c)
{
    lg_exchange *ex = c->ex;
    LG_ASSERT(ex && ex->res.state == RES_DONE && ex->body_done);
    lg_server *srv = srv_of(c);
    /* A client that said "Connection: close" sends nothing after this
     * request (RFC 9112 9.6), once the request was read to its end by its
     * framing (not cut by a timeout or an error). */
    int client_done = !(ex->head.flags & LG_HEAD_KEEP_ALIVE) && !ex->error &&
                      lg_body_reader_done(&ex->body);
    lg_stream_consume(&c->s, ex->head_len + ex->body_kept);
    c->ex = NULL;
    c->flags |= CF_SERVED;
    lg__exchange_put(srv, ex);
    if ((c->flags & CF_CLOSE_AFTER) || srv->shutting_down) {
        /* Closing at once then cannot leave input unread (the stream looks
         * that nothing came after all); any other close lingers. */
        if (client_done) lg_stream_peer_done(&c->s);
        lg__conn_close(c);
        return;
    }
    c->phase = PH_IDLE;
    /* While the answer is still going out, the stream's send timeout
     * watches the client take it; on_drain starts the idle timeout. */
    if (lg_stream_queued(&c->s)) lg_stream_set_timeout(&c->s, 0);
    else quiet_from_now(c, srv->cfg.idle_timeout_ms);
    resume(c);
}

void lg__conn_answer_done(lg_conn *c)
{
    lg_exchange *ex = c->ex;
    lg_server *srv = srv_of(c);
    if (srv->cfg.access_log && !(c->flags & CF_REJECTING)) {
        srv->cfg.access_log(&ex->req, ex->res.status, ex->res.body_bytes,
                            now_of(c) - ex->start_ms, srv->cfg.access_log_user);
    }
    srv->stats.requests++;
    if (!lg_stream_is_open(&c->s) || c->phase == PH_CLOSING) return;
    if (!ex->res.keep_alive) c->flags |= CF_CLOSE_AFTER;
    if (!ex->body_done) {
        if (c->flags & CF_CLOSE_AFTER) {
            /* Too much left, or the client may never send it: the graceful
             * close reads it out instead. */
            srv->stats.closes_for_body++;
            lg__conn_close(c);
            return;
        }
        /* Rule 3: read the rest and throw it away, and the connection
         * lives on. Only a body by length whose rest fit the budget when
         * the head went out gets here (decide_keep_alive). */
        LG_ASSERT(ex->head.framing == LG_FRAMING_LENGTH);
        srv->stats.bodies_discarded++;
        ex->body_mode = BODY_DISCARD;
        ex->body_paused = 0; /* a handler that paused its body and answered */
        c->phase = PH_DISCARD;
        lg_stream_set_timeout(&c->s, srv->cfg.body_timeout_ms);
        resume(c);
        return;
    }
    finish_exchange(c);
}

/* --- bodies --- */

static int body_fits_buffer(const lg_conn *c, const lg_exchange *ex)
{
    return ex->head.framing == LG_FRAMING_LENGTH &&
           ex->head_len + ex->head.content_length <= srv_of(c)->cfg.recv_buffer_bytes;
}

/* Give a body that outgrew the receive buffer its own memory (or more of
 * it). The first time, the part gathered behind the head moves there and is
 * cut from the buffer: everything after it shifts down by `*moved` bytes. */
static int body_to_heap(lg_conn *c, lg_exchange *ex, size_t need, size_t *moved)
{
    *moved = 0;
    /* Static memory has nothing beyond the receive buffer (413). */
    if (srv_of(c)->static_mem) return LG_ERR_BODY_TOO_LARGE;
    size_t cap = ex->body_buf_cap ? ex->body_buf_cap : 4096;
    if (ex->head.framing == LG_FRAMING_LENGTH) cap = (size_t)ex->head.content_length;
    while (cap < need) cap *= 2;
    if (cap > ex->body_limit) cap = (size_t)ex->body_limit;
    if (cap < need) return LG_ERR_BODY_TOO_LARGE;
    if (ex->body_buf && cap == ex->body_buf_cap) return LG_OK;
    char *b = lg__realloc(ex->body_buf, ex->body_buf_cap, cap ? cap : 1);
    if (!b) return LG_ERR_NOMEM;
    if (!ex->body_buf && ex->body_kept) {
        memcpy(b, lg_stream_peek(&c->s).ptr + ex->head_len, ex->body_kept);
        lg_stream_cut(&c->s, ex->head_len, ex->body_kept);
        *moved = ex->body_kept;
        ex->body_kept = 0;
    }
    ex->body_buf = b;
    ex->body_buf_cap = cap ? cap : 1;
    return LG_OK;
}

static void call_handler(lg_conn *c);

static void body_failed(lg_conn *c, int err)
{
    lg_exchange *ex = c->ex;
    c->flags |= CF_CLOSE_AFTER;
    if (ex->body_mode == BODY_STREAM) {
        ex->body_done = 1; /* nothing more will come */
        if (ex->on_chunk) ex->on_chunk(&ex->req, err, NULL, 0, ex->chunk_user);
        return;
    }
    if (ex->body_mode == BODY_DISCARD || ex->res.state != RES_NONE) {
        lg__conn_close(c);
        return;
    }
    int status = lg_err_http_status(err);
    if (err == LG_ERR_NOMEM) status = 503;
    if (!status) {
        lg__conn_close(c); /* the client left mid-body: nobody to answer */
        return;
    }
    ex->body_done = 1;
    lg__res_fail(ex, status, LG_ERR_MSG(err));
}

/* Hand one piece of decoded body to where it goes. *pos is the offset of
 * the next unread byte, which moves if the buffer is rearranged. Returns 0,
 * or an error for body_failed, or 1 when the connection moved on. */
static int take_piece(lg_conn *c, lg_exchange *ex, lg_str d, size_t *pos)
{
    lg_server *srv = srv_of(c);
    /* Discarding was decided with the answer's head (decide_keep_alive: a
     * body by length whose rest fit discard_body_bytes then), and the head
     * promised the client its connection: the rest is read to its end,
     * whatever the whole body's size. */
    if (ex->body_mode == BODY_DISCARD) return 0;
    if (ex->body_len > ex->body_limit) return LG_ERR_BODY_TOO_LARGE;
    if (ex->body_mode == BODY_STREAM) {
        if (ex->on_chunk) ex->on_chunk(&ex->req, LG_OK, d.ptr, d.len, ex->chunk_user);
        return c->ex != ex || !lg_stream_is_open(&c->s) ? 1 : 0;
    }
    size_t moved;
    if (ex->body_buf) {
        int rc = body_to_heap(c, ex, (size_t)ex->body_len, &moved);
        if (rc) return rc;
        memcpy(ex->body_buf + ex->body_len - d.len, d.ptr, d.len);
        return 0;
    }
    /* Gather the body right behind the head, in place. */
    char *at = (char *)(uintptr_t)lg_stream_peek(&c->s).ptr + ex->head_len + ex->body_kept;
    memmove(at, d.ptr, d.len);
    ex->body_kept += (uint32_t)d.len;
    /* A body by length got here only if it fits the buffer (start_request);
     * a chunked one needs room left for its framing to come. */
    if (ex->head.framing == LG_FRAMING_CHUNKED &&
        ex->head_len + ex->body_kept > srv->cfg.recv_buffer_bytes / 2) {
        /* A chunked body that will not fit: give it its own memory. */
        int rc = body_to_heap(c, ex, ex->body_kept, &moved);
        if (rc) return rc;
        *pos -= moved;
    }
    return 0;
}

/* Decoded body bytes a form gave back (lg__req_hold_body). */
static size_t held_bytes(const lg_exchange *ex)
{
#if !defined(LG_NO_FORMS)
    return ex->body_held;
#else
    (void)ex;
    return 0;
#endif
}

/* Take body bytes that are in the buffer. Returns 1 to keep processing. */
static int pump_body(lg_conn *c)
{
    lg_exchange *ex = c->ex;
    lg_server *srv = srv_of(c);
    /* Bytes given back (held) sit between the kept body and pos. */
    size_t pos = ex->head_len + ex->body_kept + held_bytes(ex);
    int progressed = 0;

#if !defined(LG_NO_FORMS)
    if (ex->body_held && !ex->body_paused) {
        /* What the handler gave back last time comes first (it is decoded
         * already: the body reader is past it). Anyone else drops it. */
        size_t held = ex->body_held;
        ex->body_held = 0;
        if (ex->body_mode == BODY_STREAM && ex->on_chunk) {
            lg_str buf = lg_stream_peek(&c->s);
            ex->on_chunk(&ex->req, LG_OK, buf.ptr + pos - held, held, ex->chunk_user);
            if (c->ex != ex || !lg_stream_is_open(&c->s)) return 0;
            progressed = 1;
        }
    }
#endif
    while (!ex->body_done && !ex->body_paused) {
        lg_str buf = lg_stream_peek(&c->s);
        size_t used;
        lg_str d;
        int ev = lg_body_read(&ex->body, buf.ptr + pos, buf.len - pos, &used, &d);
        if (ev < 0) {
            body_failed(c, ev);
            return 1;
        }
        pos += used;
        ex->body_raw += used;
        if (ev == LG_BODY_DONE) {
            ex->body_done = 1;
            break;
        }
        if (ev != LG_BODY_DATA) break;
        progressed = 1;
        ex->body_len += d.len;
        int rc = take_piece(c, ex, d, &pos);
        if (rc == 1) return 0;
        if (rc < 0) {
            body_failed(c, rc);
            return 1;
        }
    }
    /* Drop what was read, except the body kept behind the head and what
     * the handler gave back (the piece's tail: it ends at pos). */
    size_t keep_end = ex->head_len + ex->body_kept;
    if (pos - held_bytes(ex) > keep_end)
        lg_stream_cut(&c->s, keep_end, pos - held_bytes(ex) - keep_end);
    if (ex->body_paused) {
        /* The handler's sink is busy: nothing more is read (the client
         * waits in TCP's window), and no body timeout runs meanwhile. */
        lg_stream_read_stop(&c->s);
        lg_stream_set_timeout(&c->s, 0);
        return 0;
    }
    if (progressed) lg_stream_set_timeout(&c->s, srv->cfg.body_timeout_ms);

    if (!ex->body_done) {
        lg_ending end = lg_stream_ending(&c->s);
        if (end != LG_END_NONE) {
            body_failed(c, end == LG_END_RESET ? LG_ERR_RESET : LG_ERR_CLOSED_EARLY);
            return 1;
        }
        /* The decoder needs more than the buffer can hold: a trailer
         * section is taken whole, and bodies are cut from behind the head
         * as they come, so only trailers (or a chunk line) can fill it.
         * Waiting would end in 408 after the body timeout; say so now. */
        if (lg_stream_peek(&c->s).len >= srv->cfg.recv_buffer_bytes) {
            body_failed(c, LG_ERR_HEADERS_TOO_LARGE);
            return 1;
        }
        return 0; /* wait for more */
    }

    switch (ex->body_mode) {
    case BODY_BUFFER:
        call_handler(c);
        return 1;
    case BODY_STREAM:
        if (ex->on_chunk) ex->on_chunk(&ex->req, LG_OK, NULL, 0, ex->chunk_user);
        return c->ex == ex ? 0 : 1;
    case BODY_DISCARD:
        finish_exchange(c);
        return 1;
    default:
        return 1;
    }
}

void lg__conn_send_continue(lg_exchange *ex)
{
    lg_conn *c = ex->conn;
    if (ex->continue_sent || !(ex->head.flags & LG_HEAD_EXPECT_CONTINUE) || !c) return;
    ex->continue_sent = 1;
    /* A client that already started sending does not need it (RFC 9110
     * 10.1.1 lets us leave it out). */
    if (ex->body_raw == 0 && lg_stream_peek(&c->s).len <= ex->head_len) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        lg_stream_write(&c->s, cont, sizeof cont - 1);
    }
}

#if !defined(LG_NO_FORMS)
void lg__req_hold_body(lg_req *req, size_t n)
{
    lg_exchange *ex = req->ex;
    LG_ASSERT(ex->body_mode == BODY_STREAM && ex->body_paused);
    ex->body_held = (uint32_t)n;
}
#endif

int lg__conn_pause_body(lg_exchange *ex, int pause)
{
    lg_conn *c = ex->conn;
    if (ex->body_mode != BODY_STREAM || ex->body_done) return LG_ERR_INVALID_ARG;
    if (!c) return LG_ERR_CLOSED;
    if (pause) {
        ex->body_paused = 1; /* pump_body stops at the next piece */
        return LG_OK;
    }
    if (!ex->body_paused) return LG_OK;
    ex->body_paused = 0;
    lg_stream_set_timeout(&c->s, srv_of(c)->cfg.body_timeout_ms);
    if (!(c->flags & CF_IN_DATA)) {
        lg_stream_read_start(&c->s);
        lg_stream_redeliver(&c->s);
    }
    return LG_OK;
}

int lg__conn_stream_body(lg_exchange *ex)
{
    lg_conn *c = ex->conn;
    if (!c) return LG_ERR_CLOSED;
    ex->body_mode = BODY_STREAM;
    lg__conn_send_continue(ex);
    lg_stream_set_timeout(&c->s, srv_of(c)->cfg.body_timeout_ms);
    if (!(c->flags & CF_IN_DATA)) {
        lg_stream_read_start(&c->s);
        lg_stream_redeliver(&c->s);
    }
    return LG_OK;
}

/* --- dispatch --- */

/* A slice into [from, from + len] now points the same way into `to`. */
static void rebase(lg_str *s, const char *from, size_t len, const char *to)
{
    uintptr_t off = (uintptr_t)s->ptr - (uintptr_t)from;
    if (s->ptr && off <= len) s->ptr = to + off;
}

/* A handler kept a request whose body is all read (or that has none) to
 * answer it later: its head is all the connection still holds of it, yet
 * it keeps the whole receive buffer (recv_buffer_bytes, 4 KiB by default)
 * until the answer -- on a device or in MicroPython's heap, the most of
 * what a pending request costs. The head moves to a block of its exact
 * size, and the buffer goes back to the loop's cache for the next
 * connection that reads. A handler that answers at once (the fast path)
 * pays nothing: nothing is copied. Only when the application asked for it
 * (move_held_heads): slices it took before are stale then, and a C
 * handler may have kept some; the MicroPython binding asks req again
 * each time. Not done when anything else is in the buffer (a pipelined
 * request, which would keep it anyway), with static memory (no
 * allocation after the start), or when the block cannot be had (the
 * buffer stays, as before). */
static void move_head_apart(lg_conn *c, lg_exchange *ex)
{
    size_t n = ex->head_len;
    const lg_server *srv = srv_of(c);
    if (!srv->cfg.move_held_heads || srv->static_mem || !n || !ex->body_done || ex->body_kept ||
        ex->body_buf || held_bytes(ex) || !lg_stream_is_open(&c->s) || lg_stream_peek(&c->s).len != n)
        return;
    char *to = lg__alloc(n);
    if (!to) return;
    const char *from = lg_stream_peek(&c->s).ptr;
    memcpy(to, from, n);
    lg_head *h = &ex->head;
    rebase(&h->method, from, n, to);
    rebase(&h->target, from, n, to);
    rebase(&h->host, from, n, to);
    for (uint16_t i = 0; i < h->num_headers; i++) {
        rebase(&h->headers[i].name, from, n, to);
        rebase(&h->headers[i].value, from, n, to);
    }
    rebase(&ex->path_raw, from, n, to);
    rebase(&ex->query_raw, from, n, to);
    rebase(&ex->path, from, n, to); /* (or in the scratch space, decoded) */
    for (uint8_t i = 0; i < ex->match.nparams; i++) rebase(&ex->match.params[i], from, n, to);
    ex->head_apart = to;
    ex->head_apart_len = (uint32_t)n;
    /* Nothing of the request is in the buffer now: emptied, it is
     * released, and finish_exchange consumes nothing more. */
    ex->head_len = 0;
    lg_stream_consume(&c->s, n);
}

static void call_handler(lg_conn *c)
{
    lg_exchange *ex = c->ex;
    c->phase = PH_HANDLER;
    lg_stream_set_timeout(&c->s, 0); /* the application's pace is its own */
    const route *r = ex->match.route;
    ex->in_app = 1;
    r->handler(&ex->req, &ex->res, r->user);
    /* Answered inside, the exchange went back to the pool (c->ex is NULL,
     * or the next request's once a pipelined one was read). */
    if (c->ex == ex) move_head_apart(c, ex);
}

/* Percent-decode into the request's scratch space. A "%00" or a broken
 * escape makes the path unusable (and is a classic attack): -1; no room in
 * the scratch space: -2; no memory for it: -3. ("%2F" decodes to "/" here;
 * routing matched the raw segments already.) */
static int decode_into_scratch(lg_exchange *ex, lg_str in, lg_str *out)
{
    if (!memchr(in.ptr, '%', in.len)) {
        *out = in;
        return 0;
    }
    if (lg__exchange_scratch(ex) != LG_OK) return -3;
    char *d = ex->scratch + ex->scratch_len;
    int n = lg_url_decode_to(in, d, (size_t)(ex->scratch_cap - ex->scratch_len), 0);
    if (n == LG_ERR_BUFFER_TOO_SMALL) return -2;
    if (n < 0 || memchr(d, 0, (size_t)n)) return -1;
    out->ptr = d;
    out->len = (size_t)n;
    ex->scratch_len = (uint16_t)(ex->scratch_len + n);
    return 0;
}

/* Split the target into path and query (RFC 9112 3.2). */
static int split_target(lg_exchange *ex)
{
    lg_str t = ex->head.target;
    const char *p = t.ptr, *end = t.ptr + t.len;
    if (ex->head.target_form == LG_TARGET_ABSOLUTE) {
        const char *s = memchr(p, ':', t.len);
        p = s + 1;
        if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
            p += 2;
            while (p < end && *p != '/' && *p != '?') p++;
        }
        if (p == end || *p == '?') {
            /* "http://host" or "http://host?x": the path is "/" */
            ex->path_raw.ptr = "/";
            ex->path_raw.len = 1;
            ex->query_raw.ptr = p < end ? p + 1 : end;
            ex->query_raw.len = p < end ? (size_t)(end - p - 1) : 0;
            return decode_into_scratch(ex, ex->path_raw, &ex->path);
        }
    } else if (ex->head.target_form != LG_TARGET_ORIGIN) {
        ex->path_raw = t;
        ex->path = t;
        ex->query_raw.ptr = end;
        ex->query_raw.len = 0;
        return 0;
    }
    const char *q = memchr(p, '?', (size_t)(end - p));
    const char *path_end = q ? q : end;
    /* A fragment is not sent by clients; if one is, it is not path. */
    const char *hash = memchr(p, '#', (size_t)(path_end - p));
    ex->path_raw.ptr = p;
    ex->path_raw.len = (size_t)((hash ? hash : path_end) - p);
    ex->query_raw.ptr = q ? q + 1 : end;
    ex->query_raw.len = q ? (size_t)(end - q - 1) : 0;
    return decode_into_scratch(ex, ex->path_raw, &ex->path);
}

/* The path or a parameter could not be decoded (decode_into_scratch). */
static void path_failed(lg_conn *c, int bad)
{
    c->flags |= CF_CLOSE_AFTER;
    if (bad == -3) lg__res_fail(c->ex, 503, LG_ERR_MSG(LG_ERR_NOMEM));
    else if (bad == -2) lg__res_fail(c->ex, 414, LG_MSG("the decoded path is longer than scratch_bytes"));
    else lg__res_fail(c->ex, 400, LG_MSG("malformed percent-encoding in the path"));
}

static int run_before_hooks(lg_conn *c)
{
    lg_exchange *ex = c->ex;
    lg_server *srv = srv_of(c);
    for (uint8_t i = 0; i < srv->nbefore; i++) {
        c->phase = PH_HANDLER;
        ex->in_app = 1;
        if (srv->before[i].fn(&ex->req, &ex->res, srv->before[i].user)) return 1;
        if (c->ex != ex) return 1;
        ex->in_app = 0;
    }
    return 0;
}

/* A complete head is at the front of the buffer: decide what to do. */
static void start_request(lg_conn *c)
{
    lg_exchange *ex = c->ex;
    lg_server *srv = srv_of(c);
    lg_head *h = &ex->head;
    lg_body_reader_init(&ex->body, h);
    ex->body_done = (uint8_t)lg_body_reader_done(&ex->body);
    ex->body_limit = srv->cfg.max_body_bytes;
    c->phase = PH_HANDLER;
    lg_stream_set_timeout(&c->s, 0);

    int bad_path = split_target(ex);
    if (bad_path != 0) {
        if (bad_path != -3) srv->stats.bad_requests++;
        path_failed(c, bad_path);
        return;
    }
    if (h->flags & LG_HEAD_EXPECT_OTHER) {
        c->flags |= CF_CLOSE_AFTER;
        lg__res_fail(ex, 417, LG_MSG("only \"Expect: 100-continue\" is supported"));
        return;
    }
#if defined(LG_NO_CHUNKED_UPLOAD)
    if (h->framing == LG_FRAMING_CHUNKED) {
        /* This build takes bodies by length only: ask for one (RFC 9110
         * 15.5.12). The graceful close reads out whatever chunks come. */
        c->flags |= CF_CLOSE_AFTER;
        lg__res_fail(ex, 411, LG_MSG("send the body with a Content-Length"));
        return;
    }
#endif
    if (h->framing == LG_FRAMING_TUNNEL || h->method_id == LG_METHOD_CONNECT) {
        c->flags |= CF_CLOSE_AFTER;
        lg__res_fail(ex, 501, LG_MSG("CONNECT is not supported"));
        return;
    }
    if (run_before_hooks(c)) return;

    char allow[96];
    int m = lg__router_match(srv, h->method, ex->path_raw, &ex->match, allow, sizeof allow);
    if (m == ROUTE_NOT_FOUND) {
        lg__res_fail(ex, 404, LG_MSG("no route for this path"));
        return;
    }
    if (m == ROUTE_WRONG_METHOD) {
        lg_res_header(&ex->res, "Allow", allow);
        lg__res_fail(ex, 405, LG_MSG("this path does not take that method"));
        return;
    }
    for (uint8_t i = 0; i < ex->match.nparams; i++) {
        lg_str *v = &ex->match.params[i];
        int bad = decode_into_scratch(ex, *v, v);
        if (bad != 0) {
            path_failed(c, bad);
            return;
        }
    }
    ex->route_flags = (uint8_t)ex->match.route->flags;
    if (ex->body_done || (ex->route_flags & LG_ROUTE_STREAM_BODY)) {
        call_handler(c);
        return;
    }
    /* A body the handler gets whole. */
    if (h->framing == LG_FRAMING_LENGTH && h->content_length > ex->body_limit) {
        c->flags |= CF_CLOSE_AFTER;
        lg__res_fail(ex, 413, LG_MSG("the body is larger than this server takes"));
        return;
    }
    if (h->framing == LG_FRAMING_LENGTH && !body_fits_buffer(c, ex)) {
        size_t moved;
        int rc = body_to_heap(c, ex, (size_t)h->content_length, &moved);
        if (rc) {
            c->flags |= CF_CLOSE_AFTER;
            lg__res_fail(ex, rc == LG_ERR_NOMEM ? 503 : 413, LG_ERR_MSG(rc));
            return;
        }
    }
    ex->body_mode = BODY_BUFFER;
    c->phase = PH_BODY;
    lg__conn_send_continue(ex);
    lg_stream_set_timeout(&c->s, srv->cfg.body_timeout_ms);
}

/* A head that never parsed is not a request: the fields the parser filled
 * before it stopped (a method, half a target) must not reach the access
 * log or an error handler as if they were one. lg_req_error says why. */
static void forget_partial_head(lg_exchange *ex)
{
    lg_head *h = &ex->head;
    h->method.ptr = h->target.ptr = h->host.ptr = "";
    h->method.len = h->target.len = h->host.len = 0;
    h->num_headers = 0;
    h->method_id = LG_METHOD_OTHER;
    h->target_form = LG_TARGET_ORIGIN;
    h->framing = LG_FRAMING_NONE;
    h->flags = 0;
    h->version_minor = 1;
    ex->path = ex->path_raw = ex->query_raw = h->target;
}

/* Parse a head from the buffer. Returns 1 to keep processing. */
static int read_head(lg_conn *c)
{
    lg_server *srv = srv_of(c);
    lg_str buf = lg_stream_peek(&c->s);
    lg_ending end = lg_stream_ending(&c->s);
    if (buf.len == 0) {
        if (end != LG_END_NONE) lg__conn_close(c); /* the client is done with us */
        return 0;
    }
    if (!c->ex) {
        lg_exchange *ex = lg__exchange_get(srv);
        if (!ex && srv->static_mem) {
            /* Every request slot is busy (static memory): wait for one.
             * The bytes stay in the buffer, more wait in the kernel;
             * lg__conn_wake_waiting goes on when a slot comes free. */
            if (!(c->flags & CF_WAIT_SLOT)) srv->nwaiting++;
            c->flags |= CF_WAIT_SLOT;
            lg_stream_read_stop(&c->s);
            return 0;
        }
        if (!ex) {
            lg__conn_close(c);
            return 0;
        }
        ex->conn = c;
        ex->start_ms = now_of(c);
        c->ex = ex;
        if (c->requests != UINT16_MAX) c->requests++;
    }
    if (c->phase == PH_IDLE) {
        c->phase = PH_HEAD;
        c->ex->head_scanned = 0;
        lg_stream_set_timeout(&c->s, srv->cfg.header_timeout_ms);
    }
    lg_exchange *ex = c->ex;
    int n = lg_parse_request(&ex->head, buf.ptr, buf.len, ex->head_scanned,
                             srv->cfg.recv_buffer_bytes);
    if (n == 0) {
        ex->head_scanned = (uint32_t)buf.len;
        if (end != LG_END_NONE) lg__conn_close(c); /* vanished mid-head */
        return 0;
    }
    ex->head_scanned = 0;
    if (n < 0) {
        /* Malformed: answer with the codec's status and close (after the
         * answer, the graceful close drains whatever else they send). */
        forget_partial_head(ex);
        ex->error = n;
        c->flags |= CF_CLOSE_AFTER;
        c->phase = PH_HANDLER;
        srv->stats.bad_requests++;
        lg__res_fail(ex, lg_err_http_status(n), LG_ERR_MSG(n));
        return 1;
    }
    /* Pin the head at the very front: buffer compaction must never move it
     * while its slices are in use. */
    lg_stream_compact(&c->s);
    if (lg_stream_peek(&c->s).ptr != buf.ptr) {
        n = lg_parse_request(&ex->head, lg_stream_peek(&c->s).ptr, buf.len, 0,
                             srv->cfg.recv_buffer_bytes);
    }
    ex->head_len = (uint32_t)n;
    if (end != LG_END_NONE) c->flags |= CF_PEER_DONE;
    start_request(c);
    return 1;
}

static void process(lg_conn *c)
{
    for (int guard = 0; guard < 1000000; guard++) {
        if (!lg_stream_is_open(&c->s)) return;
        switch (c->phase) {
        case PH_IDLE:
            if (lg_stream_queued(&c->s) > srv_of(c)->cfg.max_unsent_bytes) {
                /* Back-pressure: a client that pipelines and does not read
                 * its answers gets no more of them until it takes these;
                 * its requests wait in the kernel, and its connection costs
                 * max_unsent_bytes (and one answer) at most. on_drain reads
                 * on; the send timeout closes a client that never does. */
                c->flags |= CF_HELD;
                lg_stream_read_stop(&c->s);
                return;
            }
            if (!read_head(c)) return;
            break;
        case PH_HEAD:
            if (!read_head(c)) return;
            break;
        case PH_BODY:
        case PH_DISCARD:
            if (!pump_body(c)) return;
            break;
        case PH_HANDLER:
            if (c->ex && c->ex->body_mode == BODY_STREAM && !c->ex->body_done) {
                if (!pump_body(c)) return;
                break;
            }
            /* The handler has the request: more input waits (in the
             * kernel) until it answers. A reset means nobody will read the
             * answer; an EOF may be a client that half-closed after its
             * request, so the answer still goes out. */
            if (lg_stream_ending(&c->s) == LG_END_RESET) {
                lg__conn_close(c);
                return;
            }
            if (lg_stream_ending(&c->s) == LG_END_EOF) c->flags |= CF_PEER_DONE | CF_CLOSE_AFTER;
            lg_stream_read_stop(&c->s);
            return;
        case PH_SENDING:
            if (lg_stream_ending(&c->s) == LG_END_RESET) {
                lg__conn_close(c);
                return;
            }
            lg_stream_read_stop(&c->s);
            return;
        default:
            return;
        }
    }
}

/* --- stream callbacks --- */

static void on_data(lg_stream *s)
{
    lg_conn *c = s->data;
    if (c->flags & CF_REJECTING) {
        lg_stream_consume(s, lg_stream_peek(s).len);
        return;
    }
    c->flags |= CF_IN_DATA;
    /* Answers to pipelined requests leave in one send. Not with static
     * memory: corked answers are copied, and the buffers are few; there
     * each answer goes straight to the network, which copies it itself. */
    int cork = !srv_of(c)->static_mem;
    if (cork) lg_stream_cork(s);
    process(c);
    /* process() is done: an answer that completes while the uncork sends
     * it (a file) must resume reading itself, so this flag goes first. */
    c->flags &= (uint8_t)~CF_IN_DATA;
    if (cork) lg_stream_uncork(s);
    /* Held back, and the uncork sent it all: read on (next tick). */
    if ((c->flags & CF_HELD) && !lg_stream_queued(s)) release_held(c);
    /* Answers given in process() were corked: only now is it known whether
     * one is still going out (watch the client reading it) or not (idle). */
    if (c->phase == PH_IDLE && lg_stream_is_open(s) && !lg_stream_queued(s))
        quiet_from_now(c, srv_of(c)->cfg.idle_timeout_ms);
}

static void on_drain(lg_stream *s)
{
    lg_conn *c = s->data;
    if (c->phase == PH_IDLE) quiet_from_now(c, srv_of(c)->cfg.idle_timeout_ms);
    if (c->flags & CF_HELD) release_held(c);
    lg__res_on_drain(c);
}

static void on_write_error(lg_stream *s, int err)
{
    lg_conn *c = s->data;
    /* The client is gone for sending, or took nothing of our answer for
     * send_timeout_ms (the stream dropped the rest); what it may still say
     * does not matter now. The graceful close finishes the job. */
    if (err == LG_ERR_TIMEOUT) srv_of(c)->stats.timeouts++;
    c->flags |= CF_CLOSE_AFTER;
    lg__conn_close(c);
}

/* A header, body or idle timeout (lg_stream_set_timeout). */
static void on_timeout(lg_stream *s)
{
    lg_conn *c = s->data;
    lg_server *srv = srv_of(c);
    srv->stats.timeouts++;
    switch (c->phase) {
    case PH_HEAD:
    case PH_BODY:
        if (c->ex && c->ex->res.state == RES_NONE) {
            c->flags |= CF_CLOSE_AFTER;
            c->ex->body_done = 1;
            /* A head that never completed is not a request: its half-parsed
             * fields must not reach after-hooks as one (lg_req_error says
             * why to an error handler). */
            if (c->phase == PH_HEAD) {
                forget_partial_head(c->ex);
                c->ex->error = LG_ERR_TIMEOUT;
            }
            lg__res_fail(c->ex, 408, LG_MSG("the request did not arrive in time"));
            return;
        }
        lg__conn_close(c);
        return;
    case PH_HANDLER:
        if (c->ex && c->ex->body_mode == BODY_STREAM && !c->ex->body_done) {
            body_failed(c, LG_ERR_TIMEOUT);
            return;
        }
        lg__conn_close(c);
        return;
    default:
        lg__conn_close(c);
        return;
    }
}

const lg_stream_callbacks lg__conn_callbacks = { on_data, on_drain, on_write_error,
                                                 lg__server_conn_closed, on_timeout, NULL };

void lg__conn_start(lg_conn *c)
{
    c->phase = PH_IDLE;
    /* The first request gets the (shorter) header timeout to show up. */
    quiet_from_now(c, srv_of(c)->cfg.header_timeout_ms);
}

#endif /* !LG_NO_SERVER */
