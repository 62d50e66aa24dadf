/*
 * Allocation failure, every N: a server scenario (several clients: a GET, a
 * body big enough to need its own memory, a chunked upload, pipelined
 * requests, a streamed answer) runs once to count its allocations, then once
 * per N with the Nth allocation failing. Every run must end cleanly: no
 * crash, every byte allocated freed again (checked through the allocator
 * hook), no connection closed with input unread, and a client that comes
 * after the failure is served.
 */
#include "fault/fault_net.h"
#include "test.h"

/* --- a counting allocator that fails the Nth call --- */

static long alloc_calls, fail_at, live_blocks;
static long long live_bytes;

static void *counting_alloc(size_t size, void *user)
{
    (void)user;
    alloc_calls++;
    if (fail_at && alloc_calls == fail_at) return NULL;
    live_blocks++;
    live_bytes += (long long)size;
    return malloc(size);
}

static void counting_free(void *p, size_t size, void *user)
{
    (void)user;
    live_blocks--;
    live_bytes -= (long long)size;
    free(p);
}

static const lg_allocator counting = { counting_alloc, counting_free, NULL };

/* --- the scenario --- */

static void on_echo(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_str b = lg_req_body(req);
    lg_res_send(res, 200, b.ptr, b.len);
}

static void fill(lg_res *res, void *user)
{
    int *left = user;
    static const char line[] = "0123456789abcdef0123456789abcdef\n";
    while (*left > 0) {
        int rc = lg_res_write(res, line, sizeof line - 1);
        if (rc == LG_ERR_LIMIT) return;
        if (rc != LG_OK) break;
        (*left)--;
    }
    lg_res_end(res);
}

static int stream_left;
static void on_stream(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    stream_left = 2000;
    lg_res_stream(res, 200, fill, &stream_left);
}

static char big_body[20000];
static char req_big[21000];
static size_t req_big_len;

#define GET_REQ "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n"

static const char *client_inputs[4];
static size_t client_lens[4];

static void build_inputs(void)
{
    memset(big_body, 'z', sizeof big_body);
    req_big_len = (size_t)snprintf(req_big, sizeof req_big,
                                   "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: %lu\r\n\r\n",
                                   (unsigned long)sizeof big_body);
    memcpy(req_big + req_big_len, big_body, sizeof big_body);
    req_big_len += sizeof big_body;
    client_inputs[0] = GET_REQ GET_REQ "GET /stream HTTP/1.1\r\nHost: a\r\n\r\n";
    client_inputs[1] = req_big;
    client_inputs[2] = "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n";
    client_inputs[3] = GET_REQ;
    for (int i = 0; i < 4; i++)
        client_lens[i] = i == 1 ? req_big_len : strlen(client_inputs[i]);
}

/* Returns 1 when the scenario could start, and says whether the last
 * client (arriving after everything else) was served. */
static int run_scenario(int *late_served, int *unread_closes)
{
    static fault_net fn;
    fault_net_init(&fn);
    *late_served = 0;
    *unread_closes = 0;
    lg_loop *loop = fault_loop_new(&fn);
    if (!loop) return 0;
    lg_server_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.no_date = 1;
    lg_server *srv = lg_server_new(loop, &cfg);
    if (!srv) {
        lg_loop_free(loop);
        return 0;
    }
    int ok = lg_route(srv, "GET", "/echo", on_echo, NULL) == LG_OK &&
             lg_route(srv, "POST", "/echo", on_echo, NULL) == LG_OK &&
             lg_route(srv, "GET", "/stream", on_stream, NULL) == LG_OK &&
             lg_server_listen(srv, "127.0.0.1:80", 0) == LG_OK;
    int fds[4] = { -1, -1, -1, -1 };
    if (ok) {
        for (int i = 0; i < 3; i++) {
            fault_sock s = { 0 };
            s.in = client_inputs[i];
            s.in_len = client_lens[i];
            s.in_piece = 1000;
            s.out_piece = 3000;
            s.in_end = FAULT_EOF_AFTER_FIN;
            fds[i] = fault_accept_queue(&fn, &s);
        }
        for (int i = 0; i < 3000; i++) {
            int stalled = fn.stalled_waits;
            lg_loop_run_once(loop, -1);
            if (lg_server_get_stats(srv)->active_connections == 0 && fn.accept_len == 0) break;
            if (fn.stalled_waits != stalled) break;
        }
        /* After whatever happened: a new client must still be served. */
        fault_sock s = { 0 };
        s.in = client_inputs[3];
        s.in_len = client_lens[3];
        s.in_end = FAULT_EOF_AFTER_FIN;
        fds[3] = fault_accept_queue(&fn, &s);
        for (int i = 0; i < 3000; i++) {
            int stalled = fn.stalled_waits;
            lg_loop_run_once(loop, -1);
            if (fault_sock_get(&fn, fds[3])->closed) break;
            if (fn.stalled_waits != stalled) break;
        }
        fault_sock *late = fault_sock_get(&fn, fds[3]);
        *late_served = late->out_len > 12 && memcmp(late->out, "HTTP/1.1 200", 12) == 0;
        /* Let the rest wind down, then shut down. */
        lg_server_shutdown(srv, 1000, NULL, NULL);
        for (int i = 0; i < 3000 && lg_server_get_stats(srv)->active_connections; i++)
            lg_loop_run_once(loop, -1);
        for (int i = 0; i < 10; i++) lg_loop_run_once(loop, 0);
        for (int i = 0; i < 4; i++)
            if (fds[i] >= 0) *unread_closes += fault_sock_get(&fn, fds[i])->closed_with_unread;
    }
    lg_server_free(srv);
    lg_loop_free(loop);
    fault_net_free(&fn);
    return ok;
}

int main(void)
{
    build_inputs();
    lg_set_allocator(&counting);

    int late, unread;
    alloc_calls = 0;
    fail_at = 0;
    CHECK(run_scenario(&late, &unread));
    long total = alloc_calls;
    CHECK(late);
    CHECK_EQ_INT(unread, 0);
    CHECK_EQ_INT(live_blocks, 0);
    printf("the scenario makes %ld allocations; failing each in turn\n", total);

    int started = 0, served_after = 0;
    for (long n = 1; n <= total; n++) {
        alloc_calls = 0;
        fail_at = n;
        int ran = run_scenario(&late, &unread);
        started += ran;
        if (ran) {
            if (!late) fprintf(stderr, "  allocation %ld failed: the late client was not served\n", n);
            served_after += late;
        }
        if (live_blocks != 0 || live_bytes != 0) {
            test_failures++;
            fprintf(stderr, "  allocation %ld failed: %ld blocks (%lld bytes) leaked\n", n,
                    live_blocks, live_bytes);
            live_blocks = 0;
            live_bytes = 0;
        }
        if (unread) {
            test_failures++;
            fprintf(stderr, "  allocation %ld failed: a connection closed with input unread\n", n);
        }
        test_checks += 2;
    }
    /* Failures at start-up (loop, server, routes) cannot serve anyone; every
     * failure after start-up must leave the server serving. */
    CHECK_EQ_INT(served_after, started);
    printf("%ld failure points: %d started, %d of those served the late client\n", total, started,
           served_after);
    lg_set_allocator(NULL);
    TEST_MAIN_END();
}
