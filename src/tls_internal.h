/*
 * What the two TLS transports do alike, whatever the library under them
 * (src/tls_mbedtls.c, src/tls_openssl.c; the code in src/tls_common.c):
 *
 *   - a connection's life above the library: the handshake's deadline, a
 *     failure said once (with its log line, and when to tell the stream),
 *     the readiness the stream waits for, recv and send up to the library
 *   - the server's caps (max_sessions, max_handshakes): a connection beyond
 *     them waits in a queue, oldest first, with its ClientHello unread,
 *     and starts its handshake when a slot frees
 *   - plain HTTP where TLS was expected: seen in the first bytes, and
 *     answered at a server with nginx's 400
 *   - several small pieces of the stream's queue gathered into one record
 *   - a client's origin: the name the certificate must carry, whether it
 *     is an IP address, the loud warning when nothing is verified
 *
 * Each transport's connection starts with a tls_conn_base and its context
 * holds a tls_ctx_base; what only the library can do (make a session, take
 * a step of the handshake, say what failed) each transport defines as the
 * lg__tls_lib_ functions below. A program links one transport (they define
 * the same public functions too): the calls are direct, as Redis's ae.c
 * picks its backend at build time. Only the public stream and loop API is
 * used (check_seams.sh).
 */
#ifndef LINGER_TLS_INTERNAL_H
#define LINGER_TLS_INTERNAL_H

#include "linger.h"

#define TLS_DEFAULT_HANDSHAKE_MS 10000u
#define TLS_DEFAULT_TICKET_LIFETIME_S 86400u

/* What a send gathers from several small pieces into one record (a head
 * and the start of a body): on the stack, for the call only. */
#ifndef LG_TLS_GATHER_BYTES
#if defined(LG__HOSTED_DEFAULTS)
#define LG_TLS_GATHER_BYTES 4096
#else
#define LG_TLS_GATHER_BYTES 1024
#endif
#endif

typedef struct tls_conn_base tls_conn_base;

/* The part of a server's or client's context the code here uses (a
 * member of each transport's context). */
typedef struct tls_ctx_base {
    uint32_t handshake_ms;
    uint8_t is_server;
    /* The server's caps (0: none), what is held of them, and the
     * connections waiting for a slot, oldest first. */
    uint16_t max_sessions, max_handshakes;
    uint16_t sessions, handshakes;
    tls_conn_base *wait_head, *wait_tail;
} tls_ctx_base;

/* The state every TLS connection has: the first member of each
 * transport's connection. */
struct tls_conn_base {
    lg_transport transport;      /* first: the stream's transport pointer is this */
    lg_stream *s;
    tls_ctx_base *ctx;
    /* (the flags near the start: a Cortex-M reaches them with 2-byte
     * instructions, up to offset 31) */
    uint8_t hs_done;
    uint8_t hs_want;             /* LG_READABLE / LG_WRITABLE: the handshake's next step */
    uint8_t read_wants_write;    /* a read must write first (an alert, a TLS 1.3 reply) */
    uint8_t fail_told;           /* the stream has been given `fail` */
    uint8_t got_bytes;           /* something came: the first bytes were looked at */
    uint8_t plain;               /* ... and they were plain HTTP */
    uint8_t eof;                 /* the peer's close_notify came */
    uint8_t notify_sent;         /* our close_notify went */
    uint8_t waiting;             /* server: no session yet, waits for a slot (caps) */
    uint8_t kicked;              /* ... got one: `pending` has the stream call recv */
    uint8_t holds_session, holds_handshake; /* what it counts in its context's caps */
    int fail;                    /* the lg_err this connection failed with, 0 if none */
    int sock_err;                /* what the socket said under the library (reset ...) */
    size_t wpend;                /* the length of a write the library could not finish */
    tls_conn_base *wait_next;
    lg_timer hs_timer;           /* the handshake's deadline */
};

/* --- what each transport does with its library (tls_mbedtls.c, tls_openssl.c) --- */

/* The library's session for a connection (its record buffers, its
 * socket): LG_OK, LG_ERR_NOMEM (a server's connection may wait for memory
 * others hold) or another lg_err. */
int lg__tls_lib_start(tls_conn_base *b);
/* One go at the handshake: LG_OK once done, LG_ERR_AGAIN (hs_want set),
 * or the failure, already recorded (lg__tls_fail). */
int lg__tls_lib_handshake(tls_conn_base *b);
/* After the handshake: decrypted bytes into buf, 0 after the peer's
 * close_notify, LG_ERR_AGAIN, or the failure (recorded, told). */
long lg__tls_lib_recv(tls_conn_base *b, void *buf, size_t len);
/* After the handshake: one record of p's len bytes (0: none to send), as
 * lg_transport_ops send returns. */
long lg__tls_lib_send(tls_conn_base *b, const unsigned char *p, size_t len);
#if !defined(LG_NO_LOG)
/* A failure (err; lib_err: the library's own code, 0 for none) in the
 * library's words, for its log line: into buf ("" for none). */
void lg__tls_lib_detail(tls_conn_base *b, int err, int lib_err, char *buf, size_t cap);
#endif

/* --- the code both share (tls_common.c) --- */

/* a connection's life */

/* A new connection (b zeroed, the library's state initialised) of the
 * context c on the stream s: its session at once, or a place in the
 * caps' queue. LG_OK, or why it has none (logged; nothing to undo here). */
int lg__tls_conn_enter(tls_conn_base *b, tls_ctx_base *c, lg_stream *s,
                       const lg_transport_ops *ops);
/* A connection goes: its deadline, its place in the queue, its slots. The
 * transport frees the library's state and the memory, then lets the
 * queue move on (lg__tls_admit: the memory freed may be what it waits for). */
void lg__tls_conn_leave(tls_conn_base *b);
/* Slots (or memory) freed: the oldest waiting connections start. */
void lg__tls_admit(tls_ctx_base *c);

/* The connection failed (err; lib_err: the library's code for it, 0 for
 * none), said once: the deadline stops, the handshake's slot frees, a
 * plain-HTTP peer of a server gets its 400, and a log line says why.
 * Returns the lg_err the connection failed with (the first one). */
int lg__tls_fail(tls_conn_base *b, int err, int lib_err);

/* the transport's operations (lg_transport_ops) both share */

/* recv and send: a failure to tell, the slot to wait for, the handshake to
 * drive, then the library's (lg__tls_lib_recv, lg__tls_lib_send: one
 * record, gathered from the first small pieces). */
long lg__tls_recv(lg_stream *s, void *buf, size_t len);
long lg__tls_send(lg_stream *s, const lg_str *parts, size_t n);
unsigned lg__tls_want(const lg_stream *s, unsigned events);
/* Still in the handshake (neither done nor failed): a timeout now is
 * LG_ERR_TLS_TIMEOUT, not a slow answer. */
int lg__tls_handshaking(const lg_stream *s);

/* What the library reads from the stream's socket (its BIO's read): as
 * lg_stream_socket_recv, but an error is kept in sock_err, and the first
 * bytes are looked at: plain HTTP (plain set) is LG_ERR_TLS_PLAINTEXT, a
 * failure of the socket for the library. */
long lg__tls_socket_recv(tls_conn_base *b, void *buf, size_t len);

/* a client's origin */

/* The name of host (as in the URL) for SNI and the certificate check,
 * "[::1]" without its brackets, into name (cut to 255 bytes); its length. */
size_t lg__tls_host_name(const char *host, char name[256]);
/* Whether that name is an IP address (*ip: which). */
int lg__tls_host_ip(const char *name, lg_addr *ip);
/* The warning a connection that verifies nothing logs. */
void lg__tls_warn_insecure(lg_stream *s, const char *name, uint16_t port);

#endif
