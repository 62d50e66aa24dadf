/*
 * Connections and the pool: one origin (scheme, host and port; https only
 * with a transport factory, which makes each connection's TLS) keeps its
 * kept-alive connections, a count against its limit, and a queue of calls
 * waiting for a connection.
 *
 * Life of a connection (c->state):
 *
 *   RESOLVING -> CONNECTING -> BUSY <-> IDLE
 *        \            \          \       \
 *         `------------`----------`-------`--> CLOSING (stream closing;
 *                                              freed by on_close)
 *
 * Closing goes through lg__cconn_close only: gracefully (the stream flushes,
 * sends FIN and waits for the server's, rule 3), or with RST when the
 * exchange failed while the server was still talking.
 */
#include <string.h>

#include "client_internal.h"
#include "http1_internal.h"

#if !defined(LG_NO_CLIENT)

static const lg_stream_callbacks conn_cbs;

/* ---------------------------------------------------------------------------
 * Origins
 * ------------------------------------------------------------------------ */

/* The origin key of a URL: its host, percent-decoded (and compared without
 * case: origin_get), and its port. */
static int origin_host(const lg_url *u, char *out, size_t cap)
{
    int n = lg_url_decode_to(u->host, out, cap - 1, 0);
    if (n <= 0 || memchr(out, 0, (size_t)n)) return LG_ERR_URL;
    out[n] = 0;
    return n;
}

static void origin_kick_cb(lg_defer *d);

static origin *origin_get(lg_client *cli, int https, const char *host, size_t len, uint16_t port)
{
    for (origin *o = cli->origins; o; o = o->next)
        if (o->port == port && o->https == https && o->host_len == len &&
            lg__ieq(o->host, host, len))
            return o;
    origin *o = lg__alloc(sizeof *o + len + 1);
    if (!o) return NULL;
    memset(o, 0, sizeof *o);
    o->cli = cli;
    o->https = (uint8_t)https;
    o->port = port;
    o->host_len = (uint16_t)len;
    memcpy(o->host, host, len + 1);
    o->next = cli->origins;
    cli->origins = o;
    return o;
}

/* Forget an origin that has nothing left: no connection, no waiter. */
void lg__origin_release_empty(lg_client *cli, origin *o)
{
    if (!o || o->open || o->idle || o->wait_head || o->kick.next /* queued */) return;
    for (origin **pp = &cli->origins; *pp; pp = &(*pp)->next) {
        if (*pp != o) continue;
        *pp = o->next;
        lg__free(o, sizeof *o + o->host_len + 1u);
        return;
    }
}

void lg__origin_unqueue(lg_call *call)
{
    origin *o = call->waiting_on;
    if (!o) return;
    lg_call *prev = NULL;
    for (lg_call *w = o->wait_head; w; prev = w, w = w->wait_next) {
        if (w != call) continue;
        if (prev) prev->wait_next = w->wait_next;
        else o->wait_head = w->wait_next;
        if (o->wait_tail == w) o->wait_tail = prev;
        break;
    }
    call->waiting_on = NULL;
    call->wait_next = NULL;
}

/* A slot is free: let the next waiting call try again, on the next tick
 * (never from inside another call's callbacks). */
static void origin_kick(origin *o)
{
    if (o->wait_head) lg_defer_call(o->cli->loop, &o->kick, origin_kick_cb);
}

/* ---------------------------------------------------------------------------
 * Connections
 * ------------------------------------------------------------------------ */

static void idle_remove(client_conn *c)
{
    origin *o = c->org;
    if (c->state != CS_IDLE || !o) return;
    if (c->idle_prev) c->idle_prev->idle_next = c->idle_next;
    else o->idle = c->idle_next;
    if (c->idle_next) c->idle_next->idle_prev = c->idle_prev;
    c->idle_next = c->idle_prev = NULL;
    lg_timer_stop(&c->idle_timer);
}

void lg__cconn_free(client_conn *c)
{
    lg_client *cli = c->cli;
    cli->conns--;
    lg__free(c, sizeof *c);
}

void lg__cconn_close(client_conn *c, int abort)
{
    if (c->state == CS_CLOSING) return;
    lg_client *cli = c->cli;
    origin *o = c->org;
    /* A server sends nothing unasked between answers: an idle connection
     * closes at once unless something came after all (the stream looks). */
    if (c->state == CS_IDLE) lg_stream_peer_done(&c->s);
    idle_remove(c);
    lg_timer_stop(&c->idle_timer);
    c->call = NULL;
    c->org = NULL;
    if (o) o->open--;
    c->state = CS_CLOSING;
    if (c->stream_open) {
        if (abort) lg_stream_abort(&c->s);
        else lg_stream_close(&c->s);
    } else {
        if (c->resolving) lg_resolve_cancel(&c->resolve);
        if (c->connecting) lg_connect_cancel(&c->connect);
        lg__cconn_free(c);
    }
    if (o) {
        origin_kick(o);
        lg__origin_release_empty(cli, o);
    }
}

static void attach(client_conn *c, lg_call *call)
{
    c->call = call;
    call->conn = c;
    if (!c->stream_open) {
        call->phase = PH_CONNECTING;
        call->stage = c->state == CS_RESOLVING ? LG_STAGE_RESOLVE : LG_STAGE_CONNECT;
        return;
    }
    c->state = CS_BUSY;
    if (c->served) {
        call->flags |= CF_REUSED;
        c->cli->stats.reuses++;
    }
    lg__send_request(call);
}

/* Connecting failed for good: the call it was for fails with the reason. */
static void conn_failed(client_conn *c, int err)
{
    lg_call *call = c->call;
    if (call) {
        call->conn = NULL;
        c->call = NULL;
    }
    lg__cconn_close(c, 0);
    if (call) lg__call_fail(call, err);
}

static void on_connected(lg_connect_req *req, int status, int fd);

static void try_connect(client_conn *c)
{
    lg_client *cli = c->cli;
    while (c->next_addr < c->naddrs) {
        c->connect.data = c;
        int rc = lg_connect(cli->loop, &c->connect, &c->addrs[c->next_addr++],
                            cli->cfg.connect_timeout_ms, on_connected);
        if (rc == LG_OK) {
            c->connecting = 1;
            return;
        }
        c->last_err = rc;
    }
    conn_failed(c, c->last_err ? c->last_err : LG_ERR_REFUSED);
}

static void on_connected(lg_connect_req *req, int status, int fd)
{
    client_conn *c = req->data;
    lg_client *cli = c->cli;
    CLIENT_ENTER(cli);
    c->connecting = 0;
    if (status != LG_OK) {
        /* the next address, if the name had several */
        c->last_err = status;
        try_connect(c);
        CLIENT_LEAVE(cli);
        return;
    }
    int rc = lg_stream_open(cli->loop, &c->s, fd, &cli->stream_cfg, &conn_cbs, c);
    if (rc) {
        conn_failed(c, rc);
        CLIENT_LEAVE(cli);
        return;
    }
    c->stream_open = 1;
    cli->stats.connects++;
    if (cli->cfg.transport) {
        /* The connection's transport (TLS, or none for http); none to be
         * had: the connection fails with the factory's reason, closed
         * before a byte went either way. */
        lg_transport *t = NULL;
        rc = cli->cfg.transport(&c->s, c->org->https ? "https" : "http", c->org->host,
                                c->org->port, &t, cli->cfg.transport_user);
        if (rc == LG_OK && t) rc = lg_stream_set_transport(&c->s, t);
        if (rc != LG_OK) {
            conn_failed(c, rc);
            CLIENT_LEAVE(cli);
            return;
        }
    }
    /* A connection is opened for a call and cancelled with it, so one is
     * there; should it not be, the connection has no use. */
    if (c->call) attach(c, c->call);
    else lg__cconn_close(c, 0);
    CLIENT_LEAVE(cli);
}

static void on_resolved(lg_resolve_req *req, int status, const lg_addr *addrs, size_t n)
{
    client_conn *c = req->data;
    lg_client *cli = c->cli;
    CLIENT_ENTER(cli);
    c->resolving = 0;
    if (status != LG_OK || n == 0) {
        conn_failed(c, status == LG_ERR_TIMEOUT ? LG_ERR_TIMEOUT : LG_ERR_RESOLVE);
    } else {
        c->naddrs = (uint8_t)(n < CLIENT_MAX_ADDRS ? n : CLIENT_MAX_ADDRS);
        memcpy(c->addrs, addrs, c->naddrs * sizeof *addrs);
        c->state = CS_CONNECTING;
        if (c->call) c->call->stage = LG_STAGE_CONNECT;
        try_connect(c);
    }
    CLIENT_LEAVE(cli);
}

static void on_idle_timeout(lg_timer *t)
{
    client_conn *c = LG_CONTAINER_OF(t, client_conn, idle_timer);
    lg_client *cli = c->cli;
    CLIENT_ENTER(cli);
    cli->stats.idle_closes++;
    lg__cconn_close(c, 0);
    CLIENT_LEAVE(cli);
}

static int conn_open(origin *o, lg_call *call)
{
    lg_client *cli = o->cli;
    client_conn *c = lg__alloc(sizeof *c);
    if (!c) return LG_ERR_NOMEM;
    memset(c, 0, sizeof *c);
    c->cli = cli;
    c->org = o;
    c->state = CS_RESOLVING;
    lg_timer_init(cli->loop, &c->idle_timer, on_idle_timeout);
    o->open++;
    cli->conns++;
    attach(c, call);
    c->resolve.data = c;
    int rc = lg_resolve(cli->loop, &c->resolve, o->host, o->port, cli->cfg.connect_timeout_ms,
                        on_resolved);
    if (rc) {
        call->conn = NULL;
        c->call = NULL;
        lg__cconn_close(c, 0);
        return rc == LG_ERR_UNSUPPORTED ? LG_ERR_RESOLVE : rc;
    }
    c->resolving = 1;
    return LG_OK;
}

int lg__origin_dispatch(lg_call *call)
{
    lg_client *cli = call->cli;
    char host[256];
    int n = origin_host(&call->u, host, sizeof host);
    if (n < 0) return n;
    origin *o = origin_get(cli, lg__str_ieq(call->u.scheme, "https"), host, (size_t)n, call->u.port);
    if (!o) return LG_ERR_NOMEM;
    if (o->idle && !(call->flags & CF_FRESH)) {
        client_conn *c = o->idle;
        idle_remove(c);
        attach(c, call);
        return LG_OK;
    }
    if (o->idle && o->open >= cli->cfg.max_conns_per_origin) {
        /* The retry wants a fresh connection and every slot is taken:
         * give up the oldest kept-alive one (the likeliest to be stale). */
        client_conn *oldest = o->idle;
        while (oldest->idle_next) oldest = oldest->idle_next;
        lg__cconn_close(oldest, 0);
    }
    if (o->open < cli->cfg.max_conns_per_origin) return conn_open(o, call);
    call->waiting_on = o;
    call->wait_next = NULL;
    if (o->wait_tail) o->wait_tail->wait_next = call;
    else o->wait_head = call;
    o->wait_tail = call;
    return LG_OK;
}

static void origin_kick_cb(lg_defer *d)
{
    origin *o = LG_CONTAINER_OF(d, origin, kick);
    lg_client *cli = o->cli;
    CLIENT_ENTER(cli);
    /* Each waiting call at most once: one that cannot go is queued again. */
    int n = 0;
    for (lg_call *w = o->wait_head; w; w = w->wait_next) n++;
    while (n-- > 0 && o->wait_head && (o->idle || o->open < cli->cfg.max_conns_per_origin)) {
        lg_call *call = o->wait_head;
        lg__origin_unqueue(call);
        int rc = lg__origin_dispatch(call);
        if (rc) lg__call_fail(call, rc);
    }
    lg__origin_release_empty(cli, o);
    CLIENT_LEAVE(cli);
}

void lg__cconn_detach(client_conn *c)
{
    lg_client *cli = c->cli;
    origin *o = c->org;
    idle_remove(c);
    lg_timer_stop(&c->idle_timer);
    c->org = NULL;
    if (!o) return;
    o->open--;
    origin_kick(o);
    lg__origin_release_empty(cli, o);
}

void lg__cconn_release(client_conn *c, int reusable)
{
    lg_client *cli = c->cli;
    origin *o = c->org;
    c->served++;
    if (!reusable || cli->freeing || !o) {
        lg__cconn_close(c, 0);
        return;
    }
    /* Straight to the next waiting call, if any: no round through idle. */
    lg_call *next = o->wait_head;
    if (next && !(next->flags & CF_FRESH)) {
        lg__origin_unqueue(next);
        attach(c, next);
        return;
    }
    c->state = CS_IDLE;
    c->idle_prev = NULL;
    c->idle_next = o->idle;
    if (o->idle) o->idle->idle_prev = c;
    o->idle = c;
    lg_timer_start(&c->idle_timer, cli->cfg.idle_timeout_ms);
    if (o->wait_head) origin_kick(o);
}

void lg__pool_close_idle(lg_client *cli)
{
    for (origin *o = cli->origins, *next; o; o = next) {
        next = o->next;
        while (o->idle) {
            client_conn *c = o->idle;
            int last = c->idle_next == NULL;
            lg__cconn_close(c, 0); /* the last one may take the origin with it */
            if (last) break;
        }
    }
}

/* ---------------------------------------------------------------------------
 * Stream callbacks
 * ------------------------------------------------------------------------ */

static void conn_on_data(lg_stream *s)
{
    client_conn *c = s->data;
    lg_client *cli = c->cli;
    CLIENT_ENTER(cli);
    if (c->state == CS_BUSY && c->call) {
        lg__recv_process(c->call);
    } else if (c->state == CS_IDLE &&
               (lg_stream_peek(s).len || lg_stream_ending(s) != LG_END_NONE)) {
        /* A kept-alive connection has nothing to say: the server closed it
         * (EOF or RST), or sent something unasked (a 408 before closing). */
        cli->stats.idle_closes++;
        lg__cconn_close(c, 0);
    }
    CLIENT_LEAVE(cli);
}

static void conn_on_drain(lg_stream *s)
{
    client_conn *c = s->data;
    lg_client *cli = c->cli;
    CLIENT_ENTER(cli);
    if (c->state == CS_BUSY && c->call) {
        lg__read_timer_arm(c->call); /* sending progressed */
        lg__send_pump(c->call);
    }
    CLIENT_LEAVE(cli);
}

static void conn_on_write_error(lg_stream *s, int err)
{
    client_conn *c = s->data;
    lg_client *cli = c->cli;
    CLIENT_ENTER(cli);
    if (c->state == CS_BUSY && c->call) lg__send_write_error(c->call, err);
    CLIENT_LEAVE(cli);
}

static void conn_on_close(lg_stream *s)
{
    client_conn *c = s->data;
    lg_client *cli = c->cli;
    CLIENT_ENTER(cli);
    /* Switched protocols and closed before its call's callback could take
     * it: there is nothing to take. */
    if (c->state == CS_UPGRADED && c->call && c->call->upgraded == c) c->call->upgraded = NULL;
    lg__cconn_free(c);
    CLIENT_LEAVE(cli);
}

static const lg_stream_callbacks conn_cbs = {
    conn_on_data,
    conn_on_drain,
    conn_on_write_error,
    conn_on_close,
    NULL, /* on_timeout: the client times calls with timers of its own */
    NULL, /* on_shutdown */
};

#endif /* !LG_NO_CLIENT */
