/*
 * TLS on OpenSSL 3, as a transport under the stream (include/linger_tls.h):
 * the Linux server's fast path, where mbedTLS's AES-GCM (a block at a time)
 * held a 100 MiB download to 0.13x nginx's speed (docs/tls.md). The same
 * API and the same behaviour as src/tls_mbedtls.c, whose structure this
 * file follows section by section; mbedTLS stays the device path.
 *
 * Each connection is an SSL object whose BIO is the stream's socket (a BIO
 * method of ours calling lg_stream_socket_recv/send: no copy through memory
 * BIOs, and the first bytes are looked at for plain HTTP as mbedTLS's BIO
 * callbacks do). The handshake runs inside the transport's recv and send;
 * OpenSSL says WANT_READ or WANT_WRITE, the transport returns LG_ERR_AGAIN
 * and tells the stream through `want` what to wait for. Then:
 *
 *   recv      decrypted application data; 0 after the peer's close_notify;
 *             LG_ERR_TLS_TRUNCATED when the input ends without one (rule 1)
 *   send      one record per call (SSL_MODE_ENABLE_PARTIAL_WRITE); a write
 *             OpenSSL could not finish is repeated with the same length
 *   pending   decrypted bytes of the current record not yet taken
 *   shutdown  close_notify, then FIN; the stream then drains (rule 3)
 *   close     the SSL object goes (a close_notify first, if none went)
 *
 * What differs from mbedTLS: lg_tls_memory is LG_ERR_UNSUPPORTED (OpenSSL
 * allocates as it likes), the rng hook is not used (OpenSSL's own DRBG),
 * cipher names are OpenSSL's ("TLS_AES_128_GCM_SHA256"). What is the same
 * whatever the library (the gates of recv and send, `want`, failing, the
 * caps, plain HTTP, gathering a record) is src/tls_common.c's, shared
 * with tls_mbedtls.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/opensslv.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "linger.h"
#include "linger_port.h"
#include "linger_tls.h"
#include "tls_internal.h"

#if OPENSSL_VERSION_MAJOR < 3
#error "linger's OpenSSL transport is written for OpenSSL 3"
#endif

int lg_tls_memory(void *block, size_t bytes)
{
    (void)block;
    (void)bytes;
    return LG_ERR_UNSUPPORTED; /* OpenSSL allocates through its own hooks */
}

/* ---------------------------------------------------------------------------
 * Contexts: what the connections of a server or a client share.
 * ------------------------------------------------------------------------ */

typedef struct tls_ctx {
    SSL_CTX *ssl_ctx;
    BIO_METHOD *bio; /* the stream's socket as a BIO (one per context: no
                        shared state between loops' threads) */
    uint32_t refs;   /* the owner's, and one per connection */
    uint8_t insecure, resume;
    tls_ctx_base b;  /* the handshake's time, the caps (tls_internal.h) */
} tls_ctx;

typedef struct session_slot {
    SSL_SESSION *session; /* NULL: empty */
    uint32_t used;        /* when last stored (a tick) */
    uint16_t port;
    char host[64];
} session_slot;

/* A further certificate of a server, for its SNI callback. */
struct lg_tls_cert {
    X509 *leaf;
    STACK_OF(X509) *chain; /* the certificates after the leaf */
    EVP_PKEY *key;
    struct lg_tls_cert *next;
};

struct lg_tls_server {
    tls_ctx c;
    lg_tls_sni_fn sni;
    void *sni_user;
    lg_tls_cert *certs; /* lg_tls_server_add_cert's, freed with the server */
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
    tls_conn_base b;     /* first: the stream's transport, the state (tls_internal.h) */
    SSL *ssl;            /* NULL while waiting for a slot */
    uint16_t port;       /* client: the origin's, for its session */
    uint8_t sock_eof;    /* the socket's input ended */
    uint8_t alpn_http11; /* ALPN agreed on http/1.1 (the only protocol either side names) */
    char host[64];       /* client: the origin's host, for its session */
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

/* A sentence into why, with OpenSSL's last error when it has one. */
static void say(char *why, size_t why_len, const char *fmt, const char *a)
{
    if (!why || !why_len) return;
    char detail[120] = "";
    unsigned long e = ERR_peek_last_error();
    if (e) ERR_error_string_n(e, detail, sizeof detail);
    ERR_clear_error();
    char head[160];
    snprintf(head, sizeof head, fmt, a ? a : "");
    if (detail[0]) snprintf(why, why_len, "%s (%s)", head, detail);
    else snprintf(why, why_len, "%s", head);
}

/* ---------------------------------------------------------------------------
 * The socket under OpenSSL: a BIO method of ours
 * ------------------------------------------------------------------------ */

static int bio_read(BIO *b, char *buf, size_t len, size_t *got)
{
    tls_conn *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    *got = 0;
    long n = lg__tls_socket_recv(&t->b, buf, len);
    if (n == LG_ERR_AGAIN) {
        BIO_set_retry_read(b);
        return 0;
    }
    if (n < 0) return 0; /* (a reset, plain HTTP ...) */
    if (n == 0) {
        t->sock_eof = 1; /* OpenSSL tells it from a close_notify */
        return 0;
    }
    *got = (size_t)n;
    return 1;
}

static int bio_write(BIO *b, const char *buf, size_t len, size_t *put)
{
    tls_conn *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    *put = 0;
    lg_str part = { buf, len };
    long n = lg_stream_socket_send(t->b.s, &part, 1);
    if (n == LG_ERR_AGAIN) {
        BIO_set_retry_write(b);
        return 0;
    }
    if (n < 0) {
        t->b.sock_err = (int)n;
        return 0;
    }
    *put = (size_t)n;
    return 1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0; /* the socket has no buffer of ours */
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO_METHOD *bio_method_new(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_TYPE_SOURCE_SINK, "linger stream");
    if (!m) return NULL;
    BIO_meth_set_read_ex(m, bio_read);
    BIO_meth_set_write_ex(m, bio_write);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    return m;
}

/* ---------------------------------------------------------------------------
 * Failing
 * ------------------------------------------------------------------------ */

static int cert_error(long v)
{
    switch (v) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return LG_ERR_TLS_CERT_EXPIRED;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
        return LG_ERR_TLS_CERT_UNTRUSTED;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return LG_ERR_TLS_CERT_HOST;
    default:
        return LG_ERR_TLS_CERT;
    }
}

/* The lg_err for OpenSSL's failure (SSL_get_error's e), in or after the
 * handshake. */
static int map_error(tls_conn *t, int e)
{
    if (t->b.plain) return LG_ERR_TLS_PLAINTEXT;
    if (t->b.sock_err) return t->b.sock_err == LG_ERR_PIPE ? LG_ERR_RESET : t->b.sock_err;
    unsigned long q = ERR_peek_error();
    if (ERR_GET_REASON(q) == ERR_R_MALLOC_FAILURE) return LG_ERR_NOMEM;
    /* A fatal alert received: OpenSSL's reason is SSL_AD_REASON_OFFSET
     * plus the alert's number. */
    int reason = ERR_GET_REASON(q);
    if (ERR_GET_LIB(q) == ERR_LIB_SSL && reason >= SSL_AD_REASON_OFFSET &&
        reason < SSL_AD_REASON_OFFSET + 256)
        return LG_ERR_TLS_ALERT;
    if (!t->b.hs_done) {
        if (t->sock_eof) return LG_ERR_TLS_CUT;
        long v = t->ssl ? SSL_get_verify_result(t->ssl) : X509_V_OK;
        if (v != X509_V_OK) return cert_error(v);
        return LG_ERR_TLS_HANDSHAKE;
    }
    (void)e;
    return LG_ERR_TLS;
}

#if !defined(LG_NO_LOG)
/* A failure in OpenSSL's words, for its log line (tls_internal.h): what
 * the certificate check found, or the error queue's last (taken off it). */
void lg__tls_lib_detail(tls_conn_base *b, int err, int lib_err, char *detail, size_t cap)
{
    (void)err;
    (void)lib_err; /* (OpenSSL's words are in its error queue) */
    SSL *ssl = conn_from(b)->ssl;
    long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    if (v != X509_V_OK && !b->hs_done)
        snprintf(detail, cap, "%s", X509_verify_cert_error_string(v));
    else if (ERR_peek_last_error())
        ERR_error_string_n(ERR_peek_last_error(), detail, cap);
    ERR_clear_error();
}
#endif

/* The connection failed (err): said once (lg__tls_fail), and nothing left
 * in OpenSSL's error queue, which is per thread, for the next call. */
static int fail_with(tls_conn_base *b, int err)
{
    int rc = lg__tls_fail(b, err, 0);
    ERR_clear_error();
    return rc;
}

/* ---------------------------------------------------------------------------
 * The handshake
 * ------------------------------------------------------------------------ */

/* One go at the handshake (tls_internal.h). */
int lg__tls_lib_handshake(tls_conn_base *b)
{
    tls_conn *t = conn_from(b);
    ERR_clear_error();
    int r = SSL_do_handshake(t->ssl);
    if (r == 1) {
        const unsigned char *p;
        unsigned n;
        SSL_get0_alpn_selected(t->ssl, &p, &n);
        t->alpn_http11 = p && n == 8 && memcmp(p, "http/1.1", 8) == 0;
        return LG_OK;
    }
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
        b->hs_want = LG_READABLE;
        return LG_ERR_AGAIN;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        b->hs_want = LG_WRITABLE;
        return LG_ERR_AGAIN;
    }
    return fail_with(b, map_error(t, e));
}

/* ---------------------------------------------------------------------------
 * The transport's operations
 * ------------------------------------------------------------------------ */

long lg__tls_lib_recv(tls_conn_base *b, void *buf, size_t len)
{
    tls_conn *t = conn_from(b);
    if (len > INT_MAX) len = INT_MAX;
    ERR_clear_error();
    size_t got = 0;
    int r = SSL_read_ex(t->ssl, buf, len, &got);
    int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, r);
    t->b.read_wants_write = e == SSL_ERROR_WANT_WRITE;
    if (r == 1) return (long)got;
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return LG_ERR_AGAIN;
    if (e == SSL_ERROR_ZERO_RETURN) {
        t->b.eof = 1; /* the end, said properly */
        return 0;
    }
    /* The socket's EOF without close_notify: whatever came may be all of
     * it or cut; the reader's framing decides, never this. */
    int err = t->sock_eof && !t->b.sock_err && !t->b.plain ? LG_ERR_TLS_TRUNCATED : map_error(t, e);
    fail_with(&t->b, err);
    t->b.fail_told = 1;
    return err;
}

long lg__tls_lib_send(tls_conn_base *b, const unsigned char *p, size_t len)
{
    tls_conn *t = conn_from(b);
    if (!len) return 0;
    if (len > INT_MAX) len = INT_MAX;
    /* OpenSSL wants an unfinished write repeated with the same length (the
     * buffer may move: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER; the stream's
     * queue still has those bytes first). */
    if (t->b.wpend) len = t->b.wpend;
    ERR_clear_error();
    size_t put = 0;
    int r = SSL_write_ex(t->ssl, p, len, &put);
    if (r == 1) {
        t->b.wpend = 0;
        return (long)put;
    }
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
        t->b.wpend = len;
        return LG_ERR_AGAIN;
    }
    int err = map_error(t, e);
    if (!t->b.sock_err) {
        fail_with(&t->b, err);
        t->b.fail_told = 1;
    }
    ERR_clear_error();
    return err;
}

/* close_notify, then FIN. */
static int tls_shutdown(lg_stream *s)
{
    tls_conn *t = conn_of(s);
    if (t->b.hs_done && !t->b.fail && !t->b.wpend && !t->b.notify_sent) {
        ERR_clear_error();
        int r = SSL_shutdown(t->ssl);
        if (r < 0) {
            int e = SSL_get_error(t->ssl, r);
            if (e == SSL_ERROR_WANT_WRITE) return LG_ERR_AGAIN;
        }
        /* 0: ours went, the peer's is still to come (the drain reads it) */
        t->b.notify_sent = 1;
        ERR_clear_error();
    }
    return lg_stream_socket_shutdown(s);
}

static size_t tls_pending(const lg_stream *s)
{
    const tls_conn *t = conn_of(s);
    if (t->b.fail) return t->b.fail_told ? 0 : 1;
    if (t->b.kicked) return 1;
    return t->b.hs_done ? (size_t)SSL_pending(t->ssl) : 0;
}

static void ctx_unref(tls_ctx *c);

/* The connection's SSL object, for tls_common.c's caps (tls_internal.h):
 * at once, or when it leaves the queue. */
int lg__tls_lib_start(tls_conn_base *b)
{
    tls_conn *t = conn_from(b);
    tls_ctx *c = ctx_of(t);
    t->ssl = SSL_new(c->ssl_ctx);
    BIO *bio = t->ssl ? BIO_new(c->bio) : NULL;
    if (!bio) {
        SSL_free(t->ssl);
        t->ssl = NULL;
        ERR_clear_error();
        return LG_ERR_NOMEM;
    }
    BIO_set_data(bio, t);
    SSL_set_bio(t->ssl, bio, bio);
    SSL_set_app_data(t->ssl, t);
    if (c->b.is_server) SSL_set_accept_state(t->ssl);
    else SSL_set_connect_state(t->ssl);
    return LG_OK;
}


static void conn_free(tls_conn *t)
{
    tls_ctx *c = ctx_of(t);
    lg__tls_conn_leave(&t->b);
    SSL_free(t->ssl); /* (and its BIO) */
    ERR_clear_error();
    lg_port_free(t, sizeof *t);
    lg__tls_admit(&c->b);
    ctx_unref(c);
}

static void tls_close(lg_stream *s, int abort)
{
    tls_conn *t = conn_of(s);
    /* A peer's close_notify ended the input (or the stream closed without
     * asking shutdown): answer it, one try, before the FIN. */
    if (!abort && t->b.hs_done && !t->b.fail && !t->b.wpend && !t->b.notify_sent) {
        ERR_clear_error();
        (void)SSL_shutdown(t->ssl);
    }
    conn_free(t);
}

static const lg_transport_ops tls_ops = {
    "tls", lg__tls_recv, lg__tls_send, tls_shutdown, tls_pending, lg__tls_want, tls_close,
    lg__tls_handshaking,
};

static tls_conn *conn_new(tls_ctx *c, lg_stream *s, int *err)
{
    tls_conn *t = lg_port_alloc(sizeof *t);
    if (!t) {
        *err = LG_ERR_NOMEM;
        return NULL;
    }
    memset(t, 0, sizeof *t);
    int rc = lg__tls_conn_enter(&t->b, &c->b, s, &tls_ops);
    if (rc) {
        lg_port_free(t, sizeof *t);
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

static session_slot *session_find(lg_tls_client *cli, const char *host, uint16_t port)
{
    for (size_t i = 0; i < LG_TLS_CLIENT_SESSIONS; i++) {
        session_slot *e = &cli->sessions[i];
        if (e->session && e->port == port && strcmp(e->host, host) == 0) return e;
    }
    return NULL;
}

/* OpenSSL hands over a session when it has one to resume with: after a
 * TLS 1.2 handshake, or with each TLS 1.3 ticket (which comes after it).
 * 1: we keep the reference. */
static int session_new_cb(SSL *ssl, SSL_SESSION *sess)
{
    tls_conn *t = SSL_get_app_data(ssl);
    if (!t || t->b.ctx->is_server || !ctx_of(t)->resume || !t->host[0]) return 0;
    lg_tls_client *cli = (lg_tls_client *)(void *)ctx_of(t);
    session_slot *e = session_find(cli, t->host, t->port);
    if (!e) {
        e = &cli->sessions[0];
        for (size_t i = 1; i < LG_TLS_CLIENT_SESSIONS; i++)
            if (!cli->sessions[i].session ||
                (e->session && cli->sessions[i].used < e->used))
                e = &cli->sessions[i];
    }
    SSL_SESSION_free(e->session);
    e->session = sess;
    e->used = ++cli->tick ? cli->tick : (cli->tick = 1);
    e->port = t->port;
    memcpy(e->host, t->host, sizeof e->host);
    return 1;
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
    char name[256];
    size_t n = lg__tls_host_name(host, name);
    lg_addr ip;
    int is_ip = lg__tls_host_ip(name, &ip);
    int ok = 1;
    /* SNI for names only (RFC 6066: no literal IP addresses) */
    if (!is_ip) ok = SSL_set_tlsext_host_name(t->ssl, name) == 1;
    if (ok && !cli->c.insecure) {
        /* RFC 6125: a wildcard is a whole left-most label ("*.example"). */
        SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), name) == 1
                   : SSL_set1_host(t->ssl, name) == 1;
    }
    if (!ok) {
        ERR_clear_error();
        conn_free(t);
        return LG_ERR_TLS;
    }
    if (cli->c.insecure) lg__tls_warn_insecure(s, name, port);
    t->port = port;
    if (n < sizeof t->host) {
        memcpy(t->host, name, n + 1);
        session_slot *e = cli->c.resume ? session_find(cli, name, port) : NULL;
        if (e) (void)SSL_set_session(t->ssl, e->session);
    }
    *out = &t->b.transport;
    return LG_OK;
}

int lg_tls_get_info(const lg_stream *s, lg_tls_info *info)
{
    if (!s->transport || s->transport->ops != &tls_ops) return LG_ERR_INVALID_ARG;
    const tls_conn *t = conn_of(s);
    if (!t->b.hs_done) return LG_ERR_AGAIN;
    /* Static strings (OpenSSL's tables, a literal), as mbedTLS's are: the
     * caller may keep them after the stream closes. */
    info->version = SSL_get_version(t->ssl);
    info->cipher = SSL_get_cipher_name(t->ssl);
    info->alpn = t->alpn_http11 ? "http/1.1" : NULL;
    return LG_OK;
}

const char *lg_tls_library_version(void)
{
    return OpenSSL_version(OPENSSL_VERSION_STRING);
}

/* ---------------------------------------------------------------------------
 * Making contexts
 * ------------------------------------------------------------------------ */

static const unsigned char alpn_wire[] = { 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };

/* Server: http/1.1 when the client offers it; a client that offers only
 * other protocols is refused with no_application_protocol (RFC 7301
 * section 3.2), as mbedTLS's server and nginx (since 1.21.4) refuse it. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    unsigned char *o;
    if (SSL_select_next_proto(&o, outlen, alpn_wire, sizeof alpn_wire, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL; /* (OpenSSL sends no_application_protocol) */
    *out = o;
    return SSL_TLSEXT_ERR_OK;
}

static int file_error(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f) {
        fclose(f);
        return LG_OK;
    }
    return errno == ENOENT ? LG_ERR_NOT_FOUND : errno == EACCES ? LG_ERR_ACCESS : LG_ERR_IO;
}

/* A blob as a BIO to read from (*bio), or the lg_err with why said. */
static int blob_open(const lg_tls_blob *b, BIO **bio, char *why, size_t why_len)
{
    if (b->file) {
        int fe = file_error(b->file);
        if (fe) {
            say(why, why_len, "%s: cannot open it", b->file);
            return fe;
        }
        *bio = BIO_new_file(b->file, "rb");
    } else {
        *bio = b->len <= INT_MAX ? BIO_new_mem_buf(b->data, (int)b->len) : NULL;
    }
    if (!*bio) {
        ERR_clear_error();
        return LG_ERR_NOMEM;
    }
    return LG_OK;
}

static int is_pem(BIO *bio)
{
    char head[4096];
    int n = BIO_read(bio, head, sizeof head - 1);
    (void)BIO_reset(bio);
    if (n <= 0) return 0;
    head[n] = 0;
    for (int i = 0; i + 10 <= n; i++)
        if (memcmp(head + i, "-----BEGIN", 10) == 0) return 1;
    return 0;
}

/* Every certificate of a blob (PEM: several; DER: one), in order. */
static int load_certs(STACK_OF(X509) **out, const lg_tls_blob *b, const char *what, char *why,
                      size_t why_len)
{
    BIO *bio;
    int rc = blob_open(b, &bio, why, why_len);
    if (rc) return rc;
    STACK_OF(X509) *sk = sk_X509_new_null();
    if (!sk) {
        BIO_free(bio);
        return LG_ERR_NOMEM;
    }
    if (is_pem(bio)) {
        X509 *x;
        while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
            if (!sk_X509_push(sk, x)) X509_free(x);
    } else {
        X509 *x = d2i_X509_bio(bio, NULL);
        if (x && !sk_X509_push(sk, x)) X509_free(x);
    }
    BIO_free(bio);
    ERR_clear_error(); /* (the end of a PEM file is "no start line") */
    if (sk_X509_num(sk) == 0) {
        sk_X509_free(sk);
        say(why, why_len, "%s: not a certificate in PEM or DER", b->file ? b->file : what);
        return LG_ERR_TLS_CONFIG;
    }
    *out = sk;
    return LG_OK;
}

/* No terminal prompt for an encrypted key: its password, or none. */
static int password_cb(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    const char *pw = u;
    if (!pw) return 0;
    size_t n = strlen(pw);
    if (n > (size_t)size) n = (size_t)size;
    memcpy(buf, pw, n);
    return (int)n;
}

static int load_key(EVP_PKEY **out, X509 *leaf, const lg_tls_blob *b, const char *password,
                    char *why, size_t why_len)
{
    BIO *bio;
    int rc = blob_open(b, &bio, why, why_len);
    if (rc) return rc;
    EVP_PKEY *k = is_pem(bio) ? PEM_read_bio_PrivateKey(bio, NULL, password_cb, (void *)password)
                              : d2i_PrivateKey_bio(bio, NULL);
    BIO_free(bio);
    if (!k) {
        say(why, why_len, "%s: not a private key in PEM or DER (or a wrong password)",
            b->file ? b->file : "the key");
        return LG_ERR_TLS_CONFIG;
    }
    if (X509_check_private_key(leaf, k) != 1) {
        EVP_PKEY_free(k);
        say(why, why_len, "%s: not the key of the certificate", b->file ? b->file : "the key");
        return LG_ERR_TLS_CONFIG;
    }
    *out = k;
    return LG_OK;
}

static int blob_given(const lg_tls_blob *b)
{
    return b->file || (b->data && b->len);
}

/* A certificate chain and its key, loaded and checked. */
static int load_pair(lg_tls_cert *c, const lg_tls_blob *cert, const lg_tls_blob *key,
                     const char *password, const char *what, char *why, size_t why_len)
{
    if (!blob_given(cert) || !blob_given(key)) {
        say(why, why_len, "a certificate needs its key", NULL);
        return LG_ERR_TLS_CONFIG;
    }
    int rc = load_certs(&c->chain, cert, what, why, why_len);
    if (rc) return rc;
    c->leaf = sk_X509_shift(c->chain);
    return load_key(&c->key, c->leaf, key, password, why, why_len);
}

static void pair_free(lg_tls_cert *c)
{
    X509_free(c->leaf);
    sk_X509_pop_free(c->chain, X509_free);
    EVP_PKEY_free(c->key);
}

static int pair_use(SSL_CTX *ctx, lg_tls_cert *c, const char *what, char *why, size_t why_len)
{
    if (SSL_CTX_use_cert_and_key(ctx, c->leaf, c->key, c->chain, 1) != 1) {
        say(why, why_len, "%s cannot be used", what);
        return LG_ERR_TLS_CONFIG;
    }
    return LG_OK;
}

/* What a server's and a client's configuration have in common. */
static int ctx_setup(tls_ctx *c, int server, uint32_t handshake_ms, char *why, size_t why_len)
{
    c->refs = 1;
    c->b.handshake_ms = handshake_ms ? handshake_ms : TLS_DEFAULT_HANDSHAKE_MS;
    c->ssl_ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    c->bio = bio_method_new();
    if (!c->ssl_ctx || !c->bio) {
        say(why, why_len, "the TLS defaults did not load", NULL);
        return LG_ERR_TLS;
    }
    SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(c->ssl_ctx, SSL_OP_NO_RENEGOTIATION);
    /* One record per send; the stream's queue may move between retries;
     * an idle connection gives its record buffers back (as nginx asks:
     * tests/tls/tls_memory.c measured 49 KB per idle server connection
     * without, 16 KB with). */
    SSL_CTX_set_mode(c->ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                     SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                     SSL_MODE_RELEASE_BUFFERS);
    return LG_OK;
}

static void ctx_unref(tls_ctx *c)
{
    if (--c->refs) return;
    SSL_CTX_free(c->ssl_ctx);
    BIO_meth_free(c->bio);
    if (c->b.is_server) {
        lg_tls_server *srv = (lg_tls_server *)(void *)c;
        while (srv->certs) {
            lg_tls_cert *cert = srv->certs;
            srv->certs = cert->next;
            pair_free(cert);
            lg_port_free(cert, sizeof *cert);
        }
        lg_port_free(srv, sizeof *srv);
    } else {
        lg_tls_client *cli = (lg_tls_client *)(void *)c;
        for (size_t i = 0; i < LG_TLS_CLIENT_SESSIONS; i++) SSL_SESSION_free(cli->sessions[i].session);
        lg_port_free(cli, sizeof *cli);
    }
}

/* --- SNI: a certificate chosen by the name the client asks for --- */

static int sni_choose(SSL *ssl, int *alert, void *arg)
{
    (void)alert;
    lg_tls_server *srv = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (!name || !srv->sni) return SSL_TLSEXT_ERR_OK;
    const lg_tls_cert *cert = srv->sni(srv->sni_user, name);
    if (!cert) return SSL_TLSEXT_ERR_OK;
    lg_tls_cert *mine = (lg_tls_cert *)(uintptr_t)cert; /* (OpenSSL takes references) */
    if (SSL_use_cert_and_key(ssl, mine->leaf, mine->key, mine->chain, 1) != 1)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    return SSL_TLSEXT_ERR_OK;
}

int lg_tls_server_add_cert(lg_tls_server *tls, const lg_tls_blob *cert, const lg_tls_blob *key,
                           const char *key_password, const lg_tls_cert **out, char *why,
                           size_t why_len)
{
    *out = NULL;
    if (why && why_len) why[0] = 0;
    if (!tls || !cert || !key || !blob_given(cert) || !blob_given(key)) {
        say(why, why_len, "a certificate needs its key", NULL);
        return LG_ERR_INVALID_ARG;
    }
    lg_tls_cert *c = lg_port_alloc(sizeof *c);
    if (!c) return LG_ERR_NOMEM;
    memset(c, 0, sizeof *c);
    int rc = load_pair(c, cert, key, key_password, "the certificate", why, why_len);
    if (rc) {
        pair_free(c);
        lg_port_free(c, sizeof *c);
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
        say(why, why_len, "a TLS server needs a certificate and its key", NULL);
        return LG_ERR_INVALID_ARG;
    }
    lg_tls_server *srv = lg_port_alloc(sizeof *srv);
    if (!srv) return LG_ERR_NOMEM;
    memset(srv, 0, sizeof *srv);
    tls_ctx *c = &srv->c;
    c->b.is_server = 1;
    c->b.max_sessions = config->max_sessions;
    c->b.max_handshakes = config->max_handshakes;
    int rc = ctx_setup(c, 1, config->handshake_timeout_ms, why, why_len);
    lg_tls_cert own = { 0 };
    if (!rc) rc = load_pair(&own, &config->cert, &config->key, config->key_password,
                            "the certificate", why, why_len);
    if (!rc) rc = pair_use(c->ssl_ctx, &own, "the certificate", why, why_len);
    pair_free(&own); /* (the context holds its references) */
    if (!rc) {
        SSL_CTX *x = c->ssl_ctx;
        SSL_CTX_set_alpn_select_cb(x, alpn_select, NULL);
        static const unsigned char sid_ctx[] = "linger";
        SSL_CTX_set_session_id_context(x, sid_ctx, sizeof sid_ctx - 1);
        if (config->no_tickets) {
            SSL_CTX_set_options(x, SSL_OP_NO_TICKET);
            SSL_CTX_set_num_tickets(x, 0);
            SSL_CTX_set_session_cache_mode(x, SSL_SESS_CACHE_OFF);
        } else {
            /* Tickets only (stateless, as mbedTLS's): no cache to grow. */
            SSL_CTX_set_session_cache_mode(x, SSL_SESS_CACHE_OFF);
            SSL_CTX_set_timeout(x, (long)(config->ticket_lifetime_s ? config->ticket_lifetime_s
                                                                    : TLS_DEFAULT_TICKET_LIFETIME_S));
        }
        if (config->sni) {
            srv->sni = config->sni;
            srv->sni_user = config->sni_user;
            SSL_CTX_set_tlsext_servername_callback(x, sni_choose);
            SSL_CTX_set_tlsext_servername_arg(x, srv);
        }
    }
    if (rc) {
        ctx_unref(c);
        return rc;
    }
    *out = srv;
    return LG_OK;
}

/* The CAs of a blob into the context's store. */
static int load_ca(SSL_CTX *x, const lg_tls_blob *b, char *why, size_t why_len)
{
    STACK_OF(X509) *sk;
    int rc = load_certs(&sk, b, "the CA set", why, why_len);
    if (rc) return rc;
    X509_STORE *store = SSL_CTX_get_cert_store(x);
    for (int i = 0; i < sk_X509_num(sk); i++) (void)X509_STORE_add_cert(store, sk_X509_value(sk, i));
    sk_X509_pop_free(sk, X509_free);
    ERR_clear_error(); /* (a bundle's duplicates) */
    return LG_OK;
}

int lg_tls_client_new(lg_tls_client **out, const lg_tls_client_config *config, char *why,
                      size_t why_len)
{
    static const lg_tls_client_config defaults;
    *out = NULL;
    if (why && why_len) why[0] = 0;
    if (!config) config = &defaults;
    lg_tls_client *cli = lg_port_alloc(sizeof *cli);
    if (!cli) return LG_ERR_NOMEM;
    memset(cli, 0, sizeof *cli);
    tls_ctx *c = &cli->c;
    c->insecure = config->insecure;
    c->resume = !config->no_resumption;
    int rc = ctx_setup(c, 0, config->handshake_timeout_ms, why, why_len);
    SSL_CTX *x = c->ssl_ctx;
    if (!rc && c->insecure) {
        SSL_CTX_set_verify(x, SSL_VERIFY_NONE, NULL);
    } else if (!rc) {
        lg_tls_blob system = { LG_TLS_DEFAULT_CA_FILE, NULL, 0 };
        rc = load_ca(x, blob_given(&config->ca) ? &config->ca : &system, why, why_len);
        if (!rc) SSL_CTX_set_verify(x, SSL_VERIFY_PEER, NULL);
    }
    if (!rc) {
        SSL_CTX_set_alpn_protos(x, alpn_wire, sizeof alpn_wire);
        SSL_CTX_set_session_cache_mode(x, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(x, session_new_cb);
    }
    if (!rc && config->max_fragment) {
        uint8_t code = config->max_fragment == 512    ? TLSEXT_max_fragment_length_512
                       : config->max_fragment == 1024 ? TLSEXT_max_fragment_length_1024
                       : config->max_fragment == 2048 ? TLSEXT_max_fragment_length_2048
                       : config->max_fragment == 4096 ? TLSEXT_max_fragment_length_4096
                                                      : TLSEXT_max_fragment_length_DISABLED;
        if (code == TLSEXT_max_fragment_length_DISABLED) {
            say(why, why_len, "max_fragment must be 512, 1024, 2048 or 4096", NULL);
            rc = LG_ERR_INVALID_ARG;
        } else {
            SSL_CTX_set_tlsext_max_fragment_length(x, code);
        }
    }
    if (!rc && (blob_given(&config->cert) || blob_given(&config->key))) {
        lg_tls_cert own = { 0 };
        rc = load_pair(&own, &config->cert, &config->key, config->key_password,
                       "the client certificate", why, why_len);
        if (!rc) rc = pair_use(x, &own, "the client certificate", why, why_len);
        pair_free(&own);
    }
    if (rc) {
        ctx_unref(c);
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
