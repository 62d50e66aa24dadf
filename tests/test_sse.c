/*
 * Server-Sent Events (src/server_sse.c), with raw clients on threads over
 * loopback, under both backends:
 *
 *  - the head (200, text/event-stream, no-store, chunked) and events byte
 *    for byte: event, id, retry, data split at LF, CRLF and CR;
 *  - a quiet stream lives far past the server's idle and send timeouts
 *    while the client reads, with keep-alive comments;
 *  - Last-Event-ID reaches the handler, which resumes after it;
 *  - a client that leaves is noticed (on_close), and counted out;
 *  - a client that stops reading: LG_ERR_AGAIN, then the send timeout
 *    ends it; the queue stays bounded;
 *  - the server's shutdown ends every stream whole (the last chunk) and
 *    completes; HEAD gets the head alone.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#include "linger.h"
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

/* --- the server's side --- */

typedef struct stream_rec {
    lg_sse *sse;
    int closed, drains, again;
    char last_id[32];
    uint64_t most_queued;
} stream_rec;

static stream_rec recs[8];
static int nrecs;

static void rec_close(lg_sse *sse, void *user)
{
    stream_rec *r = user;
    CHECK(r->sse == sse);
    r->closed++;
    r->sse = NULL;
}

static void rec_drain(lg_sse *sse, void *user)
{
    (void)sse;
    ((stream_rec *)user)->drains++;
}

static stream_rec *start(lg_req *req, lg_res *res, uint32_t keepalive, uint32_t retry)
{
    stream_rec *r = &recs[nrecs++];
    memset(r, 0, sizeof *r);
    lg_sse_config cfg = { .keepalive_ms = keepalive, .retry_ms = retry, .on_close = rec_close,
                          .on_drain = rec_drain, .user = r };
    r->sse = lg_sse_start(req, res, &cfg);
    lg_str last = lg_req_header(req, "Last-Event-ID");
    if (last.ptr) snprintf(r->last_id, sizeof r->last_id, "%.*s", (int)last.len, last.ptr);
    return r;
}

static void on_basic(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    stream_rec *r = start(req, res, UINT32_MAX, 2500);
    if (!r->sse) return;
    CHECK_EQ_INT(lg_sse_send(r->sse, "greeting", "1", "hello", 0), LG_OK);
    CHECK_EQ_INT(lg_sse_send(r->sse, NULL, "2", "one\ntwo\r\nthree\rfour\n", 0), LG_OK);
    CHECK_EQ_INT(lg_sse_send(r->sse, NULL, NULL, "", 1000), LG_OK);
    CHECK_EQ_INT(lg_sse_comment(r->sse, "just saying"), LG_OK);
    CHECK_EQ_INT(lg_sse_send(r->sse, "bad\nname", NULL, "x", 0), LG_ERR_INVALID_ARG);
    CHECK_EQ_INT(lg_sse_send(r->sse, NULL, "bad\rid", "x", 0), LG_ERR_INVALID_ARG);
    static char big[3000];
    memset(big, 'b', sizeof big - 1);
    CHECK_EQ_INT(lg_sse_send(r->sse, "big", NULL, big, 0), LG_OK);
    lg_sse_close(r->sse);
}

/* Resumes after Last-Event-ID; then stays open, quiet. */
static void on_quiet(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    stream_rec *r = start(req, res, 50, 0);
    if (!r->sse) return;
    char id[32];
    snprintf(id, sizeof id, "%d", atoi(r->last_id[0] ? r->last_id : "0") + 1);
    lg_sse_send(r->sse, "tick", id, "first after resuming", 0);
}

/* Sends until full; goes on from on_drain. */
static void flood_drain(lg_sse *sse, void *user);

static void flood(stream_rec *r)
{
    static char chunk[4000];
    memset(chunk, 'f', sizeof chunk - 1);
    while (r->sse) {
        uint64_t q = lg_sse_queued(r->sse);
        if (q > r->most_queued) r->most_queued = q;
        int rc = lg_sse_send(r->sse, NULL, NULL, chunk, 0);
        if (rc == LG_ERR_AGAIN) {
            r->again++;
            return;
        }
        if (rc != LG_OK) return;
    }
}

static void flood_drain(lg_sse *sse, void *user)
{
    (void)sse;
    stream_rec *r = user;
    r->drains++;
    flood(r);
}

static void on_flood(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    stream_rec *r = &recs[nrecs++];
    memset(r, 0, sizeof *r);
    lg_sse_config cfg = { .on_close = rec_close, .on_drain = flood_drain, .user = r };
    r->sse = lg_sse_start(req, res, &cfg);
    if (r->sse) flood(r);
}

/* --- raw clients --- */

typedef struct reader {
    const char *request;
    int read_ms;         /* read this long, then stop */
    int pause_ms;        /* first read nothing for this long */
    int leave_after_ms;  /* close the socket then (0: read to EOF or read_ms) */
    int stop_at_last;    /* stop at the last chunk */
    /* results */
    char head[1024];
    char body[16384];    /* dechunked */
    size_t body_len;
    int last_chunk, eof, reset;
    atomic_int done;
} reader;

static ssize_t recv_wait(int fd, void *buf, size_t n, int ms)
{
    struct pollfd p = { fd, POLLIN, 0 };
    if (poll(&p, 1, ms) <= 0) return -ETIMEDOUT;
    ssize_t r = recv(fd, buf, n, 0);
    return r < 0 ? -errno : r;
}

/* Dechunk what is in raw[0..*len) into the reader's body; keeps an
 * incomplete chunk. */
static void dechunk(reader *r, char *raw, size_t *len)
{
    size_t off = 0;
    for (;;) {
        char *crlf = memmem(raw + off, *len - off, "\r\n", 2);
        if (!crlf) break;
        size_t size = strtoul(raw + off, NULL, 16);
        size_t start = (size_t)(crlf - raw) + 2;
        if (*len < start + size + 2) break;
        if (size == 0) {
            r->last_chunk = 1;
            off = start + 2;
            break;
        }
        size_t room = sizeof r->body - 1 - r->body_len;
        size_t take = size < room ? size : room;
        memcpy(r->body + r->body_len, raw + start, take);
        r->body_len += take;
        r->body[r->body_len] = 0;
        off = start + size + 2;
    }
    memmove(raw, raw + off, *len - off);
    *len -= off;
}

static void *read_stream(void *arg)
{
    reader *r = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (r->pause_ms) {
        int small = 4096;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(0x7f000001);
    connect(fd, (struct sockaddr *)&sa, sizeof sa);
    peer_send_all(fd, r->request, strlen(r->request));
    if (r->pause_ms) usleep((useconds_t)r->pause_ms * 1000);
    static __thread char raw[1 << 16];
    size_t len = 0, hlen = 0;
    uint64_t start = now_ms();
    while (now_ms() - start < (uint64_t)r->read_ms) {
        if (r->leave_after_ms && now_ms() - start >= (uint64_t)r->leave_after_ms) break;
        ssize_t n = recv_wait(fd, raw + len, sizeof raw - len, 20);
        if (n == -ETIMEDOUT) continue;
        if (n <= 0) {
            r->eof = n == 0;
            r->reset = n == -ECONNRESET;
            break;
        }
        len += (size_t)n;
        if (!hlen) {
            char *end = memmem(raw, len, "\r\n\r\n", 4);
            if (!end) continue;
            hlen = (size_t)(end - raw) + 4;
            size_t h = hlen < sizeof r->head ? hlen : sizeof r->head - 1;
            memcpy(r->head, raw, h);
            r->head[h] = 0;
            memmove(raw, raw + hlen, len - hlen);
            len -= hlen;
        }
        if (len == sizeof raw) len = 0; /* (a flood: only the count matters) */
        dechunk(r, raw, &len);
        if (r->stop_at_last && r->last_chunk) break;
    }
    close(fd);
    atomic_store(&r->done, 1);
    return NULL;
}

static void run_reader(reader *r, pthread_t *t)
{
    atomic_store(&r->done, 0);
    pthread_create(t, NULL, read_stream, r);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static void test_basic(void)
{
    reader r;
    memset(&r, 0, sizeof r);
    r.request = "GET /basic HTTP/1.1\r\nHost: t\r\n\r\n";
    r.read_ms = 3000;
    r.stop_at_last = 1;
    pthread_t t;
    run_reader(&r, &t);
    RUN_UNTIL(atomic_load(&r.done), 3000);
    static char want[4096];
    char big[3000];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = 0;
    snprintf(want, sizeof want,
             "retry: 2500\n\n"
             "event: greeting\nid: 1\ndata: hello\n\n"
             "id: 2\ndata: one\ndata: two\ndata: three\ndata: four\ndata: \n\n"
             "retry: 1000\ndata: \n\n"
             ": just saying\n"
             "event: big\ndata: %s\n\n",
             big);
    CHECK_EQ_INT(r.last_chunk, 1); /* lg_sse_close ended it whole */
    CHECK(strcmp(r.body, want) == 0);
    if (strcmp(r.body, want) != 0) fprintf(stderr, "  got: [%.300s]\n", r.body);
    CHECK(strncmp(r.head, "HTTP/1.1 200 ", 13) == 0);
    CHECK(strstr(r.head, "Content-Type: text/event-stream\r\n") != NULL);
    CHECK(strstr(r.head, "Cache-Control: no-store\r\n") != NULL);
    CHECK(strstr(r.head, "Transfer-Encoding: chunked\r\n") != NULL);
    pthread_join(t, NULL);
    CHECK_EQ_INT(recs[nrecs - 1].closed, 0); /* lg_sse_close: no on_close */
    CHECK_EQ_INT(lg_server_get_stats(srv)->event_streams, 0);
}

/* Quiet for 1.2 s with an idle timeout and a send timeout of 200 ms: the
 * stream stays, keep-alive comments every 50 ms; it resumes after the
 * Last-Event-ID it was given. Then the client leaves: on_close. */
static void test_quiet_and_leaving(void)
{
    reader r;
    memset(&r, 0, sizeof r);
    r.request = "GET /quiet HTTP/1.1\r\nHost: t\r\nLast-Event-ID: 41\r\n\r\n";
    r.read_ms = 5000;
    r.leave_after_ms = 1200;
    pthread_t t;
    int first = nrecs;
    run_reader(&r, &t);
    RUN_UNTIL(atomic_load(&r.done), 5000);
    pthread_join(t, NULL);
    stream_rec *rec = &recs[first];
    CHECK(strcmp(rec->last_id, "41") == 0);
    CHECK(strncmp(r.body, "event: tick\nid: 42\ndata: first after resuming\n\n", 45) == 0);
    int pings = count(r.body, ": keep-alive\n\n");
    CHECK(pings >= 10);
    CHECK_EQ_INT(r.eof, 0); /* the server never closed it */
    printf("quiet stream: %d keep-alive comments in 1.2 s (idle and send timeouts 200 ms)\n", pings);
    CHECK_EQ_INT(lg_server_get_stats(srv)->event_streams, 1);
    /* it left: found at the next keep-alive at the latest */
    RUN_UNTIL(rec->closed, 2000);
    CHECK_EQ_INT(rec->closed, 1);
    CHECK_EQ_INT(lg_server_get_stats(srv)->event_streams, 0);
    RUN_UNTIL(lg_server_get_stats(srv)->active_connections == 0, 3000);
    CHECK_EQ_INT(lg_server_get_stats(srv)->active_connections, 0);
}

/* A client that reads nothing for 1.5 s: the stream fills to its bound
 * (LG_ERR_AGAIN), the send timeout (200 ms) ends it. */
static void test_stalled(void)
{
    reader r;
    memset(&r, 0, sizeof r);
    r.request = "GET /flood HTTP/1.1\r\nHost: t\r\n\r\n";
    r.pause_ms = 1500;
    r.read_ms = 3000;
    pthread_t t;
    int first = nrecs;
    run_reader(&r, &t);
    RUN_UNTIL(nrecs > first && recs[first].closed, 5000);
    stream_rec *rec = &recs[first];
    CHECK_EQ_INT(rec->closed, 1);
    CHECK(rec->again >= 1);
    CHECK(rec->most_queued <= 256 * 1024 + 4100);
    CHECK(lg_server_get_stats(srv)->timeouts >= 1);
    RUN_UNTIL(atomic_load(&r.done), 5000);
    pthread_join(t, NULL);
    CHECK_EQ_INT(r.reset, 0);
    printf("stalled client: at most %llu bytes queued, closed by the send timeout\n",
           (unsigned long long)rec->most_queued);
    RUN_UNTIL(lg_server_get_stats(srv)->active_connections == 0, 3000);
}

static int shutdown_complete;

static void on_shutdown_done(lg_server *s, void *user)
{
    (void)s;
    (void)user;
    shutdown_complete = 1;
}

static void test_head_and_shutdown(void)
{
    int fd = peer_connect(port);
    static const char head_req[] = "HEAD /quiet HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    peer_send_all(fd, head_req, sizeof head_req - 1);
    char got[2048];
    size_t n = 0;
    for (int i = 0; i < 400; i++) {
        lg_loop_run_once(loop, 5);
        ssize_t k = recv(fd, got + n, sizeof got - 1 - n, MSG_DONTWAIT);
        if (k == 0) break;
        if (k > 0) n += (size_t)k;
    }
    got[n] = 0;
    close(fd);
    CHECK(strncmp(got, "HTTP/1.1 200 ", 13) == 0 && strstr(got, "text/event-stream"));
    CHECK(strstr(got, "\r\n\r\n") && strlen(strstr(got, "\r\n\r\n")) == 4); /* the head alone */

    /* Two open streams, then the shutdown: both end whole, on_close for each. */
    reader a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.request = b.request = "GET /quiet HTTP/1.1\r\nHost: t\r\n\r\n";
    a.read_ms = b.read_ms = 5000;
    pthread_t ta, tb;
    int first = nrecs;
    run_reader(&a, &ta);
    run_reader(&b, &tb);
    RUN_UNTIL(lg_server_get_stats(srv)->event_streams == 2, 3000);
    CHECK_EQ_INT(lg_server_get_stats(srv)->event_streams, 2);
    lg_server_shutdown(srv, 3000, on_shutdown_done, NULL);
    RUN_UNTIL(shutdown_complete && atomic_load(&a.done) && atomic_load(&b.done), 5000);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK_EQ_INT(shutdown_complete, 1);
    CHECK(recs[first].closed == 1 && recs[first + 1].closed == 1);
    CHECK(a.last_chunk && a.eof && b.last_chunk && b.eof);
    CHECK_EQ_INT(lg_server_get_stats(srv)->event_streams, 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    loop = lg_loop_new(NULL);
    lg_server_config cfg = { 0 };
    cfg.idle_timeout_ms = 200;
    cfg.send_timeout_ms = 200;
    cfg.header_timeout_ms = 200;
    cfg.linger_timeout_ms = 1000;
    srv = lg_server_new(loop, &cfg);
    lg_route(srv, "GET", "/basic", on_basic, NULL);
    lg_route(srv, "GET", "/quiet", on_quiet, NULL);
    lg_route(srv, "GET", "/flood", on_flood, NULL);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:0", 0), LG_OK);
    port = lg_server_port(srv);

    test_basic();
    test_quiet_and_leaving();
    test_stalled();
    test_head_and_shutdown();
    CHECK(lg_server_get_stats(srv)->events > 5);

    lg_loop_run(loop);
    CHECK_EQ_INT(lg_loop_get_stats(loop)->aborts, 0);
    lg_server_free(srv);
    lg_loop_free(loop);
    TEST_MAIN_END();
}
