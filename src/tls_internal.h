/*
 * What the two TLS transports do alike, whatever the library under them
 * (src/tls_mbedtls.c, src/tls_openssl.c; the code in src/tls_common.c):
 *
 *   - a connection's life above the library: the handshake's deadline, a
 *     failure said once (and when to tell the stream), the readiness the
 *     stream waits for, the gates before a read and a write
 *   - the server's caps (max_sessions, max_handshakes): a connection beyond
 *     them waits in a queue, oldest first, with its ClientHello unread,
 *     and starts its handshake when a slot frees
 *   - plain HTTP where TLS was expected: seen in the first bytes, and
 *     answered at a server with nginx's 400
 *   - several small pieces of the stream's queue gathered into one record
 *
 * Each transport's connection starts with a tls_conn_base and its context
 * with a tls_ctx_base; what only the library can do (make a session, take
 * a step of the handshake, say what failed) the transport gives as a
 * tls_lib. Only the public stream and loop API is used (check_seams.sh).
 */
#ifndef LINGER_TLS_INTERNAL_H
#define LINGER_TLS_INTERNAL_H

#include "linger.h"

#define TLS_DEFAULT_HANDSHAKE_MS 10000u
#define TLS_DEFAULT_TICKET_LIFETIME_S 86400u

typedef struct tls_conn_base tls_conn_base;

/* What a transport does with its library, for the code here. */
typedef struct tls_lib {
    /* The library's session for a connection (its record buffers, its
     * socket): LG_OK, LG_ERR_NOMEM (a server's connection may wait for
     * memory others hold) or another lg_err. */
    int (*start)(tls_conn_base *b);
    /* One go at the handshake: LG_OK once done (lg__tls_handshake_done
     * called), LG_ERR_AGAIN (hs_want set), or the failure, already
     * recorded through fail. */
    int (*handshake)(tls_conn_base *b);
    /* The connection failed (err; lib_err: the library's own code, 0 for
     * none): recorded with lg__tls_fail and logged in the library's words;
     * returns the lg_err it failed with. */
    int (*fail)(tls_conn_base *b, int err, int lib_err);
} tls_lib;

/* The part of a server's or client's context the code here uses: the
 * first member of each transport's context. */
typedef struct tls_ctx_base {
    const tls_lib *lib;
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
    tls_conn_base *wait_next;
    lg_timer hs_timer;           /* the handshake's deadline */
    int fail;                    /* the lg_err this connection failed with, 0 if none */
    int sock_err;                /* what the socket said under the library (reset ...) */
    size_t wpend;                /* the length of a write the library could not finish */
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
};

/* The connection of the stream s (its transport). */
static inline tls_conn_base *lg__tls_conn(const lg_stream *s)
{
    return (tls_conn_base *)(void *)s->transport;
}

/* --- a connection's life --- */

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

/* The handshake finished: its deadline stops, its slot frees. */
void lg__tls_handshake_done(tls_conn_base *b);
/* The connection failed (err): 1 when this is its first failure (recorded
 * now: the deadline stops, the handshake's slot frees, a plain-HTTP peer
 * of a server gets its 400), 0 when it had failed already. */
int lg__tls_fail(tls_conn_base *b, int err);
#if !defined(LG_NO_LOG)
/* The log line of a failure, with the library's detail ("" for none). */
void lg__tls_log_fail(const tls_conn_base *b, int err, const char *detail);
#endif

/* --- the gates of the transport's operations --- */

/* Before recv reads through the library: 1 when it may, else what recv
 * returns (0 at the end, LG_ERR_AGAIN, or the failure to tell). */
long lg__tls_recv_gate(tls_conn_base *b);
/* Before send writes through the library: LG_OK when it may, else what
 * send returns (a failure reaches the stream as the end of its input). */
long lg__tls_send_gate(tls_conn_base *b);
/* The transport's `want` (lg_transport_ops). */
unsigned lg__tls_want(const lg_stream *s, unsigned events);

/* --- the bytes --- */

/* Looks at the first bytes a connection read (buf, n > 0): 1 when they are
 * plain HTTP, which the library must then take as a failure of the socket. */
int lg__tls_first_bytes(tls_conn_base *b, const void *buf, size_t n);
/* What one record is made of: the first non-empty piece of parts, or, when
 * there are several and it is small, as much of them as fits in the cap
 * bytes of gather. *out points at it; returns its length (0: no bytes). */
size_t lg__tls_gather(const lg_str *parts, size_t n, unsigned char *gather, size_t cap,
                      const unsigned char **out);

#endif
