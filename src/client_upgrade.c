/*
 * A request that asked to switch protocols (an Upgrade header) and got
 * "101 Switching Protocols": the call completes with that answer, and its
 * callback may take the connection (lg_response_take_stream) with whatever
 * the server sent after the head. A connection not taken closes gracefully
 * once the callback returns. A taken one leaves the pool and belongs to its
 * owner; the client passes its stream's events on (the owner's callbacks
 * are kept in the connection) and frees it when it closes — or closes it,
 * gracefully, when the client itself is freed.
 */
#include <string.h>

#include "client_internal.h"

#if !defined(LG_NO_CLIENT)

void lg__call_upgraded(lg_call *call)
{
    client_conn *c = call->conn;
    lg__call_received(call);
    call->conn = NULL;
    c->call = call; /* until the callback has returned: see conn_on_close */
    c->served++;
    c->state = CS_UPGRADED;
    lg_stream_read_stop(&c->s); /* the new protocol waits for its owner */
    lg__cconn_detach(c);
    call->upgraded = c;
    call->err = LG_OK;
    lg__call_deliver(call);
}

void lg__upgrade_untaken(lg_call *call)
{
    client_conn *c = call->upgraded;
    call->upgraded = NULL;
    c->call = NULL;
    lg__cconn_close(c, 0);
}

static client_conn *conn_of(lg_stream *s)
{
    return LG_CONTAINER_OF(s, client_conn, s);
}

static void taken_data(lg_stream *s)
{
    if (conn_of(s)->owner->on_data) conn_of(s)->owner->on_data(s);
}

static void taken_drain(lg_stream *s)
{
    if (conn_of(s)->owner->on_drain) conn_of(s)->owner->on_drain(s);
}

static void taken_write_error(lg_stream *s, int err)
{
    if (conn_of(s)->owner->on_write_error) conn_of(s)->owner->on_write_error(s, err);
}

static void taken_timeout(lg_stream *s)
{
    if (conn_of(s)->owner->on_timeout) conn_of(s)->owner->on_timeout(s);
}

static void taken_close(lg_stream *s)
{
    client_conn *c = conn_of(s);
    lg_client *cli = c->cli;
    if (c->owner->on_close) c->owner->on_close(s);
    if (c->idle_prev) c->idle_prev->idle_next = c->idle_next;
    else cli->taken = c->idle_next;
    if (c->idle_next) c->idle_next->idle_prev = c->idle_prev;
    CLIENT_ENTER(cli);
    lg__cconn_free(c);
    CLIENT_LEAVE(cli);
}

static const lg_stream_callbacks taken_callbacks = { taken_data,  taken_drain,   taken_write_error,
                                                     taken_close, taken_timeout, NULL };

lg_stream *lg_response_take_stream(lg_response *res, const lg_stream_callbacks *cbs, void *data)
{
    lg_call *call = res->call;
    if (!call || !call->upgraded) return NULL;
    client_conn *c = call->upgraded;
    lg_client *cli = c->cli;
    call->upgraded = NULL;
    c->call = NULL;
    c->state = CS_TAKEN;
    c->owner = cbs;
    c->idle_prev = NULL;
    c->idle_next = cli->taken;
    if (cli->taken) cli->taken->idle_prev = c;
    cli->taken = c;
    lg_stream_set_callbacks(&c->s, &taken_callbacks, data);
    lg_stream_read_start(&c->s);
    lg_stream_redeliver(&c->s); /* what came after the head, on the next tick */
    return &c->s;
}

void lg__upgrade_close_taken(lg_client *cli)
{
    for (client_conn *c = cli->taken; c; c = c->idle_next) lg_stream_close(&c->s);
}

#endif /* !LG_NO_CLIENT */
