/* Body decoding: Content-Length, chunked (sizes, extensions, trailers, every
 * rejection) and close-delimited bodies, each fed whole, split at every
 * offset, a byte at a time and truncated at every offset, at a guard page
 * (see body_harness.h). */
#include "body_harness.h"

#define IN(s) s, sizeof(s) - 1
#define ALL(s) (int)(sizeof(s) - 1)
#define NOBODY "", 0

/* A chunked body: the input, where it ends, the data it carries. */
#define CH(nm, in, end, body, tr) { nm, LG_FRAMING_CHUNKED, 0, IN(in), end, IN(body), tr, 0 }
/* A chunked body that must fail with err after delivering `body`. */
#define CHBAD(nm, in, err, body) { nm, LG_FRAMING_CHUNKED, 0, IN(in), err, IN(body), NULL, 0 }
#define LEN(nm, cl, in, end, body) { nm, LG_FRAMING_LENGTH, cl, IN(in), end, IN(body), NULL, 0 }

static const body_case cases[] = {
    /* --- Content-Length --- */
    LEN("exact length", 5, "hello", 5, "hello"),
    LEN("one byte", 1, "x", 1, "x"),
    LEN("next message after the body", 5, "helloGET / HTTP/1.1\r\n\r\n", 5, "hello"),
    LEN("body bytes that look like a head", 19, "HTTP/1.1 200 OK\r\n\r\nX", 19, "HTTP/1.1 200 OK\r\n\r\n"),
    LEN("length zero", 0, "GET / HTTP/1.1\r\n", 0, ""),
    LEN("length longer than the input", 100, "only part of it", BODY_OPEN, "only part of it"),

    /* --- no body, tunnel, close-delimited --- */
    { "no body", LG_FRAMING_NONE, 0, IN("GET / HTTP/1.1\r\n\r\n"), 0, NOBODY, NULL, 0 },
    /* After CONNECT 2xx or 101 the bytes belong to the tunnel, not a body. */
    { "tunnel", LG_FRAMING_TUNNEL, 0, IN("\x16\x03\x01\x02\x00"), 0, NOBODY, NULL, 0 },
    { "close-delimited", LG_FRAMING_CLOSE, 0, IN("all of this\r\n0\r\n\r\nis data"), BODY_OPEN,
      IN("all of this\r\n0\r\n\r\nis data"), NULL, 0 },
    { "close-delimited, nothing yet", LG_FRAMING_CLOSE, 0, IN(""), BODY_OPEN, NOBODY, NULL, 0 },

    /* --- chunked: sizes --- */
    CH("single chunk", "5\r\nhello\r\n0\r\n\r\n", ALL("5\r\nhello\r\n0\r\n\r\n"), "hello", NULL),
    CH("several chunks", "5\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\n\r\n",
       ALL("5\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\n\r\n"), "hello world!", NULL),
    CH("empty body", "0\r\n\r\n", 5, "", NULL),
    CH("uppercase hex", "A\r\n0123456789\r\n0\r\n\r\n", ALL("A\r\n0123456789\r\n0\r\n\r\n"), "0123456789", NULL),
    CH("lowercase hex", "a\r\n0123456789\r\n0\r\n\r\n", ALL("a\r\n0123456789\r\n0\r\n\r\n"), "0123456789", NULL),
    CH("mixed-case hex", "1F\r\n0123456789abcdef0123456789abcde\r\n0\r\n\r\n",
       ALL("1F\r\n0123456789abcdef0123456789abcde\r\n0\r\n\r\n"), "0123456789abcdef0123456789abcde", NULL),
    CH("leading zeros", "0005\r\nhello\r\n000\r\n\r\n", ALL("0005\r\nhello\r\n000\r\n\r\n"), "hello", NULL),
    /* Only significant digits count toward the 63-bit limit. */
    CH("more than 16 digits, few significant", "000000000000000000000005\r\nhello\r\n0\r\n\r\n",
       ALL("000000000000000000000005\r\nhello\r\n0\r\n\r\n"), "hello", NULL),
    CH("largest size", "7fffffffffffffff\r\nabc", BODY_OPEN, "abc", NULL),
    CH("largest size, leading zeros", "00007FFFFFFFFFFFFFFF\r\nabc", BODY_OPEN, "abc", NULL),
    CH("data with CRLF inside", "4\r\n\r\n\r\n\r\n0\r\n\r\n", ALL("4\r\n\r\n\r\n\r\n0\r\n\r\n"), "\r\n\r\n", NULL),
    CH("data with NUL inside", "3\r\na\0b\r\n0\r\n\r\n", ALL("3\r\na\0b\r\n0\r\n\r\n"), "a\0b", NULL),

    /* --- chunked: extensions (RFC 9112 7.1.1), ignored but checked --- */
    CH("extension without value", "5;name\r\nhello\r\n0\r\n\r\n", ALL("5;name\r\nhello\r\n0\r\n\r\n"), "hello", NULL),
    CH("extension with value", "5;name=value\r\nhello\r\n0\r\n\r\n", ALL("5;name=value\r\nhello\r\n0\r\n\r\n"),
       "hello", NULL),
    CH("several extensions", "5;a=1;b;c=2\r\nhello\r\n0\r\n\r\n", ALL("5;a=1;b;c=2\r\nhello\r\n0\r\n\r\n"), "hello",
       NULL),
    CH("quoted-string value", "5;q=\"a; b=\\\"c\\\"\"\r\nhello\r\n0\r\n\r\n",
       ALL("5;q=\"a; b=\\\"c\\\"\"\r\nhello\r\n0\r\n\r\n"), "hello", NULL),
    CH("BWS before ;", "5 ;name\r\nhello\r\n0\r\n\r\n", ALL("5 ;name\r\nhello\r\n0\r\n\r\n"), "hello", NULL),
    CH("tabs and spaces before ;", "5 \t ;a=b\r\nhello\r\n0\r\n\r\n", ALL("5 \t ;a=b\r\nhello\r\n0\r\n\r\n"),
       "hello", NULL),
    CH("extension on the last chunk", "5\r\nhello\r\n0;end=1\r\n\r\n", ALL("5\r\nhello\r\n0;end=1\r\n\r\n"), "hello",
       NULL),
    CH("obs-text in extension", "5;n=caf\xc3\xa9\r\nhello\r\n0\r\n\r\n", ALL("5;n=caf\xc3\xa9\r\nhello\r\n0\r\n\r\n"),
       "hello", NULL),

    /* --- chunked: trailers (RFC 9112 7.1.2) --- */
    CH("trailers", "5\r\nhello\r\n0\r\nExpires: never\r\nX-Sum:  abc \t\r\n\r\n",
       ALL("5\r\nhello\r\n0\r\nExpires: never\r\nX-Sum:  abc \t\r\n\r\n"), "hello", "Expires: never\nX-Sum: abc\n"),
    CH("empty trailer value", "0\r\nX:\r\n\r\n", ALL("0\r\nX:\r\n\r\n"), "", "X: \n"),
    CH("next message after the last chunk", "5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 15, "hello",
       NULL),
    CH("next message after trailers", "1\r\nx\r\n0\r\nT: v\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", 17, "x", "T: v\n"),
    CH("next message starts with CRLF", "0\r\n\r\n\r\n\r\n", 5, "", NULL),
    { "trailers exactly at their limit", LG_FRAMING_CHUNKED, 0, IN("0\r\nX-Trailer: 0123456789abcdef\r\n\r\n"),
      ALL("0\r\nX-Trailer: 0123456789abcdef\r\n\r\n"), NOBODY, "X-Trailer: 0123456789abcdef\n", 31 },
    { "trailers one byte over their limit", LG_FRAMING_CHUNKED, 0,
      IN("0\r\nX-Trailer: 0123456789abcdef\r\n\r\n"), LG_ERR_HEADERS_TOO_LARGE, NOBODY, NULL, 30 },
    { "trailers over their limit, more to come", LG_FRAMING_CHUNKED, 0,
      IN("2\r\nhi\r\n0\r\nX-Trailer: 0123456789abcdef\r\nY: 1\r\n"), LG_ERR_HEADERS_TOO_LARGE, IN("hi"), NULL, 16 },
    CHBAD("space before colon in trailer", "0\r\nX : v\r\n\r\n", LG_ERR_SPACE_BEFORE_COLON, ""),
    CHBAD("control char in trailer", "1\r\na\r\n0\r\nX: a\x01\r\n\r\n", LG_ERR_HEADER_VALUE, "a"),
    CHBAD("obs-fold in trailers", "0\r\nX: a\r\n b\r\n\r\n", LG_ERR_OBS_FOLD, ""),
    CHBAD("bad name in trailers", "0\r\nX@Y: a\r\n\r\n", LG_ERR_HEADER_NAME, ""),
    CHBAD("bare LF ends a trailer", "0\r\nX: a\n\r\n", LG_ERR_LINE_ENDING, ""),
    CHBAD("bare LF ends the trailers", "0\r\nX: a\r\n\n", LG_ERR_LINE_ENDING, ""),
    CHBAD("bare LF as the empty trailer line", "0\r\n\n", LG_ERR_LINE_ENDING, ""),
    CHBAD("bare CR as the empty trailer line", "0\r\n\rX", LG_ERR_LINE_ENDING, ""),

    /* --- chunked: malformed sizes --- */
    CHBAD("empty size", "\r\nhello\r\n0\r\n\r\n", LG_ERR_CHUNK_SIZE, ""),
    CHBAD("non-hex size", "g\r\nhello\r\n0\r\n\r\n", LG_ERR_CHUNK_SIZE, ""),
    CHBAD("0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", LG_ERR_CHUNK_SIZE, ""),
    CHBAD("negative size", "-1\r\nx\r\n0\r\n\r\n", LG_ERR_CHUNK_SIZE, ""),
    CHBAD("plus sign", "+5\r\nhello\r\n0\r\n\r\n", LG_ERR_CHUNK_SIZE, ""),
    CHBAD("leading space", " 5\r\nhello\r\n0\r\n\r\n", LG_ERR_CHUNK_SIZE, ""),
    CHBAD("space without ;", "5 \r\nhello\r\n0\r\n\r\n", LG_ERR_CHUNK_SIZE, ""),
    CHBAD("two numbers", "5 5\r\nhello\r\n0\r\n\r\n", LG_ERR_CHUNK_SIZE, ""),
    CHBAD("bad second size", "1\r\na\r\nz\r\n", LG_ERR_CHUNK_SIZE, "a"),
    CHBAD("16 significant digits overflow", "8000000000000000\r\n", LG_ERR_CHUNK_SIZE_OVERFLOW, ""),
    CHBAD("17 significant digits", "10000000000000000\r\n", LG_ERR_CHUNK_SIZE_OVERFLOW, ""),
    CHBAD("all f", "ffffffffffffffffffff\r\n", LG_ERR_CHUNK_SIZE_OVERFLOW, ""),
    CHBAD("leading zeros, then too many digits", "0000010000000000000000\r\n", LG_ERR_CHUNK_SIZE_OVERFLOW, ""),

    /* --- chunked: extensions and line endings --- */
    CHBAD("control char in extension", "5;a\x01=b\r\nhello\r\n0\r\n\r\n", LG_ERR_CHUNK_EXTENSION, ""),
    CHBAD("NUL in extension", "5;a\0\r\nhello\r\n0\r\n\r\n", LG_ERR_CHUNK_EXTENSION, ""),
    CHBAD("DEL in extension", "5;a\x7f\r\nhello\r\n0\r\n\r\n", LG_ERR_CHUNK_EXTENSION, ""),
    CHBAD("bare LF after size", "5\nhello\r\n0\r\n\r\n", LG_ERR_LINE_ENDING, ""),
    CHBAD("bare CR after size", "5\rhello\r\n0\r\n\r\n", LG_ERR_LINE_ENDING, ""),
    CHBAD("bare LF after extension", "5;a=b\nhello\r\n0\r\n\r\n", LG_ERR_LINE_ENDING, ""),
    CHBAD("bare CR after extension", "5;a=b\rhello\r\n0\r\n\r\n", LG_ERR_LINE_ENDING, ""),
    CHBAD("bare LF after last chunk size", "0\n\r\n", LG_ERR_LINE_ENDING, ""),
    CHBAD("bare LF after BWS", "5 \nhello\r\n0\r\n\r\n", LG_ERR_CHUNK_SIZE, ""),

    /* --- chunked: the CRLF after chunk data --- */
    CHBAD("data longer than its size", "5\r\nhello world\r\n0\r\n\r\n", LG_ERR_CHUNK_DATA_END, "hello"),
    CHBAD("no CRLF after data", "5\r\nhello0\r\n\r\n", LG_ERR_CHUNK_DATA_END, "hello"),
    CHBAD("bare LF after data", "5\r\nhello\n0\r\n\r\n", LG_ERR_LINE_ENDING, "hello"),
    CHBAD("bare CR after data", "5\r\nhello\r0\r\n\r\n", LG_ERR_LINE_ENDING, "hello"),
    CHBAD("CR CR after data", "5\r\nhello\r\r\n0\r\n\r\n", LG_ERR_LINE_ENDING, "hello"),
    CHBAD("second chunk bad end", "1\r\na\r\n1\r\nbc\r\n", LG_ERR_CHUNK_DATA_END, "ab"),
};

/* A chunk line of exactly `line` bytes before its CRLF (size, then an
 * extension padding it), a 1-byte chunk and the last chunk. */
static void chunk_line_case(size_t line, int expect_ok)
{
    char *in = malloc(line + 32);
    size_t n = 0;
    in[n++] = '1';
    in[n++] = ';';
    while (n < line) in[n++] = 'a';
    memcpy(in + n, "\r\nX\r\n0\r\n\r\n", 10);
    n += 10;
    char name[64];
    snprintf(name, sizeof name, "chunk line of %lu bytes", (unsigned long)line);
    body_case c = { name, LG_FRAMING_CHUNKED, 0, in, n, expect_ok ? (int)n : LG_ERR_CHUNK_EXTENSION,
                    expect_ok ? "X" : "", expect_ok ? 1 : 0, NULL, 0 };
    int bad = feed_body_every_way(&c);
    test_checks++;
    if (bad) {
        test_failures++;
        fprintf(stderr, "case \"%s\" failed\n", name);
    }
    free(in);
}

/* Leading zeros count toward the line length too: the line is bounded, not
 * its number. */
static void long_zeros_case(void)
{
    char in[LG_MAX_CHUNK_LINE + 16];
    memset(in, '0', LG_MAX_CHUNK_LINE + 1);
    memcpy(in + LG_MAX_CHUNK_LINE + 1, "5\r\nhello", 8);
    body_case c = { "chunk size with too many leading zeros", LG_FRAMING_CHUNKED, 0, in,
                    LG_MAX_CHUNK_LINE + 9, LG_ERR_CHUNK_EXTENSION, "", 0, NULL, 0 };
    test_checks++;
    if (feed_body_every_way(&c)) {
        test_failures++;
        fprintf(stderr, "case \"%s\" failed\n", c.name);
    }
}

/* A body longer than the 16-byte vectors and than the split points, so that
 * data arrives in many shapes. */
static void long_body_cases(void)
{
    static char body[0x100 + 0x200 + 0xbc], in[sizeof body + 64];
    for (size_t i = 0; i < sizeof body; i++) body[i] = (char)('a' + i % 26);
    memcpy(in, body, sizeof body);
    memcpy(in + sizeof body, "NEXT", 4);
    body_case len = { "long length body", LG_FRAMING_LENGTH, sizeof body, in, sizeof body + 4, (int)sizeof body,
                      body, sizeof body, NULL, 0 };
    test_checks++;
    if (feed_body_every_way(&len)) {
        test_failures++;
        fprintf(stderr, "case \"%s\" failed\n", len.name);
    }
    /* the same bytes in chunks of 0x100, 0x200 and 0xbc */
    size_t n = 0;
    n += (size_t)sprintf(in + n, "100\r\n");
    memcpy(in + n, body, 0x100);
    n += 0x100;
    n += (size_t)sprintf(in + n, "\r\n200;x=y\r\n");
    memcpy(in + n, body + 0x100, 0x200);
    n += 0x200;
    n += (size_t)sprintf(in + n, "\r\nBc\r\n");
    memcpy(in + n, body + 0x300, 0xbc);
    n += 0xbc;
    n += (size_t)sprintf(in + n, "\r\n0\r\n\r\n");
    body_case ch = { "long chunked body", LG_FRAMING_CHUNKED, 0, in, n, (int)n, body, sizeof body, NULL, 0 };
    test_checks++;
    if (feed_body_every_way(&ch)) {
        test_failures++;
        fprintf(stderr, "case \"%s\" failed\n", ch.name);
    }
}

/* The default trailer limit applies when max_trailer_bytes is 0. */
static void default_trailer_limit_case(void)
{
    size_t n = 0, cap = LG_DEFAULT_MAX_TRAILERS + 64;
    char *in = malloc(cap);
    n += (size_t)sprintf(in, "0\r\nX-Big: ");
    while (n < LG_DEFAULT_MAX_TRAILERS + 8) in[n++] = 'v';
    memcpy(in + n, "\r\n\r\n", 4);
    n += 4;
    body_case c = { "trailers over the default limit", LG_FRAMING_CHUNKED, 0, in, n, LG_ERR_HEADERS_TOO_LARGE, "",
                    0, NULL, 0 };
    test_checks++;
    if (feed_body_every_way(&c)) {
        test_failures++;
        fprintf(stderr, "case \"%s\" failed\n", c.name);
    }
    free(in);
}

/* More trailers than the caller's array holds is an error when they are
 * kept, and nothing when they are skipped. */
static void too_many_trailers(void)
{
    static const char in[] = "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    lg_head head = { .framing = LG_FRAMING_CHUNKED };
    lg_header tv[3];
    lg_head t = { .headers = tv, .max_headers = 2 };
    lg_body_reader r;
    size_t used;
    lg_str d;

    lg_body_reader_init(&r, &head);
    r.trailers = &t;
    CHECK_EQ_INT(lg_body_read(&r, in, sizeof in - 1, &used, &d), LG_ERR_TOO_MANY_HEADERS);

    lg_body_reader_init(&r, &head);
    CHECK_EQ_INT(lg_body_read(&r, in, sizeof in - 1, &used, &d), LG_BODY_DONE);
    CHECK_EQ_INT(used, sizeof in - 1);

    t.max_headers = 3;
    /* Trailers fill the headers; the rest of the head is left alone. */
    t.status = 299;
    t.framing = LG_FRAMING_CLOSE;
    t.reason = (lg_str)LG_STR("kept");
    lg_body_reader_init(&r, &head);
    r.trailers = &t;
    CHECK_EQ_INT(lg_body_read(&r, in, sizeof in - 1, &used, &d), LG_BODY_DONE);
    CHECK_EQ_INT(t.num_headers, 3);
    CHECK_STR(tv[2].name, "C");
    CHECK_STR(tv[2].value, "3");
    CHECK_EQ_INT(t.status, 299);
    CHECK_EQ_INT(t.framing, LG_FRAMING_CLOSE);
    CHECK_STR(t.reason, "kept");
}

/* The reader follows the head it is given; init resets everything. */
static void init_from_heads(void)
{
    lg_header hv[4];
    lg_head h = { .headers = hv, .max_headers = 4 };
    lg_body_reader r;
    size_t used;
    lg_str d;

    static const char head_req[] = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET";
    int n = lg_parse_request(&h, head_req, sizeof head_req - 1, 0, 0);
    CHECK(n > 0);
    lg_body_reader_init(&r, &h);
    CHECK(!lg_body_reader_done(&r));
    CHECK_EQ_INT(lg_body_reader_eof(&r), LG_ERR_CLOSED_EARLY);
    CHECK_EQ_INT(lg_body_read(&r, head_req + n, sizeof head_req - 1 - (size_t)n, &used, &d), LG_BODY_DATA);
    CHECK_STR(d, "abc");
    CHECK_EQ_INT(lg_body_read(&r, head_req + n + 3, 3, &used, &d), LG_BODY_DONE);
    CHECK_EQ_INT(used, 0);

    /* a GET without a body is complete at once */
    static const char get[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    CHECK(lg_parse_request(&h, get, sizeof get - 1, 0, 0) > 0);
    lg_body_reader_init(&r, &h);
    CHECK(lg_body_reader_done(&r));
    CHECK_EQ_INT(lg_body_reader_eof(&r), LG_OK);

    /* a response to HEAD has none either, whatever its length says */
    static const char head_resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
    CHECK(lg_parse_response(&h, head_resp, sizeof head_resp - 1, 0, 0, LG_METHOD_HEAD) > 0);
    lg_body_reader_init(&r, &h);
    CHECK(lg_body_reader_done(&r));

    /* close-delimited: EOF is the proper end, but the body is never "done" */
    static const char close_resp[] = "HTTP/1.1 200 OK\r\n\r\n";
    CHECK(lg_parse_response(&h, close_resp, sizeof close_resp - 1, 0, 0, LG_METHOD_GET) > 0);
    lg_body_reader_init(&r, &h);
    CHECK(!lg_body_reader_done(&r));
    CHECK_EQ_INT(lg_body_reader_eof(&r), LG_OK);
}

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        test_checks++;
        if (feed_body_every_way(&cases[i])) {
            test_failures++;
            fprintf(stderr, "case \"%s\" failed\n", cases[i].name);
        }
    }
    /* LG_MAX_CHUNK_LINE bounds the size and its extensions, not the CRLF. */
    chunk_line_case(LG_MAX_CHUNK_LINE, 1);
    chunk_line_case(LG_MAX_CHUNK_LINE + 1, 0);
    chunk_line_case(3000, 0);
    long_zeros_case();
    long_body_cases();
    default_trailer_limit_case();
    too_many_trailers();
    init_from_heads();
    TEST_MAIN_END();
}
