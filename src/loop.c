/*
 * The event loop: one thread, readiness from a backend, timers in a binary
 * heap, deferred calls in a FIFO, and a mutex-guarded queue for work posted
 * from other threads.
 *
 * One iteration: run due timers, wait for readiness (no longer than the
 * next timer, not at all if deferred calls wait), dispatch, run due timers,
 * run deferred calls. Deferred calls queued while deferred calls run wait
 * for the next iteration, so a callback that defers itself cannot starve I/O.
 */
#include <string.h>

#include "loop_internal.h" /* first: the build options decide what else */
#if !defined(LG_NO_LOG)
#include <stdarg.h>
#include <stdio.h> /* vsnprintf */
#endif
#if defined(__linux__)
#include <stdlib.h> /* getenv */
#endif

#define TIMER_STOPPED UINT32_MAX

/* The platform a loop uses unless its config names one: ports define
 * LG_DEFAULT_NET (e.g. lg_net_lwip) to replace the POSIX sockets. */
#ifndef LG_DEFAULT_NET
#define LG_DEFAULT_NET lg_net_posix
#endif
extern const lg_net LG_DEFAULT_NET;
/* Likewise the readiness backend: a port with a backend of its own (lwIP's
 * raw API: a superloop, ports/lwip_raw) defines LG_DEFAULT_BACKEND, and
 * with LG_NO_POLL nothing refers to the poll backend. */
#if defined(LG_DEFAULT_BACKEND)
extern const lg_backend LG_DEFAULT_BACKEND;
#endif

/* ---------------------------------------------------------------------------
 * Timer heap (min-heap on due_ms; ties keep no particular order). Due times
 * are 32-bit and wrap: every timer is within LG_TIMER_MAX_MS of now, so the
 * signed difference of two of them orders them.
 * ------------------------------------------------------------------------ */

static int before(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

static uint32_t now32(const lg_loop *loop)
{
    return (uint32_t)loop->now;
}

static void heap_set(lg_loop *loop, uint32_t i, lg_timer *t)
{
    loop->heap[i] = t;
    t->heap_index = i;
}

static void heap_up(lg_loop *loop, uint32_t i)
{
    lg_timer *t = loop->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!before(t->due_ms, loop->heap[parent]->due_ms)) break;
        heap_set(loop, i, loop->heap[parent]);
        i = parent;
    }
    heap_set(loop, i, t);
}

static void heap_down(lg_loop *loop, uint32_t i)
{
    lg_timer *t = loop->heap[i];
    uint32_t n = loop->heap_len;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && before(loop->heap[c + 1]->due_ms, loop->heap[c]->due_ms)) c++;
        if (!before(loop->heap[c]->due_ms, t->due_ms)) break;
        heap_set(loop, i, loop->heap[c]);
        i = c;
    }
    heap_set(loop, i, t);
}

static void heap_remove(lg_loop *loop, lg_timer *t)
{
    uint32_t i = t->heap_index;
    uint32_t last = --loop->heap_len;
    t->heap_index = TIMER_STOPPED;
    if (i == last) return;
    heap_set(loop, i, loop->heap[last]);
    if (i > 0 && before(loop->heap[i]->due_ms, loop->heap[(i - 1) / 2]->due_ms)) heap_up(loop, i);
    else heap_down(loop, i);
}

static int heap_push(lg_loop *loop, lg_timer *t)
{
    if (loop->heap_len == loop->heap_cap) {
        uint32_t cap = loop->heap_cap ? loop->heap_cap * 2 : 16;
        lg_timer **h = lg__realloc(loop->heap, loop->heap_cap * sizeof *h, cap * sizeof *h);
        if (!h) return LG_ERR_NOMEM;
        loop->heap = h;
        loop->heap_cap = cap;
    }
    heap_set(loop, loop->heap_len, t);
    loop->heap_len++;
    heap_up(loop, t->heap_index);
    return LG_OK;
}

int lg__loop_reserve_timers(lg_loop *loop, uint32_t extra)
{
    uint32_t need = loop->heap_len + extra;
    if (need <= loop->heap_cap) return LG_OK;
    /* The first reservation is exact (static memory sizes the heap once). */
    uint32_t cap = loop->heap_cap ? loop->heap_cap : need;
    while (cap < need) cap *= 2;
    lg_timer **h = lg__realloc(loop->heap, loop->heap_cap * sizeof *h, cap * sizeof *h);
    if (!h) return LG_ERR_NOMEM;
    loop->heap = h;
    loop->heap_cap = cap;
    return LG_OK;
}

void lg_timer_init(lg_loop *loop, lg_timer *t, lg_timer_cb cb)
{
    memset(t, 0, sizeof *t);
    t->loop = loop;
    t->cb = cb;
    t->heap_index = TIMER_STOPPED;
}

static uint32_t clamp_ms(uint32_t ms)
{
    return ms > LG_TIMER_MAX_MS ? LG_TIMER_MAX_MS : ms;
}

int lg_timer_start(lg_timer *t, uint32_t timeout_ms)
{
    lg_loop *loop = t->loop;
    uint32_t due = now32(loop) + clamp_ms(timeout_ms);
    if (t->heap_index != TIMER_STOPPED) {
        uint32_t old = t->due_ms;
        t->due_ms = due;
        if (before(due, old)) heap_up(loop, t->heap_index);
        else heap_down(loop, t->heap_index);
        return LG_OK;
    }
    t->due_ms = due;
    return heap_push(loop, t);
}

void lg_timer_stop(lg_timer *t)
{
    if (t->heap_index != TIMER_STOPPED) heap_remove(t->loop, t);
}

int lg_timer_active(const lg_timer *t)
{
    return t->heap_index != TIMER_STOPPED;
}

static void run_timers(lg_loop *loop)
{
    while (loop->heap_len && !before(now32(loop), loop->heap[0]->due_ms)) {
        lg_timer *t = loop->heap[0];
        heap_remove(loop, t);
        t->cb(t);
    }
}

/* ---------------------------------------------------------------------------
 * Deferred calls
 * ------------------------------------------------------------------------ */

/* A queued call's next is never NULL: the last one points at itself. */
static lg_defer *next_of(lg_defer *d)
{
    return d->next == d ? NULL : d->next;
}

void lg_defer_call(lg_loop *loop, lg_defer *d, lg_defer_cb cb)
{
    d->cb = cb;
    if (d->next) return;
    d->next = d;
    if (loop->defer_tail) loop->defer_tail->next = d;
    else loop->defer_head = d;
    loop->defer_tail = d;
}

void lg_defer_cancel(lg_loop *loop, lg_defer *d)
{
    if (!d->next) return;
    lg_defer *prev = NULL;
    for (lg_defer *p = loop->defer_head; p; prev = p, p = next_of(p)) {
        if (p != d) continue;
        if (prev) prev->next = p->next == p ? prev : p->next;
        else loop->defer_head = next_of(p);
        if (loop->defer_tail == p) loop->defer_tail = prev;
        /* run_deferred stops after its mark: move the mark back. A NULL
         * prev means the mark was next in line, so this round is done. */
        if (loop->defer_mark == p) {
            loop->defer_mark = prev;
            if (!prev) loop->defer_mark_gone = 1;
        }
        break;
    }
    d->next = NULL;
}

static void run_deferred(lg_loop *loop)
{
    /* Only what was queued before we started: see the file comment. */
    loop->defer_mark = loop->defer_tail;
    loop->defer_mark_gone = 0;
    while (loop->defer_head && !loop->defer_mark_gone) {
        lg_defer *d = loop->defer_head;
        loop->defer_head = next_of(d);
        if (!loop->defer_head) loop->defer_tail = NULL;
        d->next = NULL;
        int last = d == loop->defer_mark;
        if (last) loop->defer_mark = NULL;
        d->cb(d);
        if (last) break;
    }
    loop->defer_mark = NULL;
}

/* ---------------------------------------------------------------------------
 * Work posted from other threads (none with LG_NO_THREADS: the platform then
 * needs no mutex and no wake-up socket)
 * ------------------------------------------------------------------------ */

#if !defined(LG_NO_THREADS)
static void on_wake(lg_io *io, unsigned events)
{
    lg_loop *loop = io->loop;
    LG_UNUSED(events);
    loop->net->waker_drain(loop->net_ctx, loop->wake_fds);
    loop->net->mutex_lock(loop->net_ctx, loop->post_mutex);
    lg_defer *list = loop->post_head;
    loop->post_head = loop->post_tail = NULL;
    loop->net->mutex_unlock(loop->net_ctx, loop->post_mutex);
    while (list) {
        lg_defer *d = list;
        list = next_of(d);
        d->next = NULL;
        d->cb(d);
    }
}

int lg_loop_post(lg_loop *loop, lg_defer *d, lg_defer_cb cb)
{
    if (loop->wake_fds[0] < 0) return LG_ERR_UNSUPPORTED;
    d->cb = cb;
    d->next = d;
    loop->net->mutex_lock(loop->net_ctx, loop->post_mutex);
    int was_empty = loop->post_head == NULL;
    if (loop->post_tail) loop->post_tail->next = d;
    else loop->post_head = d;
    loop->post_tail = d;
    loop->net->mutex_unlock(loop->net_ctx, loop->post_mutex);
    if (was_empty) loop->net->waker_signal(loop->net_ctx, loop->wake_fds);
    return LG_OK;
}
#else
int lg_loop_post(lg_loop *loop, lg_defer *d, lg_defer_cb cb)
{
    LG_UNUSED(loop);
    LG_UNUSED(d);
    LG_UNUSED(cb);
    return LG_ERR_UNSUPPORTED;
}
#endif

void lg__loop_ref(lg_loop *loop)
{
    loop->refs++;
}

void lg__loop_unref(lg_loop *loop)
{
    loop->refs--;
}

/* ---------------------------------------------------------------------------
 * I/O watchers
 * ------------------------------------------------------------------------ */

void lg_io_init(lg_loop *loop, lg_io *io, int fd, lg_io_cb cb)
{
    memset(io, 0, sizeof *io);
    io->loop = loop;
    io->fd = fd;
    io->cb = cb;
}

int lg_io_set(lg_io *io, unsigned events)
{
    lg_loop *loop = io->loop;
    events &= LG_READABLE | LG_WRITABLE;
    if (io->fd < 0) return LG_ERR_CLOSED;
    if (events == io->events) return LG_OK;
    int rc = loop->backend->update(loop, io, io->events, events);
    if (rc) return rc;
#if !defined(LG_NO_THREADS)
    if (io != &loop->wake_io)
#endif
    {
        if (!io->events && events) loop->active_ios++;
        else if (io->events && !events) loop->active_ios--;
    }
    io->events = (uint8_t)events;
    return LG_OK;
}

void lg_io_close(lg_io *io)
{
    if (io->fd < 0) return;
    lg_io_set(io, 0);
    io->fd = -1;
}

void lg_port_io_ready(lg_io *io, unsigned events)
{
    if (io->fd < 0 || !io->events) return;
    /* The wait may have lasted long: a callback that starts a timer (a new
     * connection's header timeout) must count from now, not from before
     * the wait, or a server idle longer than the timeout closes its first
     * newcomers at once. */
    if (io->loop->time_stale) {
        io->loop->time_stale = 0;
        lg_loop_update_time(io->loop);
    }
    /* Errors and hang-ups come as both: the callback's next recv or send
     * says what happened. */
    events &= io->events;
    if (events) io->cb(io, events);
}

/* ---------------------------------------------------------------------------
 * The loop
 * ------------------------------------------------------------------------ */

static const lg_backend *pick_backend(const lg_loop_config *config)
{
    if (config && config->backend) return config->backend;
#if defined(LG_DEFAULT_BACKEND)
    return &LG_DEFAULT_BACKEND;
#elif defined(__linux__) && !defined(LG_NO_EPOLL)
    const char *env = getenv("LINGER_BACKEND");
    if (env && strcmp(env, "poll") == 0) return &lg_backend_poll;
    return &lg_backend_epoll;
#else
    return &lg_backend_poll;
#endif
}

lg_loop *lg_loop_new(const lg_loop_config *config)
{
    lg_loop *loop = lg__alloc(sizeof *loop);
    if (!loop) return NULL;
    memset(loop, 0, sizeof *loop);
    loop->backend = pick_backend(config);
    loop->net = config && config->net ? config->net : &LG_DEFAULT_NET;
    loop->net_ctx = config ? config->net_ctx : NULL;
    loop->log = config ? config->log : NULL;
    loop->log_user = config ? config->log_user : NULL;
    loop->log_level = config && config->log_level ? config->log_level : LG_LOG_WARN;
#if !defined(LG_NO_THREADS)
    loop->wake_fds[0] = loop->wake_fds[1] = -1;
#endif
    loop->now = loop->net->now_ms(loop->net_ctx);

    if (loop->backend->init(loop) != LG_OK) {
        lg__free(loop, sizeof *loop);
        return NULL;
    }
#if !defined(LG_NO_THREADS)
    /* Cross-thread wake-up is optional: a platform without it still runs. */
    if (loop->net->waker_open && loop->net->mutex_new) {
        loop->post_mutex = loop->net->mutex_new(loop->net_ctx);
        if (loop->post_mutex && loop->net->waker_open(loop->net_ctx, loop->wake_fds) == LG_OK) {
            lg_io_init(loop, &loop->wake_io, loop->wake_fds[0], on_wake);
            if (lg_io_set(&loop->wake_io, LG_READABLE) != LG_OK) {
                loop->net->waker_close(loop->net_ctx, loop->wake_fds);
                loop->wake_fds[0] = loop->wake_fds[1] = -1;
            }
        } else {
            loop->wake_fds[0] = loop->wake_fds[1] = -1;
        }
    }
#endif
    return loop;
}

/* How many free buffers the cache keeps (without a static pool). */
#define BUF_CACHE_MAX 16

char *lg__buf_get(lg_loop *loop, uint32_t size)
{
    if (size == loop->buf_size && loop->buf_free) {
        char *b = loop->buf_free;
        memcpy(&loop->buf_free, b, sizeof(char *));
        loop->buf_free_len--;
        return b;
    }
    if (size == loop->buf_size && loop->buf_fixed) return NULL; /* the pool is all in use */
    return lg__alloc(size);
}

static void buf_push(lg_loop *loop, char *buf)
{
    memcpy(buf, &loop->buf_free, sizeof(char *));
    loop->buf_free = buf;
    loop->buf_free_len++;
}

void lg__buf_put(lg_loop *loop, char *buf, uint32_t size)
{
    if (!buf) return;
    if (!loop->buf_free && !loop->buf_fixed) loop->buf_size = size;
    if (size == loop->buf_size && (loop->buf_fixed || loop->buf_free_len < BUF_CACHE_MAX)) {
        buf_push(loop, buf);
        return;
    }
    lg__free(buf, size);
}

static void buf_cache_clear(lg_loop *loop)
{
    while (loop->buf_free) {
        char *b = loop->buf_free;
        memcpy(&loop->buf_free, b, sizeof(char *));
        if (!loop->buf_fixed) lg__free(b, loop->buf_size);
    }
    loop->buf_free_len = 0;
}

int lg__loop_buffers(lg_loop *loop, void *mem, uint32_t size, uint32_t count)
{
    if (mem && loop->buf_fixed) return LG_ERR_LIMIT;
    buf_cache_clear(loop);
    loop->buf_fixed = mem != NULL;
    loop->buf_size = size;
    for (uint32_t i = 0; mem && i < count; i++) buf_push(loop, (char *)mem + (size_t)i * size);
    return LG_OK;
}

int lg__loop_reserve_ios(lg_loop *loop, uint32_t n)
{
    return loop->backend->reserve ? loop->backend->reserve(loop, n) : LG_OK;
}

int lg_loop_reserve(lg_loop *loop, uint32_t timers, uint32_t ios)
{
    int rc = timers ? lg__loop_reserve_timers(loop, timers) : LG_OK;
    if (!rc && ios) rc = lg__loop_reserve_ios(loop, loop->active_ios + 1 + ios); /* + the waker */
    return rc;
}

int lg_loop_set_buffers(lg_loop *loop, void *mem, uint32_t size, uint32_t count)
{
    return lg__loop_buffers(loop, mem, size, count);
}

void lg_loop_free(lg_loop *loop)
{
    if (!loop) return;
    buf_cache_clear(loop);
#if !defined(LG_NO_THREADS)
    if (loop->wake_fds[0] >= 0) {
        lg_io_close(&loop->wake_io);
        loop->net->waker_close(loop->net_ctx, loop->wake_fds);
    }
    if (loop->post_mutex) loop->net->mutex_free(loop->net_ctx, loop->post_mutex);
#endif
    loop->backend->destroy(loop);
    lg__free(loop->heap, loop->heap_cap * sizeof *loop->heap);
    lg__free(loop, sizeof *loop);
}

static int loop_alive(const lg_loop *loop)
{
    return loop->active_ios || loop->heap_len || loop->defer_head || loop->refs
#if !defined(LG_NO_THREADS)
           || loop->post_head
#endif
        ;
}

int lg_loop_run_once(lg_loop *loop, int timeout_ms)
{
    lg_loop_update_time(loop);
    run_timers(loop);

    int wait = timeout_ms;
    if (loop->defer_head || loop->stop) {
        wait = 0;
    } else if (loop->heap_len) {
        int32_t left = (int32_t)(loop->heap[0]->due_ms - now32(loop));
        if (left < 0) left = 0;
        if (wait < 0 || wait > left) wait = (int)left;
    } else if (!loop_alive(loop)) {
        wait = 0;
    }

    loop->time_stale = 1;
    int rc = loop->backend->wait(loop, wait);
    loop->time_stale = 0;
    lg_loop_update_time(loop);
    run_timers(loop);
    run_deferred(loop);
    if (rc < 0) return rc;
    return loop_alive(loop);
}

int lg_loop_timeout(const lg_loop *loop)
{
    if (loop->defer_head || loop->stop) return 0;
    if (!loop->heap_len) return -1;
    int32_t left = (int32_t)(loop->heap[0]->due_ms - now32(loop));
    return left < 0 ? 0 : (int)left;
}

int lg_loop_run(lg_loop *loop)
{
    int rc = 0;
    loop->running = 1;
    while (!loop->stop) {
        rc = lg_loop_run_once(loop, -1);
        if (rc <= 0) break;
    }
    loop->stop = 0;
    loop->running = 0;
    return rc < 0 ? rc : LG_OK;
}

void lg_loop_stop(lg_loop *loop)
{
    loop->stop = 1;
}

uint64_t lg_loop_now(const lg_loop *loop)
{
    return loop->now;
}

void lg_loop_update_time(lg_loop *loop)
{
    loop->now = loop->net->now_ms(loop->net_ctx);
}

const lg_loop_stats *lg_loop_get_stats(const lg_loop *loop)
{
    return &loop->stats;
}

#if !defined(LG_NO_LOG)
void lg_log(lg_loop *loop, int level, const char *fmt, ...)
{
    if (!loop || !loop->log || level > loop->log_level) return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    loop->log(level, msg, loop->log_user);
}
#endif

/* ---------------------------------------------------------------------------
 * What a port may ask of its loop (linger_port.h)
 * ------------------------------------------------------------------------ */

void *lg_port_backend_data(const lg_loop *loop)
{
    return loop->backend_data;
}

void lg_port_set_backend_data(lg_loop *loop, void *data)
{
    loop->backend_data = data;
}

void *lg_port_net_ctx(const lg_loop *loop)
{
    return loop->net_ctx;
}
