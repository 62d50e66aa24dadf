/*
 * The soak: many requests against a running `linger serve`, keep-alive and
 * "Connection: close" mixed, GETs and POSTs with bodies of varied sizes,
 * every answer checked. It reads the server's resident memory and open
 * descriptors from /proc after a warm-up and at the end: both must come
 * back to where they were.
 *
 * Deliberately independent of linger: answers are parsed here with a few
 * lines of plain C, so a bug shared with linger's codec cannot hide.
 *
 *   soak PORT SERVER_PID REQUESTS [THREADS]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint16_t port;
static long per_thread;
static long errors, completed;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int connect_to(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(0x7f000001);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads one answer; returns its body length, or -1. *closing tells whether
 * the server said "Connection: close". */
static long read_answer(int fd, char *buf, size_t cap, size_t *have, char *body_out,
                        size_t body_cap, int *closing)
{
    char *end;
    for (;;) {
        end = *have >= 4 ? memmem(buf, *have, "\r\n\r\n", 4) : NULL;
        if (end) break;
        if (*have == cap) return -1;
        ssize_t n = recv(fd, buf + *have, cap - *have, 0);
        if (n <= 0) return -1;
        *have += (size_t)n;
    }
    size_t head = (size_t)(end - buf) + 4;
    if (*have < 12 || memcmp(buf, "HTTP/1.1 200", 12) != 0) return -1;
    const char *cl = memmem(buf, head, "Content-Length: ", 16);
    if (!cl) return -1;
    long len = strtol(cl + 16, NULL, 10);
    *closing = memmem(buf, head, "Connection: close", 17) != NULL;
    if ((size_t)len > body_cap) return -1;
    size_t got = *have - head < (size_t)len ? *have - head : (size_t)len;
    memcpy(body_out, buf + head, got);
    size_t rest = *have - head - got;
    memmove(buf, buf + head + got, rest);
    *have = rest;
    while (got < (size_t)len) {
        ssize_t n = recv(fd, body_out + got, (size_t)len - got, 0);
        if (n <= 0) return -1;
        got += (size_t)n;
    }
    return len;
}

static void *worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u;
    static __thread char body[9000], got[9000], buf[16384], req[10000];
    long my_errors = 0, my_done = 0;
    int fd = -1;
    size_t have = 0;
    for (long i = 0; i < per_thread; i++) {
        seed = seed * 1103515245u + 12345u;
        int post = (seed >> 8) % 3 == 0;
        int close_it = (seed >> 12) % 5 == 0; /* one in five: Connection: close */
        size_t blen = post ? (seed >> 16) % 8192 : 0;
        for (size_t k = 0; k < blen; k++) body[k] = (char)('a' + (k + i) % 26);
        int n;
        if (post)
            n = snprintf(req, sizeof req,
                         "POST /echo HTTP/1.1\r\nHost: s\r\nContent-Type: text/plain\r\n"
                         "Content-Length: %zu\r\n%s\r\n",
                         blen, close_it ? "Connection: close\r\n" : "");
        else
            n = snprintf(req, sizeof req, "GET /hello HTTP/1.1\r\nHost: s\r\n%s\r\n",
                         close_it ? "Connection: close\r\n" : "");
        memcpy(req + n, body, blen);
        if (fd < 0) {
            fd = connect_to();
            have = 0;
            if (fd < 0) {
                my_errors++;
                continue;
            }
        }
        int closing = 0;
        long len = -1;
        if (send_all(fd, req, (size_t)n + blen) == 0)
            len = read_answer(fd, buf, sizeof buf, &have, got, sizeof got, &closing);
        int ok = post ? len == (long)blen && memcmp(got, body, blen) == 0
                      : len == 13 && memcmp(got, "Hello, World!", 13) == 0;
        if (!ok || closing != close_it) my_errors++;
        else my_done++;
        if (!ok || closing) {
            /* The server closes after "Connection: close": read its EOF (a
             * reset here would be the bug linger exists to prevent). */
            if (ok) {
                char c;
                ssize_t r = recv(fd, &c, 1, 0);
                if (r != 0) my_errors++;
            }
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0) close(fd);
    pthread_mutex_lock(&lock);
    errors += my_errors;
    completed += my_done;
    pthread_mutex_unlock(&lock);
    return NULL;
}

static long rss_kib(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &v) == 1) break;
    if (f) fclose(f);
    return v;
}

static int open_fds(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", pid);
    DIR *d = opendir(path);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    if (d) closedir(d);
    return n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void run(long total, int threads)
{
    pthread_t t[64];
    per_thread = total / threads;
    for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1));
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: soak PORT SERVER_PID REQUESTS [THREADS]\n");
        return 2;
    }
    port = (uint16_t)atoi(argv[1]);
    int pid = atoi(argv[2]);
    long total = atol(argv[3]);
    int threads = argc > 4 ? atoi(argv[4]) : 4;
    if (threads < 1 || threads > 64) threads = 4;

    long warm = total / 10 < 20000 ? total / 10 : 20000;
    run(warm, threads);
    usleep(200000);
    long rss0 = rss_kib(pid);
    int fds0 = open_fds(pid);
    errors = completed = 0;

    double t0 = now_s();
    run(total, threads);
    double secs = now_s() - t0;
    usleep(300000); /* let the server finish its graceful closes */
    long rss1 = rss_kib(pid);
    int fds1 = open_fds(pid);

    printf("soak: %ld requests (%ld ok, %ld errors) in %.1f s (%.0f req/s), %d threads\n",
           completed + errors, completed, errors, secs, (completed + errors) / secs, threads);
    printf("soak: server RSS %ld -> %ld KiB, open descriptors %d -> %d\n", rss0, rss1, fds0, fds1);
    int ok = errors == 0 && rss1 - rss0 <= 1024 && fds1 <= fds0;
    printf("soak: %s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
