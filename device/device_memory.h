/* The firmware's memory for linger (memory.c): the server's static block
 * and an arena for what is allocated at start-up, then nothing. */
#ifndef DEVICE_MEMORY_H
#define DEVICE_MEMORY_H

#include <stddef.h>

#include "linger.h"

#define DEVICE_SERVER_MEMORY 14400 /* >= lg_server_memory_size (main.c prints it) */
#ifndef DEVICE_ARENA
#if defined(DEVICE_CLIENT)
#define DEVICE_ARENA 6144 /* the client, its call, connection and buffers too (4.7 KiB) */
#else
#define DEVICE_ARENA 1536
#endif
#endif

extern unsigned char device_server_memory[DEVICE_SERVER_MEMORY];
extern const lg_allocator device_allocator;
/* Start-up is over: every allocation from now on fails, and is counted. */
void device_memory_started(void);
size_t device_arena_used(void);
unsigned long device_late_allocs(void);

#endif
