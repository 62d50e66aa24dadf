/*
 * The floor: the least an HTTP/1.1 server on epoll can do per request. It
 * parses nothing: a request is whatever ends in an empty line, and it gets
 * a canned "Hello, World!" answer. A request that says "close" anywhere in
 * its head is answered and its connection closed, at once by default, or
 * with --linger as a careful server closes when input may still come:
 * shutdown(SHUT_WR), wait for the client's EOF, close. Level-triggered, one
 * accept per readiness, like nginx with multi_accept off.
 *
 * Usage: bench_floor PORT [--linger]   (listens on 127.0.0.1)
 *
 * Only for bench/http/run.py: what linger and nginx cost is quoted against
 * it. It trusts its client (no limits, no timeouts, a request that does not
 * fit the buffer is dropped with its connection).
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char answer_keep[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                  "Content-Length: 13\r\n\r\nHello, World!";
static const char answer_close[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                   "Content-Length: 13\r\nConnection: close\r\n\r\nHello, World!";

enum { BUF = 4096, LISTENER = -1 };

typedef struct conn {
    int fd;
    int lingering; /* FIN sent: reading until EOF */
    size_t len;
    char buf[BUF];
} conn;

static int epfd;

static void drop(conn *c)
{
    close(c->fd); /* (epoll forgets a closed descriptor itself) */
    free(c);
}

/* Answer every whole request in the buffer (pipelined ones in one send);
 * returns 0 when c was closed. */
static int serve(conn *c, int linger)
{
    char out[64 * sizeof answer_close];
    size_t out_len = 0;
    char *p = c->buf, *end = c->buf + c->len;
    for (;;) {
        char *eoh = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        if (!eoh) break;
        int closing = memmem(p, (size_t)(eoh - p), "close", 5) != NULL;
        const char *a = closing ? answer_close : answer_keep;
        size_t n = closing ? sizeof answer_close - 1 : sizeof answer_keep - 1;
        memcpy(out + out_len, a, n);
        out_len += n;
        p = eoh + 4;
        if (closing || out_len + sizeof answer_close > sizeof out) {
            if (send(c->fd, out, out_len, MSG_NOSIGNAL) != (ssize_t)out_len) {
                drop(c);
                return 0;
            }
            out_len = 0;
        }
        if (closing) {
            if (!linger) {
                drop(c);
                return 0;
            }
            shutdown(c->fd, SHUT_WR);
            c->lingering = 1;
            c->len = 0;
            return 1;
        }
    }
    if (out_len && send(c->fd, out, out_len, MSG_NOSIGNAL) != (ssize_t)out_len) {
        drop(c);
        return 0;
    }
    c->len = (size_t)(end - p);
    memmove(c->buf, p, c->len);
    if (c->len == BUF) {
        drop(c);
        return 0;
    }
    return 1;
}

static void on_readable(conn *c, int linger)
{
    if (c->lingering) {
        char scratch[512];
        ssize_t n = recv(c->fd, scratch, sizeof scratch, 0);
        if (n <= 0) drop(c);
        return;
    }
    ssize_t n = recv(c->fd, c->buf + c->len, BUF - c->len, 0);
    if (n <= 0) {
        drop(c);
        return;
    }
    c->len += (size_t)n;
    serve(c, linger);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PORT [--linger]\n", argv[0]);
        return 2;
    }
    int linger = argc > 2 && strcmp(argv[2], "--linger") == 0;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 511) < 0) {
        perror("floor: listen");
        return 1;
    }
    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(epfd, events, 256, -1);
        for (int i = 0; i < n; i++) {
            conn *c = events[i].data.ptr;
            if (c) {
                on_readable(c, linger);
                continue;
            }
            int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) continue;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            c = malloc(sizeof *c);
            if (!c) {
                close(fd);
                continue;
            }
            c->fd = fd;
            c->lingering = 0;
            c->len = 0;
            struct epoll_event cev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
            epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &cev);
        }
    }
}
