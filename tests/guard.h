/* Guard pages, after picohttpparser's tests: input is copied to the very end
 * of a readable mapping whose next page is PROT_NONE, so reading one byte past
 * the end faults at once instead of passing unnoticed. The page before the
 * mapping is PROT_NONE too, and guard_place_front puts input at the very
 * start, so that reading before the first byte (a vector load that looks
 * back from the end of a short buffer) faults as well. */
#ifndef LG_GUARD_H
#define LG_GUARD_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if !defined(LG_TEST_NO_MMAP)
#include <sys/mman.h>
#include <unistd.h>
#endif

typedef struct guard_buf {
    char *base;      /* first readable byte, right after the front guard page */
    size_t readable; /* bytes before the back guard page */
} guard_buf;

#if defined(LG_TEST_NO_MMAP)
/* Without an MMU (the same tests built for a microcontroller, tests/target/):
 * the same placement in a plain allocation, with no trap past either end.
 * The host builds catch the stray reads; these runs check the results. */
static inline void guard_init(guard_buf *g, size_t max_len)
{
    g->readable = (max_len + 4095) / 4096 * 4096; /* the room a page-rounded mapping gives */
    if (g->readable == 0) g->readable = 4096;
    g->base = malloc(g->readable);
    if (!g->base) {
        perror("guard_init");
        exit(2);
    }
}
#else
static inline void guard_init(guard_buf *g, size_t max_len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    g->readable = (max_len + page - 1) / page * page;
    if (g->readable == 0) g->readable = page;
    char *m = mmap(NULL, g->readable + 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (m == MAP_FAILED || mprotect(m, page, PROT_NONE) != 0 ||
        mprotect(m + page + g->readable, page, PROT_NONE) != 0) {
        perror("guard_init");
        exit(2);
    }
    g->base = m + page;
}
#endif

/* Copies data so that its last byte is the last readable byte. */
static inline char *guard_place(guard_buf *g, const void *data, size_t len)
{
    if (len > g->readable) {
        fprintf(stderr, "guard_place: %lu bytes do not fit %lu\n", (unsigned long)len,
                (unsigned long)g->readable);
        exit(2);
    }
    char *p = g->base + g->readable - len;
    if (len) memcpy(p, data, len);
    return p;
}

/* Copies data so that its first byte is the first readable byte. */
static inline char *guard_place_front(guard_buf *g, const void *data, size_t len)
{
    if (len > g->readable) {
        fprintf(stderr, "guard_place_front: %lu bytes do not fit %lu\n", (unsigned long)len,
                (unsigned long)g->readable);
        exit(2);
    }
    if (len) memcpy(g->base, data, len);
    return g->base;
}

static inline void guard_free(guard_buf *g)
{
#if defined(LG_TEST_NO_MMAP)
    free(g->base);
#else
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    munmap(g->base - page, g->readable + 2 * page);
#endif
}

#endif
