/*
 * bench_latency: an open-loop HTTP/1.1 load generator. It sends GET
 * requests at a constant rate, whatever the server does, and measures each
 * request's latency from the moment it was *meant* to be sent, not from
 * the moment a connection was free to send it. A server that stalls for
 * 10 ms therefore shows 10 ms of latency on every request scheduled during
 * the stall, not on one: the "coordinated omission" of closed-loop tools
 * (wrk, ab), which stop sending while they wait and so never measure the
 * requests a real client would have sent meanwhile.
 *
 *   bench_latency [options] HOST PORT RATE SECONDS
 *     -c N        keep-alive connections (default 50)
 *     -p PATH     target (default /hello)
 *     -w SECONDS  warm-up at the same rate, not recorded (default 1)
 *
 * Request i is due at start + i / RATE. Whenever requests are due and a
 * connection is idle, the connection sends the oldest due one; each
 * connection has at most one request in flight (no pipelining). If the
 * server falls behind, due requests wait for a connection and that wait is
 * part of their latency. The generator itself must keep up: it prints how
 * late its sends were (send_lag: from the moment a request was due and a
 * connection was free to the moment it went), so a saturated or descheduled
 * generator shows instead of passing for a slow server.
 *
 * One line of JSON on stdout:
 *   {"rate": ..., "achieved": ..., "sent": ..., "completed": ..., "errors": ...,
 *    "unsent": ..., "p50_us": ..., "p90_us": ..., "p99_us": ..., "p999_us": ...,
 *    "max_us": ..., "mean_us": ..., "send_lag_p99_us": ...}
 * achieved counts responses per second of the measured period; unsent
 * counts requests that were due but never sent before the end (the server
 * could not keep up with the rate).
 *
 * Linux only (epoll; epoll_pwait2 for sub-millisecond waits when the
 * kernel has it). Run it pinned to a core of its own.
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
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE 4096

typedef struct conn {
    int fd;
    int busy;              /* a request is in flight */
    uint64_t due_ns;       /* when that request was meant to be sent */
    uint64_t idle_ns;      /* when its last answer came (free to send since) */
    int record;            /* inside the measured period */
    size_t sent;           /* bytes of the request written so far */
    size_t have;           /* bytes of the response in buf */
    char buf[BUF_SIZE];
} conn;

static struct sockaddr_in server;
static char request[512];
static size_t request_len;
static int epfd;
static uint64_t spin_ns = 0;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Blocking connect, then non-blocking: all connections are open before the
 * clock starts. */
static int open_conn(conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0) return -1;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&server, sizeof server) < 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
    epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
    c->busy = 0;
    c->have = 0;
    return 0;
}

static void close_conn(conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->busy = 0;
    c->have = 0;
}

/* Writes what is left of the request. 1: all written; 0: the rest waits
 * for EPOLLOUT; -1: the connection failed. */
static int push(conn *c)
{
    while (c->sent < request_len) {
        ssize_t n = send(c->fd, request + c->sent, request_len - c->sent, MSG_NOSIGNAL);
        if (n > 0) {
            c->sent += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
            epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
            return 0;
        }
        return -1;
    }
    return 1;
}

/* The length of a complete response at the start of buf, 0 if it is not
 * complete yet, -1 if it cannot be framed (no Content-Length). */
static long response_len(const char *buf, size_t have)
{
    const char *end = memmem(buf, have, "\r\n\r\n", 4);
    if (!end) return have >= BUF_SIZE ? -1 : 0;
    size_t head = (size_t)(end - buf) + 4;
    long body = -1;
    for (const char *p = buf; p < end;) {
        const char *eol = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
        if (!eol) break;
        if ((size_t)(eol - p) > 15 && strncasecmp(p, "Content-Length:", 15) == 0)
            body = strtol(p + 15, NULL, 10);
        p = eol + 2;
    }
    if (body < 0 || head + (size_t)body > BUF_SIZE) return -1;
    return head + (size_t)body <= have ? (long)(head + (size_t)body) : 0;
}

static void wait_events(struct epoll_event *evs, int max, int *n, uint64_t timeout_ns)
{
#ifdef SYS_epoll_pwait2
    static int have_pwait2 = 1;
    if (have_pwait2) {
        struct timespec ts = { (time_t)(timeout_ns / 1000000000u),
                               (long)(timeout_ns % 1000000000u) };
        long r = syscall(SYS_epoll_pwait2, epfd, evs, max, &ts, NULL, 0);
        if (r >= 0 || errno == EINTR) {
            *n = r < 0 ? 0 : (int)r;
            return;
        }
        if (errno != ENOSYS) {
            *n = 0;
            return;
        }
        have_pwait2 = 0;
    }
#endif
    /* Millisecond waits only: spin (timeout 0) when the next due time is
     * closer than a millisecond. */
    int ms = timeout_ns >= 2000000u ? (int)(timeout_ns / 1000000u) - 1 : 0;
    int r = epoll_wait(epfd, evs, max, ms);
    *n = r < 0 ? 0 : r;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_latency [-c CONNS] [-p PATH] [-w WARMUP_S] HOST PORT RATE SECONDS\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int nconns = 50;
    double warmup_s = 1;
    const char *path = "/hello";
    int opt;
    while ((opt = getopt(argc, argv, "c:p:w:s:")) != -1) {
        if (opt == 'c') nconns = atoi(optarg);
        else if (opt == 's') spin_ns = (uint64_t)(atof(optarg) * 1e3);
        else if (opt == 'p') path = optarg;
        else if (opt == 'w') warmup_s = atof(optarg);
        else usage();
    }
    if (argc - optind != 4 || nconns < 1) usage();
    const char *host = argv[optind];
    int port = atoi(argv[optind + 1]);
    double rate = atof(argv[optind + 2]);
    double seconds = atof(argv[optind + 3]);
    if (rate <= 0 || seconds <= 0 || warmup_s < 0) usage();

    memset(&server, 0, sizeof server);
    server.sin_family = AF_INET;
    server.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &server.sin_addr) != 1) {
        fprintf(stderr, "bench_latency: HOST must be an IPv4 address\n");
        return 2;
    }
    request_len = (size_t)snprintf(request, sizeof request,
                                   "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", path, host, port);

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)nconns + 64) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)nconns + 64 ? rl.rlim_max : (rlim_t)nconns + 64;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    /* Wake-ups as close to the due times as the kernel allows. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

    epfd = epoll_create1(0);
    conn *conns = calloc((size_t)nconns, sizeof *conns);
    if (epfd < 0 || !conns) return 1;
    for (int i = 0; i < nconns; i++) {
        if (open_conn(&conns[i]) < 0) {
            fprintf(stderr, "bench_latency: connect to %s:%d: %s\n", host, port, strerror(errno));
            return 1;
        }
    }

    double interval_ns = 1e9 / rate;
    uint64_t total = (uint64_t)((warmup_s + seconds) * rate);
    uint64_t first_recorded = (uint64_t)(warmup_s * rate);
    uint64_t cap = total - first_recorded + 1;
    uint64_t *lat = malloc(cap * sizeof *lat), *lag = malloc(cap * sizeof *lag);
    if (!lat || !lag) return 1;
    uint64_t nlat = 0, nlag = 0, errors = 0, last_got = 0;

    /* Idle connections, as a stack. */
    conn **idle = malloc((size_t)nconns * sizeof *idle);
    int nidle = 0;
    for (int i = nconns - 1; i >= 0; i--) idle[nidle++] = &conns[i];

    struct epoll_event evs[256];
    uint64_t start = now_ns() + 1000000u; /* 1 ms from now */
    uint64_t next = 0;                    /* index of the next request to send */
    uint64_t measure_start = start + (uint64_t)(warmup_s * 1e9);
    uint64_t end = start + (uint64_t)((warmup_s + seconds) * 1e9);
    uint64_t drain_until = end + 2000000000u; /* in-flight answers: 2 s more */

    for (;;) {
        uint64_t t = now_ns();
        /* Send every due request an idle connection can take. */
        while (next < total && nidle > 0) {
            uint64_t due = start + (uint64_t)((double)next * interval_ns);
            if (due > t) break;
            conn *c = idle[--nidle];
            if (c->fd < 0 && open_conn(c) < 0) {
                errors++;
                idle[nidle++] = c;
                break;
            }
            c->busy = 1;
            c->due_ns = due;
            c->record = next >= first_recorded;
            c->sent = 0;
            int r = push(c);
            if (r < 0) {
                errors++;
                close_conn(c);
                idle[nidle++] = c;
                next++;
                continue;
            }
            /* The generator's own lateness: from when the request could
             * have gone (due, and a connection free) to when it went. Not
             * the wait for a free connection, which is the server's. */
            if (c->record) lag[nlag++] = t - (c->idle_ns > due ? c->idle_ns : due);
            next++;
        }
        int busy = nconns - nidle;
        if (next >= total && busy == 0) break;
        if (t >= drain_until) break;

        uint64_t timeout = 100000000u; /* at most 100 ms */
        if (next < total && nidle > 0) {
            uint64_t due = start + (uint64_t)((double)next * interval_ns);
            timeout = due > t ? due - t : 0;
        }
        if (next >= total && t + timeout > drain_until) timeout = drain_until - t;
        if (timeout < spin_ns) timeout = 0; /* close enough: spin, not sleep */
        int n;
        wait_events(evs, 256, &n, timeout);
        uint64_t got = n > 0 ? now_ns() : 0;
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (c->fd < 0) continue;
            if ((evs[i].events & EPOLLOUT) && c->busy && c->sent < request_len) {
                int r = push(c);
                if (r < 0) goto failed;
                if (r == 1) {
                    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
                    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
                }
            }
            if (!(evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
            for (;;) {
                ssize_t r = recv(c->fd, c->buf + c->have, BUF_SIZE - c->have, 0);
                if (r < 0 && errno == EINTR) continue;
                if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
                if (r <= 0) goto failed;
                c->have += (size_t)r;
                long len = response_len(c->buf, c->have);
                if (len < 0 || (len > 0 && !c->busy)) goto failed;
                if (len == 0) {
                    if (c->have == BUF_SIZE) goto failed;
                    continue;
                }
                if (c->record && nlat < cap) {
                    lat[nlat++] = got - c->due_ns;
                    last_got = got;
                }
                memmove(c->buf, c->buf + len, c->have - (size_t)len);
                c->have -= (size_t)len;
                c->busy = 0;
                c->idle_ns = got;
                idle[nidle++] = c;
                break;
            }
            continue;
        failed:
            /* The request in flight is lost (counted); the connection goes
             * back to the idle ones closed, and is opened again when used.
             * An idle one that closed is already among them. */
            errors++;
            if (c->busy) idle[nidle++] = c;
            close_conn(c);
        }
    }
    uint64_t unsent = total - next;
    int still_busy = nconns - nidle;
    errors += (uint64_t)still_busy;

    qsort(lat, nlat, sizeof *lat, cmp_u64);
    qsort(lag, nlag, sizeof *lag, cmp_u64);
#define PCT(a, n, p) ((n) ? (double)(a)[(uint64_t)((double)((n) - 1) * (p))] / 1e3 : -1.0)
    double sum = 0;
    for (uint64_t i = 0; i < nlat; i++) sum += (double)lat[i];
    /* Responses per second over the measured period (to its end, or to the
     * last answer if answers were still coming after it). */
    double span = (double)((last_got > end ? last_got : end) - measure_start) / 1e9;
    printf("{\"rate\": %.0f, \"achieved\": %.0f, \"sent\": %llu, \"completed\": %llu, "
           "\"errors\": %llu, \"unsent\": %llu, \"p50_us\": %.1f, \"p90_us\": %.1f, "
           "\"p99_us\": %.1f, \"p999_us\": %.1f, \"max_us\": %.1f, \"mean_us\": %.1f, "
           "\"send_lag_p99_us\": %.1f, \"conns\": %d}\n",
           rate, span > 0 ? (double)nlat / span : 0, (unsigned long long)nlag,
           (unsigned long long)nlat, (unsigned long long)errors, (unsigned long long)unsent,
           PCT(lat, nlat, 0.50), PCT(lat, nlat, 0.90), PCT(lat, nlat, 0.99),
           PCT(lat, nlat, 0.999), nlat ? (double)lat[nlat - 1] / 1e3 : -1.0,
           nlat ? sum / (double)nlat / 1e3 : -1.0, PCT(lag, nlag, 0.99), nconns);
    for (int i = 0; i < nconns; i++) close_conn(&conns[i]);
    free(conns);
    free(idle);
    free(lat);
    free(lag);
    return 0;
}
