/*
 * The POSIX platform: BSD sockets, the monotonic clock, eventfd (or a pipe)
 * for wake-ups, pthreads for the resolver. Everything here maps errno to an
 * lg_err at once, so no layer above ever sees errno.
 */
#if defined(__linux__)
#define _GNU_SOURCE
#else
#define _DEFAULT_SOURCE
#define _DARWIN_C_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#endif

#include "linger_port.h"

#define LG_UNUSED(x) ((void)(x))

static int map_errno(int e)
{
    switch (e) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case EINPROGRESS:
        return LG_ERR_AGAIN;
    case ECONNRESET:
    case ECONNABORTED:
        return LG_ERR_RESET;
    case EPIPE:
        return LG_ERR_PIPE;
    case ECONNREFUSED:
        return LG_ERR_REFUSED;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
#ifdef EHOSTDOWN
    case EHOSTDOWN:
#endif
        return LG_ERR_UNREACHABLE;
    case ETIMEDOUT:
        return LG_ERR_TIMEOUT;
    case EADDRINUSE:
        return LG_ERR_ADDR_IN_USE;
    case EADDRNOTAVAIL:
    case EAFNOSUPPORT:
    case EINVAL:
        return LG_ERR_ADDR_INVALID;
    case EMFILE:
    case ENFILE:
        return LG_ERR_LIMIT;
    case ENOMEM:
    case ENOBUFS:
        return LG_ERR_NOMEM;
    case EACCES:
    case EPERM:
        return LG_ERR_ACCESS;
    case ENOENT:
        return LG_ERR_NOT_FOUND;
    default:
        return LG_ERR_IO;
    }
}

static uint64_t px_now_ms(void *ctx)
{
    struct timespec ts;
    LG_UNUSED(ctx);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* --- addresses --- */

static socklen_t to_sockaddr(const lg_addr *a, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (a->family == 4) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_port = htons(a->port);
        memcpy(&in->sin_addr, a->ip, 4);
        return sizeof *in;
    }
#if !defined(LG_NO_IPV6)
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(a->port);
    in6->sin6_scope_id = a->scope_id;
    memcpy(&in6->sin6_addr, a->ip, 16);
    return sizeof *in6;
#else
    return 0; /* never: lg_addr_parse makes IPv4 addresses only */
#endif
}

static void from_sockaddr(const struct sockaddr *sa, lg_addr *a)
{
    memset(a, 0, sizeof *a);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        a->family = 4;
        a->port = ntohs(in->sin_port);
        memcpy(a->ip, &in->sin_addr, 4);
    }
#if !defined(LG_NO_IPV6)
    else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        a->family = 6;
        a->port = ntohs(in6->sin6_port);
        a->scope_id = in6->sin6_scope_id;
        memcpy(a->ip, &in6->sin6_addr, 16);
    }
#endif
}

/* --- sockets --- */

#if !defined(__linux__)
static int set_nonblock_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFL, 0);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}
#endif

static int new_socket(int family)
{
#if defined(__linux__)
    return socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
    int fd = socket(family, SOCK_STREAM, 0);
    if (fd >= 0 && set_nonblock_cloexec(fd) < 0) {
        close(fd);
        return -1;
    }
    return fd;
#endif
}

static void tune_connected(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#if defined(SO_NOSIGPIPE)
    setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
}

static int px_listen(void *ctx, const lg_addr *addr, unsigned flags, int backlog, int *out,
                     lg_addr *bound)
{
    LG_UNUSED(ctx);
    struct sockaddr_storage ss;
    socklen_t len = to_sockaddr(addr, &ss);
    int fd = new_socket(ss.ss_family);
    if (fd < 0) return map_errno(errno);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (flags & LG_LISTEN_REUSEPORT) {
#if defined(SO_REUSEPORT)
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
            close(fd);
            return LG_ERR_UNSUPPORTED;
        }
#else
        close(fd);
        return LG_ERR_UNSUPPORTED;
#endif
    }
    /* "[::]" listens on IPv6 only, so that "0.0.0.0" can be bound beside it. */
    if (addr->family == 6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
#if defined(__linux__)
    /* Linux copies TCP_NODELAY from a listening socket into every socket
     * accepted from it: set once here, it saves a system call per
     * connection (px_accept). tests/test_net_nodelay.c checks it. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#endif
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, backlog > 0 ? backlog : 511) < 0) {
        int e = errno;
        close(fd);
        return map_errno(e);
    }
    socklen_t blen = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &blen) == 0) from_sockaddr((struct sockaddr *)&ss, bound);
    *out = fd;
    return LG_OK;
}

static int px_accept(void *ctx, int lfd, int *out, lg_addr *peer)
{
    LG_UNUSED(ctx);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    for (;;) {
#if defined(__linux__)
        int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
        int fd = accept(lfd, (struct sockaddr *)&ss, &len);
        if (fd >= 0 && set_nonblock_cloexec(fd) < 0) {
            close(fd);
            continue;
        }
#endif
        if (fd < 0) {
            if (errno == EINTR) continue;
            /* The peer gave up before we took it: nothing to accept. */
            if (errno == ECONNABORTED || errno == EPROTO) return LG_ERR_AGAIN;
            return map_errno(errno);
        }
#if !defined(__linux__)
        tune_connected(fd); /* on Linux, inherited from the listener */
#endif
        if (peer) from_sockaddr((struct sockaddr *)&ss, peer);
        *out = fd;
        return LG_OK;
    }
}

static int px_peer_address(void *ctx, int fd, lg_addr *peer)
{
    LG_UNUSED(ctx);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) return map_errno(errno);
    from_sockaddr((struct sockaddr *)&ss, peer);
    return LG_OK;
}

static int px_connect(void *ctx, const lg_addr *addr, int *out)
{
    LG_UNUSED(ctx);
    struct sockaddr_storage ss;
    socklen_t len = to_sockaddr(addr, &ss);
    int fd = new_socket(ss.ss_family);
    if (fd < 0) return map_errno(errno);
    tune_connected(fd);
    int rc;
    do rc = connect(fd, (struct sockaddr *)&ss, len);
    while (rc < 0 && errno == EINTR);
    if (rc < 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        return map_errno(e);
    }
    *out = fd;
    return rc == 0 ? LG_OK : LG_ERR_AGAIN;
}

static int px_connect_result(void *ctx, int fd)
{
    LG_UNUSED(ctx);
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return map_errno(errno);
    return err ? map_errno(err) : LG_OK;
}

static long px_recv(void *ctx, int fd, void *buf, size_t len)
{
    LG_UNUSED(ctx);
    for (;;) {
        ssize_t n = recv(fd, buf, len, 0);
        if (n >= 0) return (long)n;
        if (errno == EINTR) continue;
        return map_errno(errno);
    }
}

#if defined(MSG_NOSIGNAL)
#define SEND_FLAGS MSG_NOSIGNAL
#else
#define SEND_FLAGS 0 /* SO_NOSIGPIPE was set on the socket */
#endif

static long send_flags(int fd, const lg_str *parts, size_t n, int flags)
{
    if (n == 1) {
        /* One piece (the usual case: answers are gathered into one block):
         * send() spares the kernel the message header and the iovec. */
        for (;;) {
            ssize_t w = send(fd, parts[0].ptr, parts[0].len, flags);
            if (w >= 0) return (long)w;
            if (errno == EINTR) continue;
            return map_errno(errno);
        }
    }
    struct iovec iov[16];
    if (n > 16) n = 16;
    for (size_t i = 0; i < n; i++) {
        iov[i].iov_base = (void *)(uintptr_t)parts[i].ptr;
        iov[i].iov_len = parts[i].len;
    }
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = iov;
    msg.msg_iovlen = n;
    for (;;) {
        ssize_t w = sendmsg(fd, &msg, flags);
        if (w >= 0) return (long)w;
        if (errno == EINTR) continue;
        return map_errno(errno);
    }
}

static long px_send(void *ctx, int fd, const lg_str *parts, size_t n)
{
    LG_UNUSED(ctx);
    return send_flags(fd, parts, n, SEND_FLAGS);
}

#if defined(MSG_MORE)
/* The stream shuts down or sends a file right after this: MSG_MORE keeps
 * the bytes back until then, and the FIN or the file's first bytes ride in
 * their segment. */
static long px_send_more(void *ctx, int fd, const lg_str *parts, size_t n)
{
    LG_UNUSED(ctx);
    return send_flags(fd, parts, n, SEND_FLAGS | MSG_MORE);
}
#define PX_SEND_MORE px_send_more
#else
#define PX_SEND_MORE NULL
#endif

#if defined(__linux__)
static long px_sendfile(void *ctx, int fd, int file, uint64_t offset, size_t len)
{
    LG_UNUSED(ctx);
    off_t off = (off_t)offset;
    /* sendfile() has no MSG_NOSIGNAL: to a client that reset the
     * connection it raises SIGPIPE, which kills a program that did not
     * ignore it. Block SIGPIPE in this thread for the call and take back
     * the one the call raised (one already pending stays pending). */
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    int was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    ssize_t w;
    do {
        w = sendfile(fd, file, &off, len);
    } while (w < 0 && errno == EINTR);
    int e = errno;
    /* Not only a failed call raises it: sendfile() that meets EPIPE after
     * some bytes went reports the short count, with SIGPIPE raised all the
     * same. So take back whatever SIGPIPE the call left pending. */
    sigset_t now;
    if (!was_pending && sigpending(&now) == 0 && sigismember(&now, SIGPIPE)) {
        static const struct timespec no_wait = { 0, 0 };
        while (sigtimedwait(&pipe_set, NULL, &no_wait) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return w >= 0 ? (long)w : map_errno(e);
}
#define PX_SENDFILE px_sendfile
#else
#define PX_SENDFILE NULL
#endif

#if defined(__linux__)
#include <linux/sockios.h> /* SIOCOUTQ */
#include <sys/ioctl.h>
/* Bytes sent and not yet acknowledged by the peer (Linux: unsent plus
 * unacknowledged, for TCP). */
static long px_unacked(void *ctx, int fd)
{
    int n = 0;
    LG_UNUSED(ctx);
    if (ioctl(fd, SIOCOUTQ, &n) != 0) return LG_ERR_IO;
    return n;
}
#define PX_UNACKED px_unacked
#else
#define PX_UNACKED NULL
#endif

static int px_shutdown_write(void *ctx, int fd)
{
    LG_UNUSED(ctx);
    if (shutdown(fd, SHUT_WR) == 0) return LG_OK;
    /* Already disconnected: the read side will tell how. */
    return errno == ENOTCONN ? LG_OK : map_errno(errno);
}

static void px_close(void *ctx, int fd)
{
    LG_UNUSED(ctx);
    close(fd);
}

static void px_abort(void *ctx, int fd)
{
    LG_UNUSED(ctx);
    struct linger lg = { 1, 0 };
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

/* --- wake-up --- */

static int px_waker_open(void *ctx, int fds[2])
{
    LG_UNUSED(ctx);
#if defined(__linux__)
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) return map_errno(errno);
    fds[0] = fds[1] = fd;
#else
    if (pipe(fds) < 0) return map_errno(errno);
    set_nonblock_cloexec(fds[0]);
    set_nonblock_cloexec(fds[1]);
#endif
    return LG_OK;
}

static void px_waker_signal(void *ctx, const int fds[2])
{
    LG_UNUSED(ctx);
#if defined(__linux__)
    uint64_t one = 1;
    ssize_t r = write(fds[1], &one, sizeof one);
#else
    char c = 0;
    ssize_t r = write(fds[1], &c, 1);
#endif
    (void)r; /* full means a wake-up is pending already */
}

static void px_waker_drain(void *ctx, const int fds[2])
{
    LG_UNUSED(ctx);
    char buf[64];
    while (read(fds[0], buf, sizeof buf) > 0) {
    }
}

static void px_waker_close(void *ctx, const int fds[2])
{
    LG_UNUSED(ctx);
    close(fds[0]);
    if (fds[1] != fds[0]) close(fds[1]);
}

/* --- threads --- */

static void *px_mutex_new(void *ctx)
{
    LG_UNUSED(ctx);
    pthread_mutex_t *m = lg_port_alloc(sizeof *m);
    if (m && pthread_mutex_init(m, NULL) != 0) {
        lg_port_free(m, sizeof *m);
        return NULL;
    }
    return m;
}

static void px_mutex_lock(void *ctx, void *m)
{
    LG_UNUSED(ctx);
    pthread_mutex_lock(m);
}

static void px_mutex_unlock(void *ctx, void *m)
{
    LG_UNUSED(ctx);
    pthread_mutex_unlock(m);
}

static void px_mutex_free(void *ctx, void *m)
{
    LG_UNUSED(ctx);
    pthread_mutex_destroy(m);
    lg_port_free(m, sizeof(pthread_mutex_t));
}

typedef struct thread_start_arg {
    void (*fn)(void *);
    void *arg;
} thread_start_arg;

static void *thread_main(void *p)
{
    thread_start_arg a = *(thread_start_arg *)p;
    lg_port_free(p, sizeof a);
    a.fn(a.arg);
    return NULL;
}

static int px_thread_start(void *ctx, void (*fn)(void *), void *arg)
{
    LG_UNUSED(ctx);
    thread_start_arg *a = lg_port_alloc(sizeof *a);
    if (!a) return LG_ERR_NOMEM;
    a->fn = fn;
    a->arg = arg;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    /* The helper thread must not take the process's signals. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t t;
    int rc = pthread_create(&t, &attr, thread_main, a);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        lg_port_free(a, sizeof *a);
        return LG_ERR_NOMEM;
    }
    return LG_OK;
}

static int px_getaddrinfo(void *ctx, const char *host, uint16_t port, lg_addr *out, size_t max,
                          size_t *n)
{
    LG_UNUSED(ctx);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
#if defined(LG_NO_IPV6)
    hints.ai_family = AF_INET;
#else
    hints.ai_family = AF_UNSPEC;
#endif
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc == EAI_MEMORY) return LG_ERR_NOMEM;
    if (rc != 0) return LG_ERR_RESOLVE;
    *n = 0;
    for (struct addrinfo *ai = res; ai && *n < max; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
        from_sockaddr(ai->ai_addr, &out[*n]);
        out[*n].port = port;
        (*n)++;
    }
    freeaddrinfo(res);
    return *n ? LG_OK : LG_ERR_RESOLVE;
}

const lg_net lg_net_posix = {
    .name = "posix",
    .now_ms = px_now_ms,
    .listen = px_listen,
    .accept = px_accept,
    .peer_address = px_peer_address,
    .connect = px_connect,
    .connect_result = px_connect_result,
    .recv = px_recv,
    .send = px_send,
    .sendfile = PX_SENDFILE,
    .shutdown_write = px_shutdown_write,
    .close = px_close,
    .abort = px_abort,
    .waker_open = px_waker_open,
    .waker_signal = px_waker_signal,
    .waker_drain = px_waker_drain,
    .waker_close = px_waker_close,
    .mutex_new = px_mutex_new,
    .mutex_lock = px_mutex_lock,
    .mutex_unlock = px_mutex_unlock,
    .mutex_free = px_mutex_free,
    .thread_start = px_thread_start,
    .getaddrinfo = px_getaddrinfo,
    .send_more = PX_SEND_MORE,
    .read_before_fin = 0, /* Linux's stack has no lwIP LAST_ACK bug */
    .unacked = PX_UNACKED,
};
