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
#include <sys/mman.h>
#include <unistd.h>

typedef struct guard_buf {
    char *base;      /* first readable byte, right after the front guard page */
    size_t readable; /* bytes before the back guard page */
} guard_buf;

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

/* Copies data so that its last byte is the last readable byte. */
static inline char *guard_place(guard_buf *g, const void *data, size_t len)
{
    if (len > g->readable) {
        fprintf(stderr, "guard_place: %zu bytes do not fit %zu\n", len, g->readable);
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
        fprintf(stderr, "guard_place_front: %zu bytes do not fit %zu\n", len, g->readable);
        exit(2);
    }
    if (len) memcpy(g->base, data, len);
    return g->base;
}

static inline void guard_free(guard_buf *g)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    munmap(g->base - page, g->readable + 2 * page);
}

#endif
