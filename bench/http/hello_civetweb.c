/*
 * The hello-world server of bench/http for civetweb: GET /hello gives
 * "Hello, World!" as text/plain, like `linger serve`. civetweb serves each
 * connection from a thread of its pool for as long as the connection
 * lives, so the pool must be at least as large as the number of
 * connections a benchmark opens; access logging is off (its default).
 * TCP_NODELAY is on (an option, off by default): civetweb sends a head and
 * its body in two writes, which Nagle's algorithm and delayed ACKs would
 * otherwise hold up by 40 ms each.
 *
 *   hello_civetweb PORT [THREADS]   runs until SIGINT or SIGTERM
 */
#define _POSIX_C_SOURCE 200809L
#include <civetweb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int on_hello(struct mg_connection *conn, void *user)
{
    (void)user;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    if (strcmp(ri->request_method, "GET") != 0) return 0; /* civetweb answers */
    mg_send_http_ok(conn, "text/plain", 13);
    mg_write(conn, "Hello, World!", 13);
    return 200;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PORT [THREADS]\n", argv[0]);
        return 2;
    }
    char port[32], threads[32];
    snprintf(port, sizeof port, "127.0.0.1:%s", argv[1]);
    snprintf(threads, sizeof threads, "%s", argc > 2 ? argv[2] : "128");
    const char *options[] = { "listening_ports", port,
                              "num_threads", threads,
                              "enable_keep_alive", "yes",
                              "keep_alive_timeout_ms", "300000",
                              "request_timeout_ms", "300000",
                              "listen_backlog", "511",
                              "tcp_nodelay", "1",
                              NULL };
    mg_init_library(0);
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof cb);
    struct mg_context *ctx = mg_start(&cb, NULL, options);
    if (!ctx) {
        fprintf(stderr, "hello_civetweb: cannot start on %s\n", port);
        return 1;
    }
    mg_set_request_handler(ctx, "/hello$", on_hello, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    while (!stop) pause();
    mg_stop(ctx);
    mg_exit_library();
    return 0;
}
