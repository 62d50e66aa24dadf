/*
 * A WebSocket echo server on libwebsockets (Debian's libwebsockets-dev),
 * written on its public API as its own examples are: a peer for linger's
 * client in tests/interop/ws/test_libwebsockets.py and the libwebsockets
 * row of bench/ws/.
 *
 *   lws_echo_server [--fragment] [--broadcast]
 *
 * Listens on 127.0.0.1, on a port the kernel chooses, and prints
 * "listening on PORT" on stdout once it accepts. Every text or binary
 * message comes back as it came, whole (lws delivers it in pieces, which
 * are assembled here). With --fragment, a message of more than 1 KiB comes
 * back in three frames (the test of linger's client assembling them).
 * With --broadcast, a message whose first byte is 'B' goes to every open
 * connection instead of back to its sender: one copy of the message is
 * shared by all the queues (reference-counted), as lws's own broadcast
 * examples share one ring. A Close is answered with its own code and
 * reason (lws does that itself). SIGTERM or SIGINT stops it.
 */
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A message to send: LWS_PRE bytes of room for lws's frame header, then the
 * payload; shared by every queue it is on. */
typedef struct msg {
    size_t len, refs;
    int binary;
    unsigned char buf[]; /* LWS_PRE + len */
} msg;

typedef struct qitem {
    struct qitem *next;
    msg *m;
} qitem;

/* Per connection (lws allocates and zeroes it). */
typedef struct session {
    struct session *next_open; /* every open connection, for broadcasts */
    struct session **prev_open;
    struct lws *wsi;
    unsigned char *rx;         /* the message being assembled */
    size_t rx_len, rx_cap;
    qitem *head, *tail;        /* messages waiting to go out */
    size_t sent_frames;        /* of the head message, with --fragment */
} session;

static int fragment, broadcast;
static session *open_sessions;
static volatile sig_atomic_t interrupted;

static msg *msg_new(const unsigned char *data, size_t len, int binary)
{
    msg *m = malloc(sizeof *m + LWS_PRE + len);
    if (!m) return NULL;
    m->len = len;
    m->refs = 0;
    m->binary = binary;
    if (len) memcpy(m->buf + LWS_PRE, data, len);
    return m;
}

static void msg_unref(msg *m)
{
    if (--m->refs == 0) free(m);
}

static int enqueue(session *s, msg *m)
{
    qitem *q = malloc(sizeof *q);
    if (!q) return -1;
    q->next = NULL;
    q->m = m;
    m->refs++;
    if (s->tail) s->tail->next = q;
    else s->head = q;
    s->tail = q;
    lws_callback_on_writable(s->wsi);
    return 0;
}

static void dequeue(session *s)
{
    qitem *q = s->head;
    s->head = q->next;
    if (!s->head) s->tail = NULL;
    msg_unref(q->m);
    free(q);
    s->sent_frames = 0;
}

static int on_receive(session *s, const void *in, size_t len)
{
    if (s->rx_len + len > s->rx_cap) {
        size_t cap = s->rx_cap ? s->rx_cap : 4096;
        while (cap < s->rx_len + len) cap *= 2;
        unsigned char *p = realloc(s->rx, cap);
        if (!p) return -1;
        s->rx = p;
        s->rx_cap = cap;
    }
    memcpy(s->rx + s->rx_len, in, len);
    s->rx_len += len;
    if (!lws_is_final_fragment(s->wsi) || lws_remaining_packet_payload(s->wsi)) return 0;
    /* a whole message */
    msg *m = msg_new(s->rx, s->rx_len, lws_frame_is_binary(s->wsi));
    s->rx_len = 0;
    if (!m) return -1;
    m->refs = 1; /* ours, while queuing it */
    int rc = 0;
    if (broadcast && m->len && m->buf[LWS_PRE] == 'B') {
        for (session *o = open_sessions; o; o = o->next_open)
            if (enqueue(o, m)) rc = -1;
    } else {
        rc = enqueue(s, m);
    }
    msg_unref(m);
    return rc;
}

/* Send the head message (or its next frame with --fragment). */
static int on_writeable(session *s)
{
    if (!s->head) return 0;
    msg *m = s->head->m;
    int kind = m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT;
    if (fragment && m->len > 1024) {
        /* three frames: the first two a third each, the last the rest */
        size_t third = m->len / 3, off = s->sent_frames * third;
        size_t n = s->sent_frames == 2 ? m->len - off : third;
        int flags = lws_write_ws_flags(kind, s->sent_frames == 0, s->sent_frames == 2);
        /* (the bytes before a later frame's payload are the message's own,
         * and lws writes its header over them: keep them) */
        unsigned char save[LWS_PRE];
        memcpy(save, m->buf + off, LWS_PRE);
        int w = lws_write(s->wsi, m->buf + LWS_PRE + off, n, (enum lws_write_protocol)flags);
        memcpy(m->buf + off, save, LWS_PRE);
        if (w < (int)n) return -1;
        if (++s->sent_frames < 3) {
            lws_callback_on_writable(s->wsi);
            return 0;
        }
    } else if (lws_write(s->wsi, m->buf + LWS_PRE, m->len, (enum lws_write_protocol)kind) < (int)m->len) {
        return -1;
    }
    dequeue(s);
    if (s->head) lws_callback_on_writable(s->wsi);
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    session *s = user;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        s->wsi = wsi;
        s->next_open = open_sessions;
        if (open_sessions) open_sessions->prev_open = &s->next_open;
        s->prev_open = &open_sessions;
        open_sessions = s;
        return 0;
    case LWS_CALLBACK_RECEIVE:
        return on_receive(s, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_writeable(s);
    case LWS_CALLBACK_CLOSED:
        *s->prev_open = s->next_open;
        if (s->next_open) s->next_open->prev_open = s->prev_open;
        while (s->head) dequeue(s);
        free(s->rx);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    /* (rx_buffer_size: read 64 KiB at a time, as linger does, rather than 4 KiB) */
    { "echo", callback, sizeof(session), 65536, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 } /* the end of the list */
};

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--fragment")) fragment = 1;
        else if (!strcmp(argv[i], "--broadcast")) broadcast = 1;
        else {
            fprintf(stderr, "usage: lws_echo_server [--fragment] [--broadcast]\n");
            return 2;
        }
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    lws_set_log_level(LLL_ERR, NULL);

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = 0; /* the kernel chooses: other tests run at the same time */
    info.iface = "127.0.0.1";
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    info.fd_limit_per_thread = 4096; /* the fan-out benchmark's 1,000 connections and more */
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) {
        fprintf(stderr, "lws_echo_server: lws_create_context failed\n");
        return 1;
    }
    struct lws_vhost *vh = lws_get_vhost_by_name(ctx, "default");
    int port = vh ? lws_get_vhost_listen_port(vh) : -1;
    if (port <= 0) {
        fprintf(stderr, "lws_echo_server: no listening port\n");
        lws_context_destroy(ctx);
        return 1;
    }
    printf("listening on %d\n", port);
    fflush(stdout);
    while (!interrupted && lws_service(ctx, 0) >= 0) {
    }
    lws_context_destroy(ctx);
    return 0;
}
