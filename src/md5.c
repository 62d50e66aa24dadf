/*
 * MD5 (RFC 1321 3.4), small rather than fast: the 64 steps in one loop,
 * the per-step shift and message index computed instead of unrolled (the
 * sines table, K[i] = floor(2^32 * |sin(i + 1)|), is the one table). A
 * Digest answer hashes a few short strings per request.
 */
#include <string.h>

#include "linger_opts.h" /* LG_NO_DIGEST leaves this file empty */
#if !defined(LG_NO_DIGEST)
#include "md5_internal.h"

static const uint32_t k[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* The shifts of each round's four steps (RFC 1321 3.4: S11..S44). */
static const uint8_t shifts[4][4] = { { 7, 12, 17, 22 }, { 5, 9, 14, 20 }, { 4, 11, 16, 23 },
                                      { 6, 10, 15, 21 } };

static uint32_t rol(uint32_t x, unsigned n)
{
    return x << n | x >> (32 - n);
}

static void compress(uint32_t h[4], const uint8_t block[64])
{
    uint32_t x[16];
    for (int i = 0; i < 16; i++) /* little-endian words, unlike the SHAs */
        x[i] = (uint32_t)block[4 * i] | (uint32_t)block[4 * i + 1] << 8 |
               (uint32_t)block[4 * i + 2] << 16 | (uint32_t)block[4 * i + 3] << 24;
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        int g, round = i >> 4;
        if (round == 0) {
            f = (b & c) | (~b & d);
            g = i;
        } else if (round == 1) {
            f = (d & b) | (~d & c);
            g = (5 * i + 1) & 15;
        } else if (round == 2) {
            f = b ^ c ^ d;
            g = (3 * i + 5) & 15;
        } else {
            f = c ^ (b | ~d);
            g = (7 * i) & 15;
        }
        uint32_t t = d;
        d = c;
        c = b;
        b = b + rol(a + f + k[i] + x[g], shifts[round][i & 3]);
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
}

void lg__md5_init(lg__md5 *c)
{
    static const uint32_t iv[4] = { 0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u };
    memcpy(c->h, iv, sizeof iv);
    c->bytes = 0;
}

void lg__md5_update(lg__md5 *c, const void *data, size_t len)
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

void lg__md5_final(lg__md5 *c, uint8_t out[LG_MD5_BYTES])
{
    /* 0x80, zeros up to 56 bytes into a block, the length in bits, least
     * significant byte first (3.1, 3.2) */
    uint64_t bits = c->bytes * 8;
    uint8_t pad[72] = { 0x80 };
    size_t used = (size_t)(c->bytes & 63);
    size_t n = (used < 56 ? 56 : 120) - used;
    for (int i = 0; i < 8; i++) pad[n + (size_t)i] = (uint8_t)(bits >> (8 * i));
    lg__md5_update(c, pad, n + 8);
    for (int i = 0; i < 16; i++) out[i] = (uint8_t)(c->h[i >> 2] >> (8 * (i & 3)));
}

#endif /* !LG_NO_DIGEST */
