/*
 * Answers: heads built from the status, the server's headers, the
 * handler's headers and the framing; bodies from memory, files or a stream.
 * Whether the connection survives the answer is decided here, once, when
 * the head goes out (rule 3: an unread body beyond the discard budget means
 * "Connection: close").
 *
 * Every answer call either puts a whole, correctly framed answer on its way
 * or fails, and a failed answer ends its connection: a request left without
 * its answer on a connection that goes on would have the next answer read
 * as its own. When nothing of the answer has gone out, the client is told
 * 500 first (fail_answer); when part of it has, the connection closes after
 * that part (break_answer) and the framing tells the client: a chunked
 * answer without its last chunk, a Content-Length answer with fewer bytes.
 * Content-Length is the server's to write: a handler may declare one (for
 * a streamed answer, or HEAD), and exactly that many bytes are then sent.
 */
#include <string.h>

#include "server_internal.h" /* first: the build options decide what else */
#include "http1_internal.h"
#include "assert_internal.h"
#if !defined(LG_NO_FILES)
#include <unistd.h> /* close */
#endif

#if !defined(LG_NO_SERVER)

/* A streamed answer may queue srv->high_water bytes before lg_res_write
 * says "wait" (256 KiB; with static memory what one buffer holds, see
 * room_for). */

static lg_conn *conn_of(const lg_res *res)
{
    return res->ex->conn;
}

/* The application is done with a request whose connection is gone. */
static int zombie_done(lg_res *res)
{
    lg_exchange *ex = res->ex;
    res->state = RES_DONE;
    ex->in_app = 0;
    lg__exchange_put(ex->srv, ex);
    return LG_ERR_CLOSED;
}

int lg_res_header(lg_res *res, const char *name, const char *value)
{
    if (res->state != RES_NONE) return LG_ERR_INVALID_ARG;
    lg_str field = { name, strlen(name) };
    /* Framing is the server's: Transfer-Encoding and Connection it writes
     * itself. A Content-Length is taken as a promise (a streamed answer of
     * known length is then not chunked; HEAD may tell a GET's length) and
     * written by the server, once, with the bytes held to it. */
    if (lg__str_ieq(field, "transfer-encoding") || lg__str_ieq(field, "connection"))
        return LG_ERR_INVALID_ARG;
    if (lg__str_ieq(field, "content-length")) {
        uint64_t v;
        if (res->has_length) return LG_ERR_INVALID_ARG; /* one length per answer */
        int rc = lg__parse_dec(value, strlen(value), &v);
        if (rc) return rc;
        res->has_length = 1;
        res->length = v;
        return LG_OK;
    }
    if (lg__exchange_hdr(res->ex) != LG_OK) return LG_ERR_NOMEM;
    lg_writer w;
    lg_writer_init(&w, res->hdr + res->hdr_len, res->hdr_cap - res->hdr_len);
    lg_write_header(&w, name, value);
    if (w.err) return w.err;
    res->hdr_len = (uint16_t)(res->hdr_len + w.len);
    return LG_OK;
}

static int cookie_octets_ok(const char *v)
{
    /* RFC 6265 4.1.1 cookie-octet */
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (c < 0x21 || c == '"' || c == ',' || c == ';' || c == '\\' || c >= 0x7f) return 0;
    }
    return 1;
}

/* An attribute's value (RFC 6265 4.1.1 path-value, and Domain likewise):
 * any CHAR but controls and ";", which would end it and start another
 * attribute of the caller's data's choosing. */
static int cookie_attr_ok(const char *v)
{
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (c < 0x20 || c == ';' || c >= 0x7f) return 0;
    }
    return 1;
}

static void put_attr(lg_writer *w, const char *name, const char *value)
{
    lg_write_bytes(w, name, strlen(name));
    lg_write_bytes(w, value, strlen(value));
}

int lg_res_set_cookie(lg_res *res, const char *name, const char *value,
                      const lg_cookie_options *o)
{
    char buf[512];
    lg_writer w;
    if (!cookie_octets_ok(value) || !*name) return LG_ERR_HEADER_VALUE;
    for (const char *p = name; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", *p)) return LG_ERR_HEADER_NAME;
    if (o && ((o->path && !cookie_attr_ok(o->path)) || (o->domain && !cookie_attr_ok(o->domain))))
        return LG_ERR_HEADER_VALUE;
    /* SameSite takes three values (RFC 6265bis 4.1.2.7); anything else a
     * browser would ignore, or it is somebody's attempt at an attribute. */
    if (o && o->same_site && strcmp(o->same_site, "Strict") && strcmp(o->same_site, "Lax") &&
        strcmp(o->same_site, "None"))
        return LG_ERR_INVALID_ARG;
    lg_writer_init(&w, buf, sizeof buf - 1);
    lg_write_bytes(&w, name, strlen(name));
    lg_write_bytes(&w, "=", 1);
    lg_write_bytes(&w, value, strlen(value));
    if (o) {
        if (o->path) put_attr(&w, "; Path=", o->path);
        if (o->domain) put_attr(&w, "; Domain=", o->domain);
        if (o->max_age) {
            char num[20];
            lg_write_bytes(&w, "; Max-Age=", 10);
            lg_write_bytes(&w, num, lg__format_dec(num, o->max_age < 0 ? 0 : (uint64_t)o->max_age));
        }
        if (o->http_only) lg_write_bytes(&w, "; HttpOnly", 10);
        if (o->secure) lg_write_bytes(&w, "; Secure", 8);
        if (o->same_site) put_attr(&w, "; SameSite=", o->same_site);
    }
    if (w.err) return w.err;
    buf[w.len] = 0;
    return lg_res_header(res, "Set-Cookie", buf);
}

/* --- the head --- */

static int decide_keep_alive(const lg_exchange *ex)
{
    const lg_conn *c = ex->conn;
    const lg_server *srv = ex->srv;
    if (!(ex->head.flags & LG_HEAD_KEEP_ALIVE) || ex->error) return 0;
    if ((c->flags & (CF_CLOSE_AFTER | CF_PEER_DONE)) || srv->shutting_down) return 0;
    /* nginx's keepalive_requests: one client does not keep its slot for
     * ever (UINT16_MAX: no limit). */
    if (c->requests >= srv->cfg.max_requests_per_conn &&
        srv->cfg.max_requests_per_conn != UINT16_MAX)
        return 0;
    /* Full, and a newcomer waits: this connection makes room after this
     * answer rather than sit idle on the slot. */
    if (srv->someone_waiting) return 0;
    if (!ex->body_done) {
        /* The client waits for "100 Continue" that will not come: it may
         * send the body or not, and we could not tell its next request
         * from it. Close (RFC 9110 10.1.1). */
        if ((ex->head.flags & LG_HEAD_EXPECT_CONTINUE) && !ex->continue_sent) return 0;
        if (ex->head.framing == LG_FRAMING_LENGTH &&
            ex->head.content_length - ex->body_raw > srv->cfg.discard_body_bytes)
            return 0;
        /* The rest of a chunked body has no known length: it may outgrow
         * the discard budget, and a connection promised to live would then
         * close under the client's next request (aiohttp: "Server
         * disconnected"). Say so now; the graceful close drains it. */
        if (ex->head.framing == LG_FRAMING_CHUNKED) return 0;
    }
    return 1;
}

/* After-hooks see every answer of a parsed request just before its head
 * goes out, to add headers (CORS, caching). What they return is ignored. */
void lg__res_after_hooks(lg_res *res)
{
    lg_exchange *ex = res->ex;
    lg_server *srv = ex->srv;
    if (ex->error) return; /* a request that never parsed */
    for (uint8_t i = 0; i < srv->nafter; i++) srv->after[i].fn(&ex->req, res, srv->after[i].user);
}

enum { FRAME_LENGTH, FRAME_CHUNKED, FRAME_CLOSE, FRAME_NONE };

static char *put_lit(char *p, const char *lit, size_t n)
{
    memcpy(p, lit, n);
    return p + n;
}
#define PUT(p, lit) put_lit((p), (lit), sizeof(lit) - 1)

/* Bodiless answers (RFC 9110 6.4.1): to HEAD, 1xx, 204 and 304. */
static int bodiless(const lg_exchange *ex, int status)
{
    return ex->head.method_id == LG_METHOD_HEAD || status < 200 || status == 204 || status == 304;
}

/* A final status: three digits, 2xx to 5xx (RFC 9110 15). A 1xx is not
 * an answer, and anything else would be written as garbage or refused by
 * the client after its head went out. */
static int final_status(int status)
{
    return status >= 200 && status <= 599;
}

/* Write the head (and body parts) of an answer. Only the handler's headers
 * need checking (lg_res_header did): the status line, Date and Server (built
 * once a second, checked at lg_server_new) and the framing lines are the
 * server's own, so they are copied, not written field by field through an
 * lg_writer. Returns the stream's answer: LG_OK, or an error after which
 * nothing of this answer went out (LG_ERR_LIMIT) or the stream failed. */
static int write_head(lg_res *res, int status, int framing, uint64_t length, const lg_str *body,
                      size_t nbody)
{
    lg_exchange *ex = res->ex;
    lg_conn *c = ex->conn;
    lg_server *srv = ex->srv;
    char pre[64 + LG__HEAD_LINES_BYTES], post[96];
    size_t pre_len;

    res->status = (uint16_t)status;
    res->no_body = (uint8_t)bodiless(ex, status);
    res->keep_alive = (uint8_t)decide_keep_alive(ex);
    if (framing == FRAME_CLOSE) res->keep_alive = 0;

    if (status == 200) {
        pre_len = (size_t)(PUT(pre, "HTTP/1.1 200 OK\r\n") - pre);
    } else {
        lg_writer a;
        lg_writer_init(&a, pre, sizeof pre);
        lg_write_status_line(&a, 1, status, NULL);
        if (a.err) return LG_ERR_INVALID_ARG;
        pre_len = a.len;
    }
    int lines_len = lg__server_head_lines(srv, pre + pre_len, sizeof pre - pre_len);
    if (lines_len < 0) return LG_ERR_BUFFER_TOO_SMALL;
    pre_len += (size_t)lines_len;

    char *p = post; /* at most 16 + 20 + 2 + 24 + 2 bytes */
    if (status >= 200 && status != 204 && status != 304) {
        if (framing == FRAME_LENGTH) {
            p = PUT(p, "Content-Length: ");
            p += lg__format_dec(p, length);
            p = PUT(p, "\r\n");
        } else if (framing == FRAME_CHUNKED) {
            p = PUT(p, "Transfer-Encoding: chunked\r\n");
        }
    }
    if (status == 101) p = PUT(p, "Connection: Upgrade\r\n"); /* its Upgrade: a header */
    else if (!res->keep_alive) p = PUT(p, "Connection: close\r\n");
    else if (ex->head.version_minor == 0) p = PUT(p, "Connection: keep-alive\r\n");
    p = PUT(p, "\r\n");

    lg_str parts[6];
    size_t n = 0;
    parts[n++] = (lg_str){ pre, pre_len };
    if (res->hdr_len) parts[n++] = (lg_str){ res->hdr, res->hdr_len };
    parts[n++] = (lg_str){ post, (size_t)(p - post) };
    if (!res->no_body)
        for (size_t i = 0; i < nbody && n < 6; i++)
            if (body[i].len) parts[n++] = body[i];
    return lg_stream_writev(&c->s, parts, n);
}

/* The stream copies what the network does not take at once: once the
 * head is written (or refused) its header space can go back. */
static int send_head(lg_res *res, int status, int framing, uint64_t length, const lg_str *body,
                     size_t nbody)
{
    int rc = write_head(res, status, framing, length, body, nbody);
    lg__exchange_hdr_done(res->ex);
    return rc;
}

static int check_answerable(lg_res *res)
{
    if (res->state != RES_NONE) return LG_ERR_INVALID_ARG;
    if (!conn_of(res)) return zombie_done(res);
    return LG_OK;
}

static void answered(lg_res *res)
{
    lg_exchange *ex = res->ex;
    LG_ASSERT(res->state != RES_DONE); /* every request gets exactly one answer */
    LG_ASSERT(ex->conn && ex->conn->ex == ex);
    res->state = RES_DONE;
    ex->in_app = 0;
    lg__conn_answer_done(ex->conn);
}

/* The answer asked for cannot be sent, and nothing of it went out (an
 * invalid status, a length that does not match, a body the queue cannot
 * take): the client is told 500 instead, and the connection closes after
 * it. If the stream has failed, even the 500 cannot go: the close is all.
 * The request is answered either way. Returns err. */
int lg__res_switch_head(lg_res *res, const char *protocol)
{
    int rc = lg_res_header(res, "Upgrade", protocol); /* refuses CR/LF in it */
    return rc ? rc : send_head(res, 101, FRAME_NONE, 0, NULL, 0);
}

int lg__res_fail_answer(lg_res *res, int err)
{
    lg_exchange *ex = res->ex;
    static const char body[] = "500 Internal Server Error: the answer could not be sent\n";
    lg_conn *c = ex->conn;
    c->flags |= CF_CLOSE_AFTER;
    /* The application's mistake is worth a line in the log; a client that
     * has gone is not. */
    if (lg_stream_is_open(&c->s) && !lg_stream_error(&c->s))
        lg_log(ex->srv->loop, LG_LOG_ERROR, "an answer could not be sent (%s): 500 instead",
               lg_err_name(err));
    res->hdr_len = 0; /* the handler's headers were for its own answer */
    res->has_length = 0;
    lg_str part = { body, sizeof body - 1 };
    send_head(res, 500, FRAME_LENGTH, part.len, &part, 1);
    res->body_bytes = res->no_body ? 0 : part.len;
    answered(res);
    return err;
}

/* Part of a streamed answer has gone out and the rest cannot follow: the
 * connection closes after that part, without a last chunk, so that the
 * client sees the answer cut rather than whole and short. lg_res_end
 * still ends it. Returns err. */
static int break_answer(lg_res *res, int err)
{
    lg_conn *c = conn_of(res);
    res->broken = 1;
    res->fill = NULL;
    if (c) {
        c->flags |= CF_CLOSE_AFTER;
        lg__conn_close(c);
    }
    return err;
}

int lg_res_send(lg_res *res, int status, const void *body, size_t len)
{
    int rc = check_answerable(res);
    if (rc) return rc;
    lg__res_after_hooks(res);
    if (!final_status(status)) return lg__res_fail_answer(res, LG_ERR_INVALID_ARG);
    uint64_t length = len;
    if (res->has_length && res->length != len) {
        /* A bodiless answer may tell the length a GET would get (RFC 9110
         * 8.6); any other answer must be as long as it says. */
        if (len || !bodiless(res->ex, status)) return lg__res_fail_answer(res, LG_ERR_INVALID_ARG);
        length = res->length;
    }
    lg_str part = { body, len };
    rc = send_head(res, status, FRAME_LENGTH, length, &part, 1);
    if (rc) return lg__res_fail_answer(res, rc);
    res->body_bytes = res->no_body ? 0 : len;
    answered(res);
    return LG_OK;
}

int lg_res_send_str(lg_res *res, int status, const char *text)
{
    return lg_res_send(res, status, text, strlen(text));
}

int lg_res_redirect(lg_res *res, int status, const char *location)
{
    if (res->state == RES_NONE && !conn_of(res)) return zombie_done(res);
    if (res->state != RES_NONE) return LG_ERR_INVALID_ARG;
    if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308)
        return lg__res_fail_answer(res, LG_ERR_INVALID_ARG);
    int rc = lg_res_header(res, "Location", location);
    if (rc) return lg__res_fail_answer(res, rc);
    lg_res_header(res, "Content-Type", "text/plain; charset=utf-8");
    char body[256];
    size_t n = strlen(location);
    if (n > sizeof body - 20) n = sizeof body - 20;
    memcpy(body, "Redirecting to ", 15);
    memcpy(body + 15, location, n);
    body[15 + n] = '\n';
    return lg_res_send(res, status, body, 16 + n);
}

/* --- errors --- */

static int send_default_error(lg_res *res, int status, const char *message)
{
    char body[256];
    lg_writer w;
    lg_writer_init(&w, body, sizeof body);
    if (final_status(status)) {
        char num[20];
        lg_write_bytes(&w, num, lg__format_dec(num, (uint64_t)status));
        lg_write_bytes(&w, " ", 1);
    }
    const char *reason = lg_status_reason(status);
    lg_write_bytes(&w, reason, strlen(reason));
    if (message && *message) {
        size_t room = sizeof body - w.len - 4;
        size_t n = strlen(message);
        lg_write_bytes(&w, ": ", 2);
        lg_write_bytes(&w, message, n < room ? n : room);
    }
    lg_write_bytes(&w, "\n", 1);
    lg_res_header(res, "Content-Type", "text/plain; charset=utf-8");
    return lg_res_send(res, status, body, w.len);
}

int lg_res_error(lg_res *res, int status, const char *message)
{
    lg_exchange *ex = res->ex;
    lg_server *srv = ex->srv;
    for (uint8_t i = 0; i < srv->nerror; i++) {
        if (srv->errors[i].status != status) continue;
        ex->in_app = 1;
        srv->errors[i].handler(&ex->req, res, srv->errors[i].user);
        return LG_OK;
    }
    return send_default_error(res, status, message);
}

void lg__res_fail(lg_exchange *ex, int status, const char *message)
{
    if (!status) status = 400;
    lg_res_error(&ex->res, status, message);
}

static void fill_now(lg_defer *d);

/* --- files --- */

#if !defined(LG_NO_FILES)
static void close_file(lg_res *res)
{
    if (res->file_fd >= 0) {
        close(res->file_fd);
        res->file_fd = -1;
    }
}

static void file_sent(lg_write_req *req, int status)
{
    lg_res *res = req->data;
    (void)status;
    close_file(res);
    if (!conn_of(res)) {
        zombie_done(res);
        return;
    }
    answered(res);
}

int lg_res_send_fd(lg_res *res, int status, int fd, uint64_t offset, uint64_t len)
{
    res->file_fd = fd;
    int rc = check_answerable(res);
    if (rc) {
        close_file(res);
        return rc;
    }
    lg__res_after_hooks(res);
    if (!final_status(status) || (res->has_length && res->length != len)) {
        close_file(res);
        return lg__res_fail_answer(res, LG_ERR_INVALID_ARG);
    }
    rc = send_head(res, status, FRAME_LENGTH, len, NULL, 0);
    if (rc) {
        close_file(res);
        return lg__res_fail_answer(res, rc);
    }
    if (res->no_body || len == 0) {
        close_file(res);
        answered(res);
        return LG_OK;
    }
    res->body_bytes = len;
    res->state = RES_STARTED;
    lg_conn *c = conn_of(res);
    c->phase = PH_SENDING;
    res->file_req.data = res;
    /* By sendfile, or read a piece at a time as the client takes it (the
     * stream knows how: lwIP has no sendfile, and TLS must see the bytes).
     * A file that ends early fails the stream: the client gets fewer bytes
     * than the Content-Length, never a short body that looks whole. */
    rc = lg_stream_sendfile(&c->s, &res->file_req, fd, offset, len, file_sent);
    if (rc) {
        /* The head went out, the body cannot follow (the stream failed):
         * the connection ends short of the Content-Length it announced. */
        close_file(res);
        break_answer(res, rc);
        answered(res);
        return rc;
    }
    return LG_OK;
}
#else
int lg_res_send_fd(lg_res *res, int status, int fd, uint64_t offset, uint64_t len)
{
    LG_UNUSED(res);
    LG_UNUSED(status);
    LG_UNUSED(fd);
    LG_UNUSED(offset);
    LG_UNUSED(len);
    return LG_ERR_UNSUPPORTED;
}
#endif

/* --- streaming --- */

int lg_res_start(lg_res *res, int status)
{
    int rc = check_answerable(res);
    if (rc) return rc;
    lg__res_after_hooks(res);
    if (!final_status(status)) return lg__res_fail_answer(res, LG_ERR_INVALID_ARG);
    lg_exchange *ex = res->ex;
    /* No chunking for HTTP/1.0: the end is the connection's end. */
    int framing = res->has_length ? FRAME_LENGTH : ex->head.version_minor ? FRAME_CHUNKED : FRAME_CLOSE;
    rc = send_head(res, status, framing, res->length, NULL, 0);
    if (rc) return lg__res_fail_answer(res, rc);
    res->chunked = framing == FRAME_CHUNKED && !res->no_body;
    res->by_length = framing == FRAME_LENGTH;
    res->state = RES_STARTED;
    /* The client's pace is watched by the stream's send timeout, which
     * counts only while bytes wait: an event stream that is all caught up
     * is quiet, not stuck. */
    lg_conn *c = conn_of(res);
    if (c->phase != PH_CLOSING) c->phase = PH_SENDING;
    return LG_OK;
}

/* Whether a piece of `framed` bytes may be queued now. From the heap an
 * answer's queue may pass high_water by the piece that crosses it. With
 * static memory the buffers are shared by every connection, and the count
 * a configuration needs (one for each request's head, one for each
 * answer's queue, one for each waiting connection) holds only if an
 * answer never takes a second: a piece is queued when the queue is empty
 * or the piece fits the room left in its buffer, and a piece that could
 * not fit an empty buffer is refused outright. */
static int room_for(const lg_res *res, lg_conn *c, size_t framed)
{
    const lg_server *srv = res->ex->srv;
    uint64_t queued = lg_stream_queued(&c->s);
    if (!srv->static_mem) return queued > srv->high_water ? LG_ERR_LIMIT : LG_OK;
    if (framed > lg_stream_block_bytes(&c->s)) return LG_ERR_TOO_LARGE;
    if (queued && framed > lg_stream_copy_room(&c->s)) return LG_ERR_LIMIT;
    return LG_OK;
}

int lg_res_write(lg_res *res, const void *data, size_t len)
{
    if (res->state != RES_STARTED) return LG_ERR_INVALID_ARG;
    lg_conn *c = conn_of(res);
    if (!c || res->broken || !lg_stream_is_open(&c->s)) return LG_ERR_CLOSED;
    if (len == 0) return LG_OK;
    /* More than the Content-Length promised would be read as the start of
     * the next answer: the answer is cut here instead. */
    if (res->by_length && !res->no_body && len > res->length - res->body_bytes)
        return break_answer(res, LG_ERR_TOO_LARGE);
    if (res->no_body) {
        if (lg_stream_queued(&c->s) > res->ex->srv->high_water) return LG_ERR_LIMIT;
        res->body_bytes += len;
        return LG_OK;
    }
    char line[24];
    lg_writer w;
    lg_writer_init(&w, line, sizeof line);
    if (res->chunked) lg_write_chunk_start(&w, len);
    lg_str parts[3] = { { line, w.len }, { data, len }, { "\r\n", res->chunked ? 2 : 0 } };
    int rc = room_for(res, c, w.len + len + parts[2].len);
    if (rc) return rc;
    rc = lg_stream_writev(&c->s, parts, 3);
    /* Nothing was written: wait for on_drain, or (with an empty queue) the
     * piece is larger than the queue can ever hold — write smaller ones. */
    if (rc == LG_ERR_LIMIT) return lg_stream_queued(&c->s) ? LG_ERR_LIMIT : LG_ERR_TOO_LARGE;
    if (rc) return break_answer(res, LG_ERR_CLOSED); /* the stream failed */
    res->body_bytes += len;
    return LG_OK;
}

int lg_res_end(lg_res *res)
{
    if (res->state != RES_STARTED) return LG_ERR_INVALID_ARG;
    lg_conn *c = conn_of(res);
    res->fill = NULL;
    if (!c) return zombie_done(res);
    int rc = LG_OK;
    if (res->broken || !lg_stream_is_open(&c->s)) {
        rc = LG_ERR_CLOSED;
    } else if (res->by_length && !res->no_body && res->body_bytes != res->length) {
        rc = break_answer(res, LG_ERR_CLOSED_EARLY); /* fewer bytes than promised */
    } else if (res->chunked && lg_stream_write(&c->s, "0\r\n\r\n", 5) != LG_OK) {
        rc = break_answer(res, LG_ERR_CLOSED);
    }
    answered(res);
    return rc;
}

int lg_res_abandon(lg_res *res)
{
    if (res->state != RES_STARTED) return LG_ERR_INVALID_ARG;
    res->fill = NULL;
    if (!conn_of(res)) return zombie_done(res);
    break_answer(res, LG_OK);
    answered(res);
    return LG_OK;
}

void lg_res_on_drain(lg_res *res, void (*on_drain)(lg_res *, void *), void *user)
{
    res->on_drain = on_drain;
    res->drain_user = user;
}

static void fill_now(lg_defer *d)
{
    lg_res *res = LG_CONTAINER_OF(d, lg_res, fill_defer);
    if (res->state != RES_STARTED || !res->fill) return;
    res->fill(res, res->fill_user);
    if (res->state != RES_STARTED || !res->fill) return;
    lg_conn *c = conn_of(res);
    if (!c || res->broken || !lg_stream_is_open(&c->s)) {
        /* The answer can never be whole (the client is gone, the stream
         * failed, more than the Content-Length), lg_res_write said so, and
         * the fill went on as if not: asked again every tick it would spin
         * for ever. It ends here. */
        lg_log(res->ex->srv->loop, LG_LOG_WARN,
               "a fill function did not end an answer that cannot be completed: ended for it");
        lg_res_abandon(res);
        return;
    }
    /* Still room: ask again next tick (other connections get their turn);
     * otherwise on_drain asks when the queue has emptied. */
    if (lg_stream_queued(&c->s) < res->ex->srv->high_water / 2)
        lg_defer_call(res->ex->srv->loop, &res->fill_defer, fill_now);
}

int lg_res_stream(lg_res *res, int status, lg_fill_fn fill, void *user)
{
    int rc = lg_res_start(res, status);
    if (rc) return rc;
    res->fill = fill;
    res->fill_user = user;
    lg_defer_call(res->ex->srv->loop, &res->fill_defer, fill_now);
    return LG_OK;
}

void lg__res_on_drain(lg_conn *c)
{
    lg_exchange *ex = c->ex;
    if (!ex || ex->res.state != RES_STARTED) return;
    lg_res *res = &ex->res;
    if (res->fill) lg_defer_call(ex->srv->loop, &res->fill_defer, fill_now);
    else if (res->on_drain) res->on_drain(res, res->drain_user);
}

/* The connection closed while the application still holds the request:
 * tell whoever waits, so that it finishes (and the request is freed). */
void lg__res_conn_gone(lg_exchange *ex)
{
    lg_res *res = &ex->res;
    if (ex->body_mode == BODY_STREAM && !ex->body_done && ex->on_chunk) {
        ex->body_done = 1;
        ex->on_chunk(&ex->req, LG_ERR_CLOSED_EARLY, NULL, 0, ex->chunk_user);
    }
    if (res->state == RES_STARTED) {
        if (res->fill) lg_defer_call(ex->srv->loop, &res->fill_defer, fill_now);
        else if (res->on_drain) res->on_drain(res, res->drain_user);
    }
}

lg_req *lg_res_req(lg_res *res)
{
    return &res->ex->req;
}

#endif /* !LG_NO_SERVER */
