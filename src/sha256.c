/*
 * SHA-256 (FIPS 180-4 6.2) and HMAC-SHA-256 (RFC 2104), small rather than
 * fast: one 16-word schedule reused in a ring, one loop of 64 rounds. Its
 * users hash uploads as they stream past (a firmware image's checksum),
 * sign session cookies and answer Digest challenges: a few hundred bytes
 * of flash matter more on a device than the last 30 % of speed.
 */
#include <string.h>

#include "linger.h"
#if !defined(LG_NO_SHA256)

static const uint32_t k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, unsigned n)
{
    return x >> n | x << (32 - n);
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

static void compress(uint32_t h[8], const uint8_t block[64])
{
    uint32_t w[16], s[8];
    for (int i = 0; i < 16; i++) w[i] = load_be32(block + 4 * i);
    memcpy(s, h, sizeof s);
    for (int t = 0; t < 64; t++) {
        if (t >= 16) { /* W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16], in the ring */
            uint32_t w15 = w[(t + 1) & 15], w2 = w[(t + 14) & 15];
            w[t & 15] += (ror(w2, 17) ^ ror(w2, 19) ^ w2 >> 10) + w[(t + 9) & 15] +
                         (ror(w15, 7) ^ ror(w15, 18) ^ w15 >> 3);
        }
        uint32_t a = s[0], e = s[4];
        uint32_t t1 = s[7] + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & s[5]) ^ (~e & s[6])) + k[t] +
                      w[t & 15];
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & s[1]) ^ (a & s[2]) ^ (s[1] & s[2]));
        memmove(s + 1, s, 7 * sizeof s[0]);
        s[4] += t1;
        s[0] = t1 + t2;
    }
    for (int i = 0; i < 8; i++) h[i] += s[i];
}

void lg_sha256_init(lg_sha256_ctx *c)
{
    static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
    memcpy(c->h, iv, sizeof iv);
    c->bytes = 0;
}

void lg_sha256_update(lg_sha256_ctx *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    size_t have = (size_t)(c->bytes % 64);
    c->bytes += len;
    if (have) {
        size_t take = 64 - have < len ? 64 - have : len;
        memcpy(c->block + have, p, take);
        p += take;
        len -= take;
        if (have + take < 64) return;
        compress(c->h, c->block);
    }
    for (; len >= 64; p += 64, len -= 64) compress(c->h, p);
    if (len) memcpy(c->block, p, len);
}

void lg_sha256_final(lg_sha256_ctx *c, uint8_t out[LG_SHA256_BYTES])
{
    uint64_t bits = c->bytes * 8;
    size_t have = (size_t)(c->bytes % 64);
    c->block[have++] = 0x80;
    if (have > 56) {
        memset(c->block + have, 0, 64 - have);
        compress(c->h, c->block);
        have = 0;
    }
    memset(c->block + have, 0, 56 - have);
    store_be32(c->block + 56, (uint32_t)(bits >> 32));
    store_be32(c->block + 60, (uint32_t)bits);
    compress(c->h, c->block);
    for (int i = 0; i < 8; i++) store_be32(out + 4 * i, c->h[i]);
}

void lg_sha256(const void *data, size_t len, uint8_t out[LG_SHA256_BYTES])
{
    lg_sha256_ctx c;
    lg_sha256_init(&c);
    lg_sha256_update(&c, data, len);
    lg_sha256_final(&c, out);
}

/* RFC 2104: H((K ^ opad) || H((K ^ ipad) || text)), a key longer than a
 * block hashed first. Both pads are hashed at init, so a long-lived key
 * (a session secret) can be set up once and the context copied. */
void lg_hmac_sha256_init(lg_hmac_sha256_ctx *c, const void *key, size_t key_len)
{
    uint8_t pad[64] = { 0 };
    if (key_len > sizeof pad)
        lg_sha256(key, key_len, pad);
    else if (key_len)
        memcpy(pad, key, key_len);
    for (int i = 0; i < 64; i++) pad[i] ^= 0x36;
    lg_sha256_init(&c->inner);
    lg_sha256_update(&c->inner, pad, sizeof pad);
    for (int i = 0; i < 64; i++) pad[i] ^= 0x36 ^ 0x5c;
    lg_sha256_init(&c->outer);
    lg_sha256_update(&c->outer, pad, sizeof pad);
    memset(pad, 0, sizeof pad);
}

void lg_hmac_sha256_update(lg_hmac_sha256_ctx *c, const void *data, size_t len)
{
    lg_sha256_update(&c->inner, data, len);
}

void lg_hmac_sha256_final(lg_hmac_sha256_ctx *c, uint8_t out[LG_SHA256_BYTES])
{
    uint8_t inner[LG_SHA256_BYTES];
    lg_sha256_final(&c->inner, inner);
    lg_sha256_update(&c->outer, inner, sizeof inner);
    lg_sha256_final(&c->outer, out);
}

void lg_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                    uint8_t out[LG_SHA256_BYTES])
{
    lg_hmac_sha256_ctx c;
    lg_hmac_sha256_init(&c, key, key_len);
    lg_hmac_sha256_update(&c, data, len);
    lg_hmac_sha256_final(&c, out);
}

#endif /* !LG_NO_SHA256 */
