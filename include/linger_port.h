/*
 * linger_port.h — the contract a port implements: a platform (lg_net: the
 * clock, sockets, wake-up, threads where there are any) and, where the
 * operating system's poll() will not do, a readiness backend (lg_backend).
 * A port uses this header and linger.h, nothing else of linger's; the
 * POSIX platform (src/net_posix.c), the epoll and poll backends
 * (src/loop_epoll.c, src/loop_poll.c), the lwIP port
 * (ports/lwip/net_lwip.c) and the lwIP raw-API port with its superloop
 * backend (ports/lwip_raw/net_lwip_raw.c) are written against it.
 * docs/porting.md says how a readiness-based port (sockets and poll) and a
 * callback-driven one (lwIP's raw API, where the stack calls you with
 * received data) each plug in.
 *
 * Give the loop a port with lg_loop_config.net / .backend (or make it the
 * default: LG_DEFAULT_NET, LG_DEFAULT_BACKEND).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef LINGER_PORT_H
#define LINGER_PORT_H

#include "linger.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A readiness backend: four functions, after Redis's ae. `update` is told
 * the old and new interest of an io; `wait` blocks up to timeout_ms (-1: no
 * limit) and calls lg_port_io_ready() for each ready io. */
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

    /* Optional (NULL: send). Like send, for bytes that more follows at
     * once: the FIN (the stream calls shutdown_write or close right after
     * it takes them all), or a file's first bytes (sendfile right after).
     * The platform may hold them back a moment to share a segment with
     * what follows (Linux: MSG_MORE): one packet fewer per closed
     * connection, and a head no longer alone in its own segment before a
     * file. What it does not take is sent later. */
    long (*send_more)(void *ctx, int fd, const lg_str *parts, size_t n);

    /* 1: in a graceful close, read what has already arrived before sending
     * FIN, and close at once if that was the peer's FIN. lwIP 2.1 frees a
     * connection behind the application's back when the write side is shut
     * down after the peer's FIN came but before it was read (LAST_ACK), and
     * the application's close then frees it again (esp-idf#2931; ESP-IDF's
     * lwIP is fixed). Reading first turns that shutdown into a plain close. */
    uint8_t read_before_fin;

    /* Optional (NULL: cannot tell): bytes sent but not yet acknowledged by
     * the peer, still in the platform's buffers (Linux: SIOCOUTQ). Asked
     * when a graceful close's linger time runs out: while the peer is still
     * taking these, the close waits on (send_timeout_ms at a time) and the
     * linger time starts over once they are gone, so a slow reader's last
     * megabytes in the kernel are not cut by it. */
    long (*unacked)(void *ctx, int fd);
};

/* The operating system's sockets (src/net_posix.c), on POSIX systems. */
extern const lg_net lg_net_posix;

/* --- what the loop offers its port --- */

/* For backends: an io is ready for `events` (LG_READABLE, LG_WRITABLE).
 * Call it from wait() for each; an io closed earlier in the same batch is
 * ignored. lg_io.fd, .events (what it is watched for) and .slot (yours:
 * a backend's index for it) are the io's fields a backend uses. */
void lg_port_io_ready(lg_io *io, unsigned events);
/* A backend's state for its loop (set it in init, free it in destroy). */
void *lg_port_backend_data(const lg_loop *loop);
void lg_port_set_backend_data(lg_loop *loop, void *data);
/* The net_ctx the loop was configured with (what every lg_net function
 * gets): for a backend that works with its platform. */
void *lg_port_net_ctx(const lg_loop *loop);
/* Memory for a port's own state, through the application's allocator
 * (lg_set_allocator): free gets the size that was asked for. */
void *lg_port_alloc(size_t size);
void lg_port_free(void *ptr, size_t size);
void *lg_port_realloc(void *ptr, size_t old_size, size_t new_size);

#ifdef __cplusplus
}
#endif

#endif /* LINGER_PORT_H */
