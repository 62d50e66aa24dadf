/*
 * The loop at scale: timers and idle connections.
 *
 *   bench_loop [rounds] [timers] [connections]     (defaults 5, 100000, 10000)
 *
 * Timers: start, move (restart later), stop and fire N timers with random
 * timeouts; nanoseconds per operation. The clock is the platform's with a
 * fake now_ms, so that firing measures the loop, not the waiting.
 *
 * Idle connections: N loopback TCP connections, the near end of each a
 * stream on the loop, the far ends in a child process, for each backend
 * (epoll, poll). Each stream reads one byte
 * first, so that its receive buffer is taken and given back as it would be
 * between requests. Printed: resident memory per connection (growth / N,
 * the lg_stream included: the application owns it), the time of
 * one loop iteration with nothing ready, and of a one-byte round trip on one
 * connection while all the others sit idle.
 *
 * Figures are medians of the rounds. Kernel memory (socket buffers, epoll
 * items) is not in VmRSS and not counted. With BENCH_TSV=FILE every round's
 * figures go to FILE too, for bench/report.py, one per line:
 *   WHAT  ROUND  VALUE      (WHAT: timer_start_ns ... epoll_rss_per_conn_b ...)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "linger.h"
#include "loop_internal.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Resident memory, counted page by page (smaps_rollup); VmRSS in
 * /proc/self/status comes from per-CPU counters that may lag by hundreds of
 * kilobytes. */
static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    long kib = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "Rss:", 4) == 0) kib = strtol(line + 4, NULL, 10);
    fclose(f);
    return kib;
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* --- timers --- */

static uint64_t fake_now;
static uint64_t fake_now_ms(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static long fired;
static void on_fire(lg_timer *t)
{
    (void)t;
    fired++;
}

typedef struct timer_result {
    double start, move, stop, fire;
} timer_result;

static timer_result bench_timers(int n, uint64_t seed)
{
    static lg_net net;
    net = lg_net_posix;
    net.now_ms = fake_now_ms;
    fake_now = 1000;
    lg_loop_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.net = &net;
    lg_loop *loop = lg_loop_new(&cfg);
    lg_timer *t = calloc((size_t)n, sizeof *t);
    uint64_t *due = malloc((size_t)n * sizeof *due);
    for (int i = 0; i < n; i++) {
        lg_timer_init(loop, &t[i], on_fire);
        due[i] = xorshift(&seed) % 60000;
    }
    timer_result r;
    double t0 = now_ns();
    for (int i = 0; i < n; i++) lg_timer_start(&t[i], (uint32_t)due[i]);
    double t1 = now_ns();
    /* Move each later (the server's lazy deadlines avoid this; a plain
     * refresh does it): down the heap. */
    for (int i = 0; i < n; i++) lg_timer_start(&t[i], (uint32_t)due[i] + 30000);
    double t2 = now_ns();
    for (int i = 0; i < n; i += 2) lg_timer_stop(&t[i]);
    double t3 = now_ns();
    fired = 0;
    fake_now += 200000;
    lg_loop_run_once(loop, 0);
    double t4 = now_ns();
    r.start = (t1 - t0) / n;
    r.move = (t2 - t1) / n;
    r.stop = (t3 - t2) / ((n + 1) / 2);
    r.fire = (t4 - t3) / (n / 2);
    if (fired != n / 2) fprintf(stderr, "bench_loop: %ld timers fired, expected %d\n", fired, n / 2);
    for (int i = 0; i < n; i++) lg_timer_stop(&t[i]);
    free(t);
    free(due);
    lg_loop_free(loop);
    return r;
}

/* --- idle connections ---
 * The peers live in a child process, so that the loop's process spends one
 * descriptor per connection, as a server does: it accepts N connections,
 * writes one byte on each, then writes one byte on connection i whenever
 * the parent sends it i through a pipe, until the pipe closes. */

typedef struct conn_result {
    double rss_per_conn, iter_us, rtt_us;
    int ok;
} conn_result;

static long delivered;
static void on_data(lg_stream *s)
{
    lg_str b = lg_stream_peek(s);
    delivered += (long)b.len;
    lg_stream_consume(s, b.len);
}

static long closed;
static void on_close(lg_stream *s)
{
    (void)s;
    closed++;
}

static const lg_stream_callbacks cbs = { .on_data = on_data, .on_close = on_close };

static void peer_process(int lfd, int cmd, int n)
{
    int *fds = malloc((size_t)n * sizeof *fds);
    int got = 0;
    for (; got < n; got++) {
        fds[got] = accept(lfd, NULL, NULL);
        if (fds[got] < 0 || write(fds[got], "x", 1) != 1) break;
    }
    int i;
    while (read(cmd, &i, sizeof i) == (ssize_t)sizeof i)
        if (i >= 0 && i < got && write(fds[i], "y", 1) != 1) break;
    _exit(0);
}

static conn_result bench_conns(const lg_backend *backend, int n)
{
    conn_result r = { 0, 0, 0, 0 };
    struct sockaddr_in sa;
    socklen_t salen = sizeof sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int lfd = socket(AF_INET, SOCK_STREAM, 0), pipefd[2];
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 4096) < 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &salen) < 0 || pipe(pipefd) < 0) {
        fprintf(stderr, "bench_loop: listen: %s\n", strerror(errno));
        return r;
    }
    pid_t child = fork();
    if (child == 0) {
        close(pipefd[1]);
        peer_process(lfd, pipefd[0], n);
    }
    close(lfd);
    close(pipefd[0]);

    lg_loop_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.backend = backend;
    lg_loop *loop = lg_loop_new(&cfg);
    long before = rss_kib();
    lg_stream *st = malloc((size_t)n * sizeof *st); /* counted: a server's connection has one */
    int opened = 0;
    delivered = 0;
    for (; opened < n; opened++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
            fprintf(stderr, "bench_loop: connection %d: %s\n", opened, strerror(errno));
            if (fd >= 0) close(fd);
            break;
        }
        fcntl(fd, F_SETFL, O_NONBLOCK);
        if (lg_stream_open(loop, &st[opened], fd, NULL, &cbs, NULL) != LG_OK) break;
        /* Let the child catch up (it writes one byte on each connection it
         * accepts): a connection the kernel completed but could not queue
         * for accept (backlog full) is left half-open, with no EOF ever. */
        if (opened % 256 == 255)
            for (int i = 0; i < 1000 && delivered < opened + 1; i++) lg_loop_run_once(loop, 10);
    }
    /* One byte each: every stream takes a buffer, reads, gives it back. */
    for (int i = 0; i < 2000 && delivered < opened; i++) lg_loop_run_once(loop, 10);
    long after = rss_kib();
    if (opened == n && delivered == n) {
        r.ok = 1;
        r.rss_per_conn = (double)(after - before) * 1024.0 / n;
        /* An iteration with nothing ready. */
        int iters = backend == &lg_backend_poll ? 200 : 20000;
        double t0 = now_ns();
        for (int i = 0; i < iters; i++) lg_loop_run_once(loop, 0);
        r.iter_us = (now_ns() - t0) / iters / 1000.0;
        /* A byte through one connection while the rest sit idle. */
        int trips = backend == &lg_backend_poll ? 200 : 5000;
        t0 = now_ns();
        for (int i = 0; i < trips; i++) {
            long want = delivered + 1;
            int idx = (int)((i * 7919L) % n);
            if (write(pipefd[1], &idx, sizeof idx) != (ssize_t)sizeof idx) break;
            while (delivered < want) lg_loop_run_once(loop, -1);
        }
        r.rtt_us = (now_ns() - t0) / trips / 1000.0;
    }
    close(pipefd[1]);
    waitpid(child, NULL, 0);
    /* The peers are gone (EOF on every connection): the graceful closes
     * end as soon as the loop reads those EOFs. The streams' memory is ours
     * again only after on_close. */
    closed = 0;
    for (int i = 0; i < opened; i++) lg_stream_close(&st[i]);
    while (closed < opened) lg_loop_run_once(loop, 100);
    free(st);
    lg_loop_free(loop);
    return r;
}

/* One measurement of idle connections, in a fresh process (the --conns
 * mode of this program), so that memory freed by earlier work and still
 * resident cannot hide the growth. */
static int conns_child(const char *backend, int n, conn_result *r)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "/proc/%d/exe --conns %s %d", (int)getpid(), backend, n);
    FILE *f = popen(cmd, "r");
    if (!f) return -1;
    int got = fscanf(f, "%lf %lf %lf %d", &r->rss_per_conn, &r->iter_us, &r->rtt_us, &r->ok);
    pclose(f);
    return got == 4 && r->ok ? 0 : -1;
}

static int raise_nofile(int want_conns)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rlim_t want = (rlim_t)want_conns + 64;
    if (rl.rlim_cur >= want) return want_conns;
    rl.rlim_cur = want;
    if (rl.rlim_max < want) rl.rlim_max = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0) return want_conns;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    fprintf(stderr, "bench_loop: only %lu descriptors; connections: %lu\n",
            (unsigned long)rl.rlim_max, (unsigned long)(rl.rlim_max - 64));
    return (int)(rl.rlim_max - 64);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--conns") == 0) {
        int n = raise_nofile(atoi(argv[3]));
        conn_result r = bench_conns(strcmp(argv[2], "poll") == 0 ? &lg_backend_poll
                                                                 : &lg_backend_epoll, n);
        printf("%f %f %f %d\n", r.rss_per_conn, r.iter_us, r.rtt_us, r.ok && n == atoi(argv[3]));
        return 0;
    }
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    int ntimers = argc > 2 ? atoi(argv[2]) : 100000;
    int nconns = argc > 3 ? atoi(argv[3]) : 10000;
    if (rounds < 1) rounds = 1;
    nconns = raise_nofile(nconns);

    const char *tsv_path = getenv("BENCH_TSV");
    FILE *tsv = tsv_path && *tsv_path ? fopen(tsv_path, "w") : NULL;
    if (tsv_path && *tsv_path && !tsv) perror(tsv_path);
    double *a = calloc((size_t)rounds, sizeof *a), *b = calloc((size_t)rounds, sizeof *b),
           *c = calloc((size_t)rounds, sizeof *c), *d = calloc((size_t)rounds, sizeof *d);
    for (int i = 0; i < rounds; i++) {
        timer_result r = bench_timers(ntimers, 0x9e3779b97f4a7c15ull + (uint64_t)i);
        a[i] = r.start;
        b[i] = r.move;
        c[i] = r.stop;
        d[i] = r.fire;
        if (tsv)
            fprintf(tsv, "timer_start_ns\t%d\t%.2f\ntimer_move_ns\t%d\t%.2f\n"
                         "timer_stop_ns\t%d\t%.2f\ntimer_fire_ns\t%d\t%.2f\n",
                    i, r.start, i, r.move, i, r.stop, i, r.fire);
    }
    printf("timers: %d, random timeouts 0-60 s, medians of %d rounds\n", ntimers, rounds);
    printf("  start %.0f ns, move later %.0f ns, stop %.0f ns, fire %.0f ns per timer; "
           "the loop holds %zu bytes per running timer (heap slot), the timer itself is %zu "
           "bytes of yours\n\n",
           median(a, rounds), median(b, rounds), median(c, rounds), median(d, rounds),
           sizeof(lg_timer *), sizeof(lg_timer));

    const char *backends[] = { "epoll", "poll" };
    printf("idle connections: %d TCP connections on one loop, medians of %d rounds\n", nconns,
           rounds);
    printf("  %-6s %16s %18s %22s\n", "", "RSS per conn", "idle iteration",
           "round trip among idle");
    for (int k = 0; k < 2; k++) {
        int good = 0;
        for (int i = 0; i < rounds; i++) {
            conn_result r;
            if (conns_child(backends[k], nconns, &r) != 0) continue;
            a[good] = r.rss_per_conn;
            b[good] = r.iter_us;
            c[good] = r.rtt_us;
            good++;
            if (tsv)
                fprintf(tsv, "%s_rss_per_conn_b\t%d\t%.1f\n%s_idle_iteration_us\t%d\t%.3f\n"
                             "%s_round_trip_us\t%d\t%.3f\n",
                        backends[k], i, r.rss_per_conn, backends[k], i, r.iter_us, backends[k],
                        i, r.rtt_us);
        }
        if (!good) {
            printf("  %-6s (failed)\n", backends[k]);
            continue;
        }
        printf("  %-6s %14.0f B %15.2f us %19.2f us\n", backends[k], median(a, good),
               median(b, good), median(c, good));
    }
    printf("  RSS per conn: the lg_stream (%zu bytes, the application's) and the loop's share; "
           "an idle stream holds no receive buffer; kernel memory (socket, epoll item) is not "
           "counted\n",
           sizeof(lg_stream));
    if (tsv) {
        fprintf(tsv, "timers\t0\t%d\nconns\t0\t%d\nsizeof_lg_stream\t0\t%zu\n"
                     "sizeof_lg_timer\t0\t%zu\ntimer_slot_bytes\t0\t%zu\n",
                ntimers, nconns, sizeof(lg_stream), sizeof(lg_timer), sizeof(lg_timer *));
        fclose(tsv);
    }
    free(a);
    free(b);
    free(c);
    free(d);
    return 0;
}
