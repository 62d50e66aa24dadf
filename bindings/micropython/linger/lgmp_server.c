/*
 * _linger.Server and _linger.Req: linger's server for MicroPython.
 *
 * A route's callback is a Python callable that gets a Req for each
 * request, as soon as its head has arrived (the routes stream their
 * bodies: LG_ROUTE_STREAM_BODY). It must return at once — lib/linger.py's
 * callback starts a task for the handler. The Req stays pinned (linger's
 * callbacks point at it) until it is answered; every request must be
 * answered (the glue answers 500 for a handler that did not).
 *
 * Bodies: read_start() asks linger for the body; pieces are copied into
 * the Req's buffer, and above its high-water mark the body is paused (the
 * client waits in TCP's window) until take() has emptied it to half. With
 * a high-water mark of 0 the whole body is collected (Microdot's
 * req.body).
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "py/objstr.h"

#include "lgmp.h"

#if !defined(LG_NO_SERVER)

typedef struct server_obj {
    lgmp_pinned p;
    lg_server *srv;
    mp_obj_t routes;      /* list of callables; a route's user pointer is its index */
    mp_obj_t waiter;      /* a task waiting for the shutdown to end */
    mp_obj_t server_name; /* kept: linger keeps a pointer to its text */
    uint8_t shutting, done;
} server_obj;

typedef struct req_obj {
    lgmp_pinned p;
    lg_req *req; /* NULL once answered */
    lg_res *res;
    mp_obj_t server;
    mp_obj_t waiter;
    lgmp_buf body;
    size_t high;
    lg_addr peer; /* a copy: client_addr is asked for lazily, maybe after the answer */
    int body_status;
    uint8_t started, ended, paused, answered, drained;
} req_obj;

/* --- the server --- */

static void srv_check(server_obj *s)
{
    if (!s->srv) mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("server closed"));
}

static mp_obj_t server_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
                                const mp_obj_t *args)
{
    enum {
        A_MAX_CONNS, A_RECV_BUFFER, A_MAX_HEADERS, A_DISCARD_BODY, A_HEADER_TIMEOUT,
        A_BODY_TIMEOUT, A_IDLE_TIMEOUT, A_SEND_TIMEOUT, A_MAX_REQUESTS_PER_CONN,
        A_LINGER_TIMEOUT, A_LINGER_MAX_BYTES, A_SCRATCH, A_RESPONSE_HEADERS, A_SERVER_NAME,
        A_NO_DATE, A_FULL_REJECT
    };
    static const mp_arg_t allowed[] = {
        { MP_QSTR_max_conns, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_recv_buffer, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_max_headers, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_discard_body, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_header_timeout, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_body_timeout, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_idle_timeout, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_send_timeout, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_max_requests_per_conn, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_linger_timeout, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_linger_max_bytes, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_scratch, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_response_headers, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_server_name, MP_ARG_KW_ONLY | MP_ARG_OBJ, { .u_rom_obj = MP_ROM_NONE } },
        { MP_QSTR_no_date, MP_ARG_KW_ONLY | MP_ARG_BOOL, { .u_bool = false } },
        { MP_QSTR_full_reject, MP_ARG_KW_ONLY | MP_ARG_BOOL, { .u_bool = false } },
    };
    mp_arg_val_t v[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all_kw_array(n_args, n_kw, args, MP_ARRAY_SIZE(allowed), allowed, v);

    lg_loop *loop = lgmp_loop();
    lg_server_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_conns = (uint32_t)v[A_MAX_CONNS].u_int;
    cfg.recv_buffer_bytes = (uint32_t)v[A_RECV_BUFFER].u_int;
    cfg.max_headers = (uint16_t)v[A_MAX_HEADERS].u_int;
    cfg.discard_body_bytes = (uint32_t)v[A_DISCARD_BODY].u_int;
    cfg.header_timeout_ms = (uint32_t)v[A_HEADER_TIMEOUT].u_int;
    cfg.body_timeout_ms = (uint32_t)v[A_BODY_TIMEOUT].u_int;
    cfg.idle_timeout_ms = (uint32_t)v[A_IDLE_TIMEOUT].u_int;
    cfg.send_timeout_ms = (uint32_t)v[A_SEND_TIMEOUT].u_int;
    cfg.max_requests_per_conn = (uint16_t)v[A_MAX_REQUESTS_PER_CONN].u_int;
    cfg.linger_timeout_ms = (uint32_t)v[A_LINGER_TIMEOUT].u_int;
    cfg.linger_max_bytes = (uint32_t)v[A_LINGER_MAX_BYTES].u_int;
    cfg.scratch_bytes = (uint16_t)v[A_SCRATCH].u_int;
    cfg.response_header_bytes = (uint16_t)v[A_RESPONSE_HEADERS].u_int;
    cfg.no_date = v[A_NO_DATE].u_bool;
    /* Python reads the request through req each time (nothing keeps a
     * slice): a held request can give its receive buffer back. */
    cfg.move_held_heads = 1;
    cfg.full_policy = v[A_FULL_REJECT].u_bool ? LG_FULL_REJECT : LG_FULL_WAIT;

    server_obj *s = mp_obj_malloc(server_obj, type);
    s->srv = NULL;
    s->routes = mp_obj_new_list(0, NULL);
    s->waiter = mp_const_none;
    s->server_name = v[A_SERVER_NAME].u_obj;
    s->shutting = s->done = 0;
    s->p.pinned = 0;
    if (s->server_name != mp_const_none) cfg.server_name = mp_obj_str_get_str(s->server_name);
    s->srv = lg_server_new(loop, &cfg);
    if (!s->srv) mp_raise_ValueError(MP_ERROR_TEXT("linger: cannot make a server (memory, or a bad setting)"));
    lg_server_set_data(s->srv, s);
    lgmp_pin(s); /* linger's callbacks find it through the server's data */
    return MP_OBJ_FROM_PTR(s);
}
LGMP_LOCKED_MAKE_NEW(server_make_new)

static mp_obj_t server_listen(size_t n_args, const mp_obj_t *args)
{
    server_obj *s = MP_OBJ_TO_PTR(args[0]);
    srv_check(s);
    unsigned flags = n_args > 2 && mp_obj_is_true(args[2]) ? LG_LISTEN_REUSEPORT : 0;
    int rc = lg_server_listen(s->srv, mp_obj_str_get_str(args[1]), flags);
    lgmp_kick();
    if (rc) lgmp_raise(rc);
    return MP_OBJ_NEW_SMALL_INT(lg_server_port(s->srv));
}
LGMP_LOCKED_FUN_OBJ_VAR_BETWEEN(server_listen_obj, 2, 3, server_listen);

static void on_request(lg_req *req, lg_res *res, void *user);

/* route(method, pattern, flags, callback) */
static mp_obj_t server_route(size_t n_args, const mp_obj_t *args)
{
    server_obj *s = MP_OBJ_TO_PTR(args[0]);
    srv_check(s);
    (void)n_args;
    size_t idx;
    mp_obj_t *items;
    mp_obj_list_get(s->routes, &idx, &items);
    mp_obj_list_append(s->routes, args[4]);
    int rc = lg_route_ex(s->srv, mp_obj_str_get_str(args[1]), mp_obj_str_get_str(args[2]),
                         (unsigned)mp_obj_get_int(args[3]), on_request, (void *)(uintptr_t)idx);
    if (rc) lgmp_raise(rc);
    return mp_const_none;
}
LGMP_LOCKED_FUN_OBJ_VAR_BETWEEN(server_route_obj, 5, 5, server_route);

static void on_shutdown_done(lg_server *srv, void *user)
{
    (void)srv;
    server_obj *s = user;
    s->done = 1;
    mp_obj_t w = s->waiter;
    s->waiter = mp_const_none;
    lgmp_wake(w);
}

/* shutdown(deadline_ms): stop accepting, let requests in flight finish. */
static mp_obj_t server_shutdown(mp_obj_t self_in, mp_obj_t deadline)
{
    server_obj *s = MP_OBJ_TO_PTR(self_in);
    if (!s->srv || s->shutting) return mp_const_none;
    s->shutting = 1;
    lg_server_shutdown(s->srv, (uint32_t)mp_obj_get_int(deadline), on_shutdown_done, s);
    lgmp_kick();
    return mp_const_none;
}
LGMP_LOCKED_FUN_OBJ_2(server_shutdown_obj, server_shutdown);

/* done(): the shutdown has ended (every connection closed). */
static mp_obj_t server_done(mp_obj_t self_in)
{
    server_obj *s = MP_OBJ_TO_PTR(self_in);
    return mp_obj_new_bool(s->done || !s->srv);
}
static MP_DEFINE_CONST_FUN_OBJ_1(server_done_obj, server_done);

/* free(): after the shutdown has ended. */
static mp_obj_t server_free(mp_obj_t self_in)
{
    server_obj *s = MP_OBJ_TO_PTR(self_in);
    if (!s->srv) return mp_const_none;
    if (!s->done) mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("server still running: shutdown() first"));
    lg_server_free(s->srv);
    s->srv = NULL;
    lgmp_unpin(s);
    return mp_const_none;
}
LGMP_LOCKED_FUN_OBJ_1(server_free_obj, server_free);

static mp_obj_t server_port(mp_obj_t self_in)
{
    server_obj *s = MP_OBJ_TO_PTR(self_in);
    srv_check(s);
    return MP_OBJ_NEW_SMALL_INT(lg_server_port(s->srv));
}
LGMP_LOCKED_FUN_OBJ_1(server_port_obj, server_port);

static mp_obj_t server_stats(mp_obj_t self_in)
{
    server_obj *s = MP_OBJ_TO_PTR(self_in);
    srv_check(s);
    const lg_server_stats *st = lg_server_get_stats(s->srv);
    mp_obj_t d = mp_obj_new_dict(10);
    lgmp_dict_store_int(d, MP_QSTR_requests, st->requests);
    lgmp_dict_store_int(d, MP_QSTR_connections, st->connections);
    lgmp_dict_store_int(d, MP_QSTR_active_connections, st->active_connections);
    lgmp_dict_store_int(d, MP_QSTR_bad_requests, st->bad_requests);
    lgmp_dict_store_int(d, MP_QSTR_rejected_full, st->rejected_full);
    lgmp_dict_store_int(d, MP_QSTR_idle_recycled, st->idle_recycled);
    lgmp_dict_store_int(d, MP_QSTR_timeouts, st->timeouts);
    lgmp_dict_store_int(d, MP_QSTR_bodies_discarded, st->bodies_discarded);
    lgmp_dict_store_int(d, MP_QSTR_closes_for_body, st->closes_for_body);
    return d;
}
LGMP_LOCKED_FUN_OBJ_1(server_stats_obj, server_stats);

/* The waiter protocol (lib/linger.py parks a task on an object):
 * wait(task) remembers it, an event wakes it, remove(task) forgets it (a
 * cancelled task: asyncio calls task.data.remove(task)). */
static mp_obj_t server_wait(mp_obj_t self_in, mp_obj_t task)
{
    server_obj *s = MP_OBJ_TO_PTR(self_in);
    s->waiter = task;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(server_wait_obj, server_wait);

static mp_obj_t server_remove(mp_obj_t self_in, mp_obj_t task)
{
    server_obj *s = MP_OBJ_TO_PTR(self_in);
    if (s->waiter == task) s->waiter = mp_const_none;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(server_remove_obj, server_remove);

static const mp_rom_map_elem_t server_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_listen), MP_ROM_PTR(&server_listen_obj) },
    { MP_ROM_QSTR(MP_QSTR_route), MP_ROM_PTR(&server_route_obj) },
    { MP_ROM_QSTR(MP_QSTR_shutdown), MP_ROM_PTR(&server_shutdown_obj) },
    { MP_ROM_QSTR(MP_QSTR_done), MP_ROM_PTR(&server_done_obj) },
    { MP_ROM_QSTR(MP_QSTR_free), MP_ROM_PTR(&server_free_obj) },
    { MP_ROM_QSTR(MP_QSTR_port), MP_ROM_PTR(&server_port_obj) },
    { MP_ROM_QSTR(MP_QSTR_stats), MP_ROM_PTR(&server_stats_obj) },
    { MP_ROM_QSTR(MP_QSTR_wait), MP_ROM_PTR(&server_wait_obj) },
    { MP_ROM_QSTR(MP_QSTR_remove), MP_ROM_PTR(&server_remove_obj) },
};
static MP_DEFINE_CONST_DICT(server_locals, server_locals_table);

MP_DEFINE_CONST_OBJ_TYPE(
    lgmp_type_server,
    MP_QSTR_Server,
    MP_TYPE_FLAG_NONE,
    make_new, server_make_new_locked,
    locals_dict, &server_locals
    );

/* --- requests --- */

static void on_request(lg_req *req, lg_res *res, void *user)
{
    server_obj *s = lg_req_server_data(req);
    size_t n;
    mp_obj_t *items;
    mp_obj_list_get(s->routes, &n, &items);
    size_t idx = (size_t)(uintptr_t)user;
    req_obj *volatile r = NULL; /* (read after a longjmp) */
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        r = mp_obj_malloc(req_obj, &lgmp_type_req);
        memset((char *)r + sizeof(mp_obj_base_t), 0, sizeof *r - sizeof(mp_obj_base_t));
        r->req = req;
        r->res = res;
        r->server = MP_OBJ_FROM_PTR(s);
        r->waiter = mp_const_none;
        const lg_addr *a = lg_req_peer(req);
        if (a) r->peer = *a;
        lgmp_pin(r);
        nlr_pop();
    } else {
        lgmp_keep_exception(MP_OBJ_FROM_PTR(nlr.ret_val)); /* no memory for the request */
    }
    /* The route's callback, with the lwIP lock let go (lgmp_call1). */
    if (r && lgmp_call1(items[idx], MP_OBJ_FROM_PTR(r)) == 0) return;
    /* No memory for the request (or the glue failed): answer for it. */
    if (!r || !r->answered) {
        lg_res_error(res, 503, "Service Unavailable: out of memory");
        if (r) {
            r->answered = 1;
            r->req = NULL;
            r->res = NULL;
            lgmp_unpin(r);
        }
    }
}

static req_obj *req_live(mp_obj_t self_in)
{
    req_obj *r = MP_OBJ_TO_PTR(self_in);
    if (!r->req) mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("request already answered"));
    return r;
}

static mp_obj_t req_method(mp_obj_t self_in)
{
    return lgmp_text(lg_req_method(req_live(self_in)->req));
}
LGMP_LOCKED_FUN_OBJ_1(req_method_obj, req_method);

static mp_obj_t req_target(mp_obj_t self_in)
{
    return lgmp_text(lg_req_target(req_live(self_in)->req));
}
LGMP_LOCKED_FUN_OBJ_1(req_target_obj, req_target);

static mp_obj_t req_path(mp_obj_t self_in)
{
    return lgmp_text(lg_req_path(req_live(self_in)->req));
}
LGMP_LOCKED_FUN_OBJ_1(req_path_obj, req_path);

static mp_obj_t req_param(mp_obj_t self_in, mp_obj_t name)
{
    return lgmp_text(lg_req_param(req_live(self_in)->req, mp_obj_str_get_str(name)));
}
LGMP_LOCKED_FUN_OBJ_2(req_param_obj, req_param);

static mp_obj_t req_version(mp_obj_t self_in)
{
    return MP_OBJ_NEW_SMALL_INT(lg_req_head(req_live(self_in)->req)->version_minor);
}
LGMP_LOCKED_FUN_OBJ_1(req_version_obj, req_version);

static mp_obj_t req_header(mp_obj_t self_in, mp_obj_t name)
{
    return lgmp_text(lg_req_header(req_live(self_in)->req, mp_obj_str_get_str(name)));
}
LGMP_LOCKED_FUN_OBJ_2(req_header_obj, req_header);

/* Every header field, in order: [(name, value), ...]. */
static mp_obj_t req_headers(mp_obj_t self_in)
{
    const lg_head *h = lg_req_head(req_live(self_in)->req);
    mp_obj_t list = mp_obj_new_list(h->num_headers, NULL);
    mp_obj_list_t *l = MP_OBJ_TO_PTR(list);
    for (uint16_t i = 0; i < h->num_headers; i++) {
        mp_obj_t kv[2] = { lgmp_text(h->headers[i].name), lgmp_text(h->headers[i].value) };
        l->items[i] = mp_obj_new_tuple(2, kv);
    }
    return list;
}
LGMP_LOCKED_FUN_OBJ_1(req_headers_obj, req_headers);

/* The longest line of the head as the client sent it, with its CRLF
 * (Microdot's Request.max_readline). */
static size_t head_max_line(const lg_head *h)
{
    /* "METHOD SP target SP HTTP/1.x CRLF" */
    size_t longest = h->method.len + 1 + h->target.len + 1 + 8 + 2;
    for (uint16_t i = 0; i < h->num_headers; i++) {
        const lg_header *f = &h->headers[i];
        const char *end = f->value.len ? f->value.ptr + f->value.len : f->name.ptr + f->name.len + 1;
        size_t n = (size_t)(end - f->name.ptr) + 2;
        if (n > longest) longest = n;
    }
    return longest;
}

static mp_obj_t req_max_line(mp_obj_t self_in)
{
    return MP_OBJ_NEW_SMALL_INT(head_max_line(lg_req_head(req_live(self_in)->req)));
}
LGMP_LOCKED_FUN_OBJ_1(req_max_line_obj, req_max_line);

static mp_obj_t head_content_length(const lg_head *h)
{
    if (h->framing == LG_FRAMING_CHUNKED) return MP_OBJ_NEW_SMALL_INT(-1);
    if (h->framing != LG_FRAMING_LENGTH) return MP_OBJ_NEW_SMALL_INT(0);
    return mp_obj_new_int_from_ull(h->content_length);
}

/* head(): what Microdot's Request needs, in one call from Python instead
 * of six: (method, target, minor version, content length (-1: chunked),
 * longest line, [(name, value), ...]). The target or the headers are None
 * when some of their text is not UTF-8 (Microdot answers 400 then). */
static mp_obj_t req_head(mp_obj_t self_in)
{
    const lg_head *h = lg_req_head(req_live(self_in)->req);
    mp_obj_t list = mp_obj_new_list(h->num_headers, NULL);
    mp_obj_list_t *l = MP_OBJ_TO_PTR(list);
    for (uint16_t i = 0; i < h->num_headers; i++) {
        mp_obj_t kv[2] = { lgmp_text(h->headers[i].name), lgmp_text(h->headers[i].value) };
        if (!mp_obj_is_str(kv[0]) || !mp_obj_is_str(kv[1])) {
            list = mp_const_none;
            break;
        }
        l->items[i] = mp_obj_new_tuple(2, kv);
    }
    mp_obj_t target = lgmp_text(h->target);
    mp_obj_t t[6] = {
        lgmp_text(h->method), mp_obj_is_str(target) ? target : mp_const_none,
        MP_OBJ_NEW_SMALL_INT(h->version_minor), head_content_length(h),
        MP_OBJ_NEW_SMALL_INT(head_max_line(h)), list,
    };
    return mp_obj_new_tuple(6, t);
}
LGMP_LOCKED_FUN_OBJ_1(req_head_obj, req_head);

/* The body's announced length: n, 0 for none, -1 for a chunked body. */
static mp_obj_t req_content_length(mp_obj_t self_in)
{
    return head_content_length(lg_req_head(req_live(self_in)->req));
}
LGMP_LOCKED_FUN_OBJ_1(req_content_length_obj, req_content_length);

/* (host, port): works after the answer too (a copy taken on arrival). */
static mp_obj_t req_peer(mp_obj_t self_in)
{
    const lg_addr *a = &((req_obj *)MP_OBJ_TO_PTR(self_in))->peer;
    if (!a->family) return mp_const_none;
    char text[64];
    int n = lg_addr_format(a, text, sizeof text);
    if (n < 0) return mp_const_none;
    /* "1.2.3.4:5" or "[::1]:5": the host without brackets, and the port */
    const char *colon = strrchr(text, ':');
    const char *host = text;
    size_t hlen = (size_t)(colon - text);
    if (host[0] == '[') {
        host++;
        hlen -= 2;
    }
    mp_obj_t t[2] = { mp_obj_new_str(host, hlen), MP_OBJ_NEW_SMALL_INT(a->port) };
    return mp_obj_new_tuple(2, t);
}
static MP_DEFINE_CONST_FUN_OBJ_1(req_peer_obj, req_peer);

/* --- the body --- */

static void on_chunk(lg_req *req, int status, const char *data, size_t len, void *user)
{
    req_obj *r = user;
    if (r->answered) return;
    if (status == LG_OK && len) {
        if (lgmp_buf_append(&r->body, data, len) != LG_OK) {
            /* No memory to keep it: the body fails, the handler hears it. */
            r->ended = 1;
            r->body_status = LG_ERR_NOMEM;
            lg_req_pause_body(req);
        } else if (r->high && !r->paused && lgmp_buf_len(&r->body) >= r->high) {
            r->paused = 1;
            lg_req_pause_body(req);
        }
    } else {
        r->ended = 1;
        r->body_status = status;
    }
    mp_obj_t w = r->waiter;
    r->waiter = mp_const_none;
    lgmp_wake(w);
}

/* read_start(limit, high): ask for the body, at most `limit` bytes (0: no
 * limit); pause above `high` buffered bytes (0: collect it all). */
static mp_obj_t req_read_start(mp_obj_t self_in, mp_obj_t limit_in, mp_obj_t high_in)
{
    req_obj *r = req_live(self_in);
    if (r->started) return mp_const_none;
    uint64_t limit = (uint64_t)mp_obj_get_int(limit_in);
    r->high = (size_t)mp_obj_get_int(high_in);
    r->started = 1;
    const lg_head *h = lg_req_head(r->req);
    if (!r->high && h->framing == LG_FRAMING_LENGTH && h->content_length &&
        (!limit || h->content_length <= limit)) {
        /* One allocation for a body whose size is known. */
        if (lgmp_buf_reserve(&r->body, (size_t)h->content_length)) mp_raise_type(&mp_type_MemoryError);
    }
    int rc = lg_req_read_body(r->req, limit, on_chunk, r);
    if (rc) {
        r->ended = 1;
        r->body_status = rc;
    }
    lgmp_kick();
    return mp_const_none;
}
LGMP_LOCKED_FUN_OBJ_3(req_read_start_obj, req_read_start);

/* take(n): up to n buffered body bytes (n < 0: all of them); None when
 * none are there yet; b"" at the end; OSError when the body failed (after
 * the bytes that came before). */
static mp_obj_t req_take(mp_obj_t self_in, mp_obj_t n_in)
{
    req_obj *r = MP_OBJ_TO_PTR(self_in);
    if (lgmp_buf_len(&r->body)) {
        mp_obj_t out = lgmp_buf_take(&r->body, mp_obj_get_int(n_in));
        if (r->paused && r->req && lgmp_buf_len(&r->body) <= r->high / 2) {
            r->paused = 0;
            lg_req_resume_body(r->req);
            lgmp_kick();
        }
        return out;
    }
    if (r->ended || r->answered) {
        if (r->ended && r->body_status != LG_OK) lgmp_raise(r->body_status);
        return mp_const_empty_bytes;
    }
    if (!r->started) mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("read_start() first"));
    return mp_const_none;
}
LGMP_LOCKED_FUN_OBJ_2(req_take_obj, req_take);

/* The body has all come (or failed): take() will not say None again. */
static mp_obj_t req_body_done(mp_obj_t self_in)
{
    req_obj *r = MP_OBJ_TO_PTR(self_in);
    return mp_obj_new_bool(r->ended || r->answered);
}
static MP_DEFINE_CONST_FUN_OBJ_1(req_body_done_obj, req_body_done);

static mp_obj_t req_wait(mp_obj_t self_in, mp_obj_t task)
{
    req_obj *r = MP_OBJ_TO_PTR(self_in);
    r->waiter = task;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(req_wait_obj, req_wait);

static mp_obj_t req_remove(mp_obj_t self_in, mp_obj_t task)
{
    req_obj *r = MP_OBJ_TO_PTR(self_in);
    if (r->waiter == task) r->waiter = mp_const_none;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(req_remove_obj, req_remove);

/* --- the answer --- */

/* After any answer call: linger calls back no more. */
static void answered(req_obj *r)
{
    r->answered = 1;
    r->req = NULL;
    r->res = NULL;
    lgmp_buf_free(&r->body);
    mp_obj_t w = r->waiter;
    r->waiter = mp_const_none;
    lgmp_unpin(r);
    lgmp_wake(w);
}

static mp_obj_t req_add_header(mp_obj_t self_in, mp_obj_t name, mp_obj_t value)
{
    req_obj *r = req_live(self_in);
    return MP_OBJ_NEW_SMALL_INT(lg_res_header(r->res, mp_obj_str_get_str(name), mp_obj_str_get_str(value)));
}
LGMP_LOCKED_FUN_OBJ_3(req_add_header_obj, req_add_header);

/* send(status, body[, content_type]): the whole answer (the body copied
 * where the network does not take it at once; a str is sent as its
 * UTF-8). The content type, when given, saves a call from Python for the
 * commonest answer. Returns 0 or an lg_err; answered either way. */
static mp_obj_t req_send(size_t n_args, const mp_obj_t *args)
{
    req_obj *r = req_live(args[0]);
    mp_buffer_info_t b = { 0 };
    if (args[2] != mp_const_none) mp_get_buffer_raise(args[2], &b, MP_BUFFER_READ);
    int rc = LG_OK;
    if (n_args > 3) rc = lg_res_header(r->res, "Content-Type", mp_obj_str_get_str(args[3]));
    if (rc == LG_OK) rc = lg_res_send(r->res, mp_obj_get_int(args[1]), b.buf, b.len);
    else lg_res_error(r->res, 500, "Internal Server Error");
    answered(r);
    lgmp_kick();
    return MP_OBJ_NEW_SMALL_INT(rc);
}
LGMP_LOCKED_FUN_OBJ_VAR_BETWEEN(req_send_obj, 3, 4, req_send);

static mp_obj_t req_error(mp_obj_t self_in, mp_obj_t status, mp_obj_t msg)
{
    req_obj *r = req_live(self_in);
    int rc = lg_res_error(r->res, mp_obj_get_int(status), mp_obj_str_get_str(msg));
    answered(r);
    lgmp_kick();
    return MP_OBJ_NEW_SMALL_INT(rc);
}
LGMP_LOCKED_FUN_OBJ_3(req_error_obj, req_error);

static void on_drain(lg_res *res, void *user)
{
    (void)res;
    req_obj *r = user;
    if (r->answered) return;
    r->drained = 1;
    mp_obj_t w = r->waiter;
    r->waiter = mp_const_none;
    lgmp_wake(w);
}

/* start(status): a streamed answer's head (chunked unless a Content-Length
 * was added). 0, or an lg_err (then answered). */
static mp_obj_t req_start(mp_obj_t self_in, mp_obj_t status)
{
    req_obj *r = req_live(self_in);
    lg_res_on_drain(r->res, on_drain, r);
    int rc = lg_res_start(r->res, mp_obj_get_int(status));
    if (rc) answered(r);
    lgmp_kick();
    return MP_OBJ_NEW_SMALL_INT(rc);
}
LGMP_LOCKED_FUN_OBJ_2(req_start_obj, req_start);

/* write(data): 0; ERR_LIMIT (nothing written: wait for the drain, then
 * again); ERR_TOO_LARGE for a piece the queue can never hold (the glue
 * writes 16 KiB at most); another lg_err once the answer cannot be
 * completed (the client is gone: stop, and end()). */
static mp_obj_t req_write(mp_obj_t self_in, mp_obj_t data)
{
    req_obj *r = MP_OBJ_TO_PTR(self_in);
    if (!r->res) return MP_OBJ_NEW_SMALL_INT(LG_ERR_CLOSED);
    mp_buffer_info_t b;
    mp_get_buffer_raise(data, &b, MP_BUFFER_READ);
    r->drained = 0;
    int rc = lg_res_write(r->res, b.buf, b.len);
    lgmp_kick();
    return MP_OBJ_NEW_SMALL_INT(rc);
}
LGMP_LOCKED_FUN_OBJ_2(req_write_obj, req_write);

/* The queue has room again (or the client left) since the last write. */
static mp_obj_t req_drained(mp_obj_t self_in)
{
    req_obj *r = MP_OBJ_TO_PTR(self_in);
    return mp_obj_new_bool(r->drained || !r->res);
}
static MP_DEFINE_CONST_FUN_OBJ_1(req_drained_obj, req_drained);

static mp_obj_t req_end(mp_obj_t self_in)
{
    req_obj *r = req_live(self_in);
    int rc = lg_res_end(r->res);
    answered(r);
    lgmp_kick();
    return MP_OBJ_NEW_SMALL_INT(rc);
}
LGMP_LOCKED_FUN_OBJ_1(req_end_obj, req_end);

static mp_obj_t req_abandon(mp_obj_t self_in)
{
    req_obj *r = req_live(self_in);
    int rc = lg_res_abandon(r->res);
    answered(r);
    lgmp_kick();
    return MP_OBJ_NEW_SMALL_INT(rc);
}
LGMP_LOCKED_FUN_OBJ_1(req_abandon_obj, req_abandon);

static mp_obj_t req_answered(mp_obj_t self_in)
{
    req_obj *r = MP_OBJ_TO_PTR(self_in);
    return mp_obj_new_bool(r->answered);
}
static MP_DEFINE_CONST_FUN_OBJ_1(req_answered_obj, req_answered);

static const mp_rom_map_elem_t req_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_method), MP_ROM_PTR(&req_method_obj) },
    { MP_ROM_QSTR(MP_QSTR_target), MP_ROM_PTR(&req_target_obj) },
    { MP_ROM_QSTR(MP_QSTR_path), MP_ROM_PTR(&req_path_obj) },
    { MP_ROM_QSTR(MP_QSTR_param), MP_ROM_PTR(&req_param_obj) },
    { MP_ROM_QSTR(MP_QSTR_version), MP_ROM_PTR(&req_version_obj) },
    { MP_ROM_QSTR(MP_QSTR_header), MP_ROM_PTR(&req_header_obj) },
    { MP_ROM_QSTR(MP_QSTR_headers), MP_ROM_PTR(&req_headers_obj) },
    { MP_ROM_QSTR(MP_QSTR_max_line), MP_ROM_PTR(&req_max_line_obj) },
    { MP_ROM_QSTR(MP_QSTR_head), MP_ROM_PTR(&req_head_obj) },
    { MP_ROM_QSTR(MP_QSTR_content_length), MP_ROM_PTR(&req_content_length_obj) },
    { MP_ROM_QSTR(MP_QSTR_peer), MP_ROM_PTR(&req_peer_obj) },
    { MP_ROM_QSTR(MP_QSTR_read_start), MP_ROM_PTR(&req_read_start_obj) },
    { MP_ROM_QSTR(MP_QSTR_take), MP_ROM_PTR(&req_take_obj) },
    { MP_ROM_QSTR(MP_QSTR_body_done), MP_ROM_PTR(&req_body_done_obj) },
    { MP_ROM_QSTR(MP_QSTR_wait), MP_ROM_PTR(&req_wait_obj) },
    { MP_ROM_QSTR(MP_QSTR_remove), MP_ROM_PTR(&req_remove_obj) },
    { MP_ROM_QSTR(MP_QSTR_add_header), MP_ROM_PTR(&req_add_header_obj) },
    { MP_ROM_QSTR(MP_QSTR_send), MP_ROM_PTR(&req_send_obj) },
    { MP_ROM_QSTR(MP_QSTR_error), MP_ROM_PTR(&req_error_obj) },
    { MP_ROM_QSTR(MP_QSTR_start), MP_ROM_PTR(&req_start_obj) },
    { MP_ROM_QSTR(MP_QSTR_write), MP_ROM_PTR(&req_write_obj) },
    { MP_ROM_QSTR(MP_QSTR_drained), MP_ROM_PTR(&req_drained_obj) },
    { MP_ROM_QSTR(MP_QSTR_end), MP_ROM_PTR(&req_end_obj) },
    { MP_ROM_QSTR(MP_QSTR_abandon), MP_ROM_PTR(&req_abandon_obj) },
    { MP_ROM_QSTR(MP_QSTR_answered), MP_ROM_PTR(&req_answered_obj) },
};
static MP_DEFINE_CONST_DICT(req_locals, req_locals_table);

MP_DEFINE_CONST_OBJ_TYPE(
    lgmp_type_req,
    MP_QSTR_Req,
    MP_TYPE_FLAG_NONE,
    locals_dict, &req_locals
    );

#endif /* !LG_NO_SERVER */
