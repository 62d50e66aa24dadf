/*
 * The client over the fault injector: every ending at every byte offset of
 * small responses, in pieces of every size, with and without EAGAIN.
 *
 * Each response is built from parts marked as head, framing or body data,
 * so the expected outcome of a cut is computed here, independently of the
 * codec: a framed response (Content-Length, chunked, no body) is complete
 * exactly when all of it arrived, whatever follows (EOF, a reset, silence);
 * a close-delimited one is complete only at EOF; anything less is
 * LG_ERR_CLOSED_EARLY (EOF), LG_ERR_RESET (reset) or LG_ERR_TIMEOUT
 * (silence), in the stage the cut fell in, with exactly the body bytes
 * before the cut.
 */
#include "client_harness.h"

#include <unistd.h>

static fault_net FN;

enum { HEAD = 0, FRAME, DATA };
typedef struct part {
    int kind;
    const char *text;
} part;

typedef struct response_case {
    const char *name;
    const char *method;
    int close_delimited;
    part parts[12];
} response_case;

static const response_case cases[] = {
    { "content-length", "GET", 0,
      { { HEAD, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n" }, { DATA, "hello world" } } },
    { "chunked+trailers", "GET", 0,
      { { HEAD, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" },
        { FRAME, "5\r\n" }, { DATA, "hello" }, { FRAME, "\r\n6;x=y\r\n" }, { DATA, " world" },
        { FRAME, "\r\n0\r\nX-Sum: 42\r\n\r\n" } } },
    { "close-delimited", "GET", 1,
      { { HEAD, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" }, { DATA, "hello world" } } },
    { "http/1.0", "GET", 1, { { HEAD, "HTTP/1.0 200 OK\r\n\r\n" }, { DATA, "hello world" } } },
    { "no-content", "GET", 0, { { HEAD, "HTTP/1.1 204 No Content\r\n\r\n" } } },
    { "not-modified", "GET", 0,
      { { HEAD, "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n" } } },
    { "interim", "GET", 0,
      { { HEAD, "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n"
                "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n" },
        { DATA, "ok" } } },
    { "connection-close", "GET", 0,
      { { HEAD, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\n" },
        { DATA, "hello" } } },
    { "head", "HEAD", 0, { { HEAD, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" } } },
};

typedef struct layout {
    char text[512];
    size_t len, head_end;    /* head_end: just past the final head */
    char data[256];
    size_t data_len;
    size_t data_before[512]; /* body bytes among the first k bytes */
} layout;

static void build(const response_case *rc, layout *l)
{
    memset(l, 0, sizeof *l);
    for (size_t i = 0; i < sizeof rc->parts / sizeof rc->parts[0] && rc->parts[i].text; i++) {
        const part *p = &rc->parts[i];
        size_t n = strlen(p->text);
        for (size_t k = 0; k < n; k++) {
            l->data_before[l->len] = l->data_len;
            l->text[l->len++] = p->text[k];
            if (p->kind == DATA) l->data[l->data_len++] = p->text[k];
        }
        if (p->kind == HEAD) l->head_end = l->len;
    }
    l->data_before[l->len] = l->data_len;
}

static lg_client_config small_cfg(void)
{
    lg_client_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.read_timeout_ms = 5000;
    return cfg;
}

/* One request on a fresh fault net and client. */
static int run(const lg_request *req, const lg_client_config *cfg, const fault_sock *script,
               outcome *o, fault_sock **sock)
{
    fault_net_free(&FN);
    fault_net_init(&FN);
    lg_loop *loop = fault_loop_new(&FN);
    lg_client *cli = lg_client_new(loop, cfg);
    if (script) fault_expect_connect(&FN, script);
    memset(o, 0, sizeof *o);
    lg_call *call = lg_fetch(cli, req, outcome_on_response, o);
    CHECK(call != NULL);
    CHECK_EQ_INT(o->calls, 0); /* never inside lg_fetch */
    int rc = outcome_wait(loop, cli, o);
    if (sock) *sock = fault_connected(&FN, 0);
    lg_loop_free(loop);
    return rc;
}

static int expected_err(int end)
{
    return end == FAULT_EOF ? LG_ERR_CLOSED_EARLY : end == FAULT_RESET ? LG_ERR_RESET : LG_ERR_TIMEOUT;
}

static void test_every_ending_every_offset(void)
{
    static const size_t pieces[] = { 0, 1, 2, 3, 7 };
    long runs = 0;
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const response_case *rc = &cases[ci];
        layout l;
        build(rc, &l);
        lg_request req = { .method = rc->method, .url = "http://10.0.0.1:8080/p?q=1" };
        lg_client_config cfg = small_cfg();
        for (size_t pi = 0; pi < sizeof pieces / sizeof pieces[0]; pi++)
            for (int again = 0; again < 2; again++)
                for (size_t cut = 0; cut <= l.len; cut++)
                    for (int end = FAULT_SILENT; end <= FAULT_RESET; end++) {
                        fault_sock script = { 0 };
                        script.in = l.text;
                        script.in_len = cut;
                        script.in_piece = pieces[pi];
                        script.in_again = again;
                        script.in_end = end;
                        outcome o;
                        fault_sock *k;
                        int hang = run(&req, &cfg, &script, &o, &k);
                        runs++;
                        int ok_expected = rc->close_delimited ? (cut >= l.head_end && end == FAULT_EOF)
                                                              : cut == l.len;
                        int want_err = ok_expected ? LG_OK : expected_err(end);
                        int want_stage = ok_expected      ? LG_STAGE_DONE
                                         : cut == 0       ? LG_STAGE_SEND
                                         : cut < l.head_end ? LG_STAGE_HEAD
                                                          : LG_STAGE_BODY;
                        size_t want_body = rc->close_delimited && cut >= l.head_end
                                               ? cut - l.head_end
                                               : l.data_before[cut];
                        int bad = hang || o.calls != 1 || o.err != want_err || o.stage != want_stage ||
                                  o.body_bytes != want_body || o.body_len != want_body ||
                                  memcmp(o.body, l.data, want_body) != 0;
                        if (bad)
                            fprintf(stderr,
                                    "%s cut %lu/%lu end %d piece %lu again %d: hang %d calls %d err %s "
                                    "(want %s) stage %d (want %d) body %llu (want %lu)\n",
                                    rc->name, (unsigned long)cut, (unsigned long)l.len, end,
                                    (unsigned long)pieces[pi], again, hang, o.calls,
                                    lg_err_name(o.err), lg_err_name(want_err), o.stage, want_stage,
                                    (unsigned long long)o.body_bytes, (unsigned long)want_body);
                        CHECK(!bad);
                        if (!bad && ok_expected) {
                            if (cut >= l.head_end && strstr(rc->name, "chunked"))
                                CHECK(strcmp(o.trailer, "42") == 0);
                            /* complete: a graceful close, never a reset from us */
                            CHECK(k && !k->aborted);
                        }
                        if (k) CHECK_EQ_INT(k->closed_with_unread, 0);
                        if (bad && test_failures > 20) return;
                    }
    }
    printf("every ending at every offset: %ld exchanges\n", runs);
}

/* The request on the wire, exactly. */
static void test_request_bytes(void)
{
    const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    fault_sock script = { .in = resp, .in_len = strlen(resp), .in_end = FAULT_SILENT };
    lg_header hv[] = { { LG_STR("Accept"), LG_STR("*/*") },
                       { LG_STR("Content-Length"), LG_STR("99") } }; /* ours to write: dropped */
    lg_request req = { .url = "http://u%40x:p%3Aw@10.0.0.1:8080/a%20b?q=1#frag",
                       .headers = hv, .num_headers = 2, .body = "abc", .body_len = 3 };
    lg_client_config cfg = small_cfg();
    outcome o;
    fault_sock *k;
    fault_net_free(&FN);
    fault_net_init(&FN);
    lg_loop *loop = fault_loop_new(&FN);
    lg_client *cli = lg_client_new(loop, &cfg);
    fault_expect_connect(&FN, &script);
    memset(&o, 0, sizeof o);
    lg_fetch(cli, &req, outcome_on_response, &o);
    CHECK_EQ_INT(outcome_wait(loop, cli, &o), 0);
    k = fault_connected(&FN, 0);
    CHECK_EQ_INT(o.err, LG_OK);
    CHECK_EQ_INT(o.status, 200);
    CHECK_EQ_INT(o.sent, 3);
    /* Basic credentials: "u@x:p:w" */
    const char *want = "POST /a%20b?q=1 HTTP/1.1\r\nHost: 10.0.0.1:8080\r\n"
                       "User-Agent: linger/" LG_VERSION_STRING "\r\n"
                       "Authorization: Basic dUB4OnA6dw==\r\nAccept: */*\r\n"
                       "Content-Length: 3\r\n\r\nabc";
    CHECK(k && k->out_len == strlen(want) && memcmp(k->out, want, k->out_len) == 0);
    if (k && (k->out_len != strlen(want) || memcmp(k->out, want, k->out_len) != 0))
        fprintf(stderr, "sent:\n%.*s\n", (int)k->out_len, k->out);
    CHECK_EQ_INT(FN.connect_addr[0].port, 8080);
    CHECK_EQ_INT(FN.connect_addr[0].ip[0], 10);
    lg_loop_free(loop);

    /* IPv6 literal, default port, no body: GET, and no Content-Length */
    lg_request get = { .url = "http://[::1]/" };
    CHECK_EQ_INT(run(&get, &cfg, &script, &o, &k), 0);
    want = "GET / HTTP/1.1\r\nHost: [::1]\r\nUser-Agent: linger/" LG_VERSION_STRING "\r\n\r\n";
    CHECK(k && k->out_len == strlen(want) && memcmp(k->out, want, k->out_len) == 0);
    CHECK_EQ_INT(FN.connect_addr[0].family, 6);
    CHECK_EQ_INT(FN.connect_addr[0].port, 80);

    /* an empty path with a query, and a target longer than any stack buffer */
    lg_request q = { .url = "http://10.0.0.1?x=1" };
    CHECK_EQ_INT(run(&q, &cfg, &script, &o, &k), 0);
    CHECK(k && k->out_len > 18 && memcmp(k->out, "GET /?x=1 HTTP/1.1\r\n", 20) == 0);
    static char long_url[6000], long_line[6000];
    int n = snprintf(long_url, sizeof long_url, "http://10.0.0.1/p?");
    memset(long_url + n, 'q', 5000);
    snprintf(long_line, sizeof long_line, "GET %s HTTP/1.1\r\n", long_url + 15);
    q.url = long_url;
    CHECK_EQ_INT(run(&q, &cfg, &script, &o, &k), 0);
    CHECK_EQ_INT(o.err, LG_OK);
    CHECK(k && k->out_len > strlen(long_line) && memcmp(k->out, long_line, strlen(long_line)) == 0);

    /* POST without a body says Content-Length: 0; no User-Agent when "" */
    lg_client_config quiet = small_cfg();
    quiet.user_agent = "";
    lg_request post = { .method = "POST", .url = "http://10.0.0.1/x" };
    CHECK_EQ_INT(run(&post, &quiet, &script, &o, &k), 0);
    want = "POST /x HTTP/1.1\r\nHost: 10.0.0.1\r\nContent-Length: 0\r\n\r\n";
    CHECK(k && k->out_len == strlen(want) && memcmp(k->out, want, k->out_len) == 0);
}

/* Refusals before anything is sent: each with its code, at stage START. */
static void test_bad_requests(void)
{
    static const struct { const char *url, *method; int err; } bad[] = {
        { "http://h x/", NULL, LG_ERR_URL },
        { "ftp://10.0.0.1/", NULL, LG_ERR_URL },
        { "https://10.0.0.1/", NULL, LG_ERR_UNSUPPORTED },
        { "/relative", NULL, LG_ERR_URL },
        { NULL, NULL, LG_ERR_URL },
        { "http://10.0.0.1/", "CONNECT", LG_ERR_INVALID_ARG },
        { "http://10.0.0.1/", "BAD METHOD", LG_ERR_INVALID_ARG },
    };
    lg_client_config cfg = small_cfg();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lg_request req = { .url = bad[i].url, .method = bad[i].method };
        outcome o;
        CHECK_EQ_INT(run(&req, &cfg, NULL, &o, NULL), 0);
        CHECK_EQ_INT(o.calls, 1);
        CHECK_EQ_INT(o.err, bad[i].err);
        CHECK_EQ_INT(o.stage, LG_STAGE_START);
        CHECK_EQ_INT(FN.connects_made, 0);
    }
    /* A header value that would split the request is refused by the writer. */
    lg_header inj[] = { { LG_STR("X-A"), LG_STR("1\r\nX-B: 2") } };
    lg_request req = { .url = "http://10.0.0.1/", .headers = inj, .num_headers = 1 };
    fault_sock script = { .in_end = FAULT_SILENT };
    outcome o;
    fault_sock *k;
    CHECK_EQ_INT(run(&req, &cfg, &script, &o, &k), 0);
    CHECK_EQ_INT(o.err, LG_ERR_HEADER_VALUE);
    CHECK(k && k->out_len == 0);
}

/* Malformed responses: each its own code, nothing delivered as success. */
static void test_bad_responses(void)
{
    static const struct { const char *text; int err; } bad[] = {
        { "HTTP/1.1 2OO OK\r\n\r\n", LG_ERR_STATUS_LINE },
        { "HTTP/1.1 200 OK\nContent-Length: 0\n\n", LG_ERR_LINE_ENDING },
        { "HTTP/2.0 200 OK\r\n\r\n", LG_ERR_VERSION_UNSUPPORTED },
        { "ICY 200 OK\r\n\r\n", LG_ERR_STATUS_LINE },
        { "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
          LG_ERR_CONTENT_LENGTH_CONFLICT },
        { "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", LG_ERR_CONTENT_LENGTH },
        { "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
          LG_ERR_LENGTH_AND_CHUNKED },
        { "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", LG_ERR_CHUNKED_NOT_LAST },
        { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", LG_ERR_CHUNK_SIZE },
        { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
          LG_ERR_CHUNK_SIZE_OVERFLOW },
        { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", LG_ERR_CHUNK_DATA_END },
        { "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", LG_ERR_OBS_FOLD },
        { "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n",
          LG_ERR_PROTOCOL },
        { "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world", LG_OK },
    };
    lg_client_config cfg = small_cfg();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fault_sock script = { .in = bad[i].text, .in_len = strlen(bad[i].text), .in_end = FAULT_SILENT };
        lg_request req = { .url = "http://10.0.0.1/" };
        outcome o;
        CHECK_EQ_INT(run(&req, &cfg, &script, &o, NULL), 0);
        if (o.err != bad[i].err) fprintf(stderr, "response %lu: %s\n", (unsigned long)i, lg_err_name(o.err));
        CHECK_EQ_INT(o.err, bad[i].err);
    }
    /* Interim responses without end: refused after 16, not taken for ever. */
    static char interim[4096];
    size_t il = 0;
    for (int i = 0; i < 17; i++) il += (size_t)sprintf(interim + il, "HTTP/1.1 102 Processing\r\n\r\n");
    for (int many = 16; many <= 17; many++) {
        static char text[4096];
        size_t one = strlen("HTTP/1.1 102 Processing\r\n\r\n");
        memcpy(text, interim, one * (size_t)many);
        const char *fin = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        memcpy(text + one * (size_t)many, fin, strlen(fin));
        fault_sock script = { .in = text, .in_len = one * (size_t)many + strlen(fin), .in_end = FAULT_SILENT };
        lg_request req = { .url = "http://10.0.0.1/" };
        outcome o;
        CHECK_EQ_INT(run(&req, &cfg, &script, &o, NULL), 0);
        CHECK_EQ_INT(o.err, many == 16 ? LG_OK : LG_ERR_PROTOCOL);
    }

    /* A head larger than the limit; and one that fills the receive buffer. */
    char big[20000];
    int n = snprintf(big, sizeof big, "HTTP/1.1 200 OK\r\nX: ");
    memset(big + n, 'a', sizeof big - (size_t)n);
    for (size_t limit = 256; limit <= 16384; limit *= 4) {
        lg_client_config c2 = small_cfg();
        c2.max_head_bytes = (uint32_t)limit;
        fault_sock script = { .in = big, .in_len = sizeof big, .in_piece = 100, .in_end = FAULT_SILENT };
        lg_request req = { .url = "http://10.0.0.1/" };
        outcome o;
        CHECK_EQ_INT(run(&req, &c2, &script, &o, NULL), 0);
        CHECK_EQ_INT(o.err, LG_ERR_HEADERS_TOO_LARGE);
        CHECK_EQ_INT(o.stage, LG_STAGE_HEAD);
    }
    /* A buffered body beyond its limit, known in advance and not. */
    const char *cl = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
    fault_sock s1 = { .in = cl, .in_len = strlen(cl), .in_end = FAULT_SILENT };
    lg_request req = { .url = "http://10.0.0.1/", .max_body_bytes = 99 };
    outcome o;
    CHECK_EQ_INT(run(&req, &cfg, &s1, &o, NULL), 0);
    CHECK_EQ_INT(o.err, LG_ERR_TOO_LARGE);
    const char *ch = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n"
                     "0123456789012345678901234567890123456789012345678901234567890123\r\n0\r\n\r\n";
    fault_sock s2 = { .in = ch, .in_len = strlen(ch), .in_end = FAULT_SILENT };
    req.max_body_bytes = 63;
    CHECK_EQ_INT(run(&req, &cfg, &s2, &o, NULL), 0);
    CHECK_EQ_INT(o.err, LG_ERR_TOO_LARGE);
    req.max_body_bytes = 64;
    CHECK_EQ_INT(run(&req, &cfg, &s2, &o, NULL), 0);
    CHECK_EQ_INT(o.err, LG_OK);
    CHECK_EQ_INT(o.body_len, 64);
}

/* Sending fails (EPIPE or a reset) at every offset of the request: an
 * error only when no complete response follows (rule 1 on the way out). */
static void test_send_failure_every_offset(void)
{
    static char body[40000];
    memset(body, 'b', sizeof body);
    const char *full = "HTTP/1.1 413 Content Too Large\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbig!";
    const char *cut = "HTTP/1.1 413 Content Too Large\r\nContent-Length: 4\r\n\r\nbi";
    lg_client_config cfg = small_cfg();
    long runs = 0;
    for (size_t at = 0; at < sizeof body + 200; at += at < 300 ? 7 : 4999) {
        for (int e = 0; e < 2; e++)
            for (int complete = 0; complete < 2; complete++) {
                const char *resp = complete ? full : cut;
                fault_sock script = { .in = resp, .in_len = strlen(resp), .in_end = FAULT_EOF,
                                      .out_fail_at = at, .out_fail_err = e ? LG_ERR_RESET : LG_ERR_PIPE,
                                      .out_piece = 1000 };
                lg_request req = { .url = "http://10.0.0.1/up", .body = body, .body_len = sizeof body };
                outcome o;
                CHECK_EQ_INT(run(&req, &cfg, &script, &o, NULL), 0);
                runs++;
                if (complete) {
                    CHECK_EQ_INT(o.err, LG_OK);
                    CHECK_EQ_INT(o.status, 413);
                    CHECK(o.body_len == 4 && memcmp(o.body, "big!", 4) == 0);
                } else {
                    /* a send failure turns the later EOF into a reset */
                    int want = at < sizeof body + 100 ? LG_ERR_RESET : LG_ERR_CLOSED_EARLY;
                    if (o.err != want && o.err != LG_ERR_RESET)
                        fprintf(stderr, "fail at %lu: %s\n", (unsigned long)at, lg_err_name(o.err));
                    CHECK(o.err == LG_ERR_RESET || o.err == LG_ERR_CLOSED_EARLY);
                    CHECK_EQ_INT(o.body_bytes, 2);
                }
            }
    }
    printf("send failures: %ld exchanges\n", runs);
}

/* The final answer arrives while the body is still going out and the
 * server reads no more: deliver it, at once, and stop sending. */
static void test_early_response(void)
{
    static char body[1u << 20];
    const char *resp = "HTTP/1.1 413 Content Too Large\r\nContent-Length: 2\r\n\r\nno";
    lg_client_config cfg = small_cfg();
    for (size_t stall = 0; stall <= 100000; stall += 25000) {
        fault_sock script = { .in = resp, .in_len = strlen(resp), .in_end = FAULT_SILENT,
                              .out_stall_at = stall ? stall : 1 };
        lg_request req = { .url = "http://10.0.0.1/up", .body = body, .body_len = sizeof body };
        outcome o;
        fault_sock *k;
        CHECK_EQ_INT(run(&req, &cfg, &script, &o, &k), 0);
        CHECK_EQ_INT(o.err, LG_OK);
        CHECK_EQ_INT(o.status, 413);
        CHECK(o.flags & LG_RES_EARLY);
        CHECK(o.sent < sizeof body);
        CHECK(k && k->out_len <= (stall ? stall : 1));
        CHECK(k && !k->aborted); /* closed gracefully (after the linger time) */
    }
    /* A producer body: the producer is not asked again after the answer. */
}

static long produced_calls;
static long producer_unknown(lg_call *call, char *buf, size_t cap, void *user)
{
    (void)call;
    (void)user;
    static const char text[] = "0123456789";
    produced_calls++;
    if (produced_calls == 3) return LG_ERR_AGAIN; /* nothing yet */
    if (produced_calls > 6) return 0;
    size_t n = cap < 10 ? cap : 10;
    memcpy(buf, text, n);
    return (long)n;
}

/* A request's head never travels alone when its body follows at once: a
 * memory body's first slice, and a file body's first piece (no sendfile
 * here), go in the head's send. A server that reads what has arrived and
 * closes then leaves less unread. */
static void test_body_leaves_with_head(void)
{
    const char *resp = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
    lg_client_config cfg = small_cfg();
    static char body[40000];
    for (size_t i = 0; i < sizeof body; i++) body[i] = (char)('a' + i % 23);
    fault_sock script = { .in = resp, .in_len = strlen(resp), .in_end = FAULT_SILENT };
    lg_request req = { .method = "PUT", .url = "http://10.0.0.1/x", .body = body,
                       .body_len = sizeof body };
    outcome o;
    fault_sock *k;
    CHECK_EQ_INT(run(&req, &cfg, &script, &o, &k), 0);
    CHECK_EQ_INT(o.err, LG_OK);
    CHECK(k && k->out_len > sizeof body &&
          memcmp(k->out + k->out_len - sizeof body, body, sizeof body) == 0);
    CHECK(k && k->send_calls == 1);

#if !defined(LG_TEST_NO_FILES) /* (as microcontroller code: no files) */
    char path[] = "/tmp/linger-test-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    unlink(path);
    CHECK(write(fd, body, 1000) == 1000);
    lg_request freq = { .method = "PUT", .url = "http://10.0.0.1/x", .flags = LG_FETCH_BODY_FILE,
                        .body_file = fd, .body_len = 1000 };
    CHECK_EQ_INT(run(&freq, &cfg, &script, &o, &k), 0);
    CHECK_EQ_INT(o.err, LG_OK);
    CHECK(k && k->out_len > 1000 && memcmp(k->out + k->out_len - 1000, body, 1000) == 0);
    CHECK(k && k->send_calls == 1);
    close(fd);
#endif
}

static void test_producer_chunked(void)
{
    const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    lg_client_config cfg = small_cfg();
    const char *head = "PUT /x HTTP/1.1\r\nHost: 10.0.0.1\r\nUser-Agent: linger/" LG_VERSION_STRING
                       "\r\nTransfer-Encoding: chunked\r\n";

    /* Expect: the final answer comes before any 100: early, nothing sent,
     * the producer never asked. */
    fault_sock script = { .in = resp, .in_len = strlen(resp), .in_end = FAULT_SILENT };
    lg_request req = { .method = "PUT", .url = "http://10.0.0.1/x", .body_producer = producer_unknown,
                       .body_len = LG_BODY_LENGTH_UNKNOWN, .flags = LG_FETCH_EXPECT_CONTINUE };
    outcome o;
    fault_sock *k;
    produced_calls = 0;
    CHECK_EQ_INT(run(&req, &cfg, &script, &o, &k), 0);
    CHECK_EQ_INT(o.err, LG_OK);
    CHECK(o.flags & LG_RES_EARLY);
    CHECK_EQ_INT(o.sent, 0);
    CHECK_EQ_INT(produced_calls, 0);
    CHECK(k && k->out_len == strlen(head) + 24 && memcmp(k->out, head, strlen(head)) == 0);

    /* Without it, and with the answer held back: the body goes out chunked,
     * across a pause of the producer. */
    script.in_len = 0;
    fault_net_free(&FN);
    fault_net_init(&FN);
    lg_loop *loop = fault_loop_new(&FN);
    lg_client *cli = lg_client_new(loop, &cfg);
    fault_expect_connect(&FN, &script);
    memset(&o, 0, sizeof o);
    produced_calls = 0;
    req.flags = 0;
    lg_call *call = lg_fetch(cli, &req, outcome_on_response, &o);
    for (int i = 0; i < 1000 && produced_calls < 3; i++) lg_loop_run_once(loop, 0);
    CHECK_EQ_INT(produced_calls, 3);
    for (int i = 0; i < 10; i++) lg_loop_run_once(loop, 0);
    CHECK_EQ_INT(produced_calls, 3); /* not asked again until resumed */
    CHECK_EQ_INT(lg_call_resume(call), LG_OK);
    for (int i = 0; i < 1000 && produced_calls < 7; i++) lg_loop_run_once(loop, 0);
    CHECK_EQ_INT(produced_calls, 7);
    k = fault_connected(&FN, 0);
    const char *chunks = "\r\na\r\n0123456789\r\na\r\n0123456789\r\na\r\n0123456789\r\n"
                         "a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n";
    size_t hl = strlen(head);
    CHECK(k && k->out_len == hl + strlen(chunks) && memcmp(k->out + hl, chunks, strlen(chunks)) == 0);
    if (k && (k->out_len != hl + strlen(chunks))) fprintf(stderr, "sent:\n%.*s\n", (int)k->out_len, k->out);
    /* now the answer */
    k->in = resp;
    k->in_len = strlen(resp);
    CHECK_EQ_INT(outcome_wait(loop, cli, &o), 0);
    CHECK_EQ_INT(o.err, LG_OK);
    CHECK(!(o.flags & LG_RES_EARLY));
    CHECK_EQ_INT(o.sent, 50);
    lg_loop_free(loop);
}

/* 100 Continue lets the body go; a 417 repeats it without the expectation
 * (RFC 9110 10.1.1). */
static void test_expect_continue(void)
{
    lg_client_config cfg = small_cfg();
    const char *cont = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    fault_sock s1 = { .in = cont, .in_len = strlen(cont), .in_end = FAULT_SILENT };
    lg_request req = { .url = "http://10.0.0.1/x", .body = "payload", .body_len = 7,
                       .flags = LG_FETCH_EXPECT_CONTINUE };
    outcome o;
    fault_sock *k;
    CHECK_EQ_INT(run(&req, &cfg, &s1, &o, &k), 0);
    CHECK_EQ_INT(o.err, LG_OK);
    CHECK_EQ_INT(o.sent, 7);
    CHECK(!(o.flags & LG_RES_EARLY));
    CHECK(k && k->out_len > 7 && memcmp(k->out + k->out_len - 7, "payload", 7) == 0);

    const char *refuse = "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n";
    const char *ok = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
    fault_sock a = { .in = refuse, .in_len = strlen(refuse), .in_end = FAULT_SILENT };
    fault_sock b = { .in = ok, .in_len = strlen(ok), .in_end = FAULT_SILENT };
    fault_net_free(&FN);
    fault_net_init(&FN);
    lg_loop *loop = fault_loop_new(&FN);
    lg_client *cli = lg_client_new(loop, &cfg);
    fault_expect_connect(&FN, &a);
    fault_expect_connect(&FN, &b);
    memset(&o, 0, sizeof o);
    lg_fetch(cli, &req, outcome_on_response, &o);
    CHECK_EQ_INT(outcome_wait(loop, cli, &o), 0);
    CHECK_EQ_INT(o.err, LG_OK);
    CHECK_EQ_INT(o.status, 201);
    k = fault_connected(&FN, 1);
    CHECK(k && !memmem(k->out, k->out_len, "Expect", 6));
    CHECK(k && k->out_len > 7 && memcmp(k->out + k->out_len - 7, "payload", 7) == 0);
    lg_loop_free(loop);
}

/* Keep-alive: the second request goes on the same connection; when the
 * server has closed it meanwhile, a GET is sent again on a fresh one, a
 * POST is not (RFC 9112 9.3.1). */
typedef struct seq {
    outcome o[3];
    lg_client *cli;
    const char *next_in;
    int next_end;
    lg_request next;
} seq;

static void seq_first(lg_response *res, void *user)
{
    seq *s = user;
    outcome_on_response(res, &s->o[0]);
    /* the connection is idle in the pool now: script what it does next,
     * then reuse it at once (before the loop can notice anything) */
    fault_sock *k = fault_connected(&FN, 0);
    k->in = s->next_in;
    k->in_len = s->next_in ? strlen(s->next_in) : 0;
    k->in_pos = 0;
    k->in_end = s->next_end;
    lg_fetch(s->cli, &s->next, outcome_on_response, &s->o[1]);
}

static void test_keep_alive_and_retry(void)
{
    lg_client_config cfg = small_cfg();
    const char *r1 = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none";
    const char *r2 = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo";
    for (int variant = 0; variant < 5; variant++) {
        seq s;
        memset(&s, 0, sizeof s);
        fault_net_free(&FN);
        fault_net_init(&FN);
        lg_loop *loop = fault_loop_new(&FN);
        s.cli = lg_client_new(loop, &cfg);
        fault_sock a = { .in = r1, .in_len = strlen(r1), .in_end = FAULT_SILENT };
        fault_sock b = { .in = r2, .in_len = strlen(r2), .in_end = FAULT_SILENT };
        fault_expect_connect(&FN, &a);
        fault_expect_connect(&FN, &b);
        s.next.url = "http://10.0.0.1/2";
        switch (variant) {
        case 0: s.next_in = r2; s.next_end = FAULT_SILENT; break;  /* reused */
        case 1: s.next_in = NULL; s.next_end = FAULT_EOF; break;   /* closed: retried */
        case 2: s.next_in = NULL; s.next_end = FAULT_RESET; break; /* reset: retried */
        case 3: s.next_in = NULL; s.next_end = FAULT_EOF; s.next.method = "POST"; break;
        case 4: s.next_in = "HTTP/1.1 2"; s.next_end = FAULT_EOF; break; /* a byte came: no retry */
        }
        lg_request first = { .url = "http://10.0.0.1/1" };
        lg_fetch(s.cli, &first, seq_first, &s);
        for (int i = 0; i < 10000 && !s.o[1].calls; i++) lg_loop_run_once(loop, -1);
        lg_client_free(s.cli);
        CHECK(fault_run(loop, 100000) > 0);
        CHECK_EQ_INT(s.o[0].err, LG_OK);
        CHECK_EQ_INT(s.o[1].calls, 1);
        if (variant == 0) {
            CHECK_EQ_INT(s.o[1].err, LG_OK);
            CHECK(memcmp(s.o[1].body, "two", 3) == 0);
            CHECK(s.o[1].flags & LG_RES_REUSED);
            CHECK_EQ_INT(FN.connects_made, 1);
        } else if (variant <= 2) {
            CHECK_EQ_INT(s.o[1].err, LG_OK);
            CHECK(memcmp(s.o[1].body, "two", 3) == 0);
            CHECK(s.o[1].flags & LG_RES_RETRIED);
            CHECK(!(s.o[1].flags & LG_RES_REUSED));
            CHECK_EQ_INT(FN.connects_made, 2);
        } else {
            CHECK_EQ_INT(s.o[1].err, LG_ERR_CLOSED_EARLY);
            CHECK_EQ_INT(s.o[1].stage, variant == 3 ? LG_STAGE_SEND : LG_STAGE_HEAD);
            CHECK_EQ_INT(FN.connects_made, 1);
        }
        lg_loop_free(loop);
    }
}

/* https:// with a transport factory: the factory learns the scheme, host
 * and port (what TLS sends as SNI and checks the certificate against),
 * says NULL for plain http, and its error is the call's; origins are per
 * scheme, so http://h:443 and https://h:443 share no connection. */
typedef struct factory_log {
    int calls, made, fail;
    char scheme[8], host[64];
    unsigned port;
} factory_log;
static factory_log FL;

typedef struct pass_transport {
    lg_transport base;
} pass_transport;

static long pass_recv(lg_stream *s, void *buf, size_t len)
{
    return lg_stream_socket_recv(s, buf, len);
}

static long pass_send(lg_stream *s, const lg_str *parts, size_t n)
{
    return lg_stream_socket_send(s, parts, n);
}

static int pass_shutdown(lg_stream *s)
{
    return lg_stream_socket_shutdown(s);
}

static void pass_close(lg_stream *s, int abort)
{
    (void)abort;
    free(s->transport);
}

static const lg_transport_ops pass_ops = { "pass", pass_recv, pass_send, pass_shutdown,
                                           NULL,   NULL,      pass_close, NULL };

static int pass_factory(lg_stream *s, const char *scheme, const char *host, uint16_t port,
                        lg_transport **out, void *user)
{
    (void)s;
    (void)user;
    FL.calls++;
    snprintf(FL.scheme, sizeof FL.scheme, "%s", scheme);
    snprintf(FL.host, sizeof FL.host, "%s", host);
    FL.port = port;
    if (FL.fail) return FL.fail;
    if (strcmp(scheme, "https") != 0) return LG_OK; /* *out stays NULL: plain */
    pass_transport *t = calloc(1, sizeof *t);
    if (!t) return LG_ERR_NOMEM;
    t->base.ops = &pass_ops;
    FL.made++;
    *out = &t->base;
    return LG_OK;
}

static void test_https_transport_factory(void)
{
    lg_client_config cfg = small_cfg();
    cfg.transport = pass_factory;
    const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    fault_sock script = { .in = ok, .in_len = strlen(ok), .in_end = FAULT_SILENT };
    outcome o;
    fault_sock *k;
    memset(&FL, 0, sizeof FL);
    lg_request req = { .url = "https://10.0.0.1/x" };
    CHECK_EQ_INT(run(&req, &cfg, &script, &o, &k), 0);
    CHECK_EQ_INT(o.err, LG_OK);
    CHECK(o.body_len == 2 && memcmp(o.body, "ok", 2) == 0);
    CHECK_EQ_INT(FL.calls, 1);
    CHECK_EQ_INT(FL.made, 1);
    CHECK(strcmp(FL.scheme, "https") == 0 && strcmp(FL.host, "10.0.0.1") == 0);
    CHECK_EQ_INT(FL.port, 443);
    CHECK_EQ_INT(FN.connect_addr[0].port, 443);

    req.url = "http://10.0.0.1:8080/x";
    CHECK_EQ_INT(run(&req, &cfg, &script, &o, &k), 0);
    CHECK_EQ_INT(o.err, LG_OK);
    CHECK_EQ_INT(FL.calls, 2);
    CHECK_EQ_INT(FL.made, 1); /* plain */
    CHECK(strcmp(FL.scheme, "http") == 0);
    CHECK_EQ_INT(FL.port, 8080);

    FL.fail = LG_ERR_TLS_CONFIG;
    req.url = "https://10.0.0.1/x";
    CHECK_EQ_INT(run(&req, &cfg, &script, &o, &k), 0);
    CHECK_EQ_INT(o.err, LG_ERR_TLS_CONFIG);
    CHECK(k && k->out_len == 0);
    FL.fail = 0;

    /* other schemes stay refused with a factory too */
    req.url = "ftp://10.0.0.1/x";
    CHECK_EQ_INT(run(&req, &cfg, NULL, &o, NULL), 0);
    CHECK_EQ_INT(o.err, LG_ERR_URL);

    /* one origin per scheme: a kept-alive http connection to port 443 is
     * not taken for https://...:443 */
    seq sq;
    memset(&sq, 0, sizeof sq);
    fault_net_free(&FN);
    fault_net_init(&FN);
    lg_loop *loop = fault_loop_new(&FN);
    sq.cli = lg_client_new(loop, &cfg);
    fault_sock a = { .in = ok, .in_len = strlen(ok), .in_end = FAULT_SILENT };
    fault_sock b = { .in = ok, .in_len = strlen(ok), .in_end = FAULT_SILENT };
    fault_expect_connect(&FN, &a);
    fault_expect_connect(&FN, &b);
    sq.next.url = "https://10.0.0.1:443/2";
    sq.next_end = FAULT_SILENT;
    lg_request first = { .url = "http://10.0.0.1:443/1" };
    lg_fetch(sq.cli, &first, seq_first, &sq);
    for (int i = 0; i < 10000 && !sq.o[1].calls; i++) lg_loop_run_once(loop, -1);
    lg_client_free(sq.cli);
    CHECK(fault_run(loop, 100000) > 0);
    CHECK_EQ_INT(sq.o[0].err, LG_OK);
    CHECK_EQ_INT(sq.o[1].err, LG_OK);
    CHECK(!(sq.o[1].flags & LG_RES_REUSED));
    CHECK_EQ_INT(FN.connects_made, 2);
    lg_loop_free(loop);
}

/* Streaming to on_body, pausing after every chunk: the same bytes come
 * back after lg_call_resume, none lost, none twice. */
static void test_stream_and_pause(void)
{
    layout l;
    build(&cases[1], &l);
    lg_client_config cfg = small_cfg();
    for (int pause = 0; pause <= 2; pause++)
        for (size_t piece = 0; piece <= 3; piece++) {
            fault_sock script = { .in = l.text, .in_len = l.len, .in_piece = piece, .in_end = FAULT_SILENT };
            lg_request req = { .url = "http://10.0.0.1/", .on_body = outcome_on_body };
            outcome o;
            fault_net_free(&FN);
            fault_net_init(&FN);
            lg_loop *loop = fault_loop_new(&FN);
            lg_client *cli = lg_client_new(loop, &cfg);
            fault_expect_connect(&FN, &script);
            memset(&o, 0, sizeof o);
            o.pause_every = pause;
            lg_fetch(cli, &req, outcome_on_response, &o);
            CHECK_EQ_INT(outcome_wait(loop, cli, &o), 0);
            CHECK_EQ_INT(o.err, LG_OK);
            CHECK_EQ_INT(o.body_bytes, l.data_len);
            CHECK(o.body_len == l.data_len && memcmp(o.body, l.data, l.data_len) == 0);
            CHECK(strcmp(o.trailer, "42") == 0);
            lg_loop_free(loop);
        }
}

/* Redirects: method and body rules, credentials kept to their origin, a
 * limit. */
static void test_redirects(void)
{
    lg_client_config cfg = small_cfg();
    static const struct { int status; const char *method; const char *want_method; int body; } rules[] = {
        { 301, "POST", "GET", 0 }, { 302, "POST", "GET", 0 }, { 303, "POST", "GET", 0 },
        { 303, "PUT", "GET", 0 },  { 307, "POST", "POST", 1 }, { 308, "PUT", "PUT", 1 },
        { 301, "PUT", "PUT", 1 },  { 303, "HEAD", "HEAD", 0 },
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        char r1[200];
        snprintf(r1, sizeof r1,
                 "HTTP/1.1 %d Moved\r\nLocation: ../b?x=1\r\nConnection: close\r\n"
                 "Content-Length: 3\r\n\r\nabc",
                 rules[i].status);
        const char *r2 = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        fault_sock a = { .in = r1, .in_len = strlen(r1), .in_end = FAULT_EOF };
        fault_sock b = { .in = r2, .in_len = strlen(r2), .in_end = FAULT_SILENT };
        lg_header hv[] = { { LG_STR("Content-Type"), LG_STR("text/plain") },
                           { LG_STR("Authorization"), LG_STR("Bearer t") } };
        lg_request req = { .method = rules[i].method, .url = "http://10.0.0.1/dir/a", .body = "data",
                           .body_len = 4, .headers = hv, .num_headers = 2 };
        fault_net_free(&FN);
        fault_net_init(&FN);
        lg_loop *loop = fault_loop_new(&FN);
        lg_client *cli = lg_client_new(loop, &cfg);
        fault_expect_connect(&FN, &a);
        fault_expect_connect(&FN, &b);
        outcome o;
        memset(&o, 0, sizeof o);
        lg_fetch(cli, &req, outcome_on_response, &o);
        CHECK_EQ_INT(outcome_wait(loop, cli, &o), 0);
        CHECK_EQ_INT(o.err, LG_OK);
        CHECK_EQ_INT(o.redirects, 1);
        CHECK(strcmp(o.url, "http://10.0.0.1/b?x=1") == 0);
        int is_head = strcmp(rules[i].method, "HEAD") == 0;
        if (!is_head) CHECK(o.body_len == 2 && memcmp(o.body, "ok", 2) == 0);
        fault_sock *k = fault_connected(&FN, 1);
        char line[64];
        snprintf(line, sizeof line, "%s /b?x=1 HTTP/1.1\r\n", rules[i].want_method);
        CHECK(k && k->out_len > strlen(line) && memcmp(k->out, line, strlen(line)) == 0);
        int has_body = k && k->out_len > 4 && memcmp(k->out + k->out_len - 4, "data", 4) == 0;
        int has_type = k && memmem(k->out, k->out_len, "Content-Type", 12) != NULL;
        if (!is_head) CHECK_EQ_INT(has_body, rules[i].body);
        if (!is_head) CHECK_EQ_INT(has_type, rules[i].body);
        /* same origin: credentials stay */
        CHECK(k && memmem(k->out, k->out_len, "Authorization: Bearer t", 23) != NULL);
        lg_loop_free(loop);
    }

    /* Another origin: no credentials, given or from the userinfo. */
    const char *cross = "HTTP/1.1 302 Found\r\nLocation: http://10.0.0.2:81/x\r\nContent-Length: 0\r\n\r\n";
    const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    lg_header hv[] = { { LG_STR("Authorization"), LG_STR("Bearer t") },
                       { LG_STR("Cookie"), LG_STR("a=1") },
                       { LG_STR("X-Other"), LG_STR("kept") } };
    fault_sock a = { .in = cross, .in_len = strlen(cross), .in_end = FAULT_SILENT };
    fault_sock b = { .in = ok, .in_len = strlen(ok), .in_end = FAULT_SILENT };
    for (int with_userinfo = 0; with_userinfo < 2; with_userinfo++) {
        lg_request req = { .url = with_userinfo ? "http://me:pw@10.0.0.1/" : "http://10.0.0.1/",
                           .headers = hv, .num_headers = with_userinfo ? 0 : 3 };
        fault_net_free(&FN);
        fault_net_init(&FN);
        lg_loop *loop = fault_loop_new(&FN);
        lg_client *cli = lg_client_new(loop, &cfg);
        fault_expect_connect(&FN, &a);
        fault_expect_connect(&FN, &b);
        outcome o;
        memset(&o, 0, sizeof o);
        lg_fetch(cli, &req, outcome_on_response, &o);
        CHECK_EQ_INT(outcome_wait(loop, cli, &o), 0);
        CHECK_EQ_INT(o.err, LG_OK);
        CHECK_EQ_INT(FN.connect_addr[1].port, 81);
        fault_sock *k0 = fault_connected(&FN, 0), *k1 = fault_connected(&FN, 1);
        CHECK(k0 && memmem(k0->out, k0->out_len, "Authorization", 13) != NULL);
        CHECK(k1 && memmem(k1->out, k1->out_len, "Authorization", 13) == NULL);
        CHECK(k1 && memmem(k1->out, k1->out_len, "Cookie", 6) == NULL);
        if (!with_userinfo) CHECK(k1 && memmem(k1->out, k1->out_len, "X-Other: kept", 13) != NULL);
        CHECK(k1 && memmem(k1->out, k1->out_len, "Host: 10.0.0.2:81\r\n", 19) != NULL);
        lg_loop_free(loop);
    }

    /* A limit: the 11th redirect is refused; with NO_REDIRECTS the 3xx is
     * the answer. */
    const char *loop_resp = "HTTP/1.1 307 Again\r\nLocation: /again\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    fault_net_free(&FN);
    fault_net_init(&FN);
    lg_loop *loop = fault_loop_new(&FN);
    lg_client *cli = lg_client_new(loop, &cfg);
    for (int i = 0; i < 12; i++) {
        fault_sock s = { .in = loop_resp, .in_len = strlen(loop_resp), .in_end = FAULT_EOF };
        fault_expect_connect(&FN, &s);
    }
    outcome o;
    memset(&o, 0, sizeof o);
    lg_request req = { .url = "http://10.0.0.1/" };
    lg_fetch(cli, &req, outcome_on_response, &o);
    CHECK_EQ_INT(outcome_wait(loop, cli, &o), 0);
    CHECK_EQ_INT(o.err, LG_ERR_REDIRECTS);
    CHECK_EQ_INT(o.status, 307);
    CHECK_EQ_INT(o.redirects, 10);
    CHECK_EQ_INT(FN.connects_made, 11);
    lg_loop_free(loop);

    fault_sock s = { .in = loop_resp, .in_len = strlen(loop_resp), .in_end = FAULT_EOF };
    req.flags = LG_FETCH_NO_REDIRECTS;
    CHECK_EQ_INT(run(&req, &cfg, &s, &o, NULL), 0);
    CHECK_EQ_INT(o.err, LG_OK);
    CHECK_EQ_INT(o.status, 307);
    CHECK_EQ_INT(o.redirects, 0);
}

/* Timeouts: connect, each read, the whole request. */
static void test_timeouts(void)
{
    lg_client_config cfg = small_cfg();
    cfg.connect_timeout_ms = 300;
    fault_net_free(&FN);
    fault_net_init(&FN);
    lg_loop *loop = fault_loop_new(&FN);
    lg_client *cli = lg_client_new(loop, &cfg);
    fault_expect_connect_error(&FN, FAULT_CONNECT_HANG);
    outcome o;
    memset(&o, 0, sizeof o);
    lg_request req = { .url = "http://10.0.0.1/" };
    uint64_t t0 = FN.now_ms;
    lg_fetch(cli, &req, outcome_on_response, &o);
    CHECK_EQ_INT(outcome_wait(loop, cli, &o), 0);
    CHECK_EQ_INT(o.err, LG_ERR_TIMEOUT);
    CHECK_EQ_INT(o.stage, LG_STAGE_CONNECT);
    CHECK(FN.now_ms - t0 >= 300);
    lg_loop_free(loop);

    /* refused, and unreachable */
    int errs[] = { LG_ERR_REFUSED, LG_ERR_UNREACHABLE };
    for (int i = 0; i < 2; i++) {
        fault_net_free(&FN);
        fault_net_init(&FN);
        loop = fault_loop_new(&FN);
        cli = lg_client_new(loop, &cfg);
        fault_expect_connect_error(&FN, errs[i]);
        memset(&o, 0, sizeof o);
        lg_fetch(cli, &req, outcome_on_response, &o);
        CHECK_EQ_INT(outcome_wait(loop, cli, &o), 0);
        CHECK_EQ_INT(o.err, errs[i]);
        CHECK_EQ_INT(o.stage, LG_STAGE_CONNECT);
        lg_loop_free(loop);
    }

    /* read timeout: the time is from the last byte, not from the start */
    const char *partial = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    fault_sock s = { .in = partial, .in_len = strlen(partial), .in_end = FAULT_SILENT };
    cfg.read_timeout_ms = 700;
    fault_net_free(&FN);
    fault_net_init(&FN);
    loop = fault_loop_new(&FN);
    cli = lg_client_new(loop, &cfg);
    fault_expect_connect(&FN, &s);
    memset(&o, 0, sizeof o);
    t0 = FN.now_ms;
    lg_fetch(cli, &req, outcome_on_response, &o);
    CHECK_EQ_INT(outcome_wait(loop, cli, &o), 0);
    CHECK_EQ_INT(o.err, LG_ERR_TIMEOUT);
    CHECK_EQ_INT(o.stage, LG_STAGE_BODY);
    CHECK_EQ_INT(o.body_bytes, 3);
    CHECK(FN.now_ms - t0 >= 700);
    lg_loop_free(loop);

    /* the whole request, shorter than the read timeout */
    req.timeout_ms = 250;
    fault_net_free(&FN);
    fault_net_init(&FN);
    loop = fault_loop_new(&FN);
    cli = lg_client_new(loop, &cfg);
    fault_expect_connect(&FN, &s);
    memset(&o, 0, sizeof o);
    t0 = FN.now_ms;
    lg_fetch(cli, &req, outcome_on_response, &o);
    int it = 0;
    while (!o.calls && it++ < 1000) lg_loop_run_once(loop, -1);
    CHECK_EQ_INT(o.err, LG_ERR_TIMEOUT);
    CHECK(FN.now_ms - t0 >= 250 && FN.now_ms - t0 < 700);
    lg_client_free(cli);
    fault_run(loop, 10000);
    lg_loop_free(loop);
}

/* Cancel: at every stage, the callback runs once with LG_ERR_CANCELLED;
 * from inside on_body too. Freeing the client cancels what is in flight. */
static int cancel_in_body(lg_response *res, lg_str chunk, void *user)
{
    (void)chunk;
    (void)user;
    lg_call_cancel(res->call);
    return 0;
}

static void test_cancel(void)
{
    lg_client_config cfg = small_cfg();
    const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    for (int when = 0; when < 4; when++) {
        fault_sock s = { .in = resp, .in_len = when < 2 ? 0 : strlen(resp), .in_end = FAULT_SILENT };
        fault_net_free(&FN);
        fault_net_init(&FN);
        lg_loop *loop = fault_loop_new(&FN);
        lg_client *cli = lg_client_new(loop, &cfg);
        fault_expect_connect(&FN, &s);
        outcome o;
        memset(&o, 0, sizeof o);
        lg_request req = { .url = "http://10.0.0.1/", .on_body = when == 3 ? cancel_in_body : NULL };
        lg_call *call = lg_fetch(cli, &req, outcome_on_response, &o);
        if (when == 0) {
            lg_call_cancel(call); /* before it connected */
            CHECK_EQ_INT(o.calls, 1);
        } else {
            for (int i = 0; i < 20; i++) lg_loop_run_once(loop, 0);
            if (when < 3) lg_call_cancel(call);
        }
        CHECK_EQ_INT(outcome_wait(loop, cli, &o), 0);
        CHECK_EQ_INT(o.calls, 1);
        CHECK_EQ_INT(o.err, LG_ERR_CANCELLED);
        lg_loop_free(loop);
    }
    /* lg_client_free with calls in flight */
    fault_net_free(&FN);
    fault_net_init(&FN);
    lg_loop *loop = fault_loop_new(&FN);
    lg_client *cli = lg_client_new(loop, &cfg);
    fault_sock s = { .in_end = FAULT_SILENT };
    outcome o[3];
    memset(o, 0, sizeof o);
    for (int i = 0; i < 3; i++) {
        fault_expect_connect(&FN, &s);
        lg_request req = { .url = "http://10.0.0.1/" };
        lg_fetch(cli, &req, outcome_on_response, &o[i]);
    }
    for (int i = 0; i < 5; i++) lg_loop_run_once(loop, 0);
    lg_client_free(cli);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(o[i].calls, 1);
        CHECK_EQ_INT(o[i].err, LG_ERR_CANCELLED);
    }
    CHECK(fault_run(loop, 100000) > 0);
    lg_loop_free(loop);
}

/* lg_client_free from inside a response callback, with other calls in
 * flight (one connecting, one waiting for a slot): each gets its callback
 * once, with LG_ERR_CANCELLED, and everything is released. */
static void free_in_callback(lg_response *res, void *user)
{
    outcome *o = user;
    outcome_on_response(res, o);
    lg_client_free(o->cli);
}

static void test_free_in_callback(void)
{
    lg_client_config cfg = small_cfg();
    cfg.max_conns_per_origin = 2;
    const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx";
    fault_net_free(&FN);
    fault_net_init(&FN);
    lg_loop *loop = fault_loop_new(&FN);
    lg_client *cli = lg_client_new(loop, &cfg);
    fault_sock a = { .in = resp, .in_len = strlen(resp), .in_end = FAULT_SILENT };
    fault_sock b = { .in_end = FAULT_SILENT };
    fault_expect_connect(&FN, &a);
    fault_expect_connect(&FN, &b);
    outcome o[3];
    memset(o, 0, sizeof o);
    for (int i = 0; i < 3; i++) o[i].cli = cli;
    lg_request req = { .url = "http://10.0.0.1/" };
    lg_fetch(cli, &req, free_in_callback, &o[0]);
    lg_fetch(cli, &req, outcome_on_response, &o[1]);
    lg_fetch(cli, &req, outcome_on_response, &o[2]); /* waits: two per origin */
    CHECK(fault_run(loop, 100000) > 0);
    CHECK_EQ_INT(o[0].calls, 1);
    CHECK_EQ_INT(o[0].err, LG_OK);
    for (int i = 1; i < 3; i++) {
        CHECK_EQ_INT(o[i].calls, 1);
        CHECK_EQ_INT(o[i].err, LG_ERR_CANCELLED);
    }
    lg_loop_free(loop);
}

/* The pool's limit per origin: the fourth call waits for a free slot. */
static void test_pool_limit(void)
{
    lg_client_config cfg = small_cfg();
    cfg.max_conns_per_origin = 2;
    const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx";
    fault_net_free(&FN);
    fault_net_init(&FN);
    lg_loop *loop = fault_loop_new(&FN);
    lg_client *cli = lg_client_new(loop, &cfg);
    for (int i = 0; i < 5; i++) {
        fault_sock s = { .in = resp, .in_len = strlen(resp), .in_end = FAULT_EOF };
        fault_expect_connect(&FN, &s);
    }
    outcome o[5];
    memset(o, 0, sizeof o);
    for (int i = 0; i < 5; i++) {
        lg_request req = { .url = "http://10.0.0.1/" };
        lg_fetch(cli, &req, outcome_on_response, &o[i]);
    }
    int max_open = 0;
    for (int it = 0; it < 1000; it++) {
        int open = 0, done = 0;
        for (int i = 0; i < FN.connects_made; i++) {
            fault_sock *k = fault_connected(&FN, i);
            if (k && !k->closed) open++;
        }
        if (open > max_open) max_open = open;
        for (int i = 0; i < 5; i++) done += o[i].calls;
        if (done == 5) break;
        lg_loop_run_once(loop, -1);
    }
    CHECK_EQ_INT(max_open, 2);
    for (int i = 0; i < 5; i++) CHECK_EQ_INT(o[i].err, LG_OK);
    CHECK_EQ_INT(FN.connects_made, 5);
    lg_client_free(cli);
    CHECK(fault_run(loop, 100000) > 0);
    lg_loop_free(loop);
}

int main(void)
{
    test_request_bytes();
    test_bad_requests();
    test_bad_responses();
    test_every_ending_every_offset();
    test_send_failure_every_offset();
    test_early_response();
    test_body_leaves_with_head();
    test_producer_chunked();
    test_expect_continue();
    test_keep_alive_and_retry();
    test_https_transport_factory();
    test_stream_and_pause();
    test_redirects();
    test_timeouts();
    test_cancel();
    test_pool_limit();
    test_free_in_callback();
    fault_net_free(&FN);
    TEST_MAIN_END();
}
