/* The allocator hook (src/alloc.c), for every layer that allocates: all of
 * linger's memory goes through lg_set_allocator's functions, with the size
 * given back on free. Not part of the API. */
#ifndef LG_ALLOC_INTERNAL_H
#define LG_ALLOC_INTERNAL_H

#include <stddef.h>

void *lg__alloc(size_t size);
void lg__free(void *ptr, size_t size);
/* Grow a block from old_size to new_size, keeping its contents. */
void *lg__realloc(void *ptr, size_t old_size, size_t new_size);

#define LG_UNUSED(x) ((void)(x))

#endif
