/*
 * _linger: linger's server and client for MicroPython — the module, its
 * memory, and the loop. The asyncio side (the task that drives the loop,
 * the awaitables) is lib/linger.py; lgmp_server.c and lgmp_client.c hold
 * the server's and the client's types. docs/micropython.md says why it is
 * built this way.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "py/gc.h"
#include "py/mperrno.h"
#include "py/mphal.h"
#include "py/objstr.h"
#include "py/stream.h"
#include "py/unicode.h"

#include "lgmp.h"

MP_REGISTER_ROOT_POINTER(struct lgmp_state *lgmp_state);

lgmp_state *lgmp_get(void)
{
    return MP_STATE_VM(lgmp_state);
}

/* --- memory: MicroPython's heap, every block chained from the root ---
 *
 * MicroPython's collector is conservative but only recognises pointers to
 * the first block of an allocation; linger keeps pointers into the middle
 * of its structures (handles embedded in a connection, slices into a
 * buffer) and links free buffers through their own bytes. So nothing that
 * linger holds is left to be found: every block carries a header that puts
 * it on one list, and the list hangs from a root pointer. The collector
 * scans the blocks (they are ordinary heap memory), so the Python objects
 * linger's structures point at stay alive too. Allocation never raises:
 * linger gets NULL and answers LG_ERR_NOMEM. */

static void *mp_alloc_hook(size_t size, void *user)
{
    lgmp_state *st = user;
    lgmp_block *b = m_malloc_maybe(sizeof *b + size);
    if (!b) {
        st->failed++;
        return NULL;
    }
    b->prev = NULL;
    b->next = st->blocks;
    if (st->blocks) st->blocks->prev = b;
    st->blocks = b;
    st->bytes += size;
    if (st->bytes > st->peak_bytes) st->peak_bytes = st->bytes;
    st->nblocks++;
    st->allocs++;
    return b + 1;
}

static void mp_free_hook(void *ptr, size_t size, void *user)
{
    lgmp_state *st = user;
    lgmp_block *b = (lgmp_block *)ptr - 1;
    if (b->prev) b->prev->next = b->next;
    else st->blocks = b->next;
    if (b->next) b->next->prev = b->prev;
    st->bytes -= size;
    st->nblocks--;
    st->frees++;
#if MICROPY_MALLOC_USES_ALLOCATED_SIZE
    m_free(b, sizeof *b + size);
#else
    m_free(b);
#endif
}

typedef struct loop_obj {
    mp_obj_base_t base;
} loop_obj;

static lgmp_state *state_get_or_make(void)
{
    lgmp_state *st = MP_STATE_VM(lgmp_state);
    if (st) return st;
    st = m_new0(lgmp_state, 1);
    st->wake = mp_const_none;
    st->pending_exc = MP_OBJ_NULL;
    /* The Loop object, made now with a finaliser: the soft reset's sweep
     * calls it (loop_del), the one hook MicroPython gives a module on
     * every port. It is reachable from the root until then. */
    st->loop_obj = MP_OBJ_FROM_PTR(mp_obj_malloc_with_finaliser(loop_obj, &lgmp_type_loop));
    MP_STATE_VM(lgmp_state) = st;
    /* Every allocation of linger's from now on comes from this heap. */
    static lg_allocator a;
    a.alloc = mp_alloc_hook;
    a.free = mp_free_hook;
    a.user = st;
    lg_set_allocator(&a);
    return st;
}

/* --- pinned objects --- */

void lgmp_pin(void *obj)
{
    lgmp_pinned *p = obj;
    lgmp_state *st = lgmp_get();
    if (p->pinned) return;
    p->pinned = 1;
    p->pin_prev = NULL;
    p->pin_next = st->pins;
    if (st->pins) st->pins->pin_prev = p;
    st->pins = p;
}

void lgmp_unpin(void *obj)
{
    lgmp_pinned *p = obj;
    lgmp_state *st = lgmp_get();
    if (!p->pinned) return;
    p->pinned = 0;
    if (p->pin_prev) p->pin_prev->pin_next = p->pin_next;
    else st->pins = p->pin_next;
    if (p->pin_next) p->pin_next->pin_prev = p->pin_prev;
    p->pin_prev = p->pin_next = NULL;
}

/* --- calling Python from linger's callbacks --- */

void lgmp_keep_exception(mp_obj_t exc)
{
    lgmp_state *st = lgmp_get();
    /* An interrupt or an exit stops the program: the loop's turn raises it
     * again. Anything else is the glue's bug: say so, and go on serving. */
    if (mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(exc)),
                                MP_OBJ_FROM_PTR(&mp_type_KeyboardInterrupt)) ||
        mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(exc)),
                                MP_OBJ_FROM_PTR(&mp_type_SystemExit))) {
        if (st->pending_exc == MP_OBJ_NULL) st->pending_exc = exc;
        return;
    }
    mp_printf(MICROPY_ERROR_PRINTER, "linger: exception in a callback:\n");
    mp_obj_print_exception(MICROPY_ERROR_PRINTER, exc);
}

/* (lgmp_call1, which lets the lwIP lock go for Python, is lgmp_lock.c's) */

void lgmp_wake(mp_obj_t task)
{
    lgmp_state *st = lgmp_get();
    if (task == MP_OBJ_NULL || task == mp_const_none || st->wake == mp_const_none) return;
    lgmp_call1(st->wake, task);
}

/* --- errors and strings --- */

MP_NORETURN void lgmp_raise(int err)
{
    int e;
    switch (err) {
    case LG_ERR_RESET: e = MP_ECONNRESET; break;
    case LG_ERR_PIPE: e = MP_EPIPE; break;
    case LG_ERR_TIMEOUT: e = MP_ETIMEDOUT; break;
    case LG_ERR_REFUSED: e = MP_ECONNREFUSED; break;
    case LG_ERR_UNREACHABLE: e = MP_EHOSTUNREACH; break;
    case LG_ERR_ADDR_IN_USE: e = MP_EADDRINUSE; break;
    case LG_ERR_ADDR_INVALID:
    case LG_ERR_INVALID_ARG: e = MP_EINVAL; break;
    case LG_ERR_NOMEM: mp_raise_type(&mp_type_MemoryError);
    default: e = err; break;
    }
    mp_obj_t args[2] = { MP_OBJ_NEW_SMALL_INT(e), mp_obj_new_str_from_cstr(lg_strerror(err)) };
    nlr_raise(mp_obj_exception_make_new(&mp_type_OSError, 2, 0, args));
}

mp_obj_t lgmp_text(lg_str s)
{
    if (!s.ptr) return mp_const_none;
    for (size_t i = 0; i < s.len; i++) {
        if ((unsigned char)s.ptr[i] >= 0x80) {
#if MICROPY_PY_BUILTINS_STR_UNICODE
            if (!unicode_encoding_check(MP_ENCODING_UTF8, (const byte *)s.ptr, s.len))
                return mp_obj_new_bytes((const byte *)s.ptr, s.len);
#endif
            break;
        }
    }
    /* Not mp_obj_new_str: it first looks the text up among the interned
     * strings, searching the pools of code compiled at run time (a Python
     * application's) one entry at a time -- with the str methods that do
     * the same, an eighth of the server's time per request (perf, the
     * unix port). A request's strings are rarely interned ones anyway. */
    return mp_obj_new_str_copy(&mp_type_str, (const byte *)s.ptr, s.len);
}

void lgmp_dict_store_int(mp_obj_t dict, qstr key, uint64_t v)
{
    mp_obj_dict_store(dict, MP_OBJ_NEW_QSTR(key), mp_obj_new_int_from_ull(v));
}

/* --- buffers --- */

static int buf_grow(lgmp_buf *b, size_t cap)
{
#if MICROPY_MALLOC_USES_ALLOCATED_SIZE
    char *d = m_realloc_maybe(b->data, b->cap, cap, true);
#else
    char *d = m_realloc_maybe(b->data, cap, true);
#endif
    if (!d) return LG_ERR_NOMEM;
    b->data = d;
    b->cap = cap;
    return LG_OK;
}

int lgmp_buf_reserve(lgmp_buf *b, size_t n)
{
    return n > b->cap ? buf_grow(b, n) : LG_OK;
}

int lgmp_buf_append(lgmp_buf *b, const char *p, size_t n)
{
    if (!n) return LG_OK;
    if (b->end + n > b->cap && b->start) {
        memmove(b->data, b->data + b->start, b->end - b->start);
        b->end -= b->start;
        b->start = 0;
    }
    if (b->end + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->end + n) cap *= 2;
        if (buf_grow(b, cap)) return LG_ERR_NOMEM;
    }
    memcpy(b->data + b->end, p, n);
    b->end += n;
    return LG_OK;
}

mp_obj_t lgmp_buf_take(lgmp_buf *b, mp_int_t n)
{
    size_t len = lgmp_buf_len(b);
    if (n >= 0 && (size_t)n < len) len = (size_t)n;
    mp_obj_t out = mp_obj_new_bytes((const byte *)b->data + b->start, len);
    b->start += len;
    if (b->start == b->end) b->start = b->end = 0;
    return out;
}

void lgmp_buf_free(lgmp_buf *b)
{
    if (b->data) {
#if MICROPY_MALLOC_USES_ALLOCATED_SIZE
        m_free(b->data, b->cap);
#else
        m_free(b->data);
#endif
    }
    b->data = NULL;
    b->start = b->end = b->cap = 0;
}

/* --- the loop --- */

lg_loop *lgmp_loop(void)
{
    lgmp_state *st = state_get_or_make();
    if (st->loop) return st->loop;
    lg_loop_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.backend = &lgmp_backend;
    cfg.net = lgmp_net();
    lg_loop *loop = lg_loop_new(&cfg);
    if (!loop) lgmp_raise(LG_ERR_NOMEM);
    int rc = lgmp_backend_start(loop);
    if (rc) {
        lg_loop_free(loop);
        lgmp_raise(rc);
    }
    st->loop = loop;
    return loop;
}

static mp_obj_t mod_loop(void)
{
    lgmp_state *st = state_get_or_make();
    lgmp_loop();
    return st->loop_obj;
}
LGMP_LOCKED_FUN_OBJ_0(mod_loop_obj, mod_loop);

void lgmp_kick(void)
{
    lgmp_state *st = lgmp_get();
    if (st && st->loop) lgmp_backend_arm(st->loop, lg_loop_timeout(st->loop));
}

/* One turn: run what is ready without waiting, then say how long asyncio
 * may wait for the loop's descriptor before the next turn: 0 (at once,
 * deferred work), the next timer in ms, or -1 (only I/O). */
static mp_obj_t loop_run(mp_obj_t self_in)
{
    (void)self_in;
    lgmp_state *st = lgmp_get();
    lg_loop *loop = st->loop;
    lg_loop_run_once(loop, 0);
    int t = lg_loop_timeout(loop);
    if (t) lgmp_backend_arm(loop, t); /* 0: the driver does not wait at all */
    if (st->pending_exc != MP_OBJ_NULL) {
        mp_obj_t exc = st->pending_exc;
        st->pending_exc = MP_OBJ_NULL;
        nlr_raise(exc);
    }
    return MP_OBJ_NEW_SMALL_INT(t);
}
LGMP_LOCKED_FUN_OBJ_1(loop_run_obj, loop_run);

/* __del__, run by the sweep of a soft reset (gc_sweep_all, on the device
 * ports and at the unix port's exit), before any block is freed: close
 * every socket linger has open, and forget the state, whose memory is
 * about to go (the root pointer would otherwise point into the next
 * session's heap). Nothing of linger's is called: its structures are as
 * dead as the heap they are in. A Loop other than the state's does
 * nothing. */
static mp_obj_t loop_del(mp_obj_t self_in)
{
    lgmp_state *st = MP_STATE_VM(lgmp_state);
    if (!st || st->loop_obj != self_in) return mp_const_none;
    lgmp_close_sockets(st->loop ? lg_port_net_ctx(st->loop) : NULL);
    if (st->loop) lgmp_backend_release(st->loop);
    lg_set_allocator(NULL);
    MP_STATE_VM(lgmp_state) = NULL;
    return mp_const_none;
}
LGMP_LOCKED_FUN_OBJ_1(loop_del_obj, loop_del);

static mp_obj_t loop_set_wake(mp_obj_t self_in, mp_obj_t fn)
{
    (void)self_in;
    lgmp_get()->wake = fn;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(loop_set_wake_obj, loop_set_wake);

static mp_obj_t loop_stats(mp_obj_t self_in)
{
    (void)self_in;
    const lg_loop_stats *s = lg_loop_get_stats(lgmp_get()->loop);
    mp_obj_t d = mp_obj_new_dict(8);
    lgmp_dict_store_int(d, MP_QSTR_closes_at_once, s->closes_at_once);
    lgmp_dict_store_int(d, MP_QSTR_lingering_closes, s->lingering_closes);
    lgmp_dict_store_int(d, MP_QSTR_graceful_closes, s->graceful_closes);
    lgmp_dict_store_int(d, MP_QSTR_linger_timeouts, s->linger_timeouts);
    lgmp_dict_store_int(d, MP_QSTR_linger_overflows, s->linger_overflows);
    lgmp_dict_store_int(d, MP_QSTR_send_timeouts, s->send_timeouts);
    lgmp_dict_store_int(d, MP_QSTR_aborts, s->aborts);
    lgmp_dict_store_int(d, MP_QSTR_accept_errors, s->accept_errors);
    return d;
}
LGMP_LOCKED_FUN_OBJ_1(loop_stats_obj, loop_stats);

/* select.poll asks it from Python's side: locked here (nothing in it
 * raises), since on lwIP's raw API readiness is read from the slots
 * lwIP's callbacks write. */
static mp_uint_t loop_ioctl(mp_obj_t self_in, mp_uint_t request, uintptr_t arg, int *errcode)
{
    (void)self_in;
    lg_loop *loop = lgmp_get()->loop;
    mp_uint_t ret;
    lgmp_lock_enter();
    switch (request) {
    case MP_STREAM_GET_FILENO: {
        int fd = lgmp_backend_fd(loop);
        if (fd >= 0) {
            ret = (mp_uint_t)fd;
        } else {
            *errcode = MP_EINVAL;
            ret = MP_STREAM_ERROR;
        }
        break;
    }
    case MP_STREAM_POLL:
        ret = (arg & MP_STREAM_POLL_RD) && lgmp_backend_ready(loop) ? MP_STREAM_POLL_RD : 0;
        break;
    case MP_STREAM_CLOSE:
        ret = 0;
        break;
    default:
        *errcode = MP_EINVAL;
        ret = MP_STREAM_ERROR;
        break;
    }
    lgmp_lock_exit();
    return ret;
}

static const mp_stream_p_t loop_stream_p = {
    .ioctl = loop_ioctl,
};

static const mp_rom_map_elem_t loop_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_run), MP_ROM_PTR(&loop_run_obj) },
    { MP_ROM_QSTR(MP_QSTR___del__), MP_ROM_PTR(&loop_del_obj) },
    { MP_ROM_QSTR(MP_QSTR_set_wake), MP_ROM_PTR(&loop_set_wake_obj) },
    { MP_ROM_QSTR(MP_QSTR_stats), MP_ROM_PTR(&loop_stats_obj) },
};
static MP_DEFINE_CONST_DICT(loop_locals, loop_locals_table);

MP_DEFINE_CONST_OBJ_TYPE(
    lgmp_type_loop,
    MP_QSTR_Loop,
    MP_TYPE_FLAG_NONE,
    protocol, &loop_stream_p,
    locals_dict, &loop_locals
    );

/* Memory linger holds in MicroPython's heap: (bytes, blocks, peak bytes,
 * allocations, frees, failed allocations). */
static mp_obj_t mod_mem(void)
{
    lgmp_state *st = state_get_or_make();
    mp_obj_t t[6] = {
        mp_obj_new_int_from_uint(st->bytes),
        mp_obj_new_int_from_uint(st->nblocks),
        mp_obj_new_int_from_uint(st->peak_bytes),
        mp_obj_new_int_from_ull(st->allocs),
        mp_obj_new_int_from_ull(st->frees),
        mp_obj_new_int_from_ull(st->failed),
    };
    return mp_obj_new_tuple(6, t);
}
static MP_DEFINE_CONST_FUN_OBJ_0(mod_mem_obj, mod_mem);

/* The pinned objects (for tests: nothing should stay pinned). */
static mp_obj_t mod_pinned(void)
{
    lgmp_state *st = state_get_or_make();
    mp_int_t n = 0;
    for (lgmp_pinned *p = st->pins; p; p = p->pin_next) n++;
    return MP_OBJ_NEW_SMALL_INT(n);
}
static MP_DEFINE_CONST_FUN_OBJ_0(mod_pinned_obj, mod_pinned);

static mp_obj_t mod_strerror(mp_obj_t err)
{
    return mp_obj_new_str_from_cstr(lg_strerror(mp_obj_get_int(err)));
}
static MP_DEFINE_CONST_FUN_OBJ_1(mod_strerror_obj, mod_strerror);

static mp_obj_t mod_err_name(mp_obj_t err)
{
    return mp_obj_new_str_from_cstr(lg_err_name(mp_obj_get_int(err)));
}
static MP_DEFINE_CONST_FUN_OBJ_1(mod_err_name_obj, mod_err_name);

static MP_DEFINE_STR_OBJ(version_obj, LG_VERSION_STRING);

static const mp_rom_map_elem_t linger_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__linger) },
    { MP_ROM_QSTR(MP_QSTR_version), MP_ROM_PTR(&version_obj) },
    { MP_ROM_QSTR(MP_QSTR_loop), MP_ROM_PTR(&mod_loop_obj) },
    { MP_ROM_QSTR(MP_QSTR_mem), MP_ROM_PTR(&mod_mem_obj) },
    { MP_ROM_QSTR(MP_QSTR_pinned), MP_ROM_PTR(&mod_pinned_obj) },
    { MP_ROM_QSTR(MP_QSTR_strerror), MP_ROM_PTR(&mod_strerror_obj) },
    { MP_ROM_QSTR(MP_QSTR_err_name), MP_ROM_PTR(&mod_err_name_obj) },
#if defined(LGMP_LOCK_CHECK)
    { MP_ROM_QSTR(MP_QSTR__lock_check), MP_ROM_PTR(&lgmp_lock_check_obj) },
#endif
    { MP_ROM_QSTR(MP_QSTR_Loop), MP_ROM_PTR(&lgmp_type_loop) },
    { MP_ROM_QSTR(MP_QSTR_Server), MP_ROM_PTR(&lgmp_type_server) },
    { MP_ROM_QSTR(MP_QSTR_Req), MP_ROM_PTR(&lgmp_type_req) },
    { MP_ROM_QSTR(MP_QSTR_Client), MP_ROM_PTR(&lgmp_type_client) },
    { MP_ROM_QSTR(MP_QSTR_Call), MP_ROM_PTR(&lgmp_type_call) },
    /* error codes the glue looks at */
    { MP_ROM_QSTR(MP_QSTR_ERR_LIMIT), MP_ROM_INT(LG_ERR_LIMIT) },
    { MP_ROM_QSTR(MP_QSTR_ERR_CLOSED), MP_ROM_INT(LG_ERR_CLOSED) },
    { MP_ROM_QSTR(MP_QSTR_ERR_TIMEOUT), MP_ROM_INT(LG_ERR_TIMEOUT) },
    { MP_ROM_QSTR(MP_QSTR_ERR_RESET), MP_ROM_INT(LG_ERR_RESET) },
    { MP_ROM_QSTR(MP_QSTR_ERR_CLOSED_EARLY), MP_ROM_INT(LG_ERR_CLOSED_EARLY) },
    { MP_ROM_QSTR(MP_QSTR_ERR_BODY_TOO_LARGE), MP_ROM_INT(LG_ERR_BODY_TOO_LARGE) },
    { MP_ROM_QSTR(MP_QSTR_ERR_TOO_LARGE), MP_ROM_INT(LG_ERR_TOO_LARGE) },
    { MP_ROM_QSTR(MP_QSTR_ERR_CANCELLED), MP_ROM_INT(LG_ERR_CANCELLED) },
    { MP_ROM_QSTR(MP_QSTR_ERR_REFUSED), MP_ROM_INT(LG_ERR_REFUSED) },
    { MP_ROM_QSTR(MP_QSTR_ERR_UNREACHABLE), MP_ROM_INT(LG_ERR_UNREACHABLE) },
    { MP_ROM_QSTR(MP_QSTR_ERR_RESOLVE), MP_ROM_INT(LG_ERR_RESOLVE) },
    { MP_ROM_QSTR(MP_QSTR_ERR_URL), MP_ROM_INT(LG_ERR_URL) },
    { MP_ROM_QSTR(MP_QSTR_ERR_NOMEM), MP_ROM_INT(LG_ERR_NOMEM) },
    { MP_ROM_QSTR(MP_QSTR_ERR_UNSUPPORTED), MP_ROM_INT(LG_ERR_UNSUPPORTED) },
    /* lg_stage */
    { MP_ROM_QSTR(MP_QSTR_STAGE_START), MP_ROM_INT(LG_STAGE_START) },
    { MP_ROM_QSTR(MP_QSTR_STAGE_RESOLVE), MP_ROM_INT(LG_STAGE_RESOLVE) },
    { MP_ROM_QSTR(MP_QSTR_STAGE_CONNECT), MP_ROM_INT(LG_STAGE_CONNECT) },
    { MP_ROM_QSTR(MP_QSTR_STAGE_SEND), MP_ROM_INT(LG_STAGE_SEND) },
    { MP_ROM_QSTR(MP_QSTR_STAGE_HEAD), MP_ROM_INT(LG_STAGE_HEAD) },
    { MP_ROM_QSTR(MP_QSTR_STAGE_BODY), MP_ROM_INT(LG_STAGE_BODY) },
    { MP_ROM_QSTR(MP_QSTR_STAGE_DONE), MP_ROM_INT(LG_STAGE_DONE) },
    /* lg_fetch flags */
    { MP_ROM_QSTR(MP_QSTR_FETCH_EXPECT_CONTINUE), MP_ROM_INT(LG_FETCH_EXPECT_CONTINUE) },
    { MP_ROM_QSTR(MP_QSTR_FETCH_NO_REDIRECTS), MP_ROM_INT(LG_FETCH_NO_REDIRECTS) },
    { MP_ROM_QSTR(MP_QSTR_FETCH_CLOSE), MP_ROM_INT(LG_FETCH_CLOSE) },
    /* lg_route_ex flags */
    { MP_ROM_QSTR(MP_QSTR_ROUTE_STREAM_BODY), MP_ROM_INT(LG_ROUTE_STREAM_BODY) },
};
static MP_DEFINE_CONST_DICT(linger_module_globals, linger_module_globals_table);

const mp_obj_module_t lgmp_user_cmodule = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&linger_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR__linger, lgmp_user_cmodule);
