/* The fault injector's platform and backend; see fault_net.h. */
#include "fault_net.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h> /* lseek, read */

#include "linger_port.h"

static fault_sock *sock_of(void *ctx, int fd)
{
    fault_net *fn = ctx;
    int i = fd - FAULT_FD_BASE;
    if (i < 0 || i >= FAULT_MAX_SOCKS || !fn->socks[i].used) return NULL;
    return &fn->socks[i];
}

fault_sock *fault_sock_get(fault_net *fn, int fd)
{
    return sock_of(fn, fd);
}

void fault_net_init(fault_net *fn)
{
    memset(fn, 0, sizeof *fn);
    fn->now_ms = 1000000;
}

void fault_net_free(fault_net *fn)
{
    for (int i = 0; i < FAULT_MAX_SOCKS; i++) free(fn->socks[i].out);
}

int fault_sock_new(fault_net *fn, const fault_sock *script)
{
    for (int i = 0; i < FAULT_MAX_SOCKS; i++) {
        if (fn->socks[i].used) continue;
        fn->socks[i] = *script;
        fn->socks[i].used = 1;
        fn->socks[i].in_again_pending = script->in_again;
        fn->socks[i].out_again_pending = script->out_again;
        fn->socks[i].out = NULL;
        fn->socks[i].out_len = fn->socks[i].out_cap = 0;
        return FAULT_FD_BASE + i;
    }
    abort();
}

void fault_sock_release(fault_net *fn, int fd)
{
    fault_sock *k = sock_of(fn, fd);
    if (!k) return;
    free(k->out);
    memset(k, 0, sizeof *k);
    fn->ios[fd - FAULT_FD_BASE] = NULL;
}

int fault_accept_queue(fault_net *fn, const fault_sock *script)
{
    int fd = fault_sock_new(fn, script);
    fn->accept_queue[fn->accept_len++] = fd;
    return fd;
}

/* Is there anything for recv to report? */
static int input_pending(const fault_sock *k)
{
    if (k->in_pos < k->in_len) return 1;
    if (k->in_end == FAULT_EOF || k->in_end == FAULT_RESET) return 1;
    if (k->in_end == FAULT_EOF_AFTER_FIN && k->fin_sent) return 1;
    return 0;
}

static uint64_t f_now(void *ctx)
{
    return ((fault_net *)ctx)->now_ms;
}

static long f_recv(void *ctx, int fd, void *buf, size_t len)
{
    fault_sock *k = sock_of(ctx, fd);
    if (!k) return LG_ERR_IO;
    if (k->closed) {
        k->recv_after_close++;
        return LG_ERR_IO;
    }
    if (k->in_pos < k->in_len) {
        if (k->in_again_pending) {
            k->in_again_pending = 0;
            k->in_again_said = 1;
            return LG_ERR_AGAIN;
        }
        k->in_again_said = 0;
        k->in_again_pending = k->in_again;
        size_t n = k->in_len - k->in_pos;
        if (k->in_piece && n > k->in_piece) n = k->in_piece;
        if (n > len) n = len;
        memcpy(buf, k->in + k->in_pos, n);
        k->in_pos += n;
        return (long)n;
    }
    switch (k->in_end) {
    case FAULT_EOF:
        return 0;
    case FAULT_RESET:
        return LG_ERR_RESET;
    case FAULT_EOF_AFTER_FIN:
        return k->fin_sent ? 0 : LG_ERR_AGAIN;
    default:
        return LG_ERR_AGAIN;
    }
}

/* A slow reader's credit: bytes it would take now (at most a second's). */
static size_t out_credit(const fault_net *fn, const fault_sock *k)
{
    uint64_t ms = fn->now_ms - k->out_ms;
    if (ms > 1000) ms = 1000;
    return (size_t)ms * k->out_per_ms;
}

static long f_send(void *ctx, int fd, const lg_str *parts, size_t n)
{
    fault_sock *k = sock_of(ctx, fd);
    if (!k || k->closed) return LG_ERR_IO;
    k->send_calls++;
    if (k->fin_sent) return LG_ERR_PIPE;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += parts[i].len;
    if (total == 0) return 0;
    if (k->out_fail_err && k->out_len >= k->out_fail_at) return k->out_fail_err;
    if (k->out_stall_at && k->out_len >= k->out_stall_at) return LG_ERR_AGAIN;
    if (k->out_again_pending) {
        k->out_again_pending = 0;
        return LG_ERR_AGAIN;
    }
    k->out_again_pending = k->out_again;
    size_t take = total;
    if (k->out_piece && take > k->out_piece) take = k->out_piece;
    if (k->out_per_ms) {
        fault_net *fn = ctx;
        if (!k->out_ms) k->out_ms = fn->now_ms - 1; /* a first millisecond's worth */
        size_t credit = out_credit(fn, k);
        if (!credit) return LG_ERR_AGAIN;
        if (take > credit) take = credit;
        k->out_ms = fn->now_ms - (uint64_t)((credit - take) / k->out_per_ms);
    }
    if (k->out_fail_err && k->out_len + take > k->out_fail_at) take = k->out_fail_at - k->out_len;
    if (k->out_stall_at && k->out_len + take > k->out_stall_at) take = k->out_stall_at - k->out_len;
    if (k->out_len + take > k->out_cap) {
        size_t cap = k->out_cap ? k->out_cap * 2 : 256;
        while (cap < k->out_len + take) cap *= 2;
        k->out = realloc(k->out, cap);
        k->out_cap = cap;
    }
    size_t left = take;
    for (size_t i = 0; i < n && left; i++) {
        size_t c = parts[i].len < left ? parts[i].len : left;
        memcpy(k->out + k->out_len, parts[i].ptr, c);
        k->out_len += c;
        left -= c;
    }
    return (long)take;
}

static int f_shutdown_write(void *ctx, int fd)
{
    fault_sock *k = sock_of(ctx, fd);
    if (!k) return LG_ERR_IO;
    k->shutdowns++;
    if (!k->fin_sent) {
        k->fin_sent = 1;
        k->fin_at = k->out_len;
    }
    return LG_OK;
}

static void f_close(void *ctx, int fd)
{
    fault_sock *k = sock_of(ctx, fd);
    if (!k) return;
    /* Rule 3: input the peer sent that we never read is what turns a
     * close into a reset. An input that ended in a reset cannot be hurt. */
    if (k->in_pos < k->in_len) {
        k->closed_with_unread = 1;
        k->closed_before_input = k->in_again_pending || k->in_again_said;
    } else if (!k->fin_sent) { /* nothing unread: the close sends FIN */
        k->fin_sent = 1;
        k->fin_at = k->out_len;
    }
    k->closed = 1;
}

/* The pretend peer takes what a send accepts: the "kernel" holds nothing,
 * unless the script says otherwise. */
static long f_unacked(void *ctx, int fd)
{
    fault_sock *k = sock_of(ctx, fd);
    return k ? k->held : LG_ERR_IO;
}

static void f_abort(void *ctx, int fd)
{
    fault_sock *k = sock_of(ctx, fd);
    if (!k) return;
    k->aborted = 1;
    k->closed = 1;
}

static int f_connect_result(void *ctx, int fd)
{
    (void)ctx;
    (void)fd;
    return LG_OK;
}

static int f_listen(void *ctx, const lg_addr *a, unsigned flags, int backlog, int *fd,
                    lg_addr *bound)
{
    fault_sock script;
    (void)flags;
    (void)backlog;
    memset(&script, 0, sizeof script);
    script.is_listener = 1;
    *fd = fault_sock_new(ctx, &script);
    *bound = *a;
    if (!bound->port) bound->port = 1;
    return LG_OK;
}

static int f_accept(void *ctx, int lfd, int *fd, lg_addr *peer)
{
    fault_net *fn = ctx;
    (void)lfd;
    if (fn->accept_len == 0) return LG_ERR_AGAIN;
    *fd = fn->accept_queue[0];
    memmove(fn->accept_queue, fn->accept_queue + 1, (size_t)(--fn->accept_len) * sizeof(int));
    memset(peer, 0, sizeof *peer);
    peer->family = 4;
    peer->ip[0] = 127;
    peer->ip[3] = 1;
    peer->port = (uint16_t)(40000 + *fd - FAULT_FD_BASE);
    return LG_OK;
}

/* --- connect: each call takes the next queued script --- */

static int queue_connect(fault_net *fn, const fault_sock *script, int err)
{
    if (fn->connects_queued >= FAULT_MAX_CONNECTS) abort();
    int i = fn->connects_queued++;
    if (script) fn->connect_script[i] = *script;
    else memset(&fn->connect_script[i], 0, sizeof fn->connect_script[i]);
    fn->connect_err[i] = err;
    fn->connect_fd[i] = -1;
    return i;
}

int fault_expect_connect(fault_net *fn, const fault_sock *script)
{
    return queue_connect(fn, script, 0);
}

int fault_expect_connect_error(fault_net *fn, int err)
{
    return queue_connect(fn, NULL, err);
}

fault_sock *fault_connected(fault_net *fn, int i)
{
    if (i < 0 || i >= fn->connects_made || fn->connect_fd[i] < 0) return NULL;
    return fault_sock_get(fn, fn->connect_fd[i]);
}

static int f_connect(void *ctx, const lg_addr *a, int *fd)
{
    fault_net *fn = ctx;
    if (fn->connects_made >= fn->connects_queued) return LG_ERR_REFUSED;
    int i = fn->connects_made++;
    fn->connect_addr[i] = *a;
    int err = fn->connect_err[i];
    if (err && err != FAULT_CONNECT_HANG) return err;
    *fd = fault_sock_new(fn, &fn->connect_script[i]);
    fn->connect_fd[i] = *fd;
    if (err == FAULT_CONNECT_HANG) {
        fault_sock_get(fn, *fd)->connect_pending = 1;
        return LG_ERR_AGAIN;
    }
    return LG_OK;
}

static long f_send_more(void *ctx, int fd, const lg_str *parts, size_t n)
{
    fault_sock *k = sock_of(ctx, fd);
    if (k) k->more_sends++;
    return f_send(ctx, fd, parts, n);
}

static long f_sendfile(void *ctx, int fd, int file, uint64_t offset, size_t len)
{
    char buf[65536];
    if (len > sizeof buf) len = sizeof buf;
    if (lseek(file, (off_t)offset, SEEK_SET) < 0) return LG_ERR_IO;
    ssize_t got = read(file, buf, len);
    if (got <= 0) return LG_ERR_IO;
    lg_str part = { buf, (size_t)got };
    long w = f_send(ctx, fd, &part, 1);
    fault_sock *k = sock_of(ctx, fd);
    if (k) {
        k->send_calls--;
        k->sendfile_calls++;
    }
    return w;
}

const lg_net fault_net_ops = {
    .name = "fault",
    .now_ms = f_now,
    .listen = f_listen,
    .accept = f_accept,
    .connect = f_connect,
    .connect_result = f_connect_result,
    .recv = f_recv,
    .send = f_send,
    .sendfile = NULL,
    .shutdown_write = f_shutdown_write,
    .unacked = f_unacked,
    .close = f_close,
    .abort = f_abort,
};

const lg_net fault_net_sendfile_ops = {
    .name = "fault+sendfile",
    .now_ms = f_now,
    .listen = f_listen,
    .accept = f_accept,
    .connect = f_connect,
    .connect_result = f_connect_result,
    .recv = f_recv,
    .send = f_send,
    .sendfile = f_sendfile,
    .send_more = f_send_more,
    .shutdown_write = f_shutdown_write,
    .unacked = f_unacked,
    .close = f_close,
    .abort = f_abort,
};

/* --- backend --- */

static int fb_init(lg_loop *loop)
{
    (void)loop;
    return LG_OK;
}

static void fb_destroy(lg_loop *loop)
{
    (void)loop;
}

static int fb_update(lg_loop *loop, lg_io *io, unsigned old_events, unsigned new_events)
{
    fault_net *fn = lg_port_net_ctx(loop);
    int i = io->fd - FAULT_FD_BASE;
    (void)old_events;
    if (i < 0 || i >= FAULT_MAX_SOCKS) return LG_ERR_INVALID_ARG;
    fn->ios[i] = new_events ? io : NULL;
    return LG_OK;
}

static int fb_wait(lg_loop *loop, int timeout_ms)
{
    fault_net *fn = lg_port_net_ctx(loop);
    unsigned ready[FAULT_MAX_SOCKS];
    lg_io *who[FAULT_MAX_SOCKS];
    int count = 0, slow_wait = 0;
    for (int i = 0; i < FAULT_MAX_SOCKS; i++) {
        lg_io *io = fn->ios[i];
        fault_sock *k = &fn->socks[i];
        if (!io || !k->used) continue;
        unsigned ev = 0;
        if (k->is_listener) {
            if ((io->events & LG_READABLE) && fn->accept_len) ev |= LG_READABLE;
            if (ev) {
                ready[count] = ev;
                who[count] = io;
                count++;
            }
            continue;
        }
        if ((io->events & LG_READABLE) && input_pending(k)) ev |= LG_READABLE;
        if ((io->events & LG_WRITABLE) && !k->connect_pending &&
            !(k->out_stall_at && k->out_len >= k->out_stall_at)) {
            if (k->out_per_ms && k->out_ms && !out_credit(fn, k)) slow_wait = 1;
            else ev |= LG_WRITABLE;
        }
        if (ev) {
            ready[count] = ev;
            who[count] = io;
            count++;
        }
    }
    if (count == 0) {
        /* Nothing can happen but time passing: to the next timer, or the
         * next millisecond when a slow reader will take more. */
        if (slow_wait && (timeout_ms < 0 || timeout_ms > 1)) fn->now_ms += 1;
        else if (timeout_ms > 0) fn->now_ms += (uint64_t)timeout_ms;
        else if (timeout_ms < 0) fn->stalled_waits++;
        return 0;
    }
    for (int i = 0; i < count; i++) lg_port_io_ready(who[i], ready[i]);
    return count;
}

const lg_backend fault_backend = { "fault", fb_init, fb_destroy, fb_update, fb_wait, NULL };

lg_loop *fault_loop_new(fault_net *fn)
{
    lg_loop_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.backend = &fault_backend;
    cfg.net = &fault_net_ops;
    cfg.net_ctx = fn;
    return lg_loop_new(&cfg);
}

int fault_run(lg_loop *loop, int max_iterations)
{
    fault_net *fn = lg_port_net_ctx(loop);
    for (int i = 0; i < max_iterations; i++) {
        int before = fn->stalled_waits;
        int alive = lg_loop_run_once(loop, -1);
        if (alive <= 0) return i + 1;
        if (fn->stalled_waits != before) return -1; /* waiting for what can never come */
    }
    return -1;
}

char *fault_exchange(fault_net *fn, lg_loop *loop, const char *request, size_t len, char *answer,
                     size_t cap)
{
    fault_sock script = { 0 };
    script.in = request;
    script.in_len = len;
    script.in_end = FAULT_EOF_AFTER_FIN;
    int fd = fault_accept_queue(fn, &script);
    for (int i = 0; i < 1000 && !fault_sock_get(fn, fd)->closed; i++) lg_loop_run_once(loop, -1);
    const fault_sock *k = fault_sock_get(fn, fd);
    size_t n = k->out_len < cap - 1 ? k->out_len : cap - 1;
    memcpy(answer, k->out, n);
    answer[n] = 0;
    return answer;
}
