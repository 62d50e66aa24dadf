/*
 * The whole server path under fuzzing: the input is what one client sends
 * (the first byte picks how it arrives and how it ends), fed through the
 * fault injector to a real server whose handlers ask for every kind of
 * decoded value (route parameters, query arguments, cookies, form fields,
 * headers), read streamed bodies and stream answers, or keep the request
 * and answer it from a timer (move_held_heads: its head moves out of the
 * receive buffer meanwhile). Invariants: no crash or leak (ASan), a kept
 * request reads the same head after it moved, no connection
 * closed with input unread, the connection count back at zero.
 */
#include <stdlib.h>
#include <string.h>

#include "fault/fault_net.h"

static void touch(lg_str s, unsigned *sum)
{
    for (size_t i = 0; s.ptr && i < s.len; i++) *sum += (unsigned char)s.ptr[i];
}

static unsigned values_sum(lg_req *req)
{
    unsigned sum = 0;
    touch(lg_req_param(req, "x"), &sum);
    touch(lg_req_param(req, "rest"), &sum);
    touch(lg_req_query(req, "q"), &sum);
    touch(lg_req_query(req, "a b"), &sum);
    touch(lg_req_cookie(req, "c"), &sum);
    touch(lg_req_header(req, "x-h"), &sum);
    touch(lg_req_path(req), &sum);
    touch(lg_req_form(req, "f"), &sum);
    touch(lg_req_body(req), &sum);
    touch(lg_req_method(req), &sum);
    touch(lg_req_target(req), &sum);
    touch(lg_req_host(req), &sum);
    return sum;
}

static void answer(lg_res *res, unsigned sum)
{
    char out[16];
    int n = 0;
    for (unsigned v = sum; n < 8; v >>= 4) out[n++] = "0123456789abcdef"[v & 15];
    lg_res_set_cookie(res, "s", "v", &(lg_cookie_options){ .path = "/", .max_age = 5, .http_only = 1 });
    lg_res_send(res, sum % 7 == 0 ? 201 : 200, out, (size_t)n);
}

static void on_any(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    answer(res, values_sum(req));
}

/* What a request's head says, every slice of it (the route's parameters
 * and the path decoded once, at routing; not the values decoded at each
 * lookup, which take more of the scratch space each time). */
static unsigned head_sum(lg_req *req)
{
    unsigned sum = 0;
    touch(lg_req_method(req), &sum);
    touch(lg_req_target(req), &sum);
    touch(lg_req_host(req), &sum);
    touch(lg_req_path(req), &sum);
    touch(lg_req_query_string(req), &sum);
    touch(lg_req_param(req, "x"), &sum);
    touch(lg_req_param(req, "rest"), &sum);
    const lg_head *h = lg_req_head(req);
    for (uint16_t i = 0; i < h->num_headers; i++) {
        touch(h->headers[i].name, &sum);
        touch(h->headers[i].value, &sum);
    }
    return sum;
}

/* A request kept and answered a virtual millisecond later, with the same
 * head it had when its handler ran. */
static struct {
    lg_timer timer;
    lg_req *req;
    lg_res *res;
    unsigned sum;
} held;

static void held_fire(lg_timer *t)
{
    (void)t;
    if (head_sum(held.req) != held.sum) abort(); /* a slice not moved with the head */
    lg_res *res = held.res;
    held.req = NULL;
    answer(res, held.sum);
}

static void on_held(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    if (held.req) { /* (one at a time: another connection's) */
        on_any(req, res, NULL);
        return;
    }
    held.req = req;
    held.res = res;
    values_sum(req); /* (decoding what it can: the scratch space taken) */
    held.sum = head_sum(req);
    lg_timer_start(&held.timer, 1);
}

static void on_chunk(lg_req *req, int status, const char *data, size_t len, void *user)
{
    lg_res *res = user;
    (void)req;
    (void)data;
    if (status != LG_OK) {
        lg_res_error(res, 400, lg_strerror(status));
    } else if (len == 0) {
        lg_res_send(res, 200, "done", 4);
    }
}

static void on_upload(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    if (lg_req_read_body(req, 2000, on_chunk, res) != LG_OK) lg_res_error(res, 413, "too big");
}

static void fill(lg_res *res, void *user)
{
    int *left = user;
    while (*left > 0 && lg_res_write(res, "line\n", 5) == LG_OK) (*left)--;
    if (*left <= 0 || lg_res_write(res, "", 0) != LG_OK) lg_res_end(res);
}

static int stream_left;
static void on_stream(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    stream_left = 50;
    lg_res_stream(res, 200, fill, &stream_left);
}

/* One server for the whole run, as in real life: each input is one more
 * client of it, and state left over from earlier clients is part of what is
 * being tested. */
static fault_net fn;
static lg_loop *loop;
static lg_server *srv;

static void setup(void)
{
    fault_net_init(&fn);
    loop = fault_loop_new(&fn);
    lg_server_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.recv_buffer_bytes = 512;
    cfg.max_headers = 8;
    cfg.max_body_bytes = 1500;
    cfg.discard_body_bytes = 600;
    cfg.scratch_bytes = 128;
    cfg.response_header_bytes = 128;
    cfg.no_date = 1;
    cfg.move_held_heads = 1;
    srv = lg_server_new(loop, &cfg);
    lg_timer_init(loop, &held.timer, held_fire);
    lg_route(srv, "GET", "/a/:x/*rest", on_any, NULL);
    lg_route(srv, "*", "/n/:x<int>", on_any, NULL);
    lg_route(srv, "POST", "/form", on_any, NULL);
    lg_route_ex(srv, "PUT", "/up", LG_ROUTE_STREAM_BODY, on_upload, NULL);
    lg_route(srv, "GET", "/stream", on_stream, NULL);
    lg_route(srv, "*", "/h/:x/*rest", on_held, NULL);
    lg_server_listen(srv, "127.0.0.1:80", 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if (!srv) setup();
    fault_sock s;
    memset(&s, 0, sizeof s);
    uint8_t how = data[0];
    s.in = (const char *)data + 1;
    s.in_len = size - 1;
    static const size_t pieces[] = { 0, 1, 3, 17 };
    s.in_piece = pieces[how & 3];
    s.in_again = (how >> 2) & 1;
    s.in_end = (how >> 3) & 1 ? FAULT_RESET : FAULT_EOF_AFTER_FIN;
    s.out_piece = (how >> 4) & 1 ? 7 : 0;
    uint64_t overflows = lg_loop_get_stats(loop)->linger_overflows;
    uint64_t timeouts = lg_loop_get_stats(loop)->linger_timeouts;
    uint64_t at_once = lg_loop_get_stats(loop)->closes_at_once;
    int fd = fault_accept_queue(&fn, &s);
    for (int i = 0; i < 20000; i++) {
        int stalled = fn.stalled_waits;
        lg_loop_run_once(loop, -1);
        fault_sock *k = fault_sock_get(&fn, fd);
        if (k->closed && lg_server_get_stats(srv)->active_connections == 0) break;
        if (fn.stalled_waits != stalled) break;
    }
    for (int i = 0; i < 4; i++) lg_loop_run_once(loop, 0);
    fault_sock *k = fault_sock_get(&fn, fd);
    /* Rule 3: only a close that ran out of linger time or budget may leave
     * input unread; and a close at once, on the client's promise to send
     * nothing more ("close", HTTP/1.0), input that had not arrived yet when
     * the server looked: the client broke its promise (what it sends late
     * meets a closed socket, as it would any server that closes). */
    const lg_loop_stats *st = lg_loop_get_stats(loop);
    int late_after_promise = k->closed_before_input && st->closes_at_once > at_once;
    if (k->closed_with_unread && !late_after_promise && st->linger_overflows == overflows &&
        st->linger_timeouts == timeouts)
        abort();
    if (k->aborted) abort();
    if (!k->closed || lg_server_get_stats(srv)->active_connections) abort(); /* hung */
    fault_sock_release(&fn, fd);
    return 0;
}
