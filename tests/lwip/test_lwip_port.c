/*
 * linger on a real lwIP: the lwIP port (ports/lwip/net_lwip.c) over
 * Debian's lwIP 2.1 (liblwip-dev: the socket API with its own thread, as on
 * FreeRTOS or ESP-IDF), with one network interface at 127.0.0.1 whose
 * traffic lwIP loops back to itself. Nothing reaches the machine's own
 * network: lwIP, the server and the clients all live in this process.
 * Debian's lwIP is built with lwIP's default of four sockets
 * (MEMP_NUM_NETCONN), as small as a device's: the loop's wake-up socket,
 * the listener, and one connection's two ends. The server takes one
 * connection at a time (max_conns 1: a newcomer waits in the backlog), and
 * the client keeps one per origin.
 *
 * 1. linger's server and linger's client on one loop, both on lwIP sockets
 *    through the port and the poll backend on lwip_poll: uploads of 0 B to
 *    1 MiB to a route that answers without reading the body, to an echo,
 *    and a chunked answer, several in flight. Every response complete and
 *    right, no abort.
 * 2. The original bug on lwIP, with the client MicroPython's asyncio uses:
 *    a plain blocking lwIP socket that sends a POST with its whole body and
 *    reads until EOF. lwIP's tcp_close() sends RST whenever received data
 *    was not taken by the application, so this is where the bug was born.
 *    Against linger: every answer whole and an EOF, never ECONNRESET.
 *    Against the same server with its drain turned off (a linger budget of
 *    one byte): resets, so that this check can fail.
 * 3. linger's client against that resetting server: every answer whole,
 *    since each arrived before the reset (rule 1).
 *
 * What this found: lwIP 2.1 frees a connection without telling the socket
 * layer when the application shuts down its write side after the peer's
 * FIN has arrived but before reading it (the connection goes to LAST_ACK),
 * then reads the EOF; the application's close frees it again and the
 * stack's connection list is corrupted (the stack thread then spins in
 * tcp_input). The same bug as esp-idf#2931, fixed in ESP-IDF's lwIP. The
 * port sets lg_net.read_before_fin, and the stream reads what has arrived
 * before it sends FIN: without it, about half the runs of this test end in
 * a double free (AddressSanitizer) or a hang.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linger.h"
#include "lwip/netif.h"
#include "lwip/sockets.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"
#include "mixed_exchanges.h"
#include "test.h"

/* --- lwIP: the stack's thread and an interface at 127.0.0.1 --- */

static struct netif loop_netif;

static err_t drop_output(struct netif *n, struct pbuf *p, const ip4_addr_t *to)
{
    /* Only traffic to the interface's own address exists here, and lwIP
     * loops that back before it gets this far. */
    (void)n, (void)p, (void)to;
    return ERR_OK;
}

static err_t netif_setup(struct netif *n)
{
    n->name[0] = 'l';
    n->name[1] = 'g';
    n->output = drop_output;
    n->mtu = 1500;
    return ERR_OK;
}

static void stack_ready(void *arg)
{
    sys_sem_signal((sys_sem_t *)arg);
}

static void start_lwip(void)
{
    sys_sem_t ready;
    if (sys_sem_new(&ready, 0) != ERR_OK) abort();
    tcpip_init(stack_ready, &ready);
    sys_arch_sem_wait(&ready, 0);
    sys_sem_free(&ready);
    ip4_addr_t ip, mask, gw;
    IP4_ADDR(&ip, 127, 0, 0, 1);
    IP4_ADDR(&mask, 255, 0, 0, 0);
    IP4_ADDR(&gw, 0, 0, 0, 0);
    LOCK_TCPIP_CORE();
    netif_add(&loop_netif, &ip, &mask, &gw, NULL, netif_setup, tcpip_input);
    netif_set_default(&loop_netif);
    netif_set_link_up(&loop_netif);
    netif_set_up(&loop_netif);
    UNLOCK_TCPIP_CORE();
}

/* --- the server's routes --- */

static lg_server *new_server(lg_loop *loop, lg_server_config cfg, uint16_t *port)
{
    cfg.max_conns = 1; /* four sockets in all: see the top */
    lg_server *srv = lg_server_new(loop, &cfg);
    mixed_routes(srv);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:0", 0), LG_OK);
    *port = lg_server_port(srv);
    return srv;
}

/* --- 1. linger's client against linger's server, both on lwIP --- */

static void client_and_server(lg_loop *loop)
{
    uint16_t port;
    lg_server *srv = new_server(loop, (lg_server_config){ 0 }, &port);
    mixed_run r;
    memset(&r, 0, sizeof r);
    r.total = 210;
    /* three queued behind one connection */
    mixed_start(&r, lg_client_new(loop, &(lg_client_config){ .max_conns_per_origin = 1 }), port, 3);
    uint64_t give_up = lg_loop_now(loop) + 60000; /* a hang fails the checks below */
    while (r.done < r.total && lg_loop_now(loop) < give_up) lg_loop_run_once(loop, 100);
    lg_client_free(r.cli);
    lg_server_shutdown(srv, 5000, NULL, NULL);
    lg_loop_run(loop);

    const lg_loop_stats *ls = lg_loop_get_stats(loop);
    const lg_server_stats *ss = lg_server_get_stats(srv);
    printf("client and server on lwIP: %d requests, %d complete and right; %llu connections, "
           "%llu bodies discarded, %llu closes for a body, %llu graceful closes, %llu aborts\n",
           r.done, r.ok, (unsigned long long)ss->connections,
           (unsigned long long)ss->bodies_discarded, (unsigned long long)ss->closes_for_body,
           (unsigned long long)ls->graceful_closes, (unsigned long long)ls->aborts);
    CHECK_EQ_INT(r.done, r.total);
    CHECK_EQ_INT(r.ok, r.total);
    CHECK_EQ_INT(ls->aborts, 0);
    CHECK(ss->closes_for_body > 0); /* the large early answers did close */
    lg_server_free(srv);
}

/* --- 2. a blocking lwIP socket reading until EOF (MicroPython's way) --- */

typedef struct raw_run {
    uint16_t port;
    int rounds;
    volatile int finished;
    int complete;  /* whole answer, then EOF */
    int resets;    /* ECONNRESET (or EPIPE) while sending or reading */
    int other;     /* anything else */
} raw_run;

static const size_t raw_sizes[] = { 0, 10000, 65536, 200000, 1u << 20 };
#define NRAW (sizeof raw_sizes / sizeof raw_sizes[0])

/* One POST /early with `len` bytes of body, read to EOF. Returns 0 for a
 * whole answer and EOF, 1 for a reset, 2 for anything else. */
static int raw_exchange(uint16_t port, size_t len)
{
    int fd = lwip_socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 2;
    struct timeval tv = { 10, 0 };
    lwip_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    lwip_setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = lwip_htons(port);
    sa.sin_addr.s_addr = lwip_htonl(0x7f000001);
    int outcome = 2;
    char head[128], in[512];
    size_t got = 0;
    if (lwip_connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) goto done;
    int hn = snprintf(head, sizeof head,
                      "POST /early HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                      "Content-Length: %lu\r\n\r\n",
                      (unsigned long)len);
    if (lwip_send(fd, head, (size_t)hn, 0) != hn) goto failed;
    for (size_t off = 0; off < len;) {
        ssize_t n = lwip_send(fd, mixed_body + off, len - off < 16384 ? len - off : 16384, 0);
        if (n <= 0) goto failed;
        off += (size_t)n;
    }
    for (;;) {
        ssize_t n = lwip_recv(fd, in + got, sizeof in - 1 - got, 0);
        if (n == 0) break;
        if (n < 0) goto failed;
        got += (size_t)n;
        if (got == sizeof in - 1) goto done;
    }
    in[got] = 0;
    outcome = strncmp(in, "HTTP/1.1 200 ", 13) == 0 && got >= 2 && memcmp(in + got - 2, "OK", 2) == 0
                  ? 0
                  : 2;
    goto done;
failed:
    outcome = errno == ECONNRESET || errno == EPIPE || errno == ENOTCONN ? 1 : 2;
done:
    lwip_close(fd);
    return outcome;
}

static void *raw_client(void *arg)
{
    raw_run *r = arg;
    for (int i = 0; i < r->rounds; i++) {
        int o = raw_exchange(r->port, raw_sizes[(size_t)i % NRAW]);
        if (o == 0) r->complete++;
        else if (o == 1) r->resets++;
        else r->other++;
    }
    r->finished = 1;
    return NULL;
}

static void raw_against(lg_loop *loop, lg_server_config cfg, raw_run *r)
{
    lg_server *srv = new_server(loop, cfg, &r->port);
    pthread_t t;
    if (pthread_create(&t, NULL, raw_client, r) != 0) abort();
    uint64_t give_up = lg_loop_now(loop) + 60000; /* the client's own timeouts are 10 s */
    while (!r->finished && lg_loop_now(loop) < give_up) lg_loop_run_once(loop, 50);
    pthread_join(t, NULL);
    lg_server_shutdown(srv, 5000, NULL, NULL);
    lg_loop_run(loop);
    lg_server_free(srv);
}

/* --- 3. linger's client against a server that resets --- */

typedef struct rude_run {
    int done, ok, resets_after;
} rude_run;

static void on_rude_response(lg_response *res, void *user)
{
    rude_run *r = user;
    int good = res->err == LG_OK && res->status == 200 && res->body.len == 2 &&
               memcmp(res->body.ptr, "OK", 2) == 0;
    if (!good && test_failures < 10)
        fprintf(stderr, "against the resetting server: %s status %d body %lu (sent %lu)\n",
                lg_err_name(res->err), res->status, (unsigned long)res->body.len,
                (unsigned long)res->sent_bytes);
    CHECK(good);
    r->ok += good;
    r->done++;
}

static void rude_server(lg_loop *loop, lg_server_config cfg)
{
    uint16_t port;
    lg_server *srv = new_server(loop, cfg, &port);
    lg_client *cli = lg_client_new(loop, &(lg_client_config){ .max_conns_per_origin = 1 });
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/early", port);
    rude_run r = { 0 };
    int total = 0;
    for (int round = 0; round < 4; round++) {
        for (size_t i = 0; i < NRAW; i++) {
            lg_request req = { .url = url, .body = mixed_body, .body_len = raw_sizes[i] };
            lg_fetch(cli, &req, on_rude_response, &r);
            total++;
            uint64_t give_up = lg_loop_now(loop) + 30000;
            while (r.done < total && lg_loop_now(loop) < give_up) lg_loop_run_once(loop, 100);
        }
    }
    printf("linger's client against the resetting server on lwIP: %d requests, %d answers whole\n",
           r.done, r.ok);
    CHECK_EQ_INT(r.done, total);
    CHECK_EQ_INT(r.ok, total);
    lg_client_free(cli);
    lg_server_shutdown(srv, 5000, NULL, NULL);
    lg_loop_run(loop);
    lg_server_free(srv);
}

int main(void)
{
    start_lwip();
    lg_loop *loop = lg_loop_new(NULL); /* the lwIP port and the poll backend */
    CHECK(loop != NULL);
    if (!loop) return 1;

    client_and_server(loop);

    raw_run good = { .rounds = 40 };
    raw_against(loop, (lg_server_config){ 0 }, &good);
    printf("read-to-EOF client against linger on lwIP: %d exchanges, %d complete with EOF, "
           "%d resets, %d other\n", good.rounds, good.complete, good.resets, good.other);
    CHECK_EQ_INT(good.complete, good.rounds);

    /* The control: no discarding, and a drain that gives up after a byte,
     * so the close comes with the body unread. */
    lg_server_config naive = { .discard_body_bytes = 1, .linger_max_bytes = 1 };
    raw_run bad = { .rounds = 40 };
    raw_against(loop, naive, &bad);
    printf("the same against a server that closes with the body unread: %d complete, "
           "%d resets, %d other\n", bad.complete, bad.resets, bad.other);
    CHECK(bad.resets > 0);

    /* Rule 1 on lwIP: linger's client against that resetting server still
     * gets every answer whole, since each arrived before the reset. */
    rude_server(loop, naive);

    lg_loop_free(loop);
    TEST_MAIN_END();
}
