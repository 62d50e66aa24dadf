/*
 * WebSocket connections (src/ws_*.c): linger's server and linger's client
 * on one loop, over loopback (and through the test transport too:
 * LINGER_TEST_TRANSPORT=trickle), under both backends.
 *
 *  - echo of text and binary messages at every length form (0, 125, 126,
 *    65535, 65536) up to the 1 MiB default limit, a subprotocol agreed on;
 *  - messages that span reads arrive whole; a streaming receiver gets the
 *    pieces, FIRST and LAST marked;
 *  - the handshake refused: a plain GET (426), another version (426), a
 *    bad key (400), an origin (403): the client's on_close says
 *    LG_ERR_WS_HANDSHAKE and the status;
 *  - the closing handshake from either side with its code and reason, the
 *    server closing TCP first; a message over the limit (1009);
 *  - ping and pong, the keep-alive against a live peer;
 *  - back-pressure: LG_ERR_AGAIN, on_drain, pause and resume, nothing lost
 *    or reordered;
 *  - broadcast to many connections, a slow one skipped or closed;
 *  - another thread sending through lg_ws_post;
 *  - the server's shutdown reaching its WebSockets (1001);
 *  - no reset anywhere (the loop's aborts stay 0).
 */
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdatomic.h>

#include "linger.h"
#include "linger_ws.h"
#include "tcp_peer.h"
#include "test.h"
#include "trickle_transport.h"

static lg_loop *loop;
static lg_server *srv;
static lg_client *cli;
static uint16_t port;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void run_ms(int ms)
{
    for (uint64_t end = now_ms() + (uint64_t)ms; now_ms() < end;) lg_loop_run_once(loop, 5);
}

/* Run the loop until cond holds or ms of real time have passed (the test
 * transport hands bytes over a few at a time: iterations are no measure). */
#define RUN_UNTIL(cond, ms)                                                              \
    do {                                                                                 \
        for (uint64_t end_ = now_ms() + (uint64_t)(ms); !(cond) && now_ms() < end_;) \
            lg_loop_run_once(loop, 5);                                                   \
    } while (0)

/* ---------------------------------------------------------------------------
 * One side of a connection, as a test sees it
 * ------------------------------------------------------------------------ */

typedef struct side {
    lg_ws *ws;
    int opened, closed, close_code, error, messages, pongs, drains, fragments, http;
    int echo;              /* echo each message back */
    char reason[128];
    char *got;             /* messages appended */
    size_t got_len, got_cap;
    unsigned last_opcode;
    size_t last_len;
    unsigned first_flags;  /* streaming: flags seen */
    int bad_flags;
} side;

static void side_append(side *sd, lg_str d)
{
    if (!d.len) return;
    if (sd->got_len + d.len > sd->got_cap) {
        sd->got_cap = (sd->got_len + d.len) * 2 + 64;
        sd->got = realloc(sd->got, sd->got_cap);
    }
    memcpy(sd->got + sd->got_len, d.ptr, d.len);
    sd->got_len += d.len;
}

static void side_reset(side *sd)
{
    free(sd->got);
    memset(sd, 0, sizeof *sd);
}

static void on_open(lg_ws *ws)
{
    side *sd = lg_ws_user(ws);
    sd->ws = ws;
    sd->opened++;
}

static void on_message(lg_ws *ws, unsigned opcode, lg_str data)
{
    side *sd = lg_ws_user(ws);
    sd->messages++;
    sd->last_opcode = opcode;
    sd->last_len = data.len;
    side_append(sd, data);
    if (sd->echo) CHECK_EQ_INT(lg_ws_send(ws, opcode, data.ptr, data.len), LG_OK);
}

static void on_pong(lg_ws *ws, lg_str data)
{
    side *sd = lg_ws_user(ws);
    sd->pongs++;
    side_append(sd, data);
}

static void on_drain(lg_ws *ws)
{
    side *sd = lg_ws_user(ws);
    sd->drains++;
}

static void on_close(lg_ws *ws, unsigned code, lg_str reason)
{
    side *sd = lg_ws_user(ws);
    sd->closed++;
    sd->close_code = (int)code;
    sd->error = lg_ws_error(ws);
    sd->http = lg_ws_http_status(ws);
    snprintf(sd->reason, sizeof sd->reason, "%.*s", (int)reason.len, reason.ptr);
    sd->ws = NULL;
}

static const lg_ws_callbacks side_cbs = { .on_open = on_open,
                                          .on_message = on_message,
                                          .on_pong = on_pong,
                                          .on_drain = on_drain,
                                          .on_close = on_close };

/* ---------------------------------------------------------------------------
 * The server's routes
 * ------------------------------------------------------------------------ */

static side sv;              /* the server's side of the current connection */
static lg_ws_config sv_cfg;  /* what the routes accept with */

static const char *const sv_protocols[] = { "chat", "superchat", NULL };

static void on_ws(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_ws *ws = lg_ws_accept(req, res, &sv_cfg, &side_cbs, &sv);
    if (ws) CHECK(sv.ws == ws && sv.opened == 1);
}

static int check_origin(lg_req *req, lg_str origin, void *user)
{
    (void)req;
    CHECK(user == &sv);
    return !(origin.ptr && origin.len == 11 && !memcmp(origin.ptr, "http://good", 11));
}

/* ---------------------------------------------------------------------------
 * The client's side
 * ------------------------------------------------------------------------ */

static side cl;

static lg_ws *connect_to(const char *path, const lg_ws_config *cfg)
{
    char url[128];
    snprintf(url, sizeof url, "ws://127.0.0.1:%u%s", port, path);
    return lg_ws_connect(cli, url, cfg, &side_cbs, &cl);
}

static void fresh(void)
{
    side_reset(&sv);
    side_reset(&cl);
    memset(&sv_cfg, 0, sizeof sv_cfg);
    sv_cfg.protocols = sv_protocols;
}

/* Both sides closed, and the server's connection is gone. */
static void wait_closed(void)
{
    RUN_UNTIL(sv.closed && cl.closed && lg_server_get_stats(srv)->active_connections == 0, 5000);
    CHECK_EQ_INT(sv.closed, 1);
    CHECK_EQ_INT(cl.closed, 1);
    CHECK_EQ_INT(lg_server_get_stats(srv)->active_connections, 0);
}

/* ---------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------ */

static void fill(char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) p[i] = (char)('a' + (i * 7 + seed) % 26);
}

static void test_echo(void)
{
    fresh();
    sv.echo = 1;
    static const char *const offer[] = { "superchat", "chat", NULL };
    lg_ws_config cfg = { .protocols = offer };
    CHECK(connect_to("/ws", &cfg) != NULL);
    RUN_UNTIL(cl.opened, 3000);
    CHECK_EQ_INT(cl.opened, 1);
    CHECK(cl.ws && strcmp(lg_ws_protocol(cl.ws), "superchat") == 0);
    CHECK(sv.ws && strcmp(lg_ws_protocol(sv.ws), "superchat") == 0);
    CHECK_EQ_INT(lg_ws_http_status(cl.ws), 101);

    static const size_t sizes[] = { 0, 1, 125, 126, 127, 65535, 65536, 300000, 1u << 20 };
    size_t total = 0;
    char *big = malloc(1u << 20);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        fill(big, n, (unsigned)i);
        unsigned op = i % 2 ? LG_WS_BINARY : LG_WS_TEXT;
        int before = cl.messages;
        CHECK_EQ_INT(lg_ws_send(cl.ws, op, big, n), LG_OK);
        RUN_UNTIL(cl.messages > before, 5000);
        CHECK_EQ_INT(cl.messages, before + 1);
        CHECK_EQ_INT(cl.last_opcode, op);
        CHECK_EQ_INT(cl.last_len, n);
        CHECK(cl.got_len == total + n && (!n || memcmp(cl.got + total, big, n) == 0));
        total += n;
    }
    CHECK_EQ_INT(sv.messages, (int)(sizeof sizes / sizeof sizes[0]));
    /* Text that is not UTF-8 is not sent; other opcodes are not data. */
    CHECK_EQ_INT(lg_ws_send_text(cl.ws, "\xc3\x28", 2), LG_ERR_WS_UTF8);
    CHECK_EQ_INT(lg_ws_send(cl.ws, LG_WS_PING, "x", 1), LG_ERR_INVALID_ARG);
    /* A ping, its pong. */
    CHECK_EQ_INT(lg_ws_send_ping(cl.ws, "hello?", 6), LG_OK);
    RUN_UNTIL(cl.pongs, 2000);
    CHECK_EQ_INT(cl.pongs, 1);
    CHECK(cl.got_len == total + 6 && memcmp(cl.got + total, "hello?", 6) == 0);
    free(big);

    /* The client closes: code and reason reach the server, which echoes
     * the code; the server closes TCP first, the client follows its FIN. */
    CHECK_EQ_INT(lg_ws_close(cl.ws, 4001, "done here"), LG_OK);
    CHECK_EQ_INT(lg_ws_close(cl.ws, 1000, NULL), LG_ERR_CLOSED);
    CHECK_EQ_INT(lg_ws_send_text(cl.ws, "late", 4), LG_ERR_CLOSED);
    wait_closed();
    CHECK_EQ_INT(sv.close_code, 4001);
    CHECK(strcmp(sv.reason, "done here") == 0);
    CHECK_EQ_INT(sv.error, 0);
    CHECK_EQ_INT(cl.close_code, 4001);
    CHECK_EQ_INT(cl.error, 0);
}

static void test_server_closes(void)
{
    fresh();
    CHECK(connect_to("/ws", NULL) != NULL);
    RUN_UNTIL(sv.opened && cl.opened, 3000);
    CHECK(sv.ws && lg_ws_protocol(sv.ws) == NULL); /* none offered */
    CHECK_EQ_INT(lg_ws_send_text(sv.ws, "bye now", 7), LG_OK);
    CHECK_EQ_INT(lg_ws_close(sv.ws, LG_WS_CLOSE_GOING_AWAY, "restart"), LG_OK);
    wait_closed();
    CHECK_EQ_INT(cl.messages, 1);
    CHECK_EQ_INT(cl.close_code, 1001);
    CHECK(strcmp(cl.reason, "restart") == 0);
    CHECK_EQ_INT(sv.close_code, 1001); /* the client echoed it */
    CHECK_EQ_INT(sv.error, 0);
    CHECK_EQ_INT(cl.error, 0);
}

static void test_too_big(void)
{
    fresh();
    sv_cfg.max_message_bytes = 1000;
    CHECK(connect_to("/ws", NULL) != NULL);
    RUN_UNTIL(cl.opened, 3000);
    char buf[1001];
    fill(buf, sizeof buf, 1);
    CHECK_EQ_INT(lg_ws_send_binary(cl.ws, buf, 1000), LG_OK);
    CHECK_EQ_INT(lg_ws_send_binary(cl.ws, buf, 1001), LG_OK);
    wait_closed();
    CHECK_EQ_INT(sv.messages, 1);
    CHECK_EQ_INT(sv.error, LG_ERR_WS_TOO_BIG);
    CHECK_EQ_INT(cl.close_code, LG_WS_CLOSE_TOO_BIG);
}

static void test_refusals(void)
{
    struct {
        const char *path;
        lg_header h;
        int status;
    } cases[] = {
        { "/plain", { LG_STR("X-None"), LG_STR("1") }, 200 },     /* not a WebSocket place */
        { "/ws", { LG_STR("Origin"), LG_STR("http://evil") }, 403 },
        { "/ws", { LG_STR("Origin"), LG_STR("http://good") }, 101 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fresh();
        sv_cfg.check_origin = check_origin;
        lg_ws_config cfg = { .headers = &cases[i].h, .num_headers = 1 };
        CHECK(connect_to(cases[i].path, &cfg) != NULL);
        RUN_UNTIL(cl.closed || cl.opened, 3000);
        CHECK_EQ_INT(cl.ws ? lg_ws_http_status(cl.ws) : cl.http, cases[i].status);
        if (cases[i].status == 101) {
            CHECK_EQ_INT(cl.opened, 1);
            lg_ws_close(cl.ws, 1000, NULL);
            wait_closed();
        } else {
            CHECK_EQ_INT(cl.closed, 1);
            CHECK_EQ_INT(cl.close_code, LG_WS_CLOSE_ABNORMAL);
            CHECK_EQ_INT(cl.error, LG_ERR_WS_HANDSHAKE);
            CHECK_EQ_INT(sv.opened, 0);
        }
    }
    /* Raw requests: what a server answers a handshake it refuses. */
    static const struct {
        const char *req;
        const char *status, *field;
    } raw[] = {
        { "GET /ws HTTP/1.1\r\nHost: t\r\n\r\n", "HTTP/1.1 426 ", "Upgrade: websocket\r\n" },
        { "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
          "HTTP/1.1 426 ", "Sec-WebSocket-Version: 13\r\n" },
        { "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Key: short==\r\nSec-WebSocket-Version: 13\r\n\r\n",
          "HTTP/1.1 400 ", "" },
        { "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
          "HTTP/1.1 400 ", "" },
        { "POST /ws HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nUpgrade: websocket\r\n"
          "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          "Sec-WebSocket-Version: 13\r\n\r\n",
          "HTTP/1.1 405 ", "Allow: GET\r\n" },
        { "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
          "Sec-WebSocket-Protocol: x, chat\r\nSec-WebSocket-Protocol: superchat\r\n\r\n",
          "HTTP/1.1 101 ", "Sec-WebSocket-Protocol: chat\r\n" },
    };
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        fresh();
        int fd = peer_connect(port);
        peer_send_all(fd, raw[i].req, strlen(raw[i].req));
        char got[2048];
        size_t n = 0;
        got[0] = 0;
        for (int t = 0; t < 400 && !strstr(got, "\r\n\r\n"); t++) {
            lg_loop_run_once(loop, 5);
            ssize_t r = recv(fd, got + n, sizeof got - 1 - n, MSG_DONTWAIT);
            if (r > 0) n += (size_t)r;
            got[n] = 0;
        }
        CHECK(strncmp(got, raw[i].status, strlen(raw[i].status)) == 0);
        CHECK(strstr(got, raw[i].field) != NULL);
        if (strncmp(got, raw[i].status, strlen(raw[i].status)) || !strstr(got, raw[i].field))
            fprintf(stderr, "  case %zu got: %s\n", i, got);
        if (strstr(raw[i].status, "101")) {
            CHECK(strstr(got, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != NULL);
            /* a masked Close (1000) from the client; the server answers and closes */
            static const char close_frame[] = "\x88\x82\x01\x02\x03\x04\x02\xea";
            peer_send_all(fd, close_frame, 8);
        }
        shutdown(fd, SHUT_WR);
        for (int t = 0; t < 400; t++) {
            lg_loop_run_once(loop, 5);
            ssize_t r = recv(fd, got, sizeof got, MSG_DONTWAIT);
            if (r == 0) break;
        }
        close(fd);
        RUN_UNTIL(lg_server_get_stats(srv)->active_connections == 0, 2000);
        if (strstr(raw[i].status, "101")) CHECK_EQ_INT(sv.close_code, 1000);
    }
}

/* A streaming receiver: the pieces, in order, FIRST and LAST marked. */
static void on_fragment(lg_ws *ws, unsigned opcode, lg_str data, unsigned flags)
{
    side *sd = lg_ws_user(ws);
    sd->fragments++;
    sd->last_opcode = opcode;
    if ((flags & LG_WS_FIRST) != (sd->first_flags ? 0u : LG_WS_FIRST)) sd->bad_flags++;
    sd->first_flags = 1;
    side_append(sd, data);
    if (flags & LG_WS_LAST) {
        sd->messages++;
        sd->first_flags = 0;
    }
}

static const lg_ws_callbacks streaming_cbs = { .on_open = on_open,
                                               .on_fragment = on_fragment,
                                               .on_close = on_close };

static void on_ws_streaming(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_ws_config cfg = { .streaming = 1, .max_message_bytes = UINT64_MAX };
    lg_ws_accept(req, res, &cfg, &streaming_cbs, &sv);
}

static void test_streaming(void)
{
    fresh();
    CHECK(connect_to("/stream", NULL) != NULL);
    RUN_UNTIL(cl.opened && sv.opened, 3000);
    size_t n = 3u << 20; /* over the default limit: a streaming receiver set none */
    char *big = malloc(n);
    fill(big, n, 3);
    CHECK_EQ_INT(lg_ws_send_text(cl.ws, big, n), LG_OK);
    CHECK_EQ_INT(lg_ws_send_binary(cl.ws, "", 0), LG_OK);
    RUN_UNTIL(sv.messages == 2, 5000);
    CHECK_EQ_INT(sv.messages, 2);
    CHECK(sv.fragments > 2); /* in pieces, as it came */
    CHECK_EQ_INT(sv.bad_flags, 0);
    CHECK(sv.got_len == n && memcmp(sv.got, big, n) == 0);
    CHECK_EQ_INT(sv.last_opcode, LG_WS_BINARY);
    free(big);
    lg_ws_close(cl.ws, 1000, NULL);
    wait_closed();
}

/* Keep-alive: pings every 30 ms of quiet, answered by a live peer: the
 * connection stays, well past several intervals. */
static void test_keepalive(void)
{
    fresh();
    sv_cfg.ping_interval_ms = 30;
    sv_cfg.pong_timeout_ms = 200;
    CHECK(connect_to("/ws", NULL) != NULL);
    RUN_UNTIL(cl.opened, 3000);
    run_ms(400);
    CHECK_EQ_INT(sv.closed, 0);
    CHECK_EQ_INT(cl.closed, 0);
    CHECK(sv.pongs >= 3); /* the client answered each ping */
    lg_ws_close(cl.ws, 1000, NULL);
    wait_closed();
}

/* Back-pressure: the client stops reading; the server sends until the
 * queue is full (LG_ERR_AGAIN), then goes on from on_drain once the client
 * reads again. Nothing is lost or reordered. */
typedef struct pusher {
    int next, total, again;
    size_t size;
} pusher;

static pusher push;

static void push_more(lg_ws *ws)
{
    char msg[4096];
    while (push.next < push.total) {
        memset(msg, 'A' + push.next % 26, push.size);
        int rc = lg_ws_send_binary(ws, msg, push.size);
        if (rc == LG_ERR_AGAIN) {
            push.again++;
            return;
        }
        CHECK_EQ_INT(rc, LG_OK);
        push.next++;
    }
}

static void push_open(lg_ws *ws)
{
    on_open(ws);
    push_more(ws);
}

static void push_drain(lg_ws *ws)
{
    on_drain(ws);
    push_more(ws);
}

static const lg_ws_callbacks push_cbs = { .on_open = push_open,
                                          .on_drain = push_drain,
                                          .on_close = on_close };

static void on_ws_push(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_ws_config cfg = { .max_queued_bytes = 64 * 1024 };
    lg_ws_accept(req, res, &cfg, &push_cbs, &sv);
}

static void pause_open(lg_ws *ws)
{
    on_open(ws);
    lg_ws_pause(ws);
}

static const lg_ws_callbacks pause_cbs = { .on_open = pause_open,
                                           .on_message = on_message,
                                           .on_close = on_close };

static void test_backpressure(void)
{
    fresh();
    memset(&push, 0, sizeof push);
    push.total = 4000;
    push.size = 4000;
    char url[128];
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/push", port);
    CHECK(lg_ws_connect(cli, url, NULL, &pause_cbs, &cl) != NULL);
    run_ms(300);
    CHECK(push.again >= 1);
    CHECK(push.next < push.total);
    CHECK(sv.ws && lg_ws_queued(sv.ws) < 64 * 1024 + 8000); /* bounded: the limit and one */
    CHECK_EQ_INT(cl.messages, 0);
    lg_ws_resume(cl.ws);
    RUN_UNTIL(cl.messages == push.total, 10000);
    if (cl.messages != push.total)
        fprintf(stderr, "  pushed %d, again %d, queued %llu, client closed %d, server closed %d\n", push.next,
                push.again, sv.ws ? (unsigned long long)lg_ws_queued(sv.ws) : 0ull, cl.closed, sv.closed);
    CHECK_EQ_INT(cl.messages, push.total);
    CHECK(sv.drains >= 1);
    int ordered = cl.got_len == (size_t)push.total * push.size;
    for (int i = 0; ordered && i < push.total; i++)
        ordered = cl.got[(size_t)i * push.size] == 'A' + i % 26;
    CHECK(ordered);
    lg_ws_close(sv.ws, 1000, NULL);
    wait_closed();
}

/* Broadcast: one frame to many connections; a slow one (paused, queue
 * full) is skipped, or closed, as asked. */
#define NB 6
static side bc_sv[NB], bc_cl[NB];
static int bc_accepted;

static void on_ws_bc(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_ws_accept(req, res, NULL, &side_cbs, &bc_sv[bc_accepted++]);
}

static int bc_opened(void)
{
    int n = 0;
    for (int i = 0; i < NB; i++) n += bc_cl[i].opened;
    return n;
}

static void test_broadcast(void)
{
    fresh();
    bc_accepted = 0;
    char url[128];
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/bc", port);
    for (int i = 0; i < NB; i++) {
        side_reset(&bc_sv[i]);
        side_reset(&bc_cl[i]);
    }
    /* The first client reads nothing (paused); its server side is
     * bc_sv[0]: it is accepted before the others connect. */
    CHECK(lg_ws_connect(cli, url, NULL, &pause_cbs, &bc_cl[0]) != NULL);
    RUN_UNTIL(bc_accepted == 1 && bc_cl[0].opened, 3000);
    for (int i = 1; i < NB; i++) CHECK(lg_ws_connect(cli, url, NULL, &side_cbs, &bc_cl[i]) != NULL);
    RUN_UNTIL(bc_accepted == NB && bc_opened() == NB, 3000);
    CHECK_EQ_INT(bc_opened(), NB);
    lg_ws *conns[NB];
    for (int i = 0; i < NB; i++) conns[i] = bc_sv[i].ws;
    /* Fill the slow one's queue (and the kernel's buffers before it). */
    static char fillmsg[65536];
    int sends = 0;
    for (uint64_t end = now_ms() + 10000; now_ms() < end; sends++) {
        if (lg_ws_send_binary(conns[0], fillmsg, sizeof fillmsg) == LG_ERR_AGAIN) break;
        lg_loop_run_once(loop, 0);
    }
    CHECK(lg_ws_queued(conns[0]) >= (1u << 20));
    printf("broadcast: the paused connection was full after %d messages of 64 KiB\n", sends);
    char msg[1000];
    fill(msg, sizeof msg, 5);
    long n = lg_ws_broadcast(conns, NB, LG_WS_BINARY, msg, sizeof msg, LG_WS_SLOW_SKIP);
    CHECK_EQ_INT(n, NB - 1);
    int behind = 1;
    for (uint64_t end = now_ms() + 5000; behind && now_ms() < end;) {
        lg_loop_run_once(loop, 5);
        behind = 0;
        for (int i = 1; i < NB; i++) behind |= bc_cl[i].messages < 1;
    }
    for (int i = 1; i < NB; i++)
        CHECK(bc_cl[i].messages == 1 && bc_cl[i].got_len == sizeof msg &&
              !memcmp(bc_cl[i].got, msg, sizeof msg));
    CHECK_EQ_INT(bc_cl[0].messages, 0);
    /* Closing policy: the slow one gets 1008 ... */
    n = lg_ws_broadcast(conns, NB, LG_WS_TEXT, "last", 4, LG_WS_SLOW_CLOSE);
    CHECK_EQ_INT(n, NB - 1);
    CHECK_EQ_INT(lg_ws_broadcast(conns, NB, LG_WS_TEXT, "\xff", 1, LG_WS_SLOW_SKIP), LG_ERR_WS_UTF8);
    lg_ws_resume(bc_cl[0].ws); /* ... which it reads after the rest, once it reads again */
    RUN_UNTIL(bc_cl[0].closed, 10000);
    CHECK_EQ_INT(bc_cl[0].close_code, LG_WS_CLOSE_POLICY);
    CHECK(strcmp(bc_cl[0].reason, "too slow") == 0);
    CHECK_EQ_INT(bc_cl[0].messages, sends);
    RUN_UNTIL(bc_cl[1].messages == 2 && bc_cl[NB - 1].messages == 2, 3000);
    for (int i = 1; i < NB; i++) {
        CHECK(bc_cl[i].got_len == sizeof msg + 4 && !memcmp(bc_cl[i].got + sizeof msg, "last", 4));
        lg_ws_close(bc_cl[i].ws, 1000, NULL);
    }
    int all = 0;
    for (uint64_t end = now_ms() + 5000; all < 2 * NB && now_ms() < end;) {
        lg_loop_run_once(loop, 5);
        all = 0;
        for (int i = 0; i < NB; i++) all += bc_sv[i].closed + bc_cl[i].closed;
    }
    CHECK_EQ_INT(all, 2 * NB);
    for (int i = 0; i < NB; i++) {
        side_reset(&bc_sv[i]);
        side_reset(&bc_cl[i]);
    }
}

/* Another thread sends through lg_ws_post: every message arrives, in its
 * order, whole. */
#define POSTS 3000
static atomic_int post_again, post_done;

static void *poster(void *arg)
{
    lg_ws *ws = arg;
    char msg[600];
    for (int i = 0; i < POSTS;) {
        int n = snprintf(msg, sizeof msg, "message %d ", i);
        memset(msg + n, 'x', (size_t)(i % 500));
        int rc = lg_ws_post(ws, LG_WS_TEXT, msg, (size_t)n + (size_t)(i % 500));
        if (rc == LG_ERR_AGAIN) {
            atomic_fetch_add(&post_again, 1);
            usleep(200);
            continue;
        }
        if (rc != LG_OK) break;
        i++;
    }
    lg_ws_release(ws);
    atomic_store(&post_done, 1);
    return NULL;
}

static int posts_ordered;

static void on_posted(lg_ws *ws, unsigned opcode, lg_str data)
{
    side *sd = lg_ws_user(ws);
    char want[32];
    int n = snprintf(want, sizeof want, "message %d ", sd->messages);
    if (opcode != LG_WS_TEXT || data.len != (size_t)n + (size_t)(sd->messages % 500) ||
        memcmp(data.ptr, want, (size_t)n) != 0)
        posts_ordered = 0;
    sd->messages++;
}

static const lg_ws_callbacks posted_cbs = { .on_open = on_open,
                                            .on_message = on_posted,
                                            .on_close = on_close };

static void test_post(void)
{
    fresh();
    sv_cfg.max_queued_bytes = 16 * 1024;
    posts_ordered = 1;
    char url[128];
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/ws", port);
    CHECK(lg_ws_connect(cli, url, NULL, &posted_cbs, &cl) != NULL);
    RUN_UNTIL(sv.opened && cl.opened, 3000);
    lg_ws_keep(sv.ws);
    pthread_t t;
    atomic_store(&post_done, 0);
    pthread_create(&t, NULL, poster, sv.ws);
    RUN_UNTIL(cl.messages == POSTS && atomic_load(&post_done), 20000);
    pthread_join(t, NULL);
    CHECK_EQ_INT(cl.messages, POSTS);
    CHECK(posts_ordered);
    printf("lg_ws_post: %d messages, LG_ERR_AGAIN %d times\n", POSTS, atomic_load(&post_again));
    /* released: freed after on_close */
    lg_ws_close(cl.ws, 1000, NULL);
    wait_closed();
}

/* The server's shutdown says 1001 to its WebSockets and completes. */
static int shutdown_complete;

static void on_shutdown_done(lg_server *s, void *user)
{
    (void)s;
    (void)user;
    shutdown_complete = 1;
}

static void test_shutdown(void)
{
    fresh();
    CHECK(connect_to("/ws", NULL) != NULL);
    RUN_UNTIL(sv.opened && cl.opened, 3000);
    lg_server_shutdown(srv, 3000, on_shutdown_done, NULL);
    RUN_UNTIL(shutdown_complete && cl.closed, 5000);
    CHECK_EQ_INT(shutdown_complete, 1);
    CHECK_EQ_INT(cl.close_code, LG_WS_CLOSE_GOING_AWAY);
    CHECK(strcmp(cl.reason, "server shutting down") == 0);
    CHECK_EQ_INT(sv.closed, 1);
    CHECK_EQ_INT(sv.close_code, LG_WS_CLOSE_GOING_AWAY);
}

static void on_plain(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_send_str(res, 200, "no websocket here");
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    loop = lg_loop_new(NULL);
    lg_server_config cfg = { 0 };
    cfg.max_conns = 64;
    srv = lg_server_new(loop, tt_server(&cfg));
    lg_route(srv, "GET", "/ws", on_ws, NULL);
    lg_route(srv, "*", "/ws", on_ws, NULL);
    lg_route(srv, "GET", "/stream", on_ws_streaming, NULL);
    lg_route(srv, "GET", "/push", on_ws_push, NULL);
    lg_route(srv, "GET", "/bc", on_ws_bc, NULL);
    lg_route(srv, "GET", "/plain", on_plain, NULL);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:0", 0), LG_OK);
    port = lg_server_port(srv);
    cli = lg_client_new(loop, tt_client(NULL));

    test_echo();
    test_server_closes();
    test_too_big();
    test_refusals();
    test_streaming();
    test_keepalive();
    test_backpressure();
    test_broadcast();
    test_post();
    test_shutdown();

    lg_client_free(cli);
    lg_loop_run(loop);
    CHECK_EQ_INT(lg_loop_get_stats(loop)->aborts, 0);
    lg_server_free(srv);
    lg_loop_free(loop);
    side_reset(&sv);
    side_reset(&cl);
    tt_report();
    TEST_MAIN_END();
}
