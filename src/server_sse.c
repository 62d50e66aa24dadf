/*
 * Server-Sent Events (WHATWG HTML 9.2): an answer that does not end. Each
 * event is formatted whole and written as one piece of a streamed answer
 * (lg_res_write: one chunk), so an event is queued entirely or not at all;
 * a comment keeps the connection visibly alive; the stream learns that its
 * client has gone from the answer's on_drain (the server calls it when the
 * connection closes under a started answer), from its keep-alive tick (the
 * client's EOF), or from a write that fails.
 *
 * The server's timeouts need nothing special: a started answer is the
 * application's (no idle or body timeout runs), and the stream's send
 * timeout counts only while bytes wait. The shutdown ends every event
 * stream through srv->sse_shutdown, which the first lg_sse_start sets: a
 * server without event streams links none of this.
 */
#include <string.h>

#include "server_internal.h"
#include "http1_internal.h"

#if !defined(LG_NO_SERVER)

#define SSE_DEFAULT_KEEPALIVE 15000u
#define SSE_STACK_EVENT 512u

struct lg_sse {
    lg_res *res;
    lg_server *srv;
    lg_sse *prev, *next;
    lg_timer keepalive;
    lg_defer check;          /* the client's departure or a drain, next tick */
    uint32_t keepalive_ms;   /* 0: none */
    uint32_t last_ms;        /* the loop's wrapping clock at the last write */
    void (*on_close)(lg_sse *, void *);
    void (*on_drain)(lg_sse *, void *);
    void *user;
    uint8_t want_drain;
    uint8_t ending;          /* on_close under way: calls do nothing */
};

static uint32_t now32(const lg_sse *sse)
{
    return (uint32_t)lg_loop_now(sse->srv->loop);
}

/* The client is there and may read more. */
static int client_here(const lg_sse *sse)
{
    const lg_exchange *ex = sse->res->ex;
    const lg_conn *c = ex->conn;
    return c && !sse->res->broken && lg_stream_is_open(&c->s) &&
           lg_stream_ending(&c->s) == LG_END_NONE;
}

static void unlink_sse(lg_sse *sse)
{
    lg_server *srv = sse->srv;
    if (sse->prev) sse->prev->next = sse->next;
    else srv->sse_list = sse->next;
    if (sse->next) sse->next->prev = sse->prev;
    lg_timer_stop(&sse->keepalive);
    lg_defer_cancel(srv->loop, &sse->check);
    srv->stats.event_streams--;
}

/* End the answer (the last chunk where the connection can still take
 * it) and free the stream. */
static void end_and_free(lg_sse *sse)
{
    lg_res *res = sse->res;
    lg_exchange *ex = res->ex;
    if (ex->conn && lg_stream_ending(&ex->conn->s) != LG_END_NONE)
        ex->conn->flags |= CF_CLOSE_AFTER; /* the client has said all it will */
    lg_res_end(res);
    lg__free(sse, sizeof *sse);
}

/* The stream ends without the application asking: on_close, then the end. */
static void finish(lg_sse *sse)
{
    if (sse->ending) return;
    sse->ending = 1;
    unlink_sse(sse);
    if (sse->on_close) sse->on_close(sse, sse->user);
    end_and_free(sse);
}

static void check_now(lg_defer *d)
{
    lg_sse *sse = LG_CONTAINER_OF(d, lg_sse, check);
    if (!client_here(sse)) {
        finish(sse);
        return;
    }
    if (sse->want_drain && !lg_sse_queued(sse)) {
        sse->want_drain = 0;
        if (sse->on_drain) sse->on_drain(sse, sse->user);
    }
}

/* The answer's on_drain: the queue emptied, or the connection closed. */
static void res_drained(lg_res *res, void *user)
{
    LG_UNUSED(res);
    check_now(&((lg_sse *)user)->check);
}

static int write_piece(lg_sse *sse, const char *p, size_t n)
{
    int rc = lg_res_write(sse->res, p, n);
    if (rc == LG_OK) {
        sse->last_ms = now32(sse);
        return LG_OK;
    }
    /* Full: on_drain says when to go on (and a queue that empties without
     * the network's help, the server's cork in a handler, is seen next
     * tick). Anything else: the client cannot be written to any more. */
    if (rc == LG_ERR_LIMIT) sse->want_drain = 1;
    lg_defer_call(sse->srv->loop, &sse->check, check_now);
    return rc == LG_ERR_LIMIT ? LG_ERR_AGAIN : rc == LG_ERR_NOMEM ? rc : LG_ERR_CLOSED;
}

static void keepalive_tick(lg_timer *t)
{
    lg_sse *sse = LG_CONTAINER_OF(t, lg_sse, keepalive);
    if (!client_here(sse)) {
        finish(sse);
        return;
    }
    uint32_t quiet = now32(sse) - sse->last_ms;
    if (quiet >= sse->keepalive_ms) {
        /* (A client still behind needs no reminder: the send timeout
         * watches it.) */
        if (!lg_sse_queued(sse)) {
            static const char ping[] = ": keep-alive\n\n";
            if (write_piece(sse, ping, sizeof ping - 1) == LG_ERR_CLOSED) return;
        }
        quiet = 0;
    }
    lg_timer_start(t, sse->keepalive_ms - quiet);
}

static void shutdown_all(lg_server *srv)
{
    for (lg_sse *sse = srv->sse_list, *next; sse; sse = next) {
        next = sse->next;
        if (sse->res->ex->conn) sse->res->ex->conn->flags |= CF_CLOSE_AFTER;
        finish(sse);
    }
}

lg_sse *lg_sse_start(lg_req *req, lg_res *res, const lg_sse_config *cfg)
{
    lg_exchange *ex = res->ex;
    if (res->state != RES_NONE) return NULL;
    lg_res_header(res, "Content-Type", "text/event-stream");
    lg_res_header(res, "Cache-Control", "no-store");
    lg_res_header(res, "X-Accel-Buffering", "no");
    if (lg_req_method_id(req) == LG_METHOD_HEAD) {
        if (lg_res_start(res, 200) == LG_OK) lg_res_end(res);
        return NULL;
    }
    lg_sse *sse = ex->conn ? lg__alloc(sizeof *sse) : NULL;
    if (!sse) {
        lg_res_error(res, 503, LG_MSG("out of memory"));
        return NULL;
    }
    if (lg_res_start(res, 200) != LG_OK) {
        lg__free(sse, sizeof *sse);
        return NULL;
    }
    memset(sse, 0, sizeof *sse);
    lg_server *srv = ex->srv;
    sse->res = res;
    sse->srv = srv;
    sse->keepalive_ms = cfg && cfg->keepalive_ms ? cfg->keepalive_ms : SSE_DEFAULT_KEEPALIVE;
    if (sse->keepalive_ms == UINT32_MAX) sse->keepalive_ms = 0;
    if (cfg) {
        sse->on_close = cfg->on_close;
        sse->on_drain = cfg->on_drain;
        sse->user = cfg->user;
    }
    sse->last_ms = now32(sse);
    sse->next = srv->sse_list;
    if (srv->sse_list) srv->sse_list->prev = sse;
    srv->sse_list = sse;
    srv->sse_shutdown = shutdown_all;
    srv->stats.event_streams++;
    lg_res_on_drain(res, res_drained, sse);
    lg_timer_init(srv->loop, &sse->keepalive, keepalive_tick);
    if (sse->keepalive_ms) lg_timer_start(&sse->keepalive, sse->keepalive_ms);
    if (cfg && cfg->retry_ms) lg_sse_send(sse, NULL, NULL, NULL, cfg->retry_ms);
    return sse;
}

/* The length of "name: value\n" for a field that is there. */
static size_t field_len(const char *name, const char *value)
{
    return value ? strlen(name) + 2 + strlen(value) + 1 : 0;
}

static char *put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

static char *put_field(char *p, const char *name, const char *value)
{
    p = put(p, name, strlen(name));
    p = put(p, ": ", 2);
    p = put(p, value, strlen(value));
    *p++ = '\n';
    return p;
}

/* The next line of data and where the one after starts (after LF, CRLF
 * or CR), or NULL at the end. */
static const char *next_line(const char *p, size_t *len)
{
    size_t n = strcspn(p, "\r\n");
    *len = n;
    if (!p[n]) return NULL;
    return p + n + (p[n] == '\r' && p[n + 1] == '\n' ? 2 : 1);
}

int lg_sse_send(lg_sse *sse, const char *event, const char *id, const char *data, uint32_t retry_ms)
{
    if (sse->ending) return LG_ERR_CLOSED;
    if ((event && strpbrk(event, "\r\n")) || (id && strpbrk(id, "\r\n")))
        return LG_ERR_INVALID_ARG;
    if (!client_here(sse)) {
        lg_defer_call(sse->srv->loop, &sse->check, check_now);
        return LG_ERR_CLOSED;
    }
    char retry[24] = { 0 };
    if (retry_ms) retry[lg__format_dec(retry, retry_ms)] = 0;
    size_t n = field_len("event", event) + field_len("id", id) +
               field_len("retry", retry_ms ? retry : NULL) + 1;
    for (const char *line = data; line;) {
        size_t len;
        const char *next = next_line(line, &len);
        n += 6 + len + 1;
        line = next;
    }
    char stack[SSE_STACK_EVENT];
    char *buf = n <= sizeof stack ? stack : lg__alloc(n);
    if (!buf) return LG_ERR_NOMEM;
    char *p = buf;
    if (event) p = put_field(p, "event", event);
    if (id) p = put_field(p, "id", id);
    if (retry_ms) p = put_field(p, "retry", retry);
    for (const char *line = data; line;) {
        size_t len;
        const char *next = next_line(line, &len);
        p = put(p, "data: ", 6);
        p = put(p, line, len);
        *p++ = '\n';
        line = next;
    }
    *p++ = '\n';
    int rc = write_piece(sse, buf, (size_t)(p - buf));
    if (buf != stack) lg__free(buf, n);
    if (rc == LG_OK && (data || event || id)) sse->srv->stats.events++;
    return rc;
}

int lg_sse_comment(lg_sse *sse, const char *text)
{
    if (sse->ending) return LG_ERR_CLOSED;
    if (!text) text = "";
    if (strpbrk(text, "\r\n")) return LG_ERR_INVALID_ARG;
    if (!client_here(sse)) {
        lg_defer_call(sse->srv->loop, &sse->check, check_now);
        return LG_ERR_CLOSED;
    }
    size_t n = strlen(text);
    if (n > SSE_STACK_EVENT - 4) return LG_ERR_INVALID_ARG;
    char line[SSE_STACK_EVENT];
    char *p = put(line, ": ", 2);
    p = put(p, text, n);
    *p++ = '\n';
    return write_piece(sse, line, (size_t)(p - line));
}

void lg_sse_close(lg_sse *sse)
{
    if (sse->ending) return; /* (from on_close: it ends anyway) */
    sse->ending = 1;
    unlink_sse(sse);
    end_and_free(sse);
}

lg_req *lg_sse_req(lg_sse *sse)
{
    return &sse->res->ex->req;
}

void *lg_sse_user(const lg_sse *sse)
{
    return sse->user;
}

uint64_t lg_sse_queued(const lg_sse *sse)
{
    const lg_conn *c = sse->res->ex->conn;
    return c ? lg_stream_queued(&c->s) : 0;
}

#endif /* !LG_NO_SERVER */
