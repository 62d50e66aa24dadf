/* The WebSocket frame parser (src/ws_codec.c): RFC 6455 5.7's examples,
 * fragmentation with control frames between, every refusal with the code
 * a Close frame answers it with, each reported with the byte that decides
 * it, and all of it whole, cut at every byte (every pair of bytes for
 * short inputs), a byte at a time, at guard pages (tests/ws_harness.h
 * says how, and what the traces mean). */
#include "ws_harness.h"

#define SERVER 0u
#define CLIENT LG_WS_CLIENT
/* a zero masking key: the payload reads as written */
#define M0 " 00 00 00 00 "

typedef struct ws_case {
    const char *name;
    unsigned flags;
    uint64_t max;
    const char *input; /* ws_bytes' notation */
    const char *trace;
    int result;
    size_t decide_at;
    size_t leftover;
} ws_case;

static int run_case(const ws_case *c)
{
    char in[512];
    size_t len = ws_bytes(in, c->input);
    ws_feed_opts o = { .flags = c->flags, .max_message_bytes = c->max };
    ws_expect e = { c->trace, c->result, c->decide_at, c->leftover };
    return ws_feed_every_way(c->name, in, len, &o, &e);
}

static void run_cases(const ws_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) CHECK_EQ_INT(run_case(&cases[i]), 0);
}

/* RFC 6455 5.7, and what a well-behaved peer sends. */
static const ws_case valid[] = {
    { "5.7 unmasked text", CLIENT, 0, "81 05 'Hello'", "[1 5]Hello.", 0, 0, 0 },
    { "5.7 masked text", SERVER, 0, "81 85 37 fa 21 3d 7f 9f 4d 51 58", "[1 5m]Hello.", 0, 0, 0 },
    { "5.7 fragmented text", CLIENT, 0, "01 03 'Hel' 80 02 'lo'", "[1- 3]Hel.[0 2]lo.", 0, 0, 0 },
    { "5.7 unmasked ping", CLIENT, 0, "89 05 'Hello'", "[9 5]Hello.", 0, 0, 0 },
    { "5.7 masked pong", SERVER, 0, "8a 85 37 fa 21 3d 7f 9f 4d 51 58", "[a 5m]Hello.", 0, 0, 0 },
    { "empty text", SERVER, 0, "81 80" M0, "[1 0m].", 0, 0, 0 },
    { "empty ping and pong", CLIENT, 0, "89 00 8a 00", "[9 0].[a 0].", 0, 0, 0 },
    { "a ping between fragments", SERVER, 0, "01 83" M0 "'Hel' 89 82" M0 "'hi' 80 82" M0 "'lo'",
      "[1- 3m]Hel.[9 2m]hi.[0 2m]lo.", 0, 0, 0 },
    { "empty fragments", CLIENT, 0, "02 02 'ab' 00 00 80 01 'c'", "[2- 2]ab.[0- 0].[0 1]c.", 0, 0, 0 },
    { "UTF-8 split across frames", CLIENT, 0, "01 02 'a' e2 80 02 82 ac", "[1- 2]a\\xe2.[0 2]\\x82\\xac.", 0, 0, 0 },
    { "binary is not UTF-8", CLIENT, 0, "82 02 ff fe", "[2 2]\\xff\\xfe.", 0, 0, 0 },
    { "16-bit length form, not minimal", CLIENT, 0, "82 7e 00 03 'abc'", "[2 3]abc.", 0, 0, 0 },
    { "64-bit length form, not minimal", CLIENT, 0, "82 7f 00 00 00 00 00 00 00 02 'ab'", "[2 2]ab.", 0, 0, 0 },
    { "two messages", CLIENT, 0, "81 01 'a' 82 01 'b'", "[1 1]a.[2 1]b.", 0, 0, 0 },
    /* what is not there yet: payload goes as it comes; a header or a
     * control payload stays unconsumed until it is whole */
    { "partial payload", CLIENT, 0, "81 05 'Hel'", "[1 5]Hel", 0, 0, 0 },
    { "partial header", CLIENT, 0, "81 05 'Hello' 82 7e 01", "[1 5]Hello.", 0, 0, 3 },
    { "partial masking key", SERVER, 0, "81 85 37 fa 21", "", 0, 0, 5 },
    { "partial ping payload", CLIENT, 0, "89 05 'Hel'", "[9 5]", 0, 0, 3 },
    /* Close: its payload whole, checked; nothing after it counts */
    { "close, empty", SERVER, 0, "88 80" M0, "[8 0m].", 0, 0, 0 },
    { "close 1000", SERVER, 0, "88 82 37 fa 21 3d 34 12", "[8 2m]\\x03\\xe8.", 0, 0, 0 },
    { "close with a reason", CLIENT, 0, "88 06 03 e9 'bye' 21", "[8 6]\\x03\\xe9bye!.", 0, 0, 0 },
    { "close with a UTF-8 reason", CLIENT, 0, "88 04 03 e8 ce ba", "[8 4]\\x03\\xe8\\xce\\xba.", 0, 0, 0 },
    { "close, then junk", CLIENT, 0, "88 00 'junk' ff ff 81", "[8 0].", 0, 0, 0 },
    { "close, then a frame", SERVER, 0, "88 80" M0 "81 80" M0, "[8 0m].", 0, 0, 0 },
    /* extensions: the RSV bits they were allowed; no UTF-8 check then */
    { "RSV1 allowed", CLIENT | LG_WS_RSV1, 0, "c1 02 ff fe", "[1r4 2]\\xff\\xfe.", 0, 0, 0 },
    { "RSV1 allowed, compressed text", CLIENT | LG_WS_RSV1, 0, "41 02 ff fe 80 01 ff", "[1-r4 2]\\xff\\xfe.[0 1]\\xff.", 0, 0, 0 },
    { "RSV bits all allowed", CLIENT | LG_WS_RSV1 | LG_WS_RSV2 | LG_WS_RSV3, 0, "f2 01 'x' f9 00",
      "[2r7 1]x.[9r7 0].", 0, 0, 0 },
    /* the size limit: control frames do not count, the limit itself is fine */
    { "exactly the limit", CLIENT, 10, "81 0a 'helloworld'", "[1 10]helloworld.", 0, 0, 0 },
    { "the limit across fragments", CLIENT, 10, "01 05 'hello' 80 05 'world'", "[1- 5]hello.[0 5]world.", 0, 0, 0 },
    { "control frames are not counted", CLIENT, 4, "01 02 'ab' 89 05 'Hello' 80 02 'cd'",
      "[1- 2]ab.[9 5]Hello.[0 2]cd.", 0, 0, 0 },
    { "the limit is per message", CLIENT, 4, "81 04 'abcd' 81 04 'efgh'", "[1 4]abcd.[1 4]efgh.", 0, 0, 0 },
};

/* Each refusal: its close code is in the comments (lg_err_ws_close_code
 * is checked below); decide_at is the byte that decides it. */
static const ws_case refused[] = {
    /* reserved bits, no extension (1002) */
    { "RSV1", CLIENT, 0, "c1 00", "", LG_ERR_WS_RESERVED_BITS, 1, 0 },
    { "RSV2", SERVER, 0, "a1 80" M0, "", LG_ERR_WS_RESERVED_BITS, 1, 0 },
    { "RSV3", CLIENT, 0, "91 00", "", LG_ERR_WS_RESERVED_BITS, 1, 0 },
    { "RSV on a ping", CLIENT, 0, "c9 00", "", LG_ERR_WS_RESERVED_BITS, 1, 0 },
    { "RSV on a close", CLIENT, 0, "98 00", "", LG_ERR_WS_RESERVED_BITS, 1, 0 },
    { "RSV2 where RSV1 is allowed", CLIENT | LG_WS_RSV1, 0, "a1 00", "", LG_ERR_WS_RESERVED_BITS, 1, 0 },
    { "RSV after a good frame", CLIENT, 0, "81 01 'a' c1 00", "[1 1]a.", LG_ERR_WS_RESERVED_BITS, 4, 0 },
    /* control frames (1002) */
    { "ping without FIN", CLIENT, 0, "09 00", "", LG_ERR_WS_CONTROL_FRAME, 1, 0 },
    { "close without FIN", SERVER, 0, "08 80" M0, "", LG_ERR_WS_CONTROL_FRAME, 1, 0 },
    { "pong without FIN", CLIENT, 0, "0a 00", "", LG_ERR_WS_CONTROL_FRAME, 1, 0 },
    { "ping of 126", CLIENT, 0, "89 7e 00 7e", "", LG_ERR_WS_CONTROL_FRAME, 2, 0 },
    { "ping of 64-bit length", CLIENT, 0, "89 7f 00 00 00 00 00 00 00 01", "", LG_ERR_WS_CONTROL_FRAME, 2, 0 },
    { "close of 126, masked", SERVER, 0, "88 fe 00 7e", "", LG_ERR_WS_CONTROL_FRAME, 2, 0 },
    /* lengths (1002) */
    { "64-bit length, top bit", CLIENT, 0, "82 7f 80 00 00 00 00 00 00 00", "", LG_ERR_WS_LENGTH, 3, 0 },
    { "64-bit length, all ones", SERVER, UINT64_MAX, "82 ff ff ff ff ff ff ff ff ff" M0, "", LG_ERR_WS_LENGTH, 3, 0 },
    /* masking (1002) */
    { "unmasked to a server", SERVER, 0, "81 05 'Hello'", "", LG_ERR_WS_MASK, 2, 0 },
    { "unmasked empty to a server", SERVER, 0, "81 00", "", LG_ERR_WS_MASK, 2, 0 },
    { "unmasked ping to a server", SERVER, 0, "89 00", "", LG_ERR_WS_MASK, 2, 0 },
    { "masked to a client", CLIENT, 0, "81 85 37 fa 21 3d 7f 9f 4d 51 58", "", LG_ERR_WS_MASK, 2, 0 },
    /* fragmentation (1002) */
    { "continuation first", CLIENT, 0, "80 00", "", LG_ERR_WS_FRAGMENT, 1, 0 },
    { "continuation without FIN first", CLIENT, 0, "00 00", "", LG_ERR_WS_FRAGMENT, 1, 0 },
    { "continuation after a whole message", CLIENT, 0, "81 01 'a' 80 01 'b'", "[1 1]a.", LG_ERR_WS_FRAGMENT, 4, 0 },
    { "text inside a message", CLIENT, 0, "01 01 'a' 81 01 'b'", "[1- 1]a.", LG_ERR_WS_FRAGMENT, 4, 0 },
    { "binary inside a message", SERVER, 0, "01 81" M0 "'a' 02 81" M0 "'b'", "[1- 1m]a.", LG_ERR_WS_FRAGMENT, 8, 0 },
    { "text after a ping inside a message", CLIENT, 0, "01 01 'a' 89 00 82 00", "[1- 1]a.[9 0].", LG_ERR_WS_FRAGMENT, 6, 0 },
    /* the size limit (1009), from the header that crosses it */
    { "over the limit", CLIENT, 10, "81 0b 'hello world'", "", LG_ERR_WS_TOO_BIG, 2, 0 },
    { "over the limit, 16-bit", SERVER, 200, "82 fe 00 c9", "", LG_ERR_WS_TOO_BIG, 4, 0 },
    { "over the default limit, 64-bit", CLIENT, 0, "82 7f 00 00 00 00 00 10 00 01", "", LG_ERR_WS_TOO_BIG, 10, 0 },
    { "over the limit across fragments", CLIENT, 10, "01 06 'hello ' 80 05 'world'", "[1- 6]hello .",
      LG_ERR_WS_TOO_BIG, 10, 0 },
    /* UTF-8 (1007), at the first byte that makes it invalid */
    { "surrogate", CLIENT, 0, "81 05 'ab' ed a0 80", "[1 5]ab\\xed", LG_ERR_WS_UTF8, 6, 0 },
    { "masked surrogate", SERVER, 0, "81 85 00 00 00 00 'ab' ed a0 80", "[1 5m]ab\\xed", LG_ERR_WS_UTF8, 10, 0 },
    { "overlong", CLIENT, 0, "81 03 'a' c0 af", "[1 3]a", LG_ERR_WS_UTF8, 4, 0 },
    { "cut off at the end", CLIENT, 0, "81 03 'a' e2 82", "[1 3]a\\xe2", LG_ERR_WS_UTF8, 5, 0 },
    { "cut off by an empty last frame", SERVER, 0, "01 82" M0 "'a' e2 80 80" M0, "[1- 2m]a\\xe2.",
      LG_ERR_WS_UTF8, 10, 0 },
    { "fail fast in one frame (Autobahn 6.4.1)", CLIENT, 0,
      "81 15 ce ba e1 bd b9 cf 83 ce bc ce b5 f4 90 80 80 65 64 69 74 65 64",
      "[1 21]\\xce\\xba\\xe1\\xbd\\xb9\\xcf\\x83\\xce\\xbc\\xce\\xb5\\xf4", LG_ERR_WS_UTF8, 15, 0 },
    { "fail fast across frames (Autobahn 6.4.3)", CLIENT, 0,
      "01 0b ce ba e1 bd b9 cf 83 ce bc ce b5 80 0a f4 90 80 80 65 64 69 74 65 64",
      "[1- 11]\\xce\\xba\\xe1\\xbd\\xb9\\xcf\\x83\\xce\\xbc\\xce\\xb5.[0 10]\\xf4", LG_ERR_WS_UTF8, 17, 0 },
    { "a ping between does not reset UTF-8", CLIENT, 0, "01 02 'a' e2 89 00 80 01 'b'", "[1- 2]a\\xe2.[9 0].[0 1]",
      LG_ERR_WS_UTF8, 9, 0 },
    /* Close payloads: a length of 1 with the header (1002); a bad code or
     * reason once the payload is whole */
    { "close of 1 byte", CLIENT, 0, "88 01 03", "", LG_ERR_WS_CLOSE_PAYLOAD, 2, 0 },
    { "close of 1 byte, masked", SERVER, 0, "88 81 00 00 00 00 03", "", LG_ERR_WS_CLOSE_PAYLOAD, 2, 0 },
    { "close reason, surrogate", SERVER, 0, "88 84" M0 "03 e8 ed a0", "[8 4m]", LG_ERR_WS_UTF8, 10, 0 },
    { "close reason, cut off", CLIENT, 0, "88 03 03 e8 ce", "[8 3]", LG_ERR_WS_UTF8, 5, 0 },
};

/* Every reserved opcode, with the first byte (1002). */
static void test_reserved_opcodes(void)
{
    static const unsigned ops[] = { 3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        for (unsigned fin = 0; fin <= 0x80; fin += 0x80) {
            char spec[64], name[64];
            sprintf(spec, "%02x 80" M0, fin | ops[i]);
            sprintf(name, "opcode %x%s", ops[i], fin ? "" : " without FIN");
            ws_case c = { name, SERVER, 0, spec, "", LG_ERR_WS_OPCODE, 1, 0 };
            CHECK_EQ_INT(run_case(&c), 0);
        }
    }
}

/* Close codes (RFC 6455 7.4): the ones a peer may send pass; the others
 * are refused once the payload is whole (1002). */
static void test_close_codes(void)
{
    static const unsigned ok[] = { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013,
                                   1014, 3000, 3999, 4000, 4999 };
    static const unsigned bad[] = { 0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535 };
    char spec[64], name[64], trace[64];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        sprintf(spec, "88 82" M0 "%02x %02x", ok[i] >> 8, ok[i] & 0xff);
        sprintf(name, "close code %u", ok[i]);
        sprintf(trace, "[8 2m]\\x%02x\\x%02x.", ok[i] >> 8, ok[i] & 0xff);
        ws_case c = { name, SERVER, 0, spec, trace, 0, 0, 0 };
        CHECK_EQ_INT(run_case(&c), 0);
        CHECK(lg_ws_close_code_valid(ok[i]));
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sprintf(spec, "88 05 %02x %02x 'bye'", bad[i] >> 8, bad[i] & 0xff);
        sprintf(name, "close code %u", bad[i]);
        ws_case c = { name, CLIENT, 0, spec, "[8 5]", LG_ERR_WS_CLOSE_PAYLOAD, 7, 0 };
        CHECK_EQ_INT(run_case(&c), 0);
        CHECK(!lg_ws_close_code_valid(bad[i]));
    }
    /* every code, against the list in RFC 6455 7.4 and IANA's registry */
    int sendable = 0;
    for (unsigned code = 0; code < 70000; code++) sendable += lg_ws_close_code_valid(code);
    CHECK_EQ_INT(sendable, 4 + 8 + 2000);
}

/* A test-local frame builder (not the codec's writer): header in the form
 * asked for (0: the shortest), payload masked with key if given. */
static size_t build(char *out, unsigned b0, const unsigned char *payload, size_t len,
                    const uint8_t *key, int form)
{
    size_t n = 0;
    out[n++] = (char)b0;
    unsigned m = key ? 0x80 : 0;
    if (form == 0) form = len < 126 ? 7 : len < 65536 ? 16 : 64;
    if (form == 7) {
        out[n++] = (char)(m | len);
    } else if (form == 16) {
        out[n++] = (char)(m | 126);
        out[n++] = (char)(len >> 8);
        out[n++] = (char)len;
    } else {
        out[n++] = (char)(m | 127);
        for (int i = 7; i >= 0; i--) out[n++] = (char)((uint64_t)len >> (8 * i));
    }
    if (key) memcpy(out + n, key, 4), n += 4;
    for (size_t i = 0; i < len; i++) out[n + i] = (char)(payload[i] ^ (key ? key[i % 4] : 0));
    return n + len;
}

static void expect_frame(ws_trace *t, const char *head, const unsigned char *payload, size_t len)
{
    trace_add(t, head, strlen(head));
    trace_bytes(t, payload, len);
    trace_add(t, ".", 1);
}

/* RFC 6455 5.7's 256-byte and 64 KiB binary messages, unmasked; the same
 * masked (the key's phase kept across every cut); a 125-byte ping; a
 * longer text message of multibyte characters. */
static void test_long_frames(void)
{
    static const uint8_t key[4] = { 0x37, 0xfa, 0x21, 0x3d };
    size_t big = 65536;
    unsigned char *payload = malloc(big);
    char *in = malloc(big + 14);
    for (size_t i = 0; i < big; i++) payload[i] = (unsigned char)(i * 131 + (i >> 8));

    struct {
        const char *name, *head;
        size_t len;
        const uint8_t *key;
        unsigned flags;
        const char *prefix; /* the exact header bytes RFC 6455 5.7 gives */
    } cases[] = {
        { "256 bytes (5.7)", "[2 256]", 256, NULL, CLIENT, "82 7e 01 00" },
        { "256 bytes, masked", "[2 256m]", 256, key, SERVER, "82 fe 01 00 37 fa 21 3d" },
        { "64 KiB (5.7)", "[2 65536]", 65536, NULL, CLIENT, "82 7f 00 00 00 00 00 01 00 00" },
        { "64 KiB, masked", "[2 65536m]", 65536, key, SERVER, "82 ff 00 00 00 00 00 01 00 00 37 fa 21 3d" },
        { "65535 bytes", "[2 65535]", 65535, NULL, CLIENT, "82 7e ff ff" },
        { "300 bytes, masked", "[2 300m]", 300, key, SERVER, "82 fe 01 2c 37 fa 21 3d" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = build(in, 0x82, payload, cases[i].len, cases[i].key, 0);
        char prefix[16];
        size_t pn = ws_bytes(prefix, cases[i].prefix);
        CHECK(memcmp(in, prefix, pn) == 0);
        ws_trace t = { 0 };
        expect_frame(&t, cases[i].head, payload, cases[i].len);
        ws_feed_opts o = { .flags = cases[i].flags };
        ws_expect e = { t.s, 0, 0, 0 };
        CHECK_EQ_INT(ws_feed_every_way(cases[i].name, in, n, &o, &e), 0);
        free(t.s);
    }

    /* the longest ping, masked, and one byte longer (1002 with byte 2) */
    size_t n = build(in, 0x89, payload, 125, key, 0);
    ws_trace t = { 0 };
    expect_frame(&t, "[9 125m]", payload, 125);
    ws_feed_opts o = { .flags = SERVER };
    ws_expect e = { t.s, 0, 0, 0 };
    CHECK_EQ_INT(ws_feed_every_way("ping of 125", in, n, &o, &e), 0);
    free(t.s);
    n = build(in, 0x89, payload, 126, key, 0);
    ws_expect e2 = { "", LG_ERR_WS_CONTROL_FRAME, 2, 0 };
    CHECK_EQ_INT(ws_feed_every_way("ping of 126, masked", in, n, &o, &e2), 0);

    /* 100 euro signs and a "!", masked: UTF-8 checked in pieces that cut
     * characters and the key's phase anywhere */
    unsigned char text[301];
    for (int i = 0; i < 100; i++) memcpy(text + 3 * i, "\xe2\x82\xac", 3);
    text[300] = '!';
    n = build(in, 0x81, text, sizeof text, key, 0);
    memset(&t, 0, sizeof t);
    expect_frame(&t, "[1 301m]", text, sizeof text);
    ws_expect e3 = { t.s, 0, 0, 0 };
    CHECK_EQ_INT(ws_feed_every_way("euros, masked", in, n, &o, &e3), 0);
    free(t.s);
    /* ... and the same with its last character cut: 1007 at the end */
    text[300] = '\xe2';
    n = build(in, 0x81, text, sizeof text, key, 0);
    memset(&t, 0, sizeof t);
    trace_add(&t, "[1 301m]", 8);
    trace_bytes(&t, text, sizeof text - 1); /* the last byte is refused, not delivered */
    ws_expect e4 = { t.s, LG_ERR_WS_UTF8, n, 0 };
    CHECK_EQ_INT(ws_feed_every_way("euros, cut off", in, n, &o, &e4), 0);
    free(t.s);

    free(in);
    free(payload);
}

/* Frames one after the other in one buffer: a fragmented text message
 * with a ping and a pong between its fragments, a binary message, a Close;
 * as a client would send them (masked, each with its own key). */
static void test_conversation(void)
{
    static const uint8_t k1[4] = { 1, 2, 3, 4 }, k2[4] = { 0xff, 0, 0x80, 0x7f };
    char in[600];
    size_t n = 0;
    n += build(in + n, 0x01, (const unsigned char *)"caf\xc3", 4, k1, 0);
    n += build(in + n, 0x89, (const unsigned char *)"are you there?", 14, k2, 0);
    n += build(in + n, 0x00, (const unsigned char *)"\xa9 au lait", 9, k1, 16);
    n += build(in + n, 0x8a, (const unsigned char *)"", 0, k2, 0);
    n += build(in + n, 0x80, (const unsigned char *)" \xe2\x98\x95", 4, k2, 64);
    n += build(in + n, 0x82, (const unsigned char *)"\x00\x01\x02", 3, k1, 0);
    n += build(in + n, 0x88, (const unsigned char *)"\x03\xe8", 2, k2, 0);
    ws_feed_opts o = { .flags = SERVER };
    ws_expect e = { "[1- 4m]caf\\xc3.[9 14m]are you there?.[0- 9m]\\xa9 au lait.[a 0m].[0 4m] \\xe2\\x98\\x95."
                    "[2 3m]\\x00\\x01\\x02.[8 2m]\\x03\\xe8.",
                    0, 0, 0 };
    CHECK_EQ_INT(ws_feed_every_way("conversation", in, n, &o, &e), 0);
}

/* p->message_opcode and the public counters through a fragmented message. */
static void test_parser_fields(void)
{
    char in[64];
    size_t len = ws_bytes(in, "01 02 'ab' 89 01 'p' 80 03 'cde'");
    lg_ws_parser p;
    lg_ws_parser_init(&p, CLIENT, 0);
    CHECK(p.max_message_bytes == LG_WS_DEFAULT_MAX_MESSAGE);
    CHECK_EQ_INT(p.message_opcode, 0);
    char *b = in;
    size_t used;
    lg_str d;
    int ev = lg_ws_parse(&p, b, len, &used, &d);
    CHECK_EQ_INT(ev, LG_WS_FRAME);
    CHECK_EQ_INT(p.message_opcode, LG_WS_TEXT);
    CHECK(p.message_bytes == 2 && p.remaining == 2);
    b += used, len -= used;
    ev = lg_ws_parse(&p, b, 1, &used, &d); /* one byte of the two */
    CHECK_EQ_INT(ev, LG_WS_DATA);
    CHECK(d.len == 1 && d.ptr == b && p.remaining == 1);
    b += used, len -= used;
    ev = lg_ws_parse(&p, b, len, &used, &d);
    CHECK(ev == LG_WS_DATA && d.len == 1 && *d.ptr == 'b');
    b += used, len -= used;
    CHECK_EQ_INT(lg_ws_parse(&p, b, len, &used, &d), LG_WS_FRAME_END);
    CHECK_EQ_INT(used, 0);
    CHECK_EQ_INT(lg_ws_parse(&p, b, len, &used, &d), LG_WS_FRAME);
    CHECK(p.frame.opcode == LG_WS_PING && p.message_opcode == LG_WS_TEXT && p.message_bytes == 2);
    b += used, len -= used;
    CHECK_EQ_INT(lg_ws_parse(&p, b, len, &used, &d), LG_WS_DATA);
    b += used, len -= used;
    CHECK_EQ_INT(lg_ws_parse(&p, b, len, &used, &d), LG_WS_FRAME_END);
    CHECK_EQ_INT(lg_ws_parse(&p, b, len, &used, &d), LG_WS_FRAME);
    CHECK(p.frame.opcode == LG_WS_CONTINUATION && (p.frame.flags & LG_WS_FIN));
    CHECK(p.message_opcode == LG_WS_TEXT && p.message_bytes == 5);
    b += used, len -= used;
    CHECK_EQ_INT(lg_ws_parse(&p, b, len, &used, &d), LG_WS_DATA);
    CHECK_STR(d, "cde");
    b += used, len -= used;
    CHECK_EQ_INT(lg_ws_parse(&p, b, len, &used, &d), LG_WS_FRAME_END);
    CHECK_EQ_INT(len, 0);
    CHECK_EQ_INT(lg_ws_parse(&p, b, 0, &used, &d), LG_WS_NEED_MORE);

    /* the mask and masked fields */
    len = ws_bytes(in, "82 81 01 02 03 04 05");
    lg_ws_parser_init(&p, SERVER, 7);
    CHECK_EQ_INT(lg_ws_parse(&p, in, len, &used, &d), LG_WS_FRAME);
    CHECK(p.frame.masked == 1 && memcmp(p.frame.mask, "\x01\x02\x03\x04", 4) == 0);
    CHECK(p.max_message_bytes == 7 && p.message_opcode == LG_WS_BINARY);
    CHECK_EQ_INT(lg_ws_parse(&p, in + used, len - used, &used, &d), LG_WS_DATA);
    CHECK(d.len == 1 && d.ptr[0] == 4); /* 05 ^ 01 */
}

static void test_parse_close(void)
{
    unsigned code = 1;
    lg_str reason = { "x", 1 };
    CHECK_EQ_INT(lg_ws_parse_close((lg_str){ NULL, 0 }, &code, &reason), LG_OK);
    CHECK(code == LG_WS_CLOSE_NO_STATUS && reason.len == 0);
    CHECK_EQ_INT(lg_ws_parse_close(LG_STR("\x03\xe8"), &code, &reason), LG_OK);
    CHECK(code == 1000 && reason.len == 0);
    CHECK_EQ_INT(lg_ws_parse_close(LG_STR("\x0f\xa0going \xce\xba"), &code, &reason), LG_OK);
    CHECK_EQ_INT(code, 4000);
    CHECK_STR(reason, "going \xce\xba");
    CHECK_EQ_INT(lg_ws_parse_close(LG_STR("\x03"), &code, &reason), LG_ERR_WS_CLOSE_PAYLOAD);
    CHECK_EQ_INT(lg_ws_parse_close(LG_STR("\x03\xed"), &code, &reason), LG_ERR_WS_CLOSE_PAYLOAD);
    CHECK_EQ_INT(lg_ws_parse_close(LG_STR("\x03\xe8\xff"), &code, &reason), LG_ERR_WS_UTF8);
    char big[126];
    memset(big, 'a', sizeof big);
    big[0] = 3, big[1] = (char)0xe8;
    CHECK_EQ_INT(lg_ws_parse_close((lg_str){ big, 125 }, &code, &reason), LG_OK);
    CHECK_EQ_INT(reason.len, 123);
    CHECK_EQ_INT(lg_ws_parse_close((lg_str){ big, 126 }, &code, &reason), LG_ERR_WS_CLOSE_PAYLOAD);
}

static void test_close_codes_for_errors(void)
{
    static const int protocol[] = { LG_ERR_WS_RESERVED_BITS, LG_ERR_WS_OPCODE, LG_ERR_WS_CONTROL_FRAME,
                                    LG_ERR_WS_LENGTH, LG_ERR_WS_MASK, LG_ERR_WS_FRAGMENT,
                                    LG_ERR_WS_CLOSE_PAYLOAD };
    for (size_t i = 0; i < sizeof protocol / sizeof protocol[0]; i++)
        CHECK_EQ_INT(lg_err_ws_close_code(protocol[i]), 1002);
    CHECK_EQ_INT(lg_err_ws_close_code(LG_ERR_WS_UTF8), 1007);
    CHECK_EQ_INT(lg_err_ws_close_code(LG_ERR_WS_TOO_BIG), 1009);
    CHECK_EQ_INT(lg_err_ws_close_code(LG_ERR_WS_HANDSHAKE), 0);
    CHECK_EQ_INT(lg_err_ws_close_code(LG_OK), 0);
    CHECK_EQ_INT(lg_err_ws_close_code(LG_ERR_NOMEM), 0);
    CHECK_EQ_INT(lg_err_ws_close_code(LG_ERR_PROTOCOL), 0);
}

int main(void)
{
    run_cases(valid, sizeof valid / sizeof valid[0]);
    run_cases(refused, sizeof refused / sizeof refused[0]);
    test_reserved_opcodes();
    test_close_codes();
    test_long_frames();
    test_conversation();
    test_parser_fields();
    test_parse_close();
    test_close_codes_for_errors();
    TEST_MAIN_END();
}
