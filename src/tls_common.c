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

/* The connection of the stream s (its transport). */
static tls_conn_base *conn_of(const lg_stream *s)
{
    return (tls_conn_base *)(void *)s->transport;
}

/* ---------------------------------------------------------------------------
 * The server's caps: sessions and handshakes at once
 * ------------------------------------------------------------------------ */

static int slot_free(const tls_ctx_base *c)
{
    return (!c->max_sessions || c->sessions < c->max_sessions) &&
           (!c->max_handshakes || c->handshakes < c->max_handshakes);
}

/* A connection refused its session (err): a graceful close follows. */
static void no_session(const tls_conn_base *b, int err)
{
    (void)err; /* (LG_NO_LOG) */
    lg_log(lg_stream_loop(b->s), LG_LOG_WARN, "no TLS session for a connection: %s",
           lg_strerror(err));
}

/* The connection's session (the library's) and its handshake's deadline:
 * at once, or when it leaves the queue. */
static int conn_start(tls_conn_base *b)
{
    tls_ctx_base *c = b->ctx;
    int err = lg__tls_lib_start(b);
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
            no_session(b, err);
            lg__tls_fail(b, err, 0); /* read as its input's end */
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
    lg__tls_fail(b, LG_ERR_TLS_TIMEOUT, 0);
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
    if (rc) no_session(b, rc);
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

/* One go at the handshake; once done, its deadline stops and its slot
 * frees. */
static int handshake(tls_conn_base *b)
{
    int rc = lg__tls_lib_handshake(b);
    if (rc == LG_OK) {
        b->hs_done = 1;
        lg_timer_stop(&b->hs_timer);
        handshake_over(b);
    }
    return rc;
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

int lg__tls_fail(tls_conn_base *b, int err, int lib_err)
{
    (void)lib_err; /* (for the log line) */
    if (b->fail) return b->fail;
    b->fail = err;
    lg_timer_stop(&b->hs_timer);
    handshake_over(b);
    if (err == LG_ERR_TLS_PLAINTEXT && b->ctx->is_server) answer_plain_http(b);
#if !defined(LG_NO_LOG)
    /* (After the handshake, how input ends is the stream's to tell.) */
    if (!b->hs_done || (err != LG_ERR_TLS_TRUNCATED && err != LG_ERR_RESET)) {
        char detail[200];
        detail[0] = 0;
        lg__tls_lib_detail(b, err, lib_err, detail, sizeof detail);
        /* Who is at the other end ("127.0.0.1:5555") */
        char peer[64];
        lg_addr a;
        if (lg_stream_peer(b->s, &a) != LG_OK || lg_addr_format(&a, peer, sizeof peer) < 0) {
            peer[0] = '?';
            peer[1] = 0;
        }
        lg_log(lg_stream_loop(b->s), LG_LOG_INFO, "%s: TLS %s: %s%s%s%s", peer,
               b->hs_done ? "failed" : "handshake failed", lg_strerror(err),
               detail[0] ? " [" : "", detail, detail[0] ? "]" : "");
    }
#endif
    return err;
}

/* ---------------------------------------------------------------------------
 * The transport's operations
 * ------------------------------------------------------------------------ */

long lg__tls_recv(lg_stream *s, void *buf, size_t len)
{
    tls_conn_base *b = conn_of(s);
    if (b->fail) {
        b->fail_told = 1;
        return b->fail;
    }
    if (b->eof) return 0;
    b->kicked = 0;
    if (b->waiting) return LG_ERR_AGAIN; /* (want says: nothing to wait for) */
    if (!b->hs_done) {
        int rc = handshake(b);
        if (rc != LG_OK) {
            if (rc != LG_ERR_AGAIN) b->fail_told = 1;
            return rc;
        }
    }
    return lg__tls_lib_recv(b, buf, len);
}

/* One record from the first piece, or from several small ones: *out
 * points at it; returns its length (0: no bytes). */
static size_t gather(const lg_str *parts, size_t n, unsigned char *buf, size_t cap,
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
        memcpy(buf + len, parts[i].ptr, take);
        len += take;
    }
    *out = buf;
    return len;
}

long lg__tls_send(lg_stream *s, const lg_str *parts, size_t n)
{
    tls_conn_base *b = conn_of(s);
    if (b->fail) return b->fail_told ? b->fail : LG_ERR_AGAIN;
    if (!b->hs_done) {
        /* A stream that closes before its handshake is done sends nothing
         * of what it queued (it cannot read while closing: the handshake
         * would never finish). */
        if (!lg_stream_is_open(s)) return LG_ERR_CLOSED;
        if (b->waiting) return LG_ERR_AGAIN;
        /* A failure goes to the stream as the end of its input (pending
         * and want say so now): its owner learns why there. */
        if (handshake(b) != LG_OK) return LG_ERR_AGAIN;
    }
    unsigned char buf[LG_TLS_GATHER_BYTES];
    const unsigned char *p = NULL;
    size_t len = gather(parts, n, buf, sizeof buf, &p);
    return lg__tls_lib_send(b, p, len);
}

int lg__tls_handshaking(const lg_stream *s)
{
    const tls_conn_base *b = conn_of(s);
    return !b->hs_done && !b->fail;
}

/* What to wait for, given what the stream wants (events). Readiness the
 * stream would not act on is never asked for: a level-triggered loop
 * would report it for ever. */
unsigned lg__tls_want(const lg_stream *s, unsigned events)
{
    const tls_conn_base *b = conn_of(s);
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
 * The socket under the library: plain HTTP where TLS was expected
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

long lg__tls_socket_recv(tls_conn_base *b, void *buf, size_t len)
{
    long n = lg_stream_socket_recv(b->s, buf, len);
    if (n < 0 && n != LG_ERR_AGAIN) b->sock_err = (int)n;
    if (n > 0 && !b->got_bytes) {
        b->got_bytes = 1;
        if (looks_like_http(buf, (size_t)n)) {
            b->plain = 1;
            return LG_ERR_TLS_PLAINTEXT;
        }
    }
    return n;
}

/* ---------------------------------------------------------------------------
 * A client's origin
 * ------------------------------------------------------------------------ */

size_t lg__tls_host_name(const char *host, char name[256])
{
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host++;
        n -= 2;
    }
    if (n >= 256) n = 255;
    memcpy(name, host, n);
    name[n] = 0;
    return n;
}

int lg__tls_host_ip(const char *name, lg_addr *ip)
{
    char bracketed[256 + 2];
    snprintf(bracketed, sizeof bracketed, strchr(name, ':') ? "[%s]" : "%s", name);
    return lg_addr_parse(ip, bracketed, 0) == LG_OK;
}

void lg__tls_warn_insecure(lg_stream *s, const char *name, uint16_t port)
{
    (void)name; /* (LG_NO_LOG) */
    (void)port;
    lg_log(lg_stream_loop(s), LG_LOG_WARN,
           "TLS to %s:%u WITHOUT certificate verification (insecure): anybody on "
           "the path can read and change this exchange",
           name, (unsigned)port);
}
