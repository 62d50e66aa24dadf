/*
 * TLS (include/linger_tls.h) with linger on both ends, over loopback, and
 * against raw sockets that misbehave: certificates made by make_certs.sh
 * (the directory is argv[1]).
 *
 *   - the mixed exchanges (uploads of 0 B to 1 MiB to a route that answers
 *     without reading, an echo, a chunked answer) over TLS: every answer
 *     whole, no reset on either side;
 *   - the client's verdict on a certificate that is expired, for another
 *     host, self-signed, or from an unknown CA: each its own code; the
 *     server learns that the client refused it; insecure accepts them;
 *   - host names: wildcards (one label, no more), case;
 *   - plain HTTP to the TLS port (a plain 400 answer, as nginx), TLS to a
 *     plain port; a garbage ClientHello, a handshake cut in the middle, a
 *     handshake that stalls — at the server and at the client: each its
 *     own code, and the connection closed without a reset;
 *   - contexts from files and from memory, PEM and DER, and the errors
 *     of a missing file, a bad one, and a key that is not the
 *     certificate's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "linger.h"
#include "linger_tls.h"
#include "mixed_exchanges.h"
#include "test.h"

static const char *dir;
static char logbuf[16384];

static void on_log(int level, const char *message, void *user)
{
    (void)level;
    (void)user;
    size_t have = strlen(logbuf), n = strlen(message);
    if (have + n + 2 < sizeof logbuf) {
        memcpy(logbuf + have, message, n);
        logbuf[have + n] = '\n';
        logbuf[have + n + 1] = 0;
    }
}

static int logged(const char *what)
{
    return strstr(logbuf, what) != NULL;
}

static const char *path(const char *name)
{
    static char buf[8][512];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static lg_loop *new_loop(void)
{
    logbuf[0] = 0;
    return lg_loop_new(&(lg_loop_config){ .log = on_log, .log_level = LG_LOG_INFO });
}

/* Run the loop until *flag is set (or ms pass). */
static void pump(lg_loop *loop, const int *flag, int ms)
{
    for (int i = 0; i < ms / 5 && !*flag; i++) lg_loop_run_once(loop, 5);
}

static lg_tls_server *server_tls(const char *cert, const char *key, uint32_t hs_ms)
{
    lg_tls_server *tls = NULL;
    char why[200];
    int rc = lg_tls_server_new(&tls, &(lg_tls_server_config){ .cert = { .file = path(cert) },
                                                              .key = { .file = path(key) },
                                                              .handshake_timeout_ms = hs_ms },
                               why, sizeof why);
    if (rc) fprintf(stderr, "server TLS: %s: %s\n", lg_err_name(rc), why);
    CHECK_EQ_INT(rc, LG_OK);
    return tls;
}

static uint16_t max_fragment; /* the client's, for the next client_tls() */

static lg_tls_client *client_tls(int insecure, uint32_t hs_ms)
{
    lg_tls_client *tls = NULL;
    char why[200];
    int rc = lg_tls_client_new(&tls, &(lg_tls_client_config){ .ca = { .file = path("ca.pem") },
                                                              .insecure = (uint8_t)insecure,
                                                              .handshake_timeout_ms = hs_ms,
                                                              .max_fragment = max_fragment },
                               why, sizeof why);
    if (rc) fprintf(stderr, "client TLS: %s: %s\n", lg_err_name(rc), why);
    CHECK_EQ_INT(rc, LG_OK);
    return tls;
}

static void on_hello(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_send_str(res, 200, "hello");
}

typedef struct env {
    lg_loop *loop;
    lg_server *srv;
    lg_tls_server *stls;
    uint16_t port;
    int down;
} env;

static void env_start(env *e, lg_tls_server *stls)
{
    memset(e, 0, sizeof *e);
    e->loop = new_loop();
    e->stls = stls;
    lg_server_config cfg = { .max_conns = 16 };
    if (stls) {
        cfg.transport = lg_tls_server_transport;
        cfg.transport_user = stls;
    }
    e->srv = lg_server_new(e->loop, &cfg);
    mixed_routes(e->srv);
    lg_route(e->srv, "GET", "/hello", on_hello, NULL);
    CHECK_EQ_INT(lg_server_listen(e->srv, "127.0.0.1:0", 0), LG_OK);
    e->port = lg_server_port(e->srv);
}

static void server_down(lg_server *srv, void *user)
{
    (void)srv;
    *(int *)user = 1;
}

static void env_stop(env *e)
{
    lg_server_shutdown(e->srv, 2000, server_down, &e->down);
    pump(e->loop, &e->down, 5000);
    CHECK(e->down);
    lg_server_free(e->srv);
    /* what is still closing (a linger) finishes */
    for (int i = 0; i < 400 && lg_loop_run_once(e->loop, 5) > 0; i++) {
    }
    lg_tls_server_free(e->stls);
    lg_loop_free(e->loop);
}

typedef struct got {
    int done, err, status;
    char body[256];
    size_t body_len;
} got;

static void on_got(lg_response *res, void *user)
{
    got *g = user;
    g->done = 1;
    g->err = res->err;
    g->status = res->status;
    g->body_len = res->body.len < sizeof g->body - 1 ? res->body.len : sizeof g->body - 1;
    memcpy(g->body, res->body.ptr, g->body_len);
    g->body[g->body_len] = 0;
}

/* One GET with a client made for it (tls NULL: plain). */
static got fetch_one(lg_loop *loop, lg_tls_client *tls, lg_client_transport_fn factory,
                     const char *url)
{
    got g;
    memset(&g, 0, sizeof g);
    lg_client_config cfg = { .read_timeout_ms = 5000 };
    if (tls) {
        cfg.transport = factory ? factory : lg_tls_client_transport;
        cfg.transport_user = tls;
    }
    lg_client *cli = lg_client_new(loop, &cfg);
    lg_fetch(cli, &(lg_request){ .url = url }, on_got, &g);
    pump(loop, &g.done, 10000);
    CHECK(g.done);
    lg_client_free(cli);
    for (int i = 0; i < 40; i++) lg_loop_run_once(loop, 5);
    return g;
}

/* --- every exchange over TLS --- */

static void test_exchanges(uint16_t fragment)
{
    max_fragment = fragment;
    env e;
    env_start(&e, server_tls("chain.pem", "server.key", 0));
    lg_tls_client *ctls = client_tls(0, 0);
    lg_client *cli = lg_client_new(e.loop, &(lg_client_config){
                                                .transport = lg_tls_client_transport,
                                                .transport_user = ctls });
    mixed_run r;
    memset(&r, 0, sizeof r);
    r.total = 3 * (int)MIXED_NSIZES * 3;
    mixed_start(&r, cli, e.port, 0); /* the URLs, made https below; nothing started */
    for (int u = 0; u < 3; u++) {
        memmove(r.url[u] + 5, r.url[u] + 4, strlen(r.url[u] + 4) + 1);
        memcpy(r.url[u], "https", 5);
    }
    for (int i = 0; i < 4; i++) mixed_next(&r);
    for (int i = 0; i < 60000 && r.done < r.total; i++) lg_loop_run_once(e.loop, 10);
    CHECK_EQ_INT(r.done, r.total);
    CHECK_EQ_INT(r.ok, r.total);
    printf("TLS exchanges (records of at most %u bytes): %d of %d whole (%d answered early), "
           "%llu connections\n", fragment ? fragment : 16384, r.ok, r.total, r.early,
           (unsigned long long)lg_client_get_stats(cli)->connects);
    lg_client_free(cli);
    env_stop(&e);
    lg_tls_client_free(ctls);
    CHECK(!logged("aborted"));
}

/* --- TLS on a stream of one's own (no client): read until EOF --- */

typedef struct raw {
    lg_loop *loop;
    lg_connect_req cr;
    lg_stream s;
    lg_read_req rr;
    lg_tls_client *tls;
    char buf[4096];
    int status, done, closed;
    size_t len;
    lg_tls_info info;
    int info_rc;
} raw;

static void raw_closed(lg_stream *s)
{
    raw *r = s->data;
    r->closed = 1;
}

static const lg_stream_callbacks raw_cbs = { .on_close = raw_closed };

static void raw_read(lg_read_req *req, int status, size_t len)
{
    raw *r = req->data;
    r->status = status;
    r->len = len;
    r->done = 1;
    r->info_rc = lg_tls_get_info(&r->s, &r->info);
    lg_stream_close(&r->s);
}

static void raw_connected(lg_connect_req *req, int status, int fd)
{
    raw *r = req->data;
    CHECK_EQ_INT(status, LG_OK);
    if (status) {
        r->done = r->closed = 1;
        return;
    }
    CHECK_EQ_INT(lg_stream_open(r->loop, &r->s, fd, NULL, &raw_cbs, r), LG_OK);
    lg_transport *t = NULL;
    CHECK_EQ_INT(lg_tls_client_transport(&r->s, "https", "localhost", 0, &t, r->tls), LG_OK);
    CHECK_EQ_INT(lg_stream_set_transport(&r->s, t), LG_OK);
    CHECK_EQ_INT(lg_tls_get_info(&r->s, &r->info), LG_ERR_AGAIN); /* not yet */
    static const char req_text[] = "GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    CHECK_EQ_INT(lg_stream_write(&r->s, req_text, sizeof req_text - 1), LG_OK);
    r->rr.data = r;
    lg_stream_read_until_eof(&r->s, &r->rr, r->buf, sizeof r->buf, raw_read);
}

static void test_raw_stream(void)
{
    env e;
    env_start(&e, server_tls("chain.pem", "server.key", 0));
    raw r;
    memset(&r, 0, sizeof r);
    r.tls = client_tls(0, 0);
    r.loop = e.loop;
    lg_addr a;
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", e.port);
    CHECK_EQ_INT(lg_addr_parse(&a, addr, 0), LG_OK);
    r.cr.data = &r;
    CHECK_EQ_INT(lg_connect(e.loop, &r.cr, &a, 2000, raw_connected), LG_OK);
    pump(e.loop, &r.closed, 5000);
    CHECK(r.done && r.closed);
    /* EOF after close_notify: the whole answer, LG_OK */
    CHECK_EQ_INT(r.status, LG_OK);
    CHECK(r.len > 5 && memcmp(r.buf, "HTTP/1.1 200 OK", 15) == 0);
    CHECK(r.len >= 5 && memcmp(r.buf + r.len - 5, "hello", 5) == 0);
    CHECK_EQ_INT(r.info_rc, LG_OK);
#if defined(LG_TEST_TLS_OPENSSL)
    /* OpenSSL on both ends: TLS 1.3 */
    CHECK(r.info.version && strcmp(r.info.version, "TLSv1.3") == 0);
#else
    CHECK(r.info.version && strcmp(r.info.version, "TLSv1.2") == 0);
#endif
    CHECK(r.info.alpn && strcmp(r.info.alpn, "http/1.1") == 0);
    CHECK(r.info.cipher != NULL);
    lg_stream plain;
    memset(&plain, 0, sizeof plain);
    CHECK_EQ_INT(lg_tls_get_info(&plain, &r.info), LG_ERR_INVALID_ARG);
    lg_tls_client_free(r.tls);
    env_stop(&e);
}

/* --- certificates the client must refuse --- */

static void test_certificates(void)
{
    static const struct {
        const char *cert, *key;
        int err;
    } cases[] = {
        { "chain.pem", "server.key", LG_OK },
        { "server.pem", "server.key", LG_OK }, /* the chain's CA is the trusted one */
        { "expired.pem", "expired.key", LG_ERR_TLS_CERT_EXPIRED },
        { "wronghost.pem", "wronghost.key", LG_ERR_TLS_CERT_HOST },
        { "selfsigned.pem", "selfsigned.key", LG_ERR_TLS_CERT_UNTRUSTED },
        { "unknown.pem", "unknown.key", LG_ERR_TLS_CERT_UNTRUSTED },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        env e;
        env_start(&e, server_tls(cases[i].cert, cases[i].key, 0));
        lg_tls_client *ctls = client_tls(0, 0);
        char url[64];
        snprintf(url, sizeof url, "https://localhost:%u/hello", e.port);
        got g = fetch_one(e.loop, ctls, NULL, url);
        if (g.err != cases[i].err)
            fprintf(stderr, "%s: %s, expected %s\n%s", cases[i].cert, lg_err_name(g.err),
                    lg_err_name(cases[i].err), logbuf);
        CHECK_EQ_INT(g.err, cases[i].err);
        if (!cases[i].err) {
            CHECK_EQ_INT(g.status, 200);
            CHECK(strcmp(g.body, "hello") == 0);
        } else {
            /* the client says what failed; the server, that it was refused */
            CHECK(logged(lg_strerror(cases[i].err)));
            CHECK(logged(lg_strerror(LG_ERR_TLS_ALERT)));
        }
        lg_tls_client_free(ctls);
        /* insecure takes any of them, and says so */
        ctls = client_tls(1, 0);
        logbuf[0] = 0;
        g = fetch_one(e.loop, ctls, NULL, url);
        CHECK_EQ_INT(g.err, LG_OK);
        CHECK(strcmp(g.body, "hello") == 0);
        CHECK(logged("WITHOUT certificate verification"));
        lg_tls_client_free(ctls);
        env_stop(&e);
    }
}

/* --- host names: the factory is told another name than the URL's --- */

static const char *claimed_host;

static int claim_host(lg_stream *s, const char *scheme, const char *host, uint16_t port,
                      lg_transport **out, void *tls)
{
    (void)host;
    return lg_tls_client_transport(s, scheme, claimed_host, port, out, tls);
}

static void test_host_names(void)
{
    static const struct {
        const char *host;
        int err;
    } cases[] = {
        { "localhost", LG_OK },        { "LocalHost", LG_OK },
        { "a.wild.test", LG_OK },      { "A.Wild.Test", LG_OK },
        { "a.b.wild.test", LG_ERR_TLS_CERT_HOST }, /* a wildcard is one label */
        { "wild.test", LG_ERR_TLS_CERT_HOST },     /* and not none */
        { "localhost.evil", LG_ERR_TLS_CERT_HOST },
        { "127.0.0.1", LG_OK },        { "[::1]", LG_OK }, /* iPAddress names */
        { "::1", LG_OK },              { "127.0.0.2", LG_ERR_TLS_CERT_HOST },
        { "[::2]", LG_ERR_TLS_CERT_HOST },
    };
    env e;
    env_start(&e, server_tls("chain.pem", "server.key", 0));
    lg_tls_client *ctls = client_tls(0, 0);
    char url[64];
    snprintf(url, sizeof url, "https://127.0.0.1:%u/hello", e.port);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        claimed_host = cases[i].host;
        got g = fetch_one(e.loop, ctls, claim_host, url);
        if (g.err != cases[i].err)
            fprintf(stderr, "host %s: %s, expected %s\n", cases[i].host, lg_err_name(g.err),
                    lg_err_name(cases[i].err));
        CHECK_EQ_INT(g.err, cases[i].err);
    }
    lg_tls_client_free(ctls);
    env_stop(&e);
}

/* --- the wrong protocol on either side --- */

static void test_plain_and_tls_mixed_up(void)
{
    /* plain HTTP to the TLS port: a plain 400 that says so, as nginx's */
    env e;
    env_start(&e, server_tls("chain.pem", "server.key", 0));
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/hello", e.port);
    got g = fetch_one(e.loop, NULL, NULL, url);
    CHECK_EQ_INT(g.err, LG_OK);
    CHECK_EQ_INT(g.status, 400);
    CHECK(strstr(g.body, "plain HTTP request was sent to HTTPS port") != NULL);
    CHECK(logged(lg_strerror(LG_ERR_TLS_PLAINTEXT)));
    CHECK(!logged("aborted"));
    env_stop(&e);

    /* TLS to a plain port: the server's 400 is no TLS */
    env_start(&e, NULL);
    lg_tls_client *ctls = client_tls(0, 0);
    snprintf(url, sizeof url, "https://127.0.0.1:%u/hello", e.port);
    g = fetch_one(e.loop, ctls, NULL, url);
    CHECK_EQ_INT(g.err, LG_ERR_TLS_PLAINTEXT);
    lg_tls_client_free(ctls);
    env_stop(&e);
}

/* --- raw sockets against the TLS server --- */

static int raw_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    return fd;
}

/* Read what the server sends until its EOF, running the loop meanwhile:
 * returns 0 at EOF, -errno on a reset or error, 1 if none came in time. */
static int raw_until_eof(lg_loop *loop, int fd, int ms)
{
    char buf[4096];
    for (int i = 0; i < ms / 5; i++) {
        lg_loop_run_once(loop, 5);
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0) return 0;
        if (n < 0 && errno != EAGAIN) return -errno;
    }
    return 1;
}

static void test_bad_clients(void)
{
    env e;
    env_start(&e, server_tls("chain.pem", "server.key", 300));
    /* a ClientHello that is no ClientHello */
    int fd = raw_connect(e.port);
    static const char garbage[] = "\x16\x03\x01\x00\x20"
                                  "this is not a client hello at all";
    CHECK(send(fd, garbage, sizeof garbage - 1, 0) == (ssize_t)(sizeof garbage - 1));
    CHECK_EQ_INT(raw_until_eof(e.loop, fd, 3000), 0);
    CHECK(logged(lg_strerror(LG_ERR_TLS_HANDSHAKE)));
    close(fd);

    /* a handshake cut in the middle: half a ClientHello, then FIN */
    logbuf[0] = 0;
    fd = raw_connect(e.port);
    static const char half[] = "\x16\x03\x01\x01\x00\x01\x00\x00\xfc\x03\x03"
                               "0123456789";
    CHECK(send(fd, half, sizeof half - 1, 0) == (ssize_t)(sizeof half - 1));
    shutdown(fd, SHUT_WR);
    CHECK_EQ_INT(raw_until_eof(e.loop, fd, 3000), 0);
    CHECK(logged(lg_strerror(LG_ERR_TLS_CUT)));
    close(fd);

    /* a client that says nothing: the handshake's time runs out */
    logbuf[0] = 0;
    fd = raw_connect(e.port);
    uint64_t t0 = lg_loop_now(e.loop);
    CHECK_EQ_INT(raw_until_eof(e.loop, fd, 3000), 0);
    uint64_t took = lg_loop_now(e.loop) - t0;
    CHECK(took >= 250 && took < 2000);
    CHECK(logged(lg_strerror(LG_ERR_TLS_TIMEOUT)));
    close(fd);

    /* a client that connects and leaves */
    logbuf[0] = 0;
    fd = raw_connect(e.port);
    shutdown(fd, SHUT_WR);
    CHECK_EQ_INT(raw_until_eof(e.loop, fd, 3000), 0);
    close(fd);
    CHECK(!logged("aborted"));
    env_stop(&e);
}

/* --- misbehaving servers against the TLS client --- */

typedef struct raw_server {
    int lfd;
    uint16_t port;
} raw_server;

static void raw_listen(raw_server *r)
{
    r->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    CHECK(bind(r->lfd, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(listen(r->lfd, 8) == 0);
    getsockname(r->lfd, (struct sockaddr *)&a, &len);
    r->port = ntohs(a.sin_port);
}

static int readable(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, ms) == 1;
}

static void test_bad_servers(void)
{
    raw_server rs;
    raw_listen(&rs);
    char url[64];
    snprintf(url, sizeof url, "https://127.0.0.1:%u/", rs.port);

    /* a server that accepts and says nothing: the client's handshake times out */
    lg_loop *loop = new_loop();
    lg_tls_client *ctls = client_tls(0, 300);
    got g = fetch_one(loop, ctls, NULL, url);
    CHECK_EQ_INT(g.err, LG_ERR_TLS_TIMEOUT);
    int fd = accept(rs.lfd, NULL, NULL);
    CHECK(fd >= 0);
    close(fd);

    /* a server that starts its answer and goes: cut in the middle */
    lg_client *cli = lg_client_new(loop, &(lg_client_config){ .transport = lg_tls_client_transport,
                                                              .transport_user = ctls });
    memset(&g, 0, sizeof g);
    lg_fetch(cli, &(lg_request){ .url = url }, on_got, &g);
    for (int i = 0; i < 400 && !readable(rs.lfd, 0); i++) lg_loop_run_once(loop, 5);
    fd = accept(rs.lfd, NULL, NULL);
    for (int i = 0; i < 400 && !readable(fd, 0); i++) lg_loop_run_once(loop, 5);
    char hello[2048];
    CHECK(recv(fd, hello, sizeof hello, 0) > 5);
    CHECK_EQ_INT(hello[0], 0x16); /* a handshake record */
    static const char half[] = "\x16\x03\x03\x00\x50\x02\x00\x00\x4c\x03\x03"
                               "0123456789";
    CHECK(send(fd, half, sizeof half - 1, 0) == (ssize_t)(sizeof half - 1));
    shutdown(fd, SHUT_WR);
    pump(loop, &g.done, 3000);
    CHECK_EQ_INT(g.err, LG_ERR_TLS_CUT);
    close(fd);

    /* garbage where a ServerHello belongs */
    memset(&g, 0, sizeof g);
    lg_fetch(cli, &(lg_request){ .url = url }, on_got, &g);
    for (int i = 0; i < 400 && !readable(rs.lfd, 0); i++) lg_loop_run_once(loop, 5);
    fd = accept(rs.lfd, NULL, NULL);
    for (int i = 0; i < 400 && !readable(fd, 0); i++) lg_loop_run_once(loop, 5);
    CHECK(recv(fd, hello, sizeof hello, 0) > 5);
    static const char junk[] = "\x16\x03\x03\x00\x08garbage!";
    CHECK(send(fd, junk, sizeof junk - 1, 0) == (ssize_t)(sizeof junk - 1));
    pump(loop, &g.done, 3000);
    CHECK_EQ_INT(g.err, LG_ERR_TLS_HANDSHAKE);
    close(fd);

    lg_client_free(cli);
    for (int i = 0; i < 100 && lg_loop_run_once(loop, 5) > 0; i++) {
    }
    lg_tls_client_free(ctls);
    lg_loop_free(loop);
    close(rs.lfd);
}

/* --- contexts: files, memory, and what is wrong with them --- */

static char *slurp(const char *name, size_t *len)
{
    FILE *f = fopen(path(name), "rb");
    CHECK(f != NULL);
    if (!f) return NULL;
    static char bufs[4][8192];
    static int next;
    char *b = bufs[next++ % 4];
    *len = fread(b, 1, sizeof bufs[0], f);
    fclose(f);
    return b;
}

static int urandom_calls;

static int urandom_rng(void *ctx, unsigned char *out, size_t len)
{
    urandom_calls++;
    return fread(out, 1, len, (FILE *)ctx) == len ? 0 : -1;
}

static void test_contexts(void)
{
    lg_tls_server *s;
    lg_tls_client *c;
    char why[200];
    int rc = lg_tls_server_new(&s, &(lg_tls_server_config){ .cert = { .file = path("nope.pem") },
                                                            .key = { .file = path("server.key") } },
                               why, sizeof why);
    CHECK_EQ_INT(rc, LG_ERR_NOT_FOUND);
    CHECK(strstr(why, "nope.pem") != NULL);
    rc = lg_tls_server_new(&s, &(lg_tls_server_config){ .cert = { .file = path("ca.srl") },
                                                        .key = { .file = path("server.key") } },
                           why, sizeof why);
    CHECK_EQ_INT(rc, LG_ERR_TLS_CONFIG);
    CHECK(strstr(why, "not a certificate") != NULL);
    rc = lg_tls_server_new(&s, &(lg_tls_server_config){ .cert = { .file = path("server.pem") },
                                                        .key = { .file = path("wronghost.key") } },
                           why, sizeof why);
    CHECK_EQ_INT(rc, LG_ERR_TLS_CONFIG);
    CHECK(strstr(why, "not the key of the certificate") != NULL);
    rc = lg_tls_server_new(&s, &(lg_tls_server_config){ .cert = { .file = path("server.pem") } },
                           why, sizeof why);
    CHECK_EQ_INT(rc, LG_ERR_INVALID_ARG);
    rc = lg_tls_client_new(&c, &(lg_tls_client_config){ .ca = { .file = path("server.key") } },
                           why, sizeof why);
    CHECK_EQ_INT(rc, LG_ERR_TLS_CONFIG);
    rc = lg_tls_client_new(&c, &(lg_tls_client_config){ .max_fragment = 3000 }, why, sizeof why);
    CHECK_EQ_INT(rc, LG_ERR_INVALID_ARG);
    /* the system's CAs by default */
    rc = lg_tls_client_new(&c, NULL, why, sizeof why);
    CHECK_EQ_INT(rc, LG_OK);
    lg_tls_client_free(c);

    /* from memory: DER, and PEM without its NUL; the client's CAs too */
    size_t clen, klen, alen;
    const char *cert = slurp("server.der", &clen), *key = slurp("server-key.der", &klen);
    rc = lg_tls_server_new(&s, &(lg_tls_server_config){ .cert = { .data = cert, .len = clen },
                                                        .key = { .data = key, .len = klen } },
                           why, sizeof why);
    CHECK_EQ_INT(rc, LG_OK);
    const char *ca = slurp("ca.pem", &alen);
    rc = lg_tls_client_new(&c, &(lg_tls_client_config){ .ca = { .data = ca, .len = alen } }, why,
                           sizeof why);
    CHECK_EQ_INT(rc, LG_OK);
    env e;
    env_start(&e, s);
    char url[64];
    snprintf(url, sizeof url, "https://localhost:%u/hello", e.port);
    got g = fetch_one(e.loop, c, NULL, url);
    CHECK_EQ_INT(g.err, LG_OK);
    CHECK(strcmp(g.body, "hello") == 0);
    env_stop(&e);
    lg_tls_client_free(c);

    /* the application's random generator instead of mbedTLS's (a device's
     * hardware one) */
    FILE *urandom = fopen("/dev/urandom", "rb");
    rc = lg_tls_server_new(&s, &(lg_tls_server_config){ .cert = { .file = path("chain.pem") },
                                                        .key = { .file = path("server.key") },
                                                        .rng = urandom_rng, .rng_ctx = urandom },
                           why, sizeof why);
    CHECK_EQ_INT(rc, LG_OK);
    rc = lg_tls_client_new(&c, &(lg_tls_client_config){ .ca = { .file = path("ca.pem") },
                                                        .rng = urandom_rng, .rng_ctx = urandom },
                           why, sizeof why);
    CHECK_EQ_INT(rc, LG_OK);
    env_start(&e, s);
    snprintf(url, sizeof url, "https://localhost:%u/hello", e.port);
    g = fetch_one(e.loop, c, NULL, url);
    CHECK_EQ_INT(g.err, LG_OK);
    env_stop(&e);
    lg_tls_client_free(c);
#if !defined(LG_TEST_TLS_OPENSSL)
    CHECK(urandom_calls > 0); /* (OpenSSL's transport uses OpenSSL's own generator) */
#endif
    fclose(urandom);

    cert = slurp("chain.pem", &clen);
    key = slurp("server.key", &klen);
    rc = lg_tls_server_new(&s, &(lg_tls_server_config){ .cert = { .data = cert, .len = clen },
                                                        .key = { .data = key, .len = klen } },
                           why, sizeof why);
    CHECK_EQ_INT(rc, LG_OK);
    lg_tls_server_free(s);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_tls CERT_DIR (made by make_certs.sh)\n");
        return 2;
    }
    dir = argv[1];
#if defined(LG_TEST_TLS_OPENSSL)
    printf("OpenSSL %s\n", lg_tls_library_version());
    CHECK_EQ_INT(lg_tls_memory(NULL, 0), LG_ERR_UNSUPPORTED);
#else
    printf("mbedTLS %s\n", lg_tls_library_version());
#endif
    test_contexts();
    test_exchanges(0);
    test_exchanges(1024); /* max_fragment_length: small records both ways */
    test_raw_stream();
    test_certificates();
    test_host_names();
    test_plain_and_tls_mixed_up();
    test_bad_clients();
    test_bad_servers();
    TEST_MAIN_END();
}
