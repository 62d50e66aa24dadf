/* The interop test server (tests/interop/interop_server.c): every server
 * feature on a route of its own, for curl, aiohttp and raw-socket tests in
 * tests/interop/server/. Shared by its three files. */
#ifndef LG_INTEROP_H
#define LG_INTEROP_H

#include <stdint.h>

#include "linger.h"

typedef struct interop {
    lg_loop *loop;
    lg_server *srv;
    int file_fd;          /* the file /file serves (dup'ed per answer) */
    uint64_t file_bytes;
    char file_path[64];
    uint64_t stream_refusals; /* lg_res_write said "wait" (back-pressure) */
} interop;

/* interop_handlers.c: routes that answer from the head (and small bodies) */
void interop_routes_basic(interop *d);
/* interop_bodies.c: bodies in and out: uploads, early answers, 100-continue,
 * deferred, streamed and file answers */
void interop_routes_bodies(interop *d);

/* Copy a slice into a NUL-terminated buffer (truncating). */
void interop_cstr(lg_str s, char *out, size_t cap);
/* A query argument as an unsigned number, or def when absent. */
uint64_t interop_query_u64(lg_req *req, const char *name, uint64_t def);
/* CRC-32 (the zlib/PNG one), so a Python test checks with zlib.crc32. */
uint32_t interop_crc32(uint32_t crc, const void *data, size_t len);
/* Byte i of every generated body: a pattern whose period (251) crosses
 * every chunk and buffer boundary. */
static inline unsigned char interop_pattern(uint64_t i)
{
    return (unsigned char)(i % 251);
}

#endif
