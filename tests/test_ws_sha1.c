/* SHA-1 (src/sha1.c), which only Sec-WebSocket-Accept uses: the FIPS 180
 * test vectors (RFC 3174 7.3 has the first, second and last); every
 * length from 0 to 200 bytes, which crosses each padding boundary (55, 56,
 * 63, 64, 119, 120 ...), checked through one chained digest computed with
 * Python's hashlib; and the same digest whatever pieces the input is
 * hashed in. */
#include <stdint.h>

#include "sha1_internal.h"
#include "test.h"

static void hex(const uint8_t d[LG_SHA1_BYTES], char out[2 * LG_SHA1_BYTES + 1])
{
    for (int i = 0; i < LG_SHA1_BYTES; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

static void sha1(const void *data, size_t len, uint8_t out[LG_SHA1_BYTES])
{
    lg__sha1 c;
    lg__sha1_init(&c);
    lg__sha1_update(&c, data, len);
    lg__sha1_final(&c, out);
}

#define CHECK_DIGEST(d, want)                                                      \
    do {                                                                           \
        char h_[2 * LG_SHA1_BYTES + 1];                                            \
        hex(d, h_);                                                                \
        if (strcmp(h_, want) != 0) fprintf(stderr, "  got %s\n", h_);             \
        CHECK(strcmp(h_, want) == 0);                                              \
    } while (0)

static void test_vectors(void)
{
    static const struct {
        const char *msg, *digest;
    } v[] = {
        { "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
        { "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
        { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
        { "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
          "a49b2446a02c645bf419f995b67091253a04a259" },
    };
    uint8_t d[LG_SHA1_BYTES];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        sha1(v[i].msg, strlen(v[i].msg), d);
        CHECK_DIGEST(d, v[i].digest);
    }

    /* a million "a", fed 1000 at a time */
    char a[1000];
    memset(a, 'a', sizeof a);
    lg__sha1 c;
    lg__sha1_init(&c);
    for (int i = 0; i < 1000; i++) lg__sha1_update(&c, a, sizeof a);
    lg__sha1_final(&c, d);
    CHECK_DIGEST(d, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

/* SHA-1 over the digests of the messages of 0 to 200 bytes, byte i of each
 * being (7 i + 3) mod 256 (hashlib gave the value). */
static void test_every_length(void)
{
    uint8_t msg[200], d[LG_SHA1_BYTES];
    for (int i = 0; i < 200; i++) msg[i] = (uint8_t)(i * 7 + 3);
    lg__sha1 chain;
    lg__sha1_init(&chain);
    for (size_t n = 0; n <= 200; n++) {
        sha1(msg, n, d);
        lg__sha1_update(&chain, d, sizeof d);
    }
    lg__sha1_final(&chain, d);
    CHECK_DIGEST(d, "02d79069dc73ad0af03448abfaffbb710334f1e9");
}

/* Pieces: a 150-byte message cut at every pair of points gives the digest
 * it gives whole. */
static void test_pieces(void)
{
    uint8_t msg[150], whole[LG_SHA1_BYTES], d[LG_SHA1_BYTES];
    for (int i = 0; i < 150; i++) msg[i] = (uint8_t)(i * 31 + 1);
    sha1(msg, sizeof msg, whole);
    int bad = 0;
    for (size_t a = 0; a <= sizeof msg; a++) {
        for (size_t b = a; b <= sizeof msg; b++) {
            lg__sha1 c;
            lg__sha1_init(&c);
            lg__sha1_update(&c, msg, a);
            lg__sha1_update(&c, msg + a, b - a);
            lg__sha1_update(&c, msg + b, sizeof msg - b);
            lg__sha1_final(&c, d);
            if (memcmp(d, whole, sizeof d) != 0) bad++;
        }
    }
    CHECK_EQ_INT(bad, 0);
}

int main(void)
{
    test_vectors();
    test_every_length();
    test_pieces();
    TEST_MAIN_END();
}
