/* MD5 (RFC 1321), for the one place linger needs it: Digest
 * authentication's MD5 algorithm (RFC 7616 3.2), which older clients
 * (Python's urllib among them) still ask for. Not for anything that needs
 * a secure hash: MD5 has practical collisions. Incremental, no
 * allocation. Not part of the API. */
#ifndef LG_MD5_INTERNAL_H
#define LG_MD5_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define LG_MD5_BYTES 16

typedef struct lg__md5 {
    uint32_t h[4];
    uint64_t bytes;       /* message bytes so far */
    uint8_t block[64];    /* a partial block: bytes % 64 of them */
} lg__md5;

void lg__md5_init(lg__md5 *c);
void lg__md5_update(lg__md5 *c, const void *data, size_t len);
void lg__md5_final(lg__md5 *c, uint8_t out[LG_MD5_BYTES]);

#endif
