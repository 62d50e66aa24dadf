/*
 * Both halves of the promise at once: linger's client against linger's
 * server on one loop, over loopback. Uploads from 0 B to 1 MiB go to a
 * route that answers at once without reading the body (the original bug's
 * server), to an echo, and to a streamed (chunked) answer, several in
 * flight. Every response must be complete and right; neither side may
 * close with a reset; and in a private network namespace (root) the
 * kernel's own counters must show no reset sent for unread data.
 */
#include <stdio.h>
#include <stdlib.h>

#include "linger.h"
#include "mixed_exchanges.h"
#include "netns.h"
#include "test.h"
#include "trickle_transport.h"

/* POST /count?refuse_after=N (streamed body): "bytes=N" once the body is
 * complete, or 422 as soon as N bytes have come (in mid-body). */
typedef struct counter {
    lg_res *res;
    uint64_t bytes, refuse_after;
    int answered;
} counter;

static void count_chunk(lg_req *req, int status, const char *data, size_t len, void *user)
{
    counter *c = user;
    (void)req;
    (void)data;
    if (c->answered) return;
    char out[64];
    if (status == LG_OK && len) {
        c->bytes += len;
        if (c->refuse_after && c->bytes >= c->refuse_after) {
            c->answered = 1;
            lg_res_send_str(c->res, 422, "enough");
            free(c);
        }
        return;
    }
    if (status == LG_OK) {
        snprintf(out, sizeof out, "bytes=%llu", (unsigned long long)c->bytes);
        lg_res_send_str(c->res, 200, out);
    } else {
        lg_res_error(c->res, 400, lg_strerror(status));
    }
    free(c);
}

static void on_count(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    counter *c = calloc(1, sizeof *c);
    c->res = res;
    lg_str r = lg_req_query(req, "refuse_after");
    c->refuse_after = r.ptr ? strtoull(r.ptr, NULL, 10) : 0;
    if (lg_req_read_body(req, 0, count_chunk, c) != LG_OK) {
        free(c);
        lg_res_error(res, 500, "read_body");
    }
}

/* Streamed uploads from a producer (chunked, some with 100-continue) to the
 * streamed-body route, complete or refused in the middle. */
typedef struct upload {
    uint64_t total, made;
    int refused, calls, ok, early;
    lg_client *cli;
} upload;

static long produce(lg_call *call, char *buf, size_t cap, void *user)
{
    upload *u = user;
    (void)call;
    size_t n = u->total - u->made < cap ? (size_t)(u->total - u->made) : cap;
    memcpy(buf, mixed_body, n);
    u->made += n;
    return (long)n;
}

static void upload_done(lg_response *res, void *user)
{
    upload *u = user;
    char want[64];
    snprintf(want, sizeof want, "bytes=%llu", (unsigned long long)u->total);
    u->calls++;
    if (u->refused)
        u->ok = res->err == LG_OK && res->status == 422 && (res->flags & LG_RES_EARLY) && u->made < u->total;
    else
        u->ok = res->err == LG_OK && res->status == 200 && res->body.len == strlen(want) &&
                memcmp(res->body.ptr, want, res->body.len) == 0 && res->sent_bytes == u->total;
    if (!u->ok)
        fprintf(stderr, "upload %llu (refused %d): %s status %d made %llu sent %llu %.*s\n",
                (unsigned long long)u->total, u->refused, lg_err_name(res->err), res->status,
                (unsigned long long)u->made, (unsigned long long)res->sent_bytes, (int)res->body.len,
                res->body.ptr);
}

static void test_streamed_uploads(lg_loop *loop, uint16_t port)
{
    lg_client *cli = lg_client_new(loop, tt_client(NULL));
    static const uint64_t totals[] = { 1, 1000, 65536, 1u << 20, 8u << 20 };
    int n = 0, good = 0;
    for (size_t i = 0; i < sizeof totals / sizeof totals[0]; i++)
        for (int refuse = 0; refuse < 2; refuse++)
            for (int expect = 0; expect < 2; expect++) {
                if (refuse && totals[i] < (4u << 20)) continue;
                upload u = { .total = totals[i], .refused = refuse, .cli = cli };
                char url[96];
                snprintf(url, sizeof url, "http://127.0.0.1:%u/count%s", port,
                         refuse ? "?refuse_after=100000" : "");
                lg_request req = { .url = url, .body_producer = produce,
                                   .body_len = LG_BODY_LENGTH_UNKNOWN,
                                   .flags = expect ? LG_FETCH_EXPECT_CONTINUE : 0 };
                lg_fetch(cli, &req, upload_done, &u);
                while (!u.calls) lg_loop_run_once(loop, 1000);
                CHECK(u.ok);
                n++;
                good += u.ok;
            }
    printf("%d streamed (chunked) uploads, %d as expected\n", n, good);
    lg_client_free(cli);
}

int main(int argc, char **argv)
{
    int own_netns = netns_enter_private();
    printf("private network namespace: %s\n", own_netns ? "yes" : "no (kernel counters not checked)");
    lg_loop *loop = lg_loop_new(NULL);
    lg_server *srv = lg_server_new(loop, tt_server(NULL));
    mixed_routes(srv);
    lg_route_ex(srv, "POST", "/count", LG_ROUTE_STREAM_BODY, on_count, NULL);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:0", 0), LG_OK);
    uint16_t port = lg_server_port(srv);

    mixed_run r;
    memset(&r, 0, sizeof r);
    r.total = argc > 1 ? atoi(argv[1]) : 630;

    long long resets_before = own_netns ? netns_resets_for_unread() : -1;
    mixed_start(&r, lg_client_new(loop, tt_client(&(lg_client_config){ .max_conns_per_origin = 4 })),
                port, 8);
    while (r.done < r.total) lg_loop_run_once(loop, 1000);
    lg_client_free(r.cli);
    test_streamed_uploads(loop, port);
    /* let every connection finish closing */
    lg_server_shutdown(srv, 5000, NULL, NULL);
    lg_loop_run(loop);
    long long resets = own_netns ? netns_resets_for_unread() - resets_before : -1;

    const lg_loop_stats *ls = lg_loop_get_stats(loop);
    const lg_server_stats *ss = lg_server_get_stats(srv);
    printf("%d requests, %d complete and right, %d answered early; server: %llu connections, "
           "%llu bodies discarded, %llu closes for a body; loop: %llu graceful closes, %llu aborts, "
           "%llu linger timeouts; kernel resets for unread data: %lld\n",
           r.done, r.ok, r.early, (unsigned long long)ss->connections, (unsigned long long)ss->bodies_discarded,
           (unsigned long long)ss->closes_for_body, (unsigned long long)ls->graceful_closes,
           (unsigned long long)ls->aborts, (unsigned long long)ls->linger_timeouts, resets);
    CHECK_EQ_INT(r.ok, r.total);
    CHECK_EQ_INT(ls->aborts, 0);
    CHECK(ss->closes_for_body > 0); /* the large early answers did close */
    if (own_netns) CHECK_EQ_INT(resets, 0);
    lg_server_free(srv);
    lg_loop_free(loop);
    tt_report();
    if (trickle_wanted()) CHECK(trickle_opened > 0 && trickle_short_reads > 0);
    TEST_MAIN_END();
}
