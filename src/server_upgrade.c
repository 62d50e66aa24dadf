/*
 * Handing a connection over after "101 Switching Protocols" (RFC 9110 7.8):
 * the request that asked for it is answered, its head leaves the buffer,
 * and the stream goes to its new owner with whatever the client sent after
 * the head. The connection stays the server's in two ways only: it counts
 * against max_conns until it closes, and a shutdown reaches it.
 *
 * The stream keeps the server's callbacks, which pass every event on to the
 * owner's (kept in the connection where the request used to be): on_close
 * must reach the server too, after the owner, so that the slot is counted
 * free and the memory used again.
 */
#include <string.h>

#include "server_internal.h"
#include "assert_internal.h"

#if !defined(LG_NO_SERVER)

static const lg_stream_callbacks *owner_of(lg_stream *s)
{
    return LG_CONTAINER_OF(s, lg_conn, s)->owner;
}

static void up_data(lg_stream *s)
{
    if (owner_of(s)->on_data) owner_of(s)->on_data(s);
}

static void up_drain(lg_stream *s)
{
    if (owner_of(s)->on_drain) owner_of(s)->on_drain(s);
}

static void up_write_error(lg_stream *s, int err)
{
    if (owner_of(s)->on_write_error) owner_of(s)->on_write_error(s, err);
}

static void up_timeout(lg_stream *s)
{
    if (owner_of(s)->on_timeout) owner_of(s)->on_timeout(s);
}

static void up_close(lg_stream *s)
{
    if (owner_of(s)->on_close) owner_of(s)->on_close(s);
    lg__server_conn_closed(s);
}

static const lg_stream_callbacks upgraded_callbacks = { up_data,    up_drain,   up_write_error,
                                                        up_close,   up_timeout, NULL };

/* The server shuts down: tell the owner (srv->upgraded_shutdown). */
static void upgraded_shutdown(lg_conn *c)
{
    LG_ASSERT(c->phase == PH_UPGRADED && c->owner);
    if (c->owner->on_shutdown) c->owner->on_shutdown(&c->s);
}

/* Did the client ask for this protocol? "Connection: upgrade" and an
 * Upgrade list naming it (RFC 9110 7.8), in HTTP/1.1: a server must not
 * switch to what was not asked for, and an HTTP/1.0 Upgrade is ignored. */
static int asked_for(const lg_exchange *ex, const char *protocol)
{
    if (!(ex->head.flags & LG_HEAD_UPGRADE) || ex->head.version_minor != 1) return 0;
    return lg_list_has(lg_head_get(&ex->head, "Upgrade"), protocol);
}

lg_stream *lg_res_upgrade(lg_res *res, const char *protocol, const lg_stream_callbacks *cbs,
                          void *data)
{
    lg_exchange *ex = res->ex;
    if (res->state != RES_NONE) return NULL;
    if (!ex->conn) {
        lg_res_error(res, 500, NULL); /* the client is gone: the request is released */
        return NULL;
    }
    lg__res_after_hooks(res);
    int rc = !asked_for(ex, protocol) || !ex->body_done ? LG_ERR_INVALID_ARG
                                                         : lg__res_switch_head(res, protocol);
    if (rc) {
        lg__res_fail_answer(res, rc);
        return NULL;
    }
    lg_conn *c = ex->conn;
    lg_server *srv = ex->srv;
    res->state = RES_DONE;
    ex->in_app = 0;
    if (srv->cfg.access_log)
        srv->cfg.access_log(&ex->req, 101, 0, (uint32_t)lg_loop_now(srv->loop) - ex->start_ms,
                            srv->cfg.access_log_user);
    srv->stats.requests++;
    srv->stats.upgraded++;
    /* The head leaves the buffer; what follows it is the new protocol's. */
    lg_stream_consume(&c->s, ex->head_len + ex->body_kept);
    ex->conn = NULL;
    lg__exchange_put(srv, ex);
    srv->upgraded_shutdown = upgraded_shutdown;
    c->owner = cbs;
    c->phase = PH_UPGRADED;
    c->flags &= (uint8_t)~CF_HELD;
    lg_stream_set_timeout(&c->s, 0); /* the owner's pace from now on */
    lg_stream_set_callbacks(&c->s, &upgraded_callbacks, data);
    lg_stream_read_start(&c->s);
    lg_stream_redeliver(&c->s);
    return &c->s;
}

#endif /* !LG_NO_SERVER */
