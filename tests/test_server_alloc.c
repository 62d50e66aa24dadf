/*
 * No allocation per request in the steady state (DESIGN: "the server does
 * no allocation per request in its steady state"), counted through the
 * allocator hook on real sockets (run under epoll and poll).
 *
 * A client thread makes 100 requests to warm the server up (pools, the
 * loop's buffer cache, the timer heap), then 2000 more on the same
 * keep-alive connections: GETs, POSTs with small bodies (by length and
 * chunked), requests pipelined two and three deep, an answer of 20000 bytes
 * and HEAD. From the 100th answer to the 2100th the allocator must not be
 * called at all.
 *
 * It then prints what memory a connection costs, from the allocator's
 * view: the structures, and the bytes held per idle keep-alive connection
 * and per request in progress (bench/http measures the same from outside).
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>

#include "server_internal.h"
#include "tcp_peer.h"
#include "test.h"

#define WARMUP 100
#define MEASURED 2000
#define CONNS 3
#define HELD 64

/* --- a counting allocator; only the loop's thread calls it --- */

static int measuring;
static long calls_total, calls_measured;
static long long live_bytes;

static void *count_alloc(size_t size, void *user)
{
    (void)user;
    calls_total++;
    if (measuring) calls_measured++;
    live_bytes += (long long)size;
    return malloc(size);
}

static void count_free(void *p, size_t size, void *user)
{
    (void)user;
    if (measuring) calls_measured++;
    live_bytes -= (long long)size;
    free(p);
}

static const lg_allocator counting = { count_alloc, count_free, NULL };

/* --- the server --- */

static long answered;

static void count_answer(void)
{
    answered++;
    if (answered == WARMUP) measuring = 1;
    if (answered == WARMUP + MEASURED) measuring = 0;
}

static void on_hello(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    count_answer();
    lg_res_header(res, "Content-Type", "text/plain");
    lg_res_send(res, 200, "Hello, World!", 13);
}

static void on_echo(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    count_answer();
    lg_str b = lg_req_body(req);
    lg_res_header(res, "Content-Type", "application/octet-stream");
    lg_res_send(res, 200, b.ptr, b.len);
}

static char big[20000];

static void on_big(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    count_answer();
    lg_res_send(res, 200, big, sizeof big);
}

/* --- the client (its own thread, blocking sockets) --- */

typedef struct client {
    uint16_t port;
    lg_loop *loop;
    int failures;
    int held_fds[HELD];
    int phase; /* 0 requests; 1 they are over; 2 idle held; 3 heads in progress held; 4 done */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int go;
} client;

/* Read one answer (Content-Length framed) and check its status and length. */
static int read_answer(int fd, char *buf, size_t cap, size_t *have, int head_only,
                       size_t want_len)
{
    for (;;) {
        char *end = *have ? memmem(buf, *have, "\r\n\r\n", 4) : NULL;
        if (end) {
            size_t head = (size_t)(end - buf) + 4;
            const char *cl = memmem(buf, head, "Content-Length: ", 16);
            size_t len = cl ? (size_t)strtoul(cl + 16, NULL, 10) : 0;
            size_t total = head + (head_only ? 0 : len);
            if (*have >= total) {
                int ok = memcmp(buf, "HTTP/1.1 200 ", 13) == 0 && len == want_len;
                memmove(buf, buf + total, *have - total);
                *have -= total;
                return ok ? 0 : -1;
            }
        }
        if (*have == cap) return -1;
        ssize_t n = recv(fd, buf + *have, cap - *have, 0);
        if (n <= 0) return -1;
        *have += (size_t)n;
    }
}


static void wait_go(client *c, int phase)
{
    pthread_mutex_lock(&c->mu);
    c->phase = phase;
    c->go = 0;
    pthread_cond_broadcast(&c->cv);
    while (!c->go) pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

static void *client_main(void *arg)
{
    client *c = arg;
    static char buf[65536];
    size_t have[CONNS] = { 0 };
    int fds[CONNS];
    char body[1200], req[2048];
    for (size_t i = 0; i < sizeof body; i++) body[i] = (char)('a' + i % 26);
    for (int i = 0; i < CONNS; i++) {
        fds[i] = peer_connect(c->port);
        if (fds[i] < 0) c->failures++;
    }
    for (int i = 0, round = 0; i < WARMUP + MEASURED && !c->failures; round++) {
        int fd = fds[i % CONNS];
        size_t *h = &have[i % CONNS];
        int kind = round % 8, n = 0, k; /* i counts answers; pipelined rounds give several */
        size_t blen = (size_t)(i * 37 % 1000);
        switch (kind) {
        case 0: /* GET */
        case 1:
            n = snprintf(req, sizeof req, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
            if (peer_send_all(fd, req, (size_t)n) || read_answer(fd, buf, sizeof buf, h, 0, 13))
                c->failures++;
            i++;
            break;
        case 2: /* POST with a Content-Length body */
        case 3:
            n = snprintf(req, sizeof req,
                         "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n%.*s", blen,
                         (int)blen, body);
            if (peer_send_all(fd, req, (size_t)n) || read_answer(fd, buf, sizeof buf, h, 0, blen))
                c->failures++;
            i++;
            break;
        case 4: /* POST with a small chunked body */
            blen = 1 + blen % 300; /* a size of 0 would be the last chunk */
            n = snprintf(req, sizeof req,
                         "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "%zx\r\n%.*s\r\n3\r\nxyz\r\n0\r\n\r\n",
                         blen, (int)blen, body);
            if (peer_send_all(fd, req, (size_t)n) ||
                read_answer(fd, buf, sizeof buf, h, 0, blen + 3))
                c->failures++;
            i++;
            break;
        case 5: /* pipelined: 2 or 3 requests in one write */
            k = 2 + round / 8 % 2;
            n = 0;
            for (int j = 0; j < k; j++)
                n += snprintf(req + n, sizeof req - (size_t)n,
                              "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
            if (peer_send_all(fd, req, (size_t)n)) c->failures++;
            for (int j = 0; j < k; j++)
                if (read_answer(fd, buf, sizeof buf, h, 0, 13)) c->failures++;
            i += k;
            break;
        case 6: /* a larger answer */
            n = snprintf(req, sizeof req, "GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
            if (peer_send_all(fd, req, (size_t)n) ||
                read_answer(fd, buf, sizeof buf, h, 0, sizeof big))
                c->failures++;
            i++;
            break;
        default: /* HEAD */
            n = snprintf(req, sizeof req, "HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n");
            if (peer_send_all(fd, req, (size_t)n) || read_answer(fd, buf, sizeof buf, h, 1, 13))
                c->failures++;
            i++;
            break;
        }
    }
    for (int i = 0; i < CONNS; i++)
        if (fds[i] >= 0) close(fds[i]);
    wait_go(c, 1);

    /* Idle keep-alive connections: one request each, then quiet. */
    for (int i = 0; i < HELD; i++) {
        size_t h = 0;
        c->held_fds[i] = peer_connect(c->port);
        static const char get[] = "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n";
        if (c->held_fds[i] < 0 || peer_send_all(c->held_fds[i], get, sizeof get - 1) ||
            read_answer(c->held_fds[i], buf, sizeof buf, &h, 0, 13))
            c->failures++;
    }
    wait_go(c, 2);
    /* The same connections with a request begun and not finished. */
    for (int i = 0; i < HELD; i++) {
        static const char part[] = "GET /hello HTTP/1.1\r\nHost: t\r\n";
        if (c->held_fds[i] >= 0 && peer_send_all(c->held_fds[i], part, sizeof part - 1))
            c->failures++;
    }
    wait_go(c, 3);
    for (int i = 0; i < HELD; i++)
        if (c->held_fds[i] >= 0) close(c->held_fds[i]);
    pthread_mutex_lock(&c->mu);
    c->phase = 4;
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Run the loop until the client reaches `phase`, then let the server
 * settle (every byte sent to it read). */
static void run_until_phase(lg_loop *loop, client *c, int phase)
{
    for (;;) {
        pthread_mutex_lock(&c->mu);
        int p = c->phase;
        pthread_mutex_unlock(&c->mu);
        if (p >= phase) break;
        lg_loop_run_once(loop, 10);
    }
    for (int i = 0; i < 20; i++) lg_loop_run_once(loop, 10);
}

static void release(client *c)
{
    pthread_mutex_lock(&c->mu);
    c->go = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void done_shutdown(lg_server *srv, void *user)
{
    (void)srv;
    *(int *)user = 1;
}

int main(void)
{
    lg_set_allocator(&counting);
    memset(big, 'b', sizeof big);
    lg_loop *loop = lg_loop_new(NULL);
    CHECK(loop != NULL);
    lg_server_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_conns = 1024;
    lg_server *srv = lg_server_new(loop, &cfg);
    CHECK(srv != NULL);
    CHECK_EQ_INT(lg_route(srv, "GET", "/hello", on_hello, NULL), LG_OK);
    CHECK_EQ_INT(lg_route(srv, "POST", "/echo", on_echo, NULL), LG_OK);
    CHECK_EQ_INT(lg_route(srv, "GET", "/big", on_big, NULL), LG_OK);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:0", 0), LG_OK);

    static client c;
    memset(&c, 0, sizeof c);
    c.port = lg_server_port(srv);
    c.loop = loop;
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
    pthread_t th;
    CHECK_EQ_INT(pthread_create(&th, NULL, client_main, &c), 0);

    run_until_phase(loop, &c, 1);
    CHECK_EQ_INT(c.failures, 0);
    CHECK(answered >= WARMUP + MEASURED);
    CHECK_EQ_INT(measuring, 0);
    /* The steady state: not one call to the allocator in 2000 requests. */
    CHECK_EQ_INT(calls_measured, 0);
    printf("allocator calls: %ld in all, %ld during the %d measured requests\n", calls_total,
           calls_measured, MEASURED);

    /* Memory from the allocator's view. Closed connections wait in a pool
     * for reuse: the first held connections take those. */
    long long base = live_bytes;
    long pooled = 0;
    for (lg_conn *p = srv->free_conns; p; p = p->next) pooled++;
    release(&c);
    run_until_phase(loop, &c, 2);
    long long idle = live_bytes;
    long idle_conns = 0, idle_with_buffer = 0;
    for (lg_conn *p = srv->conns; p; p = p->next) {
        idle_conns++;
        if (p->s.rbuf) idle_with_buffer++;
    }
    CHECK_EQ_INT(idle_conns, HELD);
    CHECK_EQ_INT(idle_with_buffer, 0); /* an idle connection holds no receive buffer */
    release(&c);
    run_until_phase(loop, &c, 3);
    long long active = live_bytes;
    printf("sizeof: lg_conn %zu (its lg_stream %zu), lg_exchange %zu + %zu (its header array; "
           "response-header and scratch spaces from pools when used); receive buffer %u, "
           "held only while input waits\n",
           sizeof(lg_conn), sizeof(lg_stream), sizeof(lg_exchange),
           srv->exchange_size - sizeof(lg_exchange), srv->cfg.recv_buffer_bytes);
    printf("per idle keep-alive connection: %lld bytes (%d connections, %ld from the pool)\n",
           HELD > pooled ? (idle - base) / (HELD - pooled) : 0, HELD, pooled);
    printf("per request in progress: %lld bytes more (a receive buffer and an exchange)\n",
           (active - idle) / HELD);
    CHECK((active - idle) / HELD >= (long long)srv->cfg.recv_buffer_bytes);
    release(&c);
    run_until_phase(loop, &c, 4);
    pthread_join(th, NULL);

    int done = 0;
    lg_server_shutdown(srv, 1000, done_shutdown, &done);
    for (int i = 0; i < 500 && !done; i++) lg_loop_run_once(loop, 10);
    CHECK(done);
    lg_server_free(srv);
    lg_loop_free(loop);
    CHECK_EQ_INT(live_bytes, 0);
    lg_set_allocator(NULL);
    TEST_MAIN_END();
}
