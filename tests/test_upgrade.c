/*
 * Handing a connection over after "101 Switching Protocols", in a made-up
 * protocol, "echo-lines": each line the client sends comes back as
 * "ECHO <line>", "bye" ends it; the server greets with "HELLO" first.
 *
 *  - the server side: a route answers 101 and takes the stream; the line
 *    the client sent in the same packet as its request head is there;
 *  - the client side: lg_response_take_stream takes a 101 answer's stream,
 *    with the greeting the server sent right behind the head;
 *  - max_conns counts handed-over connections: with two of them open at
 *    max_conns 2, a third client waits until one ends;
 *  - a shutdown reaches them (on_shutdown: the owner says "BYE" and closes)
 *    and the shutdown completes;
 *  - a request that did not ask for the protocol is refused (500, NULL).
 * Real sockets on loopback, under both backends, and through the test
 * transport too (LINGER_TEST_TRANSPORT=trickle).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "linger.h"
#include "tcp_peer.h"
#include "test.h"
#include "trickle_transport.h"

/* --- the server's end of the protocol --- */

typedef struct echo_peer {
    lg_stream *s;
    int lines;
    int closed;
} echo_peer;

static echo_peer server_peers[8];
static int nserver_peers, shutdowns_seen, refused_rc = 1;

static void echo_data(lg_stream *s)
{
    echo_peer *p = s->data;
    for (;;) {
        lg_str in = lg_stream_peek(s);
        const char *nl = memchr(in.ptr, '\n', in.len);
        if (!nl) {
            if (lg_stream_ending(s) != LG_END_NONE) lg_stream_close(s);
            return;
        }
        size_t n = (size_t)(nl - in.ptr) + 1;
        if (n == 4 && memcmp(in.ptr, "bye\n", 4) == 0) {
            lg_stream_consume(s, n);
            lg_stream_write(s, "BYE\n", 4);
            lg_stream_close(s);
            return;
        }
        lg_str parts[2] = { { "ECHO ", 5 }, { in.ptr, n } };
        lg_stream_writev(s, parts, 2);
        lg_stream_consume(s, n);
        p->lines++;
    }
}

static void echo_shutdown(lg_stream *s)
{
    shutdowns_seen++;
    lg_stream_write(s, "BYE\n", 4);
    lg_stream_close(s);
}

static void echo_close(lg_stream *s)
{
    ((echo_peer *)s->data)->closed = 1;
}

static const lg_stream_callbacks echo_cbs = { .on_data = echo_data,
                                              .on_close = echo_close,
                                              .on_shutdown = echo_shutdown };

static void on_switch(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    echo_peer *p = &server_peers[nserver_peers++];
    memset(p, 0, sizeof *p);
    lg_res_header(res, "X-Echo", "1");
    p->s = lg_res_upgrade(res, "echo-lines", &echo_cbs, p);
    if (p->s) lg_stream_write(p->s, "HELLO\n", 6);
}

/* A route that tries to switch what was never asked for. */
static void on_wrong_switch(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    refused_rc = lg_res_upgrade(res, "echo-lines", &echo_cbs, NULL) == NULL;
}

static void on_hello(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_send_str(res, 200, "hi");
}

/* --- raw clients on threads --- */

static uint16_t port;
static atomic_int raw_done;

typedef struct raw {
    pthread_t t;
    char got[512];
    size_t len;
    int keep;              /* after the echoes, keep the connection ... */
    atomic_int say_bye;    /* ... until this is set (or the server ends it) */
    int eof;
} raw;

static void *raw_client(void *arg)
{
    raw *r = arg;
    int fd = peer_connect(port);
    struct timeval tv = { 0, 20000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    /* the head and the first line of the new protocol in one send */
    static const char req[] = "GET /switch HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\n"
                              "Upgrade: echo-lines\r\n\r\nfirst\n";
    peer_send_all(fd, req, sizeof req - 1);
    int said = 0, byed = 0;
    for (int waits = 0; r->len < sizeof r->got - 1 && waits < 500;) {
        ssize_t n = recv(fd, r->got + r->len, sizeof r->got - 1 - r->len, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            waits++;
            if (said == 2 && !byed && (!r->keep || atomic_load(&r->say_bye))) {
                peer_send_all(fd, "bye\n", 4);
                byed = 1;
            }
            continue;
        }
        if (n <= 0) {
            r->eof = n == 0;
            break;
        }
        r->len += (size_t)n;
        r->got[r->len] = 0;
        if (!said && strstr(r->got, "ECHO first\n")) {
            peer_send_all(fd, "second\n", 7);
            said = 1;
        }
        if (said == 1 && strstr(r->got, "ECHO second\n")) said = 2;
    }
    close(fd);
    atomic_fetch_add(&raw_done, 1);
    return NULL;
}

static int plain_answered;

static void *plain_client(void *arg)
{
    (void)arg;
    int fd = peer_connect(port);
    peer_send_all(fd, "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 51);
    char buf[512];
    size_t got;
    if (peer_recv_all(fd, buf, sizeof buf, &got) == 0 && got >= 12 && !memcmp(buf, "HTTP/1.1 200", 12))
        plain_answered = 1;
    close(fd);
    atomic_fetch_add(&raw_done, 1);
    return NULL;
}

static void run_until(lg_loop *loop, atomic_int *counter, int n, int ms)
{
    for (int i = 0; i < ms / 10 && atomic_load(counter) < n; i++) lg_loop_run_once(loop, 10);
}

static void run_ms(lg_loop *loop, int ms)
{
    for (int i = 0; i < ms / 10; i++) lg_loop_run_once(loop, 10);
}

/* --- the client side --- */

typedef struct taker {
    lg_stream *s;
    char got[256];
    size_t len;
    int status, err, closed, sent;
} taker;

static void taker_data(lg_stream *s)
{
    taker *t = s->data;
    lg_str in = lg_stream_peek(s);
    size_t n = in.len < sizeof t->got - 1 - t->len ? in.len : sizeof t->got - 1 - t->len;
    memcpy(t->got + t->len, in.ptr, n);
    t->len += n;
    t->got[t->len] = 0;
    lg_stream_consume(s, in.len);
    if (!t->sent && strstr(t->got, "HELLO\n")) {
        lg_stream_write(s, "ping\nbye\n", 9);
        t->sent = 1;
    }
    if (lg_stream_ending(s) != LG_END_NONE) lg_stream_close(s);
}

static void taker_close(lg_stream *s)
{
    ((taker *)s->data)->closed = 1;
}

static const lg_stream_callbacks taker_cbs = { .on_data = taker_data, .on_close = taker_close };

static void on_switched(lg_response *res, void *user)
{
    taker *t = user;
    t->status = res->status;
    t->err = res->err;
    t->s = lg_response_take_stream(res, &taker_cbs, t);
}

static void test_client_takes_the_stream(lg_loop *loop)
{
    lg_client *cli = lg_client_new(loop, tt_client(NULL));
    taker t;
    memset(&t, 0, sizeof t);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/switch", port);
    lg_header h[2] = { { LG_STR("Connection"), LG_STR("Upgrade") },
                       { LG_STR("Upgrade"), LG_STR("echo-lines") } };
    lg_fetch(cli, &(lg_request){ .url = url, .headers = h, .num_headers = 2 }, on_switched, &t);
    for (int i = 0; i < 500 && !t.closed; i++) lg_loop_run_once(loop, 10);
    CHECK_EQ_INT(t.status, 101);
    CHECK_EQ_INT(t.err, LG_OK);
    CHECK(t.s != NULL);
    CHECK(strcmp(t.got, "HELLO\nECHO ping\nBYE\n") == 0);
    if (strcmp(t.got, "HELLO\nECHO ping\nBYE\n") != 0) fprintf(stderr, "  client got: %s\n", t.got);
    CHECK_EQ_INT(t.closed, 1);
    lg_client_free(cli);
    run_ms(loop, 50);
}

static int shutdown_complete;

static void on_shutdown_done(lg_server *srv, void *user)
{
    (void)srv;
    (void)user;
    shutdown_complete = 1;
}

typedef struct refusal {
    int status, done;
} refusal;

static void on_refused(lg_response *res, void *user)
{
    refusal *r = user;
    r->status = res->status;
    r->done = 1;
    CHECK(lg_response_take_stream(res, &taker_cbs, NULL) == NULL); /* nothing to take */
}

static void test_refused(lg_loop *loop)
{
    lg_client *cli = lg_client_new(loop, tt_client(NULL));
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/wrong", port);
    refusal r = { 0, 0 };
    lg_fetch(cli, &(lg_request){ .url = url }, on_refused, &r);
    for (int i = 0; i < 500 && !r.done; i++) lg_loop_run_once(loop, 10);
    CHECK_EQ_INT(r.status, 500);
    CHECK_EQ_INT(refused_rc, 1);
    lg_client_free(cli);
    run_ms(loop, 50);
}

int main(void)
{
    lg_loop *loop = lg_loop_new(NULL);
    lg_server_config cfg = { 0 };
    cfg.max_conns = 2;
    lg_server *srv = lg_server_new(loop, tt_server(&cfg));
    lg_route(srv, "GET", "/switch", on_switch, NULL);
    lg_route(srv, "GET", "/wrong", on_wrong_switch, NULL);
    lg_route(srv, "GET", "/hello", on_hello, NULL);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:0", 0), LG_OK);
    port = lg_server_port(srv);

    /* One client through the whole protocol: its first line came with the
     * head, its "bye" ends it. */
    raw a;
    memset(&a, 0, sizeof a);
    pthread_create(&a.t, NULL, raw_client, &a);
    run_until(loop, &raw_done, 1, 5000);
    pthread_join(a.t, NULL);
    CHECK(strstr(a.got, "HTTP/1.1 101 Switching Protocols\r\n") == a.got);
    CHECK(strstr(a.got, "Upgrade: echo-lines\r\n") && strstr(a.got, "X-Echo: 1\r\n"));
    CHECK(strstr(a.got, "Connection: Upgrade\r\n") && !strstr(a.got, "Content-Length"));
    CHECK(strstr(a.got, "\r\n\r\nHELLO\nECHO first\nECHO second\nBYE\n") != NULL);
    CHECK_EQ_INT(a.eof, 1);
    CHECK_EQ_INT(server_peers[0].lines, 2);
    run_ms(loop, 50);
    CHECK_EQ_INT(server_peers[0].closed, 1);
    CHECK_EQ_INT(lg_server_get_stats(srv)->upgraded, 1);
    CHECK_EQ_INT(lg_server_get_stats(srv)->active_connections, 0);

    /* The client side. */
    test_client_takes_the_stream(loop);
    CHECK_EQ_INT(lg_server_get_stats(srv)->upgraded, 2);

    /* Refused: the request asked for no upgrade. */
    test_refused(loop);

    /* max_conns 2, two handed over and kept: a third client waits, and is
     * served once one of them has ended. */
    raw b, c;
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    b.keep = c.keep = 1;
    atomic_store(&raw_done, 0);
    pthread_create(&b.t, NULL, raw_client, &b);
    pthread_create(&c.t, NULL, raw_client, &c);
    for (int i = 0; i < 500 && lg_server_get_stats(srv)->upgraded < 4; i++) lg_loop_run_once(loop, 10);
    run_ms(loop, 100);
    CHECK_EQ_INT(lg_server_get_stats(srv)->active_connections, 2);
    pthread_t p;
    pthread_create(&p, NULL, plain_client, NULL);
    run_ms(loop, 400);
    CHECK_EQ_INT(plain_answered, 0); /* both slots are handed over: it waits */
    atomic_store(&b.say_bye, 1);
    run_until(loop, &raw_done, 2, 5000);
    pthread_join(b.t, NULL);
    pthread_join(p, NULL);
    CHECK(strstr(b.got, "ECHO second\nBYE\n") != NULL && b.eof);
    CHECK_EQ_INT(plain_answered, 1);

    /* The shutdown reaches the one left: it says BYE and closes, and the
     * shutdown completes. */
    shutdown_complete = 0;
    lg_server_shutdown(srv, 2000, on_shutdown_done, NULL);
    run_until(loop, &raw_done, 3, 5000);
    pthread_join(c.t, NULL);
    CHECK_EQ_INT(shutdowns_seen, 1);
    CHECK(strstr(c.got, "ECHO second\nBYE\n") != NULL && c.eof);
    lg_loop_run(loop);
    CHECK_EQ_INT(shutdown_complete, 1);
    CHECK_EQ_INT(lg_server_get_stats(srv)->active_connections, 0);
    CHECK_EQ_INT(lg_loop_get_stats(loop)->aborts, 0);
    lg_server_free(srv);
    lg_loop_free(loop);
    tt_report();
    TEST_MAIN_END();
}
