/* SHA-1 (RFC 3174, FIPS 180-4), for the one place RFC 6455 asks for it:
 * Sec-WebSocket-Accept. Not for anything that needs a secure hash: SHA-1
 * has known collisions, which do not matter to the handshake (the value
 * only shows that the server read the key). Incremental, no allocation.
 * Not part of the API. */
#ifndef LG_SHA1_INTERNAL_H
#define LG_SHA1_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define LG_SHA1_BYTES 20

typedef struct lg__sha1 {
    uint32_t h[5];
    uint64_t bytes;       /* message bytes so far */
    uint8_t block[64];    /* a partial block: bytes % 64 of them */
} lg__sha1;

void lg__sha1_init(lg__sha1 *c);
void lg__sha1_update(lg__sha1 *c, const void *data, size_t len);
void lg__sha1_final(lg__sha1 *c, uint8_t out[LG_SHA1_BYTES]);

#endif
