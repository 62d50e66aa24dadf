/*
 * The bug that started linger, at the TCP level, over loopback.
 *
 * A peer (a blocking thread, like MicroPython's client) sends a body and
 * then reads the answer until EOF. The linger side reads only the first part
 * of the body, writes a reply and closes. With lg_stream_close the peer must
 * get the whole reply and EOF, never ECONNRESET, for every body size from
 * 0 B to 1 MiB, many times over. The same exchange closed naively (close()
 * with input unread) must show the reset, so that this test can fail.
 *
 * In a private network namespace (root), it also checks the kernel's own
 * count of resets sent for unread data: zero for graceful closes.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "linger.h"
#include "loop_internal.h"
#include "netns.h"
#include "test.h"

#define PART 1000 /* what the handler reads of the body */
static const char REPLY[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK";

typedef struct peer {
    pthread_t thread;
    uint16_t port;
    size_t body_len;
    const char *body;
    /* results */
    size_t got;
    char reply[256];
    int send_err, recv_err;
} peer;

static void *peer_main(void *arg)
{
    peer *p = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(p->port);
    sa.sin_addr.s_addr = htonl(0x7f000001);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        p->send_err = errno;
        close(fd);
        return NULL;
    }
    size_t off = 0;
    while (off < p->body_len) {
        ssize_t w = send(fd, p->body + off, p->body_len - off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            p->send_err = errno;
            break;
        }
        off += (size_t)w;
    }
    /* read(-1): until EOF, exactly what MicroPython's client did */
    for (;;) {
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            p->recv_err = errno;
            break;
        }
        if (p->got + (size_t)n <= sizeof p->reply) memcpy(p->reply + p->got, buf, (size_t)n);
        p->got += (size_t)n;
    }
    close(fd);
    return NULL;
}

/* --- the linger side --- */

typedef struct server {
    lg_loop *loop;
    lg_listener l;
    lg_stream s;
    lg_read_req req;
    char part[PART];
    size_t want; /* min(body, PART): the handler reads this much */
    int naive;
    int done;
} server;

static void on_close(lg_stream *s)
{
    ((server *)s->data)->done = 1;
}

static const lg_stream_callbacks cbs = { .on_close = on_close };

static void part_read(lg_read_req *req, int status, size_t len)
{
    server *sv = req->data;
    (void)status;
    (void)len;
    /* Answer without reading the rest, as Microdot did. */
    lg_stream_write(&sv->s, REPLY, sizeof REPLY - 1);
    if (!sv->naive) {
        lg_stream_close(&sv->s);
        return;
    }
    /* The naive close: what every server that "just closes" does. (The
     * consume only returns linger's buffer; the kernel's input stays.) */
    lg_stream_consume(&sv->s, lg_stream_peek(&sv->s).len);
    int fd = sv->s.io.fd;
    lg_io_close(&sv->s.io);
    close(fd);
    sv->done = 1;
}

static void on_accept(lg_listener *l, int fd, const lg_addr *peer_addr)
{
    server *sv = l->data;
    (void)peer_addr;
    lg_stream_open(sv->loop, &sv->s, fd, NULL, &cbs, sv);
    sv->req.data = sv;
    lg_stream_read_exact(&sv->s, &sv->req, sv->part, sv->want, part_read);
}

static int one_exchange(server *sv, const char *body, size_t len, int naive, int *reset)
{
    peer p;
    memset(&p, 0, sizeof p);
    p.port = sv->l.addr.port;
    p.body = body;
    p.body_len = len;
    sv->naive = naive;
    sv->want = len < PART ? len : PART;
    sv->done = 0;
    pthread_create(&p.thread, NULL, peer_main, &p);
    while (!sv->done) lg_loop_run_once(sv->loop, 1000);
    pthread_join(p.thread, NULL);
    *reset = p.send_err == ECONNRESET || p.send_err == EPIPE || p.recv_err == ECONNRESET;
    int complete = p.got == sizeof REPLY - 1 && memcmp(p.reply, REPLY, p.got) == 0 &&
                   p.recv_err == 0 && p.send_err == 0;
    return complete;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    int own_netns = netns_enter_private();
    printf("private network namespace: %s\n", own_netns ? "yes" : "no (kernel counters not checked)");

    server sv;
    memset(&sv, 0, sizeof sv);
    sv.loop = lg_loop_new(NULL);
    CHECK_EQ_INT(lg_listen(sv.loop, &sv.l, "127.0.0.1:0", 0, 128, on_accept, &sv), LG_OK);

    static const size_t sizes[] = { 0, 1, 999, 1000, 1001, 4096, 65536, 262144, 1u << 20 };
    char *body = malloc(1u << 20);
    memset(body, 'x', 1u << 20);

    long long resets_before = own_netns ? netns_resets_for_unread() : -1;
    int graceful_ok = 0, graceful_total = 0, graceful_resets = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t len = sizes[i];
        for (int r = 0; r < rounds; r++) {
            int reset;
            graceful_total++;
            graceful_ok += one_exchange(&sv, body, len, 0, &reset);
            graceful_resets += reset;
        }
    }
    long long resets_graceful = own_netns ? netns_resets_for_unread() - resets_before : -1;
    printf("graceful: %d/%d complete, %d resets seen by the peer, kernel resets for unread data: %lld\n",
           graceful_ok, graceful_total, graceful_resets, resets_graceful);
    CHECK_EQ_INT(graceful_ok, graceful_total);
    CHECK_EQ_INT(graceful_resets, 0);
    if (own_netns) CHECK_EQ_INT(resets_graceful, 0);
    const lg_loop_stats *st = lg_loop_get_stats(sv.loop);
    CHECK_EQ_INT(st->graceful_closes, (uint64_t)graceful_total);
    CHECK_EQ_INT(st->linger_timeouts + st->linger_overflows + st->aborts, 0);

    /* The control: the same exchanges closed naively must show the bug. */
    long long before_naive = own_netns ? netns_resets_for_unread() : -1;
    int naive_resets = 0, naive_total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        if (sizes[i] <= 4096) continue; /* the bug needs unread input */
        for (int r = 0; r < rounds; r++) {
            int reset;
            naive_total++;
            one_exchange(&sv, body, sizes[i], 1, &reset);
            naive_resets += reset;
        }
    }
    long long resets_naive = own_netns ? netns_resets_for_unread() - before_naive : -1;
    printf("naive: %d/%d exchanges saw a reset, kernel resets for unread data: %lld\n", naive_resets,
           naive_total, resets_naive);
    CHECK(naive_resets * 2 > naive_total); /* this test can fail */
    if (own_netns) CHECK(resets_naive > 0);

    lg_listener_close(&sv.l);
    lg_loop_free(sv.loop);
    free(body);
    TEST_MAIN_END();
}
