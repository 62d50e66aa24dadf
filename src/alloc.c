/* The one allocator hook every allocation goes through (DESIGN: memory is
 * bounded and predictable; tests swap this hook to count allocations and to
 * fail the Nth one). */
#include <stdlib.h>
#include <string.h>

#include "loop_internal.h"

static void *default_alloc(size_t size, void *user)
{
    LG_UNUSED(user);
    return malloc(size);
}

static void default_free(void *ptr, size_t size, void *user)
{
    LG_UNUSED(size);
    LG_UNUSED(user);
    free(ptr);
}

static lg_allocator current = { default_alloc, default_free, NULL };

void lg_set_allocator(const lg_allocator *a)
{
    if (a) {
        current = *a;
    } else {
        current.alloc = default_alloc;
        current.free = default_free;
        current.user = NULL;
    }
}

void *lg__alloc(size_t size)
{
    return current.alloc(size, current.user);
}

void lg__free(void *ptr, size_t size)
{
    if (ptr) current.free(ptr, size, current.user);
}

void *lg__realloc(void *ptr, size_t old_size, size_t new_size)
{
    void *p = lg__alloc(new_size);
    if (!p) return NULL;
    if (ptr) {
        memcpy(p, ptr, old_size < new_size ? old_size : new_size);
        lg__free(ptr, old_size);
    }
    return p;
}

void *lg_port_alloc(size_t size)
{
    return lg__alloc(size);
}

void lg_port_free(void *ptr, size_t size)
{
    lg__free(ptr, size);
}

void *lg_port_realloc(void *ptr, size_t old_size, size_t new_size)
{
    return lg__realloc(ptr, old_size, new_size);
}
