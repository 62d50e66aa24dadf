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
 *
 * With APP_BASIC, APP_BEARER, APP_DIGEST, APP_SESSION, APP_CORS or
 * APP_TEST_CLIENT it also uses that middleware, on a route of its own:
 * the difference to the plain program is what the middleware costs
 * (scripts/size.sh prints it).
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

#if defined(APP_BASIC)
static void on_admin(lg_req *req, lg_res *res, void *user)
{
    char buf[64];
    lg_str name, pass;
    (void)user;
    if (lg_req_basic_auth(req, buf, sizeof buf, &name, &pass) != LG_OK ||
        !lg_equal_ct(pass.ptr, pass.len, "s3cret", 6)) {
        lg_res_ask_basic(res, "device");
        return;
    }
    lg_res_send_str(res, 200, "ok");
}
#elif defined(APP_BEARER)
static void on_admin(lg_req *req, lg_res *res, void *user)
{
    lg_str token;
    (void)user;
    if (lg_req_bearer(req, &token) != LG_OK || !lg_equal_ct(token.ptr, token.len, "t0ken", 5)) {
        lg_res_ask_bearer(res, "device", 1);
        return;
    }
    lg_res_send_str(res, 200, "ok");
}
#elif defined(APP_DIGEST)
static const uint8_t key[16] = "0123456789abcdef";
static const lg_digest digest = { .realm = "device", .key = key, .key_len = sizeof key };
static void on_admin(lg_req *req, lg_res *res, void *user)
{
    lg_digest_auth a;
    (void)user;
    if (lg_req_digest(req, &digest, &a) != LG_OK || !lg_digest_check(&a, "s3cret", 6)) {
        lg_res_ask_digest(res, &digest, &a);
        return;
    }
    lg_res_send_str(res, 200, "ok");
}
#elif defined(APP_SESSION)
static const lg_str keys[] = { { "0123456789abcdef", 16 } };
static const lg_session_config sessions = { .keys = keys, .num_keys = 1 };
static void on_admin(lg_req *req, lg_res *res, void *user)
{
    lg_session s;
    (void)user;
    lg_session_load(req, &sessions, &s);
    lg_str who = lg_session_get(&s, "user");
    if (!who.ptr) lg_session_set(&s, "user", "ann");
    lg_session_save(res, &s);
    lg_res_send_str(res, 200, "ok");
}
#endif

void app_server(lg_loop *loop);
void app_ws_routes(lg_server *srv);  /* app_ws_server.c, with APP_WS */
void app_sse_routes(lg_server *srv); /* app_sse.c, with APP_SSE */
void app_server(lg_loop *loop)
{
#if defined(APP_TEST_CLIENT)
    /* (a test program on the device: the server on the test client's loop) */
    lg_test *t = lg_test_new();
    loop = lg_test_loop(t);
#endif
    lg_server *srv = lg_server_new(loop, &(lg_server_config){ .max_conns = 4 });
    lg_route(srv, "GET", "/", on_status, NULL);
    lg_route(srv, "POST", "/led", on_led, NULL);
#if defined(APP_WS)
    app_ws_routes(srv);
#endif
#if defined(APP_SSE)
    app_sse_routes(srv);
#endif
#if defined(APP_BASIC) || defined(APP_BEARER) || defined(APP_DIGEST) || defined(APP_SESSION)
    lg_route(srv, "GET", "/admin", on_admin, NULL);
#endif
#if defined(APP_CORS)
    static const lg_cors cors = { .origins = NULL };
    lg_server_before(srv, lg_cors_hook, (void *)&cors);
#endif
#if defined(APP_TEST_CLIENT)
    lg_server_listen(srv, "0.0.0.0:80", 0);
    lg_test_response r;
    lg_test_fetch(t, &(lg_test_request){ .target = "/" }, &r);
    return;
#endif
    lg_server_listen(srv, "0.0.0.0:80", 0);
}
