/* Streams over real loopback TCP (run under epoll and poll): how input ends
 * (FIN, RST after data), sending into a peer that resets, sendfile,
 * half-close with reading on, connect and resolve. */
#include <fcntl.h>
#include <stdlib.h>

#include "linger.h"
#include "loop_internal.h"
#include "tcp_peer.h"
#include "test.h"
#include "trickle_transport.h"

typedef struct side {
    lg_loop *loop;
    lg_listener l;
    lg_stream s;
    lg_read_req req;
    char buf[65536];
    int opened, closed, read_status, write_errors, write_error;
    size_t read_len;
    int (*on_open)(struct side *);
} side;

static void on_close(lg_stream *s)
{
    ((side *)s->data)->closed = 1;
}

static void on_write_error(lg_stream *s, int err)
{
    side *sd = s->data;
    sd->write_errors++;
    sd->write_error = err;
}

static const lg_stream_callbacks cbs = { .on_write_error = on_write_error, .on_close = on_close };

static void read_done(lg_read_req *req, int status, size_t len)
{
    side *sd = req->data;
    sd->read_status = status;
    sd->read_len = len;
    lg_stream_close(&sd->s);
}

static void on_accept(lg_listener *l, int fd, const lg_addr *peer)
{
    side *sd = l->data;
    (void)peer;
    lg_stream_open(sd->loop, &sd->s, fd, NULL, &cbs, sd);
    tt_stream(&sd->s);
    sd->opened = 1;
    sd->req.data = sd;
    if (sd->on_open) sd->on_open(sd);
}

static void side_init(side *sd, int (*on_open)(side *))
{
    memset(sd, 0, sizeof *sd);
    sd->loop = lg_loop_new(NULL);
    sd->on_open = on_open;
    CHECK_EQ_INT(lg_listen(sd->loop, &sd->l, "127.0.0.1:0", 0, 16, on_accept, sd), LG_OK);
}

static void side_run_until_closed(side *sd)
{
    for (int i = 0; i < 100000 && !sd->closed; i++) lg_loop_run_once(sd->loop, 100);
}

static void side_free(side *sd)
{
    lg_listener_close(&sd->l);
    CHECK_EQ_INT(lg_loop_run(sd->loop), LG_OK);
    lg_loop_free(sd->loop);
}

/* --- peers --- */

typedef struct peer_job {
    pthread_t t;
    uint16_t port;
    int mode;
    int result;
    size_t got;
    char buf[65536];
} peer_job;

enum { PEER_SEND_FIN, PEER_SEND_RST, PEER_READ_SOME_THEN_RST, PEER_READ_ALL, PEER_HALF_CLOSE_ECHO };

static void *peer_main(void *arg)
{
    peer_job *j = arg;
    int fd = peer_connect(j->port);
    if (fd < 0) {
        j->result = -1;
        return NULL;
    }
    switch (j->mode) {
    case PEER_SEND_FIN:
        peer_send_all(fd, "hello, world", 12);
        shutdown(fd, SHUT_WR);
        j->result = peer_recv_all(fd, j->buf, sizeof j->buf, &j->got);
        close(fd);
        break;
    case PEER_SEND_RST:
        peer_send_all(fd, "last words", 10);
        usleep(20000); /* let the words arrive before the RST */
        peer_reset(fd);
        break;
    case PEER_READ_SOME_THEN_RST: {
        char tmp[1000];
        ssize_t n = recv(fd, tmp, sizeof tmp, 0);
        (void)n;
        peer_send_all(fd, "stop!", 5);
        usleep(20000);
        peer_reset(fd);
        break;
    }
    case PEER_READ_ALL:
        j->result = peer_recv_all(fd, j->buf, sizeof j->buf, &j->got);
        shutdown(fd, SHUT_WR);
        close(fd);
        break;
    case PEER_HALF_CLOSE_ECHO:
        /* reads our request until our FIN, then answers */
        j->result = peer_recv_all(fd, j->buf, sizeof j->buf, &j->got);
        peer_send_all(fd, "answer after your FIN", 21);
        close(fd);
        break;
    }
    return NULL;
}

static void peer_start(peer_job *j, uint16_t port, int mode)
{
    memset(j, 0, sizeof *j);
    j->port = port;
    j->mode = mode;
    pthread_create(&j->t, NULL, peer_main, j);
}

/* --- tests --- */

static int open_read_until_eof(side *sd)
{
    return lg_stream_read_until_eof(&sd->s, &sd->req, sd->buf, sizeof sd->buf, read_done);
}

static void test_eof_ending(void)
{
    side sd;
    side_init(&sd, open_read_until_eof);
    peer_job j;
    peer_start(&j, sd.l.addr.port, PEER_SEND_FIN);
    side_run_until_closed(&sd);
    pthread_join(j.t, NULL);
    CHECK_EQ_INT(sd.read_status, LG_OK);
    CHECK_EQ_INT(sd.read_len, 12);
    CHECK(memcmp(sd.buf, "hello, world", 12) == 0);
    CHECK_EQ_INT(lg_stream_ending(&sd.s), LG_END_EOF);
    CHECK_EQ_INT(j.result, 0); /* the peer saw our EOF, not a reset */
    side_free(&sd);
}

static void test_reset_after_data(void)
{
    side sd;
    side_init(&sd, open_read_until_eof);
    peer_job j;
    peer_start(&j, sd.l.addr.port, PEER_SEND_RST);
    side_run_until_closed(&sd);
    pthread_join(j.t, NULL);
    /* rule 2: the reset ends the read with its cause, and the data stays */
    CHECK_EQ_INT(sd.read_status, LG_ERR_RESET);
    CHECK_EQ_INT(sd.read_len, 10);
    CHECK(memcmp(sd.buf, "last words", 10) == 0);
    CHECK_EQ_INT(lg_stream_ending(&sd.s), LG_END_RESET);
    side_free(&sd);
}

/* A big upload into a peer that answers early and resets: the send fails
 * (reset or broken pipe), and the peer's answer is still read. */
static char *big;
#define BIG (8u << 20)

static int open_big_write(side *sd)
{
    /* More than loopback's socket buffers hold, so that sending is still
     * going on when the peer resets. */
    static const lg_stream_config big_queue = { .max_queued_bytes = 16u << 20 };
    sd->s.config = &big_queue;
    CHECK_EQ_INT(lg_stream_write(&sd->s, big, BIG), LG_OK);
    CHECK(lg_stream_queued(&sd->s) > 0);
    return open_read_until_eof(sd);
}

static void test_write_into_reset(void)
{
    side sd;
    side_init(&sd, open_big_write);
    peer_job j;
    peer_start(&j, sd.l.addr.port, PEER_READ_SOME_THEN_RST);
    side_run_until_closed(&sd);
    pthread_join(j.t, NULL);
    CHECK_EQ_INT(sd.write_errors, 1);
    CHECK(sd.write_error == LG_ERR_RESET || sd.write_error == LG_ERR_PIPE);
    CHECK_EQ_INT(sd.read_status, LG_ERR_RESET);
    CHECK_EQ_INT(sd.read_len, 5);
    CHECK(memcmp(sd.buf, "stop!", 5) == 0);
    side_free(&sd);
}

static char tmpl[] = "/tmp/linger-sendfile-XXXXXX";
static int file_fd = -1;
static lg_write_req file_req;
static int file_status = 99;

static void file_done(lg_write_req *req, int status)
{
    side *sd = req->data;
    file_status = status;
    lg_stream_close(&sd->s);
}

static int open_sendfile(side *sd)
{
    file_req.data = sd;
    return lg_stream_sendfile(&sd->s, &file_req, file_fd, 100, 300000, file_done);
}

static void test_sendfile(void)
{
    file_fd = mkstemp(tmpl);
    CHECK(file_fd >= 0);
    CHECK(write(file_fd, big, 400000) == 400000);
    unlink(tmpl);
    side sd;
    side_init(&sd, open_sendfile);
    peer_job j;
    peer_start(&j, sd.l.addr.port, PEER_READ_ALL);
    side_run_until_closed(&sd);
    pthread_join(j.t, NULL);
    CHECK_EQ_INT(file_status, LG_OK);
    CHECK_EQ_INT(j.result, 0);
    CHECK_EQ_INT(j.got, 300000);
    CHECK(memcmp(j.buf, big + 100, sizeof j.buf) == 0);
    close(file_fd);
    side_free(&sd);
}

static int open_half_close(side *sd)
{
    lg_stream_write(&sd->s, "request", 7);
    CHECK_EQ_INT(lg_stream_shutdown(&sd->s), LG_OK);
    CHECK_EQ_INT(lg_stream_write(&sd->s, "x", 1), LG_ERR_CLOSED);
    return open_read_until_eof(sd);
}

static void test_half_close_reads_on(void)
{
    side sd;
    side_init(&sd, open_half_close);
    peer_job j;
    peer_start(&j, sd.l.addr.port, PEER_HALF_CLOSE_ECHO);
    side_run_until_closed(&sd);
    pthread_join(j.t, NULL);
    CHECK_EQ_INT(j.got, 7);
    CHECK_EQ_INT(sd.read_status, LG_OK);
    CHECK_EQ_INT(sd.read_len, 21);
    CHECK(memcmp(sd.buf, "answer after your FIN", 21) == 0);
    side_free(&sd);
}

/* --- connect and resolve --- */

static int connect_status = 99, connect_fd = -1;
static void connect_done(lg_connect_req *req, int status, int fd)
{
    (void)req;
    connect_status = status;
    connect_fd = fd;
}

static int resolve_status = 99;
static size_t resolve_n;
static lg_addr resolved[8];
static void resolve_done(lg_resolve_req *req, int status, const lg_addr *a, size_t n)
{
    (void)req;
    resolve_status = status;
    resolve_n = n;
    for (size_t i = 0; i < n && i < 8; i++) resolved[i] = a[i];
}

static void noop_accept(lg_listener *l, int fd, const lg_addr *peer)
{
    (void)l;
    (void)peer;
    close(fd);
}

static void test_connect_and_resolve(void)
{
    lg_loop *loop = lg_loop_new(NULL);
    lg_listener l;
    CHECK_EQ_INT(lg_listen(loop, &l, "127.0.0.1:0", 0, 16, noop_accept, NULL), LG_OK);
    lg_connect_req cr;
    lg_addr a;
    CHECK_EQ_INT(lg_addr_parse(&a, "127.0.0.1", l.addr.port), LG_OK);
    CHECK_EQ_INT(lg_connect(loop, &cr, &a, 1000, connect_done), LG_OK);
    CHECK_EQ_INT(connect_status, 99); /* never inside the call */
    while (connect_status == 99) lg_loop_run_once(loop, 100);
    CHECK_EQ_INT(connect_status, LG_OK);
    CHECK(connect_fd >= 0);
    close(connect_fd);

    /* a closed port: refused, as an lg_err */
    uint16_t port = l.addr.port;
    lg_listener_close(&l);
    CHECK_EQ_INT(lg_addr_parse(&a, "127.0.0.1", port), LG_OK);
    connect_status = 99;
    int rc = lg_connect(loop, &cr, &a, 1000, connect_done);
    if (rc == LG_OK) {
        while (connect_status == 99) lg_loop_run_once(loop, 100);
        rc = connect_status;
    }
    CHECK_EQ_INT(rc, LG_ERR_REFUSED);

    lg_resolve_req rr;
    CHECK_EQ_INT(lg_resolve(loop, &rr, "::1", 80, 1000, resolve_done), LG_OK);
    CHECK_EQ_INT(resolve_status, 99);
    CHECK_EQ_INT(lg_loop_run(loop), LG_OK);
    CHECK_EQ_INT(resolve_status, LG_OK);
    CHECK_EQ_INT(resolved[0].family, 6);
    CHECK_EQ_INT(resolved[0].port, 80);

    resolve_status = 99;
    CHECK_EQ_INT(lg_resolve(loop, &rr, "localhost", 8080, 5000, resolve_done), LG_OK);
    CHECK_EQ_INT(lg_loop_run(loop), LG_OK);
    CHECK_EQ_INT(resolve_status, LG_OK);
    CHECK(resolve_n >= 1);
    CHECK_EQ_INT(resolved[0].port, 8080);
    char text[64];
    CHECK(lg_addr_format(&resolved[0], text, sizeof text) > 0);
    CHECK(strcmp(text, "127.0.0.1:8080") == 0 || strcmp(text, "[::1]:8080") == 0);

    resolve_status = 99;
    CHECK_EQ_INT(lg_resolve(loop, &rr, "no-such-host.invalid", 80, 5000, resolve_done), LG_OK);
    CHECK_EQ_INT(lg_loop_run(loop), LG_OK);
    CHECK_EQ_INT(resolve_status, LG_ERR_RESOLVE);
    lg_loop_free(loop);
}

int main(void)
{
    big = malloc(BIG);
    for (size_t i = 0; i < BIG; i++) big[i] = (char)(i * 7 + (i >> 13));
    test_eof_ending();
    test_reset_after_data();
    test_write_into_reset();
    test_sendfile();
    test_half_close_reads_on();
    test_connect_and_resolve();
    free(big);
    tt_report();
    if (trickle_wanted()) CHECK(trickle_opened > 0 && trickle_closed == trickle_opened);
    TEST_MAIN_END();
}
