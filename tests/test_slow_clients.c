/*
 * Slow and idle clients. Twice the connection limit of slowloris clients
 * (a head trickling in a byte at a time) plus clients that ask for a large
 * answer and never read it: a normal client arriving after all of them is
 * still served within a bounded time (the header and send timeouts free the
 * slots), and the slow clients are answered 408 rather than dropped.
 */
#include <errno.h>
#include <time.h>

#include "linger.h"
#include "tcp_peer.h"
#include "test.h"

#define MAX_CONNS 6
#define SLOWLORIS (2 * MAX_CONNS)
#define NON_READERS 3
#define TIMEOUT_MS 600

static uint16_t port;
static char big[32u << 20];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct slow {
    pthread_t t;
    int got_408;
    int reset;
} slow;

static void *slowloris(void *arg)
{
    slow *s = arg;
    int fd = peer_connect(port);
    if (fd < 0) return NULL;
    struct timeval tv = { 0, 50000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    peer_send_all(fd, "GET /hello HTTP/1.1\r\n", 21);
    char buf[512];
    size_t got = 0;
    double start = now_s();
    while (now_s() - start < 8) {
        if (send(fd, "X", 1, MSG_NOSIGNAL) < 0) break;
        ssize_t n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (n > 0) {
            got += (size_t)n;
            buf[got] = 0;
            if (strstr(buf, "408 Request Timeout")) s->got_408 = 1;
        } else if (n == 0) {
            break;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            if (errno == ECONNRESET) s->reset = 1;
            break;
        }
        usleep(100000);
    }
    close(fd);
    return NULL;
}

static void *non_reader(void *arg)
{
    (void)arg;
    /* A small window, set before connecting so that it is what the server
     * sees; and an answer bigger than every buffer on the way. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(0x7f000001);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) return NULL;
    static const char req[] = "GET /big HTTP/1.1\r\nHost: a\r\n\r\n";
    peer_send_all(fd, req, sizeof req - 1);
    sleep(6); /* never reads */
    close(fd);
    return NULL;
}

static double normal_latency = -1;
static void *normal(void *arg)
{
    (void)arg;
    usleep(300000); /* after every slow client is in */
    double t0 = now_s();
    int fd = peer_connect(port);
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    static const char req[] = "GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    peer_send_all(fd, req, sizeof req - 1);
    char buf[512];
    size_t got;
    int rc = peer_recv_all(fd, buf, sizeof buf, &got);
    if (rc == 0 && got > 12 && memcmp(buf, "HTTP/1.1 200", 12) == 0) normal_latency = now_s() - t0;
    close(fd);
    return NULL;
}

static void on_hello(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_send(res, 200, "hi", 2);
}

static void on_big(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_send(res, 200, big, sizeof big);
}

int main(void)
{
    lg_loop *loop = lg_loop_new(NULL);
    lg_server_config cfg = { 0 };
    cfg.max_conns = MAX_CONNS;
    cfg.header_timeout_ms = TIMEOUT_MS;
    cfg.send_timeout_ms = TIMEOUT_MS;
    cfg.linger_timeout_ms = TIMEOUT_MS;
    lg_server *srv = lg_server_new(loop, &cfg);
    lg_route(srv, "GET", "/hello", on_hello, NULL);
    lg_route(srv, "GET", "/big", on_big, NULL);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:0", 0), LG_OK);
    port = lg_server_port(srv);

    slow s[SLOWLORIS];
    pthread_t nr[NON_READERS], n;
    memset(s, 0, sizeof s);
    for (int i = 0; i < NON_READERS; i++) pthread_create(&nr[i], NULL, non_reader, NULL);
    for (int i = 0; i < SLOWLORIS; i++) pthread_create(&s[i].t, NULL, slowloris, &s[i]);
    pthread_create(&n, NULL, normal, NULL);

    double t0 = now_s();
    while (now_s() - t0 < 9) lg_loop_run_once(loop, 50);
    pthread_join(n, NULL);
    int got_408 = 0, resets = 0;
    for (int i = 0; i < SLOWLORIS; i++) {
        pthread_join(s[i].t, NULL);
        got_408 += s[i].got_408;
        resets += s[i].reset;
    }
    for (int i = 0; i < NON_READERS; i++) pthread_join(nr[i], NULL);
    const lg_server_stats *st = lg_server_get_stats(srv);
    printf("normal client served after %.2f s; slowloris answered 408: %d/%d (resets %d); "
           "timeouts %llu, idle connections recycled %llu\n",
           normal_latency, got_408, SLOWLORIS, resets, (unsigned long long)st->timeouts,
           (unsigned long long)st->idle_recycled);
    /* Bounded: the backlog ahead of it drains in rounds of the timeouts. */
    CHECK(normal_latency > 0 && normal_latency < 8 * TIMEOUT_MS / 1000.0 + 1);
    CHECK_EQ_INT(got_408, SLOWLORIS);
    CHECK(st->timeouts >= SLOWLORIS);
    /* The non-readers are gone too: by the send timeout, or (when their
     * answer said "Connection: close" because others waited) by the
     * graceful close's bound on a peer that takes nothing (send_timeouts),
     * or its linger time. Nothing was aborted. */
    const lg_loop_stats *ls = lg_loop_get_stats(loop);
    CHECK(st->timeouts - SLOWLORIS + ls->send_timeouts + ls->linger_timeouts >= NON_READERS);
    CHECK_EQ_INT(st->active_connections, 0);
    CHECK_EQ_INT(ls->aborts, 0);

    lg_server_shutdown(srv, 100, NULL, NULL);
    lg_loop_run(loop);
    lg_server_free(srv);
    lg_loop_free(loop);
    TEST_MAIN_END();
}
