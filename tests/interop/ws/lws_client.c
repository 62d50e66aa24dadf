/*
 * A WebSocket client on libwebsockets (Debian's libwebsockets-dev), written
 * on its public API, against linger's server: the client side of
 * tests/interop/ws/test_libwebsockets.py.
 *
 *   lws_client PORT PATH [--wait-close]
 *
 * Connects to ws://127.0.0.1:PORT/PATH and sends, one after the other,
 * each once the echo of the one before has come back and matched it: text,
 * binary, a text message in three frames, a binary one in two, a large
 * text message and a 1 MiB binary one (linger's default limit). Then,
 * by default, it closes with 4000 "lws done" and reports how long the
 * close took; with --wait-close it waits for the server to close (the
 * test stops the server: 1001) and reports the code and reason it got.
 * One line on stdout per event:
 *
 *   echo <n> ok                    message n came back as sent
 *   echo <n> MISMATCH <len>        it came back different (exit 1)
 *   peer-close <code> <reason>     the server's Close, as it came
 *   closed <ms> ms after our Close (or "closed" with --wait-close)
 *
 * Exit status 0 when every echo matched and the connection closed as asked.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <libwebsockets.h>
#include <poll.h>
#include <sys/socket.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A message to send: its frames' payloads and whether it is binary. */
typedef struct plan_msg {
    int binary;
    size_t frames[3]; /* lengths of its frames (0 past the last) */
} plan_msg;

#define BIG_TEXT (200u * 1024u)
#define BIG_BINARY (1024u * 1024u)
static const plan_msg plan[] = {
    { 0, { 14 } },                     /* "hello from lws" */
    { 1, { 256 } },                    /* every byte value */
    { 0, { 4, 3, 3 } },                /* "fragmented" in three frames */
    { 1, { 1000, 69000 } },            /* 70,000 bytes in two frames */
    { 0, { BIG_TEXT } },               /* two-byte characters, 200 KiB */
    { 1, { BIG_BINARY } },             /* 1 MiB: linger's default limit */
};
#define PLAN_LEN (sizeof plan / sizeof plan[0])

static struct {
    int wait_close, failed, done, closed_ok;
    size_t cur, frame;           /* message being sent, and its next frame */
    int awaiting;                /* its echo is due */
    unsigned char *tx;           /* LWS_PRE + the current message (lws masks it in place) */
    unsigned char *expect;       /* the message as it must come back */
    size_t tx_len;
    unsigned char *rx;           /* the echo being assembled */
    size_t rx_len, rx_cap;
    int closing;
    struct timespec close_at;
} st;

static double ms_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) * 1e3 + (double)(now.tv_nsec - t->tv_nsec) / 1e6;
}

/* Message i's bytes: deterministic, so the echo can be compared. */
static void fill(size_t i)
{
    const plan_msg *m = &plan[i];
    size_t len = m->frames[0] + m->frames[1] + m->frames[2];
    free(st.tx);
    st.tx = malloc(LWS_PRE + len);
    if (!st.tx) abort();
    unsigned char *p = st.tx + LWS_PRE;
    if (i == 0) memcpy(p, "hello from lws", 14);
    else if (i == 2) memcpy(p, "fragmented", 10);
    else if (!m->binary)
        for (size_t k = 0; k + 1 < len; k += 2) p[k] = 0xC3, p[k + 1] = (unsigned char)(0xA9 - (k / 2) % 9); /* é, à ... */
    else
        for (size_t k = 0; k < len; k++) p[k] = (unsigned char)(k * 7 + (k >> 8));
    st.tx_len = len;
    free(st.expect);
    st.expect = malloc(len + 1);
    if (!st.expect) abort();
    memcpy(st.expect, p, len);
}

static int send_next_frame(struct lws *wsi)
{
    const plan_msg *m = &plan[st.cur];
    size_t off = 0;
    for (size_t f = 0; f < st.frame; f++) off += m->frames[f];
    size_t n = m->frames[st.frame];
    int last = st.frame == 2 || m->frames[st.frame + 1] == 0;
    int kind = m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT;
    int flags = lws_write_ws_flags(kind, st.frame == 0, last);
    /* lws writes the frame header in the LWS_PRE bytes before the payload;
     * for a later frame those are the message's own: keep them */
    unsigned char save[LWS_PRE];
    memcpy(save, st.tx + off, LWS_PRE);
    int w = lws_write(wsi, st.tx + LWS_PRE + off, n, (enum lws_write_protocol)flags);
    memcpy(st.tx + off, save, LWS_PRE);
    if (w < (int)n) return -1;
    if (last) st.awaiting = 1;
    else {
        st.frame++;
        lws_callback_on_writable(wsi);
    }
    return 0;
}

static int on_receive(struct lws *wsi, const void *in, size_t len)
{
    if (st.rx_len + len > st.rx_cap) {
        st.rx_cap = (st.rx_len + len) * 2;
        st.rx = realloc(st.rx, st.rx_cap);
        if (!st.rx) abort();
    }
    memcpy(st.rx + st.rx_len, in, len);
    st.rx_len += len;
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi)) return 0;
    int same = st.awaiting && st.rx_len == st.tx_len && !memcmp(st.rx, st.expect, st.tx_len)
               && lws_frame_is_binary(wsi) == plan[st.cur].binary;
    if (same) printf("echo %zu ok\n", st.cur);
    else {
        printf("echo %zu MISMATCH %zu\n", st.cur, st.rx_len);
        st.failed = 1;
    }
    fflush(stdout);
    st.rx_len = 0;
    st.awaiting = 0;
    st.frame = 0;
    if (++st.cur < PLAN_LEN) fill(st.cur);
    else st.done = 1;
    if (!st.done || !st.wait_close) lws_callback_on_writable(wsi);
    return 0;
}

/*
 * libwebsockets 4.1 ends a close it began as soon as the socket is
 * readable, without reading what came: the server's Close and its FIN stay
 * unread and the kernel answers them with a reset. So that its reset does
 * not hide one of linger's from the test (which counts them), read here,
 * before lws closes the descriptor, what lws left: it must be the server's
 * Close, unmasked, answering ours with its code, then EOF.
 */
static int read_server_close(int fd)
{
    unsigned char buf[256];
    size_t n = 0;
    for (;;) {
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, 2000) != 1) break;
        ssize_t r = recv(fd, buf + n, sizeof buf - n, 0);
        if (r <= 0) {
            if (r == 0 && n >= 4 && buf[0] == 0x88 && buf[1] == n - 2) {
                unsigned code = (unsigned)(buf[2] << 8 | buf[3]);
                printf("server-close %u %.*s then EOF\n", code, (int)n - 4, (const char *)buf + 4);
                return code == 4000;
            }
            break;
        }
        n += (size_t)r;
        if (n == sizeof buf) break;
    }
    printf("server-close missing (%zu bytes, then no EOF)\n", n);
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        printf("connection error %s\n", in ? (const char *)in : "-");
        st.failed = 1;
        st.closing = 2;
        return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        fill(0);
        lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (st.done) {
            /* our Close, with a code and a reason; lws then waits for the
             * server's */
            lws_close_reason(wsi, (enum lws_close_status)4000, (unsigned char *)"lws done", 8);
            clock_gettime(CLOCK_MONOTONIC, &st.close_at);
            st.closing = 1;
            return -1;
        }
        if (st.awaiting) return 0;
        return send_next_frame(wsi);
    case LWS_CALLBACK_CLIENT_RECEIVE:
        return on_receive(wsi, in, len);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: {
        const unsigned char *p = in;
        unsigned code = len >= 2 ? (unsigned)(p[0] << 8 | p[1]) : 1005;
        printf("peer-close %u %.*s\n", code, len > 2 ? (int)(len - 2) : 0, len > 2 ? (const char *)p + 2 : "");
        fflush(stdout);
        if (st.wait_close && st.done) st.closed_ok = 1;
        return 0; /* lws answers it with the same payload */
    }
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (st.closing == 1) {
            printf("closed %.1f ms after our Close\n", ms_since(&st.close_at));
            st.closed_ok = read_server_close(lws_get_socket_fd(wsi));
        } else printf("closed\n");
        fflush(stdout);
        st.closing = 2;
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    { "linger-interop", callback, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 } /* the end of the list */
};

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: lws_client PORT PATH [--wait-close]\n");
        return 2;
    }
    st.wait_close = argc > 3 && !strcmp(argv[3], "--wait-close");
    lws_set_log_level(LLL_ERR, NULL);

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) return 1;

    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = ctx;
    ci.address = "127.0.0.1";
    ci.port = atoi(argv[1]);
    ci.path = argv[2];
    ci.host = "127.0.0.1";
    ci.origin = "127.0.0.1";
    ci.local_protocol_name = "linger-interop";
    if (!lws_client_connect_via_info(&ci)) {
        lws_context_destroy(ctx);
        return 1;
    }
    while (st.closing != 2 && lws_service(ctx, 0) >= 0) {
    }
    lws_context_destroy(ctx);
    free(st.tx);
    free(st.expect);
    free(st.rx);
    return !st.failed && st.done && st.closed_ok ? 0 : 1;
}
