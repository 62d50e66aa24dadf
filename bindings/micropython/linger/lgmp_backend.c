/*
 * The binding's readiness backend: linger's loop never waits itself;
 * asyncio does, on one object (the Loop), and then runs a turn of the loop
 * with lg_loop_run_once(loop, 0).
 *
 * Linux (the unix port): an epoll set holds linger's descriptors and a
 * timerfd armed for linger's next timer, so the set's one descriptor is
 * readable exactly when linger has work. The Loop hands that descriptor to
 * select.poll (MP_STREAM_GET_FILENO), which asyncio's IOQueue waits on:
 * the kernel does the waiting, nothing polls.
 *
 * Elsewhere (the esp32 port, lwIP's sockets; or -DLGMP_PORTABLE_BACKEND on
 * Linux to test this half): a pollfd array, as linger's poll backend keeps.
 * select.poll asks the Loop's ioctl whether it is ready, as it asks every
 * socket of those ports (their select.poll calls each object's ioctl while
 * it waits); the answer is a poll() with no timeout over linger's
 * descriptors, or a timer that has come.
 *
 * SPDX-License-Identifier: MIT
 */
#if defined(__linux__) && !defined(LGMP_PORTABLE_BACKEND)
#define LGMP_EPOLL 1
#endif

#if defined(LGMP_EPOLL) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <string.h>

#include "lgmp.h"

#if defined(LGMP_EPOLL)
#include <poll.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define MAX_EVENTS 64

typedef struct bk_state {
    int epfd, tfd;
    int armed;           /* the timerfd is set */
    uint64_t armed_due;  /* for when (the loop's clock) */
    struct epoll_event events[MAX_EVENTS];
} bk_state;

static int bk_init(lg_loop *loop)
{
    bk_state *st = lg_port_alloc(sizeof *st);
    if (!st) return LG_ERR_NOMEM;
    memset(st, 0, sizeof *st);
    st->epfd = epoll_create1(EPOLL_CLOEXEC);
    st->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.ptr = NULL; /* the timer */
    if (st->epfd < 0 || st->tfd < 0 || epoll_ctl(st->epfd, EPOLL_CTL_ADD, st->tfd, &ev) != 0) {
        if (st->epfd >= 0) close(st->epfd);
        if (st->tfd >= 0) close(st->tfd);
        lg_port_free(st, sizeof *st);
        return LG_ERR_IO;
    }
    lg_port_set_backend_data(loop, st);
    return LG_OK;
}

static void bk_destroy(lg_loop *loop)
{
    bk_state *st = lg_port_backend_data(loop);
    close(st->tfd);
    close(st->epfd);
    lg_port_free(st, sizeof *st);
}

static int bk_update(lg_loop *loop, lg_io *io, unsigned old_events, unsigned new_events)
{
    bk_state *st = lg_port_backend_data(loop);
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = ((new_events & LG_READABLE) ? EPOLLIN | EPOLLRDHUP : 0) |
                ((new_events & LG_WRITABLE) ? EPOLLOUT : 0);
    ev.data.ptr = io;
    int op = !old_events ? EPOLL_CTL_ADD : !new_events ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    if (epoll_ctl(st->epfd, op, io->fd, &ev) == 0) return LG_OK;
    if (op == EPOLL_CTL_DEL && (errno == EBADF || errno == ENOENT)) return LG_OK;
    return errno == ENOMEM || errno == ENOSPC ? LG_ERR_NOMEM : LG_ERR_IO;
}

/* Never blocks: asyncio waited already. */
static int bk_wait(lg_loop *loop, int timeout_ms)
{
    (void)timeout_ms;
    bk_state *st = lg_port_backend_data(loop);
    int n = epoll_wait(st->epfd, st->events, MAX_EVENTS, 0);
    if (n < 0) return errno == EINTR ? 0 : LG_ERR_IO;
    for (int i = 0; i < n; i++) {
        uint32_t e = st->events[i].events;
        if (!st->events[i].data.ptr) {
            uint64_t ticks;
            if (read(st->tfd, &ticks, sizeof ticks) < 0) { /* EAGAIN: not yet */
            }
            st->armed = 0;
            continue;
        }
        unsigned events = 0;
        if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) events |= LG_READABLE;
        if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) events |= LG_WRITABLE;
        lg_port_io_ready(st->events[i].data.ptr, events);
    }
    return n;
}

int lgmp_backend_fd(lg_loop *loop)
{
    bk_state *st = lg_port_backend_data(loop);
    return st->epfd;
}

void lgmp_backend_arm(lg_loop *loop, int ms)
{
    bk_state *st = lg_port_backend_data(loop);
    uint64_t due = ms < 0 ? 0 : lg_loop_now(loop) + (uint64_t)ms;
    if (ms < 0 && !st->armed) return;
    if (ms >= 0 && st->armed && st->armed_due <= due) return; /* it comes early enough */
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (ms > 0) {
        its.it_value.tv_sec = ms / 1000;
        its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
    } else if (ms == 0) {
        its.it_value.tv_nsec = 1; /* at once: the descriptor is readable */
    }
    timerfd_settime(st->tfd, 0, &its, NULL);
    st->armed = ms >= 0;
    st->armed_due = due;
}

int lgmp_backend_ready(lg_loop *loop)
{
    /* (select polls the descriptor itself; this is for anyone who asks) */
    bk_state *st = lg_port_backend_data(loop);
    struct pollfd p = { st->epfd, POLLIN, 0 };
    return poll(&p, 1, 0) > 0;
}

#else /* the portable half */

#include <poll.h>

typedef struct bk_state {
    struct pollfd *fds;
    lg_io **ios;
    uint32_t len, cap;
    uint8_t dispatching, holes;
} bk_state;

static int bk_init(lg_loop *loop)
{
    bk_state *st = lg_port_alloc(sizeof *st);
    if (!st) return LG_ERR_NOMEM;
    memset(st, 0, sizeof *st);
    lg_port_set_backend_data(loop, st);
    return LG_OK;
}

static void bk_destroy(lg_loop *loop)
{
    bk_state *st = lg_port_backend_data(loop);
    lg_port_free(st->fds, st->cap * sizeof *st->fds);
    lg_port_free(st->ios, st->cap * sizeof *st->ios);
    lg_port_free(st, sizeof *st);
}

static short poll_mask(unsigned events)
{
    return (short)(((events & LG_READABLE) ? POLLIN : 0) | ((events & LG_WRITABLE) ? POLLOUT : 0));
}

static int grow(bk_state *st, uint32_t cap)
{
    struct pollfd *fds = lg_port_alloc(cap * sizeof *fds);
    lg_io **ios = fds ? lg_port_alloc(cap * sizeof *ios) : NULL;
    if (!ios) {
        lg_port_free(fds, cap * sizeof *fds);
        return LG_ERR_NOMEM;
    }
    if (st->len) {
        memcpy(fds, st->fds, st->len * sizeof *fds);
        memcpy(ios, st->ios, st->len * sizeof *ios);
    }
    lg_port_free(st->fds, st->cap * sizeof *fds);
    lg_port_free(st->ios, st->cap * sizeof *ios);
    st->fds = fds;
    st->ios = ios;
    st->cap = cap;
    return LG_OK;
}

static void remove_slot(bk_state *st, uint32_t i)
{
    uint32_t last = --st->len;
    if (i != last) {
        st->fds[i] = st->fds[last];
        st->ios[i] = st->ios[last];
        if (st->ios[i]) st->ios[i]->slot = i;
    }
}

static int bk_update(lg_loop *loop, lg_io *io, unsigned old_events, unsigned new_events)
{
    bk_state *st = lg_port_backend_data(loop);
    if (!old_events) {
        if (st->len == st->cap && grow(st, st->cap ? st->cap * 2 : 8) != LG_OK) return LG_ERR_NOMEM;
        io->slot = st->len++;
        st->fds[io->slot].fd = io->fd;
        st->fds[io->slot].events = poll_mask(new_events);
        st->fds[io->slot].revents = 0;
        st->ios[io->slot] = io;
        return LG_OK;
    }
    if (!new_events) {
        if (st->dispatching) {
            st->ios[io->slot] = NULL;
            st->fds[io->slot].fd = -1;
            st->holes = 1;
        } else {
            remove_slot(st, io->slot);
        }
        return LG_OK;
    }
    st->fds[io->slot].events = poll_mask(new_events);
    return LG_OK;
}

static int bk_wait(lg_loop *loop, int timeout_ms)
{
    (void)timeout_ms;
    bk_state *st = lg_port_backend_data(loop);
    if (!st->len) return 0;
    int n = poll(st->fds, st->len, 0);
    if (n < 0) return errno == EINTR ? 0 : LG_ERR_IO;
    st->dispatching = 1;
    uint32_t end = st->len;
    for (uint32_t i = 0; i < end && n > 0; i++) {
        short re = st->fds[i].revents;
        if (!re) continue;
        n--;
        st->fds[i].revents = 0;
        lg_io *io = st->ios[i];
        if (!io) continue;
        unsigned events = 0;
        if (re & (POLLIN | POLLHUP | POLLERR)) events |= LG_READABLE;
        if (re & (POLLOUT | POLLHUP | POLLERR)) events |= LG_WRITABLE;
        if (re & POLLNVAL) events |= LG_READABLE | LG_WRITABLE;
        lg_port_io_ready(io, events);
    }
    st->dispatching = 0;
    if (st->holes) {
        st->holes = 0;
        for (uint32_t i = st->len; i-- > 0;)
            if (!st->ios[i]) remove_slot(st, i);
    }
    return 0;
}

int lgmp_backend_fd(lg_loop *loop)
{
    (void)loop;
    return -1;
}

void lgmp_backend_arm(lg_loop *loop, int ms)
{
    (void)loop;
    (void)ms; /* lgmp_backend_ready looks at the timers itself */
}

int lgmp_backend_ready(lg_loop *loop)
{
    lg_loop_update_time(loop);
    if (lg_loop_timeout(loop) == 0) return 1;
    bk_state *st = lg_port_backend_data(loop);
    if (!st->len) return 0;
    int n = poll(st->fds, st->len, 0);
    for (uint32_t i = 0; i < st->len; i++) st->fds[i].revents = 0;
    return n > 0;
}

#endif

const lg_backend lgmp_backend = { "micropython", bk_init, bk_destroy, bk_update, bk_wait, NULL };
