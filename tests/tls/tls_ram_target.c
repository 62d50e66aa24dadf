/*
 * The RAM of one TLS connection on a 32-bit microcontroller, measured
 * (scripts/tls_ram.sh builds this for Cortex-M4 with mbedTLS and
 * ports/mbedtls/linger_mbedtls_config.h, and runs it under qemu-arm).
 *
 * An mbedTLS server and client in one program, joined by two in-memory
 * pipes, make a full handshake (ECDHE-ECDSA, P-256, AES-128-GCM), then the
 * client sends a 1 KiB request and the server answers 6 KiB. Every
 * allocation mbedTLS makes goes through a counting allocator
 * (mbedtls_platform_set_calloc_free) that charges it to the side running
 * at the time, so the server's figures are the server's alone:
 *
 *   setup   after mbedtls_ssl_setup (the record buffers)
 *   peak    the most held at once, handshake included
 *   idle    after the exchange, the connection open
 *   struct  sizeof(mbedtls_ssl_context), held by the application (linger
 *           keeps it in its per-connection transport state)
 *
 * The shared configuration (certificate, key, random generator) is counted
 * apart ("context"). Certificates come from the test CA (tests/tls/
 * make_certs.sh), compiled in by the script. The client asks for
 * MAX_FRAGMENT (0: nothing). Prints one line: "name=bytes ...".
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/platform.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"

#include "tls_ram_certs.h" /* (made by scripts/tls_ram.sh: CA, server chain and key, in PEM) */

#ifndef MAX_FRAGMENT
#define MAX_FRAGMENT 0
#endif

/* --- the counting allocator --- */

enum { SIDE_CONTEXT, SIDE_SERVER, SIDE_CLIENT, SIDES };
static int side = SIDE_CONTEXT;
static long held[SIDES], peak[SIDES];

typedef union { size_t n; long double align; } head;

static void *count_calloc(size_t n, size_t size)
{
    if (size && n > (SIZE_MAX - sizeof(head)) / size) return NULL;
    size_t bytes = n * size;
    head *h = calloc(1, sizeof *h + bytes);
    if (!h) return NULL;
    h->n = bytes | (size_t)side << 28; /* (blocks are far below 256 MiB) */
    held[side] += (long)bytes;
    if (held[side] > peak[side]) peak[side] = held[side];
    return h + 1;
}

static void count_free(void *p)
{
    if (!p) return;
    head *h = (head *)p - 1;
    held[h->n >> 28] -= (long)(h->n & ((1u << 28) - 1));
    free(h);
}

/* The device's hardware random source: a stand-in (xorshift) here. */
int mbedtls_hardware_poll(void *data, unsigned char *out, size_t len, size_t *olen);
int mbedtls_hardware_poll(void *data, unsigned char *out, size_t len, size_t *olen)
{
    static uint32_t x = 2463534242u;
    (void)data;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out[i] = (unsigned char)x;
    }
    *olen = len;
    return 0;
}

/* --- two pipes in memory --- */

typedef struct pipe_buf {
    unsigned char data[24 * 1024];
    size_t len;
} pipe_buf;
static pipe_buf to_server, to_client;

typedef struct end {
    pipe_buf *in, *out;
} end;

static int pipe_send(void *ctx, const unsigned char *buf, size_t len)
{
    pipe_buf *p = ((end *)ctx)->out;
    size_t room = sizeof p->data - p->len;
    if (!room) return MBEDTLS_ERR_SSL_WANT_WRITE;
    if (len > room) len = room;
    memcpy(p->data + p->len, buf, len);
    p->len += len;
    return (int)len;
}

static int pipe_recv(void *ctx, unsigned char *buf, size_t len)
{
    pipe_buf *p = ((end *)ctx)->in;
    if (!p->len) return MBEDTLS_ERR_SSL_WANT_READ;
    if (len > p->len) len = p->len;
    memcpy(buf, p->data, len);
    memmove(p->data, p->data + len, p->len - len);
    p->len -= len;
    return (int)len;
}

static int fail(const char *what, int r)
{
    printf("tls_ram: %s failed: -0x%04x\n", what, (unsigned)-r);
    return 1;
}

static int again(int r)
{
    return r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE;
}

int main(void)
{
    mbedtls_platform_set_calloc_free(count_calloc, count_free);
    static const char pers[] = "tls_ram";
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt chain, ca;
    mbedtls_pk_context key;
    mbedtls_ssl_config sconf, cconf;
    mbedtls_ssl_context server, client;
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_x509_crt_init(&chain);
    mbedtls_x509_crt_init(&ca);
    mbedtls_pk_init(&key);
    mbedtls_ssl_config_init(&sconf);
    mbedtls_ssl_config_init(&cconf);
    mbedtls_ssl_init(&server);
    mbedtls_ssl_init(&client);

    int r = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                                  (const unsigned char *)pers, sizeof pers - 1);
    if (r) return fail("seed", r);
    if ((r = mbedtls_x509_crt_parse(&chain, server_chain_pem, sizeof server_chain_pem)) != 0)
        return fail("chain", r);
    if ((r = mbedtls_pk_parse_key(&key, server_key_pem, sizeof server_key_pem, NULL, 0)) != 0)
        return fail("key", r);
    if ((r = mbedtls_ssl_config_defaults(&sconf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                         MBEDTLS_SSL_PRESET_DEFAULT)) != 0)
        return fail("server defaults", r);
    mbedtls_ssl_conf_rng(&sconf, mbedtls_ctr_drbg_random, &drbg);
    if ((r = mbedtls_ssl_conf_own_cert(&sconf, &chain, &key)) != 0) return fail("own cert", r);
    long context = held[SIDE_CONTEXT];

    /* The client's configuration, charged to nobody we report. */
    side = SIDE_CLIENT;
    if ((r = mbedtls_x509_crt_parse(&ca, ca_pem, sizeof ca_pem)) != 0) return fail("ca", r);
    if ((r = mbedtls_ssl_config_defaults(&cconf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                         MBEDTLS_SSL_PRESET_DEFAULT)) != 0)
        return fail("client defaults", r);
    mbedtls_ssl_conf_rng(&cconf, mbedtls_ctr_drbg_random, &drbg);
    mbedtls_ssl_conf_authmode(&cconf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&cconf, &ca, NULL);
#if MAX_FRAGMENT
    mbedtls_ssl_conf_max_frag_len(&cconf, MAX_FRAGMENT == 512    ? MBEDTLS_SSL_MAX_FRAG_LEN_512
                                          : MAX_FRAGMENT == 1024 ? MBEDTLS_SSL_MAX_FRAG_LEN_1024
                                          : MAX_FRAGMENT == 2048 ? MBEDTLS_SSL_MAX_FRAG_LEN_2048
                                                                 : MBEDTLS_SSL_MAX_FRAG_LEN_4096);
#endif
    if ((r = mbedtls_ssl_setup(&client, &cconf)) != 0) return fail("client setup", r);
    if ((r = mbedtls_ssl_set_hostname(&client, "localhost")) != 0) return fail("hostname", r);
    end cend = { &to_client, &to_server };
    mbedtls_ssl_set_bio(&client, &cend, pipe_send, pipe_recv, NULL);

    side = SIDE_SERVER;
    if ((r = mbedtls_ssl_setup(&server, &sconf)) != 0) return fail("server setup", r);
    long setup = held[SIDE_SERVER];
    end send = { &to_server, &to_client };
    mbedtls_ssl_set_bio(&server, &send, pipe_send, pipe_recv, NULL);

    int cdone = 0, sdone = 0;
    for (int round = 0; !(cdone && sdone) && round < 1000; round++) {
        side = SIDE_CLIENT;
        if (!cdone) {
            r = mbedtls_ssl_handshake(&client);
            if (r == 0) cdone = 1;
            else if (!again(r)) return fail("client handshake", r);
        }
        side = SIDE_SERVER;
        if (!sdone) {
            r = mbedtls_ssl_handshake(&server);
            if (r == 0) sdone = 1;
            else if (!again(r)) return fail("server handshake", r);
        }
    }
    if (!cdone || !sdone) return fail("handshake (rounds)", -1);
    long after_handshake = held[SIDE_SERVER];

    /* One exchange: 1 KiB up, 6 KiB down. */
    static unsigned char msg[6144], got[6144];
    memset(msg, 'x', sizeof msg);
    side = SIDE_CLIENT;
    if ((r = mbedtls_ssl_write(&client, msg, 1024)) != 1024) return fail("client write", r);
    side = SIDE_SERVER;
    size_t n = 0;
    while (n < 1024) {
        r = mbedtls_ssl_read(&server, got + n, sizeof got - n);
        if (r <= 0) return fail("server read", r);
        n += (size_t)r;
    }
    size_t sent = 0;
    while (sent < sizeof msg) {
        side = SIDE_SERVER;
        r = mbedtls_ssl_write(&server, msg + sent, sizeof msg - sent);
        if (r > 0) sent += (size_t)r;
        else if (!again(r)) return fail("server write", r);
        side = SIDE_CLIENT;
        int c;
        while ((c = mbedtls_ssl_read(&client, got, sizeof got)) > 0) {}
        if (!again(c)) return fail("client read", c);
    }
    side = SIDE_SERVER;
    long idle = held[SIDE_SERVER];

    printf("tls_ram: in=%d out=%d variable=%d max_fragment=%d context=%ld setup=%ld peak=%ld "
           "handshake_done=%ld idle=%ld struct=%lu cipher=%s\n",
           MBEDTLS_SSL_IN_CONTENT_LEN, MBEDTLS_SSL_OUT_CONTENT_LEN,
#if defined(MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH)
           1,
#else
           0,
#endif
           MAX_FRAGMENT, context, setup, peak[SIDE_SERVER], after_handshake, idle,
           (unsigned long)sizeof(mbedtls_ssl_context), mbedtls_ssl_get_ciphersuite(&server));
    mbedtls_ssl_free(&server);
    mbedtls_ssl_free(&client);
    mbedtls_ssl_config_free(&sconf);
    mbedtls_ssl_config_free(&cconf);
    mbedtls_pk_free(&key);
    mbedtls_x509_crt_free(&chain);
    mbedtls_x509_crt_free(&ca);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    if (held[SIDE_SERVER] || held[SIDE_CONTEXT]) {
        printf("tls_ram: %ld bytes of the server's not freed\n", held[SIDE_SERVER] + held[SIDE_CONTEXT]);
        return 1;
    }
    return 0;
}
