/*
 * How much memory a TLS connection takes, measured: this program replaces
 * the C library's malloc family (glibc's __libc_* underneath) to count the
 * bytes in use and their peak, which covers mbedTLS's own allocations
 * (Debian's mbedTLS has no allocator hook: MBEDTLS_PLATFORM_MEMORY is off).
 *
 * The server runs here, the clients in a child process (its own heap, its
 * own count): N connections are opened at once, each handshakes and gets
 * one answer, and stays open (keep-alive). Each side reports, per
 * connection, the bytes in use once all are idle, and the peak while the
 * handshakes ran, for TLS and for plain TCP (the difference is TLS's). The
 * argument is the certificate directory (make_certs.sh); the figures go to
 * stdout, and into docs/tls.md.
 *
 * Not built with the sanitizers (they bring their own allocator).
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "linger.h"
#include "linger_tls.h"
#include "test.h"

#if defined(LG_TEST_TLS_OPENSSL)
#define LIBRARY "OpenSSL"
#else
#define LIBRARY "mbedTLS"
#endif

/* --- counting allocator --- */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static size_t in_use, peak;

static void counted(void *p)
{
    if (!p) return;
    in_use += malloc_usable_size(p);
    if (in_use > peak) peak = in_use;
}

void *malloc(size_t n)
{
    void *p = __libc_malloc(n);
    counted(p);
    return p;
}

void *calloc(size_t a, size_t b)
{
    void *p = __libc_calloc(a, b);
    counted(p);
    return p;
}

void *realloc(void *old, size_t n)
{
    if (old) in_use -= malloc_usable_size(old);
    void *p = __libc_realloc(old, n);
    if (p) counted(p);
    else if (old) in_use += malloc_usable_size(old); /* the old block stays */
    return p;
}

void free(void *p)
{
    if (p) in_use -= malloc_usable_size(p);
    __libc_free(p);
}

/* --- the exchange --- */

#define N 16

static const char *dir;

static const char *path(const char *name)
{
    static char buf[4][512];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static void on_hello(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_send_str(res, 200, "hello");
}

typedef struct figures {
    long idle_per_conn, peak_per_conn;
} figures;

static int answered;

static void on_response(lg_response *res, void *user)
{
    (void)user;
    CHECK_EQ_INT(res->err, LG_OK);
    answered++;
}

/* The child: N connections at once; reports its figures on fd out. */
static void run_clients(int tls_on, uint16_t port, int out, int wait_fd)
{
    lg_loop *loop = lg_loop_new(NULL);
    lg_tls_client *tls = NULL;
    char why[200];
    if (tls_on)
        CHECK_EQ_INT(lg_tls_client_new(&tls, &(lg_tls_client_config){
                                                 .ca = { .file = path("ca.pem") } },
                                       why, sizeof why),
                     LG_OK);
    lg_client_config cfg = { .max_conns_per_origin = N, .idle_timeout_ms = 60000,
                             .recv_buffer_bytes = 4096 };
    if (tls) {
        cfg.transport = lg_tls_client_transport;
        cfg.transport_user = tls;
    }
    lg_client *cli = lg_client_new(loop, &cfg);
    char url[64];
    snprintf(url, sizeof url, "%s://127.0.0.1:%u/hello", tls ? "https" : "http", port);
    for (int i = 0; i < 3; i++) lg_loop_run_once(loop, 0);
    size_t base = in_use;
    peak = in_use;
    for (int i = 0; i < N; i++) lg_fetch(cli, &(lg_request){ .url = url }, on_response, NULL);
    for (int i = 0; i < 4000 && answered < N; i++) lg_loop_run_once(loop, 5);
    for (int i = 0; i < 20; i++) lg_loop_run_once(loop, 5);
    CHECK_EQ_INT(answered, N);
    figures f = { (long)(in_use - base) / N, (long)(peak - base) / N };
    if (write(out, &f, sizeof f) != (ssize_t)sizeof f) exit(3);
    char c;
    if (read(wait_fd, &c, 1) < 0) exit(3); /* the server has measured: done */
    exit(test_failures ? 1 : 0);
}

static figures measure(int tls_on, figures *client)
{
    lg_loop *loop = lg_loop_new(NULL);
    lg_tls_server *tls = NULL;
    char why[200];
    if (tls_on)
        CHECK_EQ_INT(lg_tls_server_new(&tls, &(lg_tls_server_config){
                                                 .cert = { .file = path("chain.pem") },
                                                 .key = { .file = path("server.key") } },
                                       why, sizeof why),
                     LG_OK);
    lg_server_config cfg = { .max_conns = 64, .recv_buffer_bytes = 4096 };
    if (tls) {
        cfg.transport = lg_tls_server_transport;
        cfg.transport_user = tls;
    }
    lg_server *srv = lg_server_new(loop, &cfg);
    lg_route(srv, "GET", "/hello", on_hello, NULL);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:0", 0), LG_OK);
    int report[2], done[2];
    if (pipe(report) || pipe(done)) exit(2);
    for (int i = 0; i < 3; i++) lg_loop_run_once(loop, 0);
    size_t base = in_use;
    peak = in_use;
    pid_t pid = fork();
    if (pid == 0) /* (the parent's loop and server are left alone: their epoll is shared) */
        run_clients(tls_on, lg_server_port(srv), report[1], done[0]);
    const lg_server_stats *st = lg_server_get_stats(srv);
    for (int i = 0; i < 4000 && st->requests < N; i++) lg_loop_run_once(loop, 5);
    for (int i = 0; i < 20; i++) lg_loop_run_once(loop, 5);
    CHECK_EQ_INT(st->requests, N);
    CHECK_EQ_INT(st->active_connections, N);
    figures f = { (long)(in_use - base) / N, (long)(peak - base) / N };
    if (read(report[0], client, sizeof *client) != (ssize_t)sizeof *client) CHECK(0);
    if (write(done[1], "x", 1) != 1) CHECK(0);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    int down = 0;
    lg_server_shutdown(srv, 1000, NULL, NULL);
    for (int i = 0; i < 400 && (lg_loop_run_once(loop, 5) > 0 || !down); i++)
        down = lg_server_get_stats(srv)->active_connections == 0;
    lg_server_free(srv);
    for (int i = 0; i < 100 && lg_loop_run_once(loop, 5) > 0; i++) {
    }
    lg_tls_server_free(tls);
    lg_loop_free(loop);
    close(report[0]);
    close(report[1]);
    close(done[0]);
    close(done[1]);
    return f;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: tls_memory CERT_DIR\n");
        return 2;
    }
    dir = argv[1];
    signal(SIGPIPE, SIG_IGN);
    figures plain_c, tls_c;
    figures plain_s = measure(0, &plain_c);
    figures tls_s = measure(1, &tls_c);
    printf("%s %s, %d connections at once, receive buffers 4 KiB (server) and 8 KiB "
           "(client: its max_head_bytes), glibc malloc_usable_size\n",
           LIBRARY, lg_tls_library_version(), N);
    printf("                  idle (after one answer)   peak (handshakes)\n");
    printf("server plain TCP  %8ld bytes/conn        %8ld bytes/conn\n", plain_s.idle_per_conn,
           plain_s.peak_per_conn);
    printf("server TLS        %8ld bytes/conn        %8ld bytes/conn\n", tls_s.idle_per_conn,
           tls_s.peak_per_conn);
    printf("client plain TCP  %8ld bytes/conn        %8ld bytes/conn\n", plain_c.idle_per_conn,
           plain_c.peak_per_conn);
    printf("client TLS        %8ld bytes/conn        %8ld bytes/conn\n", tls_c.idle_per_conn,
           tls_c.peak_per_conn);
    printf("TLS's share: server %ld idle, %ld peak; client %ld idle, %ld peak (bytes/conn)\n",
           tls_s.idle_per_conn - plain_s.idle_per_conn, tls_s.peak_per_conn - plain_s.peak_per_conn,
           tls_c.idle_per_conn - plain_c.idle_per_conn, tls_c.peak_per_conn - plain_c.peak_per_conn);
#if defined(LG_TEST_TLS_OPENSSL)
    /* OpenSSL gives an idle connection's record buffers back
     * (SSL_MODE_RELEASE_BUFFERS): what stays is the session's state, well
     * under one 16 KiB buffer pair (49 KB per connection without). */
    CHECK(tls_s.idle_per_conn - plain_s.idle_per_conn < 30000);
#else
    /* mbedTLS's two record buffers (16 KiB of content each here) dominate:
     * the figure must be of that order, and not grow beyond it. */
    CHECK(tls_s.idle_per_conn - plain_s.idle_per_conn > 30000);
    CHECK(tls_s.idle_per_conn - plain_s.idle_per_conn < 60000);
#endif
    TEST_MAIN_END();
}
