/* The chaos proxy (see chaos_proxy.h). Blocking sockets and poll: it is a
 * test fixture, written to be obviously right rather than fast. */
#include "chaos_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

chaos_dir chaos_plain(void)
{
    chaos_dir d;
    memset(&d, 0, sizeof d);
    d.stall_at = CHAOS_OFF;
    d.truncate_at = CHAOS_OFF;
    d.reset_at = CHAOS_OFF;
    return d;
}

static void sleep_ms(uint32_t ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void reset_close(int fd)
{
    struct linger l = { 1, 0 };
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
}

typedef struct flow {
    int from, to;
    const chaos_dir *rule;
    size_t passed;     /* bytes forwarded so far */
    int cut;           /* truncated: read on and throw away until EOF */
    int done;          /* this direction has ended (EOF read) */
} flow;

enum { FLOW_OK, FLOW_ENDED, FLOW_RESET };

/* Move what is readable on f->from to f->to, applying the rule. */
static int pump(flow *f)
{
    char buf[65536];
    ssize_t n = recv(f->from, buf, sizeof buf, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return FLOW_OK;
    if (n <= 0) {
        /* EOF passes on as FIN; a reset passes on as a reset. */
        if (n < 0 && errno == ECONNRESET) return FLOW_RESET;
        if (!f->cut) shutdown(f->to, SHUT_WR);
        f->done = 1;
        return FLOW_ENDED;
    }
    if (f->cut) return FLOW_OK; /* swallowed */
    size_t off = 0;
    while (off < (size_t)n) {
        const chaos_dir *r = f->rule;
        size_t take = (size_t)n - off;
        if (r->split && take > r->split) take = r->split;
        /* stop exactly at the byte a rule names */
        size_t limits[3] = { r->stall_at, r->truncate_at, r->reset_at };
        for (int i = 0; i < 3; i++)
            if (limits[i] != CHAOS_OFF && f->passed < limits[i] && f->passed + take > limits[i])
                take = limits[i] - f->passed;
        if (r->reset_at != CHAOS_OFF && f->passed >= r->reset_at) return FLOW_RESET;
        if (r->truncate_at != CHAOS_OFF && f->passed >= r->truncate_at) {
            shutdown(f->to, SHUT_WR);
            f->cut = 1;
            return FLOW_OK; /* the rest is swallowed */
        }
        if (r->stall_at != CHAOS_OFF && f->passed == r->stall_at && r->stall_ms) {
            sleep_ms(r->stall_ms);
        }
        if (r->delay_ms) sleep_ms(r->delay_ms);
        size_t w = 0;
        while (w < take) {
            ssize_t s = send(f->to, buf + off + w, take - w, MSG_NOSIGNAL);
            if (s < 0) {
                if (errno == EINTR) continue;
                return FLOW_RESET;
            }
            w += (size_t)s;
        }
        f->passed += take;
        off += take;
    }
    /* a rule that falls exactly at the end of what was read */
    if (f->rule->reset_at != CHAOS_OFF && f->passed >= f->rule->reset_at) return FLOW_RESET;
    if (f->rule->truncate_at != CHAOS_OFF && f->passed >= f->rule->truncate_at && !f->cut) {
        shutdown(f->to, SHUT_WR);
        f->cut = 1;
    }
    return FLOW_OK;
}

static void serve_pair(chaos_proxy *p, int client)
{
    int server = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(p->upstream_port);
    sa.sin_addr.s_addr = htonl(0x7f000001);
    int one = 1;
    setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(server, (struct sockaddr *)&sa, sizeof sa) != 0) {
        reset_close(client);
        close(server);
        return;
    }
    flow up = { client, server, &p->up, 0, 0, 0 }, down = { server, client, &p->down, 0, 0, 0 };
    /* A special case the loop below cannot see: a rule at byte 0. */
    if (p->down.reset_at == 0 || p->up.reset_at == 0) goto reset;
    if (p->down.truncate_at == 0) {
        shutdown(client, SHUT_WR);
        down.cut = 1;
    }
    if (p->up.truncate_at == 0) {
        shutdown(server, SHUT_WR);
        up.cut = 1;
    }
    while (!p->stop && !(up.done && down.done)) {
        struct pollfd pf[2] = { { client, POLLIN, 0 }, { server, POLLIN, 0 } };
        /* a direction that ended is not read any more: its bytes are gone */
        if (up.done) pf[0].fd = -1;
        if (down.done) pf[1].fd = -1;
        int n = poll(pf, 2, 100);
        if (n <= 0) continue;
        if (pf[0].revents) {
            int rc = pump(&up);
            if (rc == FLOW_RESET) goto reset;
        }
        if (pf[1].revents) {
            int rc = pump(&down);
            if (rc == FLOW_RESET) goto reset;
        }
    }
    /* Both directions read to their EOF: nothing unread, a polite close. */
    close(client);
    close(server);
    p->pairs++;
    return;
reset:
    reset_close(client);
    reset_close(server);
    p->pairs++;
}

static void *proxy_main(void *arg)
{
    chaos_proxy *p = arg;
    while (!p->stop) {
        struct pollfd pf = { p->listen_fd, POLLIN, 0 };
        if (poll(&pf, 1, 50) <= 0) continue;
        int c = accept(p->listen_fd, NULL, NULL);
        if (c >= 0) serve_pair(p, c);
    }
    return NULL;
}

int chaos_start(chaos_proxy *p, uint16_t upstream_port)
{
    p->upstream_port = upstream_port;
    p->stop = 0;
    p->pairs = 0;
    p->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(0x7f000001);
    socklen_t len = sizeof sa;
    if (bind(p->listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(p->listen_fd, 16) != 0 ||
        getsockname(p->listen_fd, (struct sockaddr *)&sa, &len) != 0)
        return -1;
    p->port = ntohs(sa.sin_port);
    return pthread_create(&p->thread, NULL, proxy_main, p) == 0 ? 0 : -1;
}

void chaos_stop(chaos_proxy *p)
{
    p->stop = 1;
    pthread_join(p->thread, NULL);
    close(p->listen_fd);
}
