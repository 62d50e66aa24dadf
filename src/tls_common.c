/*
 * What the two TLS transports (src/tls_mbedtls.c, src/tls_openssl.c) do
 * alike, above their libraries: a connection's life and the server's caps,
 * plain HTTP at the TLS port, one record gathered from small pieces
 * (src/tls_internal.h says each). Portable: a device's build links it with
 * the mbedTLS transport.
 */
#include <stdio.h>
#include <string.h>

#include "linger.h"
#include "tls_internal.h"

/* ---------------------------------------------------------------------------
 * The server's caps: sessions and handshakes at once
 * ------------------------------------------------------------------------ */

static int slot_free(const tls_ctx_base *c)
{
    return (!c->max_sessions || c->sessions < c->max_sessions) &&
           (!c->max_handshakes || c->handshakes < c->max_handshakes);
}

/* The connection's session (the library's) and its handshake's deadline:
 * at once, or when it leaves the queue. */
static int conn_start(tls_conn_base *b)
{
    tls_ctx_base *c = b->ctx;
    int err = c->lib->start(b);
    if (err) return err;
    lg_timer_start(&b->hs_timer, c->handshake_ms);
    b->holds_session = b->holds_handshake = 1;
    c->sessions++;
    c->handshakes++;
    return LG_OK;
}

/* Slots freed: the oldest waiting connections start their handshakes. The
 * stream is told through `pending` (its socket said nothing: it was not
 * watched). */
void lg__tls_admit(tls_ctx_base *c)
{
    while (c->wait_head && slot_free(c)) {
        tls_conn_base *b = c->wait_head;
        int err = conn_start(b);
        /* No memory for it while others hold some: it waits on, first in
         * line, until one of them closes. */
        if (err == LG_ERR_NOMEM && c->sessions) return;
        c->wait_head = b->wait_next;
        if (!c->wait_head) c->wait_tail = NULL;
        b->wait_next = NULL;
        b->waiting = 0;
        if (err) {
            lg_log(lg_stream_loop(b->s), LG_LOG_WARN, "no TLS session for a connection: %s",
                   lg_strerror(err));
            c->lib->fail(b, err, 0); /* read as its input's end: a graceful close */
        } else {
            b->kicked = 1;
        }
        lg_stream_redeliver(b->s);
    }
}

static void handshake_over(tls_conn_base *b)
{
    if (!b->holds_handshake) return;
    b->holds_handshake = 0;
    b->ctx->handshakes--;
    lg__tls_admit(b->ctx);
}

/* ---------------------------------------------------------------------------
 * A connection's life
 * ------------------------------------------------------------------------ */

static void hs_timeout(lg_timer *tm)
{
    tls_conn_base *b = LG_CONTAINER_OF(tm, tls_conn_base, hs_timer);
    if (b->hs_done || b->fail) return;
    b->ctx->lib->fail(b, LG_ERR_TLS_TIMEOUT, 0);
    /* The stream reads what `pending` now says is there: the error. */
    lg_stream_redeliver(b->s);
}

int lg__tls_conn_enter(tls_conn_base *b, tls_ctx_base *c, lg_stream *s,
                       const lg_transport_ops *ops)
{
    b->transport.ops = ops;
    b->s = s;
    b->ctx = c;
    b->hs_want = c->is_server ? LG_READABLE : LG_WRITABLE;
    lg_timer_init(lg_stream_loop(s), &b->hs_timer, hs_timeout);
    int rc = c->wait_head || !slot_free(c) ? LG_ERR_LIMIT : conn_start(b);
    if (rc == LG_ERR_LIMIT || (rc == LG_ERR_NOMEM && c->sessions && c->is_server)) {
        /* Beyond a cap, or no memory while other sessions hold some: it
         * waits, behind those already waiting. (A client's request fails
         * with LG_ERR_NOMEM instead: its caller decides.) */
        b->waiting = 1;
        if (c->wait_tail) c->wait_tail->wait_next = b;
        else c->wait_head = b;
        c->wait_tail = b;
        return LG_OK;
    }
    /* Refused before a byte is read: the server closes it gracefully. */
    if (rc)
        lg_log(lg_stream_loop(s), LG_LOG_WARN, "no TLS session for a connection: %s",
               lg_strerror(rc));
    return rc;
}

void lg__tls_conn_leave(tls_conn_base *b)
{
    tls_ctx_base *c = b->ctx;
    lg_timer_stop(&b->hs_timer);
    if (b->waiting) {
        tls_conn_base **p = &c->wait_head, *prev = NULL;
        while (*p != b) {
            prev = *p;
            p = &(*p)->wait_next;
        }
        *p = b->wait_next;
        if (c->wait_tail == b) c->wait_tail = prev;
    }
    if (b->holds_handshake) c->handshakes--;
    if (b->holds_session) c->sessions--;
}

void lg__tls_handshake_done(tls_conn_base *b)
{
    b->hs_done = 1;
    lg_timer_stop(&b->hs_timer);
    handshake_over(b);
}

/* nginx's answer to plain HTTP on its TLS port, in plain HTTP. Best
 * effort, one send on a fresh socket: the request behind it is drained by
 * the stream's graceful close, so the client reads this rather than a
 * reset. */
static void answer_plain_http(tls_conn_base *b)
{
    static const char answer[] = "HTTP/1.1 400 Bad Request\r\n"
                                 "Content-Type: text/plain\r\n"
                                 "Content-Length: 47\r\n"
                                 "Connection: close\r\n"
                                 "\r\n"
                                 "The plain HTTP request was sent to HTTPS port.\n";
    lg_str part = { answer, sizeof answer - 1 };
    (void)lg_stream_socket_send(b->s, &part, 1);
}

int lg__tls_fail(tls_conn_base *b, int err)
{
    if (b->fail) return 0;
    b->fail = err;
    lg_timer_stop(&b->hs_timer);
    handshake_over(b);
    if (err == LG_ERR_TLS_PLAINTEXT && b->ctx->is_server) answer_plain_http(b);
    return 1;
}

#if !defined(LG_NO_LOG)
void lg__tls_log_fail(const tls_conn_base *b, int err, const char *detail)
{
    /* Who is at the other end ("127.0.0.1:5555") */
    char peer[64];
    lg_addr a;
    if (lg_stream_peer(b->s, &a) != LG_OK || lg_addr_format(&a, peer, sizeof peer) < 0)
        snprintf(peer, sizeof peer, "?");
    lg_log(lg_stream_loop(b->s), LG_LOG_INFO, "%s: TLS %s: %s%s%s%s", peer,
           b->hs_done ? "failed" : "handshake failed", lg_strerror(err), detail[0] ? " [" : "",
           detail, detail[0] ? "]" : "");
}
#endif

/* ---------------------------------------------------------------------------
 * The gates of the transport's operations
 * ------------------------------------------------------------------------ */

long lg__tls_recv_gate(tls_conn_base *b)
{
    if (b->fail) {
        b->fail_told = 1;
        return b->fail;
    }
    if (b->eof) return 0;
    b->kicked = 0;
    if (b->waiting) return LG_ERR_AGAIN; /* (want says: nothing to wait for) */
    if (!b->hs_done) {
        int rc = b->ctx->lib->handshake(b);
        if (rc != LG_OK) {
            if (rc != LG_ERR_AGAIN) b->fail_told = 1;
            return rc;
        }
    }
    return 1;
}

long lg__tls_send_gate(tls_conn_base *b)
{
    if (b->fail) return b->fail_told ? b->fail : LG_ERR_AGAIN;
    if (b->hs_done) return LG_OK;
    /* A stream that closes before its handshake is done sends nothing of
     * what it queued (it cannot read while closing: the handshake would
     * never finish). */
    if (!lg_stream_is_open(b->s)) return LG_ERR_CLOSED;
    if (b->waiting) return LG_ERR_AGAIN;
    /* A failure goes to the stream as the end of its input (pending and
     * want say so now): its owner learns why there. */
    return b->ctx->lib->handshake(b) == LG_OK ? LG_OK : LG_ERR_AGAIN;
}

/* What to wait for, given what the stream wants (events). Readiness the
 * stream would not act on is never asked for: a level-triggered loop
 * would report it for ever. */
unsigned lg__tls_want(const lg_stream *s, unsigned events)
{
    const tls_conn_base *b = lg__tls_conn(s);
    if (b->fail) return b->fail_told ? events : LG_READABLE; /* the error, to be read */
    /* Waiting for a slot: the ClientHello stays in the socket, unread. */
    if (b->waiting) return 0;
    /* The handshake: whichever way the stream calls, recv or send, drives
     * it; a stream that wants nothing lets it wait. */
    if (!b->hs_done) return events ? b->hs_want : 0;
    /* A read that must write first is driven by recv when writable. */
    if (b->read_wants_write && (events & LG_READABLE)) events |= LG_WRITABLE;
    return events;
}

/* ---------------------------------------------------------------------------
 * The bytes
 * ------------------------------------------------------------------------ */

/* Plain HTTP where TLS was expected: a request ("GET /") at a server, an
 * answer ("HTTP/", or an HTTP/0.9 one's "<!DOC") at a client. A TLS record
 * starts with its type (20..24) and version (3, x): never with text. */
static int looks_like_http(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n && i < 5; i++)
        if ((p[i] < 0x20 || p[i] > 0x7e) && p[i] != '\r' && p[i] != '\n' && p[i] != '\t')
            return 0;
    return 1;
}

int lg__tls_first_bytes(tls_conn_base *b, const void *buf, size_t n)
{
    if (b->got_bytes) return 0;
    b->got_bytes = 1;
    return b->plain = (uint8_t)looks_like_http(buf, n);
}

size_t lg__tls_gather(const lg_str *parts, size_t n, unsigned char *gather, size_t cap,
                      const unsigned char **out)
{
    size_t i = 0, len = 0;
    while (i < n && !parts[i].len) i++;
    if (i == n) return 0;
    if (i + 1 == n || parts[i].len >= cap) {
        *out = (const unsigned char *)parts[i].ptr;
        return parts[i].len;
    }
    for (; i < n && len < cap; i++) {
        size_t take = parts[i].len < cap - len ? parts[i].len : cap - len;
        memcpy(gather + len, parts[i].ptr, take);
        len += take;
    }
    *out = gather;
    return len;
}
