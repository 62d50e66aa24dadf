/* The opening handshake's values (src/ws_handshake.c): RFC 6455's key and
 * accept (1.3, 4.1), a second pair computed with Python's hashlib and
 * base64, keys that are not 16 bytes of base64, accepts that differ by a
 * byte, buffers too small, and the choice of a subprotocol. */
#include "linger_ws.h"
#include "test.h"

static void test_accept(void)
{
    char out[LG_WS_ACCEPT_BYTES];
    CHECK_EQ_INT(lg_ws_accept_value(LG_STR("dGhlIHNhbXBsZSBub25jZQ=="), out, sizeof out), 28);
    CHECK(strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
    CHECK_EQ_INT(lg_ws_accept_value(LG_STR("AQIDBAUGBwgJCgsMDQ4PEA=="), out, sizeof out), 28);
    CHECK(strcmp(out, "C/0nmHhBztSRGR1CwL6Tf4ZjwpY=") == 0);
    CHECK_EQ_INT(lg_ws_accept_value(LG_STR("dGhlIHNhbXBsZSBub25jZQ=="), out, sizeof out - 1), LG_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(lg_ws_accept_value(LG_STR("dGhlIHNhbXBsZSBub25jZQ=="), NULL, 0), LG_ERR_BUFFER_TOO_SMALL);

    CHECK_EQ_INT(lg_ws_check_accept(LG_STR("dGhlIHNhbXBsZSBub25jZQ=="), LG_STR("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")), LG_OK);
    static const char *const wrong[] = {
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo",   /* short */
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo==", /* long */
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOp=",  /* one character off */
        "S3pPLMBiTxaQ9kYGzzhZRbK+xOo=",  /* base64 has case */
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo ",
        "",
    };
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++)
        CHECK_EQ_INT(lg_ws_check_accept(LG_STR("dGhlIHNhbXBsZSBub25jZQ=="), (lg_str){ wrong[i], strlen(wrong[i]) }),
                     LG_ERR_WS_HANDSHAKE);
    CHECK_EQ_INT(lg_ws_check_accept(LG_STR("dGhlIHNhbXBsZSBub25jZQ=="), (lg_str){ NULL, 0 }), LG_ERR_WS_HANDSHAKE);
    /* the accept of another key */
    CHECK_EQ_INT(lg_ws_check_accept(LG_STR("AQIDBAUGBwgJCgsMDQ4PEA=="), LG_STR("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")),
                 LG_ERR_WS_HANDSHAKE);
}

static void test_keys(void)
{
    uint8_t nonce[16];
    for (int i = 0; i < 16; i++) nonce[i] = (uint8_t)(i + 1);
    char key[LG_WS_KEY_BYTES];
    CHECK_EQ_INT(lg_ws_key(nonce, key, sizeof key), 24);
    CHECK(strcmp(key, "AQIDBAUGBwgJCgsMDQ4PEA==") == 0);
    CHECK_EQ_INT(lg_ws_key(nonce, key, sizeof key - 1), LG_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(lg_ws_key(nonce, NULL, 0), LG_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(lg_ws_check_key((lg_str){ key, 24 }), LG_OK);

    CHECK_EQ_INT(lg_ws_check_key(LG_STR("dGhlIHNhbXBsZSBub25jZQ==")), LG_OK);
    static const char *const bad[] = {
        "",
        "dGhlIHNhbXBsZSBub25jZQ=",    /* 23 characters */
        "dGhlIHNhbXBsZSBub25jZQ===",  /* 25 */
        "dGhlIHNhbXBsZSBub25jZQ",     /* no padding */
        "dGhlIHNhbXBsZSBub25jZQAA",   /* 18 bytes */
        "dGhlIHNhbXBsZSBub25jZQA=",   /* 17 bytes */
        "dGhlIHNhbXBsZSBub25jZR==",   /* bits under the padding (not canonical) */
        "dGhlIHNhbXBsZSBub25jZ?==",   /* outside the alphabet */
        "dGhlIHNhbXBsZSBub25j Q==",
        "dGhl=HNhbXBsZSBub25jZQ==",   /* padding inside */
        " GhlIHNhbXBsZSBub25jZQ==",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (lg_ws_check_key((lg_str){ bad[i], strlen(bad[i]) }) != LG_ERR_WS_HANDSHAKE)
            fprintf(stderr, "  accepted key \"%s\"\n", bad[i]);
        CHECK_EQ_INT(lg_ws_check_key((lg_str){ bad[i], strlen(bad[i]) }), LG_ERR_WS_HANDSHAKE);
    }
    CHECK_EQ_INT(lg_ws_check_key((lg_str){ NULL, 0 }), LG_ERR_WS_HANDSHAKE);
}

static void test_protocols(void)
{
    static const char *const supported[] = { "superchat", "chat", "v2.json.example", NULL };
    static const struct {
        const char *offered;
        int want;
    } v[] = {
        { "chat", 1 },
        { "chat, superchat", 1 },      /* the client's order of preference */
        { "superchat, chat", 0 },
        { "mqtt,chat", 1 },
        { "  , ,\tchat\t ,", 1 },        /* spaces, tabs, empty elements */
        { "v2.json.example", 2 },
        { "Chat", LG_ERR_NOT_FOUND },    /* names are case-sensitive */
        { "chatty", LG_ERR_NOT_FOUND },
        { "cha", LG_ERR_NOT_FOUND },
        { "chat;q=1", LG_ERR_NOT_FOUND },
        { "", LG_ERR_NOT_FOUND },
        { ",,,", LG_ERR_NOT_FOUND },
        { "mqtt", LG_ERR_NOT_FOUND },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        int got = lg_ws_choose_protocol((lg_str){ v[i].offered, strlen(v[i].offered) }, supported);
        if (got != v[i].want) fprintf(stderr, "  \"%s\": %d, expected %d\n", v[i].offered, got, v[i].want);
        CHECK_EQ_INT(got, v[i].want);
    }
    /* no header, nothing supported */
    CHECK_EQ_INT(lg_ws_choose_protocol((lg_str){ NULL, 0 }, supported), LG_ERR_NOT_FOUND);
    static const char *const none[] = { NULL };
    CHECK_EQ_INT(lg_ws_choose_protocol(LG_STR("chat"), none), LG_ERR_NOT_FOUND);
    CHECK_EQ_INT(lg_ws_choose_protocol(LG_STR("chat"), NULL), LG_ERR_NOT_FOUND);
    /* an element is compared with its own length, not past the slice */
    CHECK_EQ_INT(lg_ws_choose_protocol((lg_str){ "chatXXX", 4 }, supported), 1);
}

int main(void)
{
    test_accept();
    test_keys();
    test_protocols();
    TEST_MAIN_END();
}
