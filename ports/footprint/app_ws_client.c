/* The WebSocket part of the footprint client (`make size`'s "client+ws"
 * program: main.c with -DAPP_CLIENT -DAPP_WS_CLIENT): a connection to a
 * cloud that sends a reading when it opens and prints nothing. Its size
 * less the client program's is what the WebSocket layer costs a client
 * (ws_conn.c, ws_client.c and the codec). */
#include "linger_ws.h"

static volatile unsigned last_code;

static void on_open(lg_ws *ws)
{
    lg_ws_send_text(ws, "21.5", 4);
}

static void on_close(lg_ws *ws, unsigned code, lg_str reason)
{
    (void)ws;
    (void)reason;
    last_code = code;
}

static const lg_ws_callbacks feed = { .on_open = on_open, .on_close = on_close };

void app_ws_client(lg_loop *loop);
void app_ws_client(lg_loop *loop)
{
    lg_client *cli = lg_client_new(loop, NULL);
    lg_ws_connect(cli, "ws://10.0.0.2/feed", NULL, &feed, NULL);
}
