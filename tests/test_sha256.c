/*
 * SHA-256 and HMAC-SHA-256 against FIPS 180-4's and RFC 4231's vectors,
 * every length where the padding changes shape (55, 56, 63, 64, 65, 119,
 * 120 bytes: one block, two, three), a message fed in at every split point
 * and byte by byte, a million bytes, keys shorter than, as long as and
 * longer than a block, and the hexadecimal writer.
 */
#include <stdint.h>
#include <string.h>

#include "linger.h"
#include "test.h"

static int hex_is(const uint8_t sum[LG_SHA256_BYTES], const char *want)
{
    char hex[2 * LG_SHA256_BYTES + 1];
    int n = lg_hex_encode(sum, LG_SHA256_BYTES, hex, sizeof hex);
    int ok = n == 64 && strcmp(hex, want) == 0;
    if (!ok) fprintf(stderr, "got  %s\nwant %s\n", hex, want);
    return ok;
}

static int sha_is(const void *data, size_t len, const char *want)
{
    uint8_t sum[LG_SHA256_BYTES];
    lg_sha256(data, len, sum);
    return hex_is(sum, want);
}

static void test_fips_vectors(void)
{
    CHECK(sha_is("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    CHECK(sha_is("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    CHECK(sha_is(two, strlen(two), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
}

/* Bytes (i * 7 + 3) mod 256, hashed by Python's hashlib. */
static void test_padding_lengths(void)
{
    static const struct {
        size_t n;
        const char *sum;
    } cases[] = {
        { 55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b" },
        { 56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27" },
        { 63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055" },
        { 64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241" },
        { 65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e" },
        { 119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e" },
        { 120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5" },
    };
    uint8_t msg[120];
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)(i * 7 + 3);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) CHECK(sha_is(msg, cases[c].n, cases[c].sum));
}

/* The 120-byte message in two pieces at every split, then in three, then a
 * byte at a time: the same sum as in one piece. */
static void test_every_split(void)
{
    uint8_t msg[120], whole[LG_SHA256_BYTES], got[LG_SHA256_BYTES];
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)(i * 7 + 3);
    lg_sha256(msg, sizeof msg, whole);
    int bad = 0;
    for (size_t i = 0; i <= sizeof msg; i++) {
        for (size_t j = i; j <= sizeof msg; j++) {
            lg_sha256_ctx h;
            lg_sha256_init(&h);
            lg_sha256_update(&h, msg, i);
            lg_sha256_update(&h, msg + i, j - i);
            lg_sha256_update(&h, msg + j, sizeof msg - j);
            lg_sha256_final(&h, got);
            bad += memcmp(got, whole, sizeof got) != 0;
        }
    }
    CHECK_EQ_INT(bad, 0);
    lg_sha256_ctx h;
    lg_sha256_init(&h);
    for (size_t i = 0; i < sizeof msg; i++) lg_sha256_update(&h, msg + i, 1);
    lg_sha256_final(&h, got);
    CHECK(memcmp(got, whole, sizeof got) == 0);
}

/* FIPS 180-2 appendix B.3: a million 'a', in pieces of 1000. */
static void test_million(void)
{
    char a[1000];
    memset(a, 'a', sizeof a);
    lg_sha256_ctx h;
    uint8_t sum[LG_SHA256_BYTES];
    lg_sha256_init(&h);
    for (int i = 0; i < 1000; i++) lg_sha256_update(&h, a, sizeof a);
    lg_sha256_final(&h, sum);
    CHECK(hex_is(sum, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
}

static int hmac_is(const void *key, size_t key_len, const void *data, size_t len, const char *want)
{
    uint8_t sum[LG_SHA256_BYTES];
    lg_hmac_sha256(key, key_len, data, len, sum);
    return hex_is(sum, want);
}

/* RFC 4231 test cases 1, 2, 3 and 6; a key of exactly one block (by
 * Python's hmac), which is used as it is, not hashed. */
static void test_hmac_vectors(void)
{
    uint8_t k20[20], k131[131], dd[50], k64[64];
    memset(k20, 0x0b, sizeof k20);
    CHECK(hmac_is(k20, 20, "Hi There", 8, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"));
    CHECK(hmac_is("Jefe", 4, "what do ya want for nothing?", 28,
                  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
    memset(k20, 0xaa, sizeof k20);
    memset(dd, 0xdd, sizeof dd);
    CHECK(hmac_is(k20, 20, dd, 50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"));
    memset(k131, 0xaa, sizeof k131);
    const char *six = "Test Using Larger Than Block-Size Key - Hash Key First";
    CHECK(hmac_is(k131, sizeof k131, six, strlen(six),
                  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"));
    memset(k64, 'k', sizeof k64);
    const char *blk = "exactly a block of key";
    CHECK(hmac_is(k64, sizeof k64, blk, strlen(blk),
                  "d4229b87e09c5dba84a00e3679ece32b5de4bb58a64d28afe3800adb898c6920"));
}

/* A context set up once from a key and copied per message (as a session
 * store does) gives the same MAC as one set up each time. */
static void test_hmac_copied_context(void)
{
    lg_hmac_sha256_ctx base, c;
    uint8_t a[LG_SHA256_BYTES], b[LG_SHA256_BYTES];
    lg_hmac_sha256_init(&base, "Jefe", 4);
    for (int i = 0; i < 2; i++) {
        c = base;
        lg_hmac_sha256_update(&c, "what do ya ", 11);
        lg_hmac_sha256_update(&c, "want for nothing?", 17);
        lg_hmac_sha256_final(&c, a);
        CHECK(hex_is(a, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
    }
    lg_hmac_sha256("Jefe", 4, "what do ya want for nothing!", 28, b);
    CHECK(memcmp(a, b, sizeof a) != 0);
}

static void test_hex(void)
{
    char out[8];
    memset(out, '#', sizeof out);
    CHECK_EQ_INT(lg_hex_encode("\x00\xff\x5a", 3, out, 7), 6);
    CHECK(strcmp(out, "00ff5a") == 0);
    memset(out, '#', sizeof out);
    CHECK_EQ_INT(lg_hex_encode("\x00\xff\x5a", 3, out, 6), LG_ERR_BUFFER_TOO_SMALL);
    CHECK(out[0] == '#'); /* nothing written when it does not fit */
    CHECK_EQ_INT(lg_hex_encode("", 0, out, 1), 0);
    CHECK(out[0] == 0);
}

int main(void)
{
    test_fips_vectors();
    test_padding_lengths();
    test_every_split();
    test_million();
    test_hmac_vectors();
    test_hmac_copied_context();
    test_hex();
    TEST_MAIN_END();
}
