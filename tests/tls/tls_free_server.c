/*
 * A TLS server freed with connections in every state, for
 * tests/tls/test_tls_free.py. The test opens, against one server whose
 * TLS context allows one handshake at a time: an idle established
 * connection, one with half a request head, one with a request whose body
 * is half read, one with an endless answer to a client that does not read,
 * one in the middle of its handshake (a ClientHello answered, nothing
 * more) and one waiting for the handshake slot. Then, on "free" (stdin),
 * the loop stops and the server, the TLS context and the loop are freed
 * with all of them open; on "shutdown", the server shuts down first (the
 * documented way) and is freed once its loop has nothing left.
 *
 * Afterwards every byte must be back: linger's heap (a counting
 * allocator) holds nothing, and with a TLS block (lg_tls_memory, mbedTLS
 * built with memory_buffer_alloc) its largest free piece is what it was
 * before the first context was made. Then a second server is made on the
 * same memory (the same static block for the server, the same TLS block)
 * and must serve; it stops when stdin closes, and the same checks follow.
 *
 *   tls_free_server CERT KEY TLS_BLOCK_BYTES SEND_TIMEOUT_MS
 *     TLS_BLOCK_BYTES 0: no lg_tls_memory, and the server on the heap
 *     (Debian's mbedTLS, the OpenSSL transport)
 *     SEND_TIMEOUT_MS: the server's; longer than the test takes to set
 *     its connections up (valgrind is slow), short enough for a shutdown
 *
 * stdout: "port N" for each server, "half-read" once the upload's first
 * piece has come, then the figures ("open at free: N", "heap in use: N",
 * "block: N of M", the largest free piece now and at the start); stderr: the library's log.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "linger.h"
#include "linger_tls.h"

static unsigned char tls_block[1 << 20];
static unsigned char server_memory[256 * 1024];
static unsigned char cert[16384], key[16384];
static size_t cert_len, key_len;
static size_t block_bytes;
static uint32_t send_timeout_ms;
static long long heap_in_use; /* linger's allocations not yet freed, in bytes */

static void *count_alloc(size_t n, void *user)
{
    (void)user;
    void *p = malloc(n);
    if (p) heap_in_use += (long long)n;
    return p;
}

static void count_free(void *p, size_t n, void *user)
{
    (void)user;
    if (p) heap_in_use -= (long long)n;
    free(p);
}

#if defined(LG_TEST_TLS_BLOCK)
#include "mbedtls/platform.h"

/* mbedTLS's entropy source (MBEDTLS_ENTROPY_HARDWARE_ALT): the kernel's. */
int mbedtls_hardware_poll(void *data, unsigned char *out, size_t len, size_t *olen);
int mbedtls_hardware_poll(void *data, unsigned char *out, size_t len, size_t *olen)
{
    (void)data;
    ssize_t n = getrandom(out, len, 0);
    *olen = n > 0 ? (size_t)n : 0;
    return n == (ssize_t)len ? 0 : -1;
}

/* The largest piece the block gives at once: all of it, less one header,
 * when everything was given back (mbedTLS joins neighbouring free pieces);
 * less when anything is still held, or lost. */
static size_t largest_free_piece(void)
{
    size_t lo = 0, hi = block_bytes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        void *p = mbedtls_calloc(1, mid);
        if (p) {
            mbedtls_free(p);
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    return lo;
}
#else
static size_t largest_free_piece(void)
{
    return 0;
}
#endif

static size_t slurp(const char *path, unsigned char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap, f) : 0;
    if (f) fclose(f);
    return n;
}

static void log_line(int level, const char *message, void *user)
{
    (void)level;
    (void)user;
    fprintf(stderr, "%s\n", message);
}

static void say(const char *fmt, unsigned long long n)
{
    printf(fmt, n);
    putchar('\n');
    fflush(stdout);
}

/* --- the routes: the states the test holds connections in --- */

static void on_hello(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_send_str(res, 200, "hello after the free\n");
}

static int told_half_read;

/* Takes the body a piece at a time; the client sends half of it and stops. */
static void on_piece(lg_req *req, int status, const char *data, size_t len, void *user)
{
    (void)req;
    (void)data;
    if (status == LG_OK && len && !told_half_read) {
        told_half_read = 1;
        say("half-read", 0);
    }
    if (status != LG_OK || !len) lg_res_send_str(user, 200, "whole\n");
}

static void on_upload(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_req_read_body(req, 1u << 20, on_piece, res);
}

static char pattern[1024]; /* within a static server's queue (one buffer) */
static unsigned long long endless_bytes;

/* An answer that never ends: whatever the client takes, more follows,
 * until the connection goes (then the answer is ended, as the API asks). */
static void fill_endless(lg_res *res, void *user)
{
    (void)user;
    int rc;
    while ((rc = lg_res_write(res, pattern, sizeof pattern)) == LG_OK) endless_bytes += sizeof pattern;
    if (rc != LG_ERR_LIMIT) lg_res_abandon(res);
}

static void on_endless(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_stream(res, 200, fill_endless, NULL);
}

/* --- one server's life --- */

typedef struct round {
    lg_loop *loop;
    lg_server *srv;
    lg_tls_server *tls;
    lg_io in;
    int stdin_done;
} round;

static void on_stdin(lg_io *io, unsigned events)
{
    (void)events;
    round *r = LG_CONTAINER_OF(io, round, in);
    char line[64];
    ssize_t n = read(0, line, sizeof line - 1);
    if (n > 0) {
        line[n] = 0;
        if (strncmp(line, "free", 4) == 0) {
            lg_io_set(io, 0);
            lg_loop_stop(r->loop); /* everything still open stays open */
        } else if (strncmp(line, "shutdown", 8) == 0) {
            lg_io_set(io, 0);
            lg_server_shutdown(r->srv, 200, NULL, NULL);
        }
        return;
    }
    lg_io_set(io, 0);
    r->stdin_done = 1;
    lg_server_shutdown(r->srv, 2000, NULL, NULL);
}

static int round_start(round *r)
{
    memset(r, 0, sizeof *r);
    r->loop = lg_loop_new(&(lg_loop_config){ .log = log_line, .log_level = LG_LOG_INFO });
    char why[200];
    int rc = lg_tls_server_new(&r->tls,
                               &(lg_tls_server_config){ .cert = { .data = cert, .len = cert_len },
                                                        .key = { .data = key, .len = key_len },
                                                        .max_handshakes = 1,
                                                        .handshake_timeout_ms = 60000 },
                               why, sizeof why);
    if (rc) {
        fprintf(stderr, "TLS: %s\n", why);
        return 1;
    }
    /* Nothing times out while the test sets its connections up, but a
     * shutdown's last connection (the client that does not read) goes
     * after a send timeout of its own. */
    lg_server_config cfg = { .max_conns = 8, .recv_buffer_bytes = 4096,
                             .header_timeout_ms = 60000, .idle_timeout_ms = 60000,
                             .body_timeout_ms = 60000, .send_timeout_ms = send_timeout_ms,
                             .linger_timeout_ms = 500,
                             .transport = lg_tls_server_transport, .transport_user = r->tls };
    if (block_bytes) {
        cfg.memory = server_memory;
        cfg.memory_bytes = lg_server_memory_size(&cfg);
        if (cfg.memory_bytes > sizeof server_memory) return 1;
    }
    r->srv = lg_server_new(r->loop, &cfg);
    if (!r->srv) return 1;
    lg_route(r->srv, "GET", "/hello", on_hello, NULL);
    lg_route_ex(r->srv, "POST", "/upload", LG_ROUTE_STREAM_BODY, on_upload, NULL);
    lg_route(r->srv, "GET", "/endless", on_endless, NULL);
    if (lg_server_listen(r->srv, "127.0.0.1:0", 0) != LG_OK) return 1;
    lg_io_init(r->loop, &r->in, 0, on_stdin);
    lg_io_set(&r->in, LG_READABLE);
    say("port %llu", lg_server_port(r->srv));
    return 0;
}

/* Free everything, whatever is still open, and say what is left. */
static void round_end(round *r, size_t block_free_at_start)
{
    say("open at free: %llu", lg_server_get_stats(r->srv)->active_connections);
    say("aborts before free: %llu", lg_loop_get_stats(r->loop)->aborts);
    lg_server_free(r->srv);
    lg_tls_server_free(r->tls);
    lg_io_close(&r->in);
    lg_loop_free(r->loop);
    say("heap in use: %llu", (unsigned long long)heap_in_use);
    if (block_bytes)
        printf("block: %zu of %zu\n", largest_free_piece(), block_free_at_start);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: tls_free_server CERT KEY TLS_BLOCK_BYTES SEND_TIMEOUT_MS\n");
        return 2;
    }
    block_bytes = strtoul(argv[3], NULL, 10);
    send_timeout_ms = (uint32_t)strtoul(argv[4], NULL, 10);
    if (block_bytes > sizeof tls_block) return 2;
    memset(pattern, 'x', sizeof pattern);
    lg_set_allocator(&(lg_allocator){ count_alloc, count_free, NULL });
    size_t block_free_at_start = 0;
    if (block_bytes) {
        int rc = lg_tls_memory(tls_block, block_bytes);
        if (rc) {
            fprintf(stderr, "lg_tls_memory: %s\n", lg_strerror(rc));
            return 1;
        }
        block_free_at_start = largest_free_piece();
    }
    cert_len = slurp(argv[1], cert, sizeof cert);
    key_len = slurp(argv[2], key, sizeof key);

    for (int i = 0; i < 2; i++) {
        round r;
        if (round_start(&r)) return 1;
        lg_loop_run(r.loop);
        round_end(&r, block_free_at_start);
        if (r.stdin_done) break;
    }
    return 0;
}
