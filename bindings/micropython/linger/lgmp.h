/*
 * linger for MicroPython: what the binding's files share (not a public
 * header). docs/micropython.md explains the design; in short:
 *
 *  - One lg_loop per interpreter, driven from one asyncio task that waits
 *    on the loop object (a pollable stream: on Linux an epoll descriptor
 *    that also holds a timerfd for linger's next timer; elsewhere select's
 *    ioctl poll), then runs lg_loop_run_once(loop, 0).
 *  - linger's memory comes from MicroPython's heap (m_malloc), every block
 *    chained from one root pointer, so the collector sees it and never
 *    frees what linger holds.
 *  - Python objects that linger's callbacks point at (a request in the
 *    application's hands, a fetch in flight) are "pinned" on a list hung
 *    from the same root until linger is done with them.
 *  - linger's callbacks never let a Python exception through linger's C
 *    frames: Python is called under nlr_push, and what it raised is kept
 *    and raised again once lg_loop_run_once has returned.
 *  - Every call into linger holds the port's lwIP lock, and Python never
 *    runs under it (lgmp_lock.h: rp2 runs lwIP from PendSV).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef LGMP_H
#define LGMP_H

#include "py/obj.h"
#include "py/runtime.h"

#include "linger.h"
#include "linger_port.h"

#include "lgmp_lock.h"

/* The head of every object linger's callbacks may point at. */
typedef struct lgmp_pinned {
    mp_obj_base_t base;
    struct lgmp_pinned *pin_prev, *pin_next;
    uint8_t pinned;
} lgmp_pinned;

/* A block linger allocated: a header that chains it to the root. */
typedef struct lgmp_block {
    struct lgmp_block *prev, *next;
} lgmp_block;

typedef struct lgmp_state {
    lg_loop *loop;
    lgmp_block *blocks;      /* every block linger holds */
    lgmp_pinned *pins;       /* every object linger's callbacks point at */
    mp_obj_t wake;           /* Python: wake(task) puts a parked task back on the run queue */
    mp_obj_t loop_obj;       /* the Loop object (there is one) */
    mp_obj_t pending_exc;    /* raised in a callback: raised again after the loop's turn */
    void *backend;           /* lgmp_backend.c's (Linux: the timerfd) */
    int *sockets;            /* every socket linger has open (lgmp_sockets.c) */
    uint32_t nsockets, cap_sockets;
    size_t bytes;            /* what linger holds now (asked sizes, without headers) */
    size_t peak_bytes;
    size_t nblocks;
    uint64_t allocs, frees, failed;
} lgmp_state;

/* The one state (NULL until the module is first used). */
lgmp_state *lgmp_get(void);
/* The loop, created on first use (raises OSError when it cannot be). */
lg_loop *lgmp_loop(void);

void lgmp_pin(void *obj);
void lgmp_unpin(void *obj);

/* Wake a parked task (calls the Python wake function; never raises). */
void lgmp_wake(mp_obj_t task);
/* Call fn(arg) from inside a linger callback: the lwIP lock is let go for
 * the call and taken again after (lgmp_lock.h); an exception is kept and
 * raised again after lg_loop_run_once returns. Returns 0, or -1 if it
 * raised. */
int lgmp_call1(mp_obj_t fn, mp_obj_t arg);
/* Keep an exception raised inside a linger callback. */
void lgmp_keep_exception(mp_obj_t exc);

/* lg_err -> OSError (errno where one fits, else the lg_err code). */
MP_NORETURN void lgmp_raise(int err);
/* A slice as str (bytes when it is not UTF-8), None when absent. */
mp_obj_t lgmp_text(lg_str s);

/* A growable byte buffer in the GC heap, owned by one object. Appending
 * never raises (0, or LG_ERR_NOMEM). */
typedef struct lgmp_buf {
    char *data;
    size_t start, end, cap;
} lgmp_buf;

static inline size_t lgmp_buf_len(const lgmp_buf *b)
{
    return b->end - b->start;
}
int lgmp_buf_append(lgmp_buf *b, const char *p, size_t n);
/* Room for n bytes in all (a body of known length: one allocation). */
int lgmp_buf_reserve(lgmp_buf *b, size_t n);
/* Take up to n bytes (n < 0: all) as a bytes object. */
mp_obj_t lgmp_buf_take(lgmp_buf *b, mp_int_t n);
void lgmp_buf_free(lgmp_buf *b);

/* linger's platform with its sockets noted (lgmp_sockets.c), and closing
 * what is still open (a soft reset). */
const lg_net *lgmp_net(void);
void lgmp_close_sockets(void *net_ctx);

/* The readiness backend (lgmp_backend.c). */
extern const lg_backend lgmp_backend;
/* After lg_loop_new: what asyncio's wait needs besides linger's backend
 * (Linux: the timerfd for linger's timers). LG_OK or an lg_err. */
int lgmp_backend_start(lg_loop *loop);
/* Before lg_loop_free: undoes lgmp_backend_start. */
void lgmp_backend_stop(lg_loop *loop);
/* A soft reset: the backend's descriptors closed (the loop is not used
 * again). */
void lgmp_backend_release(lg_loop *loop);
/* The descriptor asyncio waits on (Linux: the epoll set), or -1. */
int lgmp_backend_fd(lg_loop *loop);
/* Arm the wake-up for linger's next timer: ms from now (0: at once), -1
 * for none. */
void lgmp_backend_arm(lg_loop *loop, int ms);
/* After a call from Python that may have given the loop work of its own
 * (a deferred call, a timer): make sure the driver wakes for it, though it
 * may be waiting on the descriptor already. */
void lgmp_kick(void);
/* Without a descriptor: is anything ready now (a descriptor or a timer)? */
int lgmp_backend_ready(lg_loop *loop);

extern const mp_obj_type_t lgmp_type_loop;
extern const mp_obj_type_t lgmp_type_server;
extern const mp_obj_type_t lgmp_type_req;
extern const mp_obj_type_t lgmp_type_client;
extern const mp_obj_type_t lgmp_type_call;

/* lg_*_stats as a dict. */
void lgmp_dict_store_int(mp_obj_t dict, qstr key, uint64_t v);

#endif /* LGMP_H */
