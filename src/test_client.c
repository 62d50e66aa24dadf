/*
 * The test client: requests through a server's routes, hooks and
 * middleware with no socket. Its loop runs on a platform of memory
 * sockets (an lg_net and an lg_backend of this file, through the port
 * interface as any other platform): the server listens on one, each
 * lg_test_fetch queues a connection whose input is the request and whose
 * output collects the answer, and the loop runs until the server has
 * answered and closed it ("Connection: close" is sent, so every answer
 * ends with its connection). Time is virtual: when nothing can happen the
 * clock jumps to the next timer, so an answer a handler gives from a timer
 * comes at once, and a timeout costs nothing.
 *
 * Only programs that call lg_test_new link this file's code: a server on
 * a device pays nothing for it. LG_NO_TEST_CLIENT leaves it out. A port
 * like any other: linger.h and linger_port.h only (check_seams.sh).
 */
#include <string.h>

#include "linger_port.h"

#if !defined(LG_NO_SERVER) && !defined(LG_NO_TEST_CLIENT)

#define TEST_SOCKS 8
#define FD_BASE 100 /* descriptors: FD_BASE + slot */

typedef struct msock {
    uint8_t used, listener, queued, out_shut, closed, reset;
    const char *in;              /* the request: in_len bytes, in_pos taken */
    size_t in_len, in_pos;
    char *out;                   /* the answer as sent */
    size_t out_len, out_cap;
    lg_io *io;
} msock;

struct lg_test {
    lg_loop *loop;
    uint64_t now_ms;
    int stalled;                 /* a wait in which nothing could ever happen */
    msock socks[TEST_SOCKS];
    char *answer;                /* the last answer's bytes (res->head and body point here) */
    size_t answer_len;
};

static msock *sock_of(lg_test *t, int fd)
{
    int i = fd - FD_BASE;
    return i >= 0 && i < TEST_SOCKS && t->socks[i].used ? &t->socks[i] : NULL;
}

static int sock_new(lg_test *t)
{
    for (int i = 0; i < TEST_SOCKS; i++)
        if (!t->socks[i].used) {
            memset(&t->socks[i], 0, sizeof t->socks[i]);
            t->socks[i].used = 1;
            return FD_BASE + i;
        }
    return -1;
}

static void sock_release(msock *k)
{
    if (k->out) lg_port_free(k->out, k->out_cap);
    memset(k, 0, sizeof *k);
}

/* --- the platform --- */

static uint64_t m_now(void *ctx)
{
    return ((lg_test *)ctx)->now_ms;
}

static int m_listen(void *ctx, const lg_addr *a, unsigned flags, int backlog, int *fd, lg_addr *bound)
{
    lg_test *t = ctx;
    (void)flags;
    (void)backlog;
    int f = sock_new(t);
    if (f < 0) return LG_ERR_LIMIT;
    sock_of(t, f)->listener = 1;
    *fd = f;
    *bound = *a;
    if (!bound->port) bound->port = 80;
    return LG_OK;
}

static int m_accept(void *ctx, int lfd, int *fd, lg_addr *peer)
{
    lg_test *t = ctx;
    (void)lfd;
    (void)peer;
    for (int i = 0; i < TEST_SOCKS; i++)
        if (t->socks[i].used && t->socks[i].queued) {
            t->socks[i].queued = 0;
            *fd = FD_BASE + i;
            return LG_OK;
        }
    return LG_ERR_AGAIN;
}

static long m_recv(void *ctx, int fd, void *buf, size_t len)
{
    msock *k = sock_of(ctx, fd);
    if (!k || k->closed) return LG_ERR_CLOSED;
    size_t left = k->in_len - k->in_pos;
    if (!left) return k->out_shut ? 0 : LG_ERR_AGAIN; /* the client's EOF once answered */
    if (len > left) len = left;
    memcpy(buf, k->in + k->in_pos, len);
    k->in_pos += len;
    return (long)len;
}

static long m_send(void *ctx, int fd, const lg_str *parts, size_t n)
{
    msock *k = sock_of(ctx, fd);
    if (!k || k->closed || k->out_shut) return LG_ERR_PIPE;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += parts[i].len;
    if (k->out_len + total > k->out_cap) {
        size_t cap = k->out_cap ? k->out_cap : 4096;
        while (cap < k->out_len + total) cap *= 2;
        char *p = lg_port_realloc(k->out, k->out_cap, cap);
        if (!p) return LG_ERR_AGAIN; /* (tried again when writable) */
        k->out = p;
        k->out_cap = cap;
    }
    for (size_t i = 0; i < n; i++) {
        if (parts[i].len) memcpy(k->out + k->out_len, parts[i].ptr, parts[i].len);
        k->out_len += parts[i].len;
    }
    return (long)total;
}

static int m_shutdown_write(void *ctx, int fd)
{
    msock *k = sock_of(ctx, fd);
    if (k) k->out_shut = 1;
    return LG_OK;
}

static void m_close(void *ctx, int fd)
{
    msock *k = sock_of(ctx, fd);
    if (!k) return;
    k->closed = 1;
    k->io = NULL;
    if (k->listener) sock_release(k);
}

static void m_abort(void *ctx, int fd)
{
    msock *k = sock_of(ctx, fd);
    if (k) k->reset = 1;
    m_close(ctx, fd);
}

static int m_unsupported(void *ctx, const lg_addr *a, int *fd)
{
    (void)ctx;
    (void)a;
    (void)fd;
    return LG_ERR_UNSUPPORTED; /* no connections out: the client is not tested here */
}

static int m_connect_result(void *ctx, int fd)
{
    (void)ctx;
    (void)fd;
    return LG_ERR_UNSUPPORTED;
}

static const lg_net memory_net = {
    .name = "memory",
    .now_ms = m_now,
    .listen = m_listen,
    .accept = m_accept,
    .connect = m_unsupported,
    .connect_result = m_connect_result,
    .recv = m_recv,
    .send = m_send,
    .shutdown_write = m_shutdown_write,
    .close = m_close,
    .abort = m_abort,
};

/* --- the backend: every memory socket is ready when it has something --- */

static int mb_init(lg_loop *loop)
{
    (void)loop;
    return LG_OK;
}

static void mb_destroy(lg_loop *loop)
{
    (void)loop;
}

static int mb_update(lg_loop *loop, lg_io *io, unsigned old_events, unsigned new_events)
{
    msock *k = sock_of(lg_port_net_ctx(loop), io->fd);
    (void)old_events;
    if (!k) return LG_ERR_INVALID_ARG;
    k->io = new_events ? io : NULL;
    return LG_OK;
}

static int mb_wait(lg_loop *loop, int timeout_ms)
{
    lg_test *t = lg_port_net_ctx(loop);
    lg_io *who[TEST_SOCKS];
    unsigned ev[TEST_SOCKS];
    int n = 0;
    for (int i = 0; i < TEST_SOCKS; i++) {
        msock *k = &t->socks[i];
        if (!k->used || !k->io || k->closed) continue;
        unsigned e = 0;
        if (k->listener) {
            for (int j = 0; j < TEST_SOCKS; j++)
                if (t->socks[j].used && t->socks[j].queued) e = LG_READABLE;
        } else {
            if (k->in_pos < k->in_len || k->out_shut) e |= LG_READABLE;
            e |= LG_WRITABLE;
        }
        e &= k->io->events;
        if (e) {
            who[n] = k->io;
            ev[n++] = e;
        }
    }
    if (!n) {
        if (timeout_ms >= 0) t->now_ms += (uint64_t)timeout_ms; /* to the next timer */
        else t->stalled++;
        return 0;
    }
    for (int i = 0; i < n; i++) lg_port_io_ready(who[i], ev[i]);
    return n;
}

static const lg_backend memory_backend = { "memory", mb_init, mb_destroy, mb_update, mb_wait, NULL };

/* --- the API --- */

lg_test *lg_test_new(void)
{
    lg_test *t = lg_port_alloc(sizeof *t);
    if (!t) return NULL;
    memset(t, 0, sizeof *t);
    t->now_ms = 1000000; /* (not 0: a clock at 0 looks unset to some code) */
    lg_loop_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.backend = &memory_backend;
    cfg.net = &memory_net;
    cfg.net_ctx = t;
    t->loop = lg_loop_new(&cfg);
    if (!t->loop) {
        lg_port_free(t, sizeof *t);
        return NULL;
    }
    return t;
}

lg_loop *lg_test_loop(lg_test *t)
{
    return t->loop;
}

static void drop_answer(lg_test *t)
{
    if (t->answer) lg_port_free(t->answer, t->answer_len + 1);
    t->answer = NULL;
    t->answer_len = 0;
}

void lg_test_free(lg_test *t)
{
    if (!t) return;
    /* what the server left open closes with the loop's last runs */
    for (int i = 0; i < 1000 && lg_loop_run_once(t->loop, 0) > 0; i++) {
    }
    lg_loop_free(t->loop);
    for (int i = 0; i < TEST_SOCKS; i++)
        if (t->socks[i].used) sock_release(&t->socks[i]);
    drop_answer(t);
    lg_port_free(t, sizeof *t);
}

/* Decimal digits of v into out (20 at most); their count. */
static size_t format_dec(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    return n;
}

/* The request's bytes: request line, Host, the caller's lines, framing,
 * "Connection: close", the body. */
static char *build(const lg_test_request *req, size_t *len)
{
    const char *method = req->method ? req->method : req->body_len ? "POST" : "GET";
    const char *target = req->target ? req->target : "/";
    const char *extra = req->headers ? req->headers : "";
    size_t cap = strlen(method) + strlen(target) + strlen(extra) + req->body_len + 128;
    char *buf = lg_port_alloc(cap);
    if (!buf) return NULL;
    lg_writer w;
    lg_writer_init(&w, buf, cap);
    lg_write_bytes(&w, method, strlen(method));
    lg_write_bytes(&w, " ", 1);
    lg_write_bytes(&w, target, strlen(target));
    lg_write_bytes(&w, " HTTP/1.1\r\nHost: test\r\n", 23);
    lg_write_bytes(&w, extra, strlen(extra));
    if (req->body_len || (req->method && strcmp(req->method, "POST") == 0)) {
        char num[24];
        lg_write_bytes(&w, "Content-Length: ", 16);
        lg_write_bytes(&w, num, format_dec(num, req->body_len));
        lg_write_bytes(&w, "\r\n", 2);
    }
    lg_write_bytes(&w, "Connection: close\r\n\r\n", 21);
    if (req->body_len) lg_write_bytes(&w, req->body, req->body_len);
    if (w.err) {
        lg_port_free(buf, cap);
        return NULL;
    }
    *len = w.len;
    return buf;
}

/* The answer's head and body (a chunked one decoded in place). */
static int parse_answer(lg_test *t, int method_id, lg_test_response *res)
{
    res->head.headers = res->fields;
    res->head.max_headers = LG_TEST_MAX_HEADERS;
    int n = lg_parse_response(&res->head, t->answer, t->answer_len, 0, t->answer_len, method_id);
    if (n <= 0) return n ? n : LG_ERR_CLOSED_EARLY;
    res->status = res->head.status;
    lg_body_reader r;
    lg_body_reader_init(&r, &res->head);
    char *p = t->answer + n, *w = p;
    size_t left = t->answer_len - (size_t)n;
    for (;;) {
        size_t used;
        lg_str d;
        int ev = lg_body_read(&r, p, left, &used, &d);
        if (ev < 0) return ev;
        p += used;
        left -= used;
        if (ev == LG_BODY_DATA) {
            memmove(w, d.ptr, d.len); /* (decoded bytes never run ahead of the input) */
            w += d.len;
        } else {
            break;
        }
    }
    res->body.ptr = t->answer + n;
    res->body.len = (size_t)(w - res->body.ptr);
    *w = 0;
    return lg_body_reader_done(&r) || lg_body_reader_eof(&r) == LG_OK ? LG_OK : LG_ERR_CLOSED_EARLY;
}

int lg_test_fetch(lg_test *t, const lg_test_request *req, lg_test_response *res)
{
    memset(res, 0, sizeof *res);
    drop_answer(t);
    size_t len;
    char *bytes = build(req, &len);
    if (!bytes) return res->err = LG_ERR_NOMEM;
    int fd = sock_new(t);
    if (fd < 0) {
        lg_port_free(bytes, len);
        return res->err = LG_ERR_LIMIT;
    }
    msock *k = sock_of(t, fd);
    k->in = bytes;
    k->in_len = len;
    k->queued = 1;
    int stalled = t->stalled;
    for (int i = 0; i < 100000 && !k->closed && t->stalled == stalled; i++) lg_loop_run_once(t->loop, -1);
    int err = k->closed ? LG_OK : LG_ERR_TIMEOUT; /* (no listener, or a handler that never answers) */
    /* the answer outlives the socket: res points into it */
    t->answer = lg_port_alloc(k->out_len + 1);
    if (t->answer) {
        if (k->out_len) memcpy(t->answer, k->out, k->out_len);
        t->answer_len = k->out_len;
        t->answer[k->out_len] = 0;
    }
    if (!k->closed) {
        /* left open: let the server see the client go */
        k->in_pos = k->in_len;
        k->out_shut = 1;
    }
    int method_id = LG_METHOD_GET;
    if (req->method && strcmp(req->method, "HEAD") == 0) method_id = LG_METHOD_HEAD;
    if (k->closed) sock_release(k);
    lg_port_free(bytes, len);
    if (!t->answer) return res->err = LG_ERR_NOMEM;
    res->raw = (lg_str){ t->answer, t->answer_len };
    int perr = parse_answer(t, method_id, res);
    res->err = err ? err : perr;
    return res->err;
}

#endif
