/*
 * linger's client against linger's server, the exchanges both sides must
 * get right: uploads of 0 B to 1 MiB to a route that answers without
 * reading the body (the original bug's server), to an echo, and a chunked
 * answer, several in flight. Shared by test_client_server.c (Linux TCP)
 * and tests/lwip/test_lwip_port.c (lwIP).
 *
 *   mixed_routes(srv);             on the server
 *   mixed_start(&run, cli, port);  `inflight` requests; each answer starts
 *                                  the next until run.total are done
 */
#ifndef LG_TEST_MIXED_EXCHANGES_H
#define LG_TEST_MIXED_EXCHANGES_H

#include <stdio.h>
#include <string.h>

#include "linger.h"
#include "test.h"

static char mixed_body[1u << 20];

static void mixed_on_early(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_send_str(res, 200, "OK");
}

static void mixed_on_echo(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    /* The peer's address, asked of the socket (lg_net.peer_address): the
     * client is on this host, on a port of its own. */
    const lg_addr *peer = lg_req_peer(req);
    CHECK(peer->family == 4 && peer->ip[0] == 127 && peer->ip[3] == 1 && peer->port != 0);
    lg_str b = lg_req_body(req);
    lg_res_send(res, 200, b.ptr, b.len);
}

static void mixed_on_chunked(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_start(res, 200);
    for (int i = 0; i < 10; i++) lg_res_write(res, mixed_body + i * 1000, 1000);
    lg_res_end(res);
}

static void mixed_routes(lg_server *srv)
{
    for (size_t i = 0; i < sizeof mixed_body; i++) mixed_body[i] = (char)(i * 131 + (i >> 9));
    lg_route_ex(srv, "POST", "/early", LG_ROUTE_STREAM_BODY, mixed_on_early, NULL);
    lg_route(srv, "POST", "/echo", mixed_on_echo, NULL);
    lg_route(srv, "GET", "/chunked", mixed_on_chunked, NULL);
}

typedef struct mixed_run {
    lg_client *cli;
    char url[3][64];
    int started, done, total, ok, early;
} mixed_run;

static const size_t mixed_sizes[] = { 0, 1, 1000, 4096, 65536, 262144, 1u << 20 };
#define MIXED_NSIZES (sizeof mixed_sizes / sizeof mixed_sizes[0])

static void mixed_on_response(lg_response *res, void *user);

static void mixed_next(mixed_run *r)
{
    int i = r->started++;
    int route = i % 3;
    size_t len = mixed_sizes[(size_t)(i / 3) % MIXED_NSIZES];
    if (route == 1 && len > 65536) len = 65536; /* the echo buffers it */
    lg_request req = { .url = r->url[route], .body = mixed_body, .body_len = len,
                       .max_body_bytes = 1u << 20 };
    if (route == 2) {
        req.method = "GET";
        req.body = NULL;
        req.body_len = 0;
    }
    lg_fetch(r->cli, &req, mixed_on_response, r);
}

static void mixed_on_response(lg_response *res, void *user)
{
    mixed_run *r = user;
    const char *url = res->url;
    int good = res->err == LG_OK && res->status == 200;
    if (strstr(url, "/early")) good = good && res->body.len == 2 && memcmp(res->body.ptr, "OK", 2) == 0;
    else if (strstr(url, "/echo")) good = good && res->body.len == res->sent_bytes &&
                                          memcmp(res->body.ptr, mixed_body, res->body.len) == 0;
    else good = good && res->body.len == 10000 && memcmp(res->body.ptr, mixed_body, 10000) == 0 &&
                res->framing == LG_FRAMING_CHUNKED;
    if (!good && test_failures < 10)
        fprintf(stderr, "%s: %s status %d body %lu\n", url, lg_err_name(res->err), res->status,
                (unsigned long)res->body.len);
    CHECK(good);
    r->ok += good;
    r->early += !!(res->flags & LG_RES_EARLY);
    r->done++;
    if (r->started < r->total) mixed_next(r);
}

static void mixed_start(mixed_run *r, lg_client *cli, uint16_t port, int inflight)
{
    r->cli = cli;
    snprintf(r->url[0], sizeof r->url[0], "http://127.0.0.1:%u/early", port);
    snprintf(r->url[1], sizeof r->url[1], "http://127.0.0.1:%u/echo", port);
    snprintf(r->url[2], sizeof r->url[2], "http://127.0.0.1:%u/chunked", port);
    for (int i = 0; i < inflight && r->started < r->total; i++) mixed_next(r);
}

#endif
