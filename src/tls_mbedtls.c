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
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "linger.h"
#include "linger_port.h"
#include "linger_tls.h"
#include "tls_mbedtls_compat.h"

/* Certificates and keys from files: not on a device (LG_NO_FILES), nor
 * with an mbedTLS built without them (a device's: from memory only). */
#if defined(MBEDTLS_FS_IO) && !defined(LG_NO_FILES)
#define LG_TLS_FILES 1
#else
#define LG_TLS_FILES 0
#endif

#define DEFAULT_HANDSHAKE_MS 10000u
#define DEFAULT_TICKET_LIFETIME_S 86400u

/* What a send gathers from several small pieces into one record (a head
 * and the start of a body): on the stack, for the call only. */
#ifndef LG_TLS_GATHER_BYTES
#if defined(LG__HOSTED_DEFAULTS)
#define LG_TLS_GATHER_BYTES 4096
#else
#define LG_TLS_GATHER_BYTES 1024
#endif
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
    uint32_t handshake_ms;
    uint32_t refs;               /* the owner's, and one per connection */
    uint8_t is_server, insecure, resume;
    /* The server's caps (0: none), what is held of them, and the
     * connections waiting for a slot, oldest first. */
    uint16_t max_sessions, max_handshakes;
    uint16_t sessions, handshakes;
    struct tls_conn *wait_head, *wait_tail;
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
    lg_transport base;           /* first: the stream's transport pointer is this */
    lg_stream *s;
    tls_ctx *ctx;
    mbedtls_ssl_context ssl;
    lg_timer hs_timer;           /* the handshake's deadline */
    int fail;                    /* the lg_err this connection failed with, 0 if none */
    int sock_err;                /* what the socket said under mbedTLS (reset ...) */
    size_t wpend;                /* the length of a write mbedTLS could not finish */
    uint16_t port;               /* client: the origin's, for its session */
    uint8_t ip_len;              /* client: 4 or 16 when the host is an IP address */
    uint8_t ip[16];
    uint8_t hs_done;
    uint8_t hs_want;             /* LG_READABLE / LG_WRITABLE: the handshake's next step */
    uint8_t read_wants_write;    /* a read must write first (an alert, a TLS 1.3 reply) */
    uint8_t fail_told;           /* the stream has been given `fail` */
    uint8_t got_bytes;           /* something came: the first bytes were looked at */
    uint8_t plain;               /* ... and they were plain HTTP */
    uint8_t eof;                 /* the peer's close_notify came */
    uint8_t notify_begun, notify_sent;
    uint8_t waiting;             /* server: no session yet, waits for a slot (caps) */
    uint8_t kicked;              /* ... got one: `pending` has the stream call recv */
    uint8_t holds_session, holds_handshake; /* what it counts in its context's caps */
    struct tls_conn *wait_next;
    char host[64];               /* client: the origin's host, for its session */
} tls_conn;

static const lg_transport_ops tls_ops;

static tls_conn *conn_of(const lg_stream *s)
{
    return (tls_conn *)(void *)s->transport;
}

#if !defined(LG_NO_LOG)
/* Who is at the other end, for a log line ("127.0.0.1:5555"). */
static const char *peer_name(const lg_stream *s, char *buf, size_t cap)
{
    lg_addr a;
    if (lg_stream_peer(s, &a) != LG_OK || lg_addr_format(&a, buf, cap) < 0) snprintf(buf, cap, "?");
    return buf;
}
#endif

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

/* Plain HTTP where TLS was expected: a request ("GET /") at a server, an
 * answer ("HTTP/", or an HTTP/0.9 one's "<!DOC") at a client. A TLS record
 * starts with its type (20..24) and version (3, x): never with text. */
static int looks_like_http(const unsigned char *p, size_t n)
{
    if (!n) return 0;
    for (size_t i = 0; i < n && i < 5; i++)
        if ((p[i] < 0x20 || p[i] > 0x7e) && p[i] != '\r' && p[i] != '\n' && p[i] != '\t')
            return 0;
    return 1;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    tls_conn *t = ctx;
    long n = lg_stream_socket_recv(t->s, buf, len);
    if (n == LG_ERR_AGAIN) return MBEDTLS_ERR_SSL_WANT_READ;
    if (n < 0) {
        t->sock_err = (int)n;
        return MBEDTLS_ERR_NET_RECV_FAILED;
    }
    if (n > 0 && !t->got_bytes) {
        t->got_bytes = 1;
        if (looks_like_http(buf, (size_t)n)) {
            t->plain = 1;
            return MBEDTLS_ERR_NET_RECV_FAILED;
        }
    }
    return (int)n; /* 0: EOF (mbedTLS tells it from a close_notify) */
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    tls_conn *t = ctx;
    lg_str part = { (const char *)buf, len };
    long n = lg_stream_socket_send(t->s, &part, 1);
    if (n == LG_ERR_AGAIN) return MBEDTLS_ERR_SSL_WANT_WRITE;
    if (n < 0) {
        t->sock_err = (int)n;
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
    if (t->plain) return LG_ERR_TLS_PLAINTEXT;
    if (t->sock_err) return t->sock_err == LG_ERR_PIPE ? LG_ERR_RESET : t->sock_err;
    if (r == MBEDTLS_ERR_SSL_ALLOC_FAILED) return LG_ERR_NOMEM;
    if (r == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) return LG_ERR_TLS_ALERT;
    if (!t->hs_done) {
        if (r == MBEDTLS_ERR_SSL_CONN_EOF) return LG_ERR_TLS_CUT;
        if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
            uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);
            return flags && flags != UINT32_MAX ? cert_error(flags) : LG_ERR_TLS_CERT;
        }
        return LG_ERR_TLS_HANDSHAKE;
    }
    return LG_ERR_TLS;
}

/* nginx's answer to plain HTTP on its TLS port, in plain HTTP. Best
 * effort, one send on a fresh socket: the request behind it is drained by
 * the stream's graceful close, so the client reads this rather than a
 * reset. */
static void answer_plain_http(tls_conn *t)
{
    static const char answer[] = "HTTP/1.1 400 Bad Request\r\n"
                                 "Content-Type: text/plain\r\n"
                                 "Content-Length: 47\r\n"
                                 "Connection: close\r\n"
                                 "\r\n"
                                 "The plain HTTP request was sent to HTTPS port.\n";
    lg_str part = { answer, sizeof answer - 1 };
    (void)lg_stream_socket_send(t->s, &part, 1);
}

static void handshake_over(tls_conn *t);

/* The connection failed (err), in mbedTLS's words r: say it once. */
static int fail_with(tls_conn *t, int err, int r)
{
    (void)r; /* (for the log line) */
    if (t->fail) return t->fail;
    t->fail = err;
    lg_timer_stop(&t->hs_timer);
    handshake_over(t);
    if (err == LG_ERR_TLS_PLAINTEXT && t->ctx->is_server) answer_plain_http(t);
#if !defined(LG_NO_LOG)
    /* (After the handshake, how input ends is the stream's to tell.) */
    if (!t->hs_done || (err != LG_ERR_TLS_TRUNCATED && err != LG_ERR_RESET)) {
        char detail[200] = "";
        if (err == LG_ERR_TLS_CERT_EXPIRED || err == LG_ERR_TLS_CERT_UNTRUSTED ||
            err == LG_ERR_TLS_CERT_HOST || err == LG_ERR_TLS_CERT) {
            mbedtls_x509_crt_verify_info(detail, sizeof detail, "",
                                         mbedtls_ssl_get_verify_result(&t->ssl));
            for (char *p = detail; *p; p++)
                if (*p == '\n') *p = p[1] ? ';' : 0; /* one line, no trailing separator */
        } else if (r) {
#if defined(MBEDTLS_ERROR_C)
            mbedtls_strerror(r, detail, sizeof detail);
#else
            snprintf(detail, sizeof detail, "-0x%04x", (unsigned)-r);
#endif
        }
        char peer[64];
        lg_log(lg_stream_loop(t->s), LG_LOG_INFO, "%s: TLS %s: %s%s%s%s",
               peer_name(t->s, peer, sizeof peer),
               t->hs_done ? "failed" : "handshake failed", lg_strerror(err),
               detail[0] ? " [" : "", detail, detail[0] ? "]" : "");
    }
#endif
    return err;
}

static void hs_timeout(lg_timer *tm)
{
    tls_conn *t = LG_CONTAINER_OF(tm, tls_conn, hs_timer);
    if (t->hs_done || t->fail) return;
    fail_with(t, LG_ERR_TLS_TIMEOUT, 0);
    /* The stream reads what `pending` now says is there: the error. */
    lg_stream_redeliver(t->s);
}

/* ---------------------------------------------------------------------------
 * The handshake
 * ------------------------------------------------------------------------ */

static void session_store(tls_conn *t);

/* One go at the handshake: LG_OK once done, LG_ERR_AGAIN, or the failure. */
static int hs_step(tls_conn *t)
{
    int r = mbedtls_ssl_handshake(&t->ssl);
    if (r == 0) {
        t->hs_done = 1;
        lg_timer_stop(&t->hs_timer);
        handshake_over(t);
        if (!t->ctx->is_server) session_store(t);
        return LG_OK;
    }
    if (r == MBEDTLS_ERR_SSL_WANT_READ) {
        t->hs_want = LG_READABLE;
        return LG_ERR_AGAIN;
    }
    if (r == MBEDTLS_ERR_SSL_WANT_WRITE) {
        t->hs_want = LG_WRITABLE;
        return LG_ERR_AGAIN;
    }
    return fail_with(t, map_error(t, r), r);
}

/* ---------------------------------------------------------------------------
 * The transport's operations
 * ------------------------------------------------------------------------ */

static long tls_recv(lg_stream *s, void *buf, size_t len)
{
    tls_conn *t = conn_of(s);
    if (t->fail) {
        t->fail_told = 1;
        return t->fail;
    }
    if (t->eof) return 0;
    t->kicked = 0;
    if (t->waiting) return LG_ERR_AGAIN; /* (want says: nothing to wait for) */
    if (!t->hs_done) {
        int rc = hs_step(t);
        if (rc != LG_OK) {
            if (rc != LG_ERR_AGAIN) t->fail_told = 1;
            return rc;
        }
    }
    if (len > INT_MAX) len = INT_MAX;
    for (;;) {
        int r = mbedtls_ssl_read(&t->ssl, buf, len);
        t->read_wants_write = r == MBEDTLS_ERR_SSL_WANT_WRITE;
        if (r > 0) return r;
        if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) return LG_ERR_AGAIN;
        if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
            t->eof = 1; /* the end, said properly */
            return 0;
        }
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
        if (r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) continue; /* TLS 1.3 */
#endif
        /* 0: the socket's EOF without close_notify. Whatever came may be
         * all of it or cut: the reader's framing decides, never this. */
        int err = r == 0 && !t->sock_err ? LG_ERR_TLS_TRUNCATED : map_error(t, r);
        fail_with(t, err, r);
        t->fail_told = 1;
        return err;
    }
}

static long tls_send(lg_stream *s, const lg_str *parts, size_t n)
{
    tls_conn *t = conn_of(s);
    if (t->fail) return t->fail_told ? t->fail : LG_ERR_AGAIN;
    if (!t->hs_done) {
        /* A stream that closes before its handshake is done sends nothing
         * of what it queued (it cannot read while closing: the handshake
         * would never finish). */
        if (!lg_stream_is_open(s)) return LG_ERR_CLOSED;
        if (t->waiting) return LG_ERR_AGAIN;
        int rc = hs_step(t);
        /* A failure goes to the stream as the end of its input (pending
         * and want say so now): its owner learns why there. */
        if (rc != LG_OK) return LG_ERR_AGAIN;
    }
    if (t->wpend && LG_TLS_OUT_LEFT(&t->ssl) == 0) {
        /* The record went out meanwhile (mbedTLS flushed it before an
         * alert it sent while reading): it is written. */
        size_t done = t->wpend;
        t->wpend = 0;
        return (long)done;
    }
    /* One record from the first piece, or from several small ones. */
    unsigned char gather[LG_TLS_GATHER_BYTES];
    const unsigned char *p = NULL;
    size_t len = 0;
    size_t i = 0;
    while (i < n && !parts[i].len) i++;
    if (i == n) return 0;
    if (i + 1 == n || parts[i].len >= sizeof gather) {
        p = (const unsigned char *)parts[i].ptr;
        len = parts[i].len;
    } else {
        for (; i < n && len < sizeof gather; i++) {
            size_t take = parts[i].len < sizeof gather - len ? parts[i].len : sizeof gather - len;
            memcpy(gather + len, parts[i].ptr, take);
            len += take;
        }
        p = gather;
    }
    if (len > INT_MAX) len = INT_MAX;
    /* mbedTLS wants an unfinished write repeated with the same length
     * (it sends the rest of the record it made, and reads nothing of p).
     * The stream's queue only grows behind what it offered: p has it. */
    if (t->wpend) len = t->wpend;
    int r = mbedtls_ssl_write(&t->ssl, p, len);
    if (r >= 0) {
        t->wpend = 0;
        return r;
    }
    if (r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_WANT_READ) {
        t->wpend = len;
        return LG_ERR_AGAIN;
    }
    /* A write that failed on the socket (reset, EPIPE): the stream stops
     * writing and reads on; the peer's last words may still be there. */
    int err = map_error(t, r);
    if (!t->sock_err) {
        fail_with(t, err, r);
        t->fail_told = 1;
    }
    return err;
}

/* close_notify, then FIN. mbedTLS flushes an unfinished record before it
 * writes the alert (and then returns 0 without it): asked again then. */
static int tls_shutdown(lg_stream *s)
{
    tls_conn *t = conn_of(s);
    while (t->hs_done && !t->fail && !t->wpend && !t->notify_sent) {
        int flushing = !t->notify_begun && LG_TLS_OUT_LEFT(&t->ssl) != 0;
        int r = mbedtls_ssl_close_notify(&t->ssl);
        if (r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_WANT_READ) {
            if (!flushing) t->notify_begun = 1;
            return LG_ERR_AGAIN;
        }
        if (r != 0 || !flushing) t->notify_sent = 1;
    }
    return lg_stream_socket_shutdown(s);
}

static size_t tls_pending(const lg_stream *s)
{
    const tls_conn *t = conn_of(s);
    if (t->fail) return t->fail_told ? 0 : 1; /* the failure, to be read */
    if (t->kicked) return 1;                  /* its handshake may start */
    return t->hs_done ? mbedtls_ssl_get_bytes_avail(&t->ssl) : 0;
}

/* What to wait for, given what the stream wants (events). Readiness the
 * stream would not act on is never asked for: a level-triggered loop
 * would report it for ever. */
static unsigned tls_want(const lg_stream *s, unsigned events)
{
    const tls_conn *t = conn_of(s);
    if (t->fail) return t->fail_told ? events : LG_READABLE; /* the error, to be read */
    /* Waiting for a slot: the ClientHello stays in the socket, unread. */
    if (t->waiting) return 0;
    /* The handshake: whichever way the stream calls, recv or send, drives
     * it; a stream that wants nothing lets it wait. */
    if (!t->hs_done) return events ? t->hs_want : 0;
    /* A read that must write first is driven by recv when writable. */
    if (t->read_wants_write && (events & LG_READABLE)) events |= LG_WRITABLE;
    return events;
}

static void ctx_unref(tls_ctx *c);

/* --- the server's caps: sessions and handshakes at once --- */

static int slot_free(const tls_ctx *c)
{
    return (!c->max_sessions || c->sessions < c->max_sessions) &&
           (!c->max_handshakes || c->handshakes < c->max_handshakes);
}

/* The connection's mbedTLS session (its record buffers) and its
 * handshake's deadline: at once, or when it leaves the queue. */
static int conn_start(tls_conn *t)
{
    tls_ctx *c = t->ctx;
    int r = mbedtls_ssl_setup(&t->ssl, &c->conf);
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
    lg_timer_start(&t->hs_timer, c->handshake_ms);
    t->holds_session = t->holds_handshake = 1;
    c->sessions++;
    c->handshakes++;
    return LG_OK;
}

/* Slots freed: the oldest waiting connections start their handshakes. The
 * stream is told through `pending` (its socket said nothing: it was not
 * watched). */
static void admit_waiting(tls_ctx *c)
{
    while (c->wait_head && slot_free(c)) {
        tls_conn *t = c->wait_head;
        int err = conn_start(t);
        /* No memory for it while others hold some: it waits on, first in
         * line, until one of them closes. */
        if (err == LG_ERR_NOMEM && c->sessions) return;
        c->wait_head = t->wait_next;
        if (!c->wait_head) c->wait_tail = NULL;
        t->wait_next = NULL;
        t->waiting = 0;
        if (err) {
            lg_log(lg_stream_loop(t->s), LG_LOG_WARN, "no TLS session for a connection: %s",
                   lg_strerror(err));
            fail_with(t, err, 0); /* read as its input's end: a graceful close */
        } else {
            t->kicked = 1;
        }
        lg_stream_redeliver(t->s);
    }
}

static void handshake_over(tls_conn *t)
{
    if (!t->holds_handshake) return;
    t->holds_handshake = 0;
    t->ctx->handshakes--;
    admit_waiting(t->ctx);
}

static void conn_free(tls_conn *t)
{
    tls_ctx *c = t->ctx;
    lg_timer_stop(&t->hs_timer);
    if (t->waiting) {
        tls_conn **p = &c->wait_head, *prev = NULL;
        while (*p != t) {
            prev = *p;
            p = &(*p)->wait_next;
        }
        *p = t->wait_next;
        if (c->wait_tail == t) c->wait_tail = prev;
    }
    if (t->holds_handshake) c->handshakes--;
    if (t->holds_session) c->sessions--;
    mbedtls_ssl_free(&t->ssl);
    tls_free(t, sizeof *t);
    admit_waiting(c);
    ctx_unref(c);
}

static void tls_close(lg_stream *s, int abort)
{
    tls_conn *t = conn_of(s);
    /* A peer's close_notify ended the input (or the stream closed without
     * asking shutdown): answer it, one try, before the FIN. */
    if (!abort && t->hs_done && !t->fail && !t->wpend && !t->notify_sent &&
        LG_TLS_OUT_LEFT(&t->ssl) == 0)
        (void)mbedtls_ssl_close_notify(&t->ssl);
    conn_free(t);
}

static int tls_handshaking(const lg_stream *s)
{
    const tls_conn *t = conn_of(s);
    return !t->hs_done && !t->fail;
}

static const lg_transport_ops tls_ops = {
    "tls", tls_recv, tls_send, tls_shutdown, tls_pending, tls_want, tls_close, tls_handshaking,
};

static tls_conn *conn_new(tls_ctx *c, lg_stream *s, int *err)
{
    tls_conn *t = tls_alloc(sizeof *t);
    if (!t) {
        *err = LG_ERR_NOMEM;
        return NULL;
    }
    memset(t, 0, sizeof *t);
    t->base.ops = &tls_ops;
    t->s = s;
    t->ctx = c;
    mbedtls_ssl_init(&t->ssl);
    t->hs_want = c->is_server ? LG_READABLE : LG_WRITABLE;
    lg_timer_init(lg_stream_loop(s), &t->hs_timer, hs_timeout);
    int rc = c->wait_head || !slot_free(c) ? LG_ERR_LIMIT : conn_start(t);
    if (rc == LG_ERR_LIMIT || (rc == LG_ERR_NOMEM && c->sessions && c->is_server)) {
        /* Beyond a cap, or no memory while other sessions hold some: it
         * waits, behind those already waiting. (A client's request fails
         * with LG_ERR_NOMEM instead: its caller decides.) */
        t->waiting = 1;
        if (c->wait_tail) c->wait_tail->wait_next = t;
        else c->wait_head = t;
        c->wait_tail = t;
    } else if (rc) {
        /* Refused before a byte is read: the server closes it gracefully. */
        lg_log(lg_stream_loop(s), LG_LOG_WARN, "no TLS session for a connection: %s",
               lg_strerror(rc));
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
    return t ? &t->base : NULL;
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
    lg_tls_client *cli = (lg_tls_client *)(void *)t->ctx;
    if (!t->ctx->resume || !t->host[0]) return;
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
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host++;
        n -= 2;
    }
    if (n >= sizeof name) n = sizeof name - 1;
    memcpy(name, host, n);
    name[n] = 0;
    int r = mbedtls_ssl_set_hostname(&t->ssl, name);
    if (r) {
        conn_free(t);
        return r == MBEDTLS_ERR_SSL_ALLOC_FAILED ? LG_ERR_NOMEM : LG_ERR_TLS;
    }
    if (cli->c.insecure)
        lg_log(lg_stream_loop(s), LG_LOG_WARN,
               "TLS to %s:%u WITHOUT certificate verification (insecure): anybody on "
               "the path can read and change this exchange",
               name, (unsigned)port);
    t->port = port;
    lg_addr ip;
    char bracketed[sizeof name + 2];
    snprintf(bracketed, sizeof bracketed, strchr(name, ':') ? "[%s]" : "%s", name);
    if (!cli->c.insecure && lg_addr_parse(&ip, bracketed, 0) == LG_OK) {
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
    *out = &t->base;
    return LG_OK;
}

int lg_tls_get_info(const lg_stream *s, lg_tls_info *info)
{
    if (!s->transport || s->transport->ops != &tls_ops) return LG_ERR_INVALID_ARG;
    const tls_conn *t = conn_of(s);
    if (!t->hs_done) return LG_ERR_AGAIN;
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
    c->handshake_ms = handshake_ms ? handshake_ms : DEFAULT_HANDSHAKE_MS;
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
    if (c->is_server) {
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
    c->is_server = 1;
    c->max_sessions = config->max_sessions;
    c->max_handshakes = config->max_handshakes;
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
                                                  : DEFAULT_TICKET_LIFETIME_S;
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
