/*
 * A WebSocket load generator for bench/ws/run.py: raw sockets and epoll,
 * one thread, nothing of linger's, so that it costs the same against every
 * server and little (it does a fraction of a server's work per message: its
 * frames are masked once, ahead, and the answers are skipped over, never
 * copied or unmasked).
 *
 *   ws_load --port P [--path /ws] [--conns N] [--size BYTES] [--window W]
 *           [--seconds S] [--warmup S] [--broadcast] [--server-pid PID]
 *
 * Echo (default): N connections, each with W binary messages of BYTES in
 * flight: each echo that comes back sends the next one. W = 1 measures
 * round trips; a larger W, messages a server can carry.
 * Broadcast: N connections, the first of which sends messages that begin
 * with 'B' (the servers' signal to send them to every connection), W at a
 * time: a message counts as delivered on each connection that gets it,
 * and the next is sent once the oldest in flight has reached all N.
 *
 * After the warm-up it counts for S seconds and prints one line:
 *   msgs=M seconds=T msgs_per_s=R server_cpu_s=C msgs_per_cpu_s=E load_cpu_s=L
 * where server_cpu_s is the server process's utime + stime over the same
 * interval (/proc/PID/stat) and load_cpu_s this program's own (so that one
 * can see it was not the bottleneck).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct conn {
    int fd;
    int want_out;        /* EPOLLOUT registered */
    uint64_t to_send;    /* frames still to write (the first maybe in part) */
    size_t send_pos;     /* bytes of the first of them already written */
    unsigned char hdr[14];
    size_t hlen;         /* header bytes of the frame being read */
    uint64_t skip;       /* its payload bytes still to come */
    int fin;             /* it ends a message */
    uint64_t received;   /* messages */
} conn;

static struct {
    int port, nconns, window, broadcast, server_pid;
    const char *path;
    size_t size;
    double seconds, warmup;
    unsigned char *rep;  /* the masked frame, repeated */
    size_t flen, replen;
    conn *c;
    int ep;
    uint64_t delivered, sent_broadcasts;
} g;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

/* The server's CPU seconds so far: utime + stime, fields 14 and 15. */
static double server_cpu(void)
{
    if (!g.server_pid) return 0;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", g.server_pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* after the command's name, which may hold spaces */
    if (!p) return -1;
    unsigned long long ut = 0, st = 0;
    /* fields from the state (3rd) on: 3..13 skipped, then utime, stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double own_cpu(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)r.ru_utime.tv_sec + (double)r.ru_utime.tv_usec / 1e6 + (double)r.ru_stime.tv_sec
           + (double)r.ru_stime.tv_usec / 1e6;
}

/* One masked binary frame of g.size bytes (its payload, unmasked, is 'B'
 * then letters), repeated to about 64 KiB so that many go in one write. */
static void build_frames(void)
{
    static const unsigned char key[4] = { 0x37, 0xfa, 0x21, 0x3d };
    unsigned char hdr[14];
    size_t h = 0;
    hdr[h++] = 0x82; /* FIN, binary */
    if (g.size < 126) hdr[h++] = (unsigned char)(0x80 | g.size);
    else if (g.size < 65536) {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = (unsigned char)(g.size >> 8);
        hdr[h++] = (unsigned char)g.size;
    } else {
        hdr[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--) hdr[h++] = (unsigned char)((uint64_t)g.size >> (8 * i));
    }
    memcpy(hdr + h, key, 4);
    h += 4;
    g.flen = h + g.size;
    size_t copies = g.flen >= 65536 ? 1 : 65536 / g.flen;
    g.replen = copies * g.flen;
    g.rep = malloc(g.replen);
    if (!g.rep) die("malloc");
    for (size_t k = 0; k < copies; k++) {
        unsigned char *f = g.rep + k * g.flen;
        memcpy(f, hdr, h);
        for (size_t i = 0; i < g.size; i++) {
            unsigned char plain = i == 0 ? 'B' : (unsigned char)('a' + i % 26);
            f[h + i] = plain ^ key[i % 4];
        }
    }
}

static int connect_ws(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)g.port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     g.path, g.port);
    if (write(fd, req, (size_t)n) != n) die("write handshake");
    char resp[2048];
    size_t got = 0;
    while (got < sizeof resp - 1) {
        ssize_t r = read(fd, resp + got, 1); /* a byte at a time: nothing past the head */
        if (r <= 0) die("read handshake");
        got += (size_t)r;
        resp[got] = 0;
        if (got >= 4 && !memcmp(resp + got - 4, "\r\n\r\n", 4)) break;
    }
    if (strncmp(resp, "HTTP/1.1 101", 12) != 0) {
        fprintf(stderr, "ws_load: handshake refused: %.60s\n", resp);
        exit(1);
    }
    return fd;
}

static void watch(conn *c, int out)
{
    if (c->want_out == out) return;
    struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0u), .data.ptr = c };
    if (epoll_ctl(g.ep, EPOLL_CTL_MOD, c->fd, &ev) != 0) die("epoll_ctl");
    c->want_out = out;
}

static void try_send(conn *c)
{
    while (c->to_send) {
        size_t avail = g.replen - c->send_pos;
        uint64_t left = c->to_send * g.flen - c->send_pos;
        size_t n = left < avail ? (size_t)left : avail;
        ssize_t w = send(c->fd, g.rep + c->send_pos, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR) break;
            die("send");
        }
        size_t pos = c->send_pos + (size_t)w;
        c->to_send -= pos / g.flen;
        c->send_pos = pos % g.flen;
        if ((size_t)w < n) break;
    }
    watch(c, c->to_send != 0);
}

/* A message came back on c. */
static void on_message(conn *c)
{
    c->received++;
    g.delivered++;
    if (!g.broadcast) c->to_send++;
}

static void on_readable(conn *c)
{
    static unsigned char buf[256 * 1024];
    for (;;) {
        ssize_t r = recv(c->fd, buf, sizeof buf, 0);
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR) return;
            die("recv");
        }
        if (r == 0) {
            fprintf(stderr, "ws_load: the server closed a connection\n");
            exit(1);
        }
        size_t i = 0, n = (size_t)r;
        while (i < n) {
            if (c->skip) {
                size_t k = n - i < c->skip ? n - i : (size_t)c->skip;
                i += k;
                c->skip -= k;
                if (!c->skip && c->fin) on_message(c);
                continue;
            }
            c->hdr[c->hlen++] = buf[i++];
            if (c->hlen < 2) continue;
            size_t need = 2 + ((c->hdr[1] & 0x7f) == 126 ? 2 : (c->hdr[1] & 0x7f) == 127 ? 8 : 0)
                          + (c->hdr[1] & 0x80 ? 4 : 0);
            if (c->hlen < need) continue;
            unsigned op = c->hdr[0] & 0x0f;
            if (op >= 8) {
                fprintf(stderr, "ws_load: a control frame (opcode %u) from the server\n", op);
                exit(1);
            }
            uint64_t len = c->hdr[1] & 0x7f;
            if (len == 126) len = (uint64_t)c->hdr[2] << 8 | c->hdr[3];
            else if (len == 127) {
                len = 0;
                for (int b = 2; b < 10; b++) len = len << 8 | c->hdr[b];
            }
            c->fin = (c->hdr[0] & 0x80) != 0;
            c->hlen = 0;
            c->skip = len;
            if (!len && c->fin) on_message(c);
        }
        if ((size_t)r < sizeof buf) return;
    }
}

/* Broadcast: the sender's next messages, once the oldest has reached all. */
static void feed_broadcast(void)
{
    uint64_t n = (uint64_t)g.nconns, w = (uint64_t)g.window;
    /* (each connection gets the messages in order, so the oldest has
     * reached all when as many deliveries as that have come) */
    while (g.sent_broadcasts < w || (g.sent_broadcasts - w + 1) * n <= g.delivered) {
        g.c[0].to_send++;
        g.sent_broadcasts++;
    }
    try_send(&g.c[0]);
}

static void usage(void)
{
    fprintf(stderr, "usage: ws_load --port P [--path /ws] [--conns N] [--size BYTES] [--window W]\n"
                    "               [--seconds S] [--warmup S] [--broadcast] [--server-pid PID]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    g.path = "/";
    g.nconns = 1;
    g.size = 16;
    g.window = 1;
    g.seconds = 3;
    g.warmup = 0.5;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--broadcast")) { g.broadcast = 1; continue; }
        if (!v) usage();
        if (!strcmp(a, "--port")) g.port = atoi(v);
        else if (!strcmp(a, "--path")) g.path = v;
        else if (!strcmp(a, "--conns")) g.nconns = atoi(v);
        else if (!strcmp(a, "--size")) g.size = (size_t)atol(v);
        else if (!strcmp(a, "--window")) g.window = atoi(v);
        else if (!strcmp(a, "--seconds")) g.seconds = atof(v);
        else if (!strcmp(a, "--warmup")) g.warmup = atof(v);
        else if (!strcmp(a, "--server-pid")) g.server_pid = atoi(v);
        else usage();
        i++;
    }
    if (!g.port || g.nconns < 1 || g.window < 1 || g.size < 1) usage();
    build_frames();
    g.c = calloc((size_t)g.nconns, sizeof *g.c);
    g.ep = epoll_create1(0);
    if (!g.c || g.ep < 0) die("setup");
    for (int i = 0; i < g.nconns; i++) {
        conn *c = &g.c[i];
        c->fd = connect_ws();
        if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) != 0) die("nonblock");
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        if (epoll_ctl(g.ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) die("epoll_ctl");
    }
    if (g.broadcast) feed_broadcast();
    else
        for (int i = 0; i < g.nconns; i++) {
            g.c[i].to_send = (uint64_t)g.window;
            try_send(&g.c[i]);
        }

    double start = now_s(), t0 = 0, cpu0 = 0, own0 = 0;
    uint64_t d0 = 0;
    int measuring = 0;
    struct epoll_event evs[1024];
    for (;;) {
        double t = now_s();
        if (!measuring && t - start >= g.warmup) {
            measuring = 1;
            t0 = t;
            d0 = g.delivered;
            cpu0 = server_cpu();
            own0 = own_cpu();
        }
        if (measuring && t - t0 >= g.seconds) {
            double cpu = server_cpu() - cpu0, own = own_cpu() - own0, secs = t - t0;
            uint64_t m = g.delivered - d0;
            printf("msgs=%llu seconds=%.3f msgs_per_s=%.0f server_cpu_s=%.2f msgs_per_cpu_s=%.0f load_cpu_s=%.2f\n",
                   (unsigned long long)m, secs, (double)m / secs, cpu, cpu > 0 ? (double)m / cpu : 0.0, own);
            return 0;
        }
        int n = epoll_wait(g.ep, evs, 1024, 100);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c);
            if (!g.broadcast) try_send(c);
            else if (c == &g.c[0] && (evs[i].events & EPOLLOUT)) try_send(c);
        }
        if (g.broadcast) feed_broadcast();
    }
}
