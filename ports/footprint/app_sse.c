/* The event-stream part of the footprint server (`make size`'s
 * "server+sse" program: app_server.c with -DAPP_SSE): a /events route
 * that starts a stream and sends an event on it. Its size less the server
 * program's is what Server-Sent Events cost. */
#include "linger.h"

static void on_events(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_sse *sse = lg_sse_start(req, res, NULL);
    if (sse) lg_sse_send(sse, "reading", "1", "21.5", 0);
}

void app_sse_routes(lg_server *srv);
void app_sse_routes(lg_server *srv)
{
    lg_route(srv, "GET", "/events", on_events, NULL);
}
