/* The serialisers: exact bytes of every line they write; refusal of any name
 * or value that would split a message (nothing more is written after it);
 * LG_ERR_BUFFER_TOO_SMALL at every capacity short of the output, with the
 * buffer at a guard page so a write past it crashes; and round trips: what
 * the writer emits, the parser accepts with the same values. Also the
 * codec's helpers every layer shares: the case-insensitive comparison
 * (lg__ieq) and the decimal formatter (lg__format_dec). */
#include "body_harness.h"
#include "codec_harness.h"
#include "http1_internal.h"

#define EXPECT_OUT(w, lit)                                                                     \
    do {                                                                                       \
        lg_str out_ = { (w).buf, (w).len };                                                    \
        CHECK_EQ_INT((w).err, 0);                                                              \
        CHECK_STR(out_, lit);                                                                  \
    } while (0)

static void test_request_line(void)
{
    char buf[128];
    lg_writer w;
    lg_writer_init(&w, buf, sizeof buf);
    lg_write_request_line(&w, "GET", LG_STR("/items/42?x=1&y=%20"));
    EXPECT_OUT(w, "GET /items/42?x=1&y=%20 HTTP/1.1\r\n");

    lg_writer_init(&w, buf, sizeof buf);
    lg_write_request_line(&w, "CONNECT", LG_STR("example.com:443"));
    lg_write_request_line(&w, "OPTIONS", LG_STR("*"));
    EXPECT_OUT(w, "CONNECT example.com:443 HTTP/1.1\r\nOPTIONS * HTTP/1.1\r\n");

    /* A method that is not a token, or a target that is empty or holds
     * anything but visible ASCII, would change the request line's meaning:
     * refused, and nothing is written. */
    static const char *const bad_methods[] = { "", "G T", "GET\r\n", "G(T", "G\x80T", "G:T" };
    for (size_t i = 0; i < sizeof bad_methods / sizeof bad_methods[0]; i++) {
        lg_writer_init(&w, buf, sizeof buf);
        lg_write_request_line(&w, bad_methods[i], LG_STR("/"));
        CHECK_EQ_INT(w.err, LG_ERR_INVALID_ARG);
        CHECK_EQ_INT(w.len, 0);
    }
    static const lg_str bad_targets[] = { LG_STR(""), LG_STR("/a b"), LG_STR("/a\r\nX: y"), LG_STR("/a\nb"),
                                          LG_STR("/a\0b"), LG_STR("/a\tb"), LG_STR("/a\x7f"),
                                          LG_STR("/caf\xc3\xa9") };
    for (size_t i = 0; i < sizeof bad_targets / sizeof bad_targets[0]; i++) {
        lg_writer_init(&w, buf, sizeof buf);
        lg_write_request_line(&w, "GET", bad_targets[i]);
        CHECK_EQ_INT(w.err, LG_ERR_INVALID_ARG);
        CHECK_EQ_INT(w.len, 0);
    }
}

static void test_status_line(void)
{
    char buf[128];
    lg_writer w;
    lg_writer_init(&w, buf, sizeof buf);
    lg_write_status_line(&w, 1, 200, NULL);
    EXPECT_OUT(w, "HTTP/1.1 200 OK\r\n");

    lg_writer_init(&w, buf, sizeof buf);
    lg_write_status_line(&w, 0, 404, NULL);
    EXPECT_OUT(w, "HTTP/1.0 404 Not Found\r\n");

    lg_writer_init(&w, buf, sizeof buf);
    lg_write_status_line(&w, 1, 599, NULL);
    EXPECT_OUT(w, "HTTP/1.1 599 Unknown\r\n");

    lg_writer_init(&w, buf, sizeof buf);
    lg_write_status_line(&w, 1, 200, "Tr\xc3\xa8s\tbien");
    EXPECT_OUT(w, "HTTP/1.1 200 Tr\xc3\xa8s\tbien\r\n");

    lg_writer_init(&w, buf, sizeof buf);
    lg_write_status_line(&w, 1, 204, "");
    EXPECT_OUT(w, "HTTP/1.1 204 \r\n");

    static const int bad_status[] = { -200, 0, 99, 1000, 2000 };
    for (size_t i = 0; i < sizeof bad_status / sizeof bad_status[0]; i++) {
        lg_writer_init(&w, buf, sizeof buf);
        lg_write_status_line(&w, 1, bad_status[i], NULL);
        CHECK_EQ_INT(w.err, LG_ERR_INVALID_ARG);
        CHECK_EQ_INT(w.len, 0);
    }
    static const int bad_minor[] = { -1, 2, 9 };
    for (size_t i = 0; i < sizeof bad_minor / sizeof bad_minor[0]; i++) {
        lg_writer_init(&w, buf, sizeof buf);
        lg_write_status_line(&w, bad_minor[i], 200, NULL);
        CHECK_EQ_INT(w.err, LG_ERR_INVALID_ARG);
        CHECK_EQ_INT(w.len, 0);
    }
    /* A reason carrying CR or LF would start a header of the caller's. */
    static const char *const bad_reasons[] = { "OK\r\nSet-Cookie: x=1", "O\nK", "O\rK", "O\x01K", "OK\x7f" };
    for (size_t i = 0; i < sizeof bad_reasons / sizeof bad_reasons[0]; i++) {
        lg_writer_init(&w, buf, sizeof buf);
        lg_write_status_line(&w, 1, 200, bad_reasons[i]);
        CHECK_EQ_INT(w.err, LG_ERR_HEADER_VALUE);
        CHECK_EQ_INT(w.len, 0);
    }
}

static void test_status_reasons(void)
{
    static const struct { int status; const char *reason; } known[] = {
        { 100, "Continue" }, { 101, "Switching Protocols" }, { 200, "OK" }, { 201, "Created" },
        { 204, "No Content" }, { 206, "Partial Content" }, { 301, "Moved Permanently" }, { 304, "Not Modified" },
        { 400, "Bad Request" }, { 404, "Not Found" }, { 413, "Content Too Large" }, { 414, "URI Too Long" },
        { 417, "Expectation Failed" }, { 426, "Upgrade Required" }, { 431, "Request Header Fields Too Large" },
        { 500, "Internal Server Error" }, { 501, "Not Implemented" }, { 505, "HTTP Version Not Supported" },
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        CHECK(strcmp(lg_status_reason(known[i].status), known[i].reason) == 0);
    CHECK(strcmp(lg_status_reason(299), "Unknown") == 0);
    CHECK(strcmp(lg_status_reason(0), "Unknown") == 0);
    CHECK(strcmp(lg_status_reason(-1), "Unknown") == 0);
    /* Every status a server can answer a failed parse with has its name. */
    for (int e = -1; e >= -70; e--) {
        int st = lg_err_http_status(e);
        if (st) CHECK(strcmp(lg_status_reason(st), "Unknown") != 0);
    }
}

static void test_headers(void)
{
    char buf[256];
    lg_writer w;
    lg_writer_init(&w, buf, sizeof buf);
    lg_write_header(&w, "Content-Type", "text/plain; charset=utf-8");
    lg_write_header(&w, "X-Empty", "");
    lg_write_header(&w, "X-Tab", "a\tb caf\xc3\xa9");
    lg_write_header_str(&w, LG_STR("X-Str"), LG_STR("v"));
    lg_write_header_uint(&w, "Content-Length", 0);
    lg_write_header_uint(&w, "X-Big", UINT64_MAX);
    lg_write_header_uint(&w, "X-13", 13);
    lg_write_end_head(&w);
    EXPECT_OUT(w, "Content-Type: text/plain; charset=utf-8\r\nX-Empty: \r\nX-Tab: a\tb caf\xc3\xa9\r\n"
                  "X-Str: v\r\nContent-Length: 0\r\nX-Big: 18446744073709551615\r\nX-13: 13\r\n\r\n");
}

/* Response splitting: a value or name from user data that carries CR, LF or
 * NUL, or a name that is not a token, sets err and ends the message: nothing
 * more is written, by this call or any later one, and the first error is
 * the one kept. */
static void test_header_injection(void)
{
    static const lg_str bad_values[] = { LG_STR("a\r\nSet-Cookie: admin=1"), LG_STR("a\nb"), LG_STR("a\rb"),
                                         LG_STR("a\0b"), LG_STR("\x01"), LG_STR("a\x7f"), LG_STR("\r\n\r\n") };
    static const lg_str bad_names[] = { LG_STR(""), LG_STR("X Y"), LG_STR("X:"), LG_STR("X\r\nY"), LG_STR("X\0"),
                                        LG_STR("caf\xc3\xa9"), LG_STR("(x)"), LG_STR("X\t") };
    char buf[256];
    lg_writer w;
    for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++) {
        lg_writer_init(&w, buf, sizeof buf);
        lg_write_status_line(&w, 1, 200, NULL);
        size_t before = w.len;
        lg_write_header_str(&w, LG_STR("X-User"), bad_values[i]);
        CHECK_EQ_INT(w.err, LG_ERR_HEADER_VALUE);
        CHECK_EQ_INT(w.len, before);
        lg_write_header(&w, "X-Ok", "fine");
        lg_write_header_str(&w, LG_STR("Bad Name"), LG_STR("v"));
        lg_write_header_uint(&w, "Content-Length", 5);
        lg_write_end_head(&w);
        lg_write_bytes(&w, "body", 4);
        lg_write_chunk_start(&w, 5);
        lg_write_chunk_end(&w);
        lg_write_last_chunk(&w, NULL, 0);
        lg_write_status_line(&w, 1, 200, NULL);
        lg_write_request_line(&w, "GET", LG_STR("/"));
        CHECK_EQ_INT(w.err, LG_ERR_HEADER_VALUE);
        CHECK_EQ_INT(w.len, before);
    }
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        lg_writer_init(&w, buf, sizeof buf);
        lg_write_header_str(&w, bad_names[i], LG_STR("v"));
        CHECK_EQ_INT(w.err, LG_ERR_HEADER_NAME);
        CHECK_EQ_INT(w.len, 0);
        lg_write_header_str(&w, LG_STR("X"), LG_STR("a\r\n"));
        lg_write_end_head(&w);
        CHECK_EQ_INT(w.err, LG_ERR_HEADER_NAME);
        CHECK_EQ_INT(w.len, 0);
    }
    lg_writer_init(&w, buf, sizeof buf);
    lg_write_header_uint(&w, "Content-Length\r\nX", 1);
    CHECK_EQ_INT(w.err, LG_ERR_HEADER_NAME);
    CHECK_EQ_INT(w.len, 0);

    /* A trailer is a field line too. */
    lg_header tr[2] = { { LG_STR("X-Sum"), LG_STR("1") }, { LG_STR("X-Evil"), LG_STR("a\r\n\r\nHTTP/1.1 200") } };
    lg_writer_init(&w, buf, sizeof buf);
    lg_write_last_chunk(&w, tr, 2);
    CHECK_EQ_INT(w.err, LG_ERR_HEADER_VALUE);
    lg_str out = { w.buf, w.len };
    CHECK_STR(out, "0\r\nX-Sum: 1\r\n"); /* no empty line: the message is not complete */
}

static void test_chunks(void)
{
    char buf[256];
    lg_writer w;
    lg_writer_init(&w, buf, sizeof buf);
    lg_write_chunk_start(&w, 0x1a2b);
    lg_write_chunk_end(&w);
    lg_write_chunk_start(&w, 1);
    lg_write_chunk_start(&w, 16);
    lg_write_chunk_start(&w, (size_t)UINT64_C(0xffffffff));
    EXPECT_OUT(w, "1a2b\r\n\r\n1\r\n10\r\nffffffff\r\n");

    lg_writer_init(&w, buf, sizeof buf);
    lg_write_last_chunk(&w, NULL, 0);
    EXPECT_OUT(w, "0\r\n\r\n");

    lg_header tr[2] = { { LG_STR("X-Checksum"), LG_STR("abc") }, { LG_STR("Expires"), LG_STR("") } };
    lg_writer_init(&w, buf, sizeof buf);
    lg_write_last_chunk(&w, tr, 2);
    EXPECT_OUT(w, "0\r\nX-Checksum: abc\r\nExpires: \r\n\r\n");
}

/* A whole exchange's worth of writer calls, for the capacity test. */
static void write_everything(lg_writer *w)
{
    lg_header tr[1] = { { LG_STR("X-Sum"), LG_STR("42") } };
    lg_write_status_line(w, 1, 200, NULL);
    lg_write_header(w, "Content-Type", "text/plain");
    lg_write_header_str(w, LG_STR("X-Id"), LG_STR("7"));
    lg_write_header_uint(w, "X-Count", 1234567);
    lg_write_header(w, "Transfer-Encoding", "chunked");
    lg_write_end_head(w);
    lg_write_chunk_start(w, 5);
    lg_write_bytes(w, "hello", 5);
    lg_write_chunk_end(w);
    lg_write_last_chunk(w, tr, 1);
    lg_write_request_line(w, "GET", LG_STR("/next"));
}

/* For every capacity short of the output: LG_ERR_BUFFER_TOO_SMALL, a prefix
 * of the output and nothing past the buffer (which ends at a guard page);
 * the error then sticks. At the exact capacity, all of it. */
static void test_every_capacity(void)
{
    char full[512];
    lg_writer w;
    lg_writer_init(&w, full, sizeof full);
    write_everything(&w);
    CHECK_EQ_INT(w.err, 0);
    size_t n = w.len;

    guard_buf g;
    guard_init(&g, n);
    int bad = 0;
    for (size_t cap = 0; cap <= n; cap++) {
        char *buf = g.base + g.readable - cap;
        lg_writer_init(&w, buf, cap);
        write_everything(&w);
        int ok;
        if (cap == n) {
            ok = w.err == 0 && w.len == n && memcmp(buf, full, n) == 0;
        } else {
            ok = w.err == LG_ERR_BUFFER_TOO_SMALL && w.len <= cap && memcmp(buf, full, w.len) == 0;
            size_t len = w.len;
            lg_write_bytes(&w, "", 0);
            lg_write_end_head(&w);
            ok = ok && w.err == LG_ERR_BUFFER_TOO_SMALL && w.len == len;
        }
        test_checks++;
        if (!ok) {
            test_failures++;
            if (bad++ < 3) fprintf(stderr, "capacity %lu of %lu: err %d, len %lu\n", (unsigned long)cap,
                                  (unsigned long)n, w.err, (unsigned long)w.len);
        }
    }
    guard_free(&g);

    /* A write that does not fit writes nothing, even where part would fit. */
    char small[8];
    lg_writer_init(&w, small, sizeof small);
    lg_write_bytes(&w, "abc", 3);
    lg_write_bytes(&w, "0123456789", 10);
    CHECK_EQ_INT(w.err, LG_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(w.len, 3);
    lg_write_bytes(&w, "d", 1); /* would fit, but the error sticks */
    CHECK_EQ_INT(w.len, 3);
}

/* ---------------------------------------------------------------------------
 * Round trips
 * ------------------------------------------------------------------------ */

static void test_request_round_trip(void)
{
    static const lg_header hdrs[] = {
        { LG_STR("Host"), LG_STR("example.com:8080") },
        { LG_STR("User-Agent"), LG_STR("linger/0.1 (test)") },
        { LG_STR("Accept"), LG_STR("*/*") },
        { LG_STR("X-Tab"), LG_STR("a\tb") },
        { LG_STR("X-Empty"), LG_STR("") },
        { LG_STR("X-Latin"), LG_STR("caf\xc3\xa9") },
    };
    char buf[512];
    lg_writer w;
    lg_writer_init(&w, buf, sizeof buf);
    lg_write_request_line(&w, "PUT", LG_STR("/items/42?x=%20"));
    for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) lg_write_header_str(&w, hdrs[i].name, hdrs[i].value);
    lg_write_header_uint(&w, "Content-Length", 11);
    lg_write_end_head(&w);
    size_t head_len = w.len;
    lg_write_bytes(&w, "hello world", 11);
    CHECK_EQ_INT(w.err, 0);

    lg_header hv[16];
    lg_head h;
    int bad = feed_head_every_way(parse_req_adapter, "request round trip", buf, w.len, 0, 0, (int)head_len, &h, hv,
                                  16);
    CHECK_EQ_INT(bad, 0);
    CHECK_STR(h.method, "PUT");
    CHECK_EQ_INT(h.method_id, LG_METHOD_PUT);
    CHECK_STR(h.target, "/items/42?x=%20");
    CHECK_STR(h.host, "example.com:8080");
    CHECK_EQ_INT(h.framing, LG_FRAMING_LENGTH);
    CHECK_EQ_INT(h.content_length, 11);
    CHECK_EQ_INT(h.num_headers, sizeof hdrs / sizeof hdrs[0] + 1);
    for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0] && i < h.num_headers; i++) {
        CHECK(hv[i].name.len == hdrs[i].name.len && memcmp(hv[i].name.ptr, hdrs[i].name.ptr, hdrs[i].name.len) == 0);
        CHECK(hv[i].value.len == hdrs[i].value.len &&
              memcmp(hv[i].value.ptr, hdrs[i].value.ptr, hdrs[i].value.len) == 0);
    }
}

/* A response head and a chunked body, both from the writer, read back: the
 * chunk sizes straddle the 16-byte vectors and the hex digit boundaries. */
static void test_response_round_trip(void)
{
    static const size_t sizes[] = { 1, 15, 16, 17, 255, 256, 700 };
    size_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) total += sizes[i];
    char *body = malloc(total), *buf = malloc(total + 512);
    for (size_t i = 0; i < total; i++) body[i] = (char)(i * 7 + 3);

    lg_writer w;
    lg_writer_init(&w, buf, total + 512);
    lg_write_status_line(&w, 1, 201, NULL);
    lg_write_header(&w, "Location", "/items/43");
    lg_write_header(&w, "Transfer-Encoding", "chunked");
    lg_write_header(&w, "Trailer", "X-Checksum");
    lg_write_end_head(&w);
    size_t head_len = w.len, at = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        lg_write_chunk_start(&w, sizes[i]);
        lg_write_bytes(&w, body + at, sizes[i]);
        lg_write_chunk_end(&w);
        at += sizes[i];
    }
    lg_header tr[2] = { { LG_STR("X-Checksum"), LG_STR("sha-256=:abc=:") }, { LG_STR("X-Note"), LG_STR("done") } };
    lg_write_last_chunk(&w, tr, 2);
    size_t body_end = w.len;
    lg_write_status_line(&w, 1, 204, NULL); /* the next response, pipelined */
    lg_write_end_head(&w);
    CHECK_EQ_INT(w.err, 0);

    lg_header hv[8];
    lg_head h;
    int bad = feed_head_every_way(parse_resp_adapter, "response round trip", buf, head_len, 0, LG_METHOD_POST,
                                  (int)head_len, &h, hv, 8);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(h.status, 201);
    CHECK_STR(h.reason, "Created");
    CHECK_EQ_INT(h.framing, LG_FRAMING_CHUNKED);
    CHECK_EQ_INT(h.flags, LG_HEAD_KEEP_ALIVE);
    CHECK_STR(lg_head_get(&h, "location"), "/items/43");

    body_case c = { "chunked round trip", LG_FRAMING_CHUNKED, 0, buf + head_len, w.len - head_len,
                    (int)(body_end - head_len), body, total, "X-Checksum: sha-256=:abc=:\nX-Note: done\n", 0 };
    test_checks++;
    if (feed_body_every_way(&c)) {
        test_failures++;
        fprintf(stderr, "case \"%s\" failed\n", c.name);
    }
    free(body);
    free(buf);
}

/* Every status line the writer can produce parses back to its status and
 * reason. */
static void test_every_status_round_trip(void)
{
    char buf[128];
    lg_header hv[1];
    for (int st = 100; st <= 999; st++) {
        lg_writer w;
        lg_writer_init(&w, buf, sizeof buf);
        lg_write_status_line(&w, st & 1, st, NULL);
        lg_write_header_uint(&w, "Content-Length", 0);
        lg_write_end_head(&w);
        lg_head h = { .headers = hv, .max_headers = 1 };
        int r = lg_parse_response(&h, buf, w.len, 0, 0, LG_METHOD_GET);
        const char *reason = lg_status_reason(st);
        int ok = w.err == 0 && r == (int)w.len && h.status == st && h.version_minor == (st & 1) &&
                 h.reason.len == strlen(reason) && memcmp(h.reason.ptr, reason, h.reason.len) == 0;
        test_checks++;
        if (!ok) {
            test_failures++;
            fprintf(stderr, "status %d does not round-trip (r=%d)\n", st, r);
        }
    }
}

/* Random field lines from the whole of the token and value alphabets (a
 * value neither starts nor ends with whitespace, which the parser trims)
 * come back byte for byte. */
static uint32_t rng_state = 12345;
static uint32_t rng(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

static void test_random_fields_round_trip(void)
{
    static const char tchar[] = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    char names[8][24], values[8][40];
    char buf[1024];
    for (int round = 0; round < 2000; round++) {
        size_t nf = rng() % 8 + 1;
        lg_writer w;
        lg_writer_init(&w, buf, sizeof buf);
        lg_write_request_line(&w, "POST", LG_STR("/"));
        lg_write_header(&w, "Host", "h");
        for (size_t i = 0; i < nf; i++) {
            size_t nl = rng() % 20 + 1, vl = rng() % 36;
            for (size_t j = 0; j < nl; j++) names[i][j] = tchar[rng() % (sizeof tchar - 1)];
            names[i][nl] = 0;
            /* Host, Content-Length and friends have meaning; keep names
             * inert by prefixing them. */
            names[i][0] = 'x';
            for (size_t j = 0; j < vl; j++) {
                unsigned c;
                do c = rng() % 256; while (!(c == '\t' || (c >= 0x20 && c != 0x7f)));
                if ((j == 0 || j + 1 == vl) && (c == ' ' || c == '\t')) c = '.';
                values[i][j] = (char)c;
            }
            values[i][vl] = 0;
            lg_write_header(&w, names[i], values[i]);
        }
        lg_write_end_head(&w);
        lg_header hv[10];
        lg_head h = { .headers = hv, .max_headers = 10 };
        int r = lg_parse_request(&h, buf, w.len, 0, 0);
        int ok = w.err == 0 && r == (int)w.len && h.num_headers == nf + 1;
        for (size_t i = 0; ok && i < nf; i++) {
            lg_header *f = &hv[i + 1];
            ok = f->name.len == strlen(names[i]) && memcmp(f->name.ptr, names[i], f->name.len) == 0 &&
                 f->value.len == strlen(values[i]) && memcmp(f->value.ptr, values[i], f->value.len) == 0;
        }
        test_checks++;
        if (!ok) {
            test_failures++;
            fprintf(stderr, "random round trip %d failed (r=%d)\n", round, r);
            return;
        }
    }
}

/* ASCII letters fold, nothing else: the reference lg__ieq must agree with
 * for every pair of bytes. */
static int fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static void test_ieq(void)
{
    CHECK(lg__ieq("Content-Length", "content-length", 14));
    CHECK(lg__ieq("TRANSFER-encoding", "Transfer-Encoding", 17));
    CHECK(lg__ieq("x", "y", 0));
    CHECK(!lg__ieq("Host", "Hosz", 4));
    CHECK(!lg__ieq("host", "hos", 4)); /* the NUL is a byte like any other */
    /* Pairs a bare "c | 0x20" compare would take as equal. */
    static const char look_alike[][2] = { { '^', '~' }, { '\r', '-' }, { '@', '`' }, { '[', '{' },
                                          { '_', 0x7f }, { 0x10, '0' }, { 0x00, ' ' },
                                          { (char)0xc9, (char)0xe9 } };
    for (size_t i = 0; i < sizeof look_alike / sizeof look_alike[0]; i++) {
        CHECK(!lg__ieq(&look_alike[i][0], &look_alike[i][1], 1));
        CHECK(!lg__ieq(&look_alike[i][1], &look_alike[i][0], 1));
    }
    int wrong = 0;
    for (int a = 0; a < 256; a++) {
        for (int b = 0; b < 256; b++) {
            char x = (char)a, y = (char)b;
            if (lg__ieq(&x, &y, 1) != (fold((unsigned char)a) == fold((unsigned char)b))) wrong++;
        }
    }
    CHECK_EQ_INT(wrong, 0);
    /* a slice against a string: lengths first */
    CHECK(lg__str_ieq(LG_STR("Cookie"), "cookie"));
    CHECK(!lg__str_ieq(LG_STR("Cookies"), "cookie"));
    CHECK(!lg__str_ieq(LG_STR("Cooki"), "cookie"));
    lg_str absent = { NULL, 0 };
    CHECK(lg__str_ieq(absent, ""));
    CHECK(!lg__str_ieq(absent, "x"));
}

/* The obvious way, with 64-bit division, to check the one without it. */
static void reference_dec(char *out, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    out[n] = 0;
}

static void test_format_dec(void)
{
    static const struct {
        uint64_t v;
        const char *text;
    } cases[] = {
        { 0, "0" },
        { 9, "9" },
        { 10, "10" },
        { 65535, "65535" },
        { UINT32_MAX, "4294967295" },
        { (uint64_t)UINT32_MAX + 1, "4294967296" }, /* the 64-bit path from here */
        { UINT64_C(10000000000), "10000000000" },
        { UINT64_C(9223372036854775807), "9223372036854775807" },
        { UINT64_C(10000000000000000000), "10000000000000000000" },
        { UINT64_MAX, "18446744073709551615" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[24];
        memset(out, '#', sizeof out);
        size_t n = lg__format_dec(out, cases[i].v);
        lg_str got = { out, n };
        CHECK_STR(got, cases[i].text);
        CHECK(out[n] == '#'); /* nothing written past the digits */
    }
    /* every value of 16 bits (ports, statuses) and a walk through the 64-bit
     * range */
    int wrong = 0;
    for (uint64_t v = 0; v <= 65535; v++) {
        char out[24], ref[24];
        out[lg__format_dec(out, v)] = 0;
        reference_dec(ref, v);
        wrong += strcmp(out, ref) != 0;
    }
    for (uint64_t v = 1; v < UINT64_MAX / 3; v = v * 3 + 1) {
        char out[24], ref[24];
        out[lg__format_dec(out, v)] = 0;
        reference_dec(ref, v);
        wrong += strcmp(out, ref) != 0;
    }
    CHECK_EQ_INT(wrong, 0);
}

int main(void)
{
    test_request_line();
    test_status_line();
    test_status_reasons();
    test_headers();
    test_header_injection();
    test_chunks();
    test_every_capacity();
    test_request_round_trip();
    test_response_round_trip();
    test_every_status_round_trip();
    test_random_fields_round_trip();
    test_ieq();
    test_format_dec();
    TEST_MAIN_END();
}
