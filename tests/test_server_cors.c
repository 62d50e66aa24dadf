/*
 * The CORS hook through the server on the fault injector: simple requests
 * from allowed, refused and no origins; preflights answered 204 without a
 * handler, for routes that exist and routes that do not; "*" only without
 * credentials; Vary: Origin on every answer to an Origin.
 */
#include <stdio.h>
#include <string.h>

#include "fault/fault_net.h"
#include "test.h"

static int handled;

static void on_data(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    handled++;
    lg_res_send_str(res, 200, "data");
}

static char answer[4096];

/* One request (its header lines in `fields`) through a fresh server with
 * the hook set up by `cors`; the answer's text. */
static const char *ask(const lg_cors *cors, const char *method, const char *path,
                       const char *fields)
{
    fault_net fn;
    fault_net_init(&fn);
    lg_loop *loop = fault_loop_new(&fn);
    lg_server_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.no_date = 1;
    cfg.server_name = "";
    lg_server *srv = lg_server_new(loop, &cfg);
    lg_route(srv, "*", "/data", on_data, NULL);
    CHECK_EQ_INT(lg_server_before(srv, lg_cors_hook, (void *)cors), LG_OK);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:80", 0), LG_OK);
    char req[1024];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: d\r\n%sConnection: close\r\n\r\n",
                     method, path, fields);
    fault_exchange(&fn, loop, req, (size_t)n, answer, sizeof answer);
    lg_server_free(srv);
    lg_loop_free(loop);
    fault_net_free(&fn);
    return answer;
}

static int has(const char *line)
{
    char l[256];
    snprintf(l, sizeof l, "\r\n%s\r\n", line);
    return strstr(answer, l) != NULL;
}

static const char *const origins[] = { "https://app.example", "http://127.0.0.1:8081", NULL };

static void test_listed_origins_with_credentials(void)
{
    lg_cors c = { .origins = origins, .credentials = 1, .expose = "X-Count" };
    handled = 0;
    /* no Origin: not a CORS request */
    ask(&c, "GET", "/data", "");
    CHECK(strncmp(answer, "HTTP/1.1 200 ", 13) == 0 && strstr(answer, "Access-Control") == NULL &&
          strstr(answer, "Vary") == NULL);
    /* an allowed origin: echoed, with credentials and exposed headers */
    ask(&c, "GET", "/data", "Origin: http://127.0.0.1:8081\r\n");
    CHECK(strncmp(answer, "HTTP/1.1 200 ", 13) == 0);
    CHECK(has("Access-Control-Allow-Origin: http://127.0.0.1:8081"));
    CHECK(has("Access-Control-Allow-Credentials: true"));
    CHECK(has("Access-Control-Expose-Headers: X-Count"));
    CHECK(has("Vary: Origin"));
    CHECK(strstr(answer, "\r\n\r\ndata") != NULL);
    /* a refused one (a prefix of an allowed one, another scheme): no CORS
     * headers; the answer itself is the browser's to withhold */
    static const char *const refused[] = { "Origin: https://evil.example\r\n",
                                           "Origin: https://app.example.evil\r\n",
                                           "Origin: http://app.example\r\n", "Origin: null\r\n" };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        ask(&c, "GET", "/data", refused[i]);
        CHECK(strncmp(answer, "HTTP/1.1 200 ", 13) == 0);
        CHECK(strstr(answer, "Access-Control") == NULL);
        CHECK(has("Vary: Origin"));
    }
    CHECK_EQ_INT(handled, 6);

    /* a preflight: 204 here, the handler never runs; the asked headers echoed */
    handled = 0;
    ask(&c, "OPTIONS", "/data",
        "Origin: https://app.example\r\nAccess-Control-Request-Method: PUT\r\n"
        "Access-Control-Request-Headers: x-token, content-type\r\n");
    CHECK(strncmp(answer, "HTTP/1.1 204 ", 13) == 0);
    CHECK(has("Access-Control-Allow-Origin: https://app.example"));
    CHECK(has("Access-Control-Allow-Methods: GET, HEAD, POST, PUT, PATCH, DELETE"));
    CHECK(has("Access-Control-Allow-Headers: x-token, content-type"));
    CHECK(has("Access-Control-Max-Age: 600"));
    CHECK(has("Vary: Access-Control-Request-Headers"));
    CHECK(strstr(answer, "Content-Length") == NULL); /* 204: no content, no length */
    /* ... also for a path no route has */
    ask(&c, "OPTIONS", "/nowhere", "Origin: https://app.example\r\nAccess-Control-Request-Method: GET\r\n");
    CHECK(strncmp(answer, "HTTP/1.1 204 ", 13) == 0 && has("Access-Control-Allow-Origin: https://app.example"));
    /* a refused origin's preflight: 204 without CORS headers */
    ask(&c, "OPTIONS", "/data", "Origin: https://evil.example\r\nAccess-Control-Request-Method: PUT\r\n");
    CHECK(strncmp(answer, "HTTP/1.1 204 ", 13) == 0 && strstr(answer, "Access-Control") == NULL);
    CHECK_EQ_INT(handled, 0);
    /* OPTIONS without Access-Control-Request-Method is no preflight */
    ask(&c, "OPTIONS", "/data", "Origin: https://app.example\r\n");
    CHECK(strncmp(answer, "HTTP/1.1 200 ", 13) == 0);
    CHECK_EQ_INT(handled, 1);
}

static void test_any_origin(void)
{
    lg_cors any = { .methods = "GET, POST", .headers = "Content-Type", .max_age = 60 };
    ask(&any, "GET", "/data", "Origin: https://anyone.example\r\n");
    CHECK(has("Access-Control-Allow-Origin: *"));
    CHECK(strstr(answer, "Allow-Credentials") == NULL);
    ask(&any, "OPTIONS", "/data",
        "Origin: https://anyone.example\r\nAccess-Control-Request-Method: POST\r\n"
        "Access-Control-Request-Headers: x-other\r\n");
    CHECK(has("Access-Control-Allow-Origin: *"));
    CHECK(has("Access-Control-Allow-Methods: GET, POST"));
    CHECK(has("Access-Control-Allow-Headers: Content-Type"));
    CHECK(has("Access-Control-Max-Age: 60"));
    /* any origin with credentials: echoed, never "*" */
    lg_cors cred = { .credentials = 1 };
    ask(&cred, "GET", "/data", "Origin: https://anyone.example\r\n");
    CHECK(has("Access-Control-Allow-Origin: https://anyone.example"));
    CHECK(has("Access-Control-Allow-Credentials: true"));
}

int main(void)
{
    test_listed_origins_with_credentials();
    test_any_origin();
    TEST_MAIN_END();
}
