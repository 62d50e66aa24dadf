/*
 * The JSON writer: documents byte for byte, every escape, every kind of
 * bad UTF-8 turned into U+FFFD (and every well-formed sequence kept),
 * 64-bit integers at their limits, misuse refused, and a buffer too small
 * at every length: the writer stops, the error stays, nothing is written
 * past the end.
 */
#include <stdint.h>
#include <string.h>

#include "linger.h"
#include "test.h"

static char out[1024];
static lg_writer w;
static lg_json j;

static void start(size_t cap)
{
    memset(out, '#', sizeof out);
    lg_writer_init(&w, out, cap);
    lg_json_init(&j, &w);
}

static int is(const char *want)
{
    size_t n = strlen(want);
    int ok = lg_json_finish(&j) == LG_OK && w.len == n && memcmp(out, want, n) == 0;
    if (!ok) fprintf(stderr, "got  %.*s (%d)\nwant %s\n", (int)w.len, out, lg_json_finish(&j), want);
    return ok;
}

/* The document of the header's example, written into a buffer of `cap`. */
static void example(size_t cap)
{
    start(cap);
    lg_json_begin_object(&j);
    lg_json_key(&j, "name");
    lg_json_string(&j, "sensor \"A\"");
    lg_json_key(&j, "values");
    lg_json_begin_array(&j);
    lg_json_int(&j, -3);
    lg_json_uint(&j, 42);
    lg_json_null(&j);
    lg_json_bool(&j, 1);
    lg_json_bool(&j, 0);
    lg_json_begin_object(&j);
    lg_json_end_object(&j);
    lg_json_begin_array(&j);
    lg_json_end_array(&j);
    lg_json_end_array(&j);
    lg_json_key(&j, "");
    lg_json_string(&j, "");
    lg_json_end_object(&j);
}

static const char EXAMPLE[] =
    "{\"name\":\"sensor \\\"A\\\"\",\"values\":[-3,42,null,true,false,{},[]],\"\":\"\"}";

static void test_documents(void)
{
    example(sizeof out);
    CHECK(is(EXAMPLE));
    /* every size too small: the error, and not a byte past the end */
    for (size_t cap = 0; cap < sizeof EXAMPLE - 1; cap++) {
        example(cap);
        CHECK_EQ_INT(lg_json_finish(&j), LG_ERR_BUFFER_TOO_SMALL);
        CHECK(w.len <= cap && out[cap] == '#');
    }
    /* scalars at the top */
    start(sizeof out);
    lg_json_int(&j, INT64_MIN);
    CHECK(is("-9223372036854775808"));
    start(sizeof out);
    lg_json_int(&j, INT64_MAX);
    CHECK(is("9223372036854775807"));
    start(sizeof out);
    lg_json_uint(&j, UINT64_MAX);
    CHECK(is("18446744073709551615"));
    start(sizeof out);
    lg_json_string(&j, NULL);
    CHECK(is("null"));
    /* 32 levels */
    start(sizeof out);
    for (int i = 0; i < 32; i++) lg_json_begin_array(&j);
    for (int i = 0; i < 32; i++) lg_json_end_array(&j);
    CHECK_EQ_INT(lg_json_finish(&j), LG_OK);
    CHECK_EQ_INT(w.len, 64);
}

static void test_escapes(void)
{
    start(sizeof out);
    static const char all[] = "\"\\/\b\f\n\r\t\x01\x1f\x7f end";
    lg_str s = { all, sizeof all - 1 };
    lg_json_str(&j, s);
    CHECK(is("\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f end\""));
    /* NUL inside a slice is a character like any other */
    start(sizeof out);
    lg_str nul = { "a\0b", 3 };
    lg_json_str(&j, nul);
    CHECK(is("\"a\\u0000b\""));
    /* every control character */
    for (unsigned c = 0; c < 0x20; c++) {
        char in = (char)c;
        lg_str one = { &in, 1 };
        start(sizeof out);
        lg_json_str(&j, one);
        CHECK(lg_json_finish(&j) == LG_OK && w.len >= 4 && out[1] == '\\');
    }
    /* keys are escaped the same way */
    start(sizeof out);
    lg_json_begin_object(&j);
    lg_json_key(&j, "a\"b\n");
    lg_json_int(&j, 1);
    lg_json_end_object(&j);
    CHECK(is("{\"a\\\"b\\n\":1}"));
}

static void test_utf8(void)
{
    /* well-formed, kept as they are: 2, 3 and 4 bytes, at the edges */
    static const char *const good[] = { "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf",
                                        "\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80",
                                        "\xf4\x8f\xbf\xbf", "h\xc3\xa9llo" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char want[32];
        snprintf(want, sizeof want, "\"%s\"", good[i]);
        start(sizeof out);
        lg_json_string(&j, good[i]);
        CHECK(is(want));
    }
    /* not UTF-8: overlong, surrogates, past U+10FFFF, lone continuation,
     * a lead byte cut short, bytes never used */
    static const struct { const char *in, *want; } bad[] = {
        { "\xc0\xaf", "\"\\ufffd\\ufffd\"" },
        { "\xc1\xbf", "\"\\ufffd\\ufffd\"" },
        { "\xe0\x9f\xbf", "\"\\ufffd\\ufffd\\ufffd\"" },
        { "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },
        { "\xf0\x8f\xbf\xbf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
        { "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
        { "\xf5\x80", "\"\\ufffd\\ufffd\"" },
        { "\x80", "\"\\ufffd\"" },
        { "a\xe2\x82", "\"a\\ufffd\\ufffd\"" },
        { "\xe2\x82" "a", "\"\\ufffd\\ufffda\"" },
        { "\xff\xfe", "\"\\ufffd\\ufffd\"" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        start(sizeof out);
        lg_json_string(&j, bad[i].in);
        CHECK(is(bad[i].want));
    }
}

static void test_misuse(void)
{
    start(sizeof out); /* a value where an object wants a key */
    lg_json_begin_object(&j);
    lg_json_int(&j, 1);
    CHECK_EQ_INT(lg_json_finish(&j), LG_ERR_INVALID_ARG);
    start(sizeof out); /* a key in an array */
    lg_json_begin_array(&j);
    lg_json_key(&j, "k");
    CHECK_EQ_INT(lg_json_finish(&j), LG_ERR_INVALID_ARG);
    start(sizeof out); /* two keys in a row */
    lg_json_begin_object(&j);
    lg_json_key(&j, "a");
    lg_json_key(&j, "b");
    CHECK_EQ_INT(lg_json_finish(&j), LG_ERR_INVALID_ARG);
    start(sizeof out); /* a key without its value at the end */
    lg_json_begin_object(&j);
    lg_json_key(&j, "a");
    lg_json_end_object(&j);
    CHECK_EQ_INT(lg_json_finish(&j), LG_ERR_INVALID_ARG);
    start(sizeof out); /* ends that do not match */
    lg_json_begin_array(&j);
    lg_json_end_object(&j);
    CHECK_EQ_INT(lg_json_finish(&j), LG_ERR_INVALID_ARG);
    start(sizeof out);
    lg_json_end_array(&j);
    CHECK_EQ_INT(lg_json_finish(&j), LG_ERR_INVALID_ARG);
    start(sizeof out); /* unfinished, and nothing at all */
    lg_json_begin_array(&j);
    CHECK_EQ_INT(lg_json_finish(&j), LG_ERR_INVALID_ARG);
    start(sizeof out);
    CHECK_EQ_INT(lg_json_finish(&j), LG_ERR_INVALID_ARG);
    start(sizeof out); /* two values at the top */
    lg_json_int(&j, 1);
    lg_json_int(&j, 2);
    CHECK_EQ_INT(lg_json_finish(&j), LG_ERR_INVALID_ARG);
    CHECK_EQ_INT(w.len, 1);
    start(sizeof out); /* 33 levels */
    for (int i = 0; i < 33; i++) lg_json_begin_array(&j);
    CHECK_EQ_INT(lg_json_finish(&j), LG_ERR_INVALID_ARG);
    CHECK_EQ_INT(w.len, 32);
    /* after an error nothing more is written */
    start(sizeof out);
    lg_json_begin_object(&j);
    lg_json_int(&j, 1);
    size_t at = w.len;
    lg_json_key(&j, "a");
    lg_json_string(&j, "b");
    lg_json_end_object(&j);
    CHECK_EQ_INT(w.len, at);
}

int main(void)
{
    test_documents();
    test_escapes();
    test_utf8();
    test_misuse();
    TEST_MAIN_END();
}
