/* poll() backend: the portable one (lwIP, BSD, macOS). A dense pollfd array
 * with a parallel array of ios; io->slot is the index. Removing an io while
 * events are being dispatched only blanks its slot; the array is compacted
 * after the dispatch, so indices stay valid while we walk them. */
#if !defined(LG_NO_POLL)
#if defined(__linux__)
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "linger_port.h"
#include "loop_poll_state.h"

typedef lg_poll_state poll_state;

static int pl_init(lg_loop *loop)
{
    poll_state *st = lg_port_alloc(sizeof *st);
    if (!st) return LG_ERR_NOMEM;
    memset(st, 0, sizeof *st);
    lg_port_set_backend_data(loop, st);
    return LG_OK;
}

static void pl_destroy(lg_loop *loop)
{
    poll_state *st = lg_port_backend_data(loop);
    lg_port_free(st->fds, st->cap * sizeof *st->fds);
    lg_port_free(st->ios, st->cap * sizeof *st->ios);
    lg_port_free(st, sizeof *st);
}

static short poll_mask(unsigned events)
{
    return (short)(((events & LG_READABLE) ? POLLIN : 0) | ((events & LG_WRITABLE) ? POLLOUT : 0));
}

/* Both arrays grow, or neither: one capacity describes both, and it is the
 * size every later free passes to the allocator hook (a pool allocator
 * relies on it), so one array may never be larger than it says. */
static int grow(poll_state *st, uint32_t cap)
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

static void remove_slot(poll_state *st, uint32_t i)
{
    uint32_t last = --st->len;
    if (i != last) {
        st->fds[i] = st->fds[last];
        st->ios[i] = st->ios[last];
        if (st->ios[i]) st->ios[i]->slot = i;
    }
}

static int pl_update(lg_loop *loop, lg_io *io, unsigned old_events, unsigned new_events)
{
    poll_state *st = lg_port_backend_data(loop);
    if (!old_events) {
        /* Small steps at first: on a device every slot is RAM. */
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

static int pl_wait(lg_loop *loop, int timeout_ms)
{
    poll_state *st = lg_port_backend_data(loop);
    int n = poll(st->fds, st->len, timeout_ms);
    if (n < 0) return errno == EINTR ? 0 : LG_ERR_IO;
    st->dispatching = 1;
    /* ios added during dispatch land past `end`: they wait for next time. */
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

static int pl_reserve(lg_loop *loop, uint32_t n)
{
    poll_state *st = lg_port_backend_data(loop);
    return n > st->cap ? grow(st, n) : LG_OK;
}

const lg_backend lg_backend_poll = { "poll", pl_init, pl_destroy, pl_update, pl_wait, pl_reserve };
#endif
