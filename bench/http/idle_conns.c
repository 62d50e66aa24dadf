/*
 * Opens N keep-alive connections to a server and holds them, so that the
 * server's memory per connection can be read from /proc (bench/http/run.sh).
 *
 *   idle_conns [--active] HOST PORT N
 *
 * Each connection sends one GET /hello and reads the whole answer (so the
 * server has surely accepted it: connecting faster than a server accepts
 * overflows its backlog and leaves half-open connections it never saw).
 * Default (idle): then it stays open without a word, the state of a
 * keep-alive connection between requests. --active: then, once all are
 * open, each sends the first line of a second request and one header,
 * never the end of the head: a request in progress, which the server must
 * keep buffered.
 *
 * Prints "ready N" once all are in that state, then waits for its standard
 * input to close (or for SIGTERM) and exits, closing them all. Descriptors:
 * raises RLIMIT_NOFILE as far as it may.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static int connect_to(const struct sockaddr_in *sa)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read one answer with a Content-Length body. Returns its status or -1. */
static int read_answer(int fd)
{
    char buf[4096];
    size_t len = 0;
    for (;;) {
        ssize_t r = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        len += (size_t)r;
        buf[len] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) {
            if (len == sizeof buf - 1) return -1;
            continue;
        }
        size_t head = (size_t)(end - buf) + 4;
        const char *cl = strstr(buf, "Content-Length:");
        if (!cl) cl = strstr(buf, "content-length:");
        size_t body = cl && cl < end ? (size_t)strtoul(cl + 15, NULL, 10) : 0;
        if (len >= head + body) return atoi(buf + 9);
        if (head + body >= sizeof buf) return -1;
    }
}

int main(int argc, char **argv)
{
    int active = 0, a = 1;
    if (argc > 1 && strcmp(argv[1], "--active") == 0) {
        active = 1;
        a++;
    }
    if (argc - a != 3) {
        fprintf(stderr, "usage: %s [--active] HOST PORT N\n", argv[0]);
        return 2;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(argv[a + 1]));
    if (inet_pton(AF_INET, argv[a], &sa.sin_addr) != 1) {
        fprintf(stderr, "idle_conns: HOST must be a numeric IPv4 address\n");
        return 2;
    }
    long n = atol(argv[a + 2]);
    if (n <= 0) return 2;

    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rlim_t want = (rlim_t)n + 64;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = want;
        if (rl.rlim_max < want) rl.rlim_max = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
            getrlimit(RLIMIT_NOFILE, &rl);
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
            fprintf(stderr, "idle_conns: descriptors limited to %lu\n", (unsigned long)rl.rlim_cur);
        }
    }

    int *fds = calloc((size_t)n, sizeof *fds);
    if (!fds) return 1;
    static const char req[] = "GET /hello HTTP/1.1\r\nHost: bench\r\n\r\n";
    static const char partial[] = "GET /hello HTTP/1.1\r\nHost: bench\r\n";
    long ok = 0;
    for (long i = 0; i < n; i++) {
        fds[i] = connect_to(&sa);
        if (fds[i] < 0) {
            fprintf(stderr, "idle_conns: connection %ld: %s\n", i, strerror(errno));
            break;
        }
        if (send_all(fds[i], req, sizeof req - 1) < 0 || read_answer(fds[i]) != 200) {
            fprintf(stderr, "idle_conns: connection %ld: no 200 answer\n", i);
            close(fds[i]);
            fds[i] = -1;
            break;
        }
        ok++;
    }
    /* Requests in progress are started together, at the end, so that none
     * meets the server's header timeout before the measurement. */
    if (active)
        for (long i = 0; i < ok; i++)
            if (send_all(fds[i], partial, sizeof partial - 1) < 0) {
                fprintf(stderr, "idle_conns: connection %ld: send failed\n", i);
                ok = i;
                break;
            }
    printf("ready %ld\n", ok);
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0) {
    }
    for (long i = 0; i < n; i++)
        if (fds[i] >= 0) close(fds[i]);
    free(fds);
    return ok == n ? 0 : 1;
}
