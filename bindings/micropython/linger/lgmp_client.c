/*
 * _linger.Client and _linger.Call: linger's client for MicroPython.
 *
 * fetch() starts a request and returns its Call. The head is copied into
 * Python objects when it arrives (on_head); the body is streamed into the
 * Call's buffer (on_body) and paused above its high-water mark until
 * take() has emptied it to half — or, with a high-water mark of 0, all
 * collected (aiohttp's read()). Whether the answer is complete is linger's
 * decision, by its framing (rule 1): a server that resets after a whole
 * answer has answered, and a body cut short is an error, never a shorter
 * success.
 *
 * A Call is pinned while linger's callbacks may run; the request body (a
 * bytes object) is kept with it, since linger sends it from where it is.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "py/objstr.h"

#include "lgmp.h"

#if !defined(LG_NO_CLIENT)

/* What a released answer may still bring before its connection is given
 * up (gracefully): left-overs within this are read and dropped, and the
 * connection is kept. */
#define DISCARD_BUDGET (64u * 1024u)

typedef struct client_obj {
    mp_obj_base_t base;
    lg_client *cli;
    mp_obj_t user_agent; /* linger keeps a pointer to its text */
} client_obj;

typedef struct call_obj {
    lgmp_pinned p;
    lg_call *call; /* NULL once complete */
    mp_obj_t body; /* the request body, referenced by linger until the end */
    mp_obj_t waiter;
    mp_obj_t headers, reason, url;
    lgmp_buf buf;
    size_t high;
    uint64_t limit, received, discarded, content_length;
    int err;
    uint16_t status;
    uint8_t version_minor, stage, ending, rflags, framing;
    uint8_t head_done, done, paused, discard;
} call_obj;

static void wake_call(call_obj *c)
{
    mp_obj_t w = c->waiter;
    c->waiter = mp_const_none;
    lgmp_wake(w);
}

/* --- the client --- */

static mp_obj_t client_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
                                const mp_obj_t *args)
{
    enum {
        A_MAX_CONNS, A_IDLE_TIMEOUT, A_CONNECT_TIMEOUT, A_READ_TIMEOUT, A_TIMEOUT,
        A_EXPECT_TIMEOUT, A_CLOSE_TIMEOUT, A_CLOSE_MAX_BYTES, A_RECV_BUFFER, A_MAX_HEAD,
        A_MAX_HEADERS, A_NO_KEEP_ALIVE, A_USER_AGENT
    };
    static const mp_arg_t allowed[] = {
        { MP_QSTR_max_conns_per_origin, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_idle_timeout, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_connect_timeout, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_read_timeout, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_timeout, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_expect_timeout, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_close_timeout, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_close_max_bytes, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_recv_buffer, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_max_head, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_max_headers, MP_ARG_KW_ONLY | MP_ARG_INT, { .u_int = 0 } },
        { MP_QSTR_no_keep_alive, MP_ARG_KW_ONLY | MP_ARG_BOOL, { .u_bool = false } },
        { MP_QSTR_user_agent, MP_ARG_KW_ONLY | MP_ARG_OBJ, { .u_rom_obj = MP_ROM_NONE } },
    };
    mp_arg_val_t v[MP_ARRAY_SIZE(allowed)];
    mp_arg_parse_all_kw_array(n_args, n_kw, args, MP_ARRAY_SIZE(allowed), allowed, v);

    lg_loop *loop = lgmp_loop();
    lg_client_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_conns_per_origin = (uint32_t)v[A_MAX_CONNS].u_int;
    cfg.idle_timeout_ms = (uint32_t)v[A_IDLE_TIMEOUT].u_int;
    cfg.connect_timeout_ms = (uint32_t)v[A_CONNECT_TIMEOUT].u_int;
    cfg.read_timeout_ms = (uint32_t)v[A_READ_TIMEOUT].u_int;
    cfg.timeout_ms = (uint32_t)v[A_TIMEOUT].u_int;
    cfg.expect_timeout_ms = (uint32_t)v[A_EXPECT_TIMEOUT].u_int;
    cfg.close_timeout_ms = (uint32_t)v[A_CLOSE_TIMEOUT].u_int;
    cfg.close_max_bytes = (uint32_t)v[A_CLOSE_MAX_BYTES].u_int;
    cfg.recv_buffer_bytes = (uint32_t)v[A_RECV_BUFFER].u_int;
    cfg.max_head_bytes = (uint32_t)v[A_MAX_HEAD].u_int;
    cfg.max_headers = (uint16_t)v[A_MAX_HEADERS].u_int;
    cfg.no_keep_alive = v[A_NO_KEEP_ALIVE].u_bool;
    /* Redirects are the glue's: it resolves host names (linger's own lookup
     * needs a thread, which this build has not). */
    cfg.max_redirects = 0;

    client_obj *c = mp_obj_malloc(client_obj, type);
    c->cli = NULL;
    c->user_agent = v[A_USER_AGENT].u_obj;
    if (c->user_agent != mp_const_none) cfg.user_agent = mp_obj_str_get_str(c->user_agent);
    c->cli = lg_client_new(loop, &cfg);
    if (!c->cli) lgmp_raise(LG_ERR_NOMEM);
    return MP_OBJ_FROM_PTR(c);
}
LGMP_LOCKED_MAKE_NEW(client_make_new)

static void on_head(lg_response *res, void *user);
static int on_body(lg_response *res, lg_str chunk, void *user);
static void on_done(lg_response *res, void *user);

/* fetch(method, url, headers, body, flags, timeout_ms, max_body, high)
 * headers: a list of (name, value) str pairs, or None; body: bytes or
 * None. Returns a Call. */
static mp_obj_t client_fetch(size_t n_args, const mp_obj_t *args)
{
    (void)n_args;
    client_obj *cl = MP_OBJ_TO_PTR(args[0]);
    if (!cl->cli) mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("client closed"));
    lg_request rq;
    memset(&rq, 0, sizeof rq);
    rq.method = args[1] == mp_const_none ? NULL : mp_obj_str_get_str(args[1]);
    rq.url = mp_obj_str_get_str(args[2]);

    size_t nh = 0;
    mp_obj_t *hitems = NULL;
    if (args[3] != mp_const_none) mp_obj_get_array(args[3], &nh, &hitems);
    lg_header *hv = nh ? m_new(lg_header, nh) : NULL;
    for (size_t i = 0; i < nh; i++) {
        mp_obj_t *kv;
        mp_obj_get_array_fixed_n(hitems[i], 2, &kv);
        size_t len;
        hv[i].name.ptr = mp_obj_str_get_data(kv[0], &len);
        hv[i].name.len = len;
        hv[i].value.ptr = mp_obj_str_get_data(kv[1], &len);
        hv[i].value.len = len;
    }
    rq.headers = hv;
    rq.num_headers = nh;

    mp_obj_t body = args[4];
    if (body != mp_const_none) {
        /* linger sends the body from where it is: it must not move or
         * change, so anything but bytes is copied into bytes. */
        if (!mp_obj_is_type(body, &mp_type_bytes)) {
            mp_buffer_info_t b;
            mp_get_buffer_raise(body, &b, MP_BUFFER_READ);
            body = mp_obj_new_bytes(b.buf, b.len);
        }
        mp_buffer_info_t b;
        mp_get_buffer_raise(body, &b, MP_BUFFER_READ);
        rq.body = b.buf;
        rq.body_len = b.len;
    }
    rq.flags = (uint32_t)mp_obj_get_int(args[5]) | LG_FETCH_NO_REDIRECTS;
    rq.timeout_ms = (uint32_t)mp_obj_get_int(args[6]);
    rq.on_head = on_head;
    rq.on_body = on_body;

    call_obj *c = mp_obj_malloc(call_obj, &lgmp_type_call);
    memset((char *)c + sizeof(mp_obj_base_t), 0, sizeof *c - sizeof(mp_obj_base_t));
    c->body = body;
    c->waiter = mp_const_none;
    c->headers = mp_const_none;
    c->reason = mp_const_none;
    c->url = args[2];
    c->limit = (uint64_t)mp_obj_get_int(args[7]);
    c->high = (size_t)mp_obj_get_int(args[8]);
    lgmp_pin(c);
    c->call = lg_fetch(cl->cli, &rq, on_done, c);
    if (hv) m_del(lg_header, hv, nh);
    lgmp_kick();
    if (!c->call) {
        lgmp_unpin(c);
        mp_raise_type(&mp_type_MemoryError);
    }
    return MP_OBJ_FROM_PTR(c);
}
LGMP_LOCKED_FUN_OBJ_VAR_BETWEEN(client_fetch_obj, 9, 9, client_fetch);

/* Close the kept-alive connections (gracefully) and cancel what is in
 * flight; the memory goes once the last connection has closed. */
static mp_obj_t client_close(mp_obj_t self_in)
{
    client_obj *c = MP_OBJ_TO_PTR(self_in);
    if (c->cli) lg_client_free(c->cli);
    c->cli = NULL;
    lgmp_kick();
    return mp_const_none;
}
LGMP_LOCKED_FUN_OBJ_1(client_close_obj, client_close);

static mp_obj_t client_stats(mp_obj_t self_in)
{
    client_obj *c = MP_OBJ_TO_PTR(self_in);
    if (!c->cli) mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("client closed"));
    const lg_client_stats *s = lg_client_get_stats(c->cli);
    mp_obj_t d = mp_obj_new_dict(6);
    lgmp_dict_store_int(d, MP_QSTR_requests, s->requests);
    lgmp_dict_store_int(d, MP_QSTR_connects, s->connects);
    lgmp_dict_store_int(d, MP_QSTR_reuses, s->reuses);
    lgmp_dict_store_int(d, MP_QSTR_retries, s->retries);
    lgmp_dict_store_int(d, MP_QSTR_redirects, s->redirects);
    lgmp_dict_store_int(d, MP_QSTR_idle_closes, s->idle_closes);
    return d;
}
LGMP_LOCKED_FUN_OBJ_1(client_stats_obj, client_stats);

static const mp_rom_map_elem_t client_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_fetch), MP_ROM_PTR(&client_fetch_obj) },
    { MP_ROM_QSTR(MP_QSTR_close), MP_ROM_PTR(&client_close_obj) },
    { MP_ROM_QSTR(MP_QSTR_stats), MP_ROM_PTR(&client_stats_obj) },
};
static MP_DEFINE_CONST_DICT(client_locals, client_locals_table);

MP_DEFINE_CONST_OBJ_TYPE(
    lgmp_type_client,
    MP_QSTR_Client,
    MP_TYPE_FLAG_NONE,
    make_new, client_make_new_locked,
    locals_dict, &client_locals
    );

/* --- a call --- */

static void copy_head(call_obj *c, lg_response *res)
{
    c->status = res->status;
    c->version_minor = res->version_minor;
    c->framing = res->framing;
    c->content_length = res->content_length;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        const lg_head *h = &res->head;
        mp_obj_t list = mp_obj_new_list(h->num_headers, NULL);
        mp_obj_list_t *l = MP_OBJ_TO_PTR(list);
        for (uint16_t i = 0; i < h->num_headers; i++) {
            mp_obj_t kv[2] = { lgmp_text(h->headers[i].name), lgmp_text(h->headers[i].value) };
            l->items[i] = mp_obj_new_tuple(2, kv);
        }
        c->headers = list;
        c->reason = lgmp_text(res->reason);
        nlr_pop();
    } else {
        lgmp_keep_exception(MP_OBJ_FROM_PTR(nlr.ret_val));
        c->headers = mp_const_none;
        c->err = LG_ERR_NOMEM;
    }
    c->head_done = 1;
}

static void on_head(lg_response *res, void *user)
{
    call_obj *c = user;
    copy_head(c, res);
    if (!c->high && c->framing == LG_FRAMING_LENGTH && c->content_length &&
        (!c->limit || c->content_length <= c->limit))
        lgmp_buf_reserve(&c->buf, (size_t)c->content_length); /* one allocation; not fatal */
    wake_call(c);
}

static int on_body(lg_response *res, lg_str chunk, void *user)
{
    (void)res;
    call_obj *c = user;
    if (c->discard) {
        /* Released before its end: read a little more and drop it (the
         * connection lives on), or give up on it, gracefully. */
        c->discarded += chunk.len;
        return c->discarded > DISCARD_BUDGET ? LG_ERR_CANCELLED : 0;
    }
    if (c->err) return c->err; /* no memory for the head */
    if (c->high && lgmp_buf_len(&c->buf) >= c->high) {
        c->paused = 1;
        return LG_ERR_AGAIN; /* the same bytes again after lg_call_resume */
    }
    if (c->limit && c->received + chunk.len > c->limit) return LG_ERR_TOO_LARGE;
    if (lgmp_buf_append(&c->buf, chunk.ptr, chunk.len) != LG_OK) return LG_ERR_NOMEM;
    c->received += chunk.len;
    wake_call(c);
    return 0;
}

static void on_done(lg_response *res, void *user)
{
    call_obj *c = user;
    if (!c->head_done && res->status) copy_head(c, res);
    if (!c->err || res->err) c->err = res->err;
    c->stage = res->stage;
    c->ending = res->ending;
    c->rflags = res->flags;
    c->done = 1;
    c->paused = 0;
    c->call = NULL;
    c->body = mp_const_none;
    lgmp_unpin(c);
    wake_call(c);
}

/* take(n): up to n body bytes (n < 0: all buffered); None while none are
 * there yet; b"" at the end of a complete body; after the bytes that came,
 * OSError when the answer failed. */
static mp_obj_t call_take(mp_obj_t self_in, mp_obj_t n_in)
{
    call_obj *c = MP_OBJ_TO_PTR(self_in);
    if (lgmp_buf_len(&c->buf)) {
        mp_obj_t out = lgmp_buf_take(&c->buf, mp_obj_get_int(n_in));
        if (c->paused && c->call && lgmp_buf_len(&c->buf) <= c->high / 2) {
            c->paused = 0;
            lg_call_resume(c->call);
            lgmp_kick();
        }
        return out;
    }
    if (c->done) {
        if (c->err && !c->discard) lgmp_raise(c->err);
        return mp_const_empty_bytes;
    }
    return mp_const_none;
}
LGMP_LOCKED_FUN_OBJ_2(call_take_obj, call_take);

/* Collect the rest of the body without pausing (read() wants it all). */
static mp_obj_t call_collect(mp_obj_t self_in)
{
    call_obj *c = MP_OBJ_TO_PTR(self_in);
    c->high = 0;
    if (c->head_done && c->framing == LG_FRAMING_LENGTH && (!c->limit || c->content_length <= c->limit))
        lgmp_buf_reserve(&c->buf, (size_t)(c->content_length - c->received + lgmp_buf_len(&c->buf)));
    if (c->paused && c->call) {
        c->paused = 0;
        lg_call_resume(c->call);
        lgmp_kick();
    }
    return mp_const_none;
}
LGMP_LOCKED_FUN_OBJ_1(call_collect_obj, call_collect);

/* The application is done with the answer before its end: what is left
 * is read and dropped (within a budget), never reset. */
static mp_obj_t call_release(mp_obj_t self_in)
{
    call_obj *c = MP_OBJ_TO_PTR(self_in);
    lgmp_buf_free(&c->buf);
    if (c->done) return mp_const_none;
    c->discard = 1;
    if (c->paused && c->call) {
        c->paused = 0;
        lg_call_resume(c->call);
        lgmp_kick();
    }
    return mp_const_none;
}
LGMP_LOCKED_FUN_OBJ_1(call_release_obj, call_release);

/* Cancel at once: the connection is reset (lg_call_cancel). */
static mp_obj_t call_cancel(mp_obj_t self_in)
{
    call_obj *c = MP_OBJ_TO_PTR(self_in);
    if (c->call) lg_call_cancel(c->call);
    lgmp_kick();
    return mp_const_none;
}
LGMP_LOCKED_FUN_OBJ_1(call_cancel_obj, call_cancel);

static mp_obj_t call_wait(mp_obj_t self_in, mp_obj_t task)
{
    call_obj *c = MP_OBJ_TO_PTR(self_in);
    c->waiter = task;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(call_wait_obj, call_wait);

static mp_obj_t call_remove(mp_obj_t self_in, mp_obj_t task)
{
    call_obj *c = MP_OBJ_TO_PTR(self_in);
    if (c->waiter == task) c->waiter = mp_const_none;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(call_remove_obj, call_remove);

static void call_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest)
{
    call_obj *c = MP_OBJ_TO_PTR(self_in);
    if (dest[0] != MP_OBJ_NULL) return; /* read-only */
    switch (attr) {
    case MP_QSTR_head_done: dest[0] = mp_obj_new_bool(c->head_done); break;
    case MP_QSTR_done: dest[0] = mp_obj_new_bool(c->done); break;
    case MP_QSTR_status: dest[0] = MP_OBJ_NEW_SMALL_INT(c->status); break;
    case MP_QSTR_reason: dest[0] = c->reason; break;
    case MP_QSTR_version: dest[0] = MP_OBJ_NEW_SMALL_INT(c->version_minor); break;
    case MP_QSTR_headers: dest[0] = c->headers; break;
    case MP_QSTR_err: dest[0] = MP_OBJ_NEW_SMALL_INT(c->err); break;
    case MP_QSTR_stage: dest[0] = MP_OBJ_NEW_SMALL_INT(c->stage); break;
    case MP_QSTR_ending: dest[0] = MP_OBJ_NEW_SMALL_INT(c->ending); break;
    case MP_QSTR_flags: dest[0] = MP_OBJ_NEW_SMALL_INT(c->rflags); break;
    case MP_QSTR_url: dest[0] = c->url; break;
    case MP_QSTR_received: dest[0] = mp_obj_new_int_from_ull(c->received); break;
    case MP_QSTR_content_length:
        dest[0] = c->framing == LG_FRAMING_LENGTH ? mp_obj_new_int_from_ull(c->content_length)
                                                  : mp_const_none;
        break;
    case MP_QSTR_chunked: dest[0] = mp_obj_new_bool(c->framing == LG_FRAMING_CHUNKED); break;
    default: dest[1] = MP_OBJ_SENTINEL; break; /* look in locals_dict */
    }
}

static const mp_rom_map_elem_t call_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_take), MP_ROM_PTR(&call_take_obj) },
    { MP_ROM_QSTR(MP_QSTR_collect), MP_ROM_PTR(&call_collect_obj) },
    { MP_ROM_QSTR(MP_QSTR_release), MP_ROM_PTR(&call_release_obj) },
    { MP_ROM_QSTR(MP_QSTR_cancel), MP_ROM_PTR(&call_cancel_obj) },
    { MP_ROM_QSTR(MP_QSTR_wait), MP_ROM_PTR(&call_wait_obj) },
    { MP_ROM_QSTR(MP_QSTR_remove), MP_ROM_PTR(&call_remove_obj) },
};
static MP_DEFINE_CONST_DICT(call_locals, call_locals_table);

MP_DEFINE_CONST_OBJ_TYPE(
    lgmp_type_call,
    MP_QSTR_Call,
    MP_TYPE_FLAG_NONE,
    attr, call_attr,
    locals_dict, &call_locals
    );

#endif /* !LG_NO_CLIENT */
