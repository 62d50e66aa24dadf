/*
 * The test client (lg_test_*), and through it handler tests of the kind
 * it is for: routes and parameters, a body, a before hook (CORS) that
 * answers preflights itself, an after hook, an answer given later from a
 * timer (30 s of virtual time, no waiting), a chunked streamed answer
 * decoded, error answers (404, 405), a session carried by hand from
 * Set-Cookie to Cookie, and a handler that never answers.
 */
#include <stdio.h>
#include <string.h>

#include "linger.h"
#include "test.h"

static void on_item(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    char out[128];
    lg_str id = lg_req_param(req, "id");
    lg_str q = lg_req_query(req, "q");
    lg_str body = lg_req_body(req);
    snprintf(out, sizeof out, "item %.*s q=%.*s body=%.*s", (int)id.len, id.ptr, q.ptr ? (int)q.len : 0,
             q.ptr ? q.ptr : "", (int)body.len, body.ptr ? body.ptr : "");
    lg_res_header(res, "Content-Type", "text/plain");
    lg_res_send_str(res, 200, out);
}

typedef struct later {
    lg_timer timer;
    lg_res *res;
} later;

static void answer_later(lg_timer *t)
{
    later *l = LG_CONTAINER_OF(t, later, timer);
    lg_res_send_str(l->res, 202, "later");
}

static later pending;

static void on_slow(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    pending.res = res;
    lg_timer_init(lg_server_loop(user), &pending.timer, answer_later);
    lg_timer_start(&pending.timer, 30000);
}

static void on_stream(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_start(res, 200);
    for (int i = 0; i < 100; i++) lg_res_write(res, "0123456789", 10);
    lg_res_end(res);
}

static void on_never(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)res;
    (void)user; /* holds on to the request and never answers */
}

static const lg_str keys[] = { { "a session key of 32 bytes.......", 32 } };
static const lg_session_config sessions = { .keys = keys, .num_keys = 1 };

static void on_count(lg_req *req, lg_res *res, void *user)
{
    lg_session s;
    char n[16];
    (void)user;
    lg_session_load(req, &sessions, &s);
    lg_str v = lg_session_get(&s, "n");
    snprintf(n, sizeof n, "%d", v.ptr ? atoi(v.ptr) + 1 : 1);
    lg_session_set(&s, "n", n);
    lg_session_save(res, &s);
    lg_res_send_str(res, 200, n);
}

static int after_calls;
static int after_hook(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    after_calls++;
    lg_res_header(res, "X-After", "yes");
    return 0;
}

static const lg_cors cors = { .origins = NULL };

int main(void)
{
    lg_test *t = lg_test_new();
    CHECK(t != NULL);
    lg_server *srv = lg_server_new(lg_test_loop(t), &(lg_server_config){ .no_date = 1 });
    lg_route(srv, "*", "/items/:id<int>", on_item, NULL);
    lg_route(srv, "GET", "/slow", on_slow, srv);
    lg_route(srv, "GET", "/stream", on_stream, NULL);
    lg_route(srv, "GET", "/never", on_never, NULL);
    lg_route(srv, "GET", "/count", on_count, NULL);
    lg_server_before(srv, lg_cors_hook, (void *)&cors);
    lg_server_after(srv, after_hook, NULL);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:80", 0), LG_OK);

    lg_test_response r;
    CHECK_EQ_INT(lg_test_fetch(t, &(lg_test_request){ .target = "/items/7?q=a%20b" }, &r), LG_OK);
    CHECK_EQ_INT(r.status, 200);
    CHECK_STR(r.body, "item 7 q=a b body=");
    CHECK_STR(lg_head_get(&r.head, "Content-Type"), "text/plain");
    CHECK_STR(lg_head_get(&r.head, "X-After"), "yes");
    CHECK(strncmp(r.raw.ptr, "HTTP/1.1 200 OK\r\n", 17) == 0);

    /* a body; the method by default */
    lg_test_fetch(t, &(lg_test_request){ .target = "/items/8", .body = "hello", .body_len = 5 }, &r);
    CHECK_STR(r.body, "item 8 q= body=hello");
    /* not found, not an int, another method */
    lg_test_fetch(t, &(lg_test_request){ .target = "/items/x" }, &r);
    CHECK_EQ_INT(r.status, 404);
    lg_test_fetch(t, &(lg_test_request){ .method = "DELETE", .target = "/stream" }, &r);
    CHECK_EQ_INT(r.status, 405);
    CHECK_STR(lg_head_get(&r.head, "Allow"), "GET, HEAD");

    /* CORS: a preflight answered by the hook, never reaching the route */
    lg_test_fetch(t, &(lg_test_request){ .method = "OPTIONS", .target = "/items/1",
                                         .headers = "Origin: https://a.example\r\n"
                                                    "Access-Control-Request-Method: PUT\r\n" }, &r);
    CHECK_EQ_INT(r.status, 204);
    CHECK_STR(lg_head_get(&r.head, "Access-Control-Allow-Origin"), "*");
    CHECK_EQ_INT(r.body.len, 0);

    /* an answer 30 s later, at once */
    CHECK_EQ_INT(lg_test_fetch(t, &(lg_test_request){ .target = "/slow" }, &r), LG_OK);
    CHECK_EQ_INT(r.status, 202);
    CHECK_STR(r.body, "later");

    /* chunked, decoded */
    lg_test_fetch(t, &(lg_test_request){ .target = "/stream" }, &r);
    CHECK_STR(lg_head_get(&r.head, "Transfer-Encoding"), "chunked");
    CHECK_EQ_INT(r.body.len, 1000);
    CHECK(memcmp(r.body.ptr + 990, "0123456789", 10) == 0);

    /* a session, carried from answer to request */
    char cookie[600] = "";
    for (int i = 1; i <= 3; i++) {
        char hdr[700];
        snprintf(hdr, sizeof hdr, "Cookie: %s\r\n", cookie);
        lg_test_fetch(t, &(lg_test_request){ .target = "/count", .headers = cookie[0] ? hdr : NULL }, &r);
        char want[4];
        snprintf(want, sizeof want, "%d", i);
        CHECK_STR(r.body, want);
        lg_str sc = lg_head_get(&r.head, "Set-Cookie");
        CHECK(sc.ptr != NULL);
        if (sc.ptr) snprintf(cookie, sizeof cookie, "%.*s", (int)strcspn(sc.ptr, ";"), sc.ptr);
    }

    /* a handler that never answers: the fetch says so instead of hanging */
    CHECK_EQ_INT(lg_test_fetch(t, &(lg_test_request){ .target = "/never" }, &r), LG_ERR_TIMEOUT);
    CHECK_EQ_INT(r.status, 0);
    CHECK(after_calls >= 8);

    lg_server_shutdown(srv, 0, NULL, NULL);
    for (int i = 0; i < 100; i++) lg_loop_run_once(lg_test_loop(t), 0);
    lg_server_free(srv);
    lg_test_free(t);
    TEST_MAIN_END();
}
