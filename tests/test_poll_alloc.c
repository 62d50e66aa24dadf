/* The poll backend's arrays under allocation failure. lg_allocator.free is
 * promised the size that was asked for (a pool allocator finds the block's
 * class by it), so the backend must know the size of each array it holds
 * even after a grow that failed half-way: the descriptors' array grown, the
 * ios' array not.
 *
 * A checking allocator records every block and its size, fails the Nth
 * allocation, and counts frees of unknown blocks or with another size. The
 * scenario (a loop, 40 watchers: the arrays grow from 8 to 64, then all
 * closed) runs once to count its allocations, then once per N. */
#include <unistd.h>

#include "linger.h"
#include "test.h"

#define MAX_BLOCKS 64

static struct block {
    void *p;
    size_t size;
} blocks[MAX_BLOCKS];
static long alloc_calls, fail_at, bad_frees, live;

static void *checking_alloc(size_t size, void *user)
{
    (void)user;
    alloc_calls++;
    if (fail_at && alloc_calls == fail_at) return NULL;
    void *p = malloc(size);
    if (!p) return NULL;
    for (int i = 0; i < MAX_BLOCKS; i++) {
        if (!blocks[i].p) {
            blocks[i].p = p;
            blocks[i].size = size;
            live++;
            return p;
        }
    }
    fprintf(stderr, "more than %d live blocks\n", MAX_BLOCKS);
    abort();
}

static void checking_free(void *p, size_t size, void *user)
{
    (void)user;
    for (int i = 0; i < MAX_BLOCKS; i++) {
        if (blocks[i].p == p) {
            if (blocks[i].size != size) {
                fprintf(stderr, "allocation %d: %zu bytes allocated, %zu freed (fail_at %ld)\n",
                        i, blocks[i].size, size, fail_at);
                bad_frees++;
            }
            blocks[i].p = NULL;
            live--;
            free(p);
            return;
        }
    }
    fprintf(stderr, "free of a block never allocated (fail_at %ld)\n", fail_at);
    bad_frees++;
}

static const lg_allocator checking = { checking_alloc, checking_free, NULL };

static void never_called(lg_io *io, unsigned events)
{
    (void)io;
    (void)events;
}

#define NIOS 40

/* Returns how many watchers were registered. */
static int scenario(int fd)
{
    lg_loop *loop = lg_loop_new(&(lg_loop_config){ .backend = &lg_backend_poll });
    if (!loop) return -1;
    static lg_io ios[NIOS];
    int registered = 0;
    for (int i = 0; i < NIOS; i++) {
        lg_io_init(loop, &ios[i], fd, never_called);
        int rc = lg_io_set(&ios[i], LG_READABLE);
        if (rc == LG_OK) registered++;
        else CHECK_EQ_INT(rc, LG_ERR_NOMEM);
    }
    /* nothing to read: a poll that reports nothing */
    CHECK(lg_loop_run_once(loop, 0) >= 0);
    for (int i = 0; i < NIOS; i++) lg_io_close(&ios[i]);
    lg_loop_free(loop);
    return registered;
}

int main(void)
{
    int fds[2];
    if (pipe(fds) != 0) return 1;
    lg_set_allocator(&checking);

    CHECK_EQ_INT(scenario(fds[0]), NIOS);
    long total = alloc_calls;
    CHECK(total >= 8); /* the loop, the poll state, and two arrays per grow (8 to 64) */
    CHECK_EQ_INT(bad_frees, 0);
    CHECK_EQ_INT(live, 0);

    for (fail_at = 1; fail_at <= total; fail_at++) {
        alloc_calls = 0;
        int n = scenario(fds[0]);
        /* The failure cost the loop itself, or at most one watcher: the
         * next registration grows the arrays after all. (A failure while
         * the loop registers its own waker costs none of ours.) */
        CHECK(n == -1 || n >= NIOS - 1);
        if (bad_frees) fprintf(stderr, "failing allocation %ld of %ld\n", fail_at, total);
        CHECK_EQ_INT(bad_frees, 0);
        CHECK_EQ_INT(live, 0);
        bad_frees = 0;
    }

    lg_set_allocator(NULL);
    close(fds[0]);
    close(fds[1]);
    TEST_MAIN_END();
}
