/* The POSIX platform retries calls interrupted by signals (EINTR) instead of
 * reporting them: recv, sendmsg, accept4 and connect are interposed here to
 * fail with EINTR every other time, and a full exchange must still work. */
#include <dlfcn.h>
#include <errno.h>
#include <sys/socket.h>

#include "linger.h"
#include "tcp_peer.h"
#include "test.h"

static int interrupts;
static __thread int in_peer; /* the test's own peer thread is left alone */

#define INTERPOSE(ret, name, params, args)                                    \
    ret name params                                                           \
    {                                                                         \
        static ret(*real) params;                                             \
        static int flip;                                                      \
        if (!real) real = (ret(*) params)dlsym(RTLD_NEXT, #name);             \
        if (!in_peer && (flip ^= 1)) {                                        \
            interrupts++;                                                     \
            errno = EINTR;                                                    \
            return (ret)-1;                                                   \
        }                                                                     \
        return real args;                                                     \
    }

INTERPOSE(ssize_t, recv, (int fd, void *buf, size_t len, int flags), (fd, buf, len, flags))
INTERPOSE(ssize_t, sendmsg, (int fd, const struct msghdr *m, int flags), (fd, m, flags))
INTERPOSE(int, accept4, (int fd, struct sockaddr *a, socklen_t *l, int flags), (fd, a, l, flags))

typedef struct ctx {
    lg_loop *loop;
    lg_listener l;
    lg_stream s;
    lg_read_req req;
    char buf[64];
    int status;
    size_t len;
    int closed;
} ctx;

static void on_close(lg_stream *s)
{
    ((ctx *)s->data)->closed = 1;
}
static const lg_stream_callbacks cbs = { .on_close = on_close };

static void done(lg_read_req *r, int status, size_t len)
{
    ctx *c = r->data;
    c->status = status;
    c->len = len;
    lg_stream_write(&c->s, "pong", 4);
    lg_stream_close(&c->s);
}

static void on_accept(lg_listener *l, int fd, const lg_addr *peer)
{
    ctx *c = l->data;
    (void)peer;
    lg_stream_open(c->loop, &c->s, fd, NULL, &cbs, c);
    c->req.data = c;
    lg_stream_read_exact(&c->s, &c->req, c->buf, 4, done);
}

static char reply[16];
static size_t reply_len;
static void *peer(void *arg)
{
    in_peer = 1;
    int fd = peer_connect(*(uint16_t *)arg);
    peer_send_all(fd, "ping", 4);
    shutdown(fd, SHUT_WR);
    peer_recv_all(fd, reply, sizeof reply, &reply_len);
    close(fd);
    return NULL;
}

int main(void)
{
    ctx c;
    memset(&c, 0, sizeof c);
    c.loop = lg_loop_new(NULL);
    CHECK_EQ_INT(lg_listen(c.loop, &c.l, "127.0.0.1:0", 0, 8, on_accept, &c), LG_OK);
    uint16_t port = c.l.addr.port;
    pthread_t t;
    pthread_create(&t, NULL, peer, &port);
    while (!c.closed) lg_loop_run_once(c.loop, 100);
    pthread_join(t, NULL);
    CHECK_EQ_INT(c.status, LG_OK);
    CHECK(memcmp(c.buf, "ping", 4) == 0);
    CHECK_EQ_INT(reply_len, 4);
    CHECK(memcmp(reply, "pong", 4) == 0);
    CHECK(interrupts >= 3); /* the interposition really happened */
    printf("EINTR injected %d times\n", interrupts);
    lg_listener_close(&c.l);
    lg_loop_free(c.loop);
    TEST_MAIN_END();
}
