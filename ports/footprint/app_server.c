/*
 * The application `make size` links to measure the server on a device: a
 * loop on the lwIP port, a server with two routes (a status page and a
 * small POST), listening on port 80. What the linker keeps of linger for
 * this program (with --gc-sections) is the honest flash figure; the sum of
 * all objects overstates it, because an application pays only for what it
 * calls.
 *
 * Built with LG_FOOTPRINT_STATIC, it runs on the static memory of
 * lg_server_config.memory (docs/footprint.md).
 */
#include "linger.h"

static void on_status(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_header(res, "Content-Type", "application/json");
    lg_res_send_str(res, 200, "{\"led\":1}");
}

static void on_led(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_str body = lg_req_body(req);
    lg_res_send(res, body.len == 1 ? 204 : 400, NULL, 0);
}

void app_server(lg_loop *loop);
void app_ws_routes(lg_server *srv);  /* app_ws_server.c, with APP_WS */
void app_sse_routes(lg_server *srv); /* app_sse.c, with APP_SSE */
void app_server(lg_loop *loop)
{
    lg_server *srv = lg_server_new(loop, &(lg_server_config){ .max_conns = 4 });
    lg_route(srv, "GET", "/", on_status, NULL);
    lg_route(srv, "POST", "/led", on_led, NULL);
#if defined(APP_WS)
    app_ws_routes(srv);
#endif
#if defined(APP_SSE)
    app_sse_routes(srv);
#endif
    lg_server_listen(srv, "0.0.0.0:80", 0);
}
