/*
 * The server object: listeners, the connection limit, pools of connection
 * and request objects (so a server in its steady state allocates nothing),
 * graceful shutdown, and the Date header cache.
 */
#include <string.h>

#include "server_internal.h" /* first: the build options decide what else */
#include "http1_internal.h"  /* the one HTTP-date formatter */
#include "assert_internal.h"
#if !defined(LG_NO_DATE)
#include <time.h>
#endif

#if !defined(LG_NO_SERVER)

static const lg_server_config defaults = {
    .max_conns = 256,
    .full_policy = LG_FULL_WAIT,
    .recv_buffer_bytes = LG_SERVER_DEFAULT_RECV_BUFFER,
    .max_headers = LG_SERVER_DEFAULT_MAX_HEADERS,
    .max_body_bytes = 1u << 20,
    .discard_body_bytes = 64u << 10,
    .header_timeout_ms = 10000,
    .body_timeout_ms = 30000,
    .idle_timeout_ms = 30000,
    .send_timeout_ms = 30000,
    .max_requests_per_conn = 1000,
    .linger_timeout_ms = 5000,
    .linger_max_bytes = 16u << 20,
    .scratch_bytes = 1024,
    .response_header_bytes = 1024,
};

static void make_room_timer(lg_timer *t);
static void update_accepting(lg_server *srv);

/* Connections accepted only to be told "503" beyond max_conns. */
#define MAX_REJECTING 16
/* Connections that gave way to a newcomer and still linger (waiting for
 * their client's EOF, a few hundred bytes each, no buffer): they no longer
 * count against max_conns, up to this many. */
#define MAX_GIVEN_WAY 16

#define DEF(field) \
    if (!cfg->field) cfg->field = defaults.field

static void fill_defaults(lg_server_config *cfg)
{
    DEF(max_conns);
    DEF(recv_buffer_bytes);
    DEF(max_headers);
    DEF(max_body_bytes);
    DEF(discard_body_bytes);
    DEF(header_timeout_ms);
    DEF(body_timeout_ms);
    DEF(idle_timeout_ms);
    DEF(send_timeout_ms);
    DEF(linger_timeout_ms);
    DEF(linger_max_bytes);
    DEF(scratch_bytes);
    DEF(response_header_bytes);
    DEF(max_requests_per_conn);
    if (cfg->recv_buffer_bytes < 256) cfg->recv_buffer_bytes = 256;
    /* A few buffers' worth of answers may wait for a pipelining client:
     * enough to keep its connection busy, little enough that a client
     * which never reads costs this much and no more. */
    if (!cfg->max_unsent_bytes) cfg->max_unsent_bytes = 4 * cfg->recv_buffer_bytes;
}

/* Every answer carries the Server line (and the Date line, 37 bytes, built
 * once a second into head_lines): a name that cannot be written there
 * would make every answer fail, so it is refused once, here. */
static int server_name_ok(lg_server *srv)
{
    char lines[LG__HEAD_LINES_BYTES];
    lg_writer w;
    if (strlen(srv->cfg.server_name) > LG_MAX_SERVER_NAME) return 0;
    lg_writer_init(&w, lines, sizeof lines);
    lg_write_header(&w, "Date", "Sun, 06 Nov 1994 08:49:37 GMT");
    if (srv->cfg.server_name[0]) lg_write_header(&w, "Server", srv->cfg.server_name);
    return w.err == LG_OK;
}

/* --- static memory: the block lg_server_config.memory is cut into
 * connections, request slots and buffers, each 8-byte aligned (they hold
 * 64-bit fields; the block itself may be a char array) --- */

static size_t exchange_bytes(const lg_server_config *cfg)
{
    return LG__EXCHANGE_BYTES(cfg->max_headers, cfg->response_header_bytes, cfg->scratch_bytes);
}

/* With dynamic memory a request slot is the exchange and its header
 * array; the response-header and scratch spaces come from block pools. */
static size_t dynamic_exchange_bytes(const lg_server_config *cfg)
{
    return LG__EXCHANGE_BYTES(cfg->max_headers, 0, 0);
}

static void fill_static_defaults(lg_server_config *cfg)
{
    cfg->full_policy = LG_FULL_WAIT; /* a 503 would need a connection beyond max_conns */
    if (!cfg->max_requests) cfg->max_requests = (uint16_t)(cfg->max_conns < 65535 ? cfg->max_conns : 65535);
    if (!cfg->buffers) {
        uint32_t b = cfg->max_conns + cfg->max_requests;
        cfg->buffers = (uint16_t)(b < 65535 ? b : 65535);
    }
}

static size_t static_bytes(const lg_server_config *cfg)
{
    return LG__STATIC_BYTES(cfg->max_conns, cfg->max_requests, cfg->buffers, exchange_bytes(cfg),
                            cfg->recv_buffer_bytes);
}

size_t lg_server_memory_size(const lg_server_config *config)
{
    lg_server_config cfg;
    if (config) cfg = *config;
    else memset(&cfg, 0, sizeof cfg);
    fill_defaults(&cfg);
    fill_static_defaults(&cfg);
    return static_bytes(&cfg);
}

/* Cut the block; everything allocated from here on comes out of it. */
static int use_static_memory(lg_server *srv)
{
    lg_server_config *cfg = &srv->cfg;
    fill_static_defaults(cfg);
    /* Buffers are taken whole by the stream: a size that is a multiple of
     * 8 keeps the next one aligned. */
    cfg->recv_buffer_bytes = (uint32_t)LG__ALIGN8(cfg->recv_buffer_bytes);
    srv->stream_cfg.recv_buffer_bytes = cfg->recv_buffer_bytes;
    if (!cfg->memory || cfg->memory_bytes < static_bytes(cfg)) return LG_ERR_NOMEM;
    char *p = (char *)(((uintptr_t)cfg->memory + 7u) & ~(uintptr_t)7u);
    for (uint32_t i = 0; i < cfg->max_conns; i++, p += LG__ALIGN8(sizeof(lg_conn))) {
        lg_conn *c = (lg_conn *)(void *)p;
        c->next = srv->free_conns;
        srv->free_conns = c;
    }
    size_t ex_size = LG__ALIGN8(srv->exchange_size);
    for (uint32_t i = 0; i < cfg->max_requests; i++, p += ex_size) {
        lg_exchange *ex = (lg_exchange *)(void *)p;
        ex->next_free = srv->free_exchanges;
        srv->free_exchanges = ex;
    }
    int rc = lg_loop_set_buffers(srv->loop, p, cfg->recv_buffer_bytes, cfg->buffers);
    if (rc) return rc;
    srv->static_mem = 1;
    /* A streamed answer may queue one buffer's worth (lg_res_write). */
    srv->high_water = cfg->recv_buffer_bytes;
    /* Everything that would grow later, sized now: one timer per
     * connection, one per listener (accept pauses), the shutdown's and
     * make_room's; a
     * backend slot per connection and listener, besides the watchers there
     * are (and the loop's wake-up). A closing connection keeps its slot in
     * max_conns until its on_close, which comes after the poll round in
     * which its descriptor went: a newcomer never needs room beside it.
     * (What the application adds later comes from the same tables.) */
    return lg_loop_reserve(srv->loop, cfg->max_conns + LG_MAX_LISTENERS + 2,
                           cfg->max_conns + LG_MAX_LISTENERS);
}

lg_server *lg_server_new(lg_loop *loop, const lg_server_config *config)
{
    lg_server *srv = lg__alloc(sizeof *srv);
    if (!srv) return NULL;
    memset(srv, 0, sizeof *srv);
    srv->loop = loop;
    if (config) srv->cfg = *config;
    fill_defaults(&srv->cfg);
    if (!srv->cfg.server_name) srv->cfg.server_name = "linger";
    if (!server_name_ok(srv)) {
        lg_log(loop, LG_LOG_ERROR, "lg_server_new: server_name cannot be sent (CR, LF or "
               "control characters, or longer than %u bytes)", (unsigned)LG_MAX_SERVER_NAME);
        lg__free(srv, sizeof *srv);
        return NULL;
    }
    srv->stream_cfg.recv_buffer_bytes = srv->cfg.recv_buffer_bytes;
    srv->stream_cfg.linger_timeout_ms = srv->cfg.linger_timeout_ms;
    srv->stream_cfg.linger_max_bytes = srv->cfg.linger_max_bytes;
    srv->stream_cfg.send_timeout_ms = srv->cfg.send_timeout_ms;
    /* A streamed answer is bounded by lg_res_write's LG_ERR_LIMIT; a
     * buffered one by what the handler handed over. */
    srv->stream_cfg.max_queued_bytes = 64u << 20;
    srv->high_water = 256u << 10;
    srv->exchange_size = srv->cfg.memory ? exchange_bytes(&srv->cfg) : dynamic_exchange_bytes(&srv->cfg);
    srv->hdr_blocks.size = srv->cfg.response_header_bytes;
    srv->scratch_blocks.size = srv->cfg.scratch_bytes;
    srv->stats.start_ms = lg_loop_now(loop);
    lg_timer_init(loop, &srv->shutdown_timer, NULL);
    lg_timer_init(loop, &srv->room_timer, make_room_timer);
    if (srv->cfg.memory && use_static_memory(srv) != LG_OK) {
        if (srv->static_mem) lg_loop_set_buffers(loop, NULL, 0, 0);
        lg__free(srv, sizeof *srv);
        return NULL;
    }
    return srv;
}

lg_loop *lg_server_loop(const lg_server *srv)
{
    return srv->loop;
}

const lg_server_stats *lg_server_get_stats(const lg_server *srv)
{
    return &srv->stats;
}

void lg_server_set_data(lg_server *srv, void *data)
{
    srv->user_data = data;
}

uint16_t lg_server_port(const lg_server *srv)
{
    return srv->nlisteners ? srv->listeners[0].addr.port : 0;
}

/* --- pools --- */

lg_exchange *lg__exchange_get(lg_server *srv)
{
    lg_exchange *ex = srv->free_exchanges;
    if (ex) {
        srv->free_exchanges = ex->next_free;
    } else {
        if (srv->static_mem) return NULL; /* every slot is busy: wait (server_conn.c) */
        ex = lg__alloc(srv->exchange_size);
        if (!ex) return NULL;
    }
    memset(ex, 0, sizeof *ex);
    char *mem = (char *)(ex + 1);
    ex->srv = srv;
    ex->req.ex = ex;
    ex->res.ex = ex;
#if !defined(LG_NO_FILES)
    ex->res.file_fd = -1;
#endif
    ex->head.headers = (lg_header *)(void *)mem;
    ex->head.max_headers = srv->cfg.max_headers;
    mem += srv->cfg.max_headers * sizeof(lg_header);
    if (srv->static_mem) {
        ex->res.hdr = mem;
        ex->res.hdr_cap = srv->cfg.response_header_bytes;
        mem += srv->cfg.response_header_bytes;
        ex->scratch = mem;
        ex->scratch_cap = srv->cfg.scratch_bytes;
    }
    return ex;
}

/* A block from the pool, or a new one; NULL when there is no memory. A
 * block holds at least the pointer that links it while it is free. */
static void *block_get(lg__block_pool *p)
{
    void *b = p->free;
    if (b) {
        memcpy(&p->free, b, sizeof(void *));
        return b;
    }
    return lg__alloc(p->size < sizeof(void *) ? sizeof(void *) : p->size);
}

static void block_put(lg__block_pool *p, void *b)
{
    memcpy(b, &p->free, sizeof(void *));
    p->free = b;
}

static void block_pool_free(lg__block_pool *p)
{
    while (p->free) {
        void *b = p->free;
        memcpy(&p->free, b, sizeof(void *));
        lg__free(b, p->size < sizeof(void *) ? sizeof(void *) : p->size);
    }
}

int lg__exchange_hdr(lg_exchange *ex)
{
    if (ex->res.hdr) return LG_OK;
    ex->res.hdr = block_get(&ex->srv->hdr_blocks);
    if (!ex->res.hdr) return LG_ERR_NOMEM;
    ex->res.hdr_cap = ex->srv->cfg.response_header_bytes;
    ex->res.hdr_len = 0;
    return LG_OK;
}

int lg__exchange_scratch(lg_exchange *ex)
{
    if (ex->scratch) return LG_OK;
    ex->scratch = block_get(&ex->srv->scratch_blocks);
    if (!ex->scratch) return LG_ERR_NOMEM;
    ex->scratch_cap = ex->srv->cfg.scratch_bytes;
    ex->scratch_len = 0;
    return LG_OK;
}

void lg__exchange_hdr_done(lg_exchange *ex)
{
    if (ex->srv->static_mem || !ex->res.hdr) return;
    block_put(&ex->srv->hdr_blocks, ex->res.hdr);
    ex->res.hdr = NULL;
    ex->res.hdr_len = ex->res.hdr_cap = 0;
}

void lg__exchange_put(lg_server *srv, lg_exchange *ex)
{
    if (ex->body_buf) lg__free(ex->body_buf, ex->body_buf_cap);
    ex->body_buf = NULL;
    lg__exchange_hdr_done(ex);
    if (!srv->static_mem && ex->scratch) block_put(&srv->scratch_blocks, ex->scratch);
    ex->scratch = NULL;
    if (ex->head_apart) lg__free(ex->head_apart, ex->head_apart_len);
    ex->head_apart = NULL;
#if !defined(LG_NO_FORMS)
    if (ex->form) ex->form->free(ex);
#endif
    lg_defer_cancel(srv->loop, &ex->res.fill_defer);
    ex->next_free = srv->free_exchanges;
    srv->free_exchanges = ex;
    if (srv->nwaiting) lg__conn_wake_waiting(srv);
}

/* --- accepting --- */

static void pause_accepting(lg_server *srv, int pause)
{
    if (srv->accept_paused == pause) return;
    srv->accept_paused = (uint8_t)pause;
    for (uint8_t i = 0; i < srv->nlisteners; i++)
        if (srv->listeners[i].io.fd >= 0) lg_io_set(&srv->listeners[i].io, pause ? 0 : LG_READABLE);
}

/* A connection that may give way to a newcomer: between requests, with
 * nothing buffered, queued or in hand — a kept-alive one, or one that has
 * not sent a byte since it connected (a browser's speculative
 * pre-connection, or a socket held open to starve a small device: with
 * 4-8 connections those would otherwise hold every slot until their
 * header timeout). */
static int can_give_way(const lg_conn *c)
{
    return c->phase == PH_IDLE && !c->ex && !(c->flags & (CF_REJECTING | CF_HELD)) &&
           !lg_stream_peek(&c->s).len && !lg_stream_queued(&c->s);
}

/* A client sends its request right after connecting; one that has said
 * nothing for this long is not about to (and what it may still send is
 * read and dropped by the graceful close, not reset). A kept-alive
 * connection needs no such wait: its client knows it may be closed. */
static uint32_t silent_grace_ms(const lg_server *srv)
{
    uint32_t half = srv->cfg.header_timeout_ms / 2;
    return half < LG_SILENT_GRACE_MS ? half : LG_SILENT_GRACE_MS;
}

/* Full, and a newcomer waits: the connection quiet longest gives way,
 * closed gracefully. Its client reconnects when it needs to; the newcomer
 * would otherwise wait for an idle or header timeout. This runs after the
 * round of events in which the newcomer was seen, so that a connection
 * whose request came in the same round has read it and is no longer
 * quiet; and again when a silent one's grace is over. */
static void make_room_now(lg_server *srv)
{
    if (!srv->newcomer_waiting || srv->shutting_down || srv->nconns < srv->cfg.max_conns) return;
    uint32_t now = (uint32_t)lg_loop_now(srv->loop), grace = silent_grace_ms(srv);
    uint32_t soonest = UINT32_MAX; /* until a silent one may give way */
    lg_conn *oldest = NULL;
    for (lg_conn *c = srv->conns; c; c = c->next) {
        if (!can_give_way(c)) continue;
        uint32_t quiet = now - c->quiet_ms;
        if (!(c->flags & CF_SERVED) && quiet < grace) {
            if (grace - quiet < soonest) soonest = grace - quiet;
            continue;
        }
        if (!oldest || (int32_t)(c->quiet_ms - oldest->quiet_ms) < 0) oldest = c;
    }
    if (oldest) {
        srv->stats.idle_recycled++;
        lg__conn_close(oldest);
        /* Its close lingers until its client's EOF, which a socket left
         * open on purpose never sends: the newcomer need not wait for that.
         * (With static memory the slot is all there is: it waits.) */
        if (!srv->static_mem && srv->ngiven < MAX_GIVEN_WAY && oldest->phase == PH_CLOSING &&
            srv->nconns) {
            oldest->flags |= CF_GAVE_WAY;
            srv->nconns--;
            srv->ngiven++;
            srv->stats.active_connections = srv->nconns;
            update_accepting(srv);
        }
        return;
    }
    /* Every connection is busy: the answers now in flight will say
     * "Connection: close" (decide_keep_alive), freeing a slot. */
    srv->someone_waiting = 1;
    if (soonest != UINT32_MAX) lg_timer_start(&srv->room_timer, soonest);
}

static void make_room_deferred(lg_defer *d)
{
    make_room_now(LG_CONTAINER_OF(d, lg_server, room_defer));
}

static void make_room_timer(lg_timer *t)
{
    make_room_now(LG_CONTAINER_OF(t, lg_server, room_timer));
}

static void make_room(lg_listener *l)
{
    lg_server *srv = l->data;
    srv->newcomer_waiting = 1;
    lg_defer_call(srv->loop, &srv->room_defer, make_room_deferred);
}

static void hold_accepting(lg_server *srv, int hold)
{
    for (uint8_t i = 0; i < srv->nlisteners; i++)
        if (srv->listeners[i].io.fd >= 0) lg_listener_hold(&srv->listeners[i], hold, make_room);
}

/* Before accepting, be sure the next connection can be taken in: a
 * connection object and room for its two timers. A socket accepted without
 * them would have to be dropped, maybe with a request already in it (RST). */
static int prepare_spare(lg_server *srv)
{
    /* Static memory: the slots and the timers were all made at the start,
     * and below max_conns a slot is always free (no 503s to answer). */
    if (srv->static_mem) return LG_OK;
    if (!srv->free_conns) {
        lg_conn *c = lg__alloc(sizeof *c);
        if (!c) return LG_ERR_NOMEM;
        c->next = NULL;
        srv->free_conns = c;
    }
    /* One timer per connection (its stream's): room for all of them
     * and the newcomer's, counted from the timers running now. */
    return lg_loop_reserve(srv->loop, srv->nconns + srv->nrejecting + srv->ngiven + 1, 0);
}

/* Accept only what we can serve (or, with LG_FULL_REJECT, answer 503): a
 * socket we would have to drop is better left in the kernel's backlog. */
static void update_accepting(lg_server *srv)
{
    int full = srv->nconns >= srv->cfg.max_conns &&
               (srv->cfg.full_policy != LG_FULL_REJECT || srv->nrejecting >= MAX_REJECTING);
    srv->low_memory = prepare_spare(srv) != LG_OK;
    if (full && !srv->low_memory && srv->cfg.full_policy == LG_FULL_WAIT) {
        /* Watch for newcomers without taking them: see make_room. */
        srv->accept_paused = 0;
        hold_accepting(srv, 1);
        return;
    }
    hold_accepting(srv, 0);
    srv->someone_waiting = 0;
    srv->newcomer_waiting = 0;
    lg_timer_stop(&srv->room_timer);
    srv->accept_paused = 0;
    pause_accepting(srv, full || srv->low_memory);
}

static void check_shutdown_done(lg_server *srv)
{
    if (!srv->shutting_down || srv->nconns || srv->nrejecting || srv->ngiven) return;
    lg_timer_stop(&srv->shutdown_timer);
    void (*done)(lg_server *, void *) = srv->shutdown_done;
    srv->shutdown_done = NULL;
    if (done) done(srv, srv->shutdown_user);
}

void lg__server_conn_closed(lg_stream *s)
{
    lg_conn *c = LG_CONTAINER_OF(s, lg_conn, s);
    lg_server *srv = c->srv;
    if (c->phase != PH_UPGRADED && c->ex) {
        lg_exchange *ex = c->ex;
        c->ex = NULL;
        ex->conn = NULL;
        /* A handler still holding the request keeps it until it answers;
         * otherwise it goes back to the pool now. */
        if (ex->in_app && ex->res.state != RES_DONE) lg__res_conn_gone(ex);
        else lg__exchange_put(srv, ex);
    }
    if (c->prev) c->prev->next = c->next;
    else srv->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    if (c->flags & CF_REJECTING) srv->nrejecting--;
    else if (c->flags & CF_GAVE_WAY) srv->ngiven--;
    else srv->nconns--;
    if (c->flags & CF_WAIT_SLOT) srv->nwaiting--;
    srv->stats.active_connections = srv->nconns;
    c->next = srv->free_conns;
    srv->free_conns = c;
    if (!srv->shutting_down) update_accepting(srv);
    check_shutdown_done(srv);
}

static void reject_full(lg_conn *c)
{
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
                               "Content-Type: text/plain\r\n"
                               "Content-Length: 40\r\n"
                               "Retry-After: 1\r\n"
                               "Connection: close\r\n\r\n"
                               "503 Service Unavailable: server is full\n";
    lg_stream_write(&c->s, busy, sizeof busy - 1);
    lg_stream_close(&c->s);
}

static void on_accept(lg_listener *l, int fd, const lg_addr *peer)
{
    lg_server *srv = l->data;
    LG_UNUSED(peer); /* asked of the socket if a handler wants it */
    lg_loop *loop = srv->loop;
    int rejecting = srv->nconns >= srv->cfg.max_conns;
    if (rejecting && (srv->cfg.full_policy != LG_FULL_REJECT || srv->nrejecting >= MAX_REJECTING)) {
        /* update_accepting stops accepts before this can happen. Should it
         * anyway, there is no slot to linger with: read what came, FIN,
         * close. */
        lg_close_unserved(loop, fd);
        update_accepting(srv);
        return;
    }
    lg_conn *c = srv->free_conns; /* prepare_spare made sure of it */
    if (!c) {
        lg_close_unserved(loop, fd);
        update_accepting(srv);
        return;
    }
    srv->free_conns = c->next;
    memset(c, 0, sizeof *c);
    c->srv = srv;
    if (lg_stream_open(loop, &c->s, fd, &srv->stream_cfg, &lg__conn_callbacks, c) != LG_OK) {
        c->next = srv->free_conns;
        srv->free_conns = c;
        update_accepting(srv);
        return;
    }
    c->next = srv->conns;
    if (srv->conns) srv->conns->prev = c;
    srv->conns = c;
    srv->stats.connections++;
    /* Its transport (TLS). None to be had (out of memory): it is refused as
     * a 503 is, closed gracefully before a byte was read either way. */
    int no_transport = 0;
    if (srv->cfg.transport) {
        lg_transport *t = srv->cfg.transport(&c->s, NULL, srv->cfg.transport_user);
        no_transport = !t || lg_stream_set_transport(&c->s, t) != LG_OK;
    }
    if (rejecting || no_transport) {
        c->flags |= CF_REJECTING;
        srv->nrejecting++;
        update_accepting(srv);
        if (no_transport) {
            lg__conn_close(c);
        } else {
            srv->stats.rejected_full++;
            reject_full(c);
        }
        return;
    }
    srv->nconns++;
    srv->stats.active_connections = srv->nconns;
    update_accepting(srv);
    lg__conn_start(c);
}

int lg_server_listen(lg_server *srv, const char *addr, unsigned flags)
{
    if (srv->nlisteners == LG_MAX_LISTENERS) return LG_ERR_LIMIT;
    lg_listener *l = &srv->listeners[srv->nlisteners];
    int rc = prepare_spare(srv);
    if (rc) return rc;
    rc = lg_listen(srv->loop, l, addr, flags, 511, on_accept, srv);
    if (rc) return rc;
    srv->nlisteners++;
    if (srv->accept_paused) lg_io_set(&l->io, 0);
    return LG_OK;
}

/* --- shutdown --- */

static void shutdown_deadline(lg_timer *t)
{
    lg_server *srv = LG_CONTAINER_OF(t, lg_server, shutdown_timer);
    for (lg_conn *c = srv->conns; c; c = c->next) lg__conn_close(c);
}

void lg_server_shutdown(lg_server *srv, uint32_t deadline_ms, void (*done)(lg_server *, void *),
                        void *user)
{
    srv->shutting_down = 1;
    srv->shutdown_done = done;
    srv->shutdown_user = user;
    for (uint8_t i = 0; i < srv->nlisteners; i++) lg_listener_close(&srv->listeners[i]);
    for (lg_conn *c = srv->conns, *next; c; c = next) {
        next = c->next;
        c->flags |= CF_CLOSE_AFTER;
        if (c->phase == PH_IDLE || (c->flags & CF_REJECTING)) lg__conn_close(c);
        else if (c->phase == PH_UPGRADED) srv->upgraded_shutdown(c);
    }
    if (srv->sse_shutdown) srv->sse_shutdown(srv);
    srv->shutdown_timer.cb = shutdown_deadline;
    if (srv->nconns) lg_timer_start(&srv->shutdown_timer, deadline_ms);
    check_shutdown_done(srv); /* or when the last one has closed */
}

/* A connection still open when its server is freed (the loop stopped
 * without a shutdown, or before it was done): closed at once, its
 * on_close now, so that everything it holds goes back before the memory
 * does — its buffer, its transport (a TLS session, to the TLS block with
 * lg_tls_memory), its request. A request the application still holds (an
 * answer it was to give later, a producer's next fill) is taken back too:
 * it must not be answered after lg_server_free. */
static void close_now(lg_server *srv, lg_conn *c)
{
    lg_exchange *ex = c->phase != PH_UPGRADED ? c->ex : NULL;
    lg_stream_close_now(&c->s); /* on_close: it leaves srv->conns */
    if (ex && ex->in_app && ex->res.state != RES_DONE) {
        ex->res.state = RES_DONE;
        ex->in_app = 0;
        lg__exchange_put(srv, ex); /* (cancels a producer's fill) */
    }
}

void lg_server_free(lg_server *srv)
{
    if (!srv) return;
    for (uint8_t i = 0; i < srv->nlisteners; i++) lg_listener_close(&srv->listeners[i]);
    lg_timer_stop(&srv->shutdown_timer);
    lg_timer_stop(&srv->room_timer);
    lg_defer_cancel(srv->loop, &srv->room_defer);
    /* No shutdown's done, no accepting again, while the last go. */
    srv->shutting_down = 1;
    srv->shutdown_done = NULL;
    while (srv->conns) {
        lg_conn *c = srv->conns;
        close_now(srv, c);
        LG_ASSERT(srv->conns != c); /* its on_close took it off the list */
    }
    if (srv->static_mem) {
        /* Nothing here was allocated; the buffers go back to their owner. */
        srv->free_conns = NULL;
        srv->free_exchanges = NULL;
        lg_loop_set_buffers(srv->loop, NULL, 0, 0);
    }
    while (srv->free_conns) {
        lg_conn *c = srv->free_conns;
        srv->free_conns = c->next;
        lg__free(c, sizeof *c);
    }
    while (srv->free_exchanges) {
        lg_exchange *ex = srv->free_exchanges;
        srv->free_exchanges = ex->next_free;
        lg__free(ex, srv->exchange_size);
    }
    block_pool_free(&srv->hdr_blocks);
    block_pool_free(&srv->scratch_blocks);
    lg__router_free(srv);
    lg__static_free(srv);
    lg__free(srv, sizeof *srv);
}

/* --- hooks and routes --- */

int lg_route(lg_server *srv, const char *method, const char *pattern, lg_handler handler,
             void *user)
{
    return lg__router_add(srv, method, pattern, 0, handler, user);
}

int lg_route_ex(lg_server *srv, const char *method, const char *pattern, unsigned flags,
                lg_handler handler, void *user)
{
    return lg__router_add(srv, method, pattern, flags, handler, user);
}

int lg_server_before(lg_server *srv, lg_hook hook, void *user)
{
    if (srv->nbefore == LG_MAX_HOOKS) return LG_ERR_LIMIT;
    srv->before[srv->nbefore].fn = hook;
    srv->before[srv->nbefore++].user = user;
    return LG_OK;
}

int lg_server_after(lg_server *srv, lg_hook hook, void *user)
{
    if (srv->nafter == LG_MAX_HOOKS) return LG_ERR_LIMIT;
    srv->after[srv->nafter].fn = hook;
    srv->after[srv->nafter++].user = user;
    return LG_OK;
}

int lg_server_on_error(lg_server *srv, int status, lg_handler handler, void *user)
{
    for (uint8_t i = 0; i < srv->nerror; i++) {
        if (srv->errors[i].status == status) {
            srv->errors[i].handler = handler;
            srv->errors[i].user = user;
            return LG_OK;
        }
    }
    if (srv->nerror == LG_MAX_ERROR_HANDLERS) return LG_ERR_LIMIT;
    srv->errors[srv->nerror].status = status;
    srv->errors[srv->nerror].handler = handler;
    srv->errors[srv->nerror++].user = user;
    return LG_OK;
}

/* --- Date (RFC 9110 5.6.7 IMF-fixdate), formatted once a second --- */

#if !defined(LG_NO_DATE)
static const char *server_date(lg_server *srv)
{
    if (srv->cfg.no_date) return NULL;
    time_t now = time(NULL);
    if ((uint64_t)now != srv->date_second || !srv->date[0]) {
        lg__http_date_format((int64_t)now, srv->date);
        srv->date_second = (uint64_t)now;
        srv->head_lines_ok = 0;
    }
    return srv->date;
}
#endif

int lg__server_head_lines(lg_server *srv, char *out, size_t cap)
{
#if defined(LG_NO_DATE)
    lg_writer w;
    lg_writer_init(&w, out, cap);
    if (srv->cfg.server_name[0]) lg_write_header(&w, "Server", srv->cfg.server_name);
    return w.err ? -1 : (int)w.len;
#else
    const char *date = server_date(srv); /* a new second clears head_lines_ok */
    if (!srv->head_lines_ok) {
        lg_writer w;
        lg_writer_init(&w, srv->head_lines, sizeof srv->head_lines);
        if (date) lg_write_header(&w, "Date", date);
        if (srv->cfg.server_name[0]) lg_write_header(&w, "Server", srv->cfg.server_name);
        if (w.err) return -1;
        srv->head_lines_len = (uint16_t)w.len;
        srv->head_lines_ok = 1;
    }
    if (srv->head_lines_len > cap) return -1;
    memcpy(out, srv->head_lines, srv->head_lines_len);
    return srv->head_lines_len;
#endif
}

#endif /* !LG_NO_SERVER */
