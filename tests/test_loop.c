/* The event loop on a real backend (epoll or poll: ctest runs this file
 * under both, via LINGER_BACKEND), and the timer heap at scale on the fault
 * injector's virtual clock. */
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fault/fault_net.h"
#include "loop_internal.h"
#include "test.h"

/* --- timers --- */

typedef struct tctx {
    lg_timer t;
    int fired;
    uint64_t at;
    int order;
} tctx;

static int fire_seq;

static void on_timer(lg_timer *t)
{
    tctx *c = LG_CONTAINER_OF(t, tctx, t);
    c->fired++;
    c->at = lg_loop_now(t->loop);
    c->order = ++fire_seq;
}

static void test_timer_order_real_clock(void)
{
    lg_loop *loop = lg_loop_new(NULL);
    tctx c[5];
    static const int ms[5] = { 40, 10, 30, 0, 20 };
    fire_seq = 0;
    uint64_t t0 = lg_loop_now(loop);
    for (int i = 0; i < 5; i++) {
        lg_timer_init(loop, &c[i].t, on_timer);
        c[i].fired = 0;
        lg_timer_start(&c[i].t, (uint64_t)ms[i]);
    }
    CHECK_EQ_INT(lg_loop_run(loop), LG_OK);
    for (int i = 0; i < 5; i++) {
        CHECK_EQ_INT(c[i].fired, 1);
        CHECK(c[i].at - t0 >= (uint64_t)ms[i]);
    }
    CHECK_EQ_INT(c[3].order, 1);
    CHECK_EQ_INT(c[1].order, 2);
    CHECK_EQ_INT(c[4].order, 3);
    CHECK_EQ_INT(c[2].order, 4);
    CHECK_EQ_INT(c[0].order, 5);
    lg_loop_free(loop);
}

/* A periodic timer starts itself again from its callback. */
static void again_until_three(lg_timer *t)
{
    tctx *c = LG_CONTAINER_OF(t, tctx, t);
    CHECK(!lg_timer_active(t)); /* a timer that fired is stopped */
    if (++c->fired < 3) lg_timer_start(t, 2);
}

static void test_repeat_and_stop_inside(void)
{
    lg_loop *loop = lg_loop_new(NULL);
    tctx c = { 0 };
    lg_timer_init(loop, &c.t, again_until_three);
    lg_timer_start(&c.t, 1);
    CHECK_EQ_INT(lg_loop_run(loop), LG_OK);
    CHECK_EQ_INT(c.fired, 3);
    CHECK(!lg_timer_active(&c.t));
    lg_loop_free(loop);
}

static void stop_loop(lg_timer *t)
{
    lg_loop_stop(t->loop);
}

static void test_stop_leaves_work(void)
{
    lg_loop *loop = lg_loop_new(NULL);
    lg_timer stopper;
    tctx c = { 0 };
    lg_timer_init(loop, &stopper, stop_loop);
    lg_timer_init(loop, &c.t, on_timer);
    lg_timer_start(&stopper, 5);
    lg_timer_start(&c.t, 60000);
    CHECK_EQ_INT(lg_loop_run(loop), LG_OK);
    CHECK(lg_timer_active(&c.t));
    CHECK_EQ_INT(c.fired, 0);
    /* run_once with a timeout returns when it expires */
    uint64_t t0 = lg_loop_now(loop);
    CHECK_EQ_INT(lg_loop_run_once(loop, 20), 1);
    CHECK(lg_loop_now(loop) - t0 >= 19);
    lg_timer_stop(&c.t);
    CHECK_EQ_INT(lg_loop_run_once(loop, 0), 0); /* nothing left */
    lg_loop_free(loop);
}

/* 100,000 timers with random deadlines, a third of them stopped or moved:
 * every live one fires once, in deadline order. Virtual clock: instant. The
 * clock starts 50 s before the loop's 32-bit time wraps, so that most
 * deadlines lie beyond the wrap: an order by plain comparison would fire
 * them first. */
static void test_timer_heap_at_scale(void)
{
    enum { N = 100000 };
    fault_net fn;
    fault_net_init(&fn);
    fn.now_ms = 3 * (uint64_t)UINT32_MAX - 50000;
    lg_loop *loop = fault_loop_new(&fn);
    tctx *c = calloc(N, sizeof *c);
    uint32_t seed = 12345;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        lg_timer_init(loop, &c[i].t, on_timer);
        lg_timer_start(&c[i].t, (seed >> 8) % 100000);
    }
    for (int i = 0; i < N; i += 3) {
        if (i % 2) {
            lg_timer_stop(&c[i].t);
        } else {
            seed = seed * 1103515245u + 12345u;
            lg_timer_start(&c[i].t, (seed >> 8) % 100000);
        }
    }
    fire_seq = 0;
    CHECK(fault_run(loop, 10 * N) > 0);
    int fired = 0, bad_order = 0, stopped_fired = 0;
    uint64_t *at_by_order = calloc(N + 1, sizeof *at_by_order);
    for (int i = 0; i < N; i++) {
        int stopped = i % 3 == 0 && i % 2;
        if (stopped && c[i].fired) stopped_fired++;
        if (!stopped) {
            if (c[i].fired != 1) bad_order++;
            if ((uint32_t)c[i].at != c[i].t.due_ms) bad_order++;
            at_by_order[c[i].order] = c[i].at;
            fired++;
        }
    }
    for (int k = 2; k <= fired; k++)
        if (at_by_order[k] < at_by_order[k - 1]) bad_order++;
    CHECK_EQ_INT(stopped_fired, 0);
    CHECK_EQ_INT(bad_order, 0);
    CHECK_EQ_INT(fire_seq, fired);
    free(at_by_order);
    free(c);
    lg_loop_free(loop);
}

/* --- deferred calls --- */

static int defer_log[16], defer_n;

typedef struct tagged {
    lg_defer d;
    int tag;
} tagged;

static void on_defer(lg_defer *d)
{
    defer_log[defer_n++] = LG_CONTAINER_OF(d, tagged, d)->tag;
}

static void on_defer_other(lg_defer *d)
{
    defer_log[defer_n++] = 10 * LG_CONTAINER_OF(d, tagged, d)->tag;
}

static void test_defer(void)
{
    lg_loop *loop = lg_loop_new(NULL);
    tagged t[5] = { { { 0 }, 1 }, { { 0 }, 2 }, { { 0 }, 3 }, { { 0 }, 4 }, { { 0 }, 5 } };
    defer_n = 0;
    for (int i = 0; i < 5; i++) lg_defer_call(loop, &t[i].d, on_defer);
    lg_defer_call(loop, &t[0].d, on_defer_other); /* already queued: retargets only */
    /* Cancelling the middle, the last and the first of the queue. */
    lg_defer_cancel(loop, &t[2].d);
    lg_defer_cancel(loop, &t[4].d);
    lg_defer_cancel(loop, &t[4].d); /* twice: nothing */
    CHECK_EQ_INT(lg_loop_run_once(loop, 0), 0); /* nothing left queued */
    CHECK_EQ_INT(defer_n, 3);
    CHECK_EQ_INT(defer_log[0], 10);
    CHECK_EQ_INT(defer_log[1], 2);
    CHECK_EQ_INT(defer_log[2], 4);
    /* The queue is whole after those cuts: its new tail and head work. */
    lg_defer_call(loop, &t[4].d, on_defer);
    lg_defer_call(loop, &t[0].d, on_defer);
    lg_defer_cancel(loop, &t[4].d);
    lg_defer_call(loop, &t[2].d, on_defer);
    CHECK_EQ_INT(lg_loop_run(loop), LG_OK);
    CHECK_EQ_INT(defer_n, 5);
    CHECK_EQ_INT(defer_log[3], 1);
    CHECK_EQ_INT(defer_log[4], 3);
    lg_loop_free(loop);
}

static lg_loop *self_loop;
static int self_rounds;
static lg_defer self_d;
static void self_requeue(lg_defer *d)
{
    if (++self_rounds < 5) lg_defer_call(self_loop, d, self_requeue);
}

static void test_defer_requeue_runs_next_round(void)
{
    self_loop = lg_loop_new(NULL);
    self_rounds = 0;
    memset(&self_d, 0, sizeof self_d);
    lg_defer_call(self_loop, &self_d, self_requeue);
    CHECK_EQ_INT(lg_loop_run_once(self_loop, 0), 1);
    CHECK_EQ_INT(self_rounds, 1); /* not all five in one round */
    CHECK_EQ_INT(lg_loop_run(self_loop), LG_OK);
    CHECK_EQ_INT(self_rounds, 5);
    lg_loop_free(self_loop);
}

/* --- posting from other threads --- */

enum { POSTERS = 4, POSTS_EACH = 2000 };

typedef struct post_item {
    lg_defer d;
    pthread_t on;
} post_item;

static post_item items[POSTERS][POSTS_EACH];
static int received;
static pthread_t loop_thread;
static lg_loop *post_loop;
static int wrong_thread;

static void on_post(lg_defer *d)
{
    if (!pthread_equal(pthread_self(), loop_thread)) wrong_thread++;
    (void)d;
    if (++received == POSTERS * POSTS_EACH) lg__loop_unref(post_loop);
}

static void *poster(void *arg)
{
    post_item *mine = arg;
    for (int i = 0; i < POSTS_EACH; i++) lg_loop_post(post_loop, &mine[i].d, on_post);
    return NULL;
}

static void test_post_from_threads(void)
{
    post_loop = lg_loop_new(NULL);
    loop_thread = pthread_self();
    received = 0;
    wrong_thread = 0;
    lg__loop_ref(post_loop); /* the posters' work keeps it alive */
    pthread_t t[POSTERS];
    for (int i = 0; i < POSTERS; i++) pthread_create(&t[i], NULL, poster, items[i]);
    CHECK_EQ_INT(lg_loop_run(post_loop), LG_OK);
    for (int i = 0; i < POSTERS; i++) pthread_join(t[i], NULL);
    CHECK_EQ_INT(received, POSTERS * POSTS_EACH);
    CHECK_EQ_INT(wrong_thread, 0);
    lg_loop_free(post_loop);
}

/* --- I/O readiness --- */

typedef struct ioctx {
    lg_io io;
    int calls;
    unsigned last;
} ioctx;

static void on_io_read(lg_io *io, unsigned ev)
{
    ioctx *c = LG_CONTAINER_OF(io, ioctx, io);
    char buf[16];
    c->calls++;
    c->last = ev;
    if (read(io->fd, buf, sizeof buf) <= 0 || c->calls == 2) lg_io_close(io);
}

static void on_io_note(lg_io *io, unsigned ev)
{
    ioctx *c = LG_CONTAINER_OF(io, ioctx, io);
    c->calls++;
    c->last = ev;
    lg_io_set(io, 0);
}

static void test_io_readiness(void)
{
    lg_loop *loop = lg_loop_new(NULL);
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    ioctx c = { 0 };
    lg_io_init(loop, &c.io, sv[0], on_io_read);
    CHECK_EQ_INT(lg_io_set(&c.io, LG_READABLE), LG_OK);
    CHECK_EQ_INT(lg_loop_run_once(loop, 0), 1);
    CHECK_EQ_INT(c.calls, 0); /* nothing to read yet */
    CHECK(write(sv[1], "x", 1) == 1);
    CHECK_EQ_INT(lg_loop_run_once(loop, 1000), 1);
    CHECK_EQ_INT(c.calls, 1);
    CHECK_EQ_INT(c.last, LG_READABLE);
    CHECK(write(sv[1], "y", 1) == 1);
    CHECK_EQ_INT(lg_loop_run(loop), LG_OK); /* the second read closes the io */
    CHECK_EQ_INT(c.calls, 2);
    /* Writable, on request only. */
    ioctx w = { 0 };
    lg_io_init(loop, &w.io, sv[1], on_io_note);
    CHECK_EQ_INT(lg_io_set(&w.io, LG_WRITABLE), LG_OK);
    lg_loop_run_once(loop, 1000);
    CHECK_EQ_INT(w.last, LG_WRITABLE);
    lg_io_close(&w.io);
    close(sv[0]);
    close(sv[1]);
    lg_loop_free(loop);
}

/* A callback that runs when a long wait ends sees the clock of its end, not
 * of its start: a timer it starts counts from now. */
static uint64_t woke_at;
static void on_woken(lg_io *io, unsigned ev)
{
    char c;
    (void)ev;
    woke_at = lg_loop_now(io->loop);
    if (read(io->fd, &c, 1) != 1) woke_at = 0;
    lg_io_close(io);
}

static void *write_later(void *arg)
{
    usleep(300 * 1000);
    if (write(*(int *)arg, "x", 1) != 1) return NULL;
    return NULL;
}

static void test_clock_fresh_after_wait(void)
{
    lg_loop *loop = lg_loop_new(NULL);
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    lg_io io;
    lg_io_init(loop, &io, sv[0], on_woken);
    lg_io_set(&io, LG_READABLE);
    lg_loop_update_time(loop);
    uint64_t before = lg_loop_now(loop);
    pthread_t t;
    pthread_create(&t, NULL, write_later, &sv[1]);
    CHECK_EQ_INT(lg_loop_run(loop), LG_OK); /* blocks in the backend until the byte */
    pthread_join(t, NULL);
    CHECK(woke_at >= before + 290);
    close(sv[0]);
    close(sv[1]);
    lg_loop_free(loop);
}

/* lg_loop_timeout: what a host waiting in the loop's stead must know. */
static void test_timeout_for_a_host(void)
{
    lg_loop *loop = lg_loop_new(NULL);
    CHECK_EQ_INT(lg_loop_timeout(loop), -1); /* nothing timed: only I/O */
    tctx a = { 0 }, b = { 0 };
    lg_timer_init(loop, &a.t, on_timer);
    lg_timer_init(loop, &b.t, on_timer);
    lg_timer_start(&a.t, 5000);
    int t = lg_loop_timeout(loop);
    CHECK(t > 4900 && t <= 5000);
    lg_timer_start(&b.t, 500); /* an earlier one decides */
    t = lg_loop_timeout(loop);
    CHECK(t >= 0 && t <= 500);
    tagged d = { { 0 }, 1 };
    defer_n = 0;
    lg_defer_call(loop, &d.d, on_defer);
    CHECK_EQ_INT(lg_loop_timeout(loop), 0); /* deferred work: at once */
    CHECK_EQ_INT(lg_loop_run_once(loop, 0), 1);
    CHECK_EQ_INT(defer_n, 1);
    t = lg_loop_timeout(loop);
    CHECK(t >= 0 && t <= 500);
    usleep(550 * 1000);
    lg_loop_update_time(loop);
    CHECK_EQ_INT(lg_loop_timeout(loop), 0); /* overdue */
    CHECK_EQ_INT(lg_loop_run_once(loop, 0), 1);
    CHECK_EQ_INT(b.fired, 1);
    lg_timer_stop(&a.t);
    CHECK_EQ_INT(lg_loop_timeout(loop), -1);
    lg_loop_stop(loop);
    CHECK_EQ_INT(lg_loop_timeout(loop), 0); /* a stop asked: at once */
    lg_loop_run_once(loop, 0);
    lg_loop_free(loop);
}

int main(void)
{
    const char *b = getenv("LINGER_BACKEND");
    printf("backend: %s\n", b ? b : "default");
    test_timer_order_real_clock();
    test_repeat_and_stop_inside();
    test_stop_leaves_work();
    test_timer_heap_at_scale();
    test_defer();
    test_defer_requeue_runs_next_round();
    test_post_from_threads();
    test_io_readiness();
    test_clock_fresh_after_wait();
    test_timeout_for_a_host();
    TEST_MAIN_END();
}
