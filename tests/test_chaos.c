/*
 * Bad networks: linger's client talks to linger's server through the chaos
 * proxy, which splits the bytes into 1-byte segments and delays them, stalls,
 * truncates or resets at a chosen byte. Every exchange ends exactly as
 * specified — the complete response, or the precise error — and never hangs;
 * the server goes on serving.
 */
#include <stdlib.h>
#include <time.h>

#include "chaos/chaos_proxy.h"
#include "linger.h"
#include "test.h"

static lg_loop *loop;
static lg_server *srv;
static lg_client *cli;
static chaos_proxy proxy;
static char url_hello[64], url_echo[64], url_chunks[64];
static char body[3000];

static const char HELLO[] = "Hello, World!";

static void on_hello(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_send(res, 200, HELLO, sizeof HELLO - 1);
}

static void on_echo(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_str b = lg_req_body(req);
    lg_res_send(res, 200, b.ptr, b.len);
}

static void fill(lg_res *res, void *user)
{
    int *left = user;
    while (*left > 0 && lg_res_write(res, "0123456789", 10) == LG_OK) (*left)--;
    lg_res_end(res);
}

static int chunks_left;
static void on_chunks(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    chunks_left = 5;
    lg_res_stream(res, 200, fill, &chunks_left);
}

typedef struct outcome {
    int done;
    int err;
    int status;
    uint64_t body_bytes;
    char body[4096];
} outcome;

static void on_response(lg_response *r, void *user)
{
    outcome *o = user;
    o->done = 1;
    o->err = r->err;
    o->status = r->status;
    o->body_bytes = r->body_bytes;
    size_t n = r->body.len < sizeof o->body ? r->body.len : sizeof o->body;
    if (r->body.ptr) memcpy(o->body, r->body.ptr, n);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One request through the proxy with the given rules, on a fresh connection;
 * returns once the response (or error) came and the proxy let go. */
static outcome fetch(const char *url, const void *b, size_t blen, chaos_dir up, chaos_dir down,
                     double *secs)
{
    outcome o;
    memset(&o, 0, sizeof o);
    int pairs = proxy.pairs;
    proxy.up = up;
    proxy.down = down;
    lg_request req;
    memset(&req, 0, sizeof req);
    req.url = url;
    req.body = b;
    req.body_len = blen;
    req.flags = LG_FETCH_CLOSE | LG_FETCH_NO_REDIRECTS;
    double t0 = now_s();
    lg_fetch(cli, &req, on_response, &o);
    while (!o.done && now_s() - t0 < 20) lg_loop_run_once(loop, 50);
    if (secs) *secs = now_s() - t0;
    /* the proxy finishes its pair (both sides closed) before the next rules */
    while (proxy.pairs == pairs && now_s() - t0 < 20) lg_loop_run_once(loop, 20);
    return o;
}

/* The bytes of the answer to GET /hello, to know where each cut falls. */
static size_t hello_answer_len(void)
{
    return strlen("HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: close\r\n\r\n") + 13;
}

int main(void)
{
    for (size_t i = 0; i < sizeof body; i++) body[i] = (char)('a' + i % 26);
    loop = lg_loop_new(NULL);
    lg_server_config scfg = { 0 };
    scfg.no_date = 1;
    scfg.server_name = "";
    scfg.linger_timeout_ms = 1000;
    srv = lg_server_new(loop, &scfg);
    lg_route(srv, "GET", "/hello", on_hello, NULL);
    lg_route(srv, "POST", "/echo", on_echo, NULL);
    lg_route(srv, "GET", "/chunks", on_chunks, NULL);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:0", 0), LG_OK);
    CHECK_EQ_INT(chaos_start(&proxy, lg_server_port(srv)), 0);
    snprintf(url_hello, sizeof url_hello, "http://127.0.0.1:%u/hello", proxy.port);
    snprintf(url_echo, sizeof url_echo, "http://127.0.0.1:%u/echo", proxy.port);
    snprintf(url_chunks, sizeof url_chunks, "http://127.0.0.1:%u/chunks", proxy.port);
    lg_client_config ccfg = { 0 };
    ccfg.read_timeout_ms = 800;
    ccfg.user_agent = "";
    cli = lg_client_new(loop, &ccfg);

    chaos_dir plain = chaos_plain();

    /* 1. One byte at a time, both ways, with delays: complete and exact. */
    chaos_dir dribble = chaos_plain();
    dribble.split = 1;
    dribble.delay_ms = 1;
    outcome o = fetch(url_hello, NULL, 0, dribble, dribble, NULL);
    CHECK_EQ_INT(o.err, LG_OK);
    CHECK(o.body_bytes == 13 && memcmp(o.body, HELLO, 13) == 0);
    chaos_dir fast_dribble = chaos_plain();
    fast_dribble.split = 1;
    o = fetch(url_echo, body, sizeof body, fast_dribble, fast_dribble, NULL);
    CHECK_EQ_INT(o.err, LG_OK);
    CHECK(o.body_bytes == sizeof body && memcmp(o.body, body, sizeof body) == 0);

    /* 2. The answer cut (FIN) at every byte: closed early before the end,
     *    complete from the end on. 3. Reset at every byte: a reset before
     *    the end; after a complete message a reset is no error (rule 1). */
    size_t total = hello_answer_len();
    int cut_ok = 0, reset_ok = 0;
    for (size_t k = 0; k <= total; k++) {
        chaos_dir cut = chaos_plain();
        cut.truncate_at = k;
        o = fetch(url_hello, NULL, 0, plain, cut, NULL);
        int expect = k < total ? LG_ERR_CLOSED_EARLY : LG_OK;
        if (o.err == expect) cut_ok++;
        else fprintf(stderr, "  cut at %zu: %s, expected %s\n", k, lg_err_name(o.err), lg_err_name(expect));
        chaos_dir rst = chaos_plain();
        rst.reset_at = k;
        o = fetch(url_hello, NULL, 0, plain, rst, NULL);
        int ok = k < total ? o.err == LG_ERR_RESET : o.err == LG_OK;
        if (ok) reset_ok++;
        else fprintf(stderr, "  reset at %zu: %s\n", k, lg_err_name(o.err));
    }
    CHECK_EQ_INT(cut_ok, (int)total + 1);
    CHECK_EQ_INT(reset_ok, (int)total + 1);

    /* 4. A chunked answer cut at every byte: never taken for complete
     *    before its last chunk. */
    int chunk_wrong = 0, chunk_complete = 0;
    for (size_t k = 0; k < 400; k += 3) {
        chaos_dir cut = chaos_plain();
        cut.truncate_at = k;
        o = fetch(url_chunks, NULL, 0, plain, cut, NULL);
        if (o.err == LG_OK) {
            chunk_complete++;
            if (o.body_bytes != 50) chunk_wrong++;
        } else if (o.err != LG_ERR_CLOSED_EARLY) {
            chunk_wrong++;
        }
    }
    CHECK_EQ_INT(chunk_wrong, 0);
    CHECK(chunk_complete > 0);

    /* 5. The upload reset midway: an error for the client, and the server
     *    is fine (it answers the next request). */
    chaos_dir rst_up = chaos_plain();
    rst_up.reset_at = 1500;
    o = fetch(url_echo, body, sizeof body, rst_up, plain, NULL);
    CHECK(o.err == LG_ERR_RESET || o.err == LG_ERR_PIPE);
    o = fetch(url_hello, NULL, 0, plain, plain, NULL);
    CHECK_EQ_INT(o.err, LG_OK);

    /* 6. A stall longer than the read timeout: a timeout, on time. */
    chaos_dir stall = chaos_plain();
    stall.stall_at = 20;
    stall.stall_ms = 4000; /* far past the 800 ms read timeout, even on a loaded machine */
    double secs;
    o = fetch(url_hello, NULL, 0, plain, stall, &secs);
    CHECK_EQ_INT(o.err, LG_ERR_TIMEOUT);
    CHECK(secs > 0.7 && secs < 3.5);
    /* a stall shorter than it: complete */
    stall.stall_ms = 300;
    o = fetch(url_hello, NULL, 0, plain, stall, NULL);
    CHECK_EQ_INT(o.err, LG_OK);

    printf("chaos: %zu cuts and %zu resets of a %zu-byte answer, 134 chunked cuts (%d complete), "
           "upload reset, stalls: all as specified\n",
           total + 1, total + 1, total, chunk_complete);
    /* Nothing resets, not even the client giving up on the stalled
     * answer: it closes gracefully (docs/client.md). */
    const lg_loop_stats *ls = lg_loop_get_stats(loop);
    CHECK_EQ_INT(ls->aborts, 0);

    chaos_stop(&proxy);
    lg_client_free(cli);
    lg_server_shutdown(srv, 1000, NULL, NULL);
    lg_loop_run(loop);
    lg_server_free(srv);
    lg_loop_free(loop);
    TEST_MAIN_END();
}
