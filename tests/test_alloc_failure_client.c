/*
 * Allocation failure, every N, on the client side: a scenario of several
 * requests (GETs read by Content-Length, a chunked answer with trailers, a
 * POST from memory, a streamed upload, a redirect to another origin) over
 * the fault injector, run
 * once to count its allocations, then once per N with the Nth failing.
 * Every run must end cleanly: each request's callback exactly once (a
 * response or a clean error such as LG_ERR_NOMEM), nothing left hanging,
 * every byte freed, and a request made afterwards works.
 */
#include "fault/fault_net.h"
#include "test.h"

static long alloc_calls, fail_at, live_blocks;
static long calls_before_late; /* allocations made before the late request */

static void *counting_alloc(size_t size, void *user)
{
    (void)user;
    alloc_calls++;
    if (fail_at && alloc_calls == fail_at) return NULL;
    live_blocks++;
    return malloc(size);
}

static void counting_free(void *p, size_t size, void *user)
{
    (void)user;
    (void)size;
    live_blocks--;
    free(p);
}

static const lg_allocator counting = { counting_alloc, counting_free, NULL };

#define NREQ 7
static int calls[NREQ + 1], errs[NREQ + 1], made[NREQ + 1];

static void on_response(lg_response *r, void *user)
{
    int i = (int)(intptr_t)user;
    calls[i]++;
    errs[i] = r->err;
}

static int produced;
static long producer(lg_call *call, char *buf, size_t cap, void *user)
{
    (void)call;
    (void)user;
    if (produced >= 3) return 0;
    produced++;
    size_t n = cap < 10 ? cap : 10;
    memset(buf, 'p', n);
    return (long)n;
}

static const char R_LEN[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
static const char R_CHUNKED[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "3\r\nabc\r\n2\r\nde\r\n0\r\nX-Sum: 5\r\n\r\n";
static const char R_REDIRECT[] = "HTTP/1.1 302 Found\r\nLocation: http://10.0.0.2/b\r\nContent-Length: 0\r\n\r\n";
static const char R_CREATED[] = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";

static void expect_conn(fault_net *fn, const char *in, size_t len)
{
    fault_sock s;
    memset(&s, 0, sizeof s);
    s.in = in;
    s.in_len = len;
    s.in_piece = 7;
    s.in_end = FAULT_SILENT;
    fault_expect_connect(fn, &s);
}

static lg_call *fetch(lg_client *cli, int i, const char *url, const char *method, const void *body,
                      size_t blen, int stream_up)
{
    lg_request req;
    memset(&req, 0, sizeof req);
    req.url = url;
    req.method = method;
    req.body = body;
    req.body_len = blen;
    if (stream_up) {
        req.body_producer = producer;
        req.body_len = LG_BODY_LENGTH_UNKNOWN;
    }
    lg_call *c = lg_fetch(cli, &req, on_response, (void *)(intptr_t)i);
    made[i] = c != NULL;
    return c;
}

/* Returns 1 if the client could be made, and whether the late request
 * succeeded. */
static int run_scenario(int *late_ok, int *hung)
{
    static fault_net fn;
    fault_net_init(&fn);
    memset(calls, 0, sizeof calls);
    memset(errs, 0, sizeof errs);
    memset(made, 0, sizeof made);
    produced = 0;
    *late_ok = 0;
    *hung = 0;
    lg_loop *loop = fault_loop_new(&fn);
    if (!loop) return 0;
    lg_client_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_conns_per_origin = 1; /* requests to one origin share a connection */
    cfg.read_timeout_ms = 5000;
    lg_client *cli = lg_client_new(loop, &cfg);
    if (!cli) {
        lg_loop_free(loop);
        return 0;
    }
    /* Connections are taken in the order the requests connect. */
    expect_conn(&fn, R_LEN, sizeof R_LEN - 1);
    expect_conn(&fn, R_CHUNKED, sizeof R_CHUNKED - 1);
    expect_conn(&fn, R_CREATED, sizeof R_CREATED - 1);
    expect_conn(&fn, R_CREATED, sizeof R_CREATED - 1);
    expect_conn(&fn, R_LEN, sizeof R_LEN - 1);
    expect_conn(&fn, R_LEN, sizeof R_LEN - 1);
    expect_conn(&fn, R_REDIRECT, sizeof R_REDIRECT - 1);
    expect_conn(&fn, R_LEN, sizeof R_LEN - 1);
    fetch(cli, 0, "http://10.0.0.1:81/a", NULL, NULL, 0, 0);
    fetch(cli, 1, "http://10.0.0.1:82/chunked", NULL, NULL, 0, 0);
    fetch(cli, 2, "http://10.0.0.1:83/post", "POST", "0123456789", 10, 0);
    fetch(cli, 3, "http://10.0.0.1:84/up", "PUT", NULL, 0, 1);
    fetch(cli, 4, "http://10.0.0.1:85/one", NULL, NULL, 0, 0);
    fetch(cli, 5, "http://10.0.0.1:87/two", NULL, NULL, 0, 0);
    fetch(cli, 6, "http://10.0.0.1:86/redirect", NULL, NULL, 0, 0);
    for (int i = 0; i < 20000; i++) {
        int stalled = fn.stalled_waits;
        int alive = lg_loop_run_once(loop, -1);
        int pending = 0;
        for (int k = 0; k < NREQ; k++) pending += made[k] && calls[k] == 0;
        if (!pending || alive <= 0) break;
        if (fn.stalled_waits != stalled) break;
    }
    /* A request after whatever happened. */
    calls_before_late = alloc_calls;
    fault_sock s;
    memset(&s, 0, sizeof s);
    s.in = R_LEN;
    s.in_len = sizeof R_LEN - 1;
    s.in_end = FAULT_SILENT;
    fault_expect_connect(&fn, &s);
    if (fetch(cli, NREQ, "http://10.0.0.3/late", NULL, NULL, 0, 0)) {
        for (int i = 0; i < 20000 && !calls[NREQ]; i++) {
            int stalled = fn.stalled_waits;
            lg_loop_run_once(loop, -1);
            if (fn.stalled_waits != stalled) break;
        }
    }
    *late_ok = calls[NREQ] == 1 && errs[NREQ] == LG_OK;
    /* Every request that was taken got its one answer, before any free. */
    for (int k = 0; k < NREQ; k++)
        if (made[k] ? calls[k] != 1 : calls[k] != 0) *hung = 1;
    lg_client_free(cli);
    /* Let the graceful closes run their course (virtual time moves on). */
    fault_run(loop, 100000);
    for (int k = 0; k <= NREQ; k++)
        if (calls[k] > 1) *hung = 1; /* called twice is wrong too */
    lg_loop_free(loop);
    fault_net_free(&fn);
    return 1;
}

int main(void)
{
    lg_set_allocator(&counting);
    int late, hung;
    alloc_calls = 0;
    fail_at = 0;
    CHECK(run_scenario(&late, &hung));
    long total = alloc_calls, scenario = calls_before_late;
    CHECK(late);
    CHECK(!hung);
    for (int k = 0; k < NREQ; k++) {
        CHECK_EQ_INT(calls[k], 1);
        if (errs[k] != LG_OK) fprintf(stderr, "  request %d: %s\n", k, lg_err_name(errs[k]));
        CHECK_EQ_INT(errs[k], LG_OK);
    }
    CHECK_EQ_INT(live_blocks, 0);
    printf("the client scenario makes %ld allocations; failing each in turn\n", total);

    int started = 0, late_served = 0, bad = 0;
    for (long n = 1; n <= total; n++) {
        alloc_calls = 0;
        fail_at = n;
        int ran = run_scenario(&late, &hung);
        /* Failures inside the late request itself fail it, as they should. */
        int judged = ran && n <= scenario;
        started += judged;
        late_served += judged && late;
        int wrong = hung;
        if (hung) fprintf(stderr, "  allocation %ld failed: a request was not answered exactly once\n", n);
        if (live_blocks != 0) {
            fprintf(stderr, "  allocation %ld failed: %ld blocks leaked\n", n, live_blocks);
            live_blocks = 0;
            wrong = 1;
        }
        if (judged && !late) fprintf(stderr, "  allocation %ld failed: the late request failed\n", n);
        bad += wrong;
        test_checks++;
    }
    test_failures += bad;
    CHECK_EQ_INT(late_served, started);
    printf("%ld failure points (%ld in the scenario): %d of those had a client and served a later "
           "request: %d; not answered exactly once, or leaked: %d\n",
           total, scenario, started, late_served, bad);
    lg_set_allocator(NULL);
    TEST_MAIN_END();
}
