/*
 * The client over real loopback sockets against small scripted servers (one
 * thread per connection): keep-alive reuse, the retry when a kept-alive
 * connection was closed under us, name resolution with a fallback to the
 * next address, IPv6, connect refused, timeouts measured on the clock, an
 * early answer to a large upload, file bodies, idle expiry, and
 * lg_fetch_sync.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "client_peer.h"
#include "linger.h"
#include "test.h"
#include "trickle_transport.h"

typedef struct server server;
typedef void (*conn_fn)(server *sv, int fd, int index);

struct server {
    int lfd;
    uint16_t port;
    conn_fn fn;
    int conns;         /* accepted so far */
    int stop;
    pthread_t thread;
    /* what the handlers saw */
    int requests;
    size_t body_bytes;
    unsigned long body_sum;
    char last_head[4096];
    pthread_mutex_t mu;
};

typedef struct conn_arg {
    server *sv;
    int fd, index;
} conn_arg;

static void *conn_main(void *arg)
{
    conn_arg *a = arg;
    a->sv->fn(a->sv, a->fd, a->index);
    free(a);
    return NULL;
}

static void *accept_main(void *arg)
{
    server *sv = arg;
    for (;;) {
        struct pollfd p = { sv->lfd, POLLIN, 0 };
        if (poll(&p, 1, 20) <= 0) {
            if (sv->stop) return NULL;
            continue;
        }
        int fd = accept(sv->lfd, NULL, NULL);
        if (fd < 0) continue;
        conn_arg *a = malloc(sizeof *a);
        a->sv = sv;
        a->fd = fd;
        a->index = sv->conns++;
        pthread_t t;
        pthread_create(&t, NULL, conn_main, a);
        pthread_detach(t);
    }
}

static void server_start(server *sv, int v6, conn_fn fn)
{
    memset(sv, 0, sizeof *sv);
    sv->lfd = srv_listen(v6, &sv->port);
    sv->fn = fn;
    pthread_mutex_init(&sv->mu, NULL);
    pthread_create(&sv->thread, NULL, accept_main, sv);
}

static void server_stop(server *sv)
{
    sv->stop = 1;
    pthread_join(sv->thread, NULL);
    close(sv->lfd);
    usleep(20000); /* let detached handlers finish */
}

/* Reads one request (head and Content-Length body) and records it.
 * Returns 0, or -1 when the connection ended first. */
static int read_request(server *sv, int fd)
{
    char head[4096];
    long n = srv_read_head_exact(fd, head, sizeof head);
    if (n < 0) return -1;
    size_t cl = srv_content_length(head);
    unsigned long sum = 0;
    size_t got = 0;
    char buf[65536];
    while (got < cl) {
        size_t want = cl - got < sizeof buf ? cl - got : sizeof buf;
        ssize_t r = recv(fd, buf, want, 0);
        if (r <= 0) break;
        for (ssize_t i = 0; i < r; i++) sum = sum * 31 + (unsigned char)buf[i];
        got += (size_t)r;
    }
    pthread_mutex_lock(&sv->mu);
    sv->requests++;
    sv->body_bytes += got;
    sv->body_sum = sum;
    snprintf(sv->last_head, sizeof sv->last_head, "%s", head);
    pthread_mutex_unlock(&sv->mu);
    return 0;
}

static void send_str(int fd, const char *s)
{
    peer_send_all(fd, s, strlen(s));
}

/* --- client side --- */

typedef struct result {
    int calls, err, stage, status, flags;
    uint64_t body_bytes, sent;
    char body[256];
} result;

static void on_response(lg_response *res, void *user)
{
    result *r = user;
    r->calls++;
    r->err = res->err;
    r->stage = res->stage;
    r->status = res->status;
    r->flags = res->flags;
    r->body_bytes = res->body_bytes;
    r->sent = res->sent_bytes;
    snprintf(r->body, sizeof r->body, "%.*s", (int)res->body.len, res->body.ptr);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void fetch(lg_loop *loop, lg_client *cli, const lg_request *req, result *r)
{
    memset(r, 0, sizeof *r);
    lg_fetch(cli, req, on_response, r);
    while (!r->calls) lg_loop_run_once(loop, 1000);
}

static void finish(lg_loop *loop, lg_client *cli)
{
    lg_client_free(cli);
    lg_loop_run(loop);
    lg_loop_free(loop);
}

/* --- keep-alive: three requests, one connection --- */

static void serve_keep_alive(server *sv, int fd, int index)
{
    (void)index;
    while (read_request(sv, fd) == 0) send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    close(fd);
}

static void test_keep_alive(void)
{
    server sv;
    server_start(&sv, 0, serve_keep_alive);
    lg_loop *loop = lg_loop_new(NULL);
    lg_client *cli = lg_client_new(loop, tt_client(NULL));
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/k", sv.port);
    result r;
    for (int i = 0; i < 3; i++) {
        lg_request req = { .url = url, .body = "abc", .body_len = i == 1 ? 3 : 0 };
        if (i != 1) req.body = NULL;
        fetch(loop, cli, &req, &r);
        CHECK_EQ_INT(r.err, LG_OK);
        CHECK(strcmp(r.body, "hello") == 0);
        CHECK_EQ_INT(!!(r.flags & LG_RES_REUSED), i > 0);
    }
    const lg_client_stats *st = lg_client_get_stats(cli);
    CHECK_EQ_INT(st->connects, 1);
    CHECK_EQ_INT(st->reuses, 2);
    finish(loop, cli);
    CHECK_EQ_INT(sv.conns, 1);
    CHECK_EQ_INT(sv.requests, 3);
    server_stop(&sv);
}

/* --- the retry: the server closes a kept-alive connection as the next
 * request arrives (its idle timeout and our request crossing) --- */

static void serve_then_drop(server *sv, int fd, int index)
{
    if (read_request(sv, fd) == 0) {
        send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none");
        if (index == 0) {
            /* read the next request, then close without answering */
            read_request(sv, fd);
            close(fd);
            return;
        }
    }
    srv_close_graceful(fd);
}

static void test_retry(void)
{
    for (int post = 0; post < 2; post++) {
        server sv;
        server_start(&sv, 0, serve_then_drop);
        lg_loop *loop = lg_loop_new(NULL);
        lg_client *cli = lg_client_new(loop, tt_client(NULL));
        char url[64];
        snprintf(url, sizeof url, "http://127.0.0.1:%u/r", sv.port);
        result r;
        lg_request req = { .url = url };
        fetch(loop, cli, &req, &r);
        CHECK_EQ_INT(r.err, LG_OK);
        req.method = post ? "POST" : "GET";
        fetch(loop, cli, &req, &r);
        if (!post) {
            CHECK_EQ_INT(r.err, LG_OK);
            CHECK(r.flags & LG_RES_RETRIED);
            CHECK_EQ_INT(lg_client_get_stats(cli)->retries, 1);
            CHECK_EQ_INT(lg_client_get_stats(cli)->connects, 2);
        } else {
            /* not idempotent: never sent twice */
            CHECK(r.err == LG_ERR_CLOSED_EARLY || r.err == LG_ERR_RESET);
            CHECK_EQ_INT(r.stage, LG_STAGE_SEND);
            CHECK_EQ_INT(lg_client_get_stats(cli)->retries, 0);
        }
        finish(loop, cli);
        server_stop(&sv);
    }
}

/* --- names, IPv6, refusal --- */

static void serve_once(server *sv, int fd, int index)
{
    (void)index;
    if (read_request(sv, fd) == 0)
        send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    srv_close_graceful(fd);
}

static void test_addresses(void)
{
    server v4, v6;
    server_start(&v4, 0, serve_once);
    server_start(&v6, 1, serve_once);
    lg_loop *loop = lg_loop_new(NULL);
    lg_client *cli = lg_client_new(loop, tt_client(&(lg_client_config){ .connect_timeout_ms = 3000 }));
    char url[96];
    result r;

    /* a name: resolved on the helper thread; whichever of ::1 and
     * 127.0.0.1 comes first, the one listening on this port answers (the
     * other address is refused and the next one tried) */
    snprintf(url, sizeof url, "http://localhost:%u/name", v4.port);
    lg_request req = { .url = url };
    fetch(loop, cli, &req, &r);
    CHECK_EQ_INT(r.err, LG_OK);
    CHECK(strcmp(r.body, "ok") == 0);
    CHECK(strstr(v4.last_head, "Host: localhost:") != NULL);

    snprintf(url, sizeof url, "http://[::1]:%u/v6", v6.port);
    fetch(loop, cli, &req, &r);
    CHECK_EQ_INT(r.err, LG_OK);
    CHECK(strstr(v6.last_head, "GET /v6 HTTP/1.1\r\nHost: [::1]:") != NULL);

    /* nobody listens on the port we just closed */
    uint16_t dead = 0;
    int dfd = srv_listen(0, &dead);
    close(dfd);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", dead);
    fetch(loop, cli, &req, &r);
    CHECK_EQ_INT(r.err, LG_ERR_REFUSED);
    CHECK_EQ_INT(r.stage, LG_STAGE_CONNECT);

    /* a name that cannot resolve (RFC 6761: .invalid) */
    req.url = "http://no-such-host.invalid/";
    fetch(loop, cli, &req, &r);
    CHECK(r.err == LG_ERR_RESOLVE || r.err == LG_ERR_TIMEOUT);
    CHECK_EQ_INT(r.stage, LG_STAGE_RESOLVE);
    finish(loop, cli);
    server_stop(&v4);
    server_stop(&v6);
}

/* --- timeouts on the clock --- */

static void serve_drip(server *sv, int fd, int index)
{
    (void)index;
    if (read_request(sv, fd) == 0) {
        send_str(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        /* a byte every 20 ms, for ever (until the client goes) */
        for (int i = 0; i < 500; i++) {
            if (peer_send_all(fd, "1\r\nx\r\n", 6)) break;
            usleep(20000);
        }
    }
    close(fd);
}

static void serve_silent(server *sv, int fd, int index)
{
    (void)index;
    read_request(sv, fd);
    srv_discard(fd, (size_t)-1); /* until the client goes */
    close(fd);
}

static void test_timeouts(void)
{
    server drip, silent;
    server_start(&drip, 0, serve_drip);
    server_start(&silent, 0, serve_silent);
    lg_loop *loop = lg_loop_new(NULL);
    lg_client *cli = lg_client_new(loop, tt_client(&(lg_client_config){ .read_timeout_ms = 150 }));
    char url[64];
    result r;

    /* each read is within the read timeout, so only the whole-request one
     * can end this */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/drip", drip.port);
    lg_request req = { .url = url, .timeout_ms = 400, .on_body = NULL };
    double t0 = now_s();
    fetch(loop, cli, &req, &r);
    double took = now_s() - t0;
    CHECK_EQ_INT(r.err, LG_ERR_TIMEOUT);
    CHECK_EQ_INT(r.stage, LG_STAGE_BODY);
    CHECK(r.body_bytes >= 5);
    CHECK(took >= 0.39 && took < 1.5);

    snprintf(url, sizeof url, "http://127.0.0.1:%u/silent", silent.port);
    req.timeout_ms = 0;
    t0 = now_s();
    fetch(loop, cli, &req, &r);
    took = now_s() - t0;
    CHECK_EQ_INT(r.err, LG_ERR_TIMEOUT);
    CHECK_EQ_INT(r.stage, LG_STAGE_SEND);
    CHECK(took >= 0.14 && took < 1.0);
    finish(loop, cli);
    server_stop(&drip);
    server_stop(&silent);
}

/* --- an early answer to a large upload: the server reads the head,
 * answers 413 and reads nothing more for a while --- */

static void serve_refuse(server *sv, int fd, int index)
{
    (void)index;
    (void)sv;
    char head[4096];
    srv_read_head_exact(fd, head, sizeof head);
    send_str(fd, "HTTP/1.1 413 Content Too Large\r\nContent-Length: 8\r\nConnection: close\r\n\r\ntoo big!");
    usleep(1500000); /* far enough from the answer that "before the close" is plain under load */
    close(fd); /* with the body unread: a reset */
}

static void test_early_answer(void)
{
    server sv;
    server_start(&sv, 0, serve_refuse);
    lg_loop *loop = lg_loop_new(NULL);
    lg_client *cli = lg_client_new(loop, tt_client(NULL));
    size_t big = 64u << 20;
    char *body = calloc(1, big);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/upload", sv.port);
    lg_request req = { .url = url, .body = body, .body_len = big };
    result r;
    double t0 = now_s();
    fetch(loop, cli, &req, &r);
    double took = now_s() - t0;
    CHECK_EQ_INT(r.err, LG_OK);
    CHECK_EQ_INT(r.status, 413);
    CHECK(strcmp(r.body, "too big!") == 0);
    CHECK(r.flags & LG_RES_EARLY);
    CHECK(r.sent < big);
    CHECK(took < 1.0); /* delivered before the server even closed */
    /* The callback has returned: the body's memory is ours again, though
     * the connection is still closing. */
    memset(body, 1, big);
    free(body);
    finish(loop, cli);
    server_stop(&sv);
}

/* --- a file body, sent with sendfile in slices --- */

static void serve_sum(server *sv, int fd, int index)
{
    (void)index;
    if (read_request(sv, fd) == 0) send_str(fd, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
    srv_close_graceful(fd);
}

static void test_file_body(void)
{
    server sv;
    server_start(&sv, 0, serve_sum);
    char path[] = "/tmp/linger-client-XXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    size_t n = 3u << 20;
    char *data = malloc(n);
    unsigned long sum = 0;
    for (size_t i = 0; i < n; i++) {
        data[i] = (char)(i * 7 + i / 1000);
        if (i >= 100) sum = sum * 31 + (unsigned char)data[i];
    }
    CHECK(write(fd, data, n) == (ssize_t)n);
    lg_loop *loop = lg_loop_new(NULL);
    lg_client *cli = lg_client_new(loop, tt_client(NULL));
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/file", sv.port);
    lg_request req = { .method = "PUT", .url = url, .flags = LG_FETCH_BODY_FILE, .body_file = fd,
                       .body_offset = 100, .body_len = n - 100 };
    result r;
    fetch(loop, cli, &req, &r);
    CHECK_EQ_INT(r.err, LG_OK);
    CHECK_EQ_INT(r.status, 201);
    CHECK_EQ_INT(r.sent, n - 100);
    finish(loop, cli);
    server_stop(&sv);
    CHECK_EQ_INT(sv.body_bytes, n - 100);
    CHECK(sv.body_sum == sum);
    close(fd);
    free(data);
}

/* --- idle expiry, and the server closing an idle connection --- */

static void serve_keep_then_close(server *sv, int fd, int index)
{
    if (read_request(sv, fd) == 0) send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    if (index == 1) {
        usleep(50000);
        close(fd); /* the server's own idle timeout */
        return;
    }
    srv_discard(fd, (size_t)-1); /* until our FIN */
    close(fd);
}

static void test_idle(void)
{
    server sv;
    server_start(&sv, 0, serve_keep_then_close);
    lg_loop *loop = lg_loop_new(NULL);
    lg_client *cli = lg_client_new(loop, tt_client(&(lg_client_config){ .idle_timeout_ms = 500 }));
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", sv.port);
    lg_request req = { .url = url };
    result r;
    /* (500 ms, far from what a loaded machine takes to notice a close) */
    fetch(loop, cli, &req, &r); /* connection 0: we close it after 500 ms idle */
    CHECK_EQ_INT(r.err, LG_OK);
    double t0 = now_s();
    while (lg_client_get_stats(cli)->idle_closes < 1 && now_s() - t0 < 2) lg_loop_run_once(loop, 50);
    CHECK_EQ_INT(lg_client_get_stats(cli)->idle_closes, 1);
    CHECK(now_s() - t0 >= 0.45);
    fetch(loop, cli, &req, &r); /* connection 1: the server closes it */
    CHECK_EQ_INT(r.err, LG_OK);
    t0 = now_s();
    while (lg_client_get_stats(cli)->idle_closes < 2 && now_s() - t0 < 2) lg_loop_run_once(loop, 50);
    CHECK_EQ_INT(lg_client_get_stats(cli)->idle_closes, 2);
    CHECK(now_s() - t0 < 0.45); /* noticed at once, not at our idle timeout */
    fetch(loop, cli, &req, &r); /* a fresh connection, no retry needed */
    CHECK_EQ_INT(r.err, LG_OK);
    CHECK(!(r.flags & (LG_RES_REUSED | LG_RES_RETRIED)));
    finish(loop, cli);
    server_stop(&sv);
}

/* --- lg_fetch_sync --- */

static void test_sync(void)
{
    server sv;
    server_start(&sv, 0, serve_once);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/sync", sv.port);
    lg_response *res = NULL;
    int err = lg_fetch_sync(&(lg_request){ .url = url, .body = "hi", .body_len = 2 }, &res);
    CHECK_EQ_INT(err, LG_OK);
    CHECK(res && res->status == 200 && res->body.len == 2 && memcmp(res->body.ptr, "ok", 2) == 0);
    CHECK(res && res->call == NULL);
    lg_response_free(res);
    CHECK(strstr(sv.last_head, "POST /sync HTTP/1.1\r\n") == sv.last_head);
    CHECK(strstr(sv.last_head, "\r\nConnection: close\r\n") != NULL);
    /* a failure still says how far it got */
    err = lg_fetch_sync(&(lg_request){ .url = "http://127.0.0.1:1/" }, &res);
    CHECK_EQ_INT(err, LG_ERR_REFUSED);
    CHECK(res && res->stage == LG_STAGE_CONNECT && res->err == LG_ERR_REFUSED);
    lg_response_free(res);
    server_stop(&sv);
}

int main(void)
{
    test_keep_alive();
    test_retry();
    test_addresses();
    test_timeouts();
    test_early_answer();
    test_file_body();
    test_idle();
    test_sync();
    tt_report();
    if (trickle_wanted()) CHECK(trickle_opened > 0 && trickle_closed == trickle_opened);
    TEST_MAIN_END();
}
