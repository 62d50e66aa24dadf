/*
 * naive_server: the deliberately naive close, for the control experiment
 * of tests/interop/server/test_original_bug.py.
 *
 * It does what Microdot did (microdot issue 201) and what many small
 * servers still do: read the request head, write the answer, close(). Any
 * body still unread in the kernel makes the close send RST instead of FIN
 * (RFC 9112 9.6 warns of exactly this), and a client reading the answer
 * until EOF gets ECONNRESET. The interop tests run the same clients against
 * this and against linger's /early: this one must fail them, or the test
 * proves nothing.
 *
 *   naive_server [--port N]      prints the port, serves until SIGTERM
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static const char answer[] = "HTTP/1.1 200 OK\r\n"
                             "Content-Type: text/plain\r\n"
                             "Content-Length: 2\r\n"
                             "Connection: close\r\n"
                             "\r\n"
                             "OK";

int main(int argc, char **argv)
{
    int port = argc > 2 && strcmp(argv[1], "--port") == 0 ? atoi(argv[2]) : 0;
    signal(SIGPIPE, SIG_IGN);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t salen = sizeof sa;
    if (bind(l, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(l, 128) != 0 ||
        getsockname(l, (struct sockaddr *)&sa, &salen) != 0) {
        perror("naive_server");
        return 1;
    }
    printf("%u\n", ntohs(sa.sin_port));
    fflush(stdout);

    for (;;) {
        int fd = accept(l, NULL, NULL);
        if (fd < 0) continue;
        /* A client that never sends must not stall the others for long. */
        struct timeval tv = { 2, 0 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char head[8192];
        size_t got = 0;
        while (got < sizeof head - 1) {
            ssize_t n = recv(fd, head + got, sizeof head - 1 - got, 0);
            if (n <= 0) break;
            got += (size_t)n;
            head[got] = 0;
            if (strstr(head, "\r\n\r\n")) break;
        }
        if (send(fd, answer, sizeof answer - 1, MSG_NOSIGNAL) < 0) {
        }
        close(fd); /* the naive close: whatever body is unread, RST */
    }
}
