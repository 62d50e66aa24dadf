/* The WebSocket writers and masking (src/ws_codec.c): RFC 6455 5.7's
 * frames byte for byte; every length form at its boundaries; refusals of
 * what a peer's parser would refuse, with nothing written; too small a
 * buffer at every capacity, at a guard page; Close frames; masking at
 * every offset against a plain loop; and round trips through the parser. */
#include "ws_harness.h"

#define EXPECT_BYTES(w, spec)                                                                 \
    do {                                                                                      \
        char want_[600];                                                                      \
        size_t n_ = ws_bytes(want_, spec);                                                    \
        CHECK_EQ_INT((w).err, 0);                                                             \
        CHECK_EQ_INT((w).len, n_);                                                            \
        CHECK((w).len == n_ && memcmp((w).buf, want_, n_) == 0);                              \
    } while (0)

static const uint8_t rfc_key[4] = { 0x37, 0xfa, 0x21, 0x3d };

static void test_rfc_examples(void)
{
    char buf[300];
    lg_writer w;
    lg_writer_init(&w, buf, sizeof buf);
    lg_ws_write_frame(&w, LG_WS_TEXT, LG_WS_FIN, "Hello", 5, NULL);
    EXPECT_BYTES(w, "81 05 48 65 6c 6c 6f");

    char hello[] = "Hello";
    lg_writer_init(&w, buf, sizeof buf);
    lg_ws_write_frame(&w, LG_WS_TEXT, LG_WS_FIN, hello, 5, rfc_key);
    EXPECT_BYTES(w, "81 85 37 fa 21 3d 7f 9f 4d 51 58");
    CHECK(strcmp(hello, "Hello") == 0); /* the caller's payload is left alone */

    lg_writer_init(&w, buf, sizeof buf);
    lg_ws_write_frame(&w, LG_WS_TEXT, 0, "Hel", 3, NULL);
    lg_ws_write_frame(&w, LG_WS_CONTINUATION, LG_WS_FIN, "lo", 2, NULL);
    EXPECT_BYTES(w, "01 03 48 65 6c 80 02 6c 6f");

    lg_writer_init(&w, buf, sizeof buf);
    lg_ws_write_frame(&w, LG_WS_PING, LG_WS_FIN, "Hello", 5, NULL);
    lg_ws_write_frame(&w, LG_WS_PONG, LG_WS_FIN, "Hello", 5, rfc_key);
    EXPECT_BYTES(w, "89 05 48 65 6c 6c 6f 8a 85 37 fa 21 3d 7f 9f 4d 51 58");

    lg_writer_init(&w, buf, sizeof buf);
    lg_ws_write_header(&w, LG_WS_BINARY, LG_WS_FIN, 256, NULL);
    EXPECT_BYTES(w, "82 7e 01 00");
    lg_writer_init(&w, buf, sizeof buf);
    lg_ws_write_header(&w, LG_WS_BINARY, LG_WS_FIN, 65536, NULL);
    EXPECT_BYTES(w, "82 7f 00 00 00 00 00 01 00 00");
}

/* The shortest form for each length (RFC 6455 5.2). */
static void test_length_forms(void)
{
    static const struct {
        uint64_t length;
        const char *bytes;
    } v[] = {
        { 0, "82 00" },
        { 1, "82 01" },
        { 125, "82 7d" },
        { 126, "82 7e 00 7e" },
        { 127, "82 7e 00 7f" },
        { 65535, "82 7e ff ff" },
        { 65536, "82 7f 00 00 00 00 00 01 00 00" },
        { UINT64_C(0x100000000), "82 7f 00 00 00 01 00 00 00 00" },
        { UINT64_C(0x7fffffffffffffff), "82 7f 7f ff ff ff ff ff ff ff" },
    };
    char buf[32];
    lg_writer w;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        lg_writer_init(&w, buf, sizeof buf);
        lg_ws_write_header(&w, LG_WS_BINARY, LG_WS_FIN, v[i].length, NULL);
        EXPECT_BYTES(w, v[i].bytes);
    }
    /* with a key, after the length */
    lg_writer_init(&w, buf, sizeof buf);
    lg_ws_write_header(&w, LG_WS_TEXT, LG_WS_RSV1, 126, rfc_key);
    EXPECT_BYTES(w, "41 fe 00 7e 37 fa 21 3d");
}

/* Refused, nothing written, and every later call a no-op. */
static void test_refusals(void)
{
    char buf[64];
    lg_writer w;
    static const unsigned bad_opcodes[] = { 3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf, 0x10, 0x81, 0x101 };
    for (size_t i = 0; i < sizeof bad_opcodes / sizeof bad_opcodes[0]; i++) {
        lg_writer_init(&w, buf, sizeof buf);
        lg_ws_write_header(&w, bad_opcodes[i], LG_WS_FIN, 0, NULL);
        CHECK_EQ_INT(w.err, LG_ERR_INVALID_ARG);
        CHECK_EQ_INT(w.len, 0);
        lg_writer_init(&w, buf, sizeof buf);
        lg_ws_write_frame(&w, bad_opcodes[i], LG_WS_FIN, "a", 1, NULL);
        CHECK_EQ_INT(w.err, LG_ERR_INVALID_ARG);
        CHECK_EQ_INT(w.len, 0);
    }
    static const struct {
        unsigned opcode, flags;
        uint64_t length;
    } bad[] = {
        { LG_WS_TEXT, 0x01, 0 },       /* not a header bit */
        { LG_WS_TEXT, 0x08, 0 },
        { LG_WS_TEXT, 0x100, 0 },
        { LG_WS_PING, 0, 0 },          /* control frames are never fragmented */
        { LG_WS_CLOSE, LG_WS_RSV1, 2 },
        { LG_WS_PONG, LG_WS_FIN, 126 }, /* nor longer than 125 */
        { LG_WS_CLOSE, LG_WS_FIN, 1000 },
        { LG_WS_BINARY, LG_WS_FIN, UINT64_C(0x8000000000000000) },
        { LG_WS_BINARY, LG_WS_FIN, UINT64_MAX },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lg_writer_init(&w, buf, sizeof buf);
        lg_ws_write_header(&w, bad[i].opcode, bad[i].flags, bad[i].length, NULL);
        CHECK_EQ_INT(w.err, LG_ERR_INVALID_ARG);
        CHECK_EQ_INT(w.len, 0);
    }
    /* a control frame of 125 bytes is fine */
    lg_writer_init(&w, buf, sizeof buf);
    lg_ws_write_header(&w, LG_WS_PING, LG_WS_FIN, 125, NULL);
    EXPECT_BYTES(w, "89 7d");

    /* the first failure stays */
    lg_writer_init(&w, buf, sizeof buf);
    lg_ws_write_header(&w, LG_WS_PING, 0, 0, NULL);
    lg_ws_write_frame(&w, LG_WS_TEXT, LG_WS_FIN, "a", 1, NULL);
    lg_ws_write_close(&w, 1000, LG_STR(""), NULL);
    CHECK_EQ_INT(w.err, LG_ERR_INVALID_ARG);
    CHECK_EQ_INT(w.len, 0);
}

/* Every capacity short of what a call writes: LG_ERR_BUFFER_TOO_SMALL and
 * nothing written (a frame's header never goes without its payload); the
 * buffer ends at a guard page, so a write past it crashes. */
static void test_too_small(void)
{
    guard_buf g;
    guard_init(&g, 4096);
    char payload[300];
    for (size_t i = 0; i < sizeof payload; i++) payload[i] = (char)i;
    static const size_t lengths[] = { 0, 5, 125, 126, 300 };
    for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
        for (int masked = 0; masked <= 1; masked++) {
            size_t n = lengths[li];
            size_t whole = (n < 126 ? 2 : 4) + (masked ? 4 : 0) + n;
            for (size_t cap = 0; cap <= whole; cap++) {
                char *buf = g.base + g.readable - cap;
                lg_writer w;
                lg_writer_init(&w, buf, cap);
                lg_ws_write_frame(&w, LG_WS_BINARY, LG_WS_FIN, payload, n, masked ? rfc_key : NULL);
                if (cap < whole) {
                    CHECK_EQ_INT(w.err, LG_ERR_BUFFER_TOO_SMALL);
                    CHECK_EQ_INT(w.len, 0);
                } else {
                    CHECK_EQ_INT(w.err, 0);
                    CHECK_EQ_INT(w.len, whole);
                }
                lg_writer_init(&w, buf, cap);
                lg_ws_write_header(&w, LG_WS_BINARY, LG_WS_FIN, n, masked ? rfc_key : NULL);
                CHECK_EQ_INT(w.err, cap < whole - n ? LG_ERR_BUFFER_TOO_SMALL : 0);
                CHECK_EQ_INT(w.len, cap < whole - n ? 0 : whole - n);
            }
        }
    }
    /* a Close frame, at every capacity */
    for (size_t cap = 0; cap <= 7; cap++) {
        lg_writer w;
        lg_writer_init(&w, g.base + g.readable - cap, cap);
        lg_ws_write_close(&w, 1001, LG_STR("bye"), NULL);
        CHECK_EQ_INT(w.err, cap < 7 ? LG_ERR_BUFFER_TOO_SMALL : 0);
        CHECK_EQ_INT(w.len, cap < 7 ? 0 : 7);
    }
    guard_free(&g);
}

static void test_close(void)
{
    char buf[200];
    lg_writer w;
    lg_writer_init(&w, buf, sizeof buf);
    lg_ws_write_close(&w, 1000, LG_STR(""), NULL);
    EXPECT_BYTES(w, "88 02 03 e8");
    lg_writer_init(&w, buf, sizeof buf);
    lg_ws_write_close(&w, 1001, LG_STR("bye"), NULL);
    EXPECT_BYTES(w, "88 05 03 e9 'bye'");
    lg_writer_init(&w, buf, sizeof buf);
    lg_ws_write_close(&w, 0, (lg_str){ NULL, 0 }, NULL);
    EXPECT_BYTES(w, "88 00");
    lg_writer_init(&w, buf, sizeof buf);
    lg_ws_write_close(&w, 4999, LG_STR("\xce\xba"), NULL);
    EXPECT_BYTES(w, "88 04 13 87 ce ba");
    /* masked: 03 e8 ^ 37 fa */
    lg_writer_init(&w, buf, sizeof buf);
    lg_ws_write_close(&w, 1000, LG_STR(""), rfc_key);
    EXPECT_BYTES(w, "88 82 37 fa 21 3d 34 12");

    /* the longest reason, and one byte more */
    char reason[124];
    memset(reason, 'r', sizeof reason);
    lg_writer_init(&w, buf, sizeof buf);
    lg_ws_write_close(&w, 1000, (lg_str){ reason, 123 }, NULL);
    CHECK(w.err == 0 && w.len == 2 + 125);
    lg_writer_init(&w, buf, sizeof buf);
    lg_ws_write_close(&w, 1000, (lg_str){ reason, 124 }, NULL);
    CHECK(w.err == LG_ERR_INVALID_ARG && w.len == 0);

    /* codes that may not be sent, a reason without a code, bad UTF-8 */
    static const unsigned bad_codes[] = { 1, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535 };
    for (size_t i = 0; i < sizeof bad_codes / sizeof bad_codes[0]; i++) {
        lg_writer_init(&w, buf, sizeof buf);
        lg_ws_write_close(&w, bad_codes[i], LG_STR(""), NULL);
        CHECK(w.err == LG_ERR_INVALID_ARG && w.len == 0);
    }
    lg_writer_init(&w, buf, sizeof buf);
    lg_ws_write_close(&w, 0, LG_STR("why"), NULL);
    CHECK(w.err == LG_ERR_INVALID_ARG && w.len == 0);
    lg_writer_init(&w, buf, sizeof buf);
    lg_ws_write_close(&w, 1000, LG_STR("\xed\xa0\x80"), NULL);
    CHECK(w.err == LG_ERR_INVALID_ARG && w.len == 0);
    lg_writer_init(&w, buf, sizeof buf);
    lg_ws_write_close(&w, 1000, LG_STR("caf\xc3"), NULL);
    CHECK(w.err == LG_ERR_INVALID_ARG && w.len == 0);
}

/* lg_ws_mask against a byte loop: every offset, lengths around the word
 * size, unaligned buffers, in place and not; twice is the identity. */
static void test_mask(void)
{
    static const uint8_t key[4] = { 0xa1, 0x5b, 0x00, 0xff };
    unsigned char src[80], dst[96], want[80];
    for (size_t i = 0; i < sizeof src; i++) src[i] = (unsigned char)(i * 37 + 11);
    int bad = 0;
    for (uint64_t offset = 0; offset < 9; offset++) {
        for (size_t n = 0; n <= 70; n++) {
            for (size_t align = 0; align < 8; align++) {
                for (size_t i = 0; i < n; i++) want[i] = src[i] ^ key[(offset + i) % 4];
                memset(dst, 0xee, sizeof dst);
                lg_ws_mask(dst + align, src + align % 3, n, key, offset);
                for (size_t i = 0; i < n; i++)
                    if (dst[align + i] != (unsigned char)(src[align % 3 + i] ^ key[(offset + i) % 4])) bad++;
                if (dst[align + n] != 0xee || (align && dst[align - 1] != 0xee)) bad++; /* nothing past it */
                memcpy(dst + align, src, n);
                lg_ws_mask(dst + align, dst + align, n, key, offset);
                if (n && memcmp(dst + align, want, n) != 0) bad++;
                lg_ws_mask(dst + align, dst + align, n, key, offset);
                if (n && memcmp(dst + align, src, n) != 0) bad++;
            }
        }
    }
    CHECK_EQ_INT(bad, 0);
    /* a payload masked in pieces, each with its offset, as a whole */
    unsigned char a[80], b[80];
    lg_ws_mask(a, src, sizeof src, key, 0);
    lg_ws_mask(b, src, 13, key, 0);
    lg_ws_mask(b + 13, src + 13, 30, key, 13);
    lg_ws_mask(b + 43, src + 43, sizeof src - 43, key, 43);
    CHECK(memcmp(a, b, sizeof a) == 0);
    /* offsets past 32 bits keep their phase */
    lg_ws_mask(b, src, 4, key, UINT64_C(0x100000001));
    CHECK(b[0] == (src[0] ^ key[1]) && b[3] == (src[3] ^ key[0]));
}

/* What the writers write, the parser reads back: server frames (unmasked)
 * by a client's parser, client frames (masked) by a server's. */
static void test_round_trips(void)
{
    static char buf[70000];
    static char payload[66000];
    static const uint8_t key[4] = { 9, 8, 7, 6 };
    static const size_t lengths[] = { 0, 1, 2, 3, 4, 5, 125, 126, 127, 200, 65535, 65536 };
    for (size_t i = 0; i < sizeof payload; i++) payload[i] = (char)('a' + i % 26);
    for (int client = 0; client <= 1; client++) {
        for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
            for (unsigned op = 0; op <= 0xA; op++) {
                size_t n = lengths[li];
                if ((op > 2 && op < 8) || (op >= 8 && n > 125)) continue;
                lg_writer w;
                lg_writer_init(&w, buf, sizeof buf);
                /* a continuation needs a message to continue */
                if (op == LG_WS_CONTINUATION) lg_ws_write_frame(&w, LG_WS_TEXT, 0, "", 0, client ? key : NULL);
                size_t start = w.len;
                unsigned flags = LG_WS_FIN | (op < 8 ? LG_WS_RSV1 : 0);
                if (op == LG_WS_CLOSE) lg_ws_write_close(&w, 1000, (lg_str){ payload, n > 2 ? n - 2 : 0 }, client ? key : NULL);
                else lg_ws_write_frame(&w, op, flags, payload, n, client ? key : NULL);
                CHECK_EQ_INT(w.err, 0);
                if (op == LG_WS_CLOSE && n < 2) n = 2;

                lg_ws_parser p;
                lg_ws_parser_init(&p, (client ? 0 : LG_WS_CLIENT) | LG_WS_RSV1, UINT64_MAX);
                char *b = buf;
                size_t left = w.len, used;
                lg_str d;
                size_t got = 0;
                int ev, frames = 0, ok = 1;
                while ((ev = lg_ws_parse(&p, b, left, &used, &d)) > 0) {
                    if (ev == LG_WS_FRAME) frames++;
                    if (ev == LG_WS_DATA && b >= buf + start) {
                        if (got + d.len > n) ok = 0;
                        else if (op != LG_WS_CLOSE) ok &= memcmp(d.ptr, payload + got, d.len) == 0;
                        else /* one piece: the code, then the reason */
                            ok &= memcmp(d.ptr, "\x03\xe8", 2) == 0 && memcmp(d.ptr + 2, payload, d.len - 2) == 0;
                        got += d.len;
                    }
                    b += used;
                    left -= used;
                }
                CHECK_EQ_INT(ev, LG_WS_NEED_MORE);
                CHECK_EQ_INT(left, 0);
                CHECK_EQ_INT(frames, op == LG_WS_CONTINUATION ? 2 : 1);
                CHECK(ok && got == n);
                CHECK(p.frame.opcode == op && p.frame.length == n && p.frame.masked == client);
                CHECK_EQ_INT(p.frame.flags, op == LG_WS_CLOSE ? LG_WS_FIN : flags);
            }
        }
    }
}

int main(void)
{
    test_rfc_examples();
    test_length_forms();
    test_refusals();
    test_too_small();
    test_close();
    test_mask();
    test_round_trips();
    TEST_MAIN_END();
}
