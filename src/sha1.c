/*
 * SHA-1 (FIPS 180-4 6.1), small rather than fast: one 16-word schedule
 * reused in a ring, one loop of 80 rounds. A handshake hashes 60 bytes
 * (two blocks) once per connection; flash matters more than speed here.
 */
#include <string.h>

#include "linger_opts.h" /* LG_NO_WEBSOCKET leaves this file empty */
#if !defined(LG_NO_WEBSOCKET)
#include "sha1_internal.h"

static uint32_t rol(uint32_t x, unsigned n)
{
    return x << n | x >> (32 - n);
}

static uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void compress(uint32_t h[5], const uint8_t block[64])
{
    uint32_t w[16];
    for (int i = 0; i < 16; i++) w[i] = load_be32(block + 4 * i);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; t++) {
        if (t >= 16) /* W[t] = ROTL1(W[t-3] ^ W[t-8] ^ W[t-14] ^ W[t-16]), in the ring */
            w[t & 15] = rol(w[(t + 13) & 15] ^ w[(t + 8) & 15] ^ w[(t + 2) & 15] ^ w[t & 15], 1);
        uint32_t f, k;
        if (t < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999u;
        } else if (t < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1u;
        } else if (t < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDCu;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6u;
        }
        uint32_t tmp = rol(a, 5) + f + e + k + w[t & 15];
        e = d;
        d = c;
        c = rol(b, 30);
        b = a;
        a = tmp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void lg__sha1_init(lg__sha1 *c)
{
    static const uint32_t iv[5] = { 0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u };
    memcpy(c->h, iv, sizeof iv);
    c->bytes = 0;
}

void lg__sha1_update(lg__sha1 *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        size_t used = (size_t)(c->bytes & 63);
        size_t n = 64 - used < len ? 64 - used : len;
        memcpy(c->block + used, p, n);
        c->bytes += n;
        p += n;
        len -= n;
        if ((c->bytes & 63) == 0) compress(c->h, c->block);
    }
}

void lg__sha1_final(lg__sha1 *c, uint8_t out[LG_SHA1_BYTES])
{
    /* 0x80, zeros up to 56 bytes into a block, the length in bits (5.1.1) */
    uint64_t bits = c->bytes * 8;
    uint8_t pad[72] = { 0x80 };
    size_t used = (size_t)(c->bytes & 63);
    size_t n = (used < 56 ? 56 : 120) - used;
    for (int i = 0; i < 8; i++) pad[n + (size_t)i] = (uint8_t)(bits >> (56 - 8 * i));
    lg__sha1_update(c, pad, n + 8);
    for (int i = 0; i < 5; i++) store_be32(out + 4 * i, c->h[i]);
}

#endif /* !LG_NO_WEBSOCKET */
