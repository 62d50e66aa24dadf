/*
 * Static memory (lg_server_config.memory): once lg_server_listen has
 * returned, the server never calls the allocator. The allocator here fails
 * every call after start-up and counts it; the test passes only if there
 * was none, while the server works through:
 *
 *   1. real sockets (epoll and poll): six client threads against a server of
 *      four connections, in two profiles of docs/footprint.md ("four": two
 *      request slots and six 512-byte buffers; "tight": one request slot
 *      and four 384-byte buffers, under 4 KiB in all on a 32-bit target),
 *      1200 requests each time — GETs, POSTs
 *      echoed, a 3000-byte answer, HEAD, pipelined pairs, answers given a
 *      tick later (so that requests wait for a slot), a body too large for
 *      the buffer (413, then close), and clients beyond the four waiting
 *      in the backlog until an idle keep-alive connection gives way;
 *   2. the fault injector: four clients with pipelined requests whose
 *      answers the network takes five bytes at a time, so that what it
 *      does not take is copied into the static buffers.
 *
 * It then prints the memory a four-connection server needs on this host.
 */
#include <netinet/in.h>
#include <pthread.h>

#include "fault/fault_net.h"
#include "server_internal.h"
#include "tcp_peer.h"
#include "test.h"

/* --- an allocator that refuses everything once the server runs --- */

static int started;
static long allocs_after_start, frees_after_start;
static long long live_bytes, peak_bytes;

static void *strict_alloc(size_t size, void *user)
{
    (void)user;
    if (started) {
        allocs_after_start++;
        return NULL;
    }
    live_bytes += (long long)size;
    if (live_bytes > peak_bytes) peak_bytes = live_bytes;
    return malloc(size);
}

static void strict_free(void *p, size_t size, void *user)
{
    (void)user;
    if (started) frees_after_start++;
    live_bytes -= (long long)size;
    free(p);
}

static const lg_allocator strict = { strict_alloc, strict_free, NULL };

/* --- the server: the smallest working profile (docs/footprint.md) --- */

#define CONNS 4
#define REQUESTS 2 /* at most, in any profile */

typedef struct profile {
    const char *name;
    uint16_t requests, buffers, headers, response_headers, scratch;
    uint32_t recv;
} profile;

static const profile four = { "four", 2, 6, 12, 128, 64, 512 };
static const profile tight = { "tight", 1, 4, 8, 64, 32, 384 };
static const profile *P = &four;

static lg_server_config small_config(void *mem, size_t bytes)
{
    lg_server_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_conns = CONNS;
    cfg.max_requests = P->requests;
    cfg.buffers = P->buffers;
    cfg.recv_buffer_bytes = P->recv;
    cfg.max_headers = P->headers;
    cfg.response_header_bytes = P->response_headers;
    cfg.scratch_bytes = P->scratch;
    cfg.idle_timeout_ms = 2000;
    cfg.memory = mem;
    cfg.memory_bytes = bytes;
    return cfg;
}

static int in_handler, max_in_handler, max_waiting;
static long answered;

static void note_request(lg_req *req)
{
    const lg_server *srv = req->ex->srv;
    in_handler++;
    if (in_handler > max_in_handler) max_in_handler = in_handler;
    if (srv->nwaiting > max_waiting) max_waiting = srv->nwaiting;
}

static void answer(lg_res *res, int status, const void *body, size_t len)
{
    in_handler--;
    answered++;
    lg_res_send(res, status, body, len);
}

static void on_hello(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    note_request(req);
    lg_res_header(res, "Content-Type", "text/plain");
    answer(res, 200, "Hello, World!", 13);
}

static void on_echo(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    note_request(req);
    lg_str b = lg_req_body(req);
    answer(res, 200, b.ptr, b.len);
}

static char big[3000];

static void on_big(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    note_request(req);
    answer(res, 200, big, sizeof big);
}

/* Answered a tick later, from a deferred call (no timer: the application's
 * own timers would be its own to budget), holding its request slot
 * meanwhile. One deferred call per slot is all there can be. */
typedef struct later {
    lg_defer d;
    lg_res *res;
} later;
static later laters[REQUESTS];

static void later_fire(lg_defer *d)
{
    later *l = LG_CONTAINER_OF(d, later, d);
    lg_res *res = l->res;
    l->res = NULL;
    const lg_server *srv = res->ex->srv;
    if (srv->nwaiting > max_waiting) max_waiting = srv->nwaiting;
    answer(res, 200, "later", 5);
}

static void on_later(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    note_request(req);
    for (int i = 0; i < REQUESTS; i++) {
        if (laters[i].res) continue;
        laters[i].res = res;
        lg_defer_call(lg_server_loop(req->ex->srv), &laters[i].d, later_fire);
        return;
    }
    CHECK(!"more requests in handlers than request slots");
    answer(res, 500, NULL, 0);
}

/* A streamed answer of STREAM_BYTES in pieces of STREAM_PIECE, written
 * for as long as lg_res_write takes them: each answer's queue must stay
 * within one buffer, or answers in parallel run out of them. */
#define STREAM_BYTES 6000
#define STREAM_PIECE 200
typedef struct streamed {
    lg_res *res;
    size_t sent;
} streamed;
static streamed streams[REQUESTS];
static int stream_cut;

static void stream_fill(lg_res *res, void *user)
{
    streamed *st = user;
    static char piece[STREAM_PIECE];
    memset(piece, 's', sizeof piece);
    while (st->sent < STREAM_BYTES) {
        int rc = lg_res_write(res, piece, sizeof piece);
        if (rc == LG_ERR_LIMIT) return; /* asked again when the queue drains */
        if (rc != LG_OK) {
            stream_cut++;
            break;
        }
        st->sent += sizeof piece;
    }
    if (lg_res_end(res) != LG_OK) stream_cut++;
    st->res = NULL;
    in_handler--;
    answered++;
}

static void on_stream(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    note_request(req);
    for (int i = 0; i < REQUESTS; i++) {
        if (streams[i].res) continue;
        streams[i].res = res;
        streams[i].sent = 0;
        lg_res_stream(res, 200, stream_fill, &streams[i]);
        return;
    }
    CHECK(!"more requests in handlers than request slots");
    answer(res, 500, NULL, 0);
}

static void add_routes(lg_server *srv)
{
    CHECK_EQ_INT(lg_route(srv, "GET", "/hello", on_hello, NULL), LG_OK);
    CHECK_EQ_INT(lg_route(srv, "POST", "/echo", on_echo, NULL), LG_OK);
    CHECK_EQ_INT(lg_route(srv, "GET", "/big", on_big, NULL), LG_OK);
    CHECK_EQ_INT(lg_route(srv, "GET", "/later", on_later, NULL), LG_OK);
    CHECK_EQ_INT(lg_route(srv, "GET", "/stream", on_stream, NULL), LG_OK);
}

/* --- part 1: client threads with blocking sockets --- */

#define THREADS 6
#define PER_THREAD 200

typedef struct client {
    uint16_t port;
    int id;
    int failures, reconnects, refused_413, closes;
    long done;
} client;

static pthread_mutex_t finished_mu = PTHREAD_MUTEX_INITIALIZER;
static int finished;
static pthread_barrier_t start_line; /* all six connect at once: two must wait */

/* One answer: status and body length (Content-Length framed). Returns 0,
 * 1 when the connection ended before any byte of it (a kept-alive
 * connection the server closed: ask again on a new one), -1 otherwise. */
static int read_answer(int fd, char *buf, size_t cap, size_t *have, int head_only, int *status,
                       size_t *body_len, int *closing)
{
    size_t start = *have;
    for (;;) {
        char *end = *have ? memmem(buf, *have, "\r\n\r\n", 4) : NULL;
        if (end) {
            size_t head = (size_t)(end - buf) + 4;
            const char *cl = memmem(buf, head, "Content-Length: ", 16);
            size_t len = cl ? (size_t)strtoul(cl + 16, NULL, 10) : 0;
            size_t total = head + (head_only ? 0 : len);
            if (*have >= total) {
                *status = atoi(buf + 9);
                *body_len = len;
                *closing = memmem(buf, head, "Connection: close", 17) != NULL;
                memmove(buf, buf + total, *have - total);
                *have -= total;
                return 0;
            }
        }
        if (*have == cap) return -1;
        ssize_t n = recv(fd, buf + *have, cap - *have, 0);
        if (n <= 0) return *have == start && start == 0 ? 1 : -1;
        *have += (size_t)n;
    }
}

static void *client_main(void *arg)
{
    client *c = arg;
    char buf[8192], req[2048], body[1200];
    size_t have = 0;
    int fd = -1, served_here = 0;
    for (size_t i = 0; i < sizeof body; i++) body[i] = (char)('a' + i % 26);
    pthread_barrier_wait(&start_line);
    for (int i = 0; i < PER_THREAD && c->failures == 0;) {
        if (fd < 0) {
            fd = peer_connect(c->port);
            have = 0;
            served_here = 0;
            if (fd < 0) {
                c->failures++;
                break;
            }
        }
        int kind = (i + c->id) % 8, n = 0, expect = 200, head_only = 0, count = 1;
        size_t blen = (size_t)(i * 37 + c->id * 11) % 300, want = 13;
        switch (kind) {
        case 0:
            n = snprintf(req, sizeof req, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
            break;
        case 1:
            n = snprintf(req, sizeof req, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n%.*s",
                         blen, (int)blen, body);
            want = blen;
            break;
        case 2:
            n = snprintf(req, sizeof req, "GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
            want = sizeof big;
            break;
        case 3:
            n = snprintf(req, sizeof req, "HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n");
            head_only = 1;
            break;
        case 4: /* pipelined pair */
            n = snprintf(req, sizeof req, "GET /later HTTP/1.1\r\nHost: t\r\n\r\n"
                                          "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
            count = 2;
            break;
        case 5:
        case 6:
            n = snprintf(req, sizeof req, "GET /later HTTP/1.1\r\nHost: t\r\n\r\n");
            want = 5;
            break;
        default:
            if (i % 24 == 7) { /* larger than the 512-byte buffer: 413 and close */
                n = snprintf(req, sizeof req, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n%.*s",
                             1000, body);
                expect = 413;
                want = (size_t)-1;
            } else {
                n = snprintf(req, sizeof req, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
            }
            break;
        }
        if (peer_send_all(fd, req, (size_t)n)) {
            /* The server closed the idle connection under us: again. */
            close(fd);
            fd = -1;
            c->reconnects++;
            continue;
        }
        int closing = 0, retry = 0;
        for (int k = 0; k < count; k++) {
            int status;
            size_t len;
            int rc = read_answer(fd, buf, sizeof buf, &have, head_only, &status, &len, &closing);
            if (rc == 1 && k == 0 && served_here) { /* closed while idle, before our request */
                retry = 1;
                break;
            }
            if (rc != 0) {
                fprintf(stderr, "client %d: request %d (kind %d): no answer\n", c->id, i, kind);
                c->failures++;
                break;
            }
            size_t want_k = count == 2 ? (k == 0 ? 5 : 13) : want;
            if (status != expect || (want_k != (size_t)-1 && len != want_k)) {
                fprintf(stderr, "client %d: request %d (kind %d): status %d length %zu\n", c->id, i,
                        kind, status, len);
                c->failures++;
            }
            if (status == 413) c->refused_413++;
            /* "Connection: close" ends the connection after this answer:
             * a pipelined request behind it is not answered (RFC 9112 9.6,
             * a client sends it again on a new connection). */
            if (closing) break;
        }
        if (retry) {
            close(fd);
            fd = -1;
            c->reconnects++;
            continue;
        }
        i++;
        c->done++;
        served_here = 1;
        if (closing) {
            c->closes++;
            size_t got;
            peer_recv_all(fd, NULL, 0, &got); /* the server's FIN after its answer */
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0) close(fd);
    pthread_mutex_lock(&finished_mu);
    finished++;
    pthread_mutex_unlock(&finished_mu);
    return NULL;
}

static void done_shutdown(lg_server *srv, void *user)
{
    (void)srv;
    *(int *)user = 1;
}

static void test_real_sockets(const profile *p)
{
    P = p;
    finished = 0;
    max_in_handler = max_waiting = 0;
    lg_server_config probe = small_config(NULL, 0);
    size_t need = lg_server_memory_size(&probe);
    char *mem = malloc(need);
    lg_server_config too_small = small_config(mem, need - 1);
    lg_loop *loop = lg_loop_new(NULL);
    CHECK(lg_server_new(loop, &too_small) == NULL);

    lg_server_config cfg = small_config(mem, need);
    lg_server *srv = lg_server_new(loop, &cfg);
    CHECK(srv != NULL);
    if (!srv) return;
    add_routes(srv);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:0", 0), LG_OK);
    long long startup_bytes = live_bytes;
    started = 1;

    client clients[THREADS];
    pthread_t th[THREADS];
    pthread_barrier_init(&start_line, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) {
        memset(&clients[i], 0, sizeof clients[i]);
        clients[i].port = lg_server_port(srv);
        clients[i].id = i;
        CHECK_EQ_INT(pthread_create(&th[i], NULL, client_main, &clients[i]), 0);
    }
    /* The loop runs on this thread while the clients work. */
    for (int done_threads = 0; done_threads < THREADS;) {
        lg_loop_run_once(loop, 5);
        pthread_mutex_lock(&finished_mu);
        done_threads = finished;
        pthread_mutex_unlock(&finished_mu);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start_line);
    int shut = 0;
    lg_server_shutdown(srv, 1000, done_shutdown, &shut);
    for (int i = 0; i < 2000 && !shut; i++) lg_loop_run_once(loop, 5);
    CHECK(shut);
    long done = 0, failures = 0, reconnects = 0, refused = 0, closes = 0;
    for (int i = 0; i < THREADS; i++) {
        done += clients[i].done;
        failures += clients[i].failures;
        reconnects += clients[i].reconnects;
        refused += clients[i].refused_413;
        closes += clients[i].closes;
    }
    CHECK_EQ_INT(failures, 0);
    CHECK_EQ_INT(done, THREADS * PER_THREAD);
    CHECK(refused > 0);
    CHECK(max_in_handler <= P->requests);
    CHECK_EQ_INT(allocs_after_start, 0);
    CHECK_EQ_INT(frees_after_start, 0);
    printf("real sockets, profile %s: %ld requests from %d clients on %d connections (%ld "
           "answers closed the connection, %ld of them 413; %ld requests asked again after an "
           "idle close), at most %d in handlers, up to %d connections waiting for a request "
           "slot; allocator calls after start-up: %ld\n",
           P->name, done, THREADS, CONNS, closes, refused, reconnects, max_in_handler, max_waiting,
           allocs_after_start);
    max_waiting = 0;
    printf("memory: %zu bytes of static memory (lg_server_memory_size) + %lld bytes allocated at "
           "start-up (loop, backend, server, routes) on this %zu-bit host\n",
           need, startup_bytes, sizeof(void *) * 8);
    started = 0;
    lg_server_free(srv);
    lg_loop_free(loop);
    free(mem);
}

/* --- part 2: the fault injector, output five bytes at a time --- */

#define PIPELINED "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n" \
                  "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 200\r\n\r\n" \
                  "0123456789012345678901234567890123456789012345678901234567890123456789" \
                  "0123456789012345678901234567890123456789012345678901234567890123456789" \
                  "012345678901234567890123456789012345678901234567890123456789" \
                  "GET /later HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"

static int count_answers(const fault_sock *k)
{
    int n = 0;
    for (size_t i = 0; i + 12 <= k->out_len; i++)
        if (memcmp(k->out + i, "HTTP/1.1 200", 12) == 0) n++;
    return n;
}

static void test_fault_injector(void)
{
    P = &four;
    fault_net fn;
    fault_net_init(&fn);
    lg_loop *loop = fault_loop_new(&fn);
    lg_server_config probe = small_config(NULL, 0);
    size_t need = lg_server_memory_size(&probe);
    char *mem = malloc(need);
    lg_server_config cfg = small_config(mem, need);
    cfg.no_date = 1;
    lg_server *srv = lg_server_new(loop, &cfg);
    CHECK(srv != NULL);
    if (!srv) return;
    add_routes(srv);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:80", 0), LG_OK);
    int fds[CONNS];
    for (int i = 0; i < CONNS; i++) {
        fault_sock script = { 0 };
        script.in = PIPELINED;
        script.in_len = strlen(PIPELINED);
        script.in_piece = 7 + (size_t)i * 13;
        script.in_end = FAULT_EOF_AFTER_FIN;
        script.out_piece = 5;
        script.out_again = 1;
        fds[i] = fault_accept_queue(&fn, &script);
    }
    started = 1;
    fault_run(loop, 200000);
    for (int i = 0; i < CONNS; i++) {
        fault_sock *k = fault_sock_get(&fn, fds[i]);
        CHECK(k->closed);
        CHECK(!k->aborted);
        CHECK(!k->closed_with_unread);
        CHECK_EQ_INT(count_answers(k), 3);
    }
    CHECK_EQ_INT(lg_server_get_stats(srv)->active_connections, 0);
    CHECK(max_waiting > 0); /* four pipelining clients, two request slots */
    printf("fault injector: %d clients, 3 pipelined requests each, answers taken 5 bytes at a "
           "time; up to %d connections waiting for a request slot; allocator calls after "
           "start-up: %ld\n", CONNS, max_waiting, allocs_after_start);
    CHECK_EQ_INT(allocs_after_start, 0);
    CHECK_EQ_INT(frees_after_start, 0);
    started = 0;
    lg_server_free(srv);
    lg_loop_free(loop);
    fault_net_free(&fn);
    free(mem);
}

/* --- part 3: streamed answers in parallel, taken 5 bytes at a time ---
 * Four clients each ask for a streamed answer of 6000 bytes in 200-byte
 * pieces; both request slots stream at once while the other two
 * connections wait holding their heads. With the default buffer count
 * (max_conns + max_requests) every answer must come whole: a streamed
 * answer's queue stays within one buffer, so two streams, their two heads
 * and two waiting heads fit in six. */
static size_t chunked_body_bytes(const fault_sock *k)
{
    const char *end = memmem(k->out, k->out_len, "\r\n\r\n", 4);
    if (!end) return 0;
    size_t at = (size_t)(end + 4 - k->out), total = 0;
    while (at < k->out_len) {
        char *after;
        unsigned long n = strtoul(k->out + at, &after, 16);
        const char *crlf = memmem(after, k->out_len - (size_t)(after - k->out), "\r\n", 2);
        if (!crlf) return 0;
        at = (size_t)(crlf + 2 - k->out);
        if (n == 0) return at + 2 == k->out_len ? total : 0; /* the last chunk, then the end */
        if (at + n + 2 > k->out_len) return 0;
        total += n;
        at += n + 2;
    }
    return 0;
}

static void test_streams_in_parallel(const profile *p, uint16_t buffers)
{
    P = p;
    fault_net fn;
    fault_net_init(&fn);
    lg_loop *loop = fault_loop_new(&fn);
    lg_server_config cfg = small_config(NULL, 0);
    cfg.buffers = buffers;
    size_t need = lg_server_memory_size(&cfg);
    char *mem = malloc(need);
    cfg.memory = mem;
    cfg.memory_bytes = need;
    cfg.no_date = 1;
    lg_server *srv = lg_server_new(loop, &cfg);
    CHECK(srv != NULL);
    if (!srv) return;
    add_routes(srv);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:80", 0), LG_OK);
    static const char ask[] = "GET /stream HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    int fds[CONNS];
    for (int i = 0; i < CONNS; i++) {
        fault_sock script = { 0 };
        script.in = ask;
        script.in_len = sizeof ask - 1;
        script.in_end = FAULT_EOF_AFTER_FIN;
        script.out_piece = 5;
        script.out_again = 1;
        fds[i] = fault_accept_queue(&fn, &script);
    }
    stream_cut = 0;
    started = 1;
    fault_run(loop, 400000);
    int whole = 0;
    for (int i = 0; i < CONNS; i++) {
        fault_sock *k = fault_sock_get(&fn, fds[i]);
        CHECK(k->closed);
        CHECK(!k->aborted);
        whole += chunked_body_bytes(k) == STREAM_BYTES;
    }
    printf("streams in parallel (%s, %u buffers of %u): %d of %d answers whole, %d cut\n", p->name,
           (unsigned)buffers, (unsigned)p->recv, whole, CONNS, stream_cut);
    CHECK_EQ_INT(whole, CONNS);
    CHECK_EQ_INT(stream_cut, 0);
    CHECK_EQ_INT(allocs_after_start, 0);
    started = 0;
    lg_server_free(srv);
    lg_loop_free(loop);
    fault_net_free(&fn);
    free(mem);
}

int main(void)
{
    lg_set_allocator(&strict);
    memset(big, 'b', sizeof big);
    test_real_sockets(&four);
    test_real_sockets(&tight);
    test_fault_injector();
    test_streams_in_parallel(&four, CONNS + four.requests); /* the default count */
    test_streams_in_parallel(&tight, CONNS + tight.requests);
    lg_set_allocator(NULL);
    TEST_MAIN_END();
}
