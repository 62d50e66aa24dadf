/* The WebSocket part of the footprint server (`make size`'s "server+ws"
 * program: app_server.c with -DAPP_WS): a /ws route that accepts the
 * handshake and echoes every message, as a device's live page would use
 * it. Its size less the server program's is what the WebSocket layer
 * costs a server: the connection layer (ws_conn.c, ws_server.c) and the
 * codec under it. */
#include "linger_ws.h"

static void on_message(lg_ws *ws, unsigned opcode, lg_str data)
{
    lg_ws_send(ws, opcode, data.ptr, data.len);
}

static const lg_ws_callbacks echo = { .on_message = on_message };

static void on_ws(lg_req *req, lg_res *res, void *user)
{
    lg_ws_accept(req, res, NULL, &echo, user);
}

void app_ws_routes(lg_server *srv);
void app_ws_routes(lg_server *srv)
{
    lg_route(srv, "GET", "/ws", on_ws, NULL);
}
