/*
 * What a reduced build (include/linger_opts.h) does instead of what it
 * leaves out: each call into a left-out part says LG_ERR_UNSUPPORTED, and
 * the server answers what it no longer takes as HTTP says it should. Built
 * and run only in builds with options (tests/options/CMakeLists.txt); each
 * check applies when its option is on.
 */
#include "fault/fault_net.h"
#include "test.h"

static void on_hello(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_send(res, 200, "hi", 2);
}

#if defined(LG_NO_FILES)
static void on_file(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    CHECK_EQ_INT(lg_res_send_fd(res, 200, 3, 0, 10), LG_ERR_UNSUPPORTED);
    lg_res_send(res, 200, "no files", 8);
}
#endif

/* One scripted client against a server on the fault injector; returns
 * what the server sent (NUL-terminated, static). */
static const char *exchange(const char *request, int *closed_with_unread)
{
    static char out[4096];
    fault_net fn;
    fault_net_init(&fn);
    lg_loop *loop = fault_loop_new(&fn);
    lg_server *srv = lg_server_new(loop, NULL);
    lg_route(srv, "GET", "/hello", on_hello, NULL);
    lg_route(srv, "POST", "/hello", on_hello, NULL);
#if defined(LG_NO_FILES)
    lg_route(srv, "GET", "/file", on_file, NULL);
    CHECK_EQ_INT(lg_server_static(srv, "/static", "."), LG_ERR_UNSUPPORTED);
#endif
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:80", 0), LG_OK);
    fault_sock script = { 0 };
    script.in = request;
    script.in_len = strlen(request);
    script.in_piece = 9;
    script.in_end = FAULT_EOF_AFTER_FIN;
    int fd = fault_accept_queue(&fn, &script);
    fault_run(loop, 100000);
    fault_sock *k = fault_sock_get(&fn, fd);
    CHECK(k->closed);
    *closed_with_unread = k->closed_with_unread;
    size_t n = k->out_len < sizeof out - 1 ? k->out_len : sizeof out - 1;
    memcpy(out, k->out, n);
    out[n] = 0;
    lg_server_free(srv);
    lg_loop_free(loop);
    fault_net_free(&fn);
    return out;
}

static void test_server(void)
{
    int unread;
    const char *out = exchange("GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &unread);
    CHECK(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK_EQ_INT(unread, 0);
#if defined(LG_NO_DATE)
    CHECK(strstr(out, "Date:") == NULL);
#endif
#if defined(LG_NO_CHUNKED_UPLOAD)
    /* A chunked body is refused before it is read: 411, and the graceful
     * close reads the chunks out (no reset for unread data). */
    out = exchange("POST /hello HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "5\r\nhello\r\n0\r\n\r\n", &unread);
    CHECK(strncmp(out, "HTTP/1.1 411 Length Required\r\n", 30) == 0);
    CHECK(strstr(out, "Connection: close\r\n") != NULL);
    CHECK_EQ_INT(unread, 0);
#endif
#if defined(LG_NO_ERROR_STRINGS)
    /* An error page says the status, without a sentence after it. */
    out = exchange("GET /nowhere HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &unread);
    const char *body = strstr(out, "\r\n\r\n");
    CHECK(strncmp(out, "HTTP/1.1 404 Not Found\r\n", 24) == 0);
    CHECK(body && strcmp(body + 4, "404 Not Found\n") == 0);
#endif
#if defined(LG_NO_FILES)
    out = exchange("GET /file HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &unread);
    CHECK(strstr(out, "no files") != NULL);
#endif
}

static void test_basics(void)
{
#if defined(LG_NO_ERROR_STRINGS)
    CHECK(strcmp(lg_strerror(LG_ERR_RESET), "LG_ERR_RESET") == 0);
    CHECK(strcmp(lg_err_name(LG_ERR_BODY_TOO_LARGE), "LG_ERR_BODY_TOO_LARGE") == 0);
    CHECK(strcmp(lg_strerror(-99), "LG_ERR_UNKNOWN") == 0);
    CHECK_EQ_INT(lg_err_http_status(LG_ERR_BODY_TOO_LARGE), 413);
    CHECK_EQ_INT(lg_err_http_status(LG_ERR_VERSION_UNSUPPORTED), 505);
    CHECK_EQ_INT(lg_err_http_status(LG_ERR_RESET), 0);
    CHECK(strcmp(lg_status_reason(404), "Not Found") == 0);   /* linger sends it */
    CHECK(strcmp(lg_status_reason(411), "Length Required") == 0);
    CHECK(strcmp(lg_status_reason(201), "Unknown") == 0);     /* it does not */
#endif
#if defined(LG_NO_IPV6)
    lg_addr a;
    CHECK_EQ_INT(lg_addr_parse(&a, "[::1]:80", 0), LG_ERR_ADDR_INVALID);
    CHECK_EQ_INT(lg_addr_parse(&a, "10.0.0.1:8080", 0), LG_OK);
    CHECK_EQ_INT(a.port, 8080);
    CHECK_EQ_INT(sizeof a.ip, 4);
#endif
#if defined(LG_NO_THREADS)
    lg_loop *loop = lg_loop_new(NULL);
    lg_defer d;
    memset(&d, 0, sizeof d);
    CHECK_EQ_INT(lg_loop_post(loop, &d, NULL), LG_ERR_UNSUPPORTED);
    lg_resolve_req r;
    CHECK_EQ_INT(lg_resolve(loop, &r, "example.com", 80, 0, NULL), LG_ERR_UNSUPPORTED);
    lg_loop_free(loop);
#endif
#if defined(LG_NO_LOG)
    lg_loop *quiet = lg_loop_new(NULL);
    lg_log(quiet, LG_LOG_ERROR, "not even evaluated: %d", 1); /* a macro now */
    lg_loop_free(quiet);
#endif
}

/* LG_NO_AUTH in a build with the client: no 401 is answered, so
 * credentials that would wait for one are refused before anything is
 * sent; Basic at once still goes. */
static void test_client_auth(void)
{
#if defined(LG_NO_AUTH) && !defined(LG_NO_CLIENT)
    lg_response *res = NULL;
    CHECK_EQ_INT(lg_fetch_sync(&(lg_request){ .url = "http://127.0.0.1:9/", .user = "u",
                                              .password = "p" }, &res),
                 LG_ERR_UNSUPPORTED);
    CHECK(res && res->stage == LG_STAGE_START);
    if (res) lg_response_free(res);
#endif
}

int main(void)
{
    test_basics();
    test_server();
    test_client_auth();
    TEST_MAIN_END();
}
