/*
 * The lwIP lock's wrappers (lgmp_lock.h says why the binding takes it):
 * a method's function run locked and let go on every way out, and
 * Python called from inside linger with the lock let go. With
 * -DLGMP_LOCK_CHECK, the checking lock the unix tests run with.
 *
 * SPDX-License-Identifier: MIT
 */
#include "lgmp.h"

#if LGMP_LOCKING
/* An exception leaving a locked call: the jump gives the lock back as it
 * passes (cheaper than an nlr_push per call, and the exception goes on
 * unchanged). */
static void unlock_on_raise(void *ctx)
{
    (void)ctx;
    lgmp_lock_exit();
}

/* Take the lock, with node (on the wrapper's stack) to give it back if an
 * exception leaves before locked_end. */
static void locked_begin(nlr_jump_callback_node_t *node)
{
    lgmp_lock_enter();
    nlr_push_jump_callback(node, unlock_on_raise);
}

static mp_obj_t locked_end(mp_obj_t ret)
{
    nlr_pop_jump_callback(true); /* runs unlock_on_raise: the lock let go */
    return ret;
}

mp_obj_t lgmp_locked_0(mp_obj_t (*fn)(void))
{
    nlr_jump_callback_node_t node;
    locked_begin(&node);
    return locked_end(fn());
}

mp_obj_t lgmp_locked_1(mp_obj_t (*fn)(mp_obj_t), mp_obj_t a)
{
    nlr_jump_callback_node_t node;
    locked_begin(&node);
    return locked_end(fn(a));
}

mp_obj_t lgmp_locked_2(mp_obj_t (*fn)(mp_obj_t, mp_obj_t), mp_obj_t a, mp_obj_t b)
{
    nlr_jump_callback_node_t node;
    locked_begin(&node);
    return locked_end(fn(a, b));
}

mp_obj_t lgmp_locked_3(mp_obj_t (*fn)(mp_obj_t, mp_obj_t, mp_obj_t), mp_obj_t a, mp_obj_t b,
                       mp_obj_t c)
{
    nlr_jump_callback_node_t node;
    locked_begin(&node);
    return locked_end(fn(a, b, c));
}

mp_obj_t lgmp_locked_var(mp_obj_t (*fn)(size_t, const mp_obj_t *), size_t n, const mp_obj_t *args)
{
    nlr_jump_callback_node_t node;
    locked_begin(&node);
    return locked_end(fn(n, args));
}

mp_obj_t lgmp_locked_new(mp_obj_t (*fn)(const mp_obj_type_t *, size_t, size_t, const mp_obj_t *),
                         const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args)
{
    nlr_jump_callback_node_t node;
    locked_begin(&node);
    return locked_end(fn(type, n_args, n_kw, args));
}

#endif /* LGMP_LOCKING */

int lgmp_call1(mp_obj_t fn, mp_obj_t arg)
{
    lgmp_lock_exit();
    LGMP_LOCK_FREE("a call into Python");
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_call_function_1(fn, arg);
        nlr_pop();
        lgmp_lock_reenter();
        return 0;
    }
    /* Kept (maybe printed: an exception's text may be Python's) before
     * the lock is taken again. */
    lgmp_keep_exception(MP_OBJ_FROM_PTR(nlr.ret_val));
    lgmp_lock_reenter();
    return -1;
}

#if defined(LGMP_LOCK_CHECK)

#include <stdio.h>
#include <stdlib.h>

/* One interpreter, one thread: a plain counter, as rp2's own lock is
 * without threads (pendsv_suspend). The binding never nests it: Python,
 * the only way back into the binding, runs with it let go. */
static int depth;
static uint32_t enters, held_checks; /* _linger._lock_check(): the checks ran */

static void breach(const char *what, const char *where)
{
    fprintf(stderr, "linger: lwIP lock check: %s (%s; depth %d)\n", what, where, depth);
    abort();
}

void lgmp_lock_check_enter(void)
{
    if (depth != 0) breach("taken again: Python ran with it held, or a way out kept it", "enter");
    depth++;
    enters++;
}

void lgmp_lock_check_exit(void)
{
    if (depth != 1) breach("let go while not held", "exit");
    depth--;
}

void lgmp_lock_check_held(const char *where)
{
    if (depth != 1) breach("linger's platform called without the lock", where);
    held_checks++;
}

void lgmp_lock_check_python(const char *where)
{
    if (depth != 0) breach("Python called with the lock held", where);
}

/* _linger._lock_check() (the checking build only): (depth, times taken,
 * platform calls checked), for a test to see that the checks ran and
 * that the lock is free while Python runs. */
static mp_obj_t lock_check(void)
{
    mp_obj_t t[3] = { MP_OBJ_NEW_SMALL_INT(depth), mp_obj_new_int_from_uint(enters),
                      mp_obj_new_int_from_uint(held_checks) };
    return mp_obj_new_tuple(3, t);
}
MP_DEFINE_CONST_FUN_OBJ_0(lgmp_lock_check_obj, lock_check);

#endif /* LGMP_LOCK_CHECK */
