/*
 * The lwIP platform (FreeRTOS, ESP-IDF, bare lwIP with the socket API):
 * linger's lg_net on top of lwIP's BSD-style sockets. Build it instead of
 * src/net_posix.c and src/loop_epoll.c, with -DLG_DEFAULT_NET=lg_net_lwip,
 * and give the poll backend lwIP's poll (LWIP_SOCKET_POLL=1: a <poll.h>
 * that maps poll to lwip_poll; ESP-IDF has one). docs/porting.md says more.
 *
 * What matters most here is rule 3: lwIP's tcp_close() sends RST whenever
 * received data was not taken by the application, so the stream's graceful
 * close, which reads input until the peer's FIN through lwip_recv (handing
 * the window back to the stack), is what lets a close end with FIN.
 *
 * lwIP options this port needs: LWIP_SOCKET, LWIP_SOCKET_POLL,
 * LWIP_SO_LINGER (for lg_stream_abort), LWIP_TCP, LWIP_UDP and a loopback
 * interface (LWIP_HAVE_LOOPIF or LWIP_NETIF_LOOPBACK) for the wake-up
 * socket, LWIP_DNS for host names, and sys_mutex/sys_thread (an OS port).
 */
#include <errno.h>
#include <string.h>

#include "linger_port.h"
#include "lwip/def.h"
#include "lwip/netdb.h"
#include "lwip/sockets.h"
#include "lwip/sys.h"

/* lwIP's own socket structures carry a length byte (BSD's sin_len); a build
 * with LWIP_SOCKET_EXTERNAL_HEADERS takes the system's, which may not. */
#if !defined(LWIP_SOCKET_EXTERNAL_HEADERS) || !LWIP_SOCKET_EXTERNAL_HEADERS
#define SET_SIN_LEN(sa, n) ((sa)->sin_len = (u8_t)(n))
#define SET_SIN6_LEN(sa, n) ((sa)->sin6_len = (u8_t)(n))
#else
#define SET_SIN_LEN(sa, n) ((void)(sa), (void)(n))
#define SET_SIN6_LEN(sa, n) ((void)(sa), (void)(n))
#endif

/* Stack for the resolver's helper task (lwip_getaddrinfo blocks). */
#ifndef LG_LWIP_RESOLVER_STACK
#define LG_LWIP_RESOLVER_STACK 3072
#endif
#ifndef LG_LWIP_RESOLVER_PRIO
#define LG_LWIP_RESOLVER_PRIO 5
#endif

static int map_errno(int e)
{
    switch (e) {
    case EAGAIN:
#if defined(EWOULDBLOCK) && EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case EINPROGRESS:
        return LG_ERR_AGAIN;
    case ECONNRESET:
    case ECONNABORTED:
    case ENOTCONN: /* lwIP's answer on a connection the peer reset */
        return LG_ERR_RESET;
    case EPIPE:
        return LG_ERR_PIPE;
    case ECONNREFUSED:
        return LG_ERR_REFUSED;
    case EHOSTUNREACH:
        return LG_ERR_UNREACHABLE;
    case ETIMEDOUT:
        return LG_ERR_TIMEOUT;
    case EADDRINUSE:
        return LG_ERR_ADDR_IN_USE;
    case ENFILE:
    case EMFILE:
        return LG_ERR_LIMIT;
    case ENOMEM:
    case ENOBUFS:
        return LG_ERR_NOMEM;
    default:
        return LG_ERR_IO;
    }
}

static uint64_t lw_now_ms(void *ctx)
{
    /* sys_now wraps every 49 days: widen it. (One loop per device is the
     * usual case; several loops in several tasks would need a lock here.) */
    static uint32_t last;
    static uint64_t high;
    (void)ctx;
    uint32_t now = sys_now();
    if (now < last) high += UINT64_C(1) << 32;
    last = now;
    return high | now;
}

static socklen_t to_sockaddr(const lg_addr *a, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (a->family == 4) {
        struct sockaddr_in *in = (struct sockaddr_in *)(void *)ss;
        SET_SIN_LEN(in, sizeof *in);
        in->sin_family = AF_INET;
        in->sin_port = lwip_htons(a->port);
        memcpy(&in->sin_addr, a->ip, 4);
        return sizeof *in;
    }
#if !defined(LG_NO_IPV6)
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)ss;
    SET_SIN6_LEN(in6, sizeof *in6);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = lwip_htons(a->port);
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
        a->port = lwip_htons(in->sin_port);
        memcpy(a->ip, &in->sin_addr, 4);
    }
#if !defined(LG_NO_IPV6)
    else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        a->family = 6;
        a->port = lwip_htons(in6->sin6_port);
        a->scope_id = in6->sin6_scope_id;
        memcpy(a->ip, &in6->sin6_addr, 16);
    }
#endif
}

static int nonblocking(int fd)
{
    int fl = lwip_fcntl(fd, F_GETFL, 0);
    return lwip_fcntl(fd, F_SETFL, (fl < 0 ? 0 : fl) | O_NONBLOCK);
}

static int lw_listen(void *ctx, const lg_addr *addr, unsigned flags, int backlog, int *out,
                     lg_addr *bound)
{
    (void)ctx;
    if (flags & LG_LISTEN_REUSEPORT) return LG_ERR_UNSUPPORTED;
    struct sockaddr_storage ss;
    socklen_t len = to_sockaddr(addr, &ss);
    int fd = lwip_socket(addr->family == 4 ? AF_INET : AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) return map_errno(errno);
    int one = 1;
    lwip_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lwip_bind(fd, (struct sockaddr *)&ss, len) < 0 || lwip_listen(fd, backlog > 0 ? backlog : 4) < 0 ||
        nonblocking(fd) < 0) {
        int e = errno;
        lwip_close(fd);
        return map_errno(e);
    }
    socklen_t blen = sizeof ss;
    if (lwip_getsockname(fd, (struct sockaddr *)&ss, &blen) == 0) from_sockaddr((struct sockaddr *)&ss, bound);
    *out = fd;
    return LG_OK;
}

static int lw_accept(void *ctx, int lfd, int *out, lg_addr *peer)
{
    (void)ctx;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = lwip_accept(lfd, (struct sockaddr *)&ss, &len);
    if (fd < 0) return map_errno(errno);
    int one = 1;
    nonblocking(fd);
    lwip_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (peer) from_sockaddr((struct sockaddr *)&ss, peer);
    *out = fd;
    return LG_OK;
}

static int lw_peer_address(void *ctx, int fd, lg_addr *peer)
{
    (void)ctx;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (lwip_getpeername(fd, (struct sockaddr *)&ss, &len) < 0) return map_errno(errno);
    from_sockaddr((struct sockaddr *)&ss, peer);
    return LG_OK;
}

/* Connecting is the client's (not with LG_NO_CLIENT). */
#if !defined(LG_NO_CLIENT)
static int lw_connect(void *ctx, const lg_addr *addr, int *out)
{
    (void)ctx;
    struct sockaddr_storage ss;
    socklen_t len = to_sockaddr(addr, &ss);
    int fd = lwip_socket(addr->family == 4 ? AF_INET : AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) return map_errno(errno);
    int one = 1;
    nonblocking(fd);
    lwip_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (lwip_connect(fd, (struct sockaddr *)&ss, len) == 0) {
        *out = fd;
        return LG_OK;
    }
    int e = errno;
    if (e != EINPROGRESS) {
        lwip_close(fd);
        return map_errno(e);
    }
    *out = fd;
    return LG_ERR_AGAIN;
}

static int lw_connect_result(void *ctx, int fd)
{
    (void)ctx;
    int err = 0;
    socklen_t len = sizeof err;
    if (lwip_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return map_errno(errno);
    return err ? map_errno(err) : LG_OK;
}
#endif

static long lw_recv(void *ctx, int fd, void *buf, size_t len)
{
    (void)ctx;
    ssize_t n = lwip_recv(fd, buf, len, MSG_DONTWAIT);
    return n >= 0 ? (long)n : map_errno(errno);
}

static long lw_send(void *ctx, int fd, const lg_str *parts, size_t n)
{
    (void)ctx;
    struct iovec iov[8];
    if (n > 8) n = 8;
    for (size_t i = 0; i < n; i++) {
        iov[i].iov_base = (void *)(uintptr_t)parts[i].ptr;
        iov[i].iov_len = parts[i].len;
    }
    /* lwIP raises no signals: nothing like SIGPIPE to guard against. */
    ssize_t w = lwip_writev(fd, iov, (int)n);
    return w >= 0 ? (long)w : map_errno(errno);
}

static int lw_shutdown_write(void *ctx, int fd)
{
    (void)ctx;
    return lwip_shutdown(fd, SHUT_WR) == 0 || errno == ENOTCONN ? LG_OK : map_errno(errno);
}

static void lw_close(void *ctx, int fd)
{
    (void)ctx;
    lwip_close(fd);
}

static void lw_abort(void *ctx, int fd)
{
    (void)ctx;
    struct linger l = { 1, 0 };
    lwip_setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    lwip_close(fd);
}

/* --- wake-up: a UDP socket on loopback that sends itself a byte (not
 * with LG_NO_THREADS, which needs neither it nor the OS port's mutexes and
 * tasks below) --- */
#if !defined(LG_NO_THREADS)

static int lw_waker_open(void *ctx, int fds[2])
{
    (void)ctx;
    int fd = lwip_socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return map_errno(errno);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    SET_SIN_LEN(&sa, sizeof sa);
    sa.sin_family = AF_INET;
    static const uint8_t loopback[4] = { 127, 0, 0, 1 };
    memcpy(&sa.sin_addr, loopback, 4);
    socklen_t len = sizeof sa;
    if (lwip_bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        lwip_getsockname(fd, (struct sockaddr *)&sa, &len) < 0 ||
        lwip_connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || nonblocking(fd) < 0) {
        int e = errno;
        lwip_close(fd);
        return map_errno(e);
    }
    fds[0] = fds[1] = fd;
    return LG_OK;
}

static void lw_waker_signal(void *ctx, const int fds[2])
{
    (void)ctx;
    char c = 0;
    lwip_send(fds[1], &c, 1, MSG_DONTWAIT);
}

static void lw_waker_drain(void *ctx, const int fds[2])
{
    (void)ctx;
    char buf[16];
    while (lwip_recv(fds[0], buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
}

static void lw_waker_close(void *ctx, const int fds[2])
{
    (void)ctx;
    lwip_close(fds[0]);
}

/* --- the OS port's mutexes and tasks --- */

static void *lw_mutex_new(void *ctx)
{
    (void)ctx;
    sys_mutex_t *m = lg_port_alloc(sizeof *m);
    if (m && sys_mutex_new(m) != ERR_OK) {
        lg_port_free(m, sizeof *m);
        return NULL;
    }
    return m;
}

static void lw_mutex_lock(void *ctx, void *m)
{
    (void)ctx;
    sys_mutex_lock(m);
}

static void lw_mutex_unlock(void *ctx, void *m)
{
    (void)ctx;
    sys_mutex_unlock(m);
}

static void lw_mutex_free(void *ctx, void *m)
{
    (void)ctx;
    sys_mutex_free(m);
    lg_port_free(m, sizeof(sys_mutex_t));
}

static int lw_thread_start(void *ctx, void (*fn)(void *), void *arg)
{
    (void)ctx;
    return sys_thread_new("lg_resolve", fn, arg, LG_LWIP_RESOLVER_STACK, LG_LWIP_RESOLVER_PRIO)
               ? LG_OK
               : LG_ERR_NOMEM;
}

static int lw_getaddrinfo(void *ctx, const char *host, uint16_t port, lg_addr *out, size_t max,
                          size_t *n)
{
    (void)ctx;
#if !defined(LWIP_DNS) || LWIP_DNS
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (lwip_getaddrinfo(host, NULL, &hints, &res) != 0 || !res) return LG_ERR_RESOLVE;
    *n = 0;
    for (struct addrinfo *ai = res; ai && *n < max; ai = ai->ai_next) {
        from_sockaddr(ai->ai_addr, &out[*n]);
        if (!out[*n].family) continue;
        out[*n].port = port;
        (*n)++;
    }
    lwip_freeaddrinfo(res);
    return *n ? LG_OK : LG_ERR_RESOLVE;
#else
    /* An lwIP without DNS (LWIP_DNS 0): numeric addresses only, which
     * never come here. */
    (void)host, (void)port, (void)out, (void)max;
    *n = 0;
    return LG_ERR_RESOLVE;
#endif
}
#endif

const lg_net lg_net_lwip = {
    .name = "lwip",
    .now_ms = lw_now_ms,
    .listen = lw_listen,
    .accept = lw_accept,
    .peer_address = lw_peer_address,
#if !defined(LG_NO_CLIENT)
    .connect = lw_connect,
    .connect_result = lw_connect_result,
#endif
    .recv = lw_recv,
    .send = lw_send,
    .sendfile = NULL, /* the server reads files itself and sends them */
    .shutdown_write = lw_shutdown_write,
    .close = lw_close,
    .abort = lw_abort,
#if !defined(LG_NO_THREADS)
    .waker_open = lw_waker_open,
    .waker_signal = lw_waker_signal,
    .waker_drain = lw_waker_drain,
    .waker_close = lw_waker_close,
    .mutex_new = lw_mutex_new,
    .mutex_lock = lw_mutex_lock,
    .mutex_unlock = lw_mutex_unlock,
    .mutex_free = lw_mutex_free,
    .thread_start = lw_thread_start,
    .getaddrinfo = lw_getaddrinfo,
#endif
    /* lwIP 2.1's LAST_ACK double free: see lg_net.read_before_fin. */
    .read_before_fin = 1,
};
