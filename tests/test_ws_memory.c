/*
 * What an idle WebSocket connection and an open event stream cost in RAM,
 * measured through the allocator hook (every byte linger holds comes from
 * it): a server on the fault injector accepts N scripted clients that each
 * open a WebSocket (or an event stream, or make one keep-alive request, for
 * comparison) and then say nothing; the bytes held, less those held before
 * they came, divided by N. Run on the host and, as Cortex-M4, Cortex-M0+
 * and RV32IMC code under qemu (tests/target/), whose figures are the
 * 32-bit ones docs/websocket.md quotes. It prints them, and checks:
 *
 *  - an idle WebSocket holds no receive buffer (it gives it back once it
 *    has consumed everything): well under one buffer per connection;
 *  - an event stream holds its request and its receive buffer (the head
 *    stays there by default), with 8 KiB at most besides; with
 *    move_held_heads its request (slot and head) but not the buffer (the
 *    head moved out when the handler kept the request), 8 KiB in all;
 *  - once the server has shut them all down, every byte is back.
 */
#include "fault/fault_net.h"
#include "test.h"

#include "linger_ws.h"

#define N 16 /* connections measured */

static size_t live, peak;

static void *count_alloc(size_t size, void *user)
{
    (void)user;
    void *p = malloc(size);
    if (p) {
        live += size;
        if (live > peak) peak = live;
    }
    return p;
}

static void count_free(void *ptr, size_t size, void *user)
{
    (void)user;
    if (ptr) live -= size;
    free(ptr);
}

static const lg_allocator counting = { count_alloc, count_free, NULL };

static void on_hello(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_send(res, 200, "hi", 2);
}

static const lg_ws_callbacks idle_ws = { 0 };

static void on_ws(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    CHECK(lg_ws_accept(req, res, NULL, &idle_ws, NULL) != NULL);
}

static void on_events(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_sse *sse = lg_sse_start(req, res, NULL);
    CHECK(sse != NULL);
    if (sse) CHECK_EQ_INT(lg_sse_send(sse, "hello", "1", "first", 0), LG_OK);
}

#define WS_REQ                                                                        \
    "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" \
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
#define SSE_REQ "GET /events HTTP/1.1\r\nHost: a\r\nAccept: text/event-stream\r\n\r\n"
#define HELLO_REQ "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n"

static int out_has(const fault_sock *k, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= k->out_len; i++)
        if (memcmp(k->out + i, needle, n) == 0) return 1;
    return 0;
}

static void done_cb(lg_server *srv, void *user)
{
    (void)srv;
    *(int *)user = 1;
}

/* Queue n scripted clients that send `request` and then nothing; run until
 * every one has its answer (`answered`). */
static void open_clients(fault_net *fn, lg_loop *loop, int *fds, int n, const char *request,
                         const char *answered)
{
    for (int i = 0; i < n; i++) {
        fault_sock script = { 0 };
        script.in = request;
        script.in_len = strlen(request);
        script.in_end = FAULT_SILENT; /* then idle: the peer says nothing more */
        fds[i] = fault_accept_queue(fn, &script);
    }
    int all = 0;
    for (int it = 0; it < 1000 && !all; it++) {
        lg_loop_run_once(loop, 0); /* (0: no virtual time passes, no timer fires) */
        all = 1;
        for (int i = 0; i < n; i++) all = all && out_has(fault_sock_get(fn, fds[i]), answered);
    }
    CHECK(all);
    for (int i = 0; i < 3; i++) lg_loop_run_once(loop, 0);
}

/* The bytes each more connection holds: FIRST clients, then N more; the
 * growth from the first to the second count, over N. (Not the first
 * count alone: the server keeps a few buffers and a request slot for
 * reuse once it has had them, which no further connection adds to.) */
#define FIRST 8
static long per_connection(const char *request, const char *answered, const char *what,
                           int move_heads)
{
    fault_net fn;
    fault_net_init(&fn);
    lg_loop *loop = fault_loop_new(&fn);
    lg_server_config cfg = { .max_conns = FIRST + N, .no_date = 1, .server_name = "",
                             .move_held_heads = (uint8_t)move_heads };
    lg_server *srv = lg_server_new(loop, &cfg);
    lg_route(srv, "GET", "/hello", on_hello, NULL);
    lg_route(srv, "GET", "/ws", on_ws, NULL);
    lg_route(srv, "GET", "/events", on_events, NULL);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:80", 0), LG_OK);

    int fds[FIRST + N];
    open_clients(&fn, loop, fds, FIRST, request, answered);
    size_t before = live;
    open_clients(&fn, loop, fds + FIRST, N, request, answered);
    CHECK_EQ_INT(lg_server_get_stats(srv)->active_connections, FIRST + N);
    long per = ((long)live - (long)before) / N;
    printf("%-34s %5ld bytes per connection (%u-bit)\n", what, per, (unsigned)(sizeof(void *) * 8));

    /* The server's shutdown ends them (Close 1001, the last chunk) and
     * closes them gracefully: the scripted peers then end with EOF. */
    int done = 0;
    lg_server_shutdown(srv, 1000, done_cb, &done);
    for (int i = 0; i < FIRST + N; i++) fault_sock_get(&fn, fds[i])->in_end = FAULT_EOF;
    for (int it = 0; it < 100000 && !done; it++) lg_loop_run_once(loop, -1);
    CHECK(done);
    for (int i = 0; i < FIRST + N; i++) {
        fault_sock *k = fault_sock_get(&fn, fds[i]);
        CHECK(k->closed);
        CHECK_EQ_INT(k->closed_with_unread, 0);
        CHECK_EQ_INT(k->aborted, 0);
    }
    lg_server_free(srv);
    lg_loop_free(loop);
    fault_net_free(&fn);
    CHECK_EQ_INT(live, 0); /* every byte back */
    return per;
}

int main(void)
{
    lg_set_allocator(&counting);
    long rb = LG_SERVER_DEFAULT_RECV_BUFFER;
    long keepalive = per_connection(HELLO_REQ, "hi", "idle keep-alive HTTP connection", 0);
    long ws = per_connection(WS_REQ, "101 Switching Protocols", "idle WebSocket connection", 0);
    long sse = per_connection(SSE_REQ, "data: first\n\n", "open event stream (SSE)", 0);
    long sse_moved = per_connection(SSE_REQ, "data: first\n\n",
                                    "open event stream (SSE), move_held_heads", 1);
    printf("(receive buffer %lu bytes; peak %lu bytes held)\n", (unsigned long)rb, (unsigned long)peak);
    CHECK(keepalive > 0 && ws > 0 && sse > 0 && sse_moved > 0);
    /* an idle WebSocket: its connection and its lg_ws, no receive buffer */
    CHECK(ws > keepalive && ws < keepalive + 1024);
    /* an event stream: its connection, its receive buffer (the head stays
     * in it), its request slot (the request's arrays: headers) and its
     * lg_sse */
    CHECK(sse >= keepalive + rb && sse <= keepalive + rb + 8192);
    /* with move_held_heads: not the receive buffer, which went back when
     * the handler kept the request (its head moved out: server_conn.c's
     * move_head_apart) */
    CHECK(sse_moved > keepalive && sse_moved < keepalive + rb && sse_moved <= keepalive + 8192);
    lg_set_allocator(NULL);
    printf("%d checks, %d failures\n", test_checks, test_failures);
    return test_failures ? 1 : 0;
}
