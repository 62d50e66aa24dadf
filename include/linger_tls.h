/*
 * linger_tls — TLS for linger's server and client, on mbedTLS.
 *
 * TLS is a transport under the stream (linger.h, section 5): the server,
 * the client and the three rules work unchanged above it. A context holds
 * what connections share (certificates, keys, the random generator, the
 * session tickets or sessions); each connection gets its own mbedTLS
 * session from a factory that plugs into the server's or the client's
 * configuration:
 *
 *   lg_tls_server *tls;
 *   char why[160];
 *   int rc = lg_tls_server_new(&tls, &(lg_tls_server_config){
 *                                  .cert = { .file = "cert.pem" },
 *                                  .key = { .file = "key.pem" } }, why, sizeof why);
 *   if (rc) { fprintf(stderr, "TLS: %s\n", why); return 1; }
 *   lg_server *srv = lg_server_new(loop, &(lg_server_config){
 *                                  .transport = lg_tls_server_transport,
 *                                  .transport_user = tls });
 *
 *   lg_tls_client *ctls;
 *   lg_tls_client_new(&ctls, NULL, why, sizeof why); // the system's CAs
 *   lg_client *cli = lg_client_new(loop, &(lg_client_config){
 *                                  .transport = lg_tls_client_transport,
 *                                  .transport_user = ctls });
 *   // now https:// URLs work; http:// ones stay plain TCP
 *
 * Security defaults: TLS 1.2 at least (1.3 where the mbedTLS in use has
 * it), mbedTLS's default cipher suites and curves, ALPN "http/1.1", no
 * renegotiation; the client verifies the server's certificate chain and
 * host name unless told loudly not to (insecure), the server resumes
 * sessions with tickets. How a connection failed is an lg_err:
 * LG_ERR_TLS_* (linger.h), with a log line (LG_LOG_INFO) saying more.
 *
 * Built when CMake finds mbedTLS (option LINGER_TLS); link linger::tls.
 * The same API on OpenSSL 3 for Linux (src/tls_openssl.c): link
 * linger::tls_openssl instead (option LINGER_TLS_OPENSSL); what differs
 * there is said below and in docs/tls.md ("On OpenSSL").
 * docs/tls.md has the memory each connection takes and the versions tested.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef LINGER_TLS_H
#define LINGER_TLS_H

#include "linger.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where the client looks for trusted CAs when given none (Debian's bundle). */
#define LG_TLS_DEFAULT_CA_FILE "/etc/ssl/certs/ca-certificates.crt"

/* A certificate (chain), key or CA set: a file, or bytes in memory (a
 * device has no files). PEM (several certificates in one) or DER (one);
 * PEM in memory need not end in a NUL. */
typedef struct lg_tls_blob {
    const char *file;
    const void *data;
    size_t len;
} lg_tls_blob;

/* A random generator, where mbedTLS's default (its entropy collector and
 * CTR-DRBG) will not do: mbedTLS's f_rng signature. (OpenSSL's transport
 * uses OpenSSL's own generator and ignores it.) */
typedef int (*lg_tls_rng_fn)(void *ctx, unsigned char *out, size_t len);

/* A further certificate (chain and key) of a server, which its SNI
 * callback may choose for a connection: made by lg_tls_server_add_cert,
 * freed with the server. */
typedef struct lg_tls_cert lg_tls_cert;

/* SNI (RFC 6066 server_name): called during a handshake with the host name
 * the client asked for (a NUL-terminated copy, as the client spelled it;
 * never called when it asked for none). Return the certificate to present,
 * or NULL for the server's own (config.cert). */
typedef const lg_tls_cert *(*lg_tls_sni_fn)(void *sni_user, const char *name);

typedef struct lg_tls_server_config {
    lg_tls_blob cert;              /* the chain: the server's certificate first */
    lg_tls_blob key;               /* its private key */
    const char *key_password;      /* an encrypted key's password, else NULL */
    uint32_t handshake_timeout_ms; /* a handshake must complete within (default 10000):
                                      then LG_ERR_TLS_TIMEOUT and the connection closes */
    uint32_t ticket_lifetime_s;    /* session tickets (resumption): default 86400 */
    uint8_t no_tickets;            /* 1: no session resumption */
    lg_tls_rng_fn rng;             /* NULL: mbedTLS's entropy and CTR-DRBG */
    void *rng_ctx;
    lg_tls_sni_fn sni;             /* NULL: config.cert for every name */
    void *sni_user;
    /* Memory caps (0: none beyond lg_server_config.max_conns). A connection
     * beyond either waits, its ClientHello unread and nothing of mbedTLS
     * allocated for it, until a slot frees (first come, first served);
     * its handshake timeout starts then. It is never cut mid-handshake. */
    uint16_t max_sessions;         /* TLS sessions at once: each holds its record
                                      buffers from its handshake to its close */
    uint16_t max_handshakes;       /* handshakes at once: each holds its key exchange's
                                      state on top (the peak of a connection's memory) */
} lg_tls_server_config;

typedef struct lg_tls_client_config {
    lg_tls_blob ca;                /* trusted CAs; none given: LG_TLS_DEFAULT_CA_FILE */
    uint8_t insecure;              /* 1: no certificate check at all. Anybody on the path
                                      can read and change the exchange; every connection
                                      logs a warning (LG_LOG_WARN). For tests only */
    lg_tls_blob cert, key;         /* a client certificate (mutual TLS), optional */
    const char *key_password;
    uint32_t handshake_timeout_ms; /* default 10000 */
    uint8_t no_resumption;         /* 1: keep no sessions (default: the last one per origin,
                                      for up to LG_TLS_CLIENT_SESSIONS origins) */
    uint16_t max_fragment;         /* ask servers for records of at most 512, 1024, 2048 or
                                      4096 bytes (RFC 6066 max_fragment_length), for a device
                                      whose mbedTLS has small record buffers
                                      (MBEDTLS_SSL_IN_CONTENT_LEN); 0: not asked. A server
                                      that ignores it sends records up to 16 KiB */
    lg_tls_rng_fn rng;             /* NULL: mbedTLS's entropy and CTR-DRBG */
    void *rng_ctx;
} lg_tls_client_config;

/* Sessions the client keeps for resumption (origins, least recently used
 * first out). */
#ifndef LG_TLS_CLIENT_SESSIONS
#define LG_TLS_CLIENT_SESSIONS 4
#endif

typedef struct lg_tls_server lg_tls_server;
typedef struct lg_tls_client lg_tls_client;

/* Make a context. Returns LG_OK, or LG_ERR_NOT_FOUND / LG_ERR_ACCESS (a
 * file), LG_ERR_TLS_CONFIG (does not parse, or the key is not the
 * certificate's), LG_ERR_NOMEM, LG_ERR_TLS (the random generator), with a
 * sentence in why (may be NULL) saying which and why. */
int lg_tls_server_new(lg_tls_server **out, const lg_tls_server_config *config, char *why,
                      size_t why_len);
int lg_tls_client_new(lg_tls_client **out, const lg_tls_client_config *config, char *why,
                      size_t why_len);
/* A further certificate for the server's SNI callback to choose (*out),
 * checked as config.cert and config.key are (the same returns). It lives
 * as long as the server: *out is valid until lg_tls_server_free.
 *
 *   static const lg_tls_cert *other;
 *   static const lg_tls_cert *choose(void *user, const char *name)
 *   { return strcmp(name, "other.example") == 0 ? other : NULL; }
 *   ...  lg_tls_server_config cfg = { ..., .sni = choose };
 *   lg_tls_server_add_cert(tls, &(lg_tls_blob){ .file = "other.pem" },
 *                          &(lg_tls_blob){ .file = "other.key" }, NULL, &other, why, sizeof why);
 */
int lg_tls_server_add_cert(lg_tls_server *tls, const lg_tls_blob *cert, const lg_tls_blob *key,
                           const char *key_password, const lg_tls_cert **out, char *why,
                           size_t why_len);

/* Free a context; connections still using it keep it until they close. */
void lg_tls_server_free(lg_tls_server *tls);
void lg_tls_client_free(lg_tls_client *tls);

/* The factories: lg_server_config.transport (transport_user: the
 * lg_tls_server) and lg_client_config.transport (transport_user: the
 * lg_tls_client; https gets TLS, http stays plain, other schemes are
 * LG_ERR_UNSUPPORTED). */
lg_transport *lg_tls_server_transport(lg_stream *s, const char *scheme, void *tls);
int lg_tls_client_transport(lg_stream *s, const char *scheme, const char *host, uint16_t port,
                            lg_transport **out, void *tls);

/* Static memory: everything TLS allocates — mbedTLS's sessions, record
 * buffers, handshakes, certificates, and the transport's own state — comes
 * from this one block from now on (mbedTLS's memory_buffer_alloc; with
 * lg_server_config.memory, a program that allocates nothing once it
 * runs). For the whole program, once, before any context is made; the
 * block stays in use until the program ends. A connection that finds no
 * room for its session and its handshake waits for one that closes, or is
 * refused before a byte is read when none holds any: never cut in the
 * middle of a handshake. LG_ERR_UNSUPPORTED when mbedTLS was built without
 * MBEDTLS_MEMORY_BUFFER_ALLOC_C (Debian's is not; ports/mbedtls/
 * linger_mbedtls_config.h has it). */
int lg_tls_memory(void *block, size_t bytes); /* OpenSSL's transport: LG_ERR_UNSUPPORTED */

/* What a stream's TLS agreed on, once its handshake is done. */
typedef struct lg_tls_info {
    const char *version;   /* "TLSv1.2" ... */
    const char *cipher;    /* the TLS library's suite name */
    const char *alpn;      /* "http/1.1", or NULL */
} lg_tls_info;

/* LG_OK; LG_ERR_INVALID_ARG when the stream has no TLS transport,
 * LG_ERR_AGAIN while its handshake runs. */
int lg_tls_get_info(const lg_stream *s, lg_tls_info *info);

/* The TLS library's version ("2.28.3" for mbedTLS, "3.0.19" for OpenSSL). */
const char *lg_tls_library_version(void);

#ifdef __cplusplus
}
#endif

#endif /* LINGER_TLS_H */
