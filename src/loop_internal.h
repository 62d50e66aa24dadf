/* The loop's insides, shared by the loop, its backends, the platform layers
 * and the stream. Not part of the public API; ports read it (docs/porting.md). */
#ifndef LG_LOOP_INTERNAL_H
#define LG_LOOP_INTERNAL_H

#include "linger.h"
#include "alloc_internal.h"

/* A readiness backend: four functions, after Redis's ae. `update` is told
 * the old and new interest of an io; `wait` blocks up to timeout_ms (-1: no
 * limit) and calls lg__io_ready() for each ready io. */
struct lg_backend {
    const char *name;
    int (*init)(lg_loop *loop);
    void (*destroy)(lg_loop *loop);
    int (*update)(lg_loop *loop, lg_io *io, unsigned old_events, unsigned new_events);
    int (*wait)(lg_loop *loop, int timeout_ms);
    /* Optional: size the backend's tables for n descriptors now. */
    int (*reserve)(lg_loop *loop, uint32_t n);
};

/* A platform: sockets, clock, wake-up, threads. Every function gets the
 * loop's net_ctx. Socket functions return LG_OK / a count, LG_ERR_AGAIN when
 * they would block, or another negative lg_err: never errno. */
struct lg_net {
    const char *name;
    uint64_t (*now_ms)(void *ctx);

    int (*listen)(void *ctx, const lg_addr *addr, unsigned flags, int backlog, int *fd,
                  lg_addr *bound);
    /* A non-blocking, TCP_NODELAY socket, or LG_ERR_AGAIN when none waits.
     * LG_ERR_LIMIT means out of descriptors (EMFILE/ENFILE). */
    int (*accept)(void *ctx, int listen_fd, int *fd, lg_addr *peer);
    /* Optional (NULL: unknown): a connected socket's peer (getpeername).
     * The server asks only when a handler wants to know (lg_req_peer):
     * keeping every connection's address would cost its bytes per
     * connection. */
    int (*peer_address)(void *ctx, int fd, lg_addr *peer);
    /* LG_OK when connected at once, LG_ERR_AGAIN when in progress (wait
     * until writable, then ask connect_result). */
    int (*connect)(void *ctx, const lg_addr *addr, int *fd);
    int (*connect_result)(void *ctx, int fd);

    /* > 0 bytes, 0 at EOF, LG_ERR_AGAIN, LG_ERR_RESET, ... */
    long (*recv)(void *ctx, int fd, void *buf, size_t len);
    /* Gathering send; never raises SIGPIPE. >= 0 bytes taken, or an error. */
    long (*send)(void *ctx, int fd, const lg_str *parts, size_t n);
    /* Optional (NULL: the stream reads the file and sends it). */
    long (*sendfile)(void *ctx, int fd, int file, uint64_t offset, size_t len);
    int (*shutdown_write)(void *ctx, int fd);
    void (*close)(void *ctx, int fd);
    /* Close so that the peer sees RST (SO_LINGER 0). */
    void (*abort)(void *ctx, int fd);

    /* Wake-up for lg_loop_post: fds[0] is watched for reading, signal makes
     * it readable, drain makes it quiet again. */
    int (*waker_open)(void *ctx, int fds[2]);
    void (*waker_signal)(void *ctx, const int fds[2]);
    void (*waker_drain)(void *ctx, const int fds[2]);
    void (*waker_close)(void *ctx, const int fds[2]);

    /* A mutex for the post queue, and a detached thread for blocking work
     * (name resolution). thread_start may be NULL on platforms without. */
    void *(*mutex_new)(void *ctx);
    void (*mutex_lock)(void *ctx, void *m);
    void (*mutex_unlock)(void *ctx, void *m);
    void (*mutex_free)(void *ctx, void *m);
    int (*thread_start)(void *ctx, void (*fn)(void *arg), void *arg);
    /* Blocking name lookup for the resolver thread. */
    int (*getaddrinfo)(void *ctx, const char *host, uint16_t port, lg_addr *out, size_t max,
                       size_t *n);

    /* Optional (NULL: send). Like send, for the last bytes before FIN: when
     * it takes them all, the stream calls shutdown_write (or close) at once,
     * so the platform may hold them back a moment to leave in one segment
     * with the FIN (Linux: MSG_MORE), one packet fewer per closed
     * connection. What it does not take is sent later with send. */
    long (*send_before_fin)(void *ctx, int fd, const lg_str *parts, size_t n);

    /* 1: in a graceful close, read what has already arrived before sending
     * FIN, and close at once if that was the peer's FIN. lwIP 2.1 frees a
     * connection behind the application's back when the write side is shut
     * down after the peer's FIN came but before it was read (LAST_ACK), and
     * the application's close then frees it again (esp-idf#2931; ESP-IDF's
     * lwIP is fixed). Reading first turns that shutdown into a plain close. */
    uint8_t read_before_fin;

    /* Optional (NULL: cannot tell): bytes sent but not yet acknowledged by
     * the peer, still in the platform's buffers (Linux: SIOCOUTQ). A
     * graceful close starts its linger time once these are gone too, so a
     * slow reader's last megabytes in the kernel are not cut by it. */
    long (*unacked)(void *ctx, int fd);
};

extern const lg_net lg_net_posix;

/* The poll backend's state (loop_poll.c): a dense pollfd array with a
 * parallel array of ios. Here so that its RAM can be counted
 * (ports/footprint/sizes.c). */
typedef struct lg_poll_state {
    struct pollfd *fds;
    lg_io **ios;
    uint32_t len, cap;
    uint8_t dispatching, holes;
} lg_poll_state;

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

/* For backends: an io is ready. Ignores ios closed earlier in the batch. */
void lg__io_ready(lg_io *io, unsigned events);

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
