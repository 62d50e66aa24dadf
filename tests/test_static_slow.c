/*
 * File answers and the send timeout, over real sockets: a download that
 * keeps moving must never be cut off, however long it takes in all; one
 * whose client stops reading must end within the send timeout (plus the
 * graceful close's bound), with the file closed; so must one whose file
 * shrinks under it.
 *
 * The client caps its receive window (SO_RCVBUF) so that a 12 MiB file
 * cannot sit in the kernel's buffers (4 MiB at most for sending on Linux):
 * the server really waits on the client.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "linger.h"
#include "tcp_peer.h"
#include "test.h"

#define FILE_SIZE (12u << 20)
#define SEND_TIMEOUT_MS 300
#define LINGER_TIMEOUT_MS 300

static char dir[64];
static lg_loop *loop;
static lg_server *srv;
static atomic_int stop_server;

static void *server_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_server)) lg_loop_run_once(loop, 20);
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

static int open_small_window(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int rcv = 1 << 20; /* capped by net.core.rmem_max; small windows stall on delayed ACKs */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv); /* before connect: the window */
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(0x7f000001);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static const char REQ[] = "GET /f/big.bin HTTP/1.1\r\nHost: x\r\n\r\n";

/* Read a response head; returns its length (the bytes after it, already
 * body, go to *extra), or 0. */
static size_t read_head(int fd, size_t *extra)
{
    char buf[4096];
    size_t len = 0;
    while (len < sizeof buf) {
        ssize_t n = recv(fd, buf + len, sizeof buf - len, 0);
        if (n <= 0) return 0;
        len += (size_t)n;
        for (size_t i = 3; i < len; i++) {
            if (memcmp(buf + i - 3, "\r\n\r\n", 4) == 0) {
                *extra = len - (i + 1);
                return i + 1;
            }
        }
    }
    return 0;
}

/* Read until EOF, an error or `limit` bytes, pausing pause_ms after every
 * chunk_bytes. Returns the bytes read; *err gets 0 at EOF or the errno. */
static size_t read_paced(int fd, size_t limit, size_t chunk_bytes, int pause_ms, int *err)
{
    size_t got = 0, since_pause = 0;
    char buf[65536];
    *err = 0;
    while (got < limit) {
        size_t want = limit - got < sizeof buf ? limit - got : sizeof buf;
        ssize_t n = recv(fd, buf, want, 0);
        if (n == 0) return got;
        if (n < 0) {
            if (errno == EINTR) continue;
            *err = errno;
            return got;
        }
        got += (size_t)n;
        since_pause += (size_t)n;
        if (chunk_bytes && since_pause >= chunk_bytes) {
            since_pause = 0;
            usleep((useconds_t)pause_ms * 1000);
        }
    }
    return got;
}

int main(void)
{
    strcpy(dir, "/tmp/linger-slow-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/big.bin", dir);
    int f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(f >= 0 && ftruncate(f, FILE_SIZE) == 0); /* a sparse file is as good as any */
    close(f);
    int fds_before = count_fds();

    loop = lg_loop_new(NULL);
    lg_server_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.send_timeout_ms = SEND_TIMEOUT_MS;
    cfg.linger_timeout_ms = LINGER_TIMEOUT_MS;
    srv = lg_server_new(loop, &cfg);
    CHECK_EQ_INT(lg_server_static(srv, "/f", dir), LG_OK);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:0", 0), LG_OK);
    uint16_t port = lg_server_port(srv);
    pthread_t t;
    pthread_create(&t, NULL, server_main, NULL);

    /* 1. Slow but steady: 1 MiB, then a pause of a third of the timeout,
     *    for 12 MiB — four times the timeout in all. */
    int fd = open_small_window(port);
    CHECK(fd >= 0);
    CHECK_EQ_INT(peer_send_all(fd, REQ, sizeof REQ - 1), 0);
    double t0 = now_s();
    int err;
    size_t extra = 0;
    CHECK(read_head(fd, &extra) > 0);
    size_t got = extra + read_paced(fd, FILE_SIZE - extra, 1u << 20, SEND_TIMEOUT_MS / 3, &err);
    double steady_s = now_s() - t0;
    CHECK_EQ_INT(got, FILE_SIZE);
    /* The connection lives on: another request gets its answer. */
    static const char HEAD_REQ[] = "HEAD /f/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    CHECK_EQ_INT(peer_send_all(fd, HEAD_REQ, sizeof HEAD_REQ - 1), 0);
    CHECK(read_head(fd, &extra) > 0 && extra == 0);
    close(fd);
    printf("steady reader: %zu bytes in %.2f s (send timeout %d ms)\n", got, steady_s, SEND_TIMEOUT_MS);
    CHECK(steady_s * 1000 > SEND_TIMEOUT_MS); /* the test means something */

    /* 2. Stalled: read 1 MiB, stop for well beyond the timeout, then read
     *    on. The server must have given up: the rest never comes whole. */
    fd = open_small_window(port);
    CHECK(fd >= 0);
    CHECK_EQ_INT(peer_send_all(fd, REQ, sizeof REQ - 1), 0);
    got = read_paced(fd, 1u << 20, 0, 0, &err);
    usleep((SEND_TIMEOUT_MS + LINGER_TIMEOUT_MS) * 2 * 1000);
    t0 = now_s();
    size_t rest = read_paced(fd, SIZE_MAX, 0, 0, &err);
    double end_s = now_s() - t0;
    printf("stalled reader: %zu + %zu bytes, then %s after %.2f s\n", got, rest,
           err ? strerror(err) : "EOF", end_s);
    CHECK(got + rest < FILE_SIZE);
    CHECK(err == 0 || err == ECONNRESET); /* ended by the server, not by our timeout */
    close(fd);

    /* 3. The file shrinks while it is sent (someone rewrites it): the
     *    answer cannot be completed, so the connection ends early and the
     *    client sees less than Content-Length — never a short "complete"
     *    body. */
    fd = open_small_window(port);
    CHECK(fd >= 0);
    CHECK_EQ_INT(peer_send_all(fd, REQ, sizeof REQ - 1), 0);
    got = read_paced(fd, 1u << 20, 0, 0, &err);
    CHECK(truncate(path, 2u << 20) == 0);
    rest = read_paced(fd, SIZE_MAX, 0, 0, &err);
    printf("shrinking file: %zu + %zu bytes, then %s\n", got, rest, err ? strerror(err) : "EOF");
    CHECK(got + rest < FILE_SIZE);
    CHECK(err == 0 || err == ECONNRESET);
    close(fd);

    atomic_store(&stop_server, 1);
    pthread_join(t, NULL);
    const lg_server_stats *st = lg_server_get_stats(srv);
    CHECK_EQ_INT(st->timeouts, 1);
    CHECK_EQ_INT(st->requests, 4);
    lg_server_shutdown(srv, 1000, NULL, NULL);
    for (int i = 0; i < 100 && st->active_connections; i++) lg_loop_run_once(loop, 10);
    CHECK_EQ_INT(st->active_connections, 0);
    lg_server_free(srv);
    lg_loop_free(loop);
    CHECK_EQ_INT(count_fds(), fds_before); /* the file was closed every time */
    unlink(path);
    rmdir(dir);
    TEST_MAIN_END();
}
