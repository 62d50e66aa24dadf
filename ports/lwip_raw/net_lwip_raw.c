/*
 * linger on lwIP's raw API with NO_SYS=1 (linger_lwip_raw.h): the
 * platform's operations on tcp_pcb callbacks, and a superloop backend.
 *
 * lwIP calls us from inside its input and timer processing — with each
 * received pbuf, when the peer acknowledged data, when a connection died.
 * Those callbacks only queue and mark, in a table of slots whose index is
 * the descriptor linger sees. The two halves of linger's contract meet
 * there:
 *
 *   recv            takes bytes from the slot's pbuf queue, and calls
 *                   tcp_recved for exactly what it took: the window the
 *                   peer sees is what linger has really consumed
 *   send            tcp_write (copied) up to tcp_sndbuf, then tcp_output;
 *                   LG_ERR_AGAIN when lwIP has no room or no memory
 *   shutdown_write  tcp_shutdown(pcb, 0, 1): FIN, reading goes on
 *   close           tcp_close, which linger calls only once it has read up
 *                   to the peer's FIN (or given up on it), so lwIP never
 *                   finds unread data and never turns the close into RST
 *   abort           tcp_abort: lg_stream_abort only
 *
 *   the backend's wait, the superloop: the interface's frames to lwIP
 *   (hooks.input), lwIP's timers (sys_check_timeouts), then every watched
 *   slot that is readable (queued bytes, the FIN, an error) or writable
 *   (send room, as lwIP's own sockets judge it: TCP_SNDLOWAT and
 *   TCP_SNDQUEUELOWAT) is handed to linger; with none, sleep (hooks.idle)
 *   until an interrupt, lwIP's next timer or linger's.
 *
 * Back-pressure: a tcp_write that finds no memory (lwIP's heap is shared by
 * every connection's unacknowledged bytes) marks the slot blocked; it is
 * not reported writable again until lwIP's sent callback says that some
 * connection's data was acknowledged (memory came free) or its poll
 * callback comes round (once a second), so a connection waiting for memory
 * sleeps instead of spinning.
 *
 * Connections lwIP accepted but linger has not taken yet wait in their
 * listener's queue and still count against its backlog
 * (tcp_backlog_delayed): beyond it lwIP drops new SYNs, and the peers
 * retransmit them — they wait; nothing is refused with RST.
 *
 * One loop per device (NO_SYS lwIP is a single thread of control): the
 * table is this file's, not the loop's.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "linger_lwip_raw.h"
#include "lwip/opt.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#if !NO_SYS || !LWIP_TCP || !LWIP_CALLBACK_API
#error "the lwIP raw-API port wants NO_SYS=1, LWIP_TCP=1 and LWIP_CALLBACK_API=1"
#endif
#if LWIP_WND_SCALE || TCP_WND > 0xffff
#error "the lwIP raw-API port keeps a connection's unread bytes in one pbuf chain: TCP_WND <= 65535"
#endif

/* Every tcp_pcb lwIP can make may need a slot (a listener's newcomers are
 * given one in its accept callback, where refusing means RST), so the
 * table has one per pcb unless told otherwise. A slot whose pcb lwIP freed
 * (a reset) is free again once linger closes it, at the next turn of the
 * loop: where resets come in bursts while every pcb is in use, give it a
 * few more. */
#ifndef LG_LWIP_RAW_SOCKETS
#define LG_LWIP_RAW_SOCKETS (MEMP_NUM_TCP_PCB + MEMP_NUM_TCP_PCB_LISTEN)
#endif
#if LG_LWIP_RAW_SOCKETS < MEMP_NUM_TCP_PCB + MEMP_NUM_TCP_PCB_LISTEN
#error "LG_LWIP_RAW_SOCKETS must cover MEMP_NUM_TCP_PCB + MEMP_NUM_TCP_PCB_LISTEN"
#endif
#if LG_LWIP_RAW_SOCKETS > 127
#error "LG_LWIP_RAW_SOCKETS: at most 127"
#endif
/* Connections accepted by lwIP and not yet by linger, per listener (the
 * server asks for 511: lwIP's backlog is a u8_t, and every one is a pcb). */
#ifndef LG_LWIP_RAW_BACKLOG
#define LG_LWIP_RAW_BACKLOG 4
#endif
/* lwIP's poll callback, in its coarse ticks (TCP_SLOW_INTERVAL, 500 ms). */
#define POLL_TICKS 2

enum { K_FREE = 0, K_LISTEN, K_CONN };

#define F_FIN 0x01        /* the peer's FIN came (recv callback, NULL pbuf) */
#define F_GONE 0x02       /* lwIP freed the pcb (tcp_err) */
#define F_TAKEN 0x04      /* linger has it (accepted or connected by it) */
#define F_CONNECTING 0x08 /* tcp_connect sent SYN, no answer yet */
#define F_BLOCKED 0x10    /* tcp_write found no memory: wait for sent/poll */
#define F_HELD 0x20       /* send_more: written, not yet output */
#define F_SHUT 0x40       /* our FIN is queued */
#define F_CLOSING 0x80    /* linger closed it; tcp_close still to succeed */

typedef struct sock {
    struct tcp_pcb *pcb; /* a listener's is a tcp_pcb_listen, as lwIP returns it */
    struct pbuf *rx;     /* received, not yet read: one chain */
    lg_io *io;           /* linger's watcher, while it watches */
    int8_t err;          /* how it ended, when lwIP ended it (an lg_err) */
    int8_t next;         /* a pending connection: the next in its listener's queue */
    int8_t first, last;  /* a listener: its queue of pending connections */
    uint8_t kind, flags;
} sock;

static sock socks[LG_LWIP_RAW_SOCKETS];
static lg_lwip_raw_hooks hooks;
static lg_lwip_raw_stats stats;

void lg_lwip_raw_set_hooks(const lg_lwip_raw_hooks *h)
{
    if (h) hooks = *h;
    else memset(&hooks, 0, sizeof hooks);
}

void lg_lwip_raw_get_stats(lg_lwip_raw_stats *out)
{
    stats.sockets = stats.rx_queued = 0;
    for (int i = 0; i < LG_LWIP_RAW_SOCKETS; i++) {
        if (socks[i].kind == K_FREE) continue;
        stats.sockets++;
        if (socks[i].rx) stats.rx_queued += socks[i].rx->tot_len;
    }
    *out = stats;
}

/* --- the table --- */

static sock *get(int fd, int kind)
{
    return fd >= 0 && fd < LG_LWIP_RAW_SOCKETS && socks[fd].kind == kind ? &socks[fd] : NULL;
}

static int fd_of(const sock *s)
{
    return (int)(s - socks);
}

static sock *slot_new(int kind)
{
    for (int i = 0; i < LG_LWIP_RAW_SOCKETS; i++) {
        if (socks[i].kind != K_FREE) continue;
        memset(&socks[i], 0, sizeof socks[i]);
        socks[i].kind = (uint8_t)kind;
        socks[i].next = socks[i].first = socks[i].last = -1;
        return &socks[i];
    }
    return NULL;
}

static void slot_free(sock *s)
{
    if (s->rx) pbuf_free(s->rx);
    memset(s, 0, sizeof *s);
}

/* --- addresses --- */

static int to_ip(const lg_addr *a, ip_addr_t *ip)
{
    if (a->family != 4) return LG_ERR_UNSUPPORTED; /* IPv4 only, as the device builds lwIP */
    IP_ADDR4(ip, a->ip[0], a->ip[1], a->ip[2], a->ip[3]);
    return LG_OK;
}

static void from_ip(const ip_addr_t *ip, u16_t port, lg_addr *a)
{
    memset(a, 0, sizeof *a);
    if (!IP_IS_V4(ip)) return;
    u32_t v = ip4_addr_get_u32(ip_2_ip4(ip)); /* network order */
    a->family = 4;
    a->port = port;
    memcpy(a->ip, &v, 4);
}

static int map_err(err_t e)
{
    switch (e) {
    case ERR_OK:
        return LG_OK;
    case ERR_MEM:
    case ERR_BUF:
        return LG_ERR_NOMEM;
    case ERR_USE:
    case ERR_ISCONN:
        return LG_ERR_ADDR_IN_USE;
    case ERR_RTE:
        return LG_ERR_UNREACHABLE;
    case ERR_RST:
        return LG_ERR_RESET;
    case ERR_ABRT:
        return LG_ERR_TIMEOUT; /* the stack gave up: retransmissions, keep-alive */
    case ERR_CLSD:
        return LG_ERR_CLOSED;
    default:
        return LG_ERR_IO;
    }
}

/* --- lwIP's callbacks: queue and mark, nothing else --- */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    sock *s = arg;
    LWIP_UNUSED_ARG(err); /* always ERR_OK in lwIP 2.1 */
    if (!s) { /* not ours (never: closing detaches us): as tcp_recv_null */
        if (p) {
            tcp_recved(pcb, p->tot_len);
            pbuf_free(p);
        }
        return ERR_OK;
    }
    if (!p) {
        s->flags |= F_FIN;
        return ERR_OK;
    }
    if (s->rx) pbuf_cat(s->rx, p); /* at most a window: within tot_len's 16 bits */
    else s->rx = p;
    return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    LWIP_UNUSED_ARG(arg);
    LWIP_UNUSED_ARG(pcb);
    LWIP_UNUSED_ARG(len);
    /* Memory came free (lwIP's heap is everybody's): whoever waited for
     * it may write again. */
    for (int i = 0; i < LG_LWIP_RAW_SOCKETS; i++) socks[i].flags &= (uint8_t)~F_BLOCKED;
    return ERR_OK;
}

static err_t on_poll(void *arg, struct tcp_pcb *pcb)
{
    sock *s = arg;
    LWIP_UNUSED_ARG(pcb);
    if (s) s->flags &= (uint8_t)~F_BLOCKED; /* try again now and then, whatever freed memory */
    return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
    sock *s = arg;
    if (!s) return;
    /* The pcb is gone already. ERR_CLSD: it ended normally (our FIN and the
     * peer's both acknowledged before linger closed): an EOF. */
    s->pcb = NULL;
    s->flags |= F_GONE;
    if (err == ERR_CLSD) {
        s->flags |= F_FIN;
    } else {
        s->err = (int8_t)(err == ERR_RST && (s->flags & F_CONNECTING) ? LG_ERR_REFUSED : map_err(err));
        if (err == ERR_RST) stats.resets++;
    }
    s->flags &= (uint8_t)~F_CONNECTING;
    if (s->flags & F_CLOSING) slot_free(s); /* linger is done with it already */
}

static void attach(sock *s, struct tcp_pcb *pcb)
{
    s->pcb = pcb;
    tcp_arg(pcb, s);
    tcp_recv(pcb, on_recv);
    tcp_sent(pcb, on_sent);
    tcp_err(pcb, on_err);
    tcp_poll(pcb, on_poll, POLL_TICKS);
    tcp_nagle_disable(pcb); /* linger sends whole answers; lwIP must not wait */
}

static void detach(struct tcp_pcb *pcb)
{
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
    tcp_poll(pcb, NULL, 0);
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    sock *l = arg;
    if (err != ERR_OK || !pcb || !l) return ERR_VAL;
    sock *s = slot_new(K_CONN); /* there is one per pcb: never NULL */
    if (!s) return ERR_MEM;     /* (lwIP would reset it) */
    attach(s, pcb);
    /* It counts against the backlog until linger takes it. */
    tcp_backlog_delayed(pcb);
    if (l->last >= 0) socks[l->last].next = (int8_t)fd_of(s);
    else l->first = (int8_t)fd_of(s);
    l->last = (int8_t)fd_of(s);
    stats.accepted++;
    return ERR_OK;
}

#if !defined(LG_NO_CLIENT)
static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    sock *s = arg;
    LWIP_UNUSED_ARG(pcb);
    LWIP_UNUSED_ARG(err);
    if (s) s->flags &= (uint8_t)~F_CONNECTING;
    return ERR_OK;
}
#endif

/* --- lg_net --- */

static uint64_t raw_now_ms(void *ctx)
{
    /* sys_now wraps every 49 days: widen it. */
    static uint32_t last;
    static uint64_t high;
    LWIP_UNUSED_ARG(ctx);
    uint32_t now = sys_now();
    if (now < last) high += UINT64_C(1) << 32;
    last = now;
    return high | now;
}

static int raw_listen(void *ctx, const lg_addr *addr, unsigned flags, int backlog, int *fd,
                      lg_addr *bound)
{
    LWIP_UNUSED_ARG(ctx);
    if (flags & LG_LISTEN_REUSEPORT) return LG_ERR_UNSUPPORTED;
    ip_addr_t ip;
    int rc = to_ip(addr, &ip);
    if (rc) return rc;
    sock *l = slot_new(K_LISTEN);
    if (!l) return LG_ERR_LIMIT;
    struct tcp_pcb *pcb = tcp_new();
    if (!pcb) {
        slot_free(l);
        return LG_ERR_NOMEM;
    }
    err_t e = tcp_bind(pcb, &ip, addr->port);
    if (e != ERR_OK) {
        tcp_close(pcb);
        slot_free(l);
        return map_err(e);
    }
    u8_t bl = (u8_t)(backlog <= 0 || backlog > LG_LWIP_RAW_BACKLOG ? LG_LWIP_RAW_BACKLOG : backlog);
    struct tcp_pcb *lp = tcp_listen_with_backlog_and_err(pcb, bl, &e);
    if (!lp) {
        tcp_close(pcb);
        slot_free(l);
        return map_err(e);
    }
    l->pcb = lp;
    tcp_arg(lp, l);
    tcp_accept(lp, on_accept);
    *bound = *addr;
    bound->port = lp->local_port;
    *fd = fd_of(l);
    return LG_OK;
}

static int raw_accept(void *ctx, int lfd, int *fd, lg_addr *peer)
{
    LWIP_UNUSED_ARG(ctx);
    sock *l = get(lfd, K_LISTEN);
    if (!l) return LG_ERR_IO;
    while (l->first >= 0) {
        sock *s = &socks[l->first];
        l->first = s->next;
        if (l->first < 0) l->last = -1;
        s->next = -1;
        if ((s->flags & F_GONE) && !s->rx && !(s->flags & F_FIN)) {
            slot_free(s); /* reset before anybody saw it: nothing to hand over */
            continue;
        }
        s->flags |= F_TAKEN;
        if (s->pcb) {
            tcp_backlog_accepted(s->pcb);
            if (peer) from_ip(&s->pcb->remote_ip, s->pcb->remote_port, peer);
        } else if (peer) {
            memset(peer, 0, sizeof *peer);
        }
        *fd = fd_of(s);
        return LG_OK;
    }
    return LG_ERR_AGAIN;
}

static int raw_peer_address(void *ctx, int fd, lg_addr *peer)
{
    LWIP_UNUSED_ARG(ctx);
    sock *s = get(fd, K_CONN);
    if (!s || !s->pcb) return LG_ERR_CLOSED;
    from_ip(&s->pcb->remote_ip, s->pcb->remote_port, peer);
    return LG_OK;
}

#if !defined(LG_NO_CLIENT)
static int raw_connect(void *ctx, const lg_addr *addr, int *fd)
{
    LWIP_UNUSED_ARG(ctx);
    ip_addr_t ip;
    int rc = to_ip(addr, &ip);
    if (rc) return rc;
    sock *s = slot_new(K_CONN);
    if (!s) return LG_ERR_LIMIT;
    struct tcp_pcb *pcb = tcp_new();
    if (!pcb) {
        slot_free(s);
        return LG_ERR_NOMEM;
    }
    attach(s, pcb);
    s->flags |= F_TAKEN | F_CONNECTING;
    err_t e = tcp_connect(pcb, &ip, addr->port, on_connected);
    if (e != ERR_OK) {
        detach(pcb);
        tcp_abort(pcb); /* never connected: nothing to say to anybody */
        slot_free(s);
        return map_err(e);
    }
    *fd = fd_of(s);
    return LG_ERR_AGAIN;
}

static int raw_connect_result(void *ctx, int fd)
{
    LWIP_UNUSED_ARG(ctx);
    sock *s = get(fd, K_CONN);
    if (!s) return LG_ERR_IO;
    if (s->err) return s->err;
    if (s->flags & F_CONNECTING) return LG_ERR_AGAIN;
    return s->pcb ? LG_OK : LG_ERR_CLOSED;
}
#endif

static long raw_recv(void *ctx, int fd, void *buf, size_t len)
{
    LWIP_UNUSED_ARG(ctx);
    sock *s = get(fd, K_CONN);
    if (!s) return LG_ERR_IO;
    if (s->rx && len) {
        u16_t n = (u16_t)(len < s->rx->tot_len ? len : s->rx->tot_len);
        n = pbuf_copy_partial(s->rx, buf, n, 0);
        s->rx = pbuf_free_header(s->rx, n);
        /* The window opens by what linger took, and only now. */
        if (s->pcb) tcp_recved(s->pcb, n);
        return n;
    }
    if (s->flags & F_FIN) return 0;
    if (s->err) return s->err;
    if (s->flags & F_GONE) return 0;
    return LG_ERR_AGAIN;
}

static long write_parts(sock *s, const lg_str *parts, size_t n, int more)
{
    if (!s) return LG_ERR_IO;
    struct tcp_pcb *pcb = s->pcb;
    if (!pcb) return s->err == LG_ERR_RESET ? LG_ERR_RESET : LG_ERR_PIPE;
    if (s->flags & F_SHUT) return LG_ERR_PIPE;
    long total = 0;
    err_t e = ERR_OK;
    for (size_t i = 0; i < n && e == ERR_OK; i++) {
        const char *p = parts[i].ptr;
        size_t left = parts[i].len;
        while (left) {
            u16_t room = tcp_sndbuf(pcb);
            if (!room) break;
            u16_t take = (u16_t)(left < room ? left : room);
            /* MORE (no PSH) while more of this write follows. */
            u8_t fl = TCP_WRITE_FLAG_COPY;
            if (take < left || i + 1 < n) fl |= TCP_WRITE_FLAG_MORE;
            e = tcp_write(pcb, p, take, fl);
            /* Out of memory or of queue entries: smaller pieces may fit. */
            while (e == ERR_MEM && take > TCP_MSS) {
                take = TCP_MSS;
                fl |= TCP_WRITE_FLAG_MORE;
                e = tcp_write(pcb, p, take, fl);
            }
            if (e != ERR_OK) break;
            p += take;
            left -= take;
            total += take;
        }
        if (left) break;
    }
    if (total) {
        if (more) {
            s->flags |= F_HELD; /* the FIN follows at once and may share the segment */
        } else {
            s->flags &= (uint8_t)~F_HELD;
            tcp_output(pcb);
        }
        return total;
    }
    if (e == ERR_MEM) {
        s->flags |= F_BLOCKED;
        stats.write_blocked++;
        return LG_ERR_AGAIN;
    }
    if (e == ERR_OK) return LG_ERR_AGAIN; /* no room: the peer has not acknowledged yet */
    return LG_ERR_PIPE;                   /* ERR_CONN: no longer a state that sends */
}

static long raw_send(void *ctx, int fd, const lg_str *parts, size_t n)
{
    LWIP_UNUSED_ARG(ctx);
    return write_parts(get(fd, K_CONN), parts, n, 0);
}

static long raw_send_more(void *ctx, int fd, const lg_str *parts, size_t n)
{
    LWIP_UNUSED_ARG(ctx);
    sock *s = get(fd, K_CONN);
    size_t want = 0;
    for (size_t i = 0; i < n; i++) want += parts[i].len;
    long w = write_parts(s, parts, n, 1);
    /* Held only when all of it went: what waits for room goes out now. */
    if (w > 0 && (size_t)w < want && s->pcb) {
        s->flags &= (uint8_t)~F_HELD;
        tcp_output(s->pcb);
    }
    return w;
}

static int raw_shutdown_write(void *ctx, int fd)
{
    LWIP_UNUSED_ARG(ctx);
    sock *s = get(fd, K_CONN);
    if (!s) return LG_ERR_IO;
    if (!s->pcb || (s->flags & F_SHUT)) return LG_OK; /* gone, or done: as ENOTCONN */
    err_t e = tcp_shutdown(s->pcb, 0, 1); /* FIN behind what is queued; tcp_output */
    if (e == ERR_MEM) return LG_ERR_AGAIN;
    s->flags = (uint8_t)((s->flags | F_SHUT) & ~F_HELD);
    return LG_OK; /* (ERR_CONN: a state past sending FIN) */
}

/* Give back what linger did not read (it is about to be dropped) and
 * close. */
static void close_conn(sock *s)
{
    struct tcp_pcb *pcb = s->pcb;
    if (!pcb) {
        slot_free(s);
        return;
    }
    if (s->rx) {
        tcp_recved(pcb, s->rx->tot_len);
        pbuf_free(s->rx);
        s->rx = NULL;
    }
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_poll(pcb, NULL, 0);
    if (tcp_close(pcb) != ERR_OK) {
        /* No memory for the FIN (lwIP 2.1 retries that itself, so this is
         * for other versions): keep the slot, without its watcher, and try
         * again at the next turn of the loop. tcp_err still reaches us. */
        s->flags |= F_CLOSING;
        s->io = NULL;
        return;
    }
    tcp_arg(pcb, NULL);
    tcp_err(pcb, NULL);
    slot_free(s);
}

static void raw_close(void *ctx, int fd)
{
    LWIP_UNUSED_ARG(ctx);
    sock *l = get(fd, K_LISTEN);
    if (l) {
        /* Connections nobody took: rule 3 as far as it goes without a
         * stream (what came is read and dropped, then FIN). */
        while (l->first >= 0) {
            sock *s = &socks[l->first];
            l->first = s->next;
            if (s->pcb) tcp_backlog_accepted(s->pcb);
            close_conn(s);
        }
        tcp_arg(l->pcb, NULL);
        tcp_accept(l->pcb, NULL);
        tcp_close(l->pcb); /* a listener always closes */
        slot_free(l);
        return;
    }
    sock *s = get(fd, K_CONN);
    if (s) close_conn(s);
}

static void raw_abort(void *ctx, int fd)
{
    LWIP_UNUSED_ARG(ctx);
    sock *s = get(fd, K_CONN);
    if (!s) return;
    if (s->pcb) {
        detach(s->pcb);
        tcp_abort(s->pcb);
        stats.aborts++;
    }
    slot_free(s);
}

static long raw_unacked(void *ctx, int fd)
{
    LWIP_UNUSED_ARG(ctx);
    sock *s = get(fd, K_CONN);
    if (!s || !s->pcb) return 0;
    return (long)(TCP_SND_BUF - tcp_sndbuf(s->pcb));
}

const lg_net lg_net_lwip_raw = {
    .name = "lwip-raw",
    .now_ms = raw_now_ms,
    .listen = raw_listen,
    .accept = raw_accept,
    .peer_address = raw_peer_address,
#if !defined(LG_NO_CLIENT)
    .connect = raw_connect,
    .connect_result = raw_connect_result,
#endif
    .recv = raw_recv,
    .send = raw_send,
    .sendfile = NULL, /* files are read and sent a piece at a time */
    .shutdown_write = raw_shutdown_write,
    .close = raw_close,
    .abort = raw_abort,
    /* no waker, mutex, threads or name lookups: one thread, numeric addresses */
    .send_more = raw_send_more,
    /* lwIP 2.1's LAST_ACK double free is its socket layer's: the raw API
     * tells us through tcp_err (ERR_CLSD) and nothing is freed twice. */
    .read_before_fin = 0,
    .unacked = raw_unacked,
};

/* --- the superloop backend --- */

static unsigned ready(const sock *s)
{
    if (s->kind == K_LISTEN) return s->first >= 0 ? LG_READABLE : 0;
    unsigned ev = 0;
    if (s->rx || (s->flags & (F_FIN | F_GONE))) ev |= LG_READABLE;
    if (s->flags & F_GONE) {
        ev |= LG_WRITABLE; /* the next send says how it ended */
    } else if (!(s->flags & (F_CONNECTING | F_BLOCKED)) && tcp_sndbuf(s->pcb) > TCP_SNDLOWAT &&
               tcp_sndqueuelen(s->pcb) < TCP_SNDQUEUELOWAT) {
        ev |= LG_WRITABLE;
    }
    return ev;
}

static int rb_init(lg_loop *loop)
{
    LWIP_UNUSED_ARG(loop);
    return LG_OK;
}

static void rb_destroy(lg_loop *loop)
{
    LWIP_UNUSED_ARG(loop);
}

static int rb_update(lg_loop *loop, lg_io *io, unsigned old_events, unsigned new_events)
{
    LWIP_UNUSED_ARG(loop);
    LWIP_UNUSED_ARG(old_events);
    if (io->fd < 0 || io->fd >= LG_LWIP_RAW_SOCKETS || socks[io->fd].kind == K_FREE)
        return LG_ERR_INVALID_ARG;
    socks[io->fd].io = new_events ? io : NULL;
    return LG_OK;
}

/* What lwIP does by itself between turns: output held back for a FIN
 * that did not follow, and closes that found no memory. */
static void housekeeping(void)
{
    for (int i = 0; i < LG_LWIP_RAW_SOCKETS; i++) {
        sock *s = &socks[i];
        if (s->kind != K_CONN || !s->pcb) continue;
        if (s->flags & F_CLOSING) {
            if (tcp_close(s->pcb) == ERR_OK) {
                tcp_arg(s->pcb, NULL);
                tcp_err(s->pcb, NULL);
                slot_free(s);
            }
        } else if (s->flags & F_HELD) {
            s->flags &= (uint8_t)~F_HELD;
            tcp_output(s->pcb);
        }
    }
}

static int dispatch(void)
{
    int n = 0;
    /* A slot closed or reused by an earlier callback of this pass is seen
     * as it is now; one opened by it is seen too (it is ready). */
    for (int i = 0; i < LG_LWIP_RAW_SOCKETS; i++) {
        sock *s = &socks[i];
        if (s->kind == K_FREE || !s->io || (s->flags & F_CLOSING)) continue;
        unsigned ev = ready(s) & s->io->events;
        if (!ev) continue;
        n++;
        lg_port_io_ready(s->io, ev);
    }
    return n;
}

int lg_lwip_raw_ready(void)
{
    for (int i = 0; i < LG_LWIP_RAW_SOCKETS; i++) {
        const sock *s = &socks[i];
        if (s->kind == K_FREE || !s->io || (s->flags & F_CLOSING)) continue;
        if (ready(s) & s->io->events) return 1;
    }
    return 0;
}

static int rb_wait(lg_loop *loop, int timeout_ms)
{
    LWIP_UNUSED_ARG(loop);
    uint32_t start = sys_now();
    for (;;) {
        if (hooks.input) hooks.input(hooks.user);
        sys_check_timeouts();
        housekeeping();
        if (dispatch() || timeout_ms == 0) return 0;
        uint32_t spent = sys_now() - start;
        if (timeout_ms > 0 && spent >= (uint32_t)timeout_ms) return 0;
        uint32_t nap = timeout_ms < 0 ? UINT32_MAX : (uint32_t)timeout_ms - spent;
        uint32_t lwip_next = sys_timeouts_sleeptime();
        if (lwip_next < nap) nap = lwip_next;
        if (nap && hooks.idle) hooks.idle(hooks.user, nap);
    }
}

const lg_backend lg_backend_lwip_raw = {
    "lwip-raw", rb_init, rb_destroy, rb_update, rb_wait, NULL,
};
