/*
 * The binding's readiness backend: linger's own backends, told never to
 * wait. linger's loop never waits itself here; asyncio does, on one object
 * (the Loop), and then runs a turn of the loop with lg_loop_run_once(loop,
 * 0). There is one epoll backend and one poll backend in linger
 * (src/loop_epoll.c, src/loop_poll.c); this file only adds what asyncio
 * needs to wait on them.
 *
 * Linux (the unix port): linger's epoll backend, with one more descriptor
 * in its set, a timerfd armed for linger's next timer (an ordinary lg_io
 * of the loop's), so that the set's own descriptor is readable exactly
 * when linger has work. The Loop hands that descriptor to select.poll
 * (MP_STREAM_GET_FILENO), which asyncio's IOQueue waits on: the kernel
 * does the waiting, nothing polls.
 *
 * Elsewhere (the esp32 port, lwIP's sockets; or -DLGMP_PORTABLE_BACKEND on
 * Linux to test this half): linger's poll backend. select.poll asks the
 * Loop's ioctl whether it is ready, as it asks every socket of those ports
 * (their select.poll calls each object's ioctl while it waits); the answer
 * is a poll() with no timeout over the backend's own pollfd array
 * (src/loop_poll_state.h), or a timer that has come.
 *
 * On lwIP's raw API (-DLGMP_LWIP_RAW: MicroPython's rp2 port, NO_SYS=1):
 * linger's raw-API port (ports/lwip_raw), asked the same question through
 * lg_lwip_raw_ready().
 *
 * SPDX-License-Identifier: MIT
 */
#if defined(__linux__) && !defined(LGMP_PORTABLE_BACKEND) && !defined(LGMP_LWIP_RAW)
#define LGMP_EPOLL 1
#endif

#if defined(LGMP_EPOLL) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <string.h>

#include "lgmp.h"

#if !defined(LGMP_LWIP_RAW)
#include <poll.h>
#endif

#if defined(LGMP_EPOLL)
#include <sys/timerfd.h>
#include <unistd.h>

#include "../../../src/loop_epoll_state.h"

#define BASE lg_backend_epoll

/* The timerfd: an io of the loop's, so linger's epoll backend sees no
 * stranger in its set. Its memory is linger's (lg_port_alloc: the
 * collector keeps it). */
typedef struct bk_timer {
    lg_io io;
    int armed;          /* the timerfd is set */
    uint64_t armed_due; /* for when (the loop's clock) */
} bk_timer;

static bk_timer *timer_of(lg_loop *loop)
{
    (void)loop; /* (one loop per interpreter: its timer hangs from the state) */
    return lgmp_get()->backend;
}

static void on_timerfd(lg_io *io, unsigned events)
{
    (void)events;
    bk_timer *t = LG_CONTAINER_OF(io, bk_timer, io);
    uint64_t ticks;
    if (read(io->fd, &ticks, sizeof ticks) < 0) { /* EAGAIN: not yet */
    }
    t->armed = 0;
}

int lgmp_backend_start(lg_loop *loop)
{
    LGMP_LOCK_HELD("backend start");
    bk_timer *t = lg_port_alloc(sizeof *t);
    if (!t) return LG_ERR_NOMEM;
    memset(t, 0, sizeof *t);
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) {
        lg_port_free(t, sizeof *t);
        return LG_ERR_IO;
    }
    lg_io_init(loop, &t->io, fd, on_timerfd);
    int rc = lg_io_set(&t->io, LG_READABLE);
    if (rc) {
        close(fd);
        lg_port_free(t, sizeof *t);
        return rc;
    }
    lgmp_get()->backend = t;
    return LG_OK;
}

void lgmp_backend_stop(lg_loop *loop)
{
    LGMP_LOCK_HELD("backend stop");
    bk_timer *t = timer_of(loop);
    if (!t) return;
    lg_io_set(&t->io, 0);
    close(t->io.fd);
    lg_port_free(t, sizeof *t);
    lgmp_get()->backend = NULL;
}

int lgmp_backend_fd(lg_loop *loop)
{
    LGMP_LOCK_HELD("backend fd");
    lg_epoll_state *st = lg_port_backend_data(loop);
    return st->epfd;
}

void lgmp_backend_arm(lg_loop *loop, int ms)
{
    LGMP_LOCK_HELD("backend arm");
    bk_timer *t = timer_of(loop);
    if (!t) return;
    uint64_t due = ms < 0 ? 0 : lg_loop_now(loop) + (uint64_t)ms;
    if (ms < 0 && !t->armed) return;
    if (ms >= 0 && t->armed && t->armed_due <= due) return; /* it comes early enough */
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (ms > 0) {
        its.it_value.tv_sec = ms / 1000;
        its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
    } else if (ms == 0) {
        its.it_value.tv_nsec = 1; /* at once: the descriptor is readable */
    }
    timerfd_settime(t->io.fd, 0, &its, NULL);
    t->armed = ms >= 0;
    t->armed_due = due;
}

int lgmp_backend_ready(lg_loop *loop)
{
    LGMP_LOCK_HELD("backend ready");
    /* (select polls the descriptor itself; this is for anyone who asks) */
    struct pollfd p = { lgmp_backend_fd(loop), POLLIN, 0 };
    return poll(&p, 1, 0) > 0;
}

#elif defined(LGMP_LWIP_RAW) /* lwIP's raw API (rp2: NO_SYS=1) */

#include "linger_lwip_raw.h"

/* The raw-API port's superloop backend: with a timeout of 0 its wait runs
 * lwIP's timers and hands linger what is ready. The MicroPython port
 * feeds lwIP its frames itself, so the port's hooks are left empty. */
#define BASE lg_backend_lwip_raw

int lgmp_backend_start(lg_loop *loop)
{
    LGMP_LOCK_HELD("backend start");
    (void)loop;
    return LG_OK;
}

void lgmp_backend_stop(lg_loop *loop)
{
    LGMP_LOCK_HELD("backend stop");
    (void)loop;
}

int lgmp_backend_fd(lg_loop *loop)
{
    LGMP_LOCK_HELD("backend fd");
    (void)loop;
    return -1;
}

void lgmp_backend_arm(lg_loop *loop, int ms)
{
    LGMP_LOCK_HELD("backend arm");
    (void)loop;
    (void)ms; /* lgmp_backend_ready looks at the timers itself */
}

int lgmp_backend_ready(lg_loop *loop)
{
    LGMP_LOCK_HELD("backend ready");
    lg_loop_update_time(loop);
    return lg_loop_timeout(loop) == 0 || lg_lwip_raw_ready();
}

#else /* the portable half */

#include "../../../src/loop_poll_state.h"

#define BASE lg_backend_poll

int lgmp_backend_start(lg_loop *loop)
{
    LGMP_LOCK_HELD("backend start");
    (void)loop;
    return LG_OK;
}

void lgmp_backend_stop(lg_loop *loop)
{
    LGMP_LOCK_HELD("backend stop");
    (void)loop;
}

int lgmp_backend_fd(lg_loop *loop)
{
    LGMP_LOCK_HELD("backend fd");
    (void)loop;
    return -1;
}

void lgmp_backend_arm(lg_loop *loop, int ms)
{
    LGMP_LOCK_HELD("backend arm");
    (void)loop;
    (void)ms; /* lgmp_backend_ready looks at the timers itself */
}

int lgmp_backend_ready(lg_loop *loop)
{
    LGMP_LOCK_HELD("backend ready");
    lg_loop_update_time(loop);
    if (lg_loop_timeout(loop) == 0) return 1;
    lg_poll_state *st = lg_port_backend_data(loop);
    if (!st->len) return 0;
    int n = poll(st->fds, st->len, 0);
    for (uint32_t i = 0; i < st->len; i++) st->fds[i].revents = 0;
    return n > 0;
}

#endif

void lgmp_backend_release(lg_loop *loop)
{
    LGMP_LOCK_HELD("backend release");
    lgmp_backend_stop(loop);
    BASE.destroy(loop);
}

/* linger's backend, but its wait never blocks: asyncio waited already.
 * Each operation runs under the port's lwIP lock (lgmp_lock.h), checked
 * in the tests' build. */
static int bk_init(lg_loop *loop)
{
    LGMP_LOCK_HELD("backend init");
    return BASE.init(loop);
}

static void bk_destroy(lg_loop *loop)
{
    LGMP_LOCK_HELD("backend destroy");
    BASE.destroy(loop);
}

static int bk_update(lg_loop *loop, lg_io *io, unsigned old_events, unsigned new_events)
{
    LGMP_LOCK_HELD("backend update");
    return BASE.update(loop, io, old_events, new_events);
}

static int bk_wait(lg_loop *loop, int timeout_ms)
{
    LGMP_LOCK_HELD("backend wait");
    (void)timeout_ms;
    return BASE.wait(loop, 0);
}

static int bk_reserve(lg_loop *loop, uint32_t n)
{
    LGMP_LOCK_HELD("backend reserve");
    return BASE.reserve ? BASE.reserve(loop, n) : LG_OK;
}

const lg_backend lgmp_backend = { "micropython", bk_init, bk_destroy, bk_update, bk_wait, bk_reserve };
