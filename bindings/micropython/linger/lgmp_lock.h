/*
 * The port's lwIP lock, around every call of the binding's into linger.
 *
 * On MicroPython's rp2 port lwIP's input and timers run from PendSV
 * whenever lwip_lock_acquire() is not held; the port says so with
 * MICROPY_PY_LWIP_ENTER / _REENTER / _EXIT (its mphalport.h), which
 * extmod/modlwip.c takes around its own calls into lwIP. linger's raw-API
 * port (ports/lwip_raw) shares its slots with lwIP's callbacks, so linger
 * must run under the same lock: the loop's turn, each call from Python
 * that reaches linger, the Loop's readiness check and its finaliser.
 *
 * Python never runs under it. A call from linger into Python (a route's
 * callback, waking a task) lets it go first and takes it again after:
 * Python code may wait for lwIP (socket.getaddrinfo spins until PendSV
 * has delivered the DNS answer), which would never come while the lock
 * is held. linger's own state is only touched from MicroPython's thread,
 * so only the port's calls need the lock to be theirs, and each is whole.
 *
 * Where the port defines no such macros (unix, esp32: lwIP's sockets are
 * thread-safe) the lock is nothing. With -DLGMP_LOCK_CHECK (the unix
 * build of the tests) the macros are a checking lock (lgmp_lock.c): a
 * depth that must be 1 in every call into the platform and 0 whenever
 * Python runs; a breach aborts with its place.
 *
 * The port's macros are used as rp2 writes them: statements that take
 * and give a global lock. (stm32's form, which keeps state in a local of
 * the function that took it, cannot be let go from a callback: the
 * binding does not support it.)
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef LGMP_LOCK_H
#define LGMP_LOCK_H

#include "py/mphal.h"
#include "py/obj.h"

#if defined(LGMP_LOCK_CHECK)
void lgmp_lock_check_enter(void);
void lgmp_lock_check_exit(void);
void lgmp_lock_check_held(const char *where);
void lgmp_lock_check_python(const char *where);
MP_DECLARE_CONST_FUN_OBJ_0(lgmp_lock_check_obj);
#if !defined(MICROPY_PY_LWIP_ENTER)
/* A stand-in for a port's mphalport.h, written the way rp2 writes it. */
#define MICROPY_PY_LWIP_ENTER lgmp_lock_check_enter();
#define MICROPY_PY_LWIP_REENTER lgmp_lock_check_enter();
#define MICROPY_PY_LWIP_EXIT lgmp_lock_check_exit();
#endif
/* The platform is called with the lock held. */
#define LGMP_LOCK_HELD(where) lgmp_lock_check_held(where)
/* Python is about to run: the lock must be free. */
#define LGMP_LOCK_FREE(where) lgmp_lock_check_python(where)
#else
#define LGMP_LOCK_HELD(where) ((void)0)
#define LGMP_LOCK_FREE(where) ((void)0)
#endif

#if defined(MICROPY_PY_LWIP_ENTER)
#define LGMP_LOCKING 1
static inline void lgmp_lock_enter(void)
{
    MICROPY_PY_LWIP_ENTER
}
static inline void lgmp_lock_exit(void)
{
    MICROPY_PY_LWIP_EXIT
}
static inline void lgmp_lock_reenter(void)
{
    MICROPY_PY_LWIP_REENTER
}
#else
#define LGMP_LOCKING 0
static inline void lgmp_lock_enter(void)
{
}
static inline void lgmp_lock_exit(void)
{
}
static inline void lgmp_lock_reenter(void)
{
}
#endif

#if LGMP_LOCKING
/* fn(...) with the lock held, let go however it ends (a return, or an
 * exception: an nlr jump callback gives the lock back as the jump passes). */
mp_obj_t lgmp_locked_0(mp_obj_t (*fn)(void));
mp_obj_t lgmp_locked_1(mp_obj_t (*fn)(mp_obj_t), mp_obj_t a);
mp_obj_t lgmp_locked_2(mp_obj_t (*fn)(mp_obj_t, mp_obj_t), mp_obj_t a, mp_obj_t b);
mp_obj_t lgmp_locked_3(mp_obj_t (*fn)(mp_obj_t, mp_obj_t, mp_obj_t), mp_obj_t a, mp_obj_t b,
                       mp_obj_t c);
mp_obj_t lgmp_locked_var(mp_obj_t (*fn)(size_t, const mp_obj_t *), size_t n, const mp_obj_t *args);
mp_obj_t lgmp_locked_new(mp_obj_t (*fn)(const mp_obj_type_t *, size_t, size_t, const mp_obj_t *),
                         const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args);

/* Methods that call into linger are defined with these instead of
 * MP_DEFINE_CONST_FUN_OBJ_*: the same object, its function run locked. */
#define LGMP_LOCKED_FUN_OBJ_0(obj, fn)                                   \
    static mp_obj_t fn##_locked(void) { return lgmp_locked_0(fn); }     \
    static MP_DEFINE_CONST_FUN_OBJ_0(obj, fn##_locked)
#define LGMP_LOCKED_FUN_OBJ_1(obj, fn)                                   \
    static mp_obj_t fn##_locked(mp_obj_t a) { return lgmp_locked_1(fn, a); } \
    static MP_DEFINE_CONST_FUN_OBJ_1(obj, fn##_locked)
#define LGMP_LOCKED_FUN_OBJ_2(obj, fn)                                   \
    static mp_obj_t fn##_locked(mp_obj_t a, mp_obj_t b) { return lgmp_locked_2(fn, a, b); } \
    static MP_DEFINE_CONST_FUN_OBJ_2(obj, fn##_locked)
#define LGMP_LOCKED_FUN_OBJ_3(obj, fn)                                   \
    static mp_obj_t fn##_locked(mp_obj_t a, mp_obj_t b, mp_obj_t c)     \
    {                                                                   \
        return lgmp_locked_3(fn, a, b, c);                              \
    }                                                                   \
    static MP_DEFINE_CONST_FUN_OBJ_3(obj, fn##_locked)
#define LGMP_LOCKED_FUN_OBJ_VAR_BETWEEN(obj, lo, hi, fn)                 \
    static mp_obj_t fn##_locked(size_t n, const mp_obj_t *args)         \
    {                                                                   \
        return lgmp_locked_var(fn, n, args);                            \
    }                                                                   \
    static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(obj, lo, hi, fn##_locked)
#define LGMP_LOCKED_MAKE_NEW(fn)                                         \
    static mp_obj_t fn##_locked(const mp_obj_type_t *type, size_t n_args, size_t n_kw, \
                                const mp_obj_t *args)                   \
    {                                                                   \
        return lgmp_locked_new(fn, type, n_args, n_kw, args);           \
    }
#else
/* No lock: the methods as they are. */
#define LGMP_LOCKED_FUN_OBJ_0(obj, fn) static MP_DEFINE_CONST_FUN_OBJ_0(obj, fn)
#define LGMP_LOCKED_FUN_OBJ_1(obj, fn) static MP_DEFINE_CONST_FUN_OBJ_1(obj, fn)
#define LGMP_LOCKED_FUN_OBJ_2(obj, fn) static MP_DEFINE_CONST_FUN_OBJ_2(obj, fn)
#define LGMP_LOCKED_FUN_OBJ_3(obj, fn) static MP_DEFINE_CONST_FUN_OBJ_3(obj, fn)
#define LGMP_LOCKED_FUN_OBJ_VAR_BETWEEN(obj, lo, hi, fn) \
    static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(obj, lo, hi, fn)
#define LGMP_LOCKED_MAKE_NEW(fn) \
    static mp_obj_t fn##_locked(const mp_obj_type_t *type, size_t n_args, size_t n_kw, \
                                const mp_obj_t *args)                   \
    {                                                                   \
        return fn(type, n_args, n_kw, args);                            \
    }
#endif /* LGMP_LOCKING */


#endif /* LGMP_LOCK_H */
