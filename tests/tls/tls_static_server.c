/*
 * A TLS server in static memory, for tests/tls/test_tls_static.py (run by
 * scripts/tls_static_tests.sh, which builds it against mbedTLS built from
 * source with ports/mbedtls/linger_mbedtls_config.h: Debian's mbedTLS has
 * no memory_buffer_alloc). The server's connections, requests and buffers
 * come from lg_server_config.memory, everything of TLS from one block
 * given to lg_tls_memory; a counting allocator says whether linger
 * allocated anything once it was listening (it must not).
 *
 *   tls_static_server CERT KEY TLS_BLOCK_BYTES
 *
 * Prints its port (one line), serves GET /hello until its stdin closes,
 * then prints "allocations after start: N" on stderr, shuts down
 * gracefully and exits 0.
 */
#define _GNU_SOURCE
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
static int started;
static unsigned long after_start;

static void *count_alloc(size_t n, void *user)
{
    (void)user;
    if (started) after_start++;
    return malloc(n);
}

static void count_free(void *p, size_t n, void *user)
{
    (void)n;
    (void)user;
    free(p);
}

/* mbedTLS's entropy source (MBEDTLS_ENTROPY_HARDWARE_ALT): the kernel's. */
int mbedtls_hardware_poll(void *data, unsigned char *out, size_t len, size_t *olen);
int mbedtls_hardware_poll(void *data, unsigned char *out, size_t len, size_t *olen)
{
    (void)data;
    ssize_t n = getrandom(out, len, 0);
    *olen = n > 0 ? (size_t)n : 0;
    return n == (ssize_t)len ? 0 : -1;
}

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

static void on_hello(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_send_str(res, 200, "hello from static memory\n");
}

static lg_server *srv;

/* stdin closed: shut down gracefully (the loop ends when all is closed). */
static void on_stdin(lg_io *io, unsigned events)
{
    (void)events;
    char b[64];
    if (read(0, b, sizeof b) <= 0) {
        lg_io_set(io, 0);
        started = 0;
        fprintf(stderr, "allocations after start: %lu\n", after_start);
        lg_server_shutdown(srv, 2000, NULL, NULL);
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: tls_static_server CERT KEY TLS_BLOCK_BYTES\n");
        return 2;
    }
    size_t block = strtoul(argv[3], NULL, 10);
    if (block > sizeof tls_block) return 2;
    lg_set_allocator(&(lg_allocator){ count_alloc, count_free, NULL });
    int rc = lg_tls_memory(tls_block, block);
    if (rc) {
        fprintf(stderr, "lg_tls_memory: %s\n", lg_strerror(rc));
        return 1;
    }
    size_t cert_len = slurp(argv[1], cert, sizeof cert), key_len = slurp(argv[2], key, sizeof key);
    lg_loop *loop = lg_loop_new(&(lg_loop_config){ .log = log_line, .log_level = LG_LOG_INFO });
    lg_tls_server *tls;
    char why[200];
    rc = lg_tls_server_new(&tls, &(lg_tls_server_config){ .cert = { .data = cert, .len = cert_len },
                                                          .key = { .data = key, .len = key_len } },
                           why, sizeof why);
    if (rc) {
        fprintf(stderr, "TLS: %s\n", why);
        return 1;
    }
    lg_server_config cfg = { .max_conns = 8, .recv_buffer_bytes = 4096,
                             .transport = lg_tls_server_transport, .transport_user = tls };
    cfg.memory = server_memory;
    cfg.memory_bytes = lg_server_memory_size(&cfg);
    if (cfg.memory_bytes > sizeof server_memory) return 1;
    srv = lg_server_new(loop, &cfg);
    if (!srv) return 1;
    lg_route(srv, "GET", "/hello", on_hello, NULL);
    if (lg_server_listen(srv, "127.0.0.1:0", 0) != LG_OK) return 1;
    lg_io in;
    lg_io_init(loop, &in, 0, on_stdin);
    lg_io_set(&in, LG_READABLE);
    started = 1;
    printf("%u\n", lg_server_port(srv));
    fflush(stdout);
    lg_loop_run(loop);
    lg_server_free(srv);
    lg_tls_server_free(tls);
    lg_loop_free(loop);
    return 0;
}
