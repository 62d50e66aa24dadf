/* Listening and connecting, on top of the platform's sockets. */
#include <string.h>

#include "loop_internal.h"

/* Out of descriptors: accept() would fail at once, over and over, with the
 * listener still readable. Stop asking for this long instead of spinning. */
#define ACCEPT_PAUSE_MS 100
/* Fairness: a flood of connections must not starve established ones. */
#define ACCEPTS_PER_WAKEUP 64

static void accept_ready(lg_io *io, unsigned events);

static void accept_resume(lg_timer *t)
{
    lg_listener *l = LG_CONTAINER_OF(t, lg_listener, pause);
    if (l->io.fd >= 0) lg_io_set(&l->io, LG_READABLE);
}

static void accept_ready(lg_io *io, unsigned events)
{
    lg_listener *l = LG_CONTAINER_OF(io, lg_listener, io);
    lg_loop *loop = io->loop;
    LG_UNUSED(events);
    if (l->held) {
        /* Somebody waits: say so once, and look again only when released. */
        lg_io_set(&l->io, 0);
        if (l->on_waiting) l->on_waiting(l);
        return;
    }
    /* The callback may pause us (a server at its connection limit): stop
     * as soon as we are no longer watched. */
    for (int i = 0; i < ACCEPTS_PER_WAKEUP && l->io.fd >= 0 && l->io.events && !l->held; i++) {
        int fd;
        lg_addr peer;
        int rc = loop->net->accept(loop->net_ctx, l->io.fd, &fd, &peer);
        if (rc == LG_ERR_AGAIN) return;
        if (rc != LG_OK) {
            loop->stats.accept_errors++;
            lg_log(loop, LG_LOG_WARN, "accept failed: %s; pausing accepts for %d ms",
                   lg_strerror(rc), ACCEPT_PAUSE_MS);
            lg_io_set(&l->io, 0);
            lg_timer_start(&l->pause, ACCEPT_PAUSE_MS);
            return;
        }
        l->cb(l, fd, &peer);
    }
}

int lg_listen(lg_loop *loop, lg_listener *l, const char *addr, unsigned flags, int backlog,
              lg_accept_cb cb, void *data)
{
    memset(l, 0, sizeof *l);
    lg_addr a;
    int rc = lg_addr_parse(&a, addr, 0);
    if (rc) return rc;
    int fd;
    rc = loop->net->listen(loop->net_ctx, &a, flags, backlog, &fd, &l->addr);
    if (rc) return rc;
    l->cb = cb;
    l->data = data;
    lg_io_init(loop, &l->io, fd, accept_ready);
    lg_timer_init(loop, &l->pause, accept_resume);
    rc = lg_io_set(&l->io, LG_READABLE);
    if (rc) {
        loop->net->close(loop->net_ctx, fd);
        l->io.fd = -1;
    }
    return rc;
}

void lg_listener_hold(lg_listener *l, int hold, void (*on_waiting)(lg_listener *l))
{
    if (l->io.fd < 0) return;
    l->held = (uint8_t)(hold != 0);
    l->on_waiting = on_waiting;
    if (!lg_timer_active(&l->pause)) lg_io_set(&l->io, LG_READABLE);
}

void lg_listener_close(lg_listener *l)
{
    if (l->io.fd < 0) return;
    lg_loop *loop = l->io.loop;
    int fd = l->io.fd;
    lg_timer_stop(&l->pause);
    lg_io_close(&l->io);
    loop->net->close(loop->net_ctx, fd);
}

/* --- connecting --- */

static void connect_finish(lg_connect_req *req, int status)
{
    lg_loop *loop = req->io.loop;
    int fd = req->io.fd;
    lg_timer_stop(&req->timer);
    lg_io_close(&req->io);
    if (status != LG_OK && fd >= 0) {
        loop->net->close(loop->net_ctx, fd);
        fd = -1;
    }
    req->cb(req, status, fd);
}

static void connect_ready(lg_io *io, unsigned events)
{
    lg_connect_req *req = LG_CONTAINER_OF(io, lg_connect_req, io);
    LG_UNUSED(events);
    connect_finish(req, io->loop->net->connect_result(io->loop->net_ctx, io->fd));
}

static void connect_timer(lg_timer *t)
{
    lg_connect_req *req = LG_CONTAINER_OF(t, lg_connect_req, timer);
    /* A socket that connected at once reports success on the next tick. */
    connect_finish(req, req->io.events ? LG_ERR_TIMEOUT : LG_OK);
}

int lg_connect(lg_loop *loop, lg_connect_req *req, const lg_addr *addr, uint32_t timeout_ms,
               lg_connect_cb cb)
{
    int fd;
    req->cb = cb;
    lg_timer_init(loop, &req->timer, connect_timer);
    /* A request whose connect failed at once must still be safe to cancel. */
    lg_io_init(loop, &req->io, -1, connect_ready);
    int rc = loop->net->connect(loop->net_ctx, addr, &fd);
    if (rc != LG_OK && rc != LG_ERR_AGAIN) return rc;
    lg_io_init(loop, &req->io, fd, connect_ready);
    if (rc == LG_OK) return lg_timer_start(&req->timer, 0);
    rc = lg_io_set(&req->io, LG_WRITABLE);
    if (rc) {
        loop->net->close(loop->net_ctx, fd);
        return rc;
    }
    if (timeout_ms) lg_timer_start(&req->timer, timeout_ms);
    return LG_OK;
}

void lg_connect_cancel(lg_connect_req *req)
{
    lg_loop *loop = req->io.loop;
    int fd = req->io.fd;
    if (fd < 0) return;
    lg_timer_stop(&req->timer);
    lg_io_close(&req->io);
    loop->net->close(loop->net_ctx, fd);
}
