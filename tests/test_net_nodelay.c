/* Accepted sockets arrive with TCP_NODELAY (lg_listen's promise), whether
 * set on each (most systems) or inherited from the listening socket (Linux,
 * where src/net_posix.c sets it once on the listener). Without it an answer
 * written in two pieces waits for the client's delayed ACK: 40 ms. */
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "linger.h"
#include "tcp_peer.h"
#include "test.h"

typedef struct ctx {
    lg_loop *loop;
    int accepted, nodelay;
} ctx;

static void on_accept(lg_listener *l, int fd, const lg_addr *peer)
{
    ctx *c = l->data;
    int v = 0;
    socklen_t len = sizeof v;
    (void)peer;
    if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0) c->nodelay = v != 0;
    c->accepted++;
    close(fd); /* nothing was sent on it: no unread input to lose */
    lg_loop_stop(c->loop);
}

int main(void)
{
    ctx c = { 0 };
    lg_listener l;
    c.loop = lg_loop_new(NULL);
    CHECK(c.loop != NULL);
    CHECK_EQ_INT(lg_listen(c.loop, &l, "127.0.0.1:0", 0, 16, on_accept, &c), LG_OK);
    int fd = peer_connect(l.addr.port);
    CHECK(fd >= 0);
    for (int i = 0; i < 100 && !c.accepted; i++) lg_loop_run_once(c.loop, 100);
    CHECK_EQ_INT(c.accepted, 1);
    CHECK_EQ_INT(c.nodelay, 1);
    if (fd >= 0) close(fd);
    lg_listener_close(&l);
    lg_loop_free(c.loop);
    TEST_MAIN_END();
}
