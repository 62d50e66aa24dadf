/*
 * The hello-world server of bench/http for libmicrohttpd: GET /hello gives
 * "Hello, World!" as text/plain, like `linger serve`. One thread, its own
 * epoll loop (MHD_USE_EPOLL_INTERNAL_THREAD), with MHD's "turbo" flag: the
 * fastest set-up its manual documents, so that linger is compared with
 * libmicrohttpd at its best. The response is built once and shared.
 *
 *   hello_mhd PORT [MAX_CONNS]     runs until SIGINT or SIGTERM
 */
#define _POSIX_C_SOURCE 200809L
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if MHD_VERSION < 0x00097002
typedef int MHD_Result_t;
#else
typedef enum MHD_Result MHD_Result_t;
#endif

static struct MHD_Response *hello;
static struct MHD_Response *not_found;

static MHD_Result_t on_request(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **state)
{
    (void)cls;
    (void)version;
    (void)upload_data;
    /* MHD's idiom: the first call only announces the request; answering
     * then makes MHD close the connection afterwards (it cannot know yet
     * that no body follows). Answer on the second call. */
    static int marker;
    if (*state != &marker) {
        *state = &marker;
        return MHD_YES;
    }
    /* Bodies are not part of this benchmark: drop whatever comes. */
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") == 0 && strcmp(url, "/hello") == 0)
        return MHD_queue_response(conn, MHD_HTTP_OK, hello);
    return MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, not_found);
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
        fprintf(stderr, "usage: %s PORT [MAX_CONNS]\n", argv[0]);
        return 2;
    }
    unsigned port = (unsigned)atoi(argv[1]);
    unsigned max_conns = argc > 2 ? (unsigned)atoi(argv[2]) : 20000;

    hello = MHD_create_response_from_buffer(13, (void *)"Hello, World!", MHD_RESPMEM_PERSISTENT);
    not_found = MHD_create_response_from_buffer(10, (void *)"Not Found\n", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(hello, "Content-Type", "text/plain");
    MHD_add_response_header(not_found, "Content-Type", "text/plain");

    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO, (uint16_t)port, NULL, NULL, on_request,
        NULL, MHD_OPTION_CONNECTION_LIMIT, max_conns, MHD_OPTION_CONNECTION_TIMEOUT, 300u,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 511u, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "hello_mhd: cannot start on port %u\n", port);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    while (!stop) pause();
    MHD_stop_daemon(d);
    MHD_destroy_response(hello);
    MHD_destroy_response(not_found);
    return 0;
}
