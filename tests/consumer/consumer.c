/*
 * A program of somebody else's that uses linger (scripts/test-consumer.sh
 * builds it three ways: add_subdirectory, find_package, pkg-config). It
 * parses a request with the codec, then runs linger's server and client on
 * one loop over 127.0.0.1 (port 0) for one exchange, shuts both down and
 * exits 0 when all went as it should.
 *
 * It also carries two warnings on purpose, its own business: an unused
 * variable (under the -Wall its build asks for) and a #warning, which
 * compilers report by default. They must stay warnings: linger may not turn
 * them into errors (no -Werror in its interface, its package or linger.pc).
 */
#include <stdio.h>
#include <string.h>

#include "linger.h"

#warning "consumer.c: a warning of the consumer's own, which must not become an error"

static int failures;

#define EXPECT(cond)                                                       \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "consumer: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                    \
        }                                                                  \
    } while (0)

static int parse_a_request(void)
{
    int unused_on_purpose = 42; /* the consumer's own warning (-Wunused-variable) */
    static const char req[] = "GET /items/7?x=1 HTTP/1.1\r\nHost: example.com\r\n"
                              "Accept: text/plain\r\n\r\n";
    lg_header hv[8];
    lg_head h = { .headers = hv, .max_headers = 8 };
    int n = lg_parse_request(&h, req, sizeof req - 1, 0, 0);
    EXPECT(n == (int)(sizeof req - 1));
    if (n <= 0) return 0;
    EXPECT(h.method_id == LG_METHOD_GET);
    EXPECT(h.target.len == 12 && memcmp(h.target.ptr, "/items/7?x=1", 12) == 0);
    lg_str accept = lg_head_get(&h, "accept");
    EXPECT(accept.ptr && accept.len == 10 && memcmp(accept.ptr, "text/plain", 10) == 0);
    return 1;
}

typedef struct exchange {
    lg_server *srv;
    lg_client *cli;
    int answered;
    int shut;
} exchange;

static void on_hello(lg_req *req, lg_res *res, void *user)
{
    lg_str name = lg_req_param(req, "name");
    char out[64];
    (void)user;
    snprintf(out, sizeof out, "hello, %.*s", (int)name.len, name.ptr);
    lg_res_header(res, "Content-Type", "text/plain");
    lg_res_send_str(res, 200, out);
}

static void on_shut(lg_server *srv, void *user)
{
    exchange *x = user;
    (void)srv;
    x->shut = 1;
}

static void on_response(lg_response *res, void *user)
{
    exchange *x = user;
    x->answered = 1;
    if (res->err) fprintf(stderr, "consumer: fetch: %s\n", lg_strerror(res->err));
    EXPECT(res->err == LG_OK);
    EXPECT(res->status == 200);
    EXPECT(res->body.len == 12 && memcmp(res->body.ptr, "hello, world", 12) == 0);
    /* Both sides go; the loop ends once nothing is left to wait for. */
    lg_client_free(x->cli);
    lg_server_shutdown(x->srv, 1000, on_shut, x);
}

static int one_exchange(void)
{
    exchange x = { 0 };
    lg_loop *loop = lg_loop_new(NULL);
    EXPECT(loop != NULL);
    if (!loop) return 0;
    x.srv = lg_server_new(loop, NULL);
    EXPECT(x.srv != NULL);
    if (!x.srv) return 0;
    EXPECT(lg_route(x.srv, "GET", "/hello/:name", on_hello, NULL) == LG_OK);
    int rc = lg_server_listen(x.srv, "127.0.0.1:0", 0);
    if (rc) fprintf(stderr, "consumer: listen: %s\n", lg_strerror(rc));
    EXPECT(rc == LG_OK);
    if (rc) return 0;
    EXPECT(lg_server_port(x.srv) != 0);

    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/hello/world", (unsigned)lg_server_port(x.srv));
    x.cli = lg_client_new(loop, &(lg_client_config){ .timeout_ms = 10000 });
    EXPECT(x.cli != NULL);
    if (!x.cli) return 0;
    EXPECT(lg_fetch(x.cli, &(lg_request){ .url = url }, on_response, &x) != NULL);

    EXPECT(lg_loop_run(loop) == LG_OK);
    EXPECT(x.answered);
    EXPECT(x.shut);
    if (x.shut) lg_server_free(x.srv);
    lg_loop_free(loop);
    return 1;
}

int main(void)
{
    parse_a_request();
    one_exchange();
    if (failures) {
        fprintf(stderr, "consumer: %d check(s) failed\n", failures);
        return 1;
    }
    printf("consumer: linger %s parsed a request and served one over 127.0.0.1\n",
           LG_VERSION_STRING);
    return 0;
}
