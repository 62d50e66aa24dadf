/* Blocking loopback peers on their own thread, for tests whose other side
 * is linger on the loop thread. Each peer runs a small script. */
#ifndef LG_TCP_PEER_H
#define LG_TCP_PEER_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static inline int peer_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(0x7f000001);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static inline int peer_send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads until EOF or error into buf (keeps counting past cap). Returns 0 at
 * EOF or -errno; *got is the byte count. */
static inline int peer_recv_all(int fd, char *buf, size_t cap, size_t *got)
{
    *got = 0;
    for (;;) {
        char tmp[16384];
        ssize_t n = recv(fd, tmp, sizeof tmp, 0);
        if (n == 0) return 0;
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (buf && *got < cap) memcpy(buf + *got, tmp, (size_t)n < cap - *got ? (size_t)n : cap - *got);
        *got += (size_t)n;
    }
}

/* Close so that the other side gets RST. */
static inline void peer_reset(int fd)
{
    struct linger l = { 1, 0 };
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
}

#endif
