/* The loop's insides, shared by the loop, the stream and the TCP layer. Not
 * part of the API: ports use include/linger_port.h, which is. */
#ifndef LG_LOOP_INTERNAL_H
#define LG_LOOP_INTERNAL_H

#include "linger.h"
#include "linger_port.h"
#include "alloc_internal.h"



struct lg_loop {
    const lg_backend *backend;
    void *backend_data;
    const lg_net *net;
    void *net_ctx;
    lg_log_fn log;
    void *log_user;
    int log_level;

    uint64_t now;
    uint8_t time_stale;     /* now is from before the backend's wait */
    lg_timer **heap;
    uint32_t heap_len, heap_cap;

    lg_defer *defer_head, *defer_tail;
    lg_defer *defer_mark;   /* the last call of the current round */
    uint8_t defer_mark_gone;

#if !defined(LG_NO_THREADS)
    void *post_mutex;
    lg_defer *post_head, *post_tail;
    int wake_fds[2];
    lg_io wake_io;
#endif

    /* Free receive/copy buffers of one size, so that a server in its steady
     * state takes buffers from here, not from the allocator: a list threaded
     * through the free buffers themselves (each starts with a pointer to the
     * next), so it costs the loop two words however long it is. With a
     * static pool (lg__loop_buffers) the list is all there is. */
    char *buf_free;
    uint32_t buf_free_len, buf_size;
    uint8_t buf_fixed;

    uint32_t active_ios; /* watched ios, the waker excepted */
    uint32_t refs;       /* lg__loop_ref: work elsewhere that will come back */
    uint8_t stop;
    uint8_t running;
    lg_loop_stats stats;
};


/* Make room in the timer heap for `extra` more running timers, so that
 * starting them later cannot fail for want of memory. */
int lg__loop_reserve_timers(lg_loop *loop, uint32_t extra);

/* Keep the loop alive while work it waits for is elsewhere (a thread). */
void lg__loop_ref(lg_loop *loop);
void lg__loop_unref(lg_loop *loop);

/* Buffers of `size` bytes, cached per loop. */
char *lg__buf_get(lg_loop *loop, uint32_t size);
void lg__buf_put(lg_loop *loop, char *buf, uint32_t size);
/* Static memory: `count` buffers of `size` bytes at mem become the loop's
 * buffers of that size, and lg__buf_get never allocates one again (it
 * returns NULL when all are in use). mem NULL ends that (all buffers must
 * be back). Returns LG_ERR_LIMIT when another pool is installed. */
int lg__loop_buffers(lg_loop *loop, void *mem, uint32_t size, uint32_t count);
/* Make room in the backend for `n` watched descriptors in all, so that
 * watching them later allocates nothing (static memory). */
int lg__loop_reserve_ios(lg_loop *loop, uint32_t n);


#endif
