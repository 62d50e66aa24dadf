/* Blocking loopback HTTP servers on their own thread, scripted per test,
 * for the client on the loop thread. */
#ifndef LG_CLIENT_PEER_H
#define LG_CLIENT_PEER_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcp_peer.h"

/* A listening socket on 127.0.0.1 (or ::1 with v6), port chosen by the
 * kernel. */
static inline int srv_listen(int v6, uint16_t *port)
{
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof ss);
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(0x7f000001);
        len = sizeof *a;
    }
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 64) != 0) {
        close(fd);
        return -1;
    }
    getsockname(fd, (struct sockaddr *)&ss, &len);
    *port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* Reads exactly n bytes into buf (fewer at EOF). */
static inline size_t srv_discard_exact(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(fd, buf + got, n - got, 0);
        if (r <= 0) {
            if (r < 0 && errno == EINTR) continue;
            break;
        }
        got += (size_t)r;
    }
    return got;
}

/* Reads a request head (through the empty line) into buf, NUL-terminated.
 * Bytes read past it (the start of the body) are left at buf + head_len.
 * Returns the bytes read in all, or -1 at EOF/error before the head ended. */
static inline long srv_read_head(int fd, char *buf, size_t cap, size_t *head_len)
{
    size_t got = 0;
    while (got + 1 < cap) {
        ssize_t n = recv(fd, buf + got, cap - 1 - got, 0);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            return -1;
        }
        got += (size_t)n;
        buf[got] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (end) {
            *head_len = (size_t)(end + 4 - buf);
            return (long)got;
        }
    }
    return -1;
}

/* Reads exactly a request head (through the empty line) and nothing of
 * what follows, so that body bytes stay in the kernel unread: the head is
 * found with MSG_PEEK first. Returns the head's length, or -1. */
static inline long srv_read_head_exact(int fd, char *buf, size_t cap)
{
    for (;;) {
        ssize_t n = recv(fd, buf, cap - 1, MSG_PEEK);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            return -1;
        }
        buf[n] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (end) {
            size_t len = (size_t)(end + 4 - buf);
            return srv_discard_exact(fd, buf, len) == len ? (long)len : -1;
        }
        if ((size_t)n == cap - 1) return -1;
        struct pollfd p = { fd, POLLIN, 0 };
        usleep(50); /* more is coming: the peek saw it all */
        poll(&p, 1, 10);
    }
}

/* The Content-Length of a request head, or 0. */
static inline size_t srv_content_length(const char *head)
{
    const char *p = strcasestr(head, "\r\nContent-Length:");
    return p ? (size_t)strtoull(p + 17, NULL, 10) : 0;
}

/* Reads and drops n bytes (fewer at EOF). Returns the bytes read. */
static inline size_t srv_discard(int fd, size_t n)
{
    char tmp[65536];
    size_t got = 0;
    while (got < n) {
        size_t want = n - got < sizeof tmp ? n - got : sizeof tmp;
        ssize_t r = recv(fd, tmp, want, 0);
        if (r <= 0) {
            if (r < 0 && errno == EINTR) continue;
            break;
        }
        got += (size_t)r;
    }
    return got;
}

/* Bytes received and not read yet / sent and not yet acknowledged. */
static inline int srv_unread(int fd)
{
    int n = 0;
    ioctl(fd, FIONREAD, &n);
    return n;
}

static inline int srv_unacked(int fd)
{
    int n = 0;
    ioctl(fd, TIOCOUTQ, &n);
    return n;
}

/* Graceful: FIN, read until the peer's EOF, close. */
static inline void srv_close_graceful(int fd)
{
    shutdown(fd, SHUT_WR);
    srv_discard(fd, (size_t)-1);
    close(fd);
}

#endif
