/* linger's memory on the device: the server's static block
 * (lg_server_config.memory), and an arena for what linger allocates while
 * it starts (the loop, the server object, its routes). Once the server
 * listens, the arena refuses every allocation and counts it: GET /stats
 * reports late_allocs, which the tests check stays 0. */
#include "device_memory.h"

_Alignas(8) unsigned char device_server_memory[DEVICE_SERVER_MEMORY];

static _Alignas(8) unsigned char arena[DEVICE_ARENA];
static size_t arena_used;
static int started;
static unsigned long late_allocs;

static void *arena_alloc(size_t n, void *user)
{
    (void)user;
    if (started) {
        late_allocs++;
        return NULL;
    }
    n = (n + 7) & ~(size_t)7;
    if (n > sizeof arena - arena_used) return NULL;
    void *p = arena + arena_used;
    arena_used += n;
    return p;
}

static void arena_free(void *p, size_t n, void *user)
{
    (void)p, (void)n, (void)user; /* an arena: what start-up gave back stays */
}

const lg_allocator device_allocator = { arena_alloc, arena_free, NULL };

void device_memory_started(void)
{
    started = 1;
}

size_t device_arena_used(void)
{
    return arena_used;
}

unsigned long device_late_allocs(void)
{
    return late_allocs;
}

/* linger's default allocator names malloc and free: these are what the
 * link finds, so the C library's heap is never part of the firmware. */
void *malloc(size_t n);
void free(void *p);

void *malloc(size_t n)
{
    return arena_alloc(n, NULL);
}

void free(void *p)
{
    (void)p;
}
