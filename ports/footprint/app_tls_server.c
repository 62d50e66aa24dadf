/*
 * The TLS server `make size` links to measure a device's HTTPS server
 * (scripts/tls_size.sh): app_server.c's two routes, served over TLS with
 * the certificate and key from flash and the device's random generator.
 * Linked with linger, its TLS transport and mbedTLS built with
 * ports/mbedtls/linger_mbedtls_config.h; never run (the certificate bytes
 * are a stand-in: a device embeds its own).
 */
#include <stddef.h>

#include "linger.h"
#include "linger_tls.h"

/* (a device: its certificate and key in flash, PEM or DER) */
static const unsigned char cert_pem[] = "-----BEGIN CERTIFICATE-----\n";
static const unsigned char key_pem[] = "-----BEGIN EC PRIVATE KEY-----\n";

/* The device's hardware random generator (a stand-in). */
static int device_rng(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < len; i++) out[i] = (unsigned char)i;
    return 0;
}

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
void app_server(lg_loop *loop)
{
    lg_tls_server *tls;
    if (lg_tls_server_new(&tls, &(lg_tls_server_config){
                                    .cert = { .data = cert_pem, .len = sizeof cert_pem },
                                    .key = { .data = key_pem, .len = sizeof key_pem },
                                    .rng = device_rng,
                                    .max_sessions = 2,
                                    .max_handshakes = 1 },
                          NULL, 0) != LG_OK)
        return;
    lg_server *srv = lg_server_new(loop, &(lg_server_config){ .max_conns = 4,
                                                              .transport = lg_tls_server_transport,
                                                              .transport_user = tls });
    lg_route(srv, "GET", "/", on_status, NULL);
    lg_route(srv, "POST", "/led", on_led, NULL);
    lg_server_listen(srv, "0.0.0.0:443", 0);
}
