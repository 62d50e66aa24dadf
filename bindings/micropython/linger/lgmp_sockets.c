/*
 * Every socket linger opens, known by its descriptor, so that a soft reset
 * (Ctrl-D on a device) can close them.
 *
 * A soft reset throws MicroPython's heap away, linger's memory with it,
 * but not the platform's sockets: without this, linger's listener would
 * stay bound (the restarted application's listen() fails with
 * EADDRINUSE) and its connections would stay open with nobody to read
 * them. The sockets belong to linger's streams and listeners, which the
 * binding cannot walk from outside, so the binding gives the loop its
 * platform (lg_net) wrapped: what listen, accept and connect open is
 * noted, what close and abort end is forgotten. The soft reset's sweep
 * runs the Loop object's finaliser (modlinger.c), which closes what is
 * still noted. The cost is a few instructions per connection.
 *
 * Every call into the platform is made with the port's lwIP lock held
 * (lgmp_lock.h). The unix tests' build (LGMP_LOCK_CHECK) wraps every
 * operation, not only these five, and checks it.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "lgmp.h"

#ifndef LG_DEFAULT_NET
#define LG_DEFAULT_NET lg_net_posix
#endif
extern const lg_net LG_DEFAULT_NET;

static const lg_net *const base = &LG_DEFAULT_NET;
static lg_net tracked; /* the base's functions, five of them wrapped */

/* Note fd; 0, or -1 without memory for it (the caller closes it then). */
static int note(int fd)
{
    lgmp_state *st = lgmp_get();
    if (st->nsockets == st->cap_sockets) {
        uint32_t cap = st->cap_sockets ? st->cap_sockets * 2 : 8;
        int *s = lg_port_alloc(cap * sizeof *s);
        if (!s) return -1;
        if (st->nsockets) memcpy(s, st->sockets, st->nsockets * sizeof *s);
        lg_port_free(st->sockets, st->cap_sockets * sizeof *s);
        st->sockets = s;
        st->cap_sockets = cap;
    }
    st->sockets[st->nsockets++] = fd;
    return 0;
}

static void forget(int fd)
{
    lgmp_state *st = lgmp_get();
    for (uint32_t i = st->nsockets; i-- > 0;) {
        if (st->sockets[i] == fd) {
            st->sockets[i] = st->sockets[--st->nsockets];
            return;
        }
    }
}

static int t_listen(void *ctx, const lg_addr *addr, unsigned flags, int backlog, int *fd,
                    lg_addr *bound)
{
    LGMP_LOCK_HELD("listen");
    int rc = base->listen(ctx, addr, flags, backlog, fd, bound);
    if (rc == LG_OK && note(*fd) != 0) {
        base->close(ctx, *fd);
        return LG_ERR_NOMEM;
    }
    return rc;
}

static int t_accept(void *ctx, int listen_fd, int *fd, lg_addr *peer)
{
    LGMP_LOCK_HELD("accept");
    int rc = base->accept(ctx, listen_fd, fd, peer);
    if (rc == LG_OK && note(*fd) != 0) {
        base->abort(ctx, *fd); /* (nothing was read from it: RST, as a refusal) */
        return LG_ERR_AGAIN;
    }
    return rc;
}

static int t_connect(void *ctx, const lg_addr *addr, int *fd)
{
    LGMP_LOCK_HELD("connect");
    int rc = base->connect(ctx, addr, fd);
    if ((rc == LG_OK || rc == LG_ERR_AGAIN) && note(*fd) != 0) {
        base->abort(ctx, *fd);
        return LG_ERR_NOMEM;
    }
    return rc;
}

static void t_close(void *ctx, int fd)
{
    LGMP_LOCK_HELD("close");
    forget(fd);
    base->close(ctx, fd);
}

static void t_abort(void *ctx, int fd)
{
    LGMP_LOCK_HELD("abort");
    forget(fd);
    base->abort(ctx, fd);
}

#if defined(LGMP_LOCK_CHECK)
/* The rest of the platform's operations, each checked for the lock. */
static uint64_t c_now_ms(void *ctx)
{
    LGMP_LOCK_HELD("now_ms");
    return base->now_ms(ctx);
}

static int c_peer_address(void *ctx, int fd, lg_addr *peer)
{
    LGMP_LOCK_HELD("peer_address");
    return base->peer_address(ctx, fd, peer);
}

static int c_connect_result(void *ctx, int fd)
{
    LGMP_LOCK_HELD("connect_result");
    return base->connect_result(ctx, fd);
}

static long c_recv(void *ctx, int fd, void *buf, size_t len)
{
    LGMP_LOCK_HELD("recv");
    return base->recv(ctx, fd, buf, len);
}

static long c_send(void *ctx, int fd, const lg_str *parts, size_t n)
{
    LGMP_LOCK_HELD("send");
    return base->send(ctx, fd, parts, n);
}

static long c_send_more(void *ctx, int fd, const lg_str *parts, size_t n)
{
    LGMP_LOCK_HELD("send_more");
    return base->send_more(ctx, fd, parts, n);
}

static long c_sendfile(void *ctx, int fd, int file, uint64_t offset, size_t len)
{
    LGMP_LOCK_HELD("sendfile");
    return base->sendfile(ctx, fd, file, offset, len);
}

static int c_shutdown_write(void *ctx, int fd)
{
    LGMP_LOCK_HELD("shutdown_write");
    return base->shutdown_write(ctx, fd);
}

static long c_unacked(void *ctx, int fd)
{
    LGMP_LOCK_HELD("unacked");
    return base->unacked(ctx, fd);
}

static void check_all(lg_net *n)
{
    /* (only what the base has: a NULL stays NULL, linger asks for it) */
    if (n->now_ms) n->now_ms = c_now_ms;
    if (n->peer_address) n->peer_address = c_peer_address;
    if (n->connect_result) n->connect_result = c_connect_result;
    if (n->recv) n->recv = c_recv;
    if (n->send) n->send = c_send;
    if (n->send_more) n->send_more = c_send_more;
    if (n->sendfile) n->sendfile = c_sendfile;
    if (n->shutdown_write) n->shutdown_write = c_shutdown_write;
    if (n->unacked) n->unacked = c_unacked;
}
#endif

const lg_net *lgmp_net(void)
{
    tracked = *base;
    tracked.listen = t_listen;
    tracked.accept = t_accept;
    tracked.connect = t_connect;
    tracked.close = t_close;
    tracked.abort = t_abort;
#if defined(LGMP_LOCK_CHECK)
    check_all(&tracked);
#endif
    return &tracked;
}

void lgmp_close_sockets(void *ctx)
{
    LGMP_LOCK_HELD("close (soft reset)");
    lgmp_state *st = lgmp_get();
    while (st->nsockets) base->close(ctx, st->sockets[--st->nsockets]);
}
