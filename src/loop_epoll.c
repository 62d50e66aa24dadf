/* epoll backend (Linux): level-triggered, the io pointer in the event data.
 * Level-triggered keeps the stream simple and lets the fault injector and
 * the poll backend behave the same way: an io that did not read everything
 * is told again. */
#if defined(__linux__)
#define _GNU_SOURCE
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "linger_port.h"
#include "loop_epoll_state.h"

#define MAX_EVENTS LG_EPOLL_MAX_EVENTS

typedef lg_epoll_state epoll_state;

static int ep_init(lg_loop *loop)
{
    epoll_state *st = lg_port_alloc(sizeof *st);
    if (!st) return LG_ERR_NOMEM;
    st->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (st->epfd < 0) {
        lg_port_free(st, sizeof *st);
        return errno == EMFILE || errno == ENFILE ? LG_ERR_LIMIT : LG_ERR_IO;
    }
    lg_port_set_backend_data(loop, st);
    return LG_OK;
}

static void ep_destroy(lg_loop *loop)
{
    epoll_state *st = lg_port_backend_data(loop);
    close(st->epfd);
    lg_port_free(st, sizeof *st);
}

static int ep_update(lg_loop *loop, lg_io *io, unsigned old_events, unsigned new_events)
{
    epoll_state *st = lg_port_backend_data(loop);
    struct epoll_event ev;
    ev.events = ((new_events & LG_READABLE) ? EPOLLIN | EPOLLRDHUP : 0) |
                ((new_events & LG_WRITABLE) ? EPOLLOUT : 0);
    ev.data.ptr = io;
    int op = !old_events ? EPOLL_CTL_ADD : !new_events ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    if (epoll_ctl(st->epfd, op, io->fd, &ev) == 0) return LG_OK;
    /* A descriptor closed behind our back is already gone from the set. */
    if (op == EPOLL_CTL_DEL && (errno == EBADF || errno == ENOENT)) return LG_OK;
    return errno == ENOMEM || errno == ENOSPC ? LG_ERR_NOMEM : LG_ERR_IO;
}

static int ep_wait(lg_loop *loop, int timeout_ms)
{
    epoll_state *st = lg_port_backend_data(loop);
    int n = epoll_wait(st->epfd, st->events, MAX_EVENTS, timeout_ms);
    if (n < 0) return errno == EINTR ? 0 : LG_ERR_IO;
    for (int i = 0; i < n; i++) {
        uint32_t e = st->events[i].events;
        unsigned events = 0;
        if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) events |= LG_READABLE;
        if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) events |= LG_WRITABLE;
        lg_port_io_ready(st->events[i].data.ptr, events);
    }
    return n;
}

const lg_backend lg_backend_epoll = { "epoll", ep_init, ep_destroy, ep_update, ep_wait, NULL };
#endif
