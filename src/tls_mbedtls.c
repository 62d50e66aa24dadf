/*
 * TLS on mbedTLS, as a transport under the stream (include/linger_tls.h).
 *
 * Each connection is an mbedTLS session whose BIO callbacks are the
 * stream's socket (lg_stream_socket_recv/send). The handshake runs inside
 * the transport's recv and send, whichever the stream calls first: mbedTLS
 * says WANT_READ or WANT_WRITE, the transport returns LG_ERR_AGAIN and
 * tells the stream through `want` which readiness to wait for. Then:
 *
 *   recv      decrypted application data; 0 after the peer's close_notify;
 *             LG_ERR_TLS_TRUNCATED when the input ends without one (rule 1:
 *             a close-delimited body cut there is never taken for whole)
 *   send      one record per call (mbedTLS copies it); a record mbedTLS
 *             could not finish sending is finished first, whatever the
 *             stream asks next (mbedTLS wants the same call again)
 *   pending   decrypted bytes not yet taken (a record is up to 16 KiB, the
 *             stream's buffer may be smaller): the socket will not say so
 *   shutdown  close_notify, then FIN; the stream then drains the socket
 *             with its usual bounds (rule 3)
 *   close     mbedTLS's session goes (a close_notify first, if none went)
 *
 * A handshake that fails, or does not finish in time, is reported as the
 * end of the stream's input with its cause (LG_ERR_TLS_*), never as a
 * write error: `pending` says there is something to read, and the next
 * recv returns the error. The server answers plain HTTP sent to its TLS
 * port with a plain "400" first, as nginx does.
 *
 * What does not depend on mbedTLS — the gates of recv and send, `want`,
 * the handshake's deadline, a failure said once, the server's caps and
 * their queue, plain HTTP at the TLS port, gathering a record — is
 * src/tls_common.c's, shared with the OpenSSL transport; this file keeps
 * what mbedTLS does (the lg__tls_lib_ functions of src/tls_internal.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "linger.h"
#include "linger_port.h"
#include "linger_tls.h"
#include "tls_internal.h"
#include "tls_mbedtls_compat.h"

/* Certificates and keys from files: not on a device (LG_NO_FILES), nor
 * with an mbedTLS built without them (a device's: from memory only). */
#if defined(MBEDTLS_FS_IO) && !defined(LG_NO_FILES)
#define LG_TLS_FILES 1
#else
#define LG_TLS_FILES 0
#endif

/* ---------------------------------------------------------------------------
 * Memory: linger's allocator, or mbedTLS's fixed block (lg_tls_memory)
 * ------------------------------------------------------------------------ */

/* Set by lg_tls_memory: everything of TLS — mbedTLS's allocations and the
 * transport's own state — then comes from one block. */
static uint8_t tls_block_mode;

/* Bytes a handshake may take on top of its session (its key exchange):
 * with a block, a connection starts its handshake only when that much is
 * free in one piece, so that it does not run out in the middle.
 * tests/tls/tls_ram_target.c measures it (docs/tls.md: about 2 KB on
 * Cortex-M4, 3.4 KB with variable buffers). */
#ifndef LG_TLS_HANDSHAKE_RESERVE
#define LG_TLS_HANDSHAKE_RESERVE 6144
#endif

/* mbedTLS's block aligns what it gives to MBEDTLS_MEMORY_ALIGN_MULTIPLE,
 * 4 by default: too little for our structs' pointers and 64-bit integers
 * on a 64-bit CPU. Ours are aligned to 8 here, the offset kept in the byte
 * before. */
#define BLOCK_ALIGN 8u

static void *tls_alloc(size_t n)
{
    if (!tls_block_mode) return lg_port_alloc(n);
    unsigned char *raw = n <= SIZE_MAX - BLOCK_ALIGN ? mbedtls_calloc(1, n + BLOCK_ALIGN) : NULL;
    if (!raw) return NULL;
    unsigned char *p = raw + (BLOCK_ALIGN - (uintptr_t)raw % BLOCK_ALIGN); /* 1..8 bytes on */
    p[-1] = (unsigned char)(p - raw);
    return p;
}

static void tls_free(void *p, size_t n)
{
    if (!tls_block_mode) {
        lg_port_free(p, n);
    } else if (p) {
        unsigned char *q = p;
        mbedtls_free(q - q[-1]);
    }
}

int lg_tls_memory(void *block, size_t bytes)
{
#if defined(MBEDTLS_MEMORY_BUFFER_ALLOC_C)
    if (!block || bytes < 1024) return LG_ERR_INVALID_ARG;
    mbedtls_memory_buffer_alloc_init(block, bytes);
    tls_block_mode = 1;
    return LG_OK;
#else
    (void)block;
    (void)bytes;
    return LG_ERR_UNSUPPORTED;
#endif
}

/* ---------------------------------------------------------------------------
 * Contexts: what the connections of a server or a client share.
 * ------------------------------------------------------------------------ */

typedef struct tls_ctx {
    mbedtls_ssl_config conf;
    struct rng_state *own_rng;   /* mbedTLS's entropy and CTR-DRBG, unless cfg.rng */
    mbedtls_x509_crt chain;      /* our certificate chain (server, or a client's own) */
    mbedtls_pk_context key;
    mbedtls_x509_crt ca;         /* client: whom we trust */
#if defined(MBEDTLS_SSL_TICKET_C)
    mbedtls_ssl_ticket_context ticket;
#endif
    lg_tls_rng_fn rng;
    void *rng_ctx;
    uint32_t refs;               /* the owner's, and one per connection */
    uint8_t insecure, resume;
    tls_ctx_base b;              /* the handshake's time, the caps (tls_internal.h) */
} tls_ctx;

/* The default random generator: allocated only when the application gives
 * none (the entropy context alone is 38 KB in Debian's mbedTLS). */
typedef struct rng_state {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
} rng_state;

typedef struct session_slot {
    mbedtls_ssl_session session;
    uint32_t used;               /* 0: empty; else when last stored (a tick) */
    uint16_t port;
    char host[64];
} session_slot;

/* A further certificate of a server, for its SNI callback. */
struct lg_tls_cert {
    mbedtls_x509_crt chain;
    mbedtls_pk_context key;
    struct lg_tls_cert *next;
};

struct lg_tls_server {
    tls_ctx c;
    lg_tls_sni_fn sni;
    void *sni_user;
    lg_tls_cert *certs;          /* lg_tls_server_add_cert's, freed with the server */
};

struct lg_tls_client {
    tls_ctx c;
    uint32_t tick;
    session_slot sessions[LG_TLS_CLIENT_SESSIONS];
};

/* ---------------------------------------------------------------------------
 * Connections
 * ------------------------------------------------------------------------ */

typedef struct tls_conn {
    tls_conn_base b;             /* first: the stream's transport, the state (tls_internal.h) */
    mbedtls_ssl_context ssl;
    uint16_t port;               /* client: the origin's, for its session */
    uint8_t ip_len;              /* client: 4 or 16 when the host is an IP address */
    uint8_t ip[16];
    uint8_t notify_begun;
    char host[64];               /* client: the origin's host, for its session */
} tls_conn;

static const lg_transport_ops tls_ops;

static tls_conn *conn_of(const lg_stream *s)
{
    return (tls_conn *)(void *)s->transport;
}

/* The connection and context around the parts tls_common.c knows (a
 * connection starts with its part). */
static tls_conn *conn_from(tls_conn_base *b)
{
    return (tls_conn *)(void *)b;
}

static tls_ctx *ctx_of(const tls_conn *t)
{
    return LG_CONTAINER_OF(t->b.ctx, tls_ctx, b);
}

static void say(char *why, size_t why_len, const char *fmt, const char *a, int mbed_err)
{
    if (!why || !why_len) return;
    char detail[96] = "";
    if (mbed_err) {
#if defined(MBEDTLS_ERROR_C)
        mbedtls_strerror(mbed_err, detail, sizeof detail);
#else
        snprintf(detail, sizeof detail, "mbedTLS error -0x%04x", (unsigned)-mbed_err);
#endif
    }
    char head[160];
    snprintf(head, sizeof head, fmt, a ? a : "");
    if (detail[0]) snprintf(why, why_len, "%s (%s)", head, detail);
    else snprintf(why, why_len, "%s", head);
}

/* ---------------------------------------------------------------------------
 * The socket under mbedTLS
 * ------------------------------------------------------------------------ */

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    tls_conn *t = ctx;
    long n = lg__tls_socket_recv(&t->b, buf, len);
    if (n == LG_ERR_AGAIN) return MBEDTLS_ERR_SSL_WANT_READ;
    if (n < 0) return MBEDTLS_ERR_NET_RECV_FAILED; /* (a reset, plain HTTP ...) */
    return (int)n; /* 0: EOF (mbedTLS tells it from a close_notify) */
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    tls_conn *t = ctx;
    lg_str part = { (const char *)buf, len };
    long n = lg_stream_socket_send(t->b.s, &part, 1);
    if (n == LG_ERR_AGAIN) return MBEDTLS_ERR_SSL_WANT_WRITE;
    if (n < 0) {
        t->b.sock_err = (int)n;
        return MBEDTLS_ERR_NET_SEND_FAILED;
    }
    return (int)n;
}

/* ---------------------------------------------------------------------------
 * Failing
 * ------------------------------------------------------------------------ */

static int cert_error(uint32_t flags)
{
    if (flags & (MBEDTLS_X509_BADCERT_NOT_TRUSTED | MBEDTLS_X509_BADCERT_MISSING |
                 MBEDTLS_X509_BADCERT_SKIP_VERIFY))
        return LG_ERR_TLS_CERT_UNTRUSTED;
    if (flags & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE))
        return LG_ERR_TLS_CERT_EXPIRED;
    if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) return LG_ERR_TLS_CERT_HOST;
    return LG_ERR_TLS_CERT;
}

/* The lg_err for mbedTLS's failure r, in or after the handshake. */
static int map_error(tls_conn *t, int r)
{
    if (t->b.plain) return LG_ERR_TLS_PLAINTEXT;
    if (t->b.sock_err) return t->b.sock_err == LG_ERR_PIPE ? LG_ERR_RESET : t->b.sock_err;
    if (r == MBEDTLS_ERR_SSL_ALLOC_FAILED) return LG_ERR_NOMEM;
    if (r == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) return LG_ERR_TLS_ALERT;
    if (!t->b.hs_done) {
        if (r == MBEDTLS_ERR_SSL_CONN_EOF) return LG_ERR_TLS_CUT;
        if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
            uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);
            return flags && flags != UINT32_MAX ? cert_error(flags) : LG_ERR_TLS_CERT;
        }
        return LG_ERR_TLS_HANDSHAKE;
    }
    return LG_ERR_TLS;
}

#if !defined(LG_NO_LOG)
/* A failure (err) in mbedTLS's words (r), for its log line (tls_internal.h):
 * what the certificate check found, or mbedTLS's error. */
void lg__tls_lib_detail(tls_conn_base *b, int err, int r, char *detail, size_t cap)
{
    if (err == LG_ERR_TLS_CERT_EXPIRED || err == LG_ERR_TLS_CERT_UNTRUSTED ||
        err == LG_ERR_TLS_CERT_HOST || err == LG_ERR_TLS_CERT) {
        mbedtls_x509_crt_verify_info(detail, cap, "",
                                     mbedtls_ssl_get_verify_result(&conn_from(b)->ssl));
        for (char *p = detail; *p; p++)
            if (*p == '\n') *p = p[1] ? ';' : 0; /* one line, no trailing separator */
    } else if (r) {
#if defined(MBEDTLS_ERROR_C)
        mbedtls_strerror(r, detail, cap);
#else
        snprintf(detail, cap, "-0x%04x", (unsigned)-r);
#endif
    }
}
#endif

/* ---------------------------------------------------------------------------
 * The handshake
 * ------------------------------------------------------------------------ */

static void session_store(tls_conn *t);

/* One go at the handshake (tls_internal.h): LG_OK once done,
 * LG_ERR_AGAIN, or the failure. */
int lg__tls_lib_handshake(tls_conn_base *b)
{
    tls_conn *t = conn_from(b);
    int r = mbedtls_ssl_handshake(&t->ssl);
    if (r == 0) {
        if (!b->ctx->is_server) session_store(t);
        return LG_OK;
    }
    if (r == MBEDTLS_ERR_SSL_WANT_READ) {
        b->hs_want = LG_READABLE;
        return LG_ERR_AGAIN;
    }
    if (r == MBEDTLS_ERR_SSL_WANT_WRITE) {
        b->hs_want = LG_WRITABLE;
        return LG_ERR_AGAIN;
    }
    return lg__tls_fail(b, map_error(t, r), r);
}

/* ---------------------------------------------------------------------------
 * The transport's operations
 * ------------------------------------------------------------------------ */

long lg__tls_lib_recv(tls_conn_base *b, void *buf, size_t len)
{
    tls_conn *t = conn_from(b);
    if (len > INT_MAX) len = INT_MAX;
    for (;;) {
        int r = mbedtls_ssl_read(&t->ssl, buf, len);
        t->b.read_wants_write = r == MBEDTLS_ERR_SSL_WANT_WRITE;
        if (r > 0) return r;
        if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) return LG_ERR_AGAIN;
        if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
            t->b.eof = 1; /* the end, said properly */
            return 0;
        }
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
        if (r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) continue; /* TLS 1.3 */
#endif
        /* 0: the socket's EOF without close_notify. Whatever came may be
         * all of it or cut: the reader's framing decides, never this. */
        int err = r == 0 && !t->b.sock_err ? LG_ERR_TLS_TRUNCATED : map_error(t, r);
        lg__tls_fail(&t->b, err, r);
        t->b.fail_told = 1;
        return err;
    }
}

long lg__tls_lib_send(tls_conn_base *b, const unsigned char *p, size_t len)
{
    tls_conn *t = conn_from(b);
    if (t->b.wpend && LG_TLS_OUT_LEFT(&t->ssl) == 0) {
        /* The record went out meanwhile (mbedTLS flushed it before an
         * alert it sent while reading): it is written. */
        size_t done = t->b.wpend;
        t->b.wpend = 0;
        return (long)done;
    }
    if (!len) return 0;
    if (len > INT_MAX) len = INT_MAX;
    /* mbedTLS wants an unfinished write repeated with the same length
     * (it sends the rest of the record it made, and reads nothing of p).
     * The stream's queue only grows behind what it offered: p has it. */
    if (t->b.wpend) len = t->b.wpend;
    int r = mbedtls_ssl_write(&t->ssl, p, len);
    if (r >= 0) {
        t->b.wpend = 0;
        return r;
    }
    if (r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_WANT_READ) {
        t->b.wpend = len;
        return LG_ERR_AGAIN;
    }
    /* A write that failed on the socket (reset, EPIPE): the stream stops
     * writing and reads on; the peer's last words may still be there. */
    int err = map_error(t, r);
    if (!t->b.sock_err) {
        lg__tls_fail(&t->b, err, r);
        t->b.fail_told = 1;
    }
    return err;
}

/* close_notify, then FIN. mbedTLS flushes an unfinished record before it
 * writes the alert (and then returns 0 without it): asked again then. */
static int tls_shutdown(lg_stream *s)
{
    tls_conn *t = conn_of(s);
    while (t->b.hs_done && !t->b.fail && !t->b.wpend && !t->b.notify_sent) {
        int flushing = !t->notify_begun && LG_TLS_OUT_LEFT(&t->ssl) != 0;
        int r = mbedtls_ssl_close_notify(&t->ssl);
        if (r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_WANT_READ) {
            if (!flushing) t->notify_begun = 1;
            return LG_ERR_AGAIN;
        }
        if (r != 0 || !flushing) t->b.notify_sent = 1;
    }
    return lg_stream_socket_shutdown(s);
}

static size_t tls_pending(const lg_stream *s)
{
    const tls_conn *t = conn_of(s);
    if (t->b.fail) return t->b.fail_told ? 0 : 1; /* the failure, to be read */
    if (t->b.kicked) return 1;                    /* its handshake may start */
    return t->b.hs_done ? mbedtls_ssl_get_bytes_avail(&t->ssl) : 0;
}

static void ctx_unref(tls_ctx *c);

/* The connection's mbedTLS session (its record buffers), for
 * tls_common.c's caps (tls_internal.h): at once, or when it leaves the
 * queue. */
int lg__tls_lib_start(tls_conn_base *b)
{
    tls_conn *t = conn_from(b);
    int r = mbedtls_ssl_setup(&t->ssl, &ctx_of(t)->conf);
    if (r) {
        mbedtls_ssl_free(&t->ssl);
        mbedtls_ssl_init(&t->ssl);
        return r == MBEDTLS_ERR_SSL_ALLOC_FAILED ? LG_ERR_NOMEM : LG_ERR_TLS;
    }
    if (tls_block_mode) {
        /* Room for the handshake too, or it waits (see the reserve) */
        void *probe = mbedtls_calloc(1, LG_TLS_HANDSHAKE_RESERVE);
        if (!probe) {
            mbedtls_ssl_free(&t->ssl);
            mbedtls_ssl_init(&t->ssl);
            return LG_ERR_NOMEM;
        }
        mbedtls_free(probe);
    }
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
    return LG_OK;
}

static void conn_free(tls_conn *t)
{
    tls_ctx *c = ctx_of(t);
    lg__tls_conn_leave(&t->b);
    mbedtls_ssl_free(&t->ssl);
    tls_free(t, sizeof *t);
    lg__tls_admit(&c->b);
    ctx_unref(c);
}

static void tls_close(lg_stream *s, int abort)
{
    tls_conn *t = conn_of(s);
    /* A peer's close_notify ended the input (or the stream closed without
     * asking shutdown): answer it, one try, before the FIN. */
    if (!abort && t->b.hs_done && !t->b.fail && !t->b.wpend && !t->b.notify_sent &&
        LG_TLS_OUT_LEFT(&t->ssl) == 0)
        (void)mbedtls_ssl_close_notify(&t->ssl);
    conn_free(t);
}

static const lg_transport_ops tls_ops = {
    "tls", lg__tls_recv, lg__tls_send, tls_shutdown, tls_pending, lg__tls_want, tls_close,
    lg__tls_handshaking,
};

static tls_conn *conn_new(tls_ctx *c, lg_stream *s, int *err)
{
    tls_conn *t = tls_alloc(sizeof *t);
    if (!t) {
        *err = LG_ERR_NOMEM;
        return NULL;
    }
    memset(t, 0, sizeof *t);
    mbedtls_ssl_init(&t->ssl);
    int rc = lg__tls_conn_enter(&t->b, &c->b, s, &tls_ops);
    if (rc) {
        mbedtls_ssl_free(&t->ssl);
        tls_free(t, sizeof *t);
        *err = rc;
        return NULL;
    }
    c->refs++;
    *err = LG_OK;
    return t;
}

lg_transport *lg_tls_server_transport(lg_stream *s, const char *scheme, void *tls)
{
    (void)scheme;
    lg_tls_server *srv = tls;
    int err;
    tls_conn *t = conn_new(&srv->c, s, &err);
    return t ? &t->b.transport : NULL;
}

/* --- the client's sessions, one per origin --- */

#if defined(MBEDTLS_SSL_CLI_C)
static session_slot *session_find(lg_tls_client *cli, const char *host, uint16_t port)
{
    for (size_t i = 0; i < LG_TLS_CLIENT_SESSIONS; i++) {
        session_slot *e = &cli->sessions[i];
        if (e->used && e->port == port && strcmp(e->host, host) == 0) return e;
    }
    return NULL;
}
#endif

static void session_store(tls_conn *t)
{
#if defined(MBEDTLS_SSL_CLI_C)
    lg_tls_client *cli = (lg_tls_client *)(void *)ctx_of(t);
    if (!cli->c.resume || !t->host[0]) return;
    session_slot *e = session_find(cli, t->host, t->port);
    if (!e) {
        e = &cli->sessions[0];
        for (size_t i = 1; i < LG_TLS_CLIENT_SESSIONS; i++)
            if (cli->sessions[i].used < e->used) e = &cli->sessions[i];
    }
    mbedtls_ssl_session_free(&e->session);
    mbedtls_ssl_session_init(&e->session);
    e->used = 0;
    if (mbedtls_ssl_get_session(&t->ssl, &e->session) != 0) return;
    e->used = ++cli->tick ? cli->tick : (cli->tick = 1);
    e->port = t->port;
    memcpy(e->host, t->host, sizeof e->host);
#else
    (void)t; /* (an mbedTLS without its client: lg_tls_client_new says so) */
#endif
}

/* Does the certificate name this IP address (an iPAddress in its subject
 * alternative names)? mbedTLS 2.28 checks DNS names only (and keeps no
 * other kind of name): the extension is read from the certificate's DER. */
static int cert_names_ip(const mbedtls_x509_crt *crt, const uint8_t *ip, size_t ip_len)
{
    static const unsigned char san_oid[] = { 0x06, 0x03, 0x55, 0x1d, 0x11 }; /* 2.5.29.17 */
    const unsigned char *tbs = crt->tbs.p, *end = tbs + crt->tbs.len;
    for (const unsigned char *q = tbs; q + sizeof san_oid <= end; q++) {
        if (memcmp(q, san_oid, sizeof san_oid) != 0) continue;
        unsigned char *p = (unsigned char *)(uintptr_t)(q + sizeof san_oid);
        size_t len;
        if (p < end && *p == MBEDTLS_ASN1_BOOLEAN) { /* critical */
            if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_BOOLEAN)) continue;
            p += len;
        }
        if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_OCTET_STRING)) continue;
        const unsigned char *oct_end = p + len;
        if (mbedtls_asn1_get_tag(&p, oct_end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
            continue;
        const unsigned char *seq_end = p + len;
        while (p < seq_end) {
            unsigned char tag = *p++;
            if (mbedtls_asn1_get_len(&p, seq_end, &len)) break;
            if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) && len == ip_len &&
                memcmp(p, ip, ip_len) == 0)
                return 1;
            p += len;
        }
    }
    return 0;
}

/* Verification of a host given as an IP address: the name check mbedTLS
 * made (against DNS names) is replaced by an iPAddress check. */
static int verify_ip(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    tls_conn *t = ctx;
    if (depth == 0 && (*flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) &&
        cert_names_ip(crt, t->ip, t->ip_len))
        *flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH;
    return 0;
}

int lg_tls_client_transport(lg_stream *s, const char *scheme, const char *host, uint16_t port,
                            lg_transport **out, void *tls)
{
    lg_tls_client *cli = tls;
    *out = NULL;
    if (strcmp(scheme, "http") == 0) return LG_OK; /* plain */
    if (strcmp(scheme, "https") != 0) return LG_ERR_UNSUPPORTED;
    int err;
    tls_conn *t = conn_new(&cli->c, s, &err);
    if (!t) return err;
    /* SNI and the name the certificate must carry ("[::1]" loses its
     * brackets). An IP address is checked against the certificate's
     * iPAddress names too (verify_ip): mbedTLS 2.28 compares names only. */
    char name[256];
    size_t n = lg__tls_host_name(host, name);
    int r = mbedtls_ssl_set_hostname(&t->ssl, name);
    if (r) {
        conn_free(t);
        return r == MBEDTLS_ERR_SSL_ALLOC_FAILED ? LG_ERR_NOMEM : LG_ERR_TLS;
    }
    if (cli->c.insecure) lg__tls_warn_insecure(s, name, port);
    t->port = port;
    lg_addr ip;
    if (!cli->c.insecure && lg__tls_host_ip(name, &ip)) {
        t->ip_len = ip.family == 4 ? 4 : 16;
        memcpy(t->ip, ip.ip, t->ip_len);
        mbedtls_ssl_set_verify(&t->ssl, verify_ip, t);
    }
    if (n < sizeof t->host) {
        memcpy(t->host, name, n + 1);
#if defined(MBEDTLS_SSL_CLI_C)
        session_slot *e = cli->c.resume ? session_find(cli, name, port) : NULL;
        if (e) (void)mbedtls_ssl_set_session(&t->ssl, &e->session);
#endif
    }
    *out = &t->b.transport;
    return LG_OK;
}

int lg_tls_get_info(const lg_stream *s, lg_tls_info *info)
{
    if (!s->transport || s->transport->ops != &tls_ops) return LG_ERR_INVALID_ARG;
    const tls_conn *t = conn_of(s);
    if (!t->b.hs_done) return LG_ERR_AGAIN;
    info->version = mbedtls_ssl_get_version(&t->ssl);
    info->cipher = mbedtls_ssl_get_ciphersuite(&t->ssl);
#if defined(MBEDTLS_SSL_ALPN)
    info->alpn = mbedtls_ssl_get_alpn_protocol(&t->ssl);
#else
    info->alpn = NULL;
#endif
    return LG_OK;
}

const char *lg_tls_library_version(void)
{
    return MBEDTLS_VERSION_STRING;
}

/* ---------------------------------------------------------------------------
 * Making contexts
 * ------------------------------------------------------------------------ */

static const char *alpn_list[] = { "http/1.1", NULL };

static int ctx_rng(void *p, unsigned char *out, size_t len)
{
    tls_ctx *c = p;
    if (c->rng) return c->rng(c->rng_ctx, out, len);
    return mbedtls_ctr_drbg_random(&c->own_rng->drbg, out, len);
}

static void ctx_init(tls_ctx *c)
{
    mbedtls_ssl_config_init(&c->conf);
    mbedtls_x509_crt_init(&c->chain);
    mbedtls_pk_init(&c->key);
    mbedtls_x509_crt_init(&c->ca);
#if defined(MBEDTLS_SSL_TICKET_C)
    mbedtls_ssl_ticket_init(&c->ticket);
#endif
    c->refs = 1;
}

static void ctx_free(tls_ctx *c)
{
#if defined(MBEDTLS_SSL_TICKET_C)
    mbedtls_ssl_ticket_free(&c->ticket);
#endif
    mbedtls_ssl_config_free(&c->conf);
    mbedtls_x509_crt_free(&c->ca);
    mbedtls_pk_free(&c->key);
    mbedtls_x509_crt_free(&c->chain);
    if (c->own_rng) {
        mbedtls_ctr_drbg_free(&c->own_rng->drbg);
        mbedtls_entropy_free(&c->own_rng->entropy);
        tls_free(c->own_rng, sizeof *c->own_rng);
        c->own_rng = NULL;
    }
}

/* A file that cannot be opened, in linger's words (mbedTLS says only
 * "file I/O error"). */
static int file_error(const char *path)
{
#if !LG_TLS_FILES
    (void)path;
    return LG_ERR_UNSUPPORTED;
#else
    FILE *f = fopen(path, "rb");
    if (f) {
        fclose(f);
        return LG_OK;
    }
    return errno == ENOENT ? LG_ERR_NOT_FOUND : errno == EACCES ? LG_ERR_ACCESS : LG_ERR_IO;
#endif
}

static void say_file_error(char *why, size_t why_len, const char *path, int fe)
{
    say(why, why_len,
        fe == LG_ERR_UNSUPPORTED ? "%s: this build reads no files: give the bytes (.data, .len)"
                                 : "%s: cannot open it",
        path, 0);
}

/* PEM in memory must end in a NUL for mbedTLS (and its length count it);
 * DER must not. A copy with one where it lacks it: *copy to be freed. */
static int blob_bytes(const lg_tls_blob *b, const unsigned char **p, size_t *len,
                      unsigned char **copy)
{
    const unsigned char *d = b->data;
    *copy = NULL;
    *p = d;
    *len = b->len;
    int pem = 0;
    for (size_t i = 0; !pem && i + 10 <= b->len; i++) pem = memcmp(d + i, "-----BEGIN", 10) == 0;
    if (!pem || d[b->len - 1] == 0) return LG_OK;
    *copy = tls_alloc(b->len + 1);
    if (!*copy) return LG_ERR_NOMEM;
    memcpy(*copy, d, b->len);
    (*copy)[b->len] = 0;
    *p = *copy;
    *len = b->len + 1;
    return LG_OK;
}

static int load_certs(mbedtls_x509_crt *crt, const lg_tls_blob *b, const char *what, char *why,
                      size_t why_len)
{
    int r = 0;
    if (b->file) {
        int fe = file_error(b->file);
        if (fe) {
            say_file_error(why, why_len, b->file, fe);
            return fe;
        }
#if LG_TLS_FILES
        r = mbedtls_x509_crt_parse_file(crt, b->file);
#endif
    } else {
        const unsigned char *p;
        size_t len;
        unsigned char *copy;
        int rc = blob_bytes(b, &p, &len, &copy);
        if (rc) return rc;
        r = mbedtls_x509_crt_parse(crt, p, len);
        if (copy) tls_free(copy, len);
    }
    /* > 0: some certificates of a bundle did not parse; the rest is used
     * (Debian's bundle parses whole). */
    if (r < 0 || crt->version == 0) {
        say(why, why_len, "%s: not a certificate in PEM or DER", b->file ? b->file : what, r);
        return r == MBEDTLS_ERR_X509_ALLOC_FAILED ? LG_ERR_NOMEM : LG_ERR_TLS_CONFIG;
    }
    return LG_OK;
}

static int load_key(tls_ctx *c, mbedtls_pk_context *pk, const mbedtls_x509_crt *chain,
                    const lg_tls_blob *b, const char *password, char *why, size_t why_len)
{
    int r = 0;
    if (b->file) {
        int fe = file_error(b->file);
        if (fe) {
            say_file_error(why, why_len, b->file, fe);
            return fe;
        }
#if LG_TLS_FILES
        r = LG_TLS_PK_PARSE_KEYFILE(pk, b->file, password, ctx_rng, c);
#endif
    } else {
        const unsigned char *p;
        size_t len;
        unsigned char *copy;
        int rc = blob_bytes(b, &p, &len, &copy);
        if (rc) return rc;
        r = LG_TLS_PK_PARSE_KEY(pk, p, len, (const unsigned char *)password,
                                password ? strlen(password) : 0, ctx_rng, c);
        if (copy) tls_free(copy, len);
    }
    if (r) {
        say(why, why_len, "%s: not a private key in PEM or DER (or a wrong password)",
            b->file ? b->file : "the key", r);
        return LG_ERR_TLS_CONFIG;
    }
    r = LG_TLS_PK_CHECK_PAIR(&chain->pk, pk, ctx_rng, c);
    if (r) {
        say(why, why_len, "%s: not the key of the certificate", b->file ? b->file : "the key", r);
        return LG_ERR_TLS_CONFIG;
    }
    return LG_OK;
}

static int blob_given(const lg_tls_blob *b)
{
    return b->file || (b->data && b->len);
}

/* What a server's and a client's configuration have in common. */
static int ctx_setup(tls_ctx *c, int endpoint, lg_tls_rng_fn rng, void *rng_ctx,
                     uint32_t handshake_ms, char *why, size_t why_len)
{
    c->rng = rng;
    c->rng_ctx = rng_ctx;
    c->b.handshake_ms = handshake_ms ? handshake_ms : TLS_DEFAULT_HANDSHAKE_MS;
    if (LG_TLS_CRYPTO_INIT() != 0) {
        say(why, why_len, "the crypto library did not start", NULL, 0);
        return LG_ERR_TLS;
    }
    if (!rng) {
        static const char pers[] = "linger";
        c->own_rng = tls_alloc(sizeof *c->own_rng);
        if (!c->own_rng) return LG_ERR_NOMEM;
        mbedtls_entropy_init(&c->own_rng->entropy);
        mbedtls_ctr_drbg_init(&c->own_rng->drbg);
        int r = mbedtls_ctr_drbg_seed(&c->own_rng->drbg, mbedtls_entropy_func, &c->own_rng->entropy,
                                      (const unsigned char *)pers, sizeof pers - 1);
        if (r) {
            say(why, why_len, "no random generator: no entropy source", NULL, r);
            return LG_ERR_TLS;
        }
    }
    int r = mbedtls_ssl_config_defaults(&c->conf, endpoint, MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT);
    if (r) {
        say(why, why_len, "the TLS defaults did not load", NULL, r);
        return LG_ERR_TLS;
    }
    mbedtls_ssl_conf_rng(&c->conf, ctx_rng, c);
    LG_TLS_MIN_TLS12(&c->conf);
    LG_TLS_CONF_CURVES(&c->conf); /* X25519, P-256, P-384 first (tls_mbedtls_compat.h) */
#if defined(MBEDTLS_SSL_ALPN)
    mbedtls_ssl_conf_alpn_protocols(&c->conf, alpn_list);
#endif
#if defined(MBEDTLS_SSL_RENEGOTIATION)
    mbedtls_ssl_conf_renegotiation(&c->conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#endif
    return LG_OK;
}

static void cert_free(lg_tls_cert *cert)
{
    mbedtls_pk_free(&cert->key);
    mbedtls_x509_crt_free(&cert->chain);
    tls_free(cert, sizeof *cert);
}

static void ctx_unref(tls_ctx *c)
{
    if (--c->refs) return;
    ctx_free(c);
    if (c->b.is_server) {
        lg_tls_server *srv = (lg_tls_server *)(void *)c;
        while (srv->certs) {
            lg_tls_cert *cert = srv->certs;
            srv->certs = cert->next;
            cert_free(cert);
        }
        tls_free(srv, sizeof *srv);
    } else {
        lg_tls_client *cli = (lg_tls_client *)(void *)c;
        for (size_t i = 0; i < LG_TLS_CLIENT_SESSIONS; i++)
            mbedtls_ssl_session_free(&cli->sessions[i].session);
        tls_free(cli, sizeof *cli);
    }
}

/* --- SNI: a certificate chosen by the name the client asks for --- */

#if defined(MBEDTLS_SSL_SERVER_NAME_INDICATION)
/* mbedTLS's SNI callback, during the ClientHello: the application's
 * choice, or (NULL) the server's own certificate. */
static int sni_choose(void *p, mbedtls_ssl_context *ssl, const unsigned char *name, size_t len)
{
    lg_tls_server *srv = p;
    char host[256];
    if (len >= sizeof host) return 0; /* no DNS name is this long: the default */
    memcpy(host, name, len);
    host[len] = 0;
    const lg_tls_cert *cert = srv->sni(srv->sni_user, host);
    if (!cert) return 0;
    /* (mbedTLS keeps these non-const pointers for the handshake only and
     * does not change what they point to) */
    lg_tls_cert *mine = (lg_tls_cert *)(uintptr_t)cert;
    return mbedtls_ssl_set_hs_own_cert(ssl, &mine->chain, &mine->key);
}
#endif

static int sni_setup(lg_tls_server *srv, const lg_tls_server_config *config, char *why,
                     size_t why_len)
{
#if defined(MBEDTLS_SSL_SERVER_NAME_INDICATION)
    (void)why;
    (void)why_len;
    srv->sni = config->sni;
    srv->sni_user = config->sni_user;
    mbedtls_ssl_conf_sni(&srv->c.conf, sni_choose, srv);
    return LG_OK;
#else
    (void)srv;
    (void)config;
    say(why, why_len, "this mbedTLS has no SNI (MBEDTLS_SSL_SERVER_NAME_INDICATION)", NULL, 0);
    return LG_ERR_UNSUPPORTED;
#endif
}

int lg_tls_server_add_cert(lg_tls_server *tls, const lg_tls_blob *cert, const lg_tls_blob *key,
                           const char *key_password, const lg_tls_cert **out, char *why,
                           size_t why_len)
{
    *out = NULL;
    if (why && why_len) why[0] = 0;
    if (!tls || !cert || !key || !blob_given(cert) || !blob_given(key)) {
        say(why, why_len, "a certificate needs its key", NULL, 0);
        return LG_ERR_INVALID_ARG;
    }
    lg_tls_cert *c = tls_alloc(sizeof *c);
    if (!c) return LG_ERR_NOMEM;
    memset(c, 0, sizeof *c);
    mbedtls_x509_crt_init(&c->chain);
    mbedtls_pk_init(&c->key);
    int rc = load_certs(&c->chain, cert, "the certificate", why, why_len);
    if (!rc) rc = load_key(&tls->c, &c->key, &c->chain, key, key_password, why, why_len);
    if (rc) {
        cert_free(c);
        return rc;
    }
    c->next = tls->certs;
    tls->certs = c;
    *out = c;
    return LG_OK;
}

int lg_tls_server_new(lg_tls_server **out, const lg_tls_server_config *config, char *why,
                      size_t why_len)
{
    *out = NULL;
    if (why && why_len) why[0] = 0;
    if (!config || !blob_given(&config->cert) || !blob_given(&config->key)) {
        say(why, why_len, "a TLS server needs a certificate and its key", NULL, 0);
        return LG_ERR_INVALID_ARG;
    }
    lg_tls_server *srv = tls_alloc(sizeof *srv);
    if (!srv) return LG_ERR_NOMEM;
    memset(srv, 0, sizeof *srv);
    tls_ctx *c = &srv->c;
    ctx_init(c);
    c->b.is_server = 1;
    c->b.max_sessions = config->max_sessions;
    c->b.max_handshakes = config->max_handshakes;
    int rc = ctx_setup(c, MBEDTLS_SSL_IS_SERVER, config->rng, config->rng_ctx,
                       config->handshake_timeout_ms, why, why_len);
    if (!rc) rc = load_certs(&c->chain, &config->cert, "the certificate", why, why_len);
    if (!rc) rc = load_key(c, &c->key, &c->chain, &config->key, config->key_password, why, why_len);
    if (!rc) {
        int r = mbedtls_ssl_conf_own_cert(&c->conf, &c->chain, &c->key);
        if (r) {
            say(why, why_len, "the certificate cannot be used", NULL, r);
            rc = LG_ERR_TLS_CONFIG;
        }
    }
    if (!rc && config->sni) rc = sni_setup(srv, config, why, why_len);
#if defined(MBEDTLS_SSL_TICKET_C) && defined(MBEDTLS_SSL_SESSION_TICKETS)
    if (!rc && !config->no_tickets) {
        uint32_t life = config->ticket_lifetime_s ? config->ticket_lifetime_s
                                                  : TLS_DEFAULT_TICKET_LIFETIME_S;
        int r = mbedtls_ssl_ticket_setup(&c->ticket, ctx_rng, c, MBEDTLS_CIPHER_AES_256_GCM, life);
        if (r) {
            say(why, why_len, "session tickets did not start", NULL, r);
            rc = LG_ERR_TLS;
        } else {
            mbedtls_ssl_conf_session_tickets_cb(&c->conf, mbedtls_ssl_ticket_write,
                                                mbedtls_ssl_ticket_parse, &c->ticket);
        }
    }
#endif
    if (rc) {
        ctx_free(c);
        tls_free(srv, sizeof *srv);
        return rc;
    }
    *out = srv;
    return LG_OK;
}

int lg_tls_client_new(lg_tls_client **out, const lg_tls_client_config *config, char *why,
                      size_t why_len)
{
    static const lg_tls_client_config defaults;
    *out = NULL;
    if (why && why_len) why[0] = 0;
    if (!config) config = &defaults;
#if !defined(MBEDTLS_SSL_CLI_C)
    say(why, why_len, "this mbedTLS has no TLS client (MBEDTLS_SSL_CLI_C)", NULL, 0);
    return LG_ERR_UNSUPPORTED;
#endif
    lg_tls_client *cli = tls_alloc(sizeof *cli);
    if (!cli) return LG_ERR_NOMEM;
    memset(cli, 0, sizeof *cli);
    tls_ctx *c = &cli->c;
    ctx_init(c);
    for (size_t i = 0; i < LG_TLS_CLIENT_SESSIONS; i++)
        mbedtls_ssl_session_init(&cli->sessions[i].session);
    c->insecure = config->insecure;
    c->resume = !config->no_resumption;
    int rc = ctx_setup(c, MBEDTLS_SSL_IS_CLIENT, config->rng, config->rng_ctx,
                       config->handshake_timeout_ms, why, why_len);
    if (!rc && c->insecure) {
        mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_NONE);
    } else if (!rc) {
        lg_tls_blob system = { LG_TLS_DEFAULT_CA_FILE, NULL, 0 };
        const lg_tls_blob *ca = blob_given(&config->ca) ? &config->ca : &system;
        rc = load_certs(&c->ca, ca, "the CA set", why, why_len);
        if (!rc) {
            mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
            mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
        }
    }
    if (!rc && config->max_fragment) {
#if defined(MBEDTLS_SSL_MAX_FRAGMENT_LENGTH)
        unsigned char code = config->max_fragment == 512    ? MBEDTLS_SSL_MAX_FRAG_LEN_512
                             : config->max_fragment == 1024 ? MBEDTLS_SSL_MAX_FRAG_LEN_1024
                             : config->max_fragment == 2048 ? MBEDTLS_SSL_MAX_FRAG_LEN_2048
                             : config->max_fragment == 4096 ? MBEDTLS_SSL_MAX_FRAG_LEN_4096
                                                            : MBEDTLS_SSL_MAX_FRAG_LEN_NONE;
        if (code == MBEDTLS_SSL_MAX_FRAG_LEN_NONE) {
            say(why, why_len, "max_fragment must be 512, 1024, 2048 or 4096", NULL, 0);
            rc = LG_ERR_INVALID_ARG;
        } else {
            mbedtls_ssl_conf_max_frag_len(&c->conf, code);
        }
#else
        say(why, why_len, "this mbedTLS has no max_fragment_length", NULL, 0);
        rc = LG_ERR_UNSUPPORTED;
#endif
    }
    if (!rc && (blob_given(&config->cert) || blob_given(&config->key))) {
        rc = load_certs(&c->chain, &config->cert, "the client certificate", why, why_len);
        if (!rc) rc = load_key(c, &c->key, &c->chain, &config->key, config->key_password, why,
                               why_len);
        if (!rc && mbedtls_ssl_conf_own_cert(&c->conf, &c->chain, &c->key) != 0) {
            say(why, why_len, "the client certificate cannot be used", NULL, 0);
            rc = LG_ERR_TLS_CONFIG;
        }
    }
    if (rc) {
        ctx_free(c);
        tls_free(cli, sizeof *cli);
        return rc;
    }
    *out = cli;
    return LG_OK;
}

void lg_tls_server_free(lg_tls_server *tls)
{
    if (tls) ctx_unref(&tls->c);
}

void lg_tls_client_free(lg_tls_client *tls)
{
    if (tls) ctx_unref(&tls->c);
}
