/*
 * A program of somebody else's that uses linger's TLS on OpenSSL, found
 * with find_package(linger) and linked with linger::tls_openssl
 * (scripts/test-consumer.sh install, when linger was built with it). A
 * linger TLS server and a linger TLS client on one loop over 127.0.0.1
 * (port 0) make one HTTPS exchange, with the certificate verified against
 * the test CA; exits 0 when it went as it should.
 *
 *   consumer_tls CERTS_DIR   (tests/tls/make_certs.sh's: chain.pem,
 *                             server.key, ca.pem)
 */
#include <stdio.h>
#include <string.h>

#include "linger.h"
#include "linger_tls.h"

static int failures;

#define EXPECT(cond)                                                       \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "consumer_tls: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                    \
        }                                                                  \
    } while (0)

typedef struct exchange {
    lg_server *srv;
    lg_client *cli;
    int answered;
} exchange;

static void on_hello(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_send_str(res, 200, "hello over TLS");
}

static void on_response(lg_response *res, void *user)
{
    exchange *x = user;
    x->answered = 1;
    if (res->err) fprintf(stderr, "consumer_tls: fetch: %s\n", lg_strerror(res->err));
    EXPECT(res->err == LG_OK);
    EXPECT(res->status == 200);
    EXPECT(res->body.len == 14 && memcmp(res->body.ptr, "hello over TLS", 14) == 0);
    lg_client_free(x->cli);
    lg_server_shutdown(x->srv, 1000, NULL, NULL);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: consumer_tls CERTS_DIR\n");
        return 2;
    }
    char chain[512], key[512], ca[512], why[200];
    snprintf(chain, sizeof chain, "%s/chain.pem", argv[1]);
    snprintf(key, sizeof key, "%s/server.key", argv[1]);
    snprintf(ca, sizeof ca, "%s/ca.pem", argv[1]);

    lg_tls_server *stls;
    lg_tls_client *ctls;
    int rc = lg_tls_server_new(&stls, &(lg_tls_server_config){ .cert = { .file = chain },
                                                               .key = { .file = key } },
                               why, sizeof why);
    if (rc) {
        fprintf(stderr, "consumer_tls: server context: %s\n", why);
        return 1;
    }
    rc = lg_tls_client_new(&ctls, &(lg_tls_client_config){ .ca = { .file = ca } }, why, sizeof why);
    if (rc) {
        fprintf(stderr, "consumer_tls: client context: %s\n", why);
        return 1;
    }

    exchange x = { 0 };
    lg_loop *loop = lg_loop_new(NULL);
    x.srv = lg_server_new(loop, &(lg_server_config){ .transport = lg_tls_server_transport,
                                                     .transport_user = stls });
    EXPECT(x.srv != NULL);
    if (!x.srv) return 1;
    lg_route(x.srv, "GET", "/hello", on_hello, NULL);
    rc = lg_server_listen(x.srv, "127.0.0.1:0", 0);
    EXPECT(rc == LG_OK);
    if (rc) return 1;
    char url[64];
    snprintf(url, sizeof url, "https://127.0.0.1:%u/hello", (unsigned)lg_server_port(x.srv));
    x.cli = lg_client_new(loop, &(lg_client_config){ .timeout_ms = 10000,
                                                     .transport = lg_tls_client_transport,
                                                     .transport_user = ctls });
    EXPECT(x.cli != NULL);
    if (!x.cli) return 1;
    EXPECT(lg_fetch(x.cli, &(lg_request){ .url = url }, on_response, &x) != NULL);
    EXPECT(lg_loop_run(loop) == LG_OK);
    EXPECT(x.answered);
    lg_server_free(x.srv);
    lg_loop_free(loop);
    lg_tls_client_free(ctls);
    lg_tls_server_free(stls);
    if (failures) {
        fprintf(stderr, "consumer_tls: %d check(s) failed\n", failures);
        return 1;
    }
    printf("consumer_tls: one HTTPS exchange over 127.0.0.1 with linger::tls_openssl (OpenSSL %s)\n",
           lg_tls_library_version());
    return 0;
}
