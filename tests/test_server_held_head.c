/*
 * A request a handler keeps to answer later gives its receive buffer back
 * (server_conn.c, move_head_apart): its head moves into a block of its
 * own, and every slice of it (method, target, host, header fields, path,
 * query, route parameters) still reads what the client sent after other
 * connections have written their requests into the buffer it came from.
 *
 * Over loopback, the loop and blocking client sockets on one thread:
 *  - a kept request costs its request slot and its head, not the
 *    receive buffer, nor a response-header or scratch space until it
 *    uses one (the allocator hook counts it), and its slices survive a
 *    second and a third request read through the same cached buffer;
 *  - the headers a late answer adds go out with it, through a
 *    response-header space the next answer reuses (nothing allocated);
 *  - its connection goes on after the late answer (nothing of the moved
 *    head is consumed twice);
 *  - a request with a pipelined one behind it, and one whose body sits
 *    behind its head, keep the buffer as before and are answered right;
 *  - all of that only with move_held_heads: by default a slice a handler
 *    took and kept stays valid until its late answer (the head stays in
 *    the buffer, which the request keeps).
 */
#include <sys/socket.h>
#include <sys/time.h>

#include "server_internal.h"
#include "tcp_peer.h"
#include "test.h"

static lg_loop *loop;
static lg_server *srv;

/* --- a counting allocator --- */

static long long live_bytes;

static void *count_alloc(size_t size, void *user)
{
    (void)user;
    live_bytes += (long long)size;
    return malloc(size);
}

static void count_free(void *p, size_t size, void *user)
{
    (void)user;
    live_bytes -= (long long)size;
    free(p);
}

static const lg_allocator counting = { count_alloc, count_free, NULL };

/* --- handlers: /hold/:id and POST /later keep the request --- */

#define MAX_HELD 4
static lg_req *held_req[MAX_HELD];
static lg_res *held_res[MAX_HELD];
static int nheld;

static void on_hold(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    if (nheld < MAX_HELD) {
        held_req[nheld] = req;
        held_res[nheld++] = res;
    }
}

/* Keeps the request and a slice of its head, as a C handler may. */
static lg_str kept_slice;

static void on_keep_slice(lg_req *req, lg_res *res, void *user)
{
    kept_slice = lg_req_header(req, "X-Note");
    on_hold(req, res, user);
}

static void on_now(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_send(res, 200, "now", 3);
}

/* --- driving --- */

static void run_until_held(int n)
{
    for (int i = 0; i < 500 && nheld < n; i++) lg_loop_run_once(loop, 10);
    CHECK_EQ_INT(nheld, n);
}

/* One answer (by Content-Length) from fd, running the loop while it is
 * not all there. Returns its body, NUL-terminated, or "" on failure. */
static char last_head[1024]; /* the last answer's head, NUL-terminated */

static const char *read_answer(int fd)
{
    static char buf[4096];
    size_t have = 0;
    for (int i = 0; i < 500; i++) {
        char *end = have ? memmem(buf, have, "\r\n\r\n", 4) : NULL;
        if (end) {
            size_t head = (size_t)(end - buf) + 4;
            const char *cl = memmem(buf, head, "Content-Length: ", 16);
            size_t len = cl ? (size_t)strtoul(cl + 16, NULL, 10) : 0;
            if (have >= head + len && head + len < sizeof buf) {
                CHECK(memcmp(buf, "HTTP/1.1 200 ", 13) == 0);
                CHECK(head < sizeof last_head);
                memcpy(last_head, buf, head < sizeof last_head ? head : 0);
                last_head[head < sizeof last_head ? head : 0] = 0;
                /* What came after this answer is the next one's. */
                static char body[4096];
                memcpy(body, buf + head, len);
                body[len] = 0;
                memmove(buf, buf + head + len, have - head - len);
                have -= head + len;
                CHECK_EQ_INT(have, 0);
                return body;
            }
        }
        ssize_t n = recv(fd, buf + have, sizeof buf - 1 - have, MSG_DONTWAIT);
        if (n > 0) have += (size_t)n;
        else if (n == 0) break;
        else lg_loop_run_once(loop, 10);
    }
    CHECK(!"an answer came");
    return "";
}

static int connect_accepted(void)
{
    int fd = peer_connect(lg_server_port(srv));
    CHECK(fd >= 0);
    for (int i = 0; i < 20; i++) lg_loop_run_once(loop, 5); /* accepted, waiting */
    return fd;
}

static void send_text(int fd, const char *text)
{
    CHECK_EQ_INT(peer_send_all(fd, text, strlen(text)), 0);
}

static int buffer_free(const lg_req *req)
{
    return req->ex->head_apart && lg_stream_peek(&req->ex->conn->s).len == 0;
}

static void answer(int i, const char *body)
{
    CHECK_EQ_INT(lg_res_send(held_res[i], 200, body, strlen(body)), LG_OK);
}

/* --- the cases --- */

static void kept_requests_give_their_buffer_back(void)
{
    int a = connect_accepted(), b = connect_accepted(), c = connect_accepted();
    send_text(a, "GET /hold/a%41b?x=1&y=two HTTP/1.1\r\nHost: example\r\n"
                 "X-Note: first-request-value\r\n\r\n");
    run_until_held(1);
    lg_req *ra = held_req[0];
    CHECK(buffer_free(ra));

    /* The second request: the slot and its head, no buffer kept. */
    long long before = live_bytes;
    send_text(b, "GET /hold/zzzzzzzzzzzzzzzz?x=9 HTTP/1.1\r\nHost: other-host\r\n"
                 "X-Note: second-second-second-second\r\nX-More: more-more-more\r\n\r\n");
    run_until_held(2);
    lg_req *rb = held_req[1];
    long long cost = live_bytes - before;
    printf("a kept request costs %lld bytes (request slot %zu, head %u, receive buffer %u)\n",
           cost, srv->exchange_size, (unsigned)rb->ex->head_apart_len,
           (unsigned)srv->cfg.recv_buffer_bytes);
    CHECK(buffer_free(rb));
    CHECK(cost <= (long long)(srv->exchange_size + rb->ex->head_apart_len));
    /* Nothing decoded, no header added yet: no spaces taken for them (a's
     * path was decoded: it has its scratch space). */
    CHECK(!rb->ex->res.hdr && !rb->ex->scratch);
    CHECK(ra->ex->scratch && !ra->ex->res.hdr);

    /* b's bytes went through the buffer a's came in: a's slices are a's. */
    CHECK_STR(lg_req_method(ra), "GET");
    CHECK_STR(lg_req_target(ra), "/hold/a%41b?x=1&y=two");
    CHECK_STR(lg_req_host(ra), "example");
    CHECK_STR(lg_req_path(ra), "/hold/aAb"); /* decoded: in the scratch space */
    CHECK_STR(lg_req_param(ra, "id"), "aAb");
    CHECK_STR(lg_req_query_string(ra), "x=1&y=two");
    CHECK_STR(lg_req_query(ra, "y"), "two");
    CHECK_STR(lg_req_header(ra, "X-Note"), "first-request-value");
    CHECK_EQ_INT(lg_req_head(ra)->num_headers, 2);
    CHECK_EQ_INT(lg_req_body(ra).len, 0);

    /* a answered late, with a header; its connection serves the next
     * request. The header space went back with the head: c's answer
     * takes it again, allocating nothing. */
    CHECK_EQ_INT(lg_res_header(held_res[0], "X-Late", "yes"), LG_OK);
    answer(0, "a done");
    CHECK(strcmp(read_answer(a), "a done") == 0);
    CHECK(strstr(last_head, "\r\nX-Late: yes\r\n") != NULL);
    send_text(a, "GET /now HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK(strcmp(read_answer(a), "now") == 0);

    /* And c's request, through the same buffer again, leaves b's intact
     * (its parameter a plain slice of the head, not decoded). */
    send_text(c, "GET /hold/cccccccccccccccccccccccccccccc HTTP/1.1\r\nHost: c\r\n"
                 "X-Note: ccccccccccccccccccccccccccccccccccccccc\r\n\r\n");
    run_until_held(3);
    long long held3 = live_bytes;
    CHECK_EQ_INT(lg_res_header(held_res[2], "X-Late", "c"), LG_OK);
    CHECK_EQ_INT(live_bytes, held3);
    CHECK_STR(lg_req_param(rb, "id"), "zzzzzzzzzzzzzzzz");
    CHECK_STR(lg_req_path(rb), "/hold/zzzzzzzzzzzzzzzz");
    CHECK_STR(lg_req_query(rb, "x"), "9");
    CHECK_STR(lg_req_host(rb), "other-host");
    CHECK_STR(lg_req_header(rb, "X-Note"), "second-second-second-second");
    CHECK_STR(lg_req_header(rb, "X-More"), "more-more-more");
    answer(2, "c done");
    answer(1, "b done");
    CHECK(strcmp(read_answer(b), "b done") == 0);
    CHECK(strcmp(read_answer(c), "c done") == 0);
    CHECK(strstr(last_head, "\r\nX-Late: c\r\n") != NULL);
    close(a);
    close(b);
    close(c);
    nheld = 0;
}

static void pipelined_and_body_requests_keep_it(void)
{
    int p = connect_accepted();
    send_text(p, "GET /hold/first HTTP/1.1\r\nHost: t\r\n\r\nGET /now HTTP/1.1\r\nHost: t\r\n\r\n");
    run_until_held(1);
    CHECK(!held_req[0]->ex->head_apart);
    CHECK_STR(lg_req_param(held_req[0], "id"), "first");
    answer(0, "first");
    CHECK(strcmp(read_answer(p), "first") == 0);
    CHECK(strcmp(read_answer(p), "now") == 0);
    close(p);
    nheld = 0;

    int q = connect_accepted();
    send_text(q, "POST /later HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
    run_until_held(1);
    CHECK(!held_req[0]->ex->head_apart);
    lg_str body = lg_req_body(held_req[0]);
    CHECK_STR(body, "hello");
    CHECK_EQ_INT(lg_res_send(held_res[0], 200, body.ptr, body.len), LG_OK);
    CHECK(strcmp(read_answer(q), "hello") == 0);
    send_text(q, "GET /now HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK(strcmp(read_answer(q), "now") == 0);
    close(q);
    nheld = 0;
}

static void by_default_kept_slices_stay_valid(void)
{
    int a = connect_accepted(), b = connect_accepted();
    send_text(a, "GET /keep HTTP/1.1\r\nHost: t\r\nX-Note: kept-by-the-handler\r\n\r\n");
    run_until_held(1);
    CHECK(!held_req[0]->ex->head_apart);
    CHECK(lg_stream_peek(&held_req[0]->ex->conn->s).len > 0); /* the buffer, kept */
    send_text(b, "GET /now HTTP/1.1\r\nHost: t\r\nX-Note: another-request-entirely\r\n\r\n");
    CHECK(strcmp(read_answer(b), "now") == 0);
    CHECK_STR(kept_slice, "kept-by-the-handler");
    CHECK_EQ_INT(lg_res_send(held_res[0], 200, kept_slice.ptr, kept_slice.len), LG_OK);
    CHECK(strcmp(read_answer(a), "kept-by-the-handler") == 0);
    close(a);
    close(b);
    nheld = 0;
}

static void serve(const lg_server_config *cfg)
{
    srv = lg_server_new(loop, cfg);
    lg_route(srv, "GET", "/hold/:id", on_hold, NULL);
    lg_route(srv, "POST", "/later", on_hold, NULL);
    lg_route(srv, "GET", "/keep", on_keep_slice, NULL);
    lg_route(srv, "GET", "/now", on_now, NULL);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:0", 0), LG_OK);
}

static void stop(void)
{
    /* The connections close (their clients did): then nothing is left. */
    for (int i = 0; i < 500 && srv->conns; i++) lg_loop_run_once(loop, 10);
    CHECK(!srv->conns);
    lg_server_free(srv);
}

int main(void)
{
    lg_set_allocator(&counting);
    loop = lg_loop_new(NULL);
    serve(&(lg_server_config){ .move_held_heads = 1 });
    kept_requests_give_their_buffer_back();
    pipelined_and_body_requests_keep_it();
    stop();
    serve(NULL);
    by_default_kept_slices_stay_valid();
    stop();
    lg_loop_free(loop);
    lg_set_allocator(NULL);
    CHECK_EQ_INT(live_bytes, 0);
    TEST_MAIN_END();
}
