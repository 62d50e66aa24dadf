/*
 * The client's API and the life of a call: start, attempts (the first, a
 * redirect's, the one retry), and exactly one delivery.
 *
 * A call ends in one of two places: lg__call_complete (the response is
 * complete by its framing, or a close-delimited body met EOF) or
 * lg__call_fail (anything else, with the error and the stage it reached).
 * Both end in lg__call_deliver, the only place the user's callback runs.
 */
#include <string.h>

#include "client_internal.h"
#include "http1_internal.h"

#if !defined(LG_NO_CLIENT)

static const lg_client_config defaults = {
    .max_conns_per_origin = 6,
    .idle_timeout_ms = 15000,
    .connect_timeout_ms = 10000,
    .read_timeout_ms = 30000,
    .timeout_ms = 0,
    .expect_timeout_ms = 1000,
    .close_timeout_ms = 2000,
    .close_max_bytes = 4u << 20, /* as large as the largest body taken by default */
    .recv_buffer_bytes = 16384,
    .max_head_bytes = LG_DEFAULT_MAX_HEAD,
    .max_headers = 64,
    .max_redirects = 10,
    .max_body_bytes = 4u << 20,
    .upload_chunk_bytes = 16384,
};

#define DEFAULT(field) \
    if (!cfg->field) cfg->field = defaults.field

lg_client *lg_client_new(lg_loop *loop, const lg_client_config *config)
{
    lg_client *cli = lg__alloc(sizeof *cli);
    if (!cli) return NULL;
    memset(cli, 0, sizeof *cli);
    cli->loop = loop;
    if (config) cli->cfg = *config;
    lg_client_config *cfg = &cli->cfg;
    DEFAULT(max_conns_per_origin);
    DEFAULT(idle_timeout_ms);
    DEFAULT(connect_timeout_ms);
    DEFAULT(read_timeout_ms);
    DEFAULT(expect_timeout_ms);
    DEFAULT(close_timeout_ms);
    DEFAULT(close_max_bytes);
    DEFAULT(recv_buffer_bytes);
    DEFAULT(max_head_bytes);
    DEFAULT(max_headers);
    DEFAULT(max_redirects);
    DEFAULT(max_body_bytes);
    DEFAULT(upload_chunk_bytes);
    /* A head must fit the buffer it is parsed in, or it could never
     * complete: the stream stops reading when its buffer is full. */
    if (cfg->recv_buffer_bytes < cfg->max_head_bytes) cfg->recv_buffer_bytes = cfg->max_head_bytes;
    if (cfg->recv_buffer_bytes < 1024) cfg->recv_buffer_bytes = 1024;
    cli->stream_cfg.recv_buffer_bytes = cfg->recv_buffer_bytes;
    cli->stream_cfg.linger_timeout_ms = cfg->close_timeout_ms;
    cli->stream_cfg.linger_max_bytes = cfg->close_max_bytes;
    /* An upload the server takes nothing of for as long as the client
     * would wait for its silence fails its writes (and the answer may
     * still come: LG_RES_SEND_FAILED). */
    cli->stream_cfg.send_timeout_ms = cfg->read_timeout_ms;
    return cli;
}

const lg_client_stats *lg_client_get_stats(const lg_client *cli)
{
    return &cli->stats;
}

void lg__client_maybe_free(lg_client *cli)
{
    if (!cli->freeing || cli->depth || cli->conns || cli->calls) return;
    while (cli->origins) {
        origin *o = cli->origins;
        cli->origins = o->next;
        lg_defer_cancel(cli->loop, &o->kick);
        lg__free(o, sizeof *o + o->host_len + 1u);
    }
    lg__free(cli, sizeof *cli);
}

void lg_client_free(lg_client *cli)
{
    if (!cli || cli->freeing) return;
    CLIENT_ENTER(cli);
    cli->freeing = 1;
    /* Each cancel runs a callback, which may cancel or start others: look
     * for the next live call from the start every time. */
    for (;;) {
        lg_call *c = cli->calls;
        while (c && (c->flags & (CF_FINISHED | CF_IN_USER))) c = c->next;
        if (!c) break;
        lg__call_fail(c, LG_ERR_CANCELLED);
    }
    for (lg_call *c = cli->calls; c; c = c->next)
        if ((c->flags & CF_IN_USER) && !(c->flags & CF_FINISHED)) c->flags |= CF_CANCEL_ASKED;
    lg__pool_close_idle(cli);
    lg__upgrade_close_taken(cli);
    CLIENT_LEAVE(cli);
}

/* ---------------------------------------------------------------------------
 * Responses
 * ------------------------------------------------------------------------ */

static void rebase(lg_str *s, const char *from, const char *to)
{
    if (s->ptr) s->ptr = to + (s->ptr - from);
}

lg_response *lg__response_new(lg_call *call, const lg_head *head, const char *raw, size_t n)
{
    size_t nh = head ? head->num_headers : 0;
    size_t size = sizeof(response_block) + nh * sizeof(lg_header) + call->url_len + 1 + n + 1;
    response_block *b = lg__alloc(size);
    if (!b) return NULL;
    memset(b, 0, sizeof *b);
    b->size = size;
    char *url = (char *)(b->storage + nh);
    memcpy(url, call->url, call->url_len);
    url[call->url_len] = 0;
    char *copy = url + call->url_len + 1;
    lg_response *res = &b->res;
    res->url = url;
    res->body.ptr = "";
    res->user = call->user;
    res->call = call;
    if (head) {
        memcpy(copy, raw, n);
        copy[n] = 0;
        res->head = *head;
        res->head.headers = b->storage;
        res->head.max_headers = (uint16_t)nh;
        for (size_t i = 0; i < nh; i++) {
            b->storage[i] = head->headers[i];
            rebase(&b->storage[i].name, raw, copy);
            rebase(&b->storage[i].value, raw, copy);
        }
        rebase(&res->head.reason, raw, copy);
        res->reason = res->head.reason;
        res->status = head->status;
        res->version_minor = head->version_minor;
        res->framing = head->framing;
        if (head->framing == LG_FRAMING_LENGTH) res->content_length = head->content_length;
    }
    return res;
}

int lg__response_body_append(lg_call *call, lg_str data)
{
    response_block *b = (response_block *)call->res;
    lg_response *res = &b->res;
    uint64_t len = res->body.len + data.len;
    if (len > call->max_body) return LG_ERR_TOO_LARGE;
    if (len + 1 > b->body_cap) {
        size_t cap = b->body_cap ? b->body_cap * 2 : 1024;
        /* a length known in advance is allocated once */
        if (!b->body_cap && res->framing == LG_FRAMING_LENGTH) cap = (size_t)res->content_length + 1;
        if (cap < len + 1) cap = (size_t)len + 1;
        if (cap > call->max_body + 1) cap = (size_t)call->max_body + 1;
        char *p = lg__realloc(b->body_buf, b->body_cap, cap);
        if (!p) return LG_ERR_NOMEM;
        b->body_buf = p;
        b->body_cap = cap;
    }
    memcpy(b->body_buf + res->body.len, data.ptr, data.len);
    b->body_buf[len] = 0;
    res->body.ptr = b->body_buf;
    res->body.len = (size_t)len;
    return LG_OK;
}

/* Trailers are slices of the receive buffer until they are copied here. */
int lg__response_keep_trailers(lg_call *call)
{
    response_block *b = (response_block *)call->res;
    size_t nt = call->trailers.num_headers;
    if (!nt || !b) return LG_OK;
    size_t bytes = 0;
    for (size_t i = 0; i < nt; i++) bytes += call->tv[i].name.len + call->tv[i].value.len;
    size_t size = nt * sizeof(lg_header) + bytes + 1;
    lg_header *hv = lg__alloc(size);
    if (!hv) return LG_ERR_NOMEM;
    char *p = (char *)(hv + nt);
    for (size_t i = 0; i < nt; i++) {
        const lg_header *t = &call->tv[i];
        memcpy(p, t->name.ptr, t->name.len);
        hv[i].name.ptr = p;
        hv[i].name.len = t->name.len;
        p += t->name.len;
        memcpy(p, t->value.ptr, t->value.len);
        hv[i].value.ptr = p;
        hv[i].value.len = t->value.len;
        p += t->value.len;
    }
    b->trailer_store = hv;
    b->trailer_size = size;
    b->res.trailers.headers = hv;
    b->res.trailers.num_headers = (uint16_t)nt;
    b->res.trailers.max_headers = (uint16_t)nt;
    return LG_OK;
}

/* The answer of a call when there is no memory even for its response. It
 * is shared by every client on every loop and thread, and may be kept past
 * the callback (lg_fetch_sync does), so nothing ever writes it: it is
 * const, delivered as it is, and keep and free leave it alone. It cannot
 * say whose it is or how far the call got. */
static const response_block out_of_memory = {
    .res = { .err = LG_ERR_NOMEM, .stage = LG_STAGE_START, .body = { "", 0 }, .url = "" },
};

void lg_response_keep(lg_response *res)
{
    if (res != &out_of_memory.res) ((response_block *)res)->kept = 1;
}

static void response_release(lg_response *res)
{
    response_block *b = (response_block *)res;
    lg__free(b->body_buf, b->body_cap);
    lg__free(b->trailer_store, b->trailer_size);
    lg__free(b, b->size);
}

void lg_response_free(lg_response *res)
{
    if (res && res != &out_of_memory.res) response_release(res);
}

/* ---------------------------------------------------------------------------
 * Calls
 * ------------------------------------------------------------------------ */

static int method_id(const char *m)
{
    static const char *const names[] = { "GET", "HEAD", "POST", "PUT", "DELETE",
                                         "CONNECT", "OPTIONS", "TRACE", "PATCH" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(m, names[i]) == 0) return (int)i + LG_METHOD_GET;
    return LG_METHOD_OTHER;
}

/* A method is a token (RFC 9110 9.1, 5.6.2). */
static int valid_method(const char *m)
{
    if (!*m) return 0;
    for (; *m; m++) {
        unsigned char c = (unsigned char)*m;
        int ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c && strchr("!#$%&'*+-.^_`|~", c));
        if (!ok) return 0;
    }
    return 1;
}

static void stop_timers(lg_call *call)
{
    lg_timer_stop(&call->deadline);
    lg_timer_stop(&call->read_timer);
    lg_timer_stop(&call->expect_timer);
}

/* A credential's copy, wiped before it goes back. */
static void free_secret(char *s)
{
    if (!s) return;
    size_t n = strlen(s);
    memset(s, 0, n);
    lg__free(s, n + 1);
}

static void call_free(lg_call *call)
{
    lg_client *cli = call->cli;
    lg_defer_cancel(cli->loop, &call->later);
    lg__free(call->url, call->url_len + 1);
    if (call->auth) lg__free(call->auth, strlen(call->auth) + 1);
    if (call->auth_host) lg__free(call->auth_host, strlen(call->auth_host) + 1);
    free_secret(call->cred_user);
    free_secret(call->cred_pass);
    if (call->upbuf) lg__free(call->upbuf, cli->cfg.upload_chunk_bytes + 32);
    lg__free(call, call->alloc_size);
}

static void deferred_deliver(lg_defer *d)
{
    lg_call *call = LG_CONTAINER_OF(d, lg_call, later);
    lg_client *cli = call->cli;
    CLIENT_ENTER(cli);
    lg__call_deliver(call);
    CLIENT_LEAVE(cli);
}

/* What the response says about the call that made it. */
static void describe_call(lg_response *res, lg_call *call)
{
    res->err = call->err;
    res->call = call;
    res->stage = call->stage;
    res->ending = call->ending;
    res->redirects = call->redirects;
    res->sent_bytes = call->sent;
    if (call->flags & CF_REUSED) res->flags |= LG_RES_REUSED;
    if (call->flags & CF_RETRIED) res->flags |= LG_RES_RETRIED;
    if (call->flags & CF_EARLY) res->flags |= LG_RES_EARLY;
    if (call->flags & CF_SEND_FAILED) res->flags |= LG_RES_SEND_FAILED;
}

void lg__call_deliver(lg_call *call)
{
    lg_client *cli = call->cli;
    call->flags |= CF_FINISHED;
    if (call->flags & CF_FILE_BUSY) {
        /* The stream still holds a slice of the caller's file: wait until
         * it lets go (sent, failed, or dropped by the close). */
        call->flags |= CF_DELIVER_WAIT;
        return;
    }
    if (call->flags & CF_IN_FETCH) {
        /* Never inside lg_fetch: callers may rely on that. */
        lg_defer_call(cli->loop, &call->later, deferred_deliver);
        return;
    }
    stop_timers(call);
    lg__origin_unqueue(call);
    if (call->prev) call->prev->next = call->next;
    else cli->calls = call->next;
    if (call->next) call->next->prev = call->prev;

    lg_response *res = call->res;
    if (!res) res = lg__response_new(call, NULL, NULL, 0);
    if (res) {
        describe_call(res, call);
    } else {
        /* Read-only (see out_of_memory): the callback only reads it. */
        res = (lg_response *)&out_of_memory.res;
    }

    call->flags |= CF_IN_USER;
    cli->depth++;
    call->cb(res, call->user);
    cli->depth--;
    if (call->upgraded) lg__upgrade_untaken(call);
    if (res != &out_of_memory.res) {
        res->call = NULL;
        if (!((response_block *)res)->kept) response_release(res);
    }
    call_free(call);
}

void lg__call_fail(lg_call *call, int err)
{
    if (call->flags & CF_FINISHED) return;
    call->err = err;
    call->flags |= CF_FINISHED;
    stop_timers(call);
    client_conn *c = call->conn;
    if (c) {
        call->conn = NULL;
        c->call = NULL;
        /* Giving up on a server (a timeout, garbage, a limit) still closes
         * gracefully: FIN, then what it still sends is read and dropped
         * within close_timeout_ms and close_max_bytes, so that it never
         * meets a reset from us. Only lg_call_cancel resets (lg_client_free
         * cancels gracefully). */
        if (c->stream_open) call->ending = (uint8_t)lg_stream_ending(&c->s);
        lg__cconn_close(c, (call->flags & CF_RESET) && call->ending == LG_END_NONE);
    }
    lg__origin_unqueue(call);
    lg__call_deliver(call);
}

void lg__user_enter(lg_call *call)
{
    call->flags |= CF_IN_USER;
    call->cli->depth++;
}

int lg__user_leave(lg_call *call)
{
    call->flags &= ~CF_IN_USER;
    call->cli->depth--;
    if (call->flags & CF_CANCEL_ASKED) {
        lg__call_fail(call, LG_ERR_CANCELLED);
        return 0;
    }
    return 1;
}

void lg_call_cancel(lg_call *call)
{
    if (!call || (call->flags & CF_FINISHED)) return;
    call->flags |= CF_RESET;
    if (call->flags & CF_IN_USER) {
        call->flags |= CF_CANCEL_ASKED;
        return;
    }
    lg_client *cli = call->cli;
    CLIENT_ENTER(cli);
    lg__call_fail(call, LG_ERR_CANCELLED);
    CLIENT_LEAVE(cli);
}

static void deferred_resume(lg_defer *d)
{
    lg_call *call = LG_CONTAINER_OF(d, lg_call, later);
    lg_client *cli = call->cli;
    CLIENT_ENTER(cli);
    if (!(call->flags & CF_FINISHED) && call->conn) {
        if (call->flags & CF_PRODUCER_WAIT) {
            call->flags &= ~CF_PRODUCER_WAIT;
            lg__send_pump(call);
        }
    }
    CLIENT_LEAVE(cli);
}

int lg_call_resume(lg_call *call)
{
    if (!call || (call->flags & CF_FINISHED) || !call->conn) return LG_ERR_CLOSED;
    if (call->flags & CF_PAUSED) {
        call->flags &= ~CF_PAUSED;
        lg__read_timer_arm(call);
        /* The paused bytes are still buffered: the stream hands them over
         * again on the next tick. */
        int rc = lg_stream_read_start(&call->conn->s);
        if (rc) return rc;
    }
    if (call->flags & CF_PRODUCER_WAIT)
        lg_defer_call(call->cli->loop, &call->later, deferred_resume);
    return LG_OK;
}

/* The whole-request deadline and the read timeout end a call the same way:
 * in the middle of its connection's TLS handshake, as the handshake's own
 * timeout would (a server that never answers a ClientHello is told from
 * one that never answers a request). */
static void timed_out(lg_call *call)
{
    lg_client *cli = call->cli;
    CLIENT_ENTER(cli);
    client_conn *c = call->conn;
    int in_handshake = c && c->stream_open && lg_stream_handshaking(&c->s);
    lg__call_fail(call, in_handshake ? LG_ERR_TLS_TIMEOUT : LG_ERR_TIMEOUT);
    CLIENT_LEAVE(cli);
}

static void on_deadline(lg_timer *t)
{
    timed_out(LG_CONTAINER_OF(t, lg_call, deadline));
}

static void on_read_timeout(lg_timer *t)
{
    timed_out(LG_CONTAINER_OF(t, lg_call, read_timer));
}

static void on_expect_timeout(lg_timer *t)
{
    lg_call *call = LG_CONTAINER_OF(t, lg_call, expect_timer);
    lg_client *cli = call->cli;
    CLIENT_ENTER(cli);
    /* RFC 9110 10.1.1: a client need not wait for 100 indefinitely. */
    lg__send_continue(call);
    CLIENT_LEAVE(cli);
}

static int is_idempotent(const lg_call *call)
{
    /* RFC 9110 9.2.2 */
    switch (call->method_id) {
    case LG_METHOD_GET:
    case LG_METHOD_HEAD:
    case LG_METHOD_PUT:
    case LG_METHOD_DELETE:
    case LG_METHOD_OPTIONS:
    case LG_METHOD_TRACE:
        return 1;
    default:
        return 0;
    }
}

/* A kept-alive connection the server closed just as we reused it: the
 * request never reached the server's application (no byte of an answer
 * came), so it may go once more on a fresh connection (RFC 9112 9.3.1),
 * when repeating it is harmless and its body can be sent again. */
int lg__call_can_retry(const lg_call *call)
{
    return !(call->flags & (CF_RETRIED | CF_GOT_BYTES)) && (call->flags & CF_REUSED) &&
           is_idempotent(call) && call->body_kind != BODY_PRODUCER;
}

/* Back to the start of an attempt: nothing of the last one's exchange. */
static void attempt_reset(lg_call *call)
{
    /* the whole-request deadline keeps counting */
    lg_timer_stop(&call->read_timer);
    lg_timer_stop(&call->expect_timer);
    if (call->res) {
        response_release(call->res);
        call->res = NULL;
    }
    call->flags &= ~(uint32_t)(CF_EARLY | CF_DISCARD | CF_AUTH_RETRY | CF_PAUSED | CF_PRODUCER_WAIT |
                               CF_SENT_EXPECT | CF_GOT_BYTES | CF_SEND_FAILED | CF_REUSED);
    call->sent = 0;
    call->upload = UP_NONE;
    call->ending = LG_END_NONE;
    call->prev_len = 0;
    call->paused_len = 0;
    call->body_cap = 0;
    call->phase = PH_START;
    call->stage = LG_STAGE_START;
}

void lg__call_retry(lg_call *call)
{
    lg_client *cli = call->cli;
    client_conn *c = call->conn;
    call->conn = NULL;
    c->call = NULL;
    lg__cconn_close(c, 0);
    attempt_reset(call);
    call->flags |= CF_RETRIED | CF_FRESH;
    cli->stats.retries++;
    lg__call_attempt(call);
}

static int slices_ieq(lg_str a, lg_str b)
{
    return a.len == b.len && lg__ieq(a.ptr, b.ptr, a.len);
}

static char *dup_str(const char *p, size_t n)
{
    char *d = lg__alloc(n + 1);
    if (!d) return NULL;
    memcpy(d, p, n);
    d[n] = 0;
    return d;
}

static char *dup_secret(const char *p, size_t n)
{
    return dup_str(p, n);
}

/* "Basic base64(user:pass)" (RFC 7617 2) as the call's Authorization. */
int lg__call_basic_auth(lg_call *call)
{
    size_t ul = strlen(call->cred_user), pl = strlen(call->cred_pass), n = ul + 1 + pl;
    int elen = lg_base64_encode(NULL, n, NULL, 0);
    char *plain = lg__alloc(n + 1), *enc = lg__alloc((size_t)elen + 7);
    if (!plain || !enc) {
        if (plain) lg__free(plain, n + 1);
        if (enc) lg__free(enc, (size_t)elen + 7);
        return LG_ERR_NOMEM;
    }
    memcpy(plain, call->cred_user, ul);
    plain[ul] = ':';
    memcpy(plain + ul + 1, call->cred_pass, pl);
    memcpy(enc, "Basic ", 6);
    lg_base64_encode(plain, n, enc + 6, (size_t)elen + 1);
    memset(plain, 0, n);
    lg__free(plain, n + 1);
    if (call->auth) lg__free(call->auth, strlen(call->auth) + 1);
    call->auth = enc;
    return LG_OK;
}

/* The origin credentials may go to: this URL's. */
static int set_auth_origin(lg_call *call)
{
    if (call->auth_host) lg__free(call->auth_host, strlen(call->auth_host) + 1);
    call->auth_host = dup_str(call->u.host.ptr, call->u.host.len);
    call->auth_port = call->u.port;
    return call->auth_host ? LG_OK : LG_ERR_NOMEM;
}

/* Credentials from the URL's userinfo (RFC 3986 3.2.1): user ":"
 * password, percent-decoded; sent at once as Basic (what a URL with them
 * has always meant to linger), and kept to answer a Digest challenge. */
static int set_auth(lg_call *call)
{
    char plain[256];
    int n = lg_url_decode_to(call->u.userinfo, plain, sizeof plain - 1, 0);
    if (n < 0) return n == LG_ERR_BUFFER_TOO_SMALL ? LG_ERR_URL : n;
    const char *colon = memchr(plain, ':', (size_t)n);
    size_t ul = colon ? (size_t)(colon - plain) : (size_t)n;
    free_secret(call->cred_user);
    free_secret(call->cred_pass);
    call->cred_user = dup_secret(plain, ul);
    call->cred_pass = colon ? dup_secret(colon + 1, (size_t)n - ul - 1) : dup_secret("", 0);
    memset(plain, 0, sizeof plain);
    if (!call->cred_user || !call->cred_pass) return LG_ERR_NOMEM;
    int rc = lg__call_basic_auth(call);
    return rc ? rc : set_auth_origin(call);
}

void lg__call_attempt(lg_call *call)
{
    lg_client *cli = call->cli;
    call->phase = PH_START;
    call->stage = LG_STAGE_START;
    if (cli->freeing) {
        lg__call_fail(call, LG_ERR_CANCELLED);
        return;
    }
    if (lg_url_parse(&call->u, call->url, call->url_len) != LG_OK ||
        !(call->u.flags & LG_URL_AUTHORITY)) {
        lg__call_fail(call, LG_ERR_URL);
        return;
    }
    if (!lg__str_ieq(call->u.scheme, "http") &&
        !(lg__str_ieq(call->u.scheme, "https") && cli->cfg.transport)) {
        /* https needs TLS: a transport factory (lg_tls_client_transport) */
        lg__call_fail(call, lg__str_ieq(call->u.scheme, "https") ? LG_ERR_UNSUPPORTED : LG_ERR_URL);
        return;
    }
    if (call->flags & CF_URL_NEW) {
        int rc = LG_OK;
        if (call->u.userinfo.ptr && call->u.userinfo.len) rc = set_auth(call);
        /* lg_request's credentials and token: for the first URL's origin */
        else if ((call->cred_user || call->auth) && !call->auth_host) rc = set_auth_origin(call);
        if (rc) {
            lg__call_fail(call, rc);
            return;
        }
        call->flags &= ~(uint32_t)CF_URL_NEW;
    }
    int rc = lg__origin_dispatch(call);
    if (rc) lg__call_fail(call, rc);
}

/* Fields that describe request content (RFC 9110 15.4: dropped with the
 * content when a redirect turns the request into a GET), and credentials,
 * which never go to another origin. */
static void drop_headers(lg_call *call, const char *const *names, size_t count)
{
    size_t w = 0;
    for (size_t i = 0; i < call->num_headers; i++) {
        int drop = 0;
        for (size_t k = 0; k < count && !drop; k++)
            drop = lg__str_ieq(call->headers[i].name, names[k]);
        if (!drop) call->headers[w++] = call->headers[i];
    }
    call->num_headers = w;
}

static int same_origin(const lg_url *a, const lg_url *b)
{
    return slices_ieq(a->scheme, b->scheme) && slices_ieq(a->host, b->host) && a->port == b->port;
}

/* RFC 9110 15.4: follow a 301, 302, 303, 307 or 308. */
static void follow_redirect(lg_call *call)
{
    lg_client *cli = call->cli;
    lg_response *res = call->res;
    if (call->redirects >= call->max_redirects) {
        lg__call_fail(call, LG_ERR_REDIRECTS);
        return;
    }
    lg_str loc = lg_head_get(&res->head, "Location");
    size_t cap = call->url_len + loc.len + 8;
    char *url = lg__alloc(cap);
    if (!url) {
        lg__call_fail(call, LG_ERR_NOMEM);
        return;
    }
    int n = lg_url_resolve(&call->u, loc, url, cap);
    lg_url next;
    if (n < 0 || lg_url_parse(&next, url, (size_t)n) != LG_OK) {
        lg__free(url, cap);
        lg__call_fail(call, LG_ERR_URL);
        return;
    }
    unsigned status = res->status;
    /* 303 always, and 301/302 after POST (what every user agent does, RFC
     * 9110 15.4.2 note), become a GET without content. */
    if ((status == 303 && call->method_id != LG_METHOD_HEAD) ||
        ((status == 301 || status == 302) && call->method_id == LG_METHOD_POST)) {
        static const char *const content[] = { "Content-Type", "Content-Encoding",
                                               "Content-Language", "Content-Location",
                                               "Digest", "Expect" };
        call->method = "GET";
        call->method_id = LG_METHOD_GET;
        call->body_kind = BODY_NONE;
        call->body_len = 0;
        drop_headers(call, content, sizeof content / sizeof content[0]);
    }
    if (!same_origin(&call->u, &next)) {
        static const char *const creds[] = { "Authorization", "Proxy-Authorization", "Cookie" };
        drop_headers(call, creds, sizeof creds / sizeof creds[0]);
    }
    /* The new URL's own userinfo (if any) replaces the old credentials;
     * otherwise they stay with their origin (see send). A Digest answer
     * was for the old URI: the new one's 401 is answered afresh. */
    if (call->auth && strncmp(call->auth, "Digest ", 7) == 0) {
        lg__free(call->auth, strlen(call->auth) + 1);
        call->auth = NULL;
    }
    call->flags &= ~(uint32_t)(CF_AUTH_ANSWERED | CF_AUTH_STALE);
    call->flags |= CF_URL_NEW;
    char *exact = lg__realloc(url, cap, (size_t)n + 1);
    if (!exact) {
        lg__free(url, cap);
        lg__call_fail(call, LG_ERR_NOMEM);
        return;
    }
    lg__free(call->url, call->url_len + 1);
    call->url = exact;
    call->url_len = (size_t)n;
    call->redirects++;
    cli->stats.redirects++;
    call->flags &= ~(uint32_t)CF_FRESH;
    attempt_reset(call);
    lg__call_attempt(call);
}

void lg__call_received(lg_call *call)
{
    lg_timer_stop(&call->read_timer);
    lg_timer_stop(&call->expect_timer);
    call->phase = PH_DONE;
    call->stage = LG_STAGE_DONE;
    call->ending = (uint8_t)lg_stream_ending(&call->conn->s);
    call->res->ending = call->ending;
}

void lg__call_complete(lg_call *call)
{
    client_conn *c = call->conn;
    lg_response *res = call->res;
    lg__call_received(call);
    /* Keep the connection only when both directions are exactly at a
     * message boundary: the whole request went out, the response ended by
     * its framing, and nothing else has arrived. */
    int reusable = (res->head.flags & LG_HEAD_KEEP_ALIVE) &&
                   (call->upload == UP_NONE || call->upload == UP_DONE) &&
                   !(call->flags & (CF_EARLY | CF_SEND_FAILED | CF_CLOSE | CF_FILE_BUSY)) &&
                   res->ending == LG_END_NONE && lg_stream_peek(&c->s).len == 0 &&
                   !call->cli->cfg.no_keep_alive;
    call->conn = NULL;
    c->call = NULL;
    /* A server sends nothing unasked after a complete answer: a connection
     * not kept closes at once when nothing more has come (the stream looks
     * once more), without waiting for the server's FIN. */
    if (!reusable) lg_stream_peer_done(&c->s);
    lg__cconn_release(c, reusable);

    if (call->flags & CF_AUTH_RETRY) { /* a 401 answered (client_auth.c) */
        attempt_reset(call);
        lg__call_attempt(call);
        return;
    }
    if (call->flags & CF_DISCARD) {
        follow_redirect(call);
        return;
    }
    if (res->status == 417 && (call->flags & CF_SENT_EXPECT) && !(call->flags & CF_NO_EXPECT)) {
        /* RFC 9110 10.1.1: repeat it without the expectation. */
        call->flags |= CF_NO_EXPECT;
        attempt_reset(call);
        lg__call_attempt(call);
        return;
    }
    call->err = LG_OK;
    lg__call_deliver(call);
}

/* ---------------------------------------------------------------------------
 * lg_fetch
 * ------------------------------------------------------------------------ */

/* lg_request's user, password and bearer: copied; Basic at once with
 * LG_FETCH_BASIC, a token always. LG_OK, LG_ERR_INVALID_ARG or
 * LG_ERR_NOMEM. */
static int set_credentials(lg_call *call, const lg_request *req)
{
    if (req->bearer) {
        size_t n = strlen(req->bearer);
        if (req->user || (req->flags & LG_FETCH_BASIC)) return LG_ERR_INVALID_ARG; /* one of them */
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)req->bearer[i] <= ' ' || req->bearer[i] == 0x7f) return LG_ERR_INVALID_ARG;
        call->auth = lg__alloc(n + 8);
        if (!call->auth) return LG_ERR_NOMEM;
        memcpy(call->auth, "Bearer ", 7);
        memcpy(call->auth + 7, req->bearer, n + 1);
        return LG_OK;
    }
    if (!req->user) return (req->flags & LG_FETCH_BASIC) || req->password ? LG_ERR_INVALID_ARG : LG_OK;
    const char *pass = req->password ? req->password : "";
    /* (a colon in the user-id cannot be told from the separator: RFC 7617 2) */
    if (strchr(req->user, ':')) return LG_ERR_INVALID_ARG;
    call->cred_user = dup_secret(req->user, strlen(req->user));
    call->cred_pass = dup_secret(pass, strlen(pass));
    if (!call->cred_user || !call->cred_pass) return LG_ERR_NOMEM;
#if defined(LG_NO_AUTH)
    /* no 401 is answered in this build: credentials go at once or not at all */
    if (!(req->flags & LG_FETCH_BASIC)) return LG_ERR_UNSUPPORTED;
#endif
    return (req->flags & LG_FETCH_BASIC) ? lg__call_basic_auth(call) : LG_OK;
}

lg_call *lg_fetch(lg_client *cli, const lg_request *req, lg_response_cb cb, void *user)
{
    size_t url_len = req->url ? strlen(req->url) : 0;
    size_t mlen = req->method ? strlen(req->method) + 1 : 0;
    size_t nh = req->headers ? req->num_headers : 0;
    size_t strings = mlen;
    for (size_t i = 0; i < nh; i++) strings += req->headers[i].name.len + req->headers[i].value.len;
    size_t hv = cli->cfg.max_headers;
    size_t size = sizeof(lg_call) + (hv + nh) * sizeof(lg_header) + strings;
    lg_call *call = lg__alloc(size);
    if (!call) return NULL;
    memset(call, 0, sizeof *call);
    call->alloc_size = size;
    call->url = lg__alloc(url_len + 1);
    if (!call->url) {
        lg__free(call, size);
        return NULL;
    }
    if (url_len) memcpy(call->url, req->url, url_len);
    call->url[url_len] = 0;
    call->url_len = url_len;
    call->cli = cli;
    call->cb = cb;
    call->user = user;

    /* copies: the header array after hv, then the strings */
    call->headers = call->hv + hv;
    char *p = (char *)(call->headers + nh);
    for (size_t i = 0; i < nh; i++) {
        const lg_header *h = &req->headers[i];
        memcpy(p, h->name.ptr, h->name.len);
        call->headers[i].name.ptr = p;
        call->headers[i].name.len = h->name.len;
        p += h->name.len;
        if (h->value.len) memcpy(p, h->value.ptr, h->value.len);
        call->headers[i].value.ptr = p;
        call->headers[i].value.len = h->value.len;
        p += h->value.len;
    }
    call->num_headers = nh;
    call->head.headers = call->hv;
    call->head.max_headers = (uint16_t)hv;
    call->trailers.headers = call->tv;
    call->trailers.max_headers = CLIENT_MAX_TRAILERS;

    int bad = 0;
    if (req->flags & LG_FETCH_BODY_FILE) {
        call->body_kind = BODY_FILE;
        call->body_file = req->body_file;
        call->body_offset = req->body_offset;
        call->body_len = req->body_len;
        bad = req->body_len == LG_BODY_LENGTH_UNKNOWN;
    } else if (req->body_producer) {
        call->body_kind = BODY_PRODUCER;
        call->producer = req->body_producer;
        call->body_len = req->body_len;
    } else if (req->body || req->body_len) {
        call->body_kind = BODY_MEMORY;
        call->body = req->body;
        call->body_len = req->body_len;
        bad = !req->body || req->body_len == LG_BODY_LENGTH_UNKNOWN;
    }
    if (req->method) {
        memcpy(p, req->method, mlen);
        call->method = p;
    } else {
        call->method = call->body_kind ? "POST" : "GET";
    }
    call->method_id = (uint8_t)method_id(call->method);
    call->on_body = req->on_body;
    call->on_head = req->on_head;
    call->max_body = req->max_body_bytes ? req->max_body_bytes : cli->cfg.max_body_bytes;
    call->timeout_ms = req->timeout_ms ? req->timeout_ms : cli->cfg.timeout_ms;
    call->max_redirects = cli->cfg.max_redirects;
    if (req->flags & LG_FETCH_CLOSE) call->flags |= CF_CLOSE;
    call->flags |= CF_URL_NEW;
    int cred_err = bad ? LG_OK : set_credentials(call, req);
    if (req->flags & LG_FETCH_NO_REDIRECTS) call->flags |= CF_NO_FOLLOW;
    if (!(req->flags & LG_FETCH_EXPECT_CONTINUE)) call->flags |= CF_NO_EXPECT;
    /* CONNECT makes a tunnel, which is not a fetch */
    if (call->method_id == LG_METHOD_CONNECT || !valid_method(call->method)) bad = 1;

    lg_timer_init(cli->loop, &call->deadline, on_deadline);
    lg_timer_init(cli->loop, &call->read_timer, on_read_timeout);
    lg_timer_init(cli->loop, &call->expect_timer, on_expect_timeout);

    call->next = cli->calls;
    if (cli->calls) cli->calls->prev = call;
    cli->calls = call;
    cli->stats.requests++;

    CLIENT_ENTER(cli);
    call->flags |= CF_IN_FETCH;
    if (call->timeout_ms) lg_timer_start(&call->deadline, call->timeout_ms);
#if defined(LG_NO_CHUNKED_UPLOAD)
    /* A body of unknown length would go out in chunks: not in this build. */
    if (!bad && call->body_kind == BODY_PRODUCER && call->body_len == LG_BODY_LENGTH_UNKNOWN)
        lg__call_fail(call, LG_ERR_UNSUPPORTED);
    else
#endif
    if (bad) lg__call_fail(call, LG_ERR_INVALID_ARG);
    else if (cred_err) lg__call_fail(call, cred_err);
    else lg__call_attempt(call);
    call->flags &= ~(uint32_t)CF_IN_FETCH;
    CLIENT_LEAVE(cli);
    return call;
}

#endif /* !LG_NO_CLIENT */
