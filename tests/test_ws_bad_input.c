/*
 * WebSocket connections against peers that break the rules or stop
 * playing (issue 16's list), over loopback; raw peers on threads, linger
 * on the loop's thread:
 *
 *  server side (a raw client):
 *   - every frame the codec refuses is answered with its Close code
 *     (1002, 1007, 1009), then the server closes TCP (FIN, never RST);
 *   - a peer that never answers our Close: closed after close_timeout;
 *   - a dead peer (no answer to the keep-alive ping): closed (1011);
 *   - a slow reader: its queue stays bounded (LG_ERR_AGAIN), and the
 *     send timeout ends it;
 *   - a ping flood from a peer that reads nothing: the pongs queued stay
 *     bounded (the latest ping is answered once there is room);
 *  client side (a raw server):
 *   - a masked frame, a reserved opcode, bad UTF-8: the client's Close
 *     says 1002 / 1007;
 *   - a server that answers the Close but never closes TCP: the client
 *     closes after close_timeout, gracefully;
 *   - handshakes that must be refused: a wrong Accept, an extension or a
 *     subprotocol not offered, no Upgrade;
 *   - a handshake given up (lg_ws_close) before its answer came.
 * Nothing is ever reset (the loop's aborts stay 0, and no raw peer reads
 * ECONNRESET).
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#include "linger.h"
#include "linger_ws.h"
#include "tcp_peer.h"
#include "test.h"

static lg_loop *loop;
static lg_server *srv;
static uint16_t port;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#define RUN_UNTIL(cond, ms)                                                              \
    do {                                                                                 \
        for (uint64_t end_ = now_ms() + (uint64_t)(ms); !(cond) && now_ms() < end_;) \
            lg_loop_run_once(loop, 5);                                                   \
    } while (0)

/* Join a peer thread while the loop runs on: a peer blocked in send waits
 * for the server to read, which it does only while the loop runs (a plain
 * pthread_join after a deadline could wait for ever on a loaded machine).
 * A peer still going after `ms` fails the test rather than hang it. */
static void join_running(pthread_t t, atomic_int *done, unsigned ms, const char *what)
{
    RUN_UNTIL(atomic_load(done), ms);
    if (!atomic_load(done)) {
        fprintf(stderr, "%s: the peer thread is still running after %u ms\n", what, ms);
        exit(1);
    }
    pthread_join(t, NULL);
}

/* ---------------------------------------------------------------------------
 * Raw frames
 * ------------------------------------------------------------------------ */

/* A frame's bytes into out: opcode byte as given (FIN, RSV bits, opcode),
 * a length form chosen by the length (or forced 127 with top bit: len64),
 * masked with a fixed key when mask is set. */
static size_t frame(char *out, unsigned first, const void *payload, size_t n, int mask)
{
    static const unsigned char key[4] = { 0x37, 0xfa, 0x21, 0x3d };
    size_t k = 0;
    out[k++] = (char)first;
    unsigned m = mask ? 0x80u : 0u;
    if (n < 126) {
        out[k++] = (char)(m | n);
    } else if (n < 65536) {
        out[k++] = (char)(m | 126);
        out[k++] = (char)(n >> 8);
        out[k++] = (char)n;
    } else {
        out[k++] = (char)(m | 127);
        for (int i = 7; i >= 0; i--) out[k++] = (char)((uint64_t)n >> (8 * i));
    }
    if (mask) memcpy(out + k, key, 4), k += 4;
    for (size_t i = 0; i < n; i++)
        out[k + i] = (char)(((const unsigned char *)payload)[i] ^ (mask ? key[i & 3] : 0));
    return k + n;
}

/* Receive with a deadline: > 0 bytes, 0 at EOF, -errno, or -ETIMEDOUT. */
static ssize_t recv_wait(int fd, void *buf, size_t n, int ms)
{
    struct pollfd p = { fd, POLLIN, 0 };
    if (poll(&p, 1, ms) <= 0) return -ETIMEDOUT;
    ssize_t r = recv(fd, buf, n, 0);
    return r < 0 ? -errno : r;
}

typedef struct rframe {
    unsigned first;     /* FIN/RSV/opcode byte */
    size_t len;
    char payload[256];  /* the first 256 bytes of it */
} rframe;

/* Read one unmasked frame (or, masked, from a client); 1, 0 at EOF, < 0. */
static int read_frame(int fd, rframe *f, int ms)
{
    unsigned char h[14];
    size_t need = 2, have = 0;
    while (have < need) {
        ssize_t r = recv_wait(fd, h + have, need - have, ms);
        if (r <= 0) return have ? -EPROTO : (int)r;
        have += (size_t)r;
        if (have >= 2) {
            size_t l7 = h[1] & 0x7fu;
            need = 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + (h[1] & 0x80u ? 4 : 0);
        }
    }
    size_t l7 = h[1] & 0x7fu, len = l7;
    if (l7 == 126) len = (size_t)h[2] << 8 | h[3];
    if (l7 == 127) {
        len = 0;
        for (int i = 0; i < 8; i++) len = len << 8 | h[2 + i];
    }
    const unsigned char *key = h[1] & 0x80u ? h + need - 4 : NULL;
    f->first = h[0];
    f->len = len;
    for (size_t got = 0; got < len;) {
        char tmp[4096];
        size_t want = len - got < sizeof tmp ? len - got : sizeof tmp;
        ssize_t r = recv_wait(fd, tmp, want, ms);
        if (r <= 0) return -EPROTO;
        for (ssize_t i = 0; i < r; i++) {
            size_t at = got + (size_t)i;
            if (at < sizeof f->payload)
                f->payload[at] = (char)(tmp[i] ^ (key ? key[at & 3] : 0));
        }
        got += (size_t)r;
    }
    return 1;
}

static unsigned close_code_of(const rframe *f)
{
    if ((f->first & 0x0f) != LG_WS_CLOSE || f->len < 2) return 0;
    return (unsigned)(unsigned char)f->payload[0] << 8 | (unsigned char)f->payload[1];
}

/* ---------------------------------------------------------------------------
 * The server and its side of the connections
 * ------------------------------------------------------------------------ */

typedef struct sside {
    lg_ws *ws;
    int closed, code, error;
    size_t max_queued_seen;
    int again;
} sside;

static sside ss;

static void s_open(lg_ws *ws)
{
    ss.ws = ws;
}

static void s_message(lg_ws *ws, unsigned op, lg_str d)
{
    lg_ws_send(ws, op, d.ptr, d.len);
}

static void s_close(lg_ws *ws, unsigned code, lg_str reason)
{
    (void)reason;
    ss.closed++;
    ss.code = (int)code;
    ss.error = lg_ws_error(ws);
    ss.ws = NULL;
}

static const lg_ws_callbacks echo_cbs = { .on_open = s_open, .on_message = s_message, .on_close = s_close };

static void on_echo(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_ws_config cfg = { .max_message_bytes = 1000, .close_timeout_ms = 300 };
    lg_ws_accept(req, res, &cfg, &echo_cbs, NULL);
}

/* Closes at once, and waits 1 s for the answer: long enough that "at once"
 * and "after the timeout" stay apart on a loaded machine. */
static void close_open(lg_ws *ws)
{
    s_open(ws);
    lg_ws_close(ws, 4000, "go");
}

static const lg_ws_callbacks closing_cbs = { .on_open = close_open, .on_close = s_close };

static void on_closing(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_ws_config cfg = { .close_timeout_ms = 1000 };
    lg_ws_accept(req, res, &cfg, &closing_cbs, NULL);
}

/* Keep-alive with short times: a ping after 100 ms of quiet, dead 100 ms
 * later. */
static void on_keepalive(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_ws_config cfg = { .ping_interval_ms = 100, .pong_timeout_ms = 100, .close_timeout_ms = 300 };
    lg_ws_accept(req, res, &cfg, &echo_cbs, NULL);
}

/* Sends as fast as it may to a reader that may be slow. */
static void flood(lg_ws *ws)
{
    static char chunk[1000];
    for (;;) {
        uint64_t q = lg_ws_queued(ws);
        if (q > ss.max_queued_seen) ss.max_queued_seen = (size_t)q;
        int rc = lg_ws_send_binary(ws, chunk, sizeof chunk);
        if (rc != LG_OK) {
            if (rc == LG_ERR_AGAIN) ss.again++;
            return;
        }
    }
}

static void flood_open(lg_ws *ws)
{
    s_open(ws);
    flood(ws);
}

static const lg_ws_callbacks flood_cbs = { .on_open = flood_open, .on_drain = flood, .on_close = s_close };

static void on_flood(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_ws_config cfg = { .max_queued_bytes = 20000 };
    lg_ws_accept(req, res, &cfg, &flood_cbs, NULL);
}

static void on_pings(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_ws_config cfg = { .max_queued_bytes = 4096 };
    lg_ws_accept(req, res, &cfg, &echo_cbs, NULL);
}

/* ---------------------------------------------------------------------------
 * Raw clients
 * ------------------------------------------------------------------------ */

/* A connection to the server; a small receive buffer (rcvbuf > 0) makes
 * the kernel's buffers fill soon when nothing is read. */
static int raw_connect(int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(0x7f000001);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int raw_handshake(const char *path, int rcvbuf)
{
    int fd = raw_connect(rcvbuf);
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     path);
    peer_send_all(fd, req, (size_t)n);
    /* the 101 head, byte by byte so nothing after it is taken */
    char head[1024];
    size_t k = 0;
    while (k < sizeof head - 1) {
        ssize_t r = recv_wait(fd, head + k, 1, 3000);
        if (r <= 0) break;
        k++;
        if (k >= 4 && !memcmp(head + k - 4, "\r\n\r\n", 4)) break;
    }
    head[k] = 0;
    if (strncmp(head, "HTTP/1.1 101 ", 13) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

typedef struct job {
    const char *path;
    char send[2048];
    size_t send_len;
    int answer_close;      /* answer the server's Close */
    int read_delay_ms;     /* before reading anything */
    int pings;             /* a ping flood first, reading nothing */
    /* results */
    unsigned close_code;   /* of the server's Close, 0 if none */
    int frames;            /* before the Close */
    int eof, reset, timed_out, cut;
    uint64_t eof_after_ms; /* from the last send to EOF */
    atomic_int done;
} job;

static void *raw_client(void *arg)
{
    job *j = arg;
    int fd = raw_handshake(j->path, j->pings ? 4096 : 0);
    if (fd < 0) {
        atomic_store(&j->done, 1);
        return NULL;
    }
    if (j->pings) {
        char p[140], payload[125];
        memset(payload, 'p', sizeof payload);
        size_t n = frame(p, 0x89, payload, sizeof payload, 1);
        for (int i = 0; i < j->pings; i++) peer_send_all(fd, p, n);
    }
    if (j->send_len) peer_send_all(fd, j->send, j->send_len);
    uint64_t sent_at = now_ms();
    if (j->read_delay_ms) usleep((useconds_t)j->read_delay_ms * 1000);
    for (;;) {
        rframe f;
        int r = read_frame(fd, &f, 5000);
        if (r == 0) {
            j->eof = 1;
            break;
        }
        if (r == -ECONNRESET) j->reset = 1;
        if (r == -ETIMEDOUT) j->timed_out = 1;
        if (r == -EPROTO) j->cut = 1; /* the stream ended inside a frame */
        if (r < 0) break;
        if ((f.first & 0x0f) == LG_WS_CLOSE) {
            j->close_code = close_code_of(&f);
            if (j->answer_close) {
                char c[16];
                size_t n = frame(c, 0x88, f.payload, f.len < 2 ? f.len : 2, 1);
                peer_send_all(fd, c, n);
            }
            /* then the server's FIN */
            char tmp[64];
            ssize_t e = recv_wait(fd, tmp, sizeof tmp, 5000);
            j->eof = e == 0;
            j->reset = e == -ECONNRESET;
            j->timed_out = e == -ETIMEDOUT;
            break;
        }
        j->frames++;
    }
    j->eof_after_ms = now_ms() - sent_at;
    close(fd);
    atomic_store(&j->done, 1);
    return NULL;
}

static void run_job(job *j)
{
    memset(&ss, 0, sizeof ss);
    pthread_t t;
    atomic_store(&j->done, 0);
    pthread_create(&t, NULL, raw_client, j);
    RUN_UNTIL(atomic_load(&j->done) && ss.closed, 15000);
    join_running(t, &j->done, 30000, j->path);
    RUN_UNTIL(lg_server_get_stats(srv)->active_connections == 0, 5000);
    CHECK_EQ_INT(lg_server_get_stats(srv)->active_connections, 0);
}

/* Each refusal: the bytes, the Close code the server must answer with. */
typedef struct refusal {
    const char *what;
    char bytes[2048];
    size_t len;
    unsigned code;
    int error;
} refusal;

static refusal cases[32];
static int ncases;

static refusal *add_case(const char *what, unsigned code, int error)
{
    refusal *c = &cases[ncases++];
    c->what = what;
    c->code = code;
    c->error = error;
    return c;
}

static void add_frame(refusal *c, unsigned first, const void *payload, size_t len)
{
    c->len += frame(c->bytes + c->len, first, payload, len, 1);
}

static void add_bytes(refusal *c, const char *bytes, size_t len)
{
    memcpy(c->bytes + c->len, bytes, len);
    c->len += len;
}

static void test_refusals(void)
{
    static char big[2000];
    memset(big, 'x', sizeof big);
    refusal *c;
    /* framing */
    c = add_case("unmasked frame from a client", 1002, LG_ERR_WS_MASK);
    c->len = frame(c->bytes, 0x81, "hi", 2, 0);
    add_frame(add_case("RSV1 without an extension", 1002, LG_ERR_WS_RESERVED_BITS), 0xC1, "hi", 2);
    add_frame(add_case("RSV2", 1002, LG_ERR_WS_RESERVED_BITS), 0xA1, "hi", 2);
    add_frame(add_case("RSV3 on a ping", 1002, LG_ERR_WS_RESERVED_BITS), 0x99, "", 0);
    add_frame(add_case("reserved opcode 3", 1002, LG_ERR_WS_OPCODE), 0x83, "", 0);
    add_frame(add_case("reserved opcode 0xB", 1002, LG_ERR_WS_OPCODE), 0x8B, "x", 1);
    add_frame(add_case("fragmented ping", 1002, LG_ERR_WS_CONTROL_FRAME), 0x09, "x", 1);
    add_frame(add_case("ping of 126 bytes", 1002, LG_ERR_WS_CONTROL_FRAME), 0x89, big, 126);
    add_frame(add_case("close of 1 byte", 1002, LG_ERR_WS_CLOSE_PAYLOAD), 0x88, "\x03", 1);
    add_frame(add_case("close code 1005", 1002, LG_ERR_WS_CLOSE_PAYLOAD), 0x88, "\x03\xed", 2);
    add_frame(add_case("close code 999", 1002, LG_ERR_WS_CLOSE_PAYLOAD), 0x88, "\x03\xe7", 2);
    add_frame(add_case("close code 5000", 1002, LG_ERR_WS_CLOSE_PAYLOAD), 0x88, "\x13\x88", 2);
    add_frame(add_case("close reason not UTF-8", 1007, LG_ERR_WS_UTF8), 0x88, "\x03\xe8\xff", 3);
    add_frame(add_case("continuation with nothing to continue", 1002, LG_ERR_WS_FRAGMENT), 0x80, "x", 1);
    c = add_case("new message inside a fragmented one", 1002, LG_ERR_WS_FRAGMENT);
    add_frame(c, 0x01, "a", 1);
    add_frame(c, 0x81, "b", 1);
    /* text */
    add_frame(add_case("text not UTF-8", 1007, LG_ERR_WS_UTF8), 0x81, "ok\xc0\xaf", 4);
    c = add_case("text not UTF-8 across fragments", 1007, LG_ERR_WS_UTF8);
    add_frame(c, 0x01, "\xe2\x82", 2);
    add_frame(c, 0x89, "", 0); /* a ping between is fine */
    add_frame(c, 0x80, "\x28", 1);
    c = add_case("text ending inside a character", 1007, LG_ERR_WS_UTF8);
    add_frame(c, 0x01, "\xf0\x9f", 2);
    add_frame(c, 0x80, "", 0);
    /* sizes: the route allows 1000 bytes */
    add_frame(add_case("message of 1001 bytes", 1009, LG_ERR_WS_TOO_BIG), 0x82, big, 1001);
    c = add_case("fragments adding up to 1001 bytes", 1009, LG_ERR_WS_TOO_BIG);
    add_frame(c, 0x02, big, 600);
    add_frame(c, 0x80, big, 401);
    /* headers alone announcing 2^63 and 2^63 - 1 bytes */
    add_bytes(add_case("64-bit length, top bit set", 1002, LG_ERR_WS_LENGTH),
              "\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00", 10);
    add_bytes(add_case("a frame of 2^63 - 1 bytes announced", 1009, LG_ERR_WS_TOO_BIG),
              "\x82\xff\x7f\xff\xff\xff\xff\xff\xff\xff", 10);

    for (int i = 0; i < ncases; i++) {
        job j;
        memset(&j, 0, sizeof j);
        j.path = "/echo";
        memcpy(j.send, cases[i].bytes, cases[i].len);
        j.send_len = cases[i].len;
        j.answer_close = 1;
        run_job(&j);
        CHECK_EQ_INT(j.close_code, cases[i].code);
        CHECK_EQ_INT(j.eof, 1);
        CHECK_EQ_INT(j.reset, 0);
        CHECK_EQ_INT(ss.closed, 1);
        CHECK_EQ_INT(ss.error, cases[i].error);
        if (j.close_code != cases[i].code || !j.eof || ss.error != cases[i].error)
            fprintf(stderr, "  case '%s': close %u, eof %d, error %s\n", cases[i].what, j.close_code,
                    j.eof, lg_err_name(ss.error));
    }
    printf("%d refusals answered with their close codes\n", ncases);
}

static void test_endings(void)
{
    /* A peer that never answers our Close (nor reads on): closed after
     * close_timeout (1 s), FIN first. */
    job j;
    memset(&j, 0, sizeof j);
    j.path = "/closing";
    run_job(&j);
    CHECK_EQ_INT(j.close_code, 4000);
    CHECK_EQ_INT(j.eof, 1);
    CHECK(j.eof_after_ms >= 950 && j.eof_after_ms < 5000);
    CHECK_EQ_INT(ss.error, LG_ERR_TIMEOUT);
    CHECK_EQ_INT(ss.code, LG_WS_CLOSE_ABNORMAL);

    /* The same, answered: a clean close, at once. */
    memset(&j, 0, sizeof j);
    j.path = "/closing";
    j.answer_close = 1;
    run_job(&j);
    CHECK_EQ_INT(j.close_code, 4000);
    CHECK_EQ_INT(j.eof, 1);
    CHECK(j.eof_after_ms < 700);
    CHECK_EQ_INT(ss.error, 0);
    CHECK_EQ_INT(ss.code, 4000);

    /* A dead peer: the keep-alive ping after 100 ms, no answer, closed
     * (1011) 100 ms later. */
    memset(&j, 0, sizeof j);
    j.path = "/keepalive";
    j.read_delay_ms = 600; /* says nothing, reads nothing for a while */
    run_job(&j);
    CHECK_EQ_INT(j.frames, 1); /* the ping */
    CHECK_EQ_INT(j.close_code, LG_WS_CLOSE_INTERNAL_ERROR);
    CHECK_EQ_INT(j.eof, 1);
    CHECK_EQ_INT(ss.error, LG_ERR_TIMEOUT);

    /* A slow reader: the flood stops at the queue's bound; the send
     * timeout (400 ms of no progress) ends it; what was sent arrives,
     * then EOF. */
    memset(&j, 0, sizeof j);
    j.path = "/flood";
    j.read_delay_ms = 1500;
    run_job(&j);
    CHECK(ss.again >= 1);
    CHECK(ss.max_queued_seen < 20000 + 1100);
    CHECK_EQ_INT(ss.error, LG_ERR_TIMEOUT);
    CHECK(j.frames > 10);
    CHECK(j.eof || j.cut); /* what was queued went, maybe to the middle of a frame */
    CHECK_EQ_INT(j.reset, 0);
    printf("slow reader: %d frames before the send timeout, at most %zu bytes queued\n", j.frames,
           ss.max_queued_seen);

    /* A ping flood from a peer reading nothing: pongs fill the queue to its
     * bound (4 KiB here), no further. */
    memset(&j, 0, sizeof j);
    j.path = "/pings";
    j.pings = 60000;
    static const char bye[] = "\x88\x82\x37\xfa\x21\x3d\x34\x12"; /* masked Close 1000 */
    memcpy(j.send, bye, 8);
    j.send_len = 8;
    j.answer_close = 0;
    memset(&ss, 0, sizeof ss);
    pthread_t t;
    atomic_store(&j.done, 0);
    pthread_create(&t, NULL, raw_client, &j);
    size_t most = 0;
    for (uint64_t end = now_ms() + 15000; !(atomic_load(&j.done) && ss.closed) && now_ms() < end;) {
        lg_loop_run_once(loop, 5);
        if (ss.ws && lg_ws_queued(ss.ws) > most) most = (size_t)lg_ws_queued(ss.ws);
    }
    join_running(t, &j.done, 30000, "ping flood");
    CHECK(most <= 4096 + LG_WS_MAX_CONTROL_FRAME);
    CHECK(j.frames >= 1 && j.frames < 60000); /* (the latest ping's pong at least) */
    CHECK_EQ_INT(j.close_code, 1000);
    CHECK_EQ_INT(j.eof, 1);
    printf("ping flood: 60000 pings of 125 bytes, %d pongs, at most %zu bytes queued\n", j.frames, most);
    RUN_UNTIL(lg_server_get_stats(srv)->active_connections == 0, 5000);
}

/* ---------------------------------------------------------------------------
 * The client against raw servers
 * ------------------------------------------------------------------------ */

typedef struct rserver {
    int lfd;
    uint16_t port;
    const char *answer;   /* the head after the status line ("" for a good one) */
    int good_accept;
    char send[512];       /* frames to send after the 101 */
    size_t send_len;
    int keep_open;        /* after answering the client's Close, keep TCP open */
    int answer_delay_ms;  /* before the 101 */
    unsigned client_close;/* the client's Close code */
    int eof, reset;
    atomic_int done;
} rserver;

static void *raw_server(void *arg)
{
    rserver *r = arg;
    struct pollfd ready = { .fd = r->lfd, .events = POLLIN };
    if (poll(&ready, 1, 10000) != 1) { /* no client came: say so, never block */
        atomic_store(&r->done, 1);
        return NULL;
    }
    int fd = accept(r->lfd, NULL, NULL);
    char req[2048];
    size_t k = 0;
    while (k < sizeof req - 1) {
        ssize_t n = recv_wait(fd, req + k, 1, 3000);
        if (n <= 0) break;
        k++;
        if (k >= 4 && !memcmp(req + k - 4, "\r\n\r\n", 4)) break;
    }
    req[k] = 0;
    char *key = strstr(req, "Sec-WebSocket-Key: ");
    char accept_[LG_WS_ACCEPT_BYTES] = "x";
    if (key) lg_ws_accept_value((lg_str){ key + 19, 24 }, accept_, sizeof accept_);
    if (!r->good_accept) accept_[3] ^= 1;
    if (r->answer_delay_ms) usleep((useconds_t)r->answer_delay_ms * 1000);
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 101 Switching Protocols\r\n%sSec-WebSocket-Accept: %s\r\n\r\n", r->answer,
                     accept_);
    peer_send_all(fd, head, (size_t)n);
    if (r->send_len) peer_send_all(fd, r->send, r->send_len);
    for (;;) {
        rframe f;
        int got = read_frame(fd, &f, 3000);
        if (got <= 0) {
            r->eof = got == 0;
            r->reset = got == -ECONNRESET;
            break;
        }
        if ((f.first & 0x0f) == LG_WS_CLOSE) {
            r->client_close = close_code_of(&f);
            char c[16];
            size_t m = frame(c, 0x88, f.payload, f.len < 2 ? f.len : 2, 0);
            peer_send_all(fd, c, m);
            if (!r->keep_open) shutdown(fd, SHUT_WR);
        }
    }
    close(fd);
    atomic_store(&r->done, 1);
    return NULL;
}

static int rserver_open(rserver *r)
{
    r->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(0x7f000001);
    if (bind(r->lfd, (struct sockaddr *)&sa, sizeof sa) || listen(r->lfd, 4)) return -1;
    socklen_t len = sizeof sa;
    getsockname(r->lfd, (struct sockaddr *)&sa, &len);
    r->port = ntohs(sa.sin_port);
    return 0;
}

typedef struct cside {
    int opened, closed, code, error, messages;
} cside;

static void c_open(lg_ws *ws)
{
    ((cside *)lg_ws_user(ws))->opened = 1;
}

static void c_message(lg_ws *ws, unsigned op, lg_str d)
{
    (void)op;
    (void)d;
    ((cside *)lg_ws_user(ws))->messages++;
}

static void c_close(lg_ws *ws, unsigned code, lg_str reason)
{
    (void)reason;
    cside *c = lg_ws_user(ws);
    c->closed = 1;
    c->code = (int)code;
    c->error = lg_ws_error(ws);
}

static const lg_ws_callbacks client_cbs = { .on_open = c_open, .on_message = c_message, .on_close = c_close };

static void client_case(lg_client *cli, rserver *r, cside *c, uint32_t close_timeout)
{
    memset(c, 0, sizeof *c);
    CHECK_EQ_INT(rserver_open(r), 0);
    atomic_store(&r->done, 0);
    pthread_t t;
    pthread_create(&t, NULL, raw_server, r);
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/", r->port);
    static const char *const offered[] = { "a", NULL };
    lg_ws_config cfg = { .close_timeout_ms = close_timeout, .protocols = offered };
    CHECK(lg_ws_connect(cli, url, &cfg, &client_cbs, c) != NULL);
    RUN_UNTIL(c->closed && atomic_load(&r->done), 10000);
    join_running(t, &r->done, 30000, "client case");
    close(r->lfd);
}

static void test_client(void)
{
    lg_client *cli = lg_client_new(loop, NULL);
    static const char good[] = "Upgrade: websocket\r\nConnection: Upgrade\r\n";
    rserver r;
    cside c;
    struct {
        const char *what;
        unsigned first;
        const char *payload;
        size_t len;
        int mask;
        unsigned code;
        int error;
    } frames[] = {
        { "a masked frame from the server", 0x81, "hi", 2, 1, 1002, LG_ERR_WS_MASK },
        { "a reserved opcode", 0x84, "", 0, 0, 1002, LG_ERR_WS_OPCODE },
        { "text not UTF-8", 0x81, "\xed\xa0\x80", 3, 0, 1007, LG_ERR_WS_UTF8 },
        { "a ping of 126 bytes", 0x89, NULL, 126, 0, 1002, LG_ERR_WS_CONTROL_FRAME },
    };
    static char zeros[200];
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        memset(&r, 0, sizeof r);
        r.answer = good;
        r.good_accept = 1;
        r.send_len = frame(r.send, frames[i].first, frames[i].payload ? frames[i].payload : zeros,
                           frames[i].len, frames[i].mask);
        client_case(cli, &r, &c, 2000);
        CHECK_EQ_INT(c.opened, 1);
        CHECK_EQ_INT(r.client_close, frames[i].code);
        CHECK_EQ_INT(c.error, frames[i].error);
        CHECK_EQ_INT(c.code, LG_WS_CLOSE_ABNORMAL); /* it failed the server: no Close awaited */
        CHECK_EQ_INT(r.eof, 1);
        CHECK_EQ_INT(r.reset, 0);
        if (r.client_close != frames[i].code) fprintf(stderr, "  client case '%s'\n", frames[i].what);
    }
    /* A server that sends a message and a Close, answers nothing more and
     * keeps TCP open: the client answers, waits close_timeout (200 ms) for
     * the FIN, then closes itself, gracefully. */
    memset(&r, 0, sizeof r);
    r.answer = good;
    r.good_accept = 1;
    r.keep_open = 1;
    r.send_len = frame(r.send, 0x81, "hello", 5, 0);
    r.send_len += frame(r.send + r.send_len, 0x88, "\x03\xe9", 2, 0);
    uint64_t t0 = now_ms();
    client_case(cli, &r, &c, 200);
    uint64_t took = now_ms() - t0;
    CHECK_EQ_INT(c.messages, 1);
    CHECK_EQ_INT(c.code, 1001);
    CHECK_EQ_INT(c.error, 0);
    CHECK_EQ_INT(r.client_close, 1001);
    CHECK_EQ_INT(r.eof, 1);
    CHECK(took >= 180 && took < 3000);

    /* Handshake answers the client must refuse. */
    struct {
        const char *answer;
        int good_accept;
    } bad[] = {
        { "Upgrade: websocket\r\nConnection: Upgrade\r\n", 0 },
        { "Connection: Upgrade\r\nUpgrade: h2c\r\n", 1 },
        { "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Extensions: permessage-deflate\r\n", 1 },
        { "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: b\r\n", 1 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&r, 0, sizeof r);
        r.answer = bad[i].answer;
        r.good_accept = bad[i].good_accept;
        client_case(cli, &r, &c, 200);
        CHECK_EQ_INT(c.opened, 0);
        CHECK_EQ_INT(c.closed, 1);
        CHECK_EQ_INT(c.code, LG_WS_CLOSE_ABNORMAL);
        CHECK_EQ_INT(c.error, LG_ERR_WS_HANDSHAKE);
        CHECK_EQ_INT(r.reset, 0);
    }
    /* Given up while the handshake is under way: on_close at once
     * (LG_ERR_CANCELLED), and the 101 that comes later is not taken: that
     * connection closes gracefully (EOF at the server, no reset). */
    {
        memset(&r, 0, sizeof r);
        memset(&c, 0, sizeof c);
        r.answer = good;
        r.good_accept = 1;
        r.answer_delay_ms = 300;
        CHECK_EQ_INT(rserver_open(&r), 0);
        pthread_t t;
        pthread_create(&t, NULL, raw_server, &r);
        char url[64];
        snprintf(url, sizeof url, "ws://127.0.0.1:%u/", r.port);
        lg_ws *ws = lg_ws_connect(cli, url, NULL, &client_cbs, &c);
        RUN_UNTIL(0, 100);
        CHECK_EQ_INT(lg_ws_close(ws, 1000, NULL), LG_OK);
        CHECK_EQ_INT(c.closed, 1); /* before lg_ws_close returned */
        CHECK_EQ_INT(c.error, LG_ERR_CANCELLED);
        CHECK_EQ_INT(c.opened, 0);
        join_running(t, &r.done, 30000, "cancelled handshake");
        close(r.lfd);
        CHECK_EQ_INT(r.eof, 1);
        CHECK_EQ_INT(r.reset, 0);
        CHECK_EQ_INT(c.opened, 0);
    }
    /* The agreed subprotocol. */
    memset(&r, 0, sizeof r);
    r.answer = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: a\r\n";
    r.good_accept = 1;
    r.send_len = frame(r.send, 0x88, "\x03\xe8", 2, 0);
    client_case(cli, &r, &c, 200);
    CHECK_EQ_INT(c.opened, 1);
    CHECK_EQ_INT(c.code, 1000);
    CHECK_EQ_INT(c.error, 0);
    lg_client_free(cli);
    RUN_UNTIL(0, 50);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    loop = lg_loop_new(NULL);
    lg_server_config cfg = { 0 };
    cfg.send_timeout_ms = 400;
    cfg.linger_timeout_ms = 1000;
    srv = lg_server_new(loop, &cfg);
    lg_route(srv, "GET", "/echo", on_echo, NULL);
    lg_route(srv, "GET", "/closing", on_closing, NULL);
    lg_route(srv, "GET", "/keepalive", on_keepalive, NULL);
    lg_route(srv, "GET", "/flood", on_flood, NULL);
    lg_route(srv, "GET", "/pings", on_pings, NULL);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:0", 0), LG_OK);
    port = lg_server_port(srv);

    test_refusals();
    test_endings();
    test_client();

    CHECK_EQ_INT(lg_loop_get_stats(loop)->aborts, 0);
    lg_server_free(srv);
    lg_loop_run(loop);
    lg_loop_free(loop);
    TEST_MAIN_END();
}
