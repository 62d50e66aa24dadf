/*
 * The server over the fault injector: each exchange with its input cut at
 * every byte (EOF or reset), delivered in pieces of several sizes with
 * EAGAIN between them, and its output taken in short writes or failing at
 * every byte. Whatever happens, no connection is ever closed with scripted
 * input unread (rule 3), nothing is aborted, and the connection count
 * returns to zero. Virtual time makes the timeouts instant.
 */
#include "fault/fault_net.h"
#include "test.h"

typedef struct env {
    fault_net fn;
    lg_loop *loop;
    lg_server *srv;
} env;

static void on_hello(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_header(res, "Content-Type", "text/plain");
    lg_res_send(res, 200, "Hello, World!", 13);
}

static void on_echo(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_str b = lg_req_body(req);
    lg_res_send(res, 200, b.ptr, b.len);
}

/* Answers before the body arrives: the case that started it all. */
static void on_early(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_send(res, 200, "OK", 2);
}

static void on_refuse(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_send(res, 401, "no", 2);
}

static void env_open(env *e, const lg_server_config *extra)
{
    fault_net_init(&e->fn);
    e->loop = fault_loop_new(&e->fn);
    lg_server_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (extra) cfg = *extra;
    cfg.no_date = 1;      /* byte-exact answers */
    cfg.server_name = "";
    e->srv = lg_server_new(e->loop, &cfg);
    lg_route(e->srv, "GET", "/hello", on_hello, NULL);
    lg_route(e->srv, "POST", "/echo", on_echo, NULL);
    lg_route_ex(e->srv, "POST", "/early", LG_ROUTE_STREAM_BODY, on_early, NULL);
    lg_route_ex(e->srv, "POST", "/refuse", LG_ROUTE_STREAM_BODY, on_refuse, NULL);
    CHECK_EQ_INT(lg_server_listen(e->srv, "127.0.0.1:80", 0), LG_OK);
}

/* Run until the client's socket is closed and the loop has settled. */
static int run_until_closed(env *e, int fd)
{
    fault_sock *k = fault_sock_get(&e->fn, fd);
    for (int i = 0; i < 200000; i++) {
        int stalled = e->fn.stalled_waits;
        lg_loop_run_once(e->loop, -1);
        if (k->closed && lg_server_get_stats(e->srv)->active_connections == 0) {
            for (int j = 0; j < 3; j++) lg_loop_run_once(e->loop, 0);
            return 1;
        }
        if (e->fn.stalled_waits != stalled) return 0;
    }
    return 0;
}

static void env_close(env *e)
{
    lg_server_free(e->srv);
    lg_loop_free(e->loop);
    fault_net_free(&e->fn);
}

static int out_is(const fault_sock *k, const char *expect)
{
    size_t n = strlen(expect);
    return k->out_len == n && memcmp(k->out, expect, n) == 0;
}

static int out_has(const fault_sock *k, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= k->out_len; i++)
        if (memcmp(k->out + i, needle, n) == 0) return 1;
    return 0;
}

#define HELLO_REQ "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n"
#define HELLO_RESP "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!"

static const size_t pieces[] = { 0, 1, 2, 5, 13 };
#define NPIECES (sizeof pieces / sizeof pieces[0])

/* One client, input cut at `cut` and ended by `end`. */
static void exchange_cut(const char *req, size_t cut, int end, size_t piece, int again,
                         const char *full_answer, const char *name)
{
    env e;
    env_open(&e, NULL);
    fault_sock script = { 0 };
    script.in = req;
    script.in_len = cut;
    script.in_end = end;
    script.in_piece = piece;
    script.in_again = again;
    int fd = fault_accept_queue(&e.fn, &script);
    int done = run_until_closed(&e, fd);
    fault_sock *k = fault_sock_get(&e.fn, fd);
    int before = test_failures;
    CHECK(done);
    CHECK_EQ_INT(k->closed_with_unread, 0);
    CHECK_EQ_INT(k->aborted, 0);
    if (cut == strlen(req)) {
        CHECK(out_is(k, full_answer));
    } else {
        /* a request that never completed gets no answer */
        CHECK_EQ_INT(k->out_len, 0);
    }
    CHECK_EQ_INT(lg_server_get_stats(e.srv)->active_connections, 0);
    CHECK_EQ_INT(lg_loop_get_stats(e.loop)->aborts, 0);
    if (test_failures != before)
        fprintf(stderr, "  %s: cut %lu end %d piece %lu again %d\n", name, (unsigned long)cut, end,
                (unsigned long)piece, again);
    env_close(&e);
}

static void test_every_cut(const char *req, const char *answer, const char *name)
{
    size_t len = strlen(req);
    for (size_t p = 0; p < NPIECES; p++)
        for (int again = 0; again < 2; again++)
            for (size_t cut = 0; cut <= len; cut++)
                for (int end = FAULT_EOF; end <= FAULT_RESET; end++)
                    exchange_cut(req, cut, end, pieces[p], again, answer, name);
}

/* Several requests in one go: answers in order, and the idle timeout ends
 * the connection gracefully afterwards. */
static void test_pipelining(void)
{
    static const char req[] = HELLO_REQ
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabcde"
        "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n2;ext=1\r\n12\r\n0\r\nT: v\r\n\r\n"
        "\r\n" HELLO_REQ;
    static const char answer[] = HELLO_RESP
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabcde"
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nxyz12" HELLO_RESP;
    for (size_t p = 0; p < NPIECES; p++)
        for (int again = 0; again < 2; again++) {
            env e;
            env_open(&e, NULL);
            fault_sock script = { 0 };
            script.in = req;
            script.in_len = sizeof req - 1;
            script.in_piece = pieces[p];
            script.in_again = again;
            script.out_piece = pieces[p] ? pieces[p] * 3 : 0;
            script.in_end = FAULT_EOF_AFTER_FIN;
            int fd = fault_accept_queue(&e.fn, &script);
            uint64_t t0 = e.fn.now_ms;
            CHECK(run_until_closed(&e, fd));
            fault_sock *k = fault_sock_get(&e.fn, fd);
            CHECK(out_is(k, answer));
            CHECK_EQ_INT(k->fin_sent, 1);
            CHECK_EQ_INT(k->closed_with_unread, 0);
            CHECK(e.fn.now_ms - t0 >= 30000); /* closed by the idle timeout */
            CHECK_EQ_INT(lg_server_get_stats(e.srv)->requests, 4);
            CHECK_EQ_INT(lg_server_get_stats(e.srv)->timeouts, 1);
            env_close(&e);
        }
}

/* The answer cannot be sent (the client reset or stopped reading) at every
 * byte of it: the connection ends, nothing else is disturbed. */
static void test_output_failure_every_byte(void)
{
    size_t alen = strlen(HELLO_RESP);
    for (size_t at = 0; at < alen; at++)
        for (int err = 0; err < 2; err++) {
            env e;
            env_open(&e, NULL);
            fault_sock script = { 0 };
            script.in = HELLO_REQ;
            script.in_len = strlen(HELLO_REQ);
            script.in_end = FAULT_SILENT;
            script.out_piece = 7;
            script.out_fail_at = at;
            script.out_fail_err = err ? LG_ERR_RESET : LG_ERR_PIPE;
            int fd = fault_accept_queue(&e.fn, &script);
            CHECK(run_until_closed(&e, fd));
            fault_sock *k = fault_sock_get(&e.fn, fd);
            CHECK_EQ_INT(k->out_len, at);
            CHECK_EQ_INT(k->aborted, 0);
            CHECK_EQ_INT(lg_server_get_stats(e.srv)->active_connections, 0);
            env_close(&e);
        }
}

/* Rule 3. A body the handler did not read: within the discard budget it is
 * read and thrown away and the connection serves the next request; beyond
 * it the answer says "Connection: close" and the close drains it. */
static void test_unread_body(void)
{
    static char req[4096];
    static char body[300];
    memset(body, 'b', sizeof body);
    int n = snprintf(req, sizeof req,
                     "POST /early HTTP/1.1\r\nHost: a\r\nContent-Length: %lu\r\n\r\n%.*s" HELLO_REQ,
                     (unsigned long)sizeof body, (int)sizeof body, body);
    for (int over = 0; over < 2; over++)
        for (size_t p = 0; p < NPIECES; p++) {
            env e;
            lg_server_config cfg = { 0 };
            cfg.discard_body_bytes = over ? 100 : 1000;
            env_open(&e, &cfg);
            fault_sock script = { 0 };
            script.in = req;
            script.in_len = (size_t)n;
            script.in_piece = pieces[p];
            script.in_end = FAULT_EOF_AFTER_FIN;
            int fd = fault_accept_queue(&e.fn, &script);
            CHECK(run_until_closed(&e, fd));
            fault_sock *k = fault_sock_get(&e.fn, fd);
            CHECK_EQ_INT(k->closed_with_unread, 0);
            if (!over) {
                CHECK(out_is(k, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK" HELLO_RESP));
                CHECK_EQ_INT(lg_server_get_stats(e.srv)->bodies_discarded, 1);
            } else {
                /* whether the server already knew how much body was left
                 * depends on how the input arrived; the answer is exact */
                CHECK(out_is(k, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK") ||
                      out_is(k, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK"));
                CHECK_EQ_INT(k->fin_sent, 1);
                CHECK(lg_server_get_stats(e.srv)->requests == 1);
            }
            env_close(&e);
        }
}

static void test_expect_continue(void)
{
    static const char head[] = "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
    static const char req[] = "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nbody";
    /* The head arrives alone: "100 Continue" goes out, then the answer. */
    env e;
    env_open(&e, NULL);
    fault_sock script = { 0 };
    script.in = req;
    script.in_len = sizeof req - 1;
    script.in_piece = sizeof head - 1;
    script.in_again = 1;
    script.in_end = FAULT_EOF;
    int fd = fault_accept_queue(&e.fn, &script);
    CHECK(run_until_closed(&e, fd));
    CHECK(out_is(fault_sock_get(&e.fn, fd),
                 "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody"));
    env_close(&e);

    /* Refused before the body: a final answer, no 100, and the connection
     * closes (the client may or may not send the body now). */
    static const char ref[] = "POST /refuse HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
    env_open(&e, NULL);
    fault_sock s2 = { 0 };
    s2.in = ref;
    s2.in_len = sizeof ref - 1;
    s2.in_end = FAULT_EOF_AFTER_FIN;
    fd = fault_accept_queue(&e.fn, &s2);
    CHECK(run_until_closed(&e, fd));
    CHECK(out_is(fault_sock_get(&e.fn, fd),
                 "HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno"));
    CHECK_EQ_INT(fault_sock_get(&e.fn, fd)->closed_with_unread, 0);
    env_close(&e);
}

/* Malformed requests: the codec's status, "Connection: close", a graceful
 * close that drains what else the client sent. */
static void test_bad_requests(void)
{
    static const struct {
        const char *req;
        const char *status_line;
    } bad[] = {
        { "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 400 " },
        { "GET / HTTP/2.0\r\nHost: a\r\n\r\n", "HTTP/1.1 505 " },
        { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "HTTP/1.1 501 " },
        { "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.1 400 " },
        { "GET /x HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n", "HTTP/1.1 400 " },
        { "GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 400 " },
        { "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999\r\n\r\n", "HTTP/1.1 413 " },
        { "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "HTTP/1.1 400 " },
        { "GET / HTTP/1.1\r\nHost: a\r\nExpect: tea\r\n\r\n", "HTTP/1.1 417 " },
        { "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 404 " },
        { "PUT /hello HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 405 " },
    };
    static char buf[9000];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* the bad request, then garbage the client keeps sending */
        size_t n = strlen(bad[i].req);
        memcpy(buf, bad[i].req, n);
        memset(buf + n, 'g', 3000);
        env e;
        env_open(&e, NULL);
        fault_sock script = { 0 };
        script.in = buf;
        script.in_len = n + (i < 9 ? 3000 : 0);
        script.in_piece = 700;
        script.in_end = FAULT_EOF_AFTER_FIN;
        int fd = fault_accept_queue(&e.fn, &script);
        CHECK(run_until_closed(&e, fd));
        fault_sock *k = fault_sock_get(&e.fn, fd);
        size_t sl = strlen(bad[i].status_line);
        int ok = k->out_len > sl && memcmp(k->out, bad[i].status_line, sl) == 0;
        CHECK(ok);
        if (!ok) fprintf(stderr, "  bad request %lu answered: %.*s\n", (unsigned long)i, (int)(k->out_len < 60 ? k->out_len : 60), k->out);
        if (i < 9) CHECK(out_has(k, "Connection: close\r\n"));
        if (i == 10) CHECK(out_has(k, "Allow: GET, HEAD\r\n"));
        CHECK_EQ_INT(k->closed_with_unread, 0);
        CHECK_EQ_INT(k->aborted, 0);
        env_close(&e);
    }
}

/* Half a head, then silence: 408 after the 2 s header timeout, with the
 * clock starting at clock_ms (0: the injector's usual start). */
static void half_head_gets_408(uint64_t clock_ms)
{
    env e;
    lg_server_config cfg = { 0 };
    cfg.header_timeout_ms = 2000;
    env_open(&e, &cfg);
    if (clock_ms) e.fn.now_ms = clock_ms;
    fault_sock script = { 0 };
    script.in = "GET /hello HTTP/1.1\r\nHo";
    script.in_len = 23;
    script.in_end = FAULT_EOF_AFTER_FIN;
    int fd = fault_accept_queue(&e.fn, &script);
    uint64_t t0 = e.fn.now_ms;
    CHECK(run_until_closed(&e, fd));
    CHECK(out_has(fault_sock_get(&e.fn, fd), "HTTP/1.1 408 Request Timeout\r\n"));
    CHECK(e.fn.now_ms - t0 >= 2000 && e.fn.now_ms - t0 < 3000);
    CHECK_EQ_INT(lg_server_get_stats(e.srv)->timeouts, 1);
    env_close(&e);
}

static void test_timeouts(void)
{
    half_head_gets_408(0);

    /* Connected, never a byte: closed quietly after the header timeout. */
    env e;
    lg_server_config cfg = { 0 };
    cfg.header_timeout_ms = 2000;
    env_open(&e, &cfg);
    fault_sock quiet = { 0 };
    quiet.in_end = FAULT_EOF_AFTER_FIN;
    int fd = fault_accept_queue(&e.fn, &quiet);
    CHECK(run_until_closed(&e, fd));
    CHECK_EQ_INT(fault_sock_get(&e.fn, fd)->out_len, 0);
    CHECK_EQ_INT(fault_sock_get(&e.fn, fd)->fin_sent, 1);
    env_close(&e);
}

/* The loop's timers and the connection's deadline keep 32-bit wrapping
 * milliseconds: a timeout that runs across the wrap fires on time, not at
 * once nor never, and one beyond LG_TIMER_MAX_MS (24.8 days) is cut to
 * that rather than wrapped into an instant one. */
static void test_timeouts_across_the_wrap(void)
{
    half_head_gets_408(4 * (uint64_t)UINT32_MAX - 1000); /* a second before the wrap */

    /* "Never" said as UINT32_MAX: the idle connection stays for 24.8 days. */
    env e;
    lg_server_config forever = { 0 };
    forever.idle_timeout_ms = UINT32_MAX;
    env_open(&e, &forever);
    fault_sock hello = { 0 };
    hello.in = HELLO_REQ;
    hello.in_len = strlen(HELLO_REQ);
    hello.in_end = FAULT_EOF_AFTER_FIN;
    int fd = fault_accept_queue(&e.fn, &hello);
    uint64_t t0 = e.fn.now_ms;
    CHECK(run_until_closed(&e, fd));
    CHECK(out_is(fault_sock_get(&e.fn, fd), HELLO_RESP));
    CHECK(e.fn.now_ms - t0 >= LG_TIMER_MAX_MS && e.fn.now_ms - t0 < LG_TIMER_MAX_MS + 1000ull);
    env_close(&e);
}

/* max_conns reached: newcomers wait until an idle keep-alive connection
 * gives way, or get 503 — never a reset. */
static void test_connection_limit(void)
{
    for (int policy = LG_FULL_WAIT; policy <= LG_FULL_REJECT; policy++) {
        env e;
        lg_server_config cfg = { 0 };
        cfg.max_conns = 2;
        cfg.full_policy = (uint8_t)policy;
        cfg.idle_timeout_ms = 1000;
        env_open(&e, &cfg);
        int fds[5];
        for (int i = 0; i < 5; i++) {
            fault_sock script = { 0 };
            script.in = HELLO_REQ;
            script.in_len = strlen(HELLO_REQ);
            script.in_end = FAULT_EOF_AFTER_FIN;
            fds[i] = fault_accept_queue(&e.fn, &script);
        }
        /* Never more than two at once; with LG_FULL_WAIT the waiting ones
         * get in as idle keep-alive connections give way (no idle timeout
         * to wait for), with LG_FULL_REJECT they are told 503. */
        for (int i = 0; i < 50; i++) {
            lg_loop_run_once(e.loop, 0);
            CHECK(lg_server_get_stats(e.srv)->active_connections <= 2);
        }
        CHECK_EQ_INT(e.fn.accept_len, 0);
        if (policy == LG_FULL_WAIT) {
            /* answered, with "Connection: close" while others waited */
            for (int i = 0; i < 5; i++)
                CHECK(out_is(fault_sock_get(&e.fn, fds[i]), HELLO_RESP) ||
                      out_is(fault_sock_get(&e.fn, fds[i]),
                             "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n"
                             "Connection: close\r\n\r\nHello, World!"));
        } else {
            CHECK_EQ_INT(e.fn.accept_len, 0);
            for (int i = 2; i < 5; i++)
                CHECK(out_has(fault_sock_get(&e.fn, fds[i]), "HTTP/1.1 503 Service Unavailable\r\n"));
        }
        for (int i = 0; i < 5; i++) CHECK(run_until_closed(&e, fds[i]));
        for (int i = 0; i < 5; i++) {
            fault_sock *k = fault_sock_get(&e.fn, fds[i]);
            if (policy == LG_FULL_REJECT && i < 2) CHECK(out_is(k, HELLO_RESP));
            CHECK_EQ_INT(k->closed_with_unread, 0);
            CHECK_EQ_INT(k->aborted, 0);
        }
        CHECK_EQ_INT(lg_server_get_stats(e.srv)->rejected_full, policy == LG_FULL_REJECT ? 3 : 0);
        env_close(&e);
    }
}

/* Full of idle keep-alive connections, a newcomer arrives: the one idle
 * longest is closed gracefully at once, and the newcomer is served — not
 * after an idle timeout. */
static void test_idle_gives_way(void)
{
    env e;
    lg_server_config cfg = { 0 };
    cfg.max_conns = 2;
    cfg.idle_timeout_ms = 60000;
    env_open(&e, &cfg);
    int fds[3];
    for (int i = 0; i < 2; i++) {
        fault_sock script = { 0 };
        script.in = HELLO_REQ;
        script.in_len = strlen(HELLO_REQ);
        script.in_end = FAULT_EOF_AFTER_FIN;
        fds[i] = fault_accept_queue(&e.fn, &script);
    }
    for (int i = 0; i < 20; i++) lg_loop_run_once(e.loop, 0);
    CHECK(out_is(fault_sock_get(&e.fn, fds[0]), HELLO_RESP));
    CHECK(out_is(fault_sock_get(&e.fn, fds[1]), HELLO_RESP));
    uint64_t t0 = e.fn.now_ms;
    fault_sock script = { 0 };
    script.in = HELLO_REQ;
    script.in_len = strlen(HELLO_REQ);
    script.in_end = FAULT_EOF_AFTER_FIN;
    fds[2] = fault_accept_queue(&e.fn, &script);
    for (int i = 0; i < 50 && !fault_sock_get(&e.fn, fds[2])->out_len; i++) lg_loop_run_once(e.loop, 0);
    CHECK(out_is(fault_sock_get(&e.fn, fds[2]), HELLO_RESP));
    CHECK(e.fn.now_ms - t0 < 1000);
    CHECK_EQ_INT(lg_server_get_stats(e.srv)->idle_recycled, 1);
    /* exactly one of them gave way (both idle since the same moment), and
     * gracefully */
    fault_sock *a = fault_sock_get(&e.fn, fds[0]), *b = fault_sock_get(&e.fn, fds[1]);
    CHECK_EQ_INT(a->closed + b->closed, 1);
    fault_sock *gone = a->closed ? a : b;
    CHECK(gone->fin_sent && !gone->closed_with_unread && !gone->aborted);
    /* Connections still open: shut down before freeing, as the API asks. */
    lg_server_shutdown(e.srv, 1000, NULL, NULL);
    for (int i = 0; i < 1000 && lg_server_get_stats(e.srv)->active_connections; i++)
        lg_loop_run_once(e.loop, -1);
    CHECK_EQ_INT(lg_server_get_stats(e.srv)->active_connections, 0);
    env_close(&e);
}

/* Hundreds of pipelined requests of mixed kinds, arriving in random pieces
 * into a small receive buffer, so that requests straddle every buffer
 * boundary and compaction: every answer right and in order. */
static void test_pipelining_stress(void)
{
    static char in[200000], expect[400000];
    unsigned seed = 7;
    for (int round = 0; round < 40; round++) {
        size_t n = 0, e = 0;
        for (int i = 0; i < 120; i++) {
            seed = seed * 1103515245u + 12345u;
            int kind = (int)((seed >> 16) % 3);
            if (kind == 0) {
                n += (size_t)sprintf(in + n, HELLO_REQ);
                e += (size_t)sprintf(expect + e, HELLO_RESP);
            } else {
                size_t blen = (seed >> 8) % 300;
                char b[300];
                for (size_t k = 0; k < blen; k++) b[k] = (char)('A' + (k + (size_t)i) % 26);
                if (kind == 1) {
                    n += (size_t)sprintf(in + n, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: %lu\r\n\r\n",
                                         (unsigned long)blen);
                    memcpy(in + n, b, blen);
                    n += blen;
                } else {
                    n += (size_t)sprintf(in + n, "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
                    for (size_t off = 0; off < blen; off += 37) {
                        size_t c = blen - off < 37 ? blen - off : 37;
                        n += (size_t)sprintf(in + n, "%lx\r\n", (unsigned long)c);
                        memcpy(in + n, b + off, c);
                        n += c;
                        n += (size_t)sprintf(in + n, "\r\n");
                    }
                    n += (size_t)sprintf(in + n, "0\r\n\r\n");
                }
                e += (size_t)sprintf(expect + e, "HTTP/1.1 200 OK\r\nContent-Length: %lu\r\n\r\n",
                                     (unsigned long)blen);
                memcpy(expect + e, b, blen);
                e += blen;
            }
        }
        expect[e] = 0;
        env env_;
        lg_server_config cfg = { 0 };
        cfg.recv_buffer_bytes = 512; /* every request near a boundary */
        env_open(&env_, &cfg);
        fault_sock script = { 0 };
        script.in = in;
        script.in_len = n;
        seed = seed * 1103515245u + 12345u;
        script.in_piece = 1 + (seed >> 16) % 700;
        script.in_again = round & 1;
        script.out_piece = (round & 2) ? 1 + (seed >> 20) % 900 : 0;
        script.in_end = FAULT_EOF_AFTER_FIN;
        int fd = fault_accept_queue(&env_.fn, &script);
        CHECK(run_until_closed(&env_, fd));
        fault_sock *k = fault_sock_get(&env_.fn, fd);
        int ok = k->out_len == e && memcmp(k->out, expect, e) == 0;
        CHECK(ok);
        if (!ok) {
            size_t d = 0;
            while (d < k->out_len && d < e && k->out[d] == expect[d]) d++;
            fprintf(stderr, "  round %d (piece %lu): answers differ at byte %lu of %lu (got %lu)\n", round,
                    (unsigned long)script.in_piece, (unsigned long)d, (unsigned long)e,
                    (unsigned long)k->out_len);
        }
        CHECK_EQ_INT(k->closed_with_unread, 0);
        env_close(&env_);
    }
}

int main(void)
{
    test_every_cut(HELLO_REQ, HELLO_RESP, "GET");
    test_every_cut("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
                   "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "POST length");
    test_every_cut("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                   "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "POST chunked");
    test_pipelining();
    test_output_failure_every_byte();
    test_unread_body();
    test_expect_continue();
    test_bad_requests();
    test_timeouts();
    test_timeouts_across_the_wrap();
    test_connection_limit();
    test_idle_gives_way();
    test_pipelining_stress();
    TEST_MAIN_END();
}
