/*
 * A second transport, to prove the seam without TLS: every byte passes
 * unchanged (so real peers — curl, aiohttp, nginx — still speak to it), but
 * it reads ahead from the socket into a buffer of its own and hands bytes
 * over a few at a time, as TLS hands over records it has decrypted: the
 * stream must ask `pending`, because the socket will not say. It sends a
 * piece of a varying size at a time, ends sending through itself (after
 * one "not yet", so the stream must ask again when writable), and
 * counts what it did, so that a test can tell it was in the way.
 *
 * Tests run under it when LINGER_TEST_TRANSPORT=trickle (ctest registers
 * the stream, server and client suites a second time so); tt_server and
 * tt_client add it to a configuration then, and leave it alone otherwise.
 */
#ifndef LG_TRICKLE_TRANSPORT_H
#define LG_TRICKLE_TRANSPORT_H

#include <stdlib.h>
#include <string.h>

#include "linger.h"

typedef struct trickle {
    lg_transport base;   /* first: the stream's transport pointer is this */
    size_t pos, len;
    unsigned seed;
    int shut_asked;
    char buf[4096];
} trickle;

/* What went through trickle transports in this process. */
static unsigned long trickle_opened, trickle_closed, trickle_short_reads, trickle_shutdowns;

static size_t trickle_next(trickle *t, size_t max)
{
    t->seed = t->seed * 1103515245u + 12345u;
    size_t n = 1 + (t->seed >> 16) % max;
    return n;
}

static long trickle_recv(lg_stream *s, void *buf, size_t len)
{
    trickle *t = (trickle *)(void *)s->transport;
    if (t->pos == t->len) {
        long n = lg_stream_socket_recv(s, t->buf, sizeof t->buf);
        if (n <= 0) return n; /* EOF, LG_ERR_AGAIN or an error, as the socket said */
        t->pos = 0;
        t->len = (size_t)n;
    }
    size_t take = trickle_next(t, 97);
    if (take > len) take = len;
    if (take > t->len - t->pos) take = t->len - t->pos;
    if (take < t->len - t->pos) trickle_short_reads++;
    memcpy(buf, t->buf + t->pos, take);
    t->pos += take;
    return (long)take;
}

static long trickle_send(lg_stream *s, const lg_str *parts, size_t n)
{
    trickle *t = (trickle *)(void *)s->transport;
    size_t i = 0;
    while (i < n && !parts[i].len) i++;
    if (i == n) return 0;
    lg_str one = parts[i];
    size_t most = trickle_next(t, 1500);
    if (one.len > most) one.len = most;
    return lg_stream_socket_send(s, &one, 1);
}

/* The first time, "not yet" (as TLS's close_notify may be when the socket
 * is full): the stream must ask again once the socket is writable. */
static int trickle_shutdown(lg_stream *s)
{
    trickle *t = (trickle *)(void *)s->transport;
    if (!t->shut_asked) {
        t->shut_asked = 1;
        return LG_ERR_AGAIN;
    }
    trickle_shutdowns++;
    return lg_stream_socket_shutdown(s);
}

static size_t trickle_pending(const lg_stream *s)
{
    const trickle *t = (const trickle *)(const void *)s->transport;
    return t->len - t->pos;
}

static void trickle_close(lg_stream *s, int abort)
{
    (void)abort;
    trickle_closed++;
    free(s->transport);
}

static const lg_transport_ops trickle_ops = {
    "trickle", trickle_recv, trickle_send, trickle_shutdown, trickle_pending, NULL, trickle_close,
    NULL,
};

static lg_transport *trickle_new(lg_stream *s, const char *scheme, void *user)
{
    (void)s;
    (void)scheme;
    (void)user;
    trickle *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->base.ops = &trickle_ops;
    t->seed = (unsigned)(trickle_opened * 2654435761u + 1);
    trickle_opened++;
    return &t->base;
}

/* The client's factory: plain http only (the test transport is no TLS). */
static int trickle_client_new(lg_stream *s, const char *scheme, const char *host, uint16_t port,
                              lg_transport **out, void *user)
{
    (void)host;
    (void)port;
    if (strcmp(scheme, "http") != 0) return LG_ERR_UNSUPPORTED;
    *out = trickle_new(s, scheme, user);
    return *out ? LG_OK : LG_ERR_NOMEM;
}

static int trickle_wanted(void)
{
    const char *v = getenv("LINGER_TEST_TRANSPORT");
    return v && strcmp(v, "trickle") == 0;
}

/* The configuration given, with the transport when the environment asks for
 * it (a NULL configuration becomes the defaults). */
static inline const lg_server_config *tt_server(lg_server_config *cfg)
{
    static lg_server_config defaults;
    if (!trickle_wanted()) return cfg;
    if (!cfg) cfg = &defaults;
    cfg->transport = trickle_new;
    return cfg;
}

static inline const lg_client_config *tt_client(lg_client_config *cfg)
{
    static lg_client_config defaults;
    if (!trickle_wanted()) return cfg;
    if (!cfg) cfg = &defaults;
    cfg->transport = trickle_client_new;
    return cfg;
}

/* On a stream a test opened itself. */
static inline void tt_stream(lg_stream *s)
{
    if (trickle_wanted()) lg_stream_set_transport(s, trickle_new(s, NULL, NULL));
}

/* A line for the test's output: proof that the transport was in the way. */
static inline void tt_report(void)
{
    if (!trickle_wanted()) return;
    printf("trickle transport: %lu opened, %lu closed, %lu short reads, %lu shutdowns\n",
           trickle_opened, trickle_closed, trickle_short_reads, trickle_shutdowns);
}

#endif
