/*
 * Every answer is what it says it is. Over the fault injector (virtual
 * time), each way an answer could once be dropped, cut or mis-framed while
 * its connection went on, so that a later answer was read as this one's:
 *
 *   - an answer call that cannot send what it was asked (an invalid status,
 *     a body the queue cannot take, a Content-Length that does not match)
 *     fails, the client gets 500 instead, and the connection closes;
 *   - a streamed answer that cannot be completed (a piece over its
 *     Content-Length, fewer bytes than it, lg_res_abandon) ends cut, never
 *     whole and short; a piece too large for the queue is refused with
 *     the connection open;
 *   - a handler's Content-Length is checked when it is set, and held to;
 *   - a keep-alive promised in an answer's head is kept;
 *   - trailers that cannot fit the buffer are 431 at once, not 408 later;
 *   - a big last answer to a slow HTTP/1.0 reader arrives whole;
 *   - a server_name that cannot be sent is refused by lg_server_new;
 *   - cookie attributes cannot smuggle attributes; a head that never
 *     parsed does not reach the access log as half a request line.
 *
 * The client's side is read with linger's own codec (the answers are split
 * by their framing), so a mis-framed answer shows as a wrong body in the
 * next one.
 */
#include <stdlib.h>

#include "fault/fault_net.h"
#include "server_internal.h" /* the send queue's length, for one expectation */
#include "test.h"

/* --- what the handlers did --- */

static int last_rc[4];
static int huge_rc;
static char *huge; /* larger than the server's send queue (64 MiB) */
static char *big;  /* 16 MiB */
#define HUGE_BYTES (65u << 20)
#define BIG_BYTES (16u << 20)

static void record(int i, int rc)
{
    last_rc[i] = rc;
}

static long param_num(lg_req *req, const char *name)
{
    lg_str v = lg_req_param(req, name);
    char tmp[32];
    size_t n = v.len < sizeof tmp - 1 ? v.len : sizeof tmp - 1;
    memcpy(tmp, v.ptr, n);
    tmp[n] = 0;
    return strtol(tmp, NULL, 10);
}

/* GET /n/:i answers "i": answers that come in the wrong order, or for the
 * wrong request, show. */
static void on_n(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_str i = lg_req_param(req, "i");
    lg_res_send(res, 200, i.ptr, i.len);
}

static void on_host(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_str h = lg_req_host(req);
    lg_res_send(res, 200, h.ptr, h.len);
}

static void on_status(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    record(0, lg_res_send(res, (int)param_num(req, "code"), "x", 1));
}

/* Content-Length declared, then `sent` bytes in one lg_res_send. */
static void on_cl(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_str d = lg_req_param(req, "declared");
    char v[32];
    memcpy(v, d.ptr, d.len);
    v[d.len] = 0;
    record(1, lg_res_header(res, "Content-Length", v));
    record(0, lg_res_send(res, 200, big, (size_t)param_num(req, "sent")));
}

/* Content-Length declared, a streamed answer of `sent` bytes. */
static void on_streamed_cl(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_str d = lg_req_param(req, "declared");
    char v[32];
    memcpy(v, d.ptr, d.len);
    v[d.len] = 0;
    record(1, lg_res_header(res, "Content-Length", v));
    record(2, lg_res_start(res, 200));
    record(0, lg_res_write(res, big, (size_t)param_num(req, "sent")));
    record(3, lg_res_end(res));
}

static void on_bad_lengths(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    static const char *bad[] = { "", "5x", " 5", "-1", "+5", "0x10", "99999999999999999999" };
    int refused = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        refused += lg_res_header(res, "Content-Length", bad[i]) == LG_ERR_CONTENT_LENGTH;
    record(1, refused);
    record(2, lg_res_header(res, "Content-Length", "3"));
    record(3, lg_res_header(res, "Content-Length", "3")); /* a second one */
    record(0, lg_res_send(res, 200, "abc", 3));
}

static void on_huge(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    huge_rc = lg_res_send(res, 200, huge, HUGE_BYTES);
}

static void on_big(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    record(0, lg_res_send(res, 200, big, BIG_BYTES));
}

/* A chunked answer, produced on the loop's next tick (not corked inside
 * on_data): a piece, one the queue cannot take, another piece. What the
 * refusal says depends on whether anything is queued at that moment. */
static int huge_expect;

static void chunks_fill(lg_res *res, void *user)
{
    (void)user;
    record(1, lg_res_write(res, "first,", 6));
    huge_expect = lg_stream_queued(&res->ex->conn->s) ? LG_ERR_LIMIT : LG_ERR_TOO_LARGE;
    huge_rc = lg_res_write(res, huge, HUGE_BYTES);
    record(2, lg_res_write(res, "last", 4));
    record(0, lg_res_end(res));
}

static void on_chunks(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_stream(res, 200, chunks_fill, NULL);
}

/* A fill that never ends its answer and goes on whatever lg_res_write
 * says (the mistake the API warns of). */
static int stubborn_calls, stubborn_saw_closed;

static void stubborn_fill(lg_res *res, void *user)
{
    (void)user;
    stubborn_calls++;
    if (lg_res_write(res, "0123456789abcdef", 16) == LG_ERR_CLOSED) stubborn_saw_closed++;
}

static void on_stubborn(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_stream(res, 200, stubborn_fill, NULL);
}

static void on_abandon(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_start(res, 200);
    lg_res_write(res, "partial", 7);
    record(0, lg_res_abandon(res));
    record(1, lg_res_write(res, "more", 4));
}

/* An event stream: one event now, the next ten seconds later, when the
 * client has long taken the first. */
static struct events {
    lg_timer t;
    lg_res *res;
} events;

static void next_event(lg_timer *t)
{
    struct events *ev = LG_CONTAINER_OF(t, struct events, t);
    record(1, lg_res_write(ev->res, "event 2\n", 8));
    record(0, lg_res_end(ev->res));
}

static void on_events(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    lg_loop *loop = user;
    lg_res_start(res, 200);
    lg_res_write(res, "event 1\n", 8);
    events.res = res;
    lg_timer_init(loop, &events.t, next_event);
    lg_timer_start(&events.t, 10000);
}

static void on_echo(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_str b = lg_req_body(req);
    lg_res_send(res, 200, b.ptr, b.len);
}

/* A streamed upload answered once 40,000 of its 100,000 bytes are in: the
 * rest (60,000) fits the discard budget (64 KiB), so the answer promises
 * keep-alive — and the whole body (100,000) does not, which once closed
 * the connection under the next request anyway. */
static void half_chunk(lg_req *req, int status, const char *data, size_t len, void *user)
{
    lg_res *res = user;
    static uint64_t got;
    (void)data;
    if (status != LG_OK || !len) return;
    got += len;
    if (got >= 40000 && lg_res_start(res, 200) == LG_OK) {
        (void)req;
        lg_res_write(res, "got it", 6);
        lg_res_end(res);
        got = 0;
    }
}

static void on_half(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_req_read_body(req, 1u << 20, half_chunk, res);
}

/* A sink that is slow, as a flash write is: it pauses the upload after
 * every piece and resumes a second later. While it is paused, the server
 * reads nothing more from the client. */
static struct sink {
    lg_timer t;
    lg_req *req;
    lg_res *res;
    fault_sock *client;
    uint64_t got;
    size_t pieces, max_piece;
    size_t read_at_pause;  /* client bytes the server had read when it paused */
    int read_while_paused; /* ... and whether that grew before the resume */
    int paused, pieces_while_paused;
} sink;

static void sink_resume(lg_timer *t)
{
    (void)t;
    if (sink.client && sink.client->in_pos != sink.read_at_pause) sink.read_while_paused = 1;
    sink.paused = 0;
    record(2, lg_req_resume_body(sink.req));
}

static void sink_chunk(lg_req *req, int status, const char *data, size_t len, void *user)
{
    (void)data;
    (void)user;
    if (status != LG_OK) return;
    if (len == 0) {
        char body[32];
        int n = snprintf(body, sizeof body, "%llu in %lu pieces", (unsigned long long)sink.got,
                         (unsigned long)sink.pieces);
        lg_res_send(sink.res, 200, body, (size_t)n);
        return;
    }
    if (sink.paused) sink.pieces_while_paused++;
    sink.got += len;
    sink.pieces++;
    if (len > sink.max_piece) sink.max_piece = len;
    record(1, lg_req_pause_body(req));
    sink.paused = 1;
    sink.read_at_pause = sink.client ? sink.client->in_pos : 0;
    lg_timer_start(&sink.t, 2000);
}

static void on_slow_sink(lg_req *req, lg_res *res, void *user)
{
    sink.req = req;
    sink.res = res;
    lg_timer_init((lg_loop *)user, &sink.t, sink_resume);
    lg_req_read_body(req, 0, sink_chunk, NULL);
}

static void on_cookie(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_cookie_options o = { 0 };
    int refused = 0;
    o.path = "/; Domain=evil.example";
    refused += lg_res_set_cookie(res, "a", "b", &o) != LG_OK;
    o.path = "/x\r\nX-Injected: 1";
    refused += lg_res_set_cookie(res, "a", "b", &o) != LG_OK;
    o.path = NULL;
    o.domain = "example.com; Secure";
    refused += lg_res_set_cookie(res, "a", "b", &o) != LG_OK;
    o.domain = "exa\tmple.com";
    refused += lg_res_set_cookie(res, "a", "b", &o) != LG_OK;
    o.domain = NULL;
    o.same_site = "Lax; Path=/admin";
    refused += lg_res_set_cookie(res, "a", "b", &o) != LG_OK;
    o.same_site = "lax\x01";
    refused += lg_res_set_cookie(res, "a", "b", &o) != LG_OK;
    record(1, refused);
    o.same_site = "Strict";
    o.path = "/app";
    o.domain = "example.com";
    o.max_age = 3600;
    record(2, lg_res_set_cookie(res, "a", "b", &o));
    record(0, lg_res_send(res, 200, "ok", 2));
}

/* --- the access log --- */

static char logged[256];
static int logged_status, logged_error;

static void access_log(lg_req *req, int status, uint64_t bytes, uint32_t ms, void *user)
{
    (void)bytes;
    (void)ms;
    (void)user;
    lg_str m = lg_req_method(req), t = lg_req_target(req), h = lg_req_header(req, "Host");
    snprintf(logged, sizeof logged, "%.*s %.*s host=%.*s", (int)m.len, m.ptr, (int)t.len, t.ptr,
             h.ptr ? (int)h.len : 1, h.ptr ? h.ptr : "-");
    logged_status = status;
    logged_error = lg_req_error(req);
}

/* --- a server on the fault injector --- */

typedef struct env {
    fault_net fn;
    lg_loop *loop;
    lg_server *srv;
} env;

static void env_open(env *e, const lg_server_config *extra)
{
    fault_net_init(&e->fn);
    e->loop = fault_loop_new(&e->fn);
    lg_server_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (extra) cfg = *extra;
    cfg.no_date = 1;
    cfg.server_name = "";
    cfg.access_log = access_log;
    e->srv = lg_server_new(e->loop, &cfg);
    lg_route(e->srv, "GET", "/n/:i", on_n, NULL);
    lg_route(e->srv, "GET", "/host", on_host, NULL);
    lg_route(e->srv, "GET", "/status/:code", on_status, NULL);
    lg_route(e->srv, "*", "/cl/:declared/:sent", on_cl, NULL);
    lg_route(e->srv, "*", "/scl/:declared/:sent", on_streamed_cl, NULL);
    lg_route(e->srv, "GET", "/bad-lengths", on_bad_lengths, NULL);
    lg_route(e->srv, "GET", "/huge", on_huge, NULL);
    lg_route(e->srv, "GET", "/big", on_big, NULL);
    lg_route(e->srv, "GET", "/chunks", on_chunks, NULL);
    lg_route(e->srv, "GET", "/abandon", on_abandon, NULL);
    lg_route(e->srv, "GET", "/stubborn", on_stubborn, NULL);
    lg_route(e->srv, "POST", "/echo", on_echo, NULL);
    lg_route_ex(e->srv, "POST", "/half", LG_ROUTE_STREAM_BODY, on_half, NULL);
    lg_route(e->srv, "GET", "/cookie", on_cookie, NULL);
    lg_route(e->srv, "GET", "/events", on_events, e->loop);
    lg_route_ex(e->srv, "POST", "/slow-sink", LG_ROUTE_STREAM_BODY, on_slow_sink, e->loop);
    CHECK_EQ_INT(lg_server_listen(e->srv, "127.0.0.1:80", 0), LG_OK);
    memset(last_rc, 0x55, sizeof last_rc);
    huge_rc = 12345;
    logged[0] = 0;
    logged_status = logged_error = 0;
}

static void env_close(env *e)
{
    lg_server_free(e->srv);
    lg_loop_free(e->loop);
    fault_net_free(&e->fn);
}

/* A client whose whole input is `req`, then `end`. */
static fault_sock *client(env *e, const char *req, size_t len, int end, int *fd)
{
    fault_sock script = { 0 };
    script.in = req;
    script.in_len = len;
    script.in_end = end;
    *fd = fault_accept_queue(&e->fn, &script);
    return fault_sock_get(&e->fn, *fd);
}

/* Run until the client's socket is closed (1) or nothing more can happen
 * without it (0). */
static int run_until_closed(env *e, fault_sock *k, int max_iterations)
{
    for (int i = 0; i < max_iterations; i++) {
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

/* --- the client's view: answers split by their framing --- */

typedef struct answer {
    int status;
    int closes;        /* "Connection: close" */
    int complete;      /* the body ended by its framing, not by the output's end */
    int chunked;
    uint64_t declared; /* Content-Length, or UINT64_MAX */
    size_t body_len;
    char body[64];     /* the first bytes of the body */
} answer;

/* Split out[0..len) into answers (for GET requests). Returns how many
 * there are; the last one may be incomplete (complete == 0). */
static int split_answers(const char *out, size_t len, answer *a, int max)
{
    int n = 0;
    size_t pos = 0;
    while (pos < len && n < max) {
        lg_header hv[32];
        lg_head h = { .headers = hv, .max_headers = 32 };
        int used = lg_parse_response(&h, out + pos, len - pos, 0, 0, LG_METHOD_GET);
        if (used <= 0) break;
        answer *x = &a[n++];
        memset(x, 0, sizeof *x);
        x->status = h.status;
        x->closes = (h.flags & LG_HEAD_CONNECTION_CLOSE) != 0;
        x->chunked = h.framing == LG_FRAMING_CHUNKED;
        x->declared = h.framing == LG_FRAMING_LENGTH ? h.content_length : UINT64_MAX;
        pos += (size_t)used;
        lg_body_reader r;
        lg_body_reader_init(&r, &h);
        for (;;) {
            size_t took;
            lg_str d;
            int ev = lg_body_read(&r, out + pos, len - pos, &took, &d);
            if (ev < 0) return n;
            pos += took;
            if (ev == LG_BODY_DATA) {
                size_t room = x->body_len < sizeof x->body ? sizeof x->body - x->body_len : 0;
                memcpy(x->body + x->body_len, d.ptr, d.len < room ? d.len : room);
                x->body_len += d.len;
            } else if (ev == LG_BODY_DONE) {
                x->complete = 1;
                break;
            } else {
                break;
            }
        }
        if (!x->complete) break;
    }
    return n;
}

static int body_is(const answer *a, const char *s)
{
    return a->body_len == strlen(s) && memcmp(a->body, s, a->body_len) == 0;
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: a\r\n\r\n"

/* --- item 2: an answer that could not be sent does not count as sent --- */

static void test_invalid_status(void)
{
    static const int bad[] = { 42, 99, 100, 101, 199, 600, 1000 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        env e;
        env_open(&e, NULL);
        char req[256];
        int len = snprintf(req, sizeof req, GET("/status/%d") GET("/n/2"), bad[i]);
        int fd;
        fault_sock *k = client(&e, req, (size_t)len, FAULT_EOF_AFTER_FIN, &fd);
        CHECK(run_until_closed(&e, k, 1000));
        answer a[4];
        int n = split_answers(k->out, k->out_len, a, 4);
        CHECK_EQ_INT(last_rc[0], LG_ERR_INVALID_ARG);
        /* one answer, the server's 500, and the connection closed: the
         * pipelined request behind it is not answered as if it were */
        CHECK_EQ_INT(n, 1);
        CHECK_EQ_INT(a[0].status, 500);
        CHECK(a[0].complete && a[0].closes);
        CHECK_EQ_INT(k->fin_sent, 1);
        CHECK_EQ_INT(k->closed_with_unread, 0);
        CHECK_EQ_INT(logged_status, 500);
        if (n != 1 || a[0].status != 500) fprintf(stderr, "  status %d\n", bad[i]);
        env_close(&e);
    }
}

/* A body larger than the send queue can hold (64 MiB): refused, 500. */
static void test_body_over_the_queue(void)
{
    env e;
    env_open(&e, NULL);
    int fd;
    static const char req[] = GET("/huge") GET("/n/2");
    fault_sock *k = client(&e, req, sizeof req - 1, FAULT_EOF_AFTER_FIN, &fd);
    CHECK(run_until_closed(&e, k, 1000));
    answer a[4];
    int n = split_answers(k->out, k->out_len, a, 4);
    CHECK_EQ_INT(huge_rc, LG_ERR_LIMIT);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(a[0].status, 500);
    CHECK(a[0].complete && a[0].closes);
    CHECK_EQ_INT(k->closed_with_unread, 0);
    env_close(&e);
}

/* Configuration that cannot work is refused once, at lg_server_new. */
static void test_server_name_refused(void)
{
    fault_net fn;
    fault_net_init(&fn);
    lg_loop *loop = fault_loop_new(&fn);
    char name[200];
    memset(name, 'n', sizeof name);
    name[150] = 0;
    lg_server_config cfg = { 0 };
    cfg.server_name = name;
    CHECK(lg_server_new(loop, &cfg) == NULL);
    cfg.server_name = "linger\r\nX-Injected: 1";
    CHECK(lg_server_new(loop, &cfg) == NULL);
    name[120] = 0; /* LG_MAX_SERVER_NAME: fits, with the Date line */
    cfg.server_name = name;
    lg_server *srv = lg_server_new(loop, &cfg);
    CHECK(srv != NULL);
    lg_server_free(srv);
    lg_loop_free(loop);
    fault_net_free(&fn);
}

/* --- item 3: a truncated body is never delivered as complete --- */

/* A piece the queue cannot take is refused with nothing written and the
 * connection open: LG_ERR_LIMIT while something is queued (on_drain will
 * come), LG_ERR_TOO_LARGE when it could never fit; the answer goes on and
 * ends whole. */
static void test_write_over_the_queue(void)
{
    for (int stalled = 0; stalled < 2; stalled++) {
        env e;
        env_open(&e, NULL);
        fault_sock script = { 0 };
        static const char req[] = GET("/chunks") GET("/n/2");
        script.in = req;
        script.in_len = sizeof req - 1;
        script.in_end = FAULT_EOF_AFTER_FIN;
        /* stalled: the first piece waits in the queue when the huge one comes */
        script.out_again = stalled;
        int fd = fault_accept_queue(&e.fn, &script);
        fault_sock *k = fault_sock_get(&e.fn, fd);
        CHECK(run_until_closed(&e, k, 100000));
        answer a[4];
        int n = split_answers(k->out, k->out_len, a, 4);
        CHECK_EQ_INT(last_rc[1], LG_OK);
        CHECK_EQ_INT(huge_rc, huge_expect);
        if (!stalled) CHECK_EQ_INT(huge_rc, LG_ERR_TOO_LARGE); /* nothing queued */
        CHECK_EQ_INT(last_rc[2], LG_OK);
        CHECK_EQ_INT(last_rc[0], LG_OK);
        CHECK_EQ_INT(n, 2);
        CHECK(a[0].complete && a[0].chunked && body_is(&a[0], "first,last"));
        CHECK(!a[0].closes);
        CHECK(n == 2 && a[1].complete && body_is(&a[1], "2"));
        env_close(&e);
    }
}

/* An answer given up: no last chunk, the connection closes, and the
 * client's decoder sees the body unfinished. */
static void test_abandon(void)
{
    env e;
    env_open(&e, NULL);
    int fd;
    static const char req[] = GET("/abandon") GET("/n/2");
    fault_sock *k = client(&e, req, sizeof req - 1, FAULT_EOF_AFTER_FIN, &fd);
    CHECK(run_until_closed(&e, k, 1000));
    answer a[4];
    int n = split_answers(k->out, k->out_len, a, 4);
    CHECK_EQ_INT(last_rc[0], LG_OK);
    CHECK_EQ_INT(last_rc[1], LG_ERR_INVALID_ARG); /* the answer is over */
    CHECK_EQ_INT(n, 1);
    CHECK(a[0].chunked && !a[0].complete && a[0].body_len == 7);
    CHECK_EQ_INT(k->fin_sent, 1);
    CHECK_EQ_INT(k->closed_with_unread, 0);
    env_close(&e);
}

/* The client's socket fails under a fill that never ends: the fill hears
 * LG_ERR_CLOSED, and when it goes on regardless its answer is ended for
 * it, the connection closes and the fill is not called again (it was,
 * every tick, for ever: a loop at 100 % CPU, the connection never
 * closed). */
static void test_fill_that_never_ends(void)
{
    env e;
    env_open(&e, NULL);
    int fd;
    static const char req[] = GET("/stubborn");
    fault_sock *k = client(&e, req, sizeof req - 1, FAULT_SILENT, &fd);
    k->out_fail_at = 4096;
    k->out_fail_err = LG_ERR_PIPE;
    stubborn_calls = stubborn_saw_closed = 0;
    CHECK(run_until_closed(&e, k, 100000)); /* (the linger time, virtual) */
    CHECK(stubborn_calls > 0);
    for (int i = 0; i < 10; i++) lg_loop_run_once(e.loop, 0);
    int calls = stubborn_calls;
    for (int i = 0; i < 1000; i++) lg_loop_run_once(e.loop, 0);
    CHECK_EQ_INT(stubborn_calls, calls);
    CHECK(stubborn_saw_closed >= 1);
    CHECK_EQ_INT(lg_server_get_stats(e.srv)->active_connections, 0);
    env_close(&e);
}

/* --- item 4: a handler's Content-Length is a checked promise --- */

static void test_content_length_mismatch(void)
{
    static const struct {
        const char *path;
        int rc_send;   /* what the answer call returned */
        int status;    /* the answer the client got */
        int complete;  /* and whether it was whole */
        size_t body;   /* body bytes the client got */
        int then;      /* the next pipelined request was answered */
    } cases[] = {
        /* lg_res_send: declared 5, 13 given: nothing of it goes, 500 */
        { "/cl/5/13", LG_ERR_INVALID_ARG, 500, 1, 0, 0 },
        { "/cl/100/10", LG_ERR_INVALID_ARG, 500, 1, 0, 0 },
        { "/cl/13/13", LG_OK, 200, 1, 13, 1 },
        /* streamed: more than declared is cut there, fewer ends short */
        { "/scl/5/13", LG_ERR_TOO_LARGE, 200, 0, 0, 0 },
        { "/scl/100/10", LG_OK, 200, 0, 10, 0 },
        { "/scl/13/13", LG_OK, 200, 1, 13, 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        env e;
        env_open(&e, NULL);
        char req[256];
        int len = snprintf(req, sizeof req, GET("%s") GET("/n/2"), cases[i].path);
        int fd;
        fault_sock *k = client(&e, req, (size_t)len, FAULT_EOF_AFTER_FIN, &fd);
        CHECK(run_until_closed(&e, k, 100000));
        answer a[4];
        int n = split_answers(k->out, k->out_len, a, 4);
        int before = test_failures;
        CHECK_EQ_INT(last_rc[1], LG_OK); /* the header itself was well formed */
        CHECK_EQ_INT(last_rc[0], cases[i].rc_send);
        CHECK(n >= 1);
        CHECK_EQ_INT(a[0].status, cases[i].status);
        CHECK_EQ_INT(a[0].complete, cases[i].complete);
        if (cases[i].status == 200) CHECK_EQ_INT(a[0].body_len, cases[i].body);
        if (cases[i].status == 200 && cases[i].path[1] == 's')
            CHECK_EQ_INT(a[0].declared, strtoul(cases[i].path + 5, NULL, 10));
        CHECK_EQ_INT(n, cases[i].then ? 2 : 1);
        if (cases[i].then) CHECK(n == 2 && body_is(&a[1], "2") && !a[0].chunked);
        else CHECK_EQ_INT(k->fin_sent, 1);
        CHECK_EQ_INT(k->closed_with_unread, 0);
        if (test_failures != before) fprintf(stderr, "  case %s\n", cases[i].path);
        env_close(&e);
    }
    /* streamed: lg_res_end on the short one says so */
    env e;
    env_open(&e, NULL);
    int fd;
    static const char req[] = GET("/scl/100/10");
    fault_sock *k = client(&e, req, sizeof req - 1, FAULT_EOF_AFTER_FIN, &fd);
    CHECK(run_until_closed(&e, k, 1000));
    CHECK_EQ_INT(last_rc[3], LG_ERR_CLOSED_EARLY);
    env_close(&e);
}

static void test_content_length_refused(void)
{
    env e;
    env_open(&e, NULL);
    int fd;
    static const char req[] = GET("/bad-lengths") GET("/n/2");
    fault_sock *k = client(&e, req, sizeof req - 1, FAULT_EOF_AFTER_FIN, &fd);
    CHECK(run_until_closed(&e, k, 100000));
    answer a[4];
    int n = split_answers(k->out, k->out_len, a, 4);
    CHECK_EQ_INT(last_rc[1], 7);                 /* every malformed value refused */
    CHECK_EQ_INT(last_rc[2], LG_OK);
    CHECK_EQ_INT(last_rc[3], LG_ERR_INVALID_ARG); /* one length per answer */
    CHECK_EQ_INT(last_rc[0], LG_OK);
    CHECK_EQ_INT(n, 2);
    CHECK(a[0].declared == 3 && body_is(&a[0], "abc"));
    CHECK(n == 2 && body_is(&a[1], "2"));
    env_close(&e);
}

/* HEAD may tell the length a GET would get, with no body. */
static void test_head_declares_length(void)
{
    env e;
    env_open(&e, NULL);
    int fd;
    static const char req[] = "HEAD /cl/1234/0 HTTP/1.1\r\nHost: a\r\n\r\n" GET("/n/2");
    fault_sock *k = client(&e, req, sizeof req - 1, FAULT_EOF_AFTER_FIN, &fd);
    CHECK(run_until_closed(&e, k, 100000));
    CHECK_EQ_INT(last_rc[0], LG_OK);
    static const char expect[] = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
                                 "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2";
    CHECK(k->out_len == sizeof expect - 1 && memcmp(k->out, expect, k->out_len) == 0);
    env_close(&e);
}

/* --- item 6: a keep-alive promised is kept --- */

static void test_keep_alive_promise_kept(void)
{
    static char req[120000];
    int n = snprintf(req, sizeof req, "POST /half HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n");
    memset(req + n, 'b', 100000);
    n += 100000;
    n += snprintf(req + n, sizeof req - (size_t)n, GET("/n/2"));
    for (int piece = 0; piece < 2; piece++) {
        env e;
        env_open(&e, NULL);
        fault_sock script = { 0 };
        script.in = req;
        script.in_len = (size_t)n;
        script.in_piece = piece ? 1000 : 4096;
        script.in_end = FAULT_EOF_AFTER_FIN;
        int fd = fault_accept_queue(&e.fn, &script);
        fault_sock *k = fault_sock_get(&e.fn, fd);
        CHECK(run_until_closed(&e, k, 100000));
        answer a[4];
        int cnt = split_answers(k->out, k->out_len, a, 4);
        CHECK_EQ_INT(cnt, 2);
        CHECK(body_is(&a[0], "got it") && !a[0].closes);
        CHECK(cnt == 2 && body_is(&a[1], "2"));
        CHECK_EQ_INT(lg_server_get_stats(e.srv)->bodies_discarded, 1);
        CHECK_EQ_INT(lg_server_get_stats(e.srv)->closes_for_body, 0);
        CHECK_EQ_INT(k->closed_with_unread, 0);
        env_close(&e);
    }
}

/* --- item 7: trailers that cannot fit --- */

static void test_trailers_too_large(void)
{
    static char req[8192];
    int n = snprintf(req, sizeof req, "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                      "3\r\nabc\r\n0\r\n");
    for (int i = 0; i < 30; i++) n += snprintf(req + n, sizeof req - (size_t)n, "X-T%d: %080d\r\n", i, 0);
    n += snprintf(req + n, sizeof req - (size_t)n, "\r\n");
    env e;
    lg_server_config cfg = { 0 };
    cfg.recv_buffer_bytes = 1024;
    env_open(&e, &cfg);
    int fd;
    fault_sock *k = client(&e, req, (size_t)n, FAULT_EOF_AFTER_FIN, &fd);
    uint64_t t0 = e.fn.now_ms;
    CHECK(run_until_closed(&e, k, 10000));
    answer a[2];
    CHECK_EQ_INT(split_answers(k->out, k->out_len, a, 2), 1);
    CHECK_EQ_INT(a[0].status, 431);
    CHECK(a[0].closes);
    CHECK(e.fn.now_ms - t0 < 1000); /* at once, not after the body timeout */
    CHECK_EQ_INT(k->closed_with_unread, 0);
    env_close(&e);
}

/* --- item 5: the graceful close does not cut the last answer --- */

/* 16 MiB to an HTTP/1.0 client that reads 650 bytes a millisecond (25 s
 * of virtual time, five times the linger time): whole, then FIN. */
static void test_slow_http10_reader(void)
{
    env e;
    env_open(&e, NULL);
    fault_sock script = { 0 };
    static const char req[] = "GET /big HTTP/1.0\r\n\r\n";
    script.in = req;
    script.in_len = sizeof req - 1;
    script.in_end = FAULT_EOF_AFTER_FIN;
    script.out_per_ms = 650;
    int fd = fault_accept_queue(&e.fn, &script);
    fault_sock *k = fault_sock_get(&e.fn, fd);
    uint64_t t0 = e.fn.now_ms;
    CHECK(run_until_closed(&e, k, 200000));
    answer a[2];
    CHECK_EQ_INT(split_answers(k->out, k->out_len, a, 2), 1);
    CHECK(a[0].complete && a[0].closes);
    CHECK_EQ_INT(a[0].body_len, BIG_BYTES);
    CHECK(k->out_len > BIG_BYTES && memcmp(k->out + k->out_len - BIG_BYTES, big, BIG_BYTES) == 0);
    CHECK_EQ_INT(k->fin_at, k->out_len);
    CHECK(e.fn.now_ms - t0 > 20000);
    CHECK_EQ_INT(lg_loop_get_stats(e.loop)->linger_timeouts, 0);
    CHECK_EQ_INT(lg_loop_get_stats(e.loop)->send_timeouts, 0);
    env_close(&e);
}

/* --- a long-lived answer is quiet, not stuck --- */

/* send_timeout_ms counts only while bytes wait: an event stream whose
 * client has taken everything stays open through a quiet spell twenty
 * send timeouts long. */
static void test_quiet_event_stream(void)
{
    env e;
    lg_server_config cfg = { 0 };
    cfg.send_timeout_ms = 500;
    env_open(&e, &cfg);
    int fd;
    static const char req[] = GET("/events");
    fault_sock *k = client(&e, req, sizeof req - 1, FAULT_EOF_AFTER_FIN, &fd);
    uint64_t t0 = e.fn.now_ms;
    /* (at most 100 ms of virtual time a round: the idle timeout after the
     * answer is not this test's business) */
    for (int i = 0; i < 100000 && e.fn.now_ms - t0 < 10500; i++) lg_loop_run_once(e.loop, 100);
    answer a[2];
    CHECK_EQ_INT(split_answers(k->out, k->out_len, a, 2), 1);
    CHECK(a[0].complete && body_is(&a[0], "event 1\nevent 2\n"));
    CHECK_EQ_INT(last_rc[1], LG_OK);
    CHECK_EQ_INT(last_rc[0], LG_OK);
    CHECK_EQ_INT(lg_server_get_stats(e.srv)->timeouts, 0);
    CHECK(!k->closed);
    run_until_closed(&e, k, 100000); /* the idle timeout ends it */
    env_close(&e);
}

/* --- back-pressure for a streamed upload --- */

/* 100,000 bytes offered at once to a sink that pauses two seconds after
 * each piece: it gets them all, a buffer's worth at most per piece, the
 * server reads nothing from the client while paused, no body timeout
 * (1.5 s here) runs while it is, and the answer comes at the end. */
static void test_paused_upload(void)
{
    static char req[110000];
    int n = snprintf(req, sizeof req, "POST /slow-sink HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n");
    memset(req + n, 'u', 100000);
    n += 100000;
    env e;
    lg_server_config cfg = { 0 };
    cfg.body_timeout_ms = 1500;
    env_open(&e, &cfg);
    memset(&sink, 0, sizeof sink);
    int fd;
    fault_sock *k = client(&e, req, (size_t)n, FAULT_EOF_AFTER_FIN, &fd);
    sink.client = k;
    CHECK(run_until_closed(&e, k, 100000) || k->out_len > 0);
    answer a[2];
    CHECK_EQ_INT(split_answers(k->out, k->out_len, a, 2), 1);
    char expect[64];
    snprintf(expect, sizeof expect, "100000 in %lu pieces", (unsigned long)sink.pieces);
    CHECK(body_is(&a[0], expect));
    CHECK_EQ_INT(sink.got, 100000);
    CHECK(sink.pieces >= 100000 / LG_SERVER_DEFAULT_RECV_BUFFER);
    CHECK(sink.max_piece <= LG_SERVER_DEFAULT_RECV_BUFFER);
    CHECK_EQ_INT(sink.read_while_paused, 0);
    CHECK_EQ_INT(sink.pieces_while_paused, 0);
    CHECK_EQ_INT(last_rc[1], LG_OK);
    CHECK_EQ_INT(last_rc[2], LG_OK);
    CHECK_EQ_INT(a[0].status, 200); /* not 408 */
    env_close(&e);
}

/* --- RFC 9112 3.2.2: an absolute-form target's authority is the host --- */

static void test_request_host(void)
{
    env e;
    env_open(&e, NULL);
    int fd;
    static const char req[] = "GET http://other.example:81/host HTTP/1.1\r\nHost: a\r\n\r\n" GET("/host");
    fault_sock *k = client(&e, req, sizeof req - 1, FAULT_EOF_AFTER_FIN, &fd);
    CHECK(run_until_closed(&e, k, 100000));
    answer a[3];
    CHECK_EQ_INT(split_answers(k->out, k->out_len, a, 3), 2);
    CHECK(body_is(&a[0], "other.example:81")); /* not the Host field */
    CHECK(body_is(&a[1], "a"));
    env_close(&e);
}

/* --- a connection whose transport cannot be made --- */

static lg_transport *no_transport(lg_stream *s, const char *scheme, void *user)
{
    (void)s;
    (void)scheme;
    (void)user;
    return NULL; /* out of memory for TLS, say */
}

/* Refused as a 503 is, but without a word: closed gracefully before a byte
 * is read or written, its request read out by the drain, and counted. */
static void test_transport_refused(void)
{
    env e;
    lg_server_config cfg = { 0 };
    cfg.transport = no_transport;
    env_open(&e, &cfg);
    int fd;
    static const char req[] = GET("/n/1");
    fault_sock *k = client(&e, req, sizeof req - 1, FAULT_EOF_AFTER_FIN, &fd);
    CHECK(run_until_closed(&e, k, 1000));
    CHECK_EQ_INT(k->out_len, 0);
    CHECK_EQ_INT(k->fin_sent, 1);
    CHECK_EQ_INT(k->closed_with_unread, 0);
    CHECK_EQ_INT(k->aborted, 0);
    CHECK_EQ_INT(lg_server_get_stats(e.srv)->connections, 1);
    CHECK_EQ_INT(lg_server_get_stats(e.srv)->requests, 0);
    env_close(&e);
}

/* --- nginx's keepalive_requests --- */

/* The third answer says "Connection: close", and the pipelined requests
 * behind it are read out by the graceful close, not answered. */
static void test_requests_per_connection(void)
{
    env e;
    lg_server_config cfg = { 0 };
    cfg.max_requests_per_conn = 3;
    env_open(&e, &cfg);
    int fd;
    static const char req[] = GET("/n/1") GET("/n/2") GET("/n/3") GET("/n/4") GET("/n/5");
    fault_sock *k = client(&e, req, sizeof req - 1, FAULT_EOF_AFTER_FIN, &fd);
    CHECK(run_until_closed(&e, k, 10000));
    answer a[6];
    int n = split_answers(k->out, k->out_len, a, 6);
    CHECK_EQ_INT(n, 3);
    CHECK(n == 3 && !a[0].closes && !a[1].closes && a[2].closes && body_is(&a[2], "3"));
    CHECK_EQ_INT(k->fin_sent, 1);
    CHECK_EQ_INT(k->closed_with_unread, 0);
    env_close(&e);
}

/* --- item 9: cookies, and a head that never parsed --- */

static void test_cookie_attributes(void)
{
    env e;
    env_open(&e, NULL);
    int fd;
    static const char req[] = GET("/cookie");
    fault_sock *k = client(&e, req, sizeof req - 1, FAULT_EOF_AFTER_FIN, &fd);
    CHECK(run_until_closed(&e, k, 10000));
    CHECK_EQ_INT(last_rc[1], 6);
    CHECK_EQ_INT(last_rc[2], LG_OK);
    static const char expect[] = "HTTP/1.1 200 OK\r\nSet-Cookie: a=b; Path=/app; Domain=example.com; "
                                 "Max-Age=3600; SameSite=Strict\r\nContent-Length: 2\r\n\r\nok";
    CHECK(k->out_len == sizeof expect - 1 && memcmp(k->out, expect, k->out_len) == 0);
    env_close(&e);
}

static void test_half_head_not_logged(void)
{
    env e;
    env_open(&e, NULL);
    int fd;
    static const char req[] = "GET /secret/half-a-target HTTP/1.1\r\nHost: victim\r\nX-A: b";
    fault_sock *k = client(&e, req, sizeof req - 1, FAULT_SILENT, &fd);
    CHECK(run_until_closed(&e, k, 10000));
    answer a[2];
    CHECK_EQ_INT(split_answers(k->out, k->out_len, a, 2), 1);
    CHECK_EQ_INT(a[0].status, 408);
    CHECK_EQ_INT(logged_status, 408);
    CHECK_EQ_INT(logged_error, LG_ERR_TIMEOUT);
    if (strcmp(logged, "  host=-") != 0) fprintf(stderr, "  logged: \"%s\"\n", logged);
    CHECK(strcmp(logged, "  host=-") == 0);
    env_close(&e);

    /* the same for a head that failed to parse */
    env_open(&e, NULL);
    static const char bad[] = "GET /secret HTTP/1.1\r\nHost: victim\r\nBad Header: x\r\n\r\n";
    k = client(&e, bad, sizeof bad - 1, FAULT_EOF_AFTER_FIN, &fd);
    CHECK(run_until_closed(&e, k, 10000));
    CHECK_EQ_INT(logged_status, 400);
    CHECK(strcmp(logged, "  host=-") == 0);
    env_close(&e);
}

int main(void)
{
    huge = calloc(1, HUGE_BYTES); /* never touched: refused before it is read */
    big = malloc(BIG_BYTES);
    for (size_t i = 0; i < BIG_BYTES; i++) big[i] = (char)('a' + i % 23);
    test_invalid_status();
    test_body_over_the_queue();
    test_server_name_refused();
    test_write_over_the_queue();
    test_abandon();
    test_fill_that_never_ends();
    test_content_length_mismatch();
    test_content_length_refused();
    test_head_declares_length();
    test_keep_alive_promise_kept();
    test_trailers_too_large();
    test_slow_http10_reader();
    test_requests_per_connection();
    test_quiet_event_stream();
    test_paused_upload();
    test_transport_refused();
    test_request_host();
    test_cookie_attributes();
    test_half_head_not_logged();
    free(huge);
    free(big);
    TEST_MAIN_END();
}
