/*
 * Sending a request: the head, then the body from memory, a file or a
 * producer, fed to the stream a slice at a time while its queue is empty.
 *
 * Feeding slices (rather than the whole body at once) is what lets an early
 * response stop the upload (DESIGN: a client still uploading when the final
 * response arrives stops and delivers it): at most one slice is ever queued.
 * Memory slices are copied by the stream only as far as the kernel does not
 * take them at once, so the caller's memory is never referenced after the
 * write call; a file slice is referenced, and a delivery waits for it.
 */
#include <string.h>

#include "client_internal.h"
#include "http1_internal.h"

#if !defined(LG_NO_CLIENT)

#define MEMORY_SLICE (64u * 1024)
#define FILE_SLICE (256u * 1024)

static int queue_file_slice(lg_call *call, lg_stream *s);

static int is_net_error(int err)
{
    return err == LG_ERR_RESET || err == LG_ERR_PIPE || err == LG_ERR_IO || err == LG_ERR_CLOSED;
}

/* A failed send is not the end: the server's answer may still be there to
 * read (a 413, an early response). Stop sending, keep reading; the input's
 * ending decides. */
void lg__send_write_error(lg_call *call, int err)
{
    if (!is_net_error(err)) {
        lg__call_fail(call, err);
        return;
    }
    call->flags |= CF_SEND_FAILED;
    if (call->upload == UP_SENDING || call->upload == UP_WAIT_CONTINUE) call->upload = UP_STOPPED;
    lg_timer_stop(&call->expect_timer);
}

void lg__send_stop(lg_call *call)
{
    if (call->upload == UP_SENDING || call->upload == UP_WAIT_CONTINUE) call->upload = UP_STOPPED;
    call->flags &= ~(uint32_t)CF_PRODUCER_WAIT;
    lg_timer_stop(&call->expect_timer);
}

static int has_header(const lg_call *call, const char *name)
{
    for (size_t i = 0; i < call->num_headers; i++)
        if (lg__str_ieq(call->headers[i].name, name)) return 1;
    return 0;
}

static int method_has_content(const lg_call *call)
{
    return call->method_id == LG_METHOD_POST || call->method_id == LG_METHOD_PUT ||
           call->method_id == LG_METHOD_PATCH;
}

static int auth_applies(const lg_call *call)
{
    if (!call->auth || call->auth_port != call->u.port) return 0;
    return lg__str_ieq(call->u.host, call->auth_host);
}

/* The request target (RFC 9112 3.2.1): path and query are one slice of the
 * URL, except when the path is empty ("http://h?q"), where "/" comes first. */
static void write_request_line(lg_call *call, lg_writer *w)
{
    const lg_url *u = &call->u;
    lg_str target;
    if (u->path.len) {
        target.ptr = u->path.ptr;
        target.len = u->query.ptr ? (size_t)(u->query.ptr + u->query.len - u->path.ptr) : u->path.len;
        lg_write_request_line(w, call->method, target);
        return;
    }
    if (!u->query.ptr) {
        lg_write_request_line(w, call->method, LG_STR("/"));
        return;
    }
    size_t n = u->query.len + 3; /* "/?", the query, NUL */
    char *t = lg__alloc(n);
    if (!t) {
        w->err = LG_ERR_NOMEM;
        return;
    }
    int tn = lg_url_target(u, t, n);
    lg_write_request_line(w, call->method, (lg_str){ t, tn > 0 ? (size_t)tn : 0 });
    lg__free(t, n);
}

static void write_head(lg_call *call, lg_writer *w, int expect)
{
    lg_client *cli = call->cli;
    write_request_line(call, w);

    /* Host = uri-host [ ":" port ] (RFC 9112 3.2), as the URL wrote it */
    if (!has_header(call, "Host")) {
        lg_write_bytes(w, "Host: ", 6);
        if (call->u.flags & LG_URL_IPV6) lg_write_bytes(w, "[", 1);
        lg_write_bytes(w, call->u.host.ptr, call->u.host.len);
        if (call->u.flags & LG_URL_IPV6) lg_write_bytes(w, "]", 1);
        if (call->u.flags & LG_URL_HAS_PORT) {
            char port[1 + 20] = ":";
            lg_write_bytes(w, port, 1 + lg__format_dec(port + 1, call->u.port));
        }
        lg_write_bytes(w, "\r\n", 2);
    }
    const char *ua = cli->cfg.user_agent ? cli->cfg.user_agent : "linger/" LG_VERSION_STRING;
    if (*ua && !has_header(call, "User-Agent")) lg_write_header(w, "User-Agent", ua);
    if (auth_applies(call) && !has_header(call, "Authorization"))
        lg_write_header(w, "Authorization", call->auth);

    for (size_t i = 0; i < call->num_headers; i++) {
        const lg_header *h = &call->headers[i];
        /* Framing is ours to write: a second Content-Length or a
         * Transfer-Encoding from the caller would contradict it. */
        if (lg__str_ieq(h->name, "Content-Length") || lg__str_ieq(h->name, "Transfer-Encoding"))
            continue;
        if (lg__str_ieq(h->name, "Connection") && lg_list_has(h->value, "close"))
            call->flags |= CF_CLOSE;
        /* Asking to switch protocols: a 101 answer then hands the
         * connection over (lg_response_take_stream) instead of failing. */
        if (lg__str_ieq(h->name, "Upgrade")) call->flags |= CF_UPGRADE;
        lg_write_header_str(w, h->name, h->value);
    }

    if (call->body_kind == BODY_NONE) {
        /* RFC 9110 8.6: a request whose method gives content a meaning says
         * how long its (empty) content is. */
        if (method_has_content(call)) lg_write_bytes(w, "Content-Length: 0\r\n", 19);
    } else if (call->body_len == LG_BODY_LENGTH_UNKNOWN) {
        lg_write_bytes(w, "Transfer-Encoding: chunked\r\n", 28);
    } else {
        lg_write_header_uint(w, "Content-Length", call->body_len);
    }
    if (expect) lg_write_bytes(w, "Expect: 100-continue\r\n", 22);
    if ((call->flags & CF_CLOSE) || cli->cfg.no_keep_alive)
        lg_write_bytes(w, "Connection: close\r\n", 19);
    lg_write_end_head(w);
}

static size_t head_size_bound(const lg_call *call)
{
    lg_client *cli = call->cli;
    size_t n = 256 + strlen(call->method) + 2 * call->url_len; /* target and Host */
    n += cli->cfg.user_agent ? strlen(cli->cfg.user_agent) : 32;
    if (call->auth) n += strlen(call->auth) + 20;
    for (size_t i = 0; i < call->num_headers; i++)
        n += call->headers[i].name.len + call->headers[i].value.len + 4;
    return n;
}

void lg__send_request(lg_call *call)
{
    client_conn *c = call->conn;
    lg_stream *s = &c->s;
    call->phase = PH_HEAD;
    call->stage = LG_STAGE_SEND;
    call->prev_len = 0;
    call->interim = 0;
    call->flags &= ~(uint32_t)CF_GOT_BYTES;

    int has_body = call->body_kind != BODY_NONE;
    int expect = has_body && call->body_len != 0 && !(call->flags & CF_NO_EXPECT);
    if (expect) call->flags |= CF_SENT_EXPECT;

    char stack[768];
    char *buf = stack;
    size_t cap = sizeof stack;
    lg_writer w;
    lg_writer_init(&w, buf, cap);
    write_head(call, &w, expect);
    if (w.err == LG_ERR_BUFFER_TOO_SMALL) {
        cap = head_size_bound(call);
        buf = lg__alloc(cap);
        if (!buf) {
            lg__call_fail(call, LG_ERR_NOMEM);
            return;
        }
        lg_writer_init(&w, buf, cap);
        write_head(call, &w, expect);
    }
    if (w.err) {
        if (buf != stack) lg__free(buf, cap);
        lg__call_fail(call, w.err == LG_ERR_BUFFER_TOO_SMALL ? LG_ERR_INVALID_ARG : w.err);
        return;
    }

    /* The head never travels alone when a body follows at once: a server
     * that reads what has arrived, answers and closes would leave the rest
     * unread, and its reset could cut its own answer. A memory body's first
     * slice goes in the head's send; a file's first bytes share the head's
     * segment (the stream sends the head with "more to come" right before
     * its sendfile, while corked here). */
    int rc;
    int file_follows = call->body_kind == BODY_FILE && !expect && call->body_len;
    if (call->body_kind == BODY_MEMORY && !expect) {
        size_t first = call->body_len < MEMORY_SLICE ? (size_t)call->body_len : MEMORY_SLICE;
        lg_str parts[2] = { { buf, w.len }, { call->body, first } };
        rc = lg_stream_writev(s, parts, first ? 2 : 1);
        if (rc == LG_OK) call->sent = first;
        call->upload = call->sent == call->body_len ? UP_DONE : UP_SENDING;
    } else {
        if (file_follows) lg_stream_cork(s);
        rc = lg_stream_write(s, buf, w.len);
        call->upload = !has_body ? UP_NONE : expect ? UP_WAIT_CONTINUE : UP_SENDING;
    }
    if (buf != stack) lg__free(buf, cap);
    lg__read_timer_arm(call);
    if (rc == LG_OK && file_follows) {
        rc = queue_file_slice(call, s); /* behind the head: the pump waits for an empty queue */
        if (rc == LG_ERR_UNSUPPORTED) {
            lg__call_fail(call, rc);
            lg_stream_uncork(s);
            return;
        }
    }
    if (rc) {
        lg__send_write_error(call, rc);
    } else if (call->upload == UP_WAIT_CONTINUE) {
        lg_timer_start(&call->expect_timer, call->cli->cfg.expect_timeout_ms);
    } else if (call->upload == UP_SENDING) {
        lg__send_pump(call);
    }
    /* (A call that failed meanwhile closed the stream, which dropped the
     * cork: this does nothing then. The connection lives until on_close.) */
    if (file_follows) lg_stream_uncork(s);
}

void lg__send_continue(lg_call *call)
{
    if (call->upload != UP_WAIT_CONTINUE) return;
    lg_timer_stop(&call->expect_timer);
    call->upload = UP_SENDING;
    lg__send_pump(call);
}

static void file_done(lg_write_req *req, int status)
{
    lg_call *call = req->data;
    lg_client *cli = call->cli;
    CLIENT_ENTER(cli);
    call->flags &= ~(uint32_t)CF_FILE_BUSY;
    if (call->flags & CF_DELIVER_WAIT) {
        call->flags &= ~(uint32_t)CF_DELIVER_WAIT;
        lg__call_deliver(call);
        CLIENT_LEAVE(cli);
        return;
    }
    /* Write errors also come through on_write_error; a close drops the
     * slice (CLOSED), which may be the last attempt's, after a redirect or
     * the retry: this attempt's upload goes on either way. */
    if (status != LG_OK && status != LG_ERR_CLOSED && call->conn) lg__send_write_error(call, status);
    if (call->upload == UP_SENDING && call->conn) {
        lg__read_timer_arm(call); /* sending progressed */
        if (call->sent == call->body_len) call->upload = UP_DONE;
        else if (!(call->flags & CF_PUMPING)) lg__send_pump(call);
    }
    CLIENT_LEAVE(cli);
}

/* One producer step; returns 1 to go on, 0 to wait, -1 when the call is
 * gone (failed). */
static int produce(lg_call *call, lg_stream *s)
{
    lg_client *cli = call->cli;
    size_t cap = cli->cfg.upload_chunk_bytes;
#if defined(LG_NO_CHUNKED_UPLOAD)
    const int chunked = 0; /* lg_fetch refused bodies of unknown length */
#else
    int chunked = call->body_len == LG_BODY_LENGTH_UNKNOWN;
#endif
    if (!call->upbuf) {
        call->upbuf = lg__alloc(cap + 32);
        if (!call->upbuf) {
            lg__call_fail(call, LG_ERR_NOMEM);
            return -1;
        }
    }
    size_t ask = cap;
    if (!chunked && call->body_len - call->sent < ask) ask = (size_t)(call->body_len - call->sent);
    long r = 0;
    if (ask) {
        lg__user_enter(call);
        r = call->producer(call, call->upbuf, ask, call->user);
        if (!lg__user_leave(call)) return -1;
        if (call->upload != UP_SENDING) return 0; /* an early response came meanwhile */
    }
    if (r == LG_ERR_AGAIN) {
        call->flags |= CF_PRODUCER_WAIT;
        return 0;
    }
    if (r < 0 || (size_t)r > ask) {
        lg__call_fail(call, r < 0 ? (int)r : LG_ERR_INVALID_ARG);
        return -1;
    }
    int rc;
    if (r == 0) {
        if (!chunked && call->sent != call->body_len) {
            /* fewer bytes than the Content-Length promised: the request
             * can only be abandoned */
            lg__call_fail(call, LG_ERR_INVALID_ARG);
            return -1;
        }
        rc = chunked ? lg_stream_write(s, "0\r\n\r\n", 5) : LG_OK;
        if (rc == LG_OK) call->upload = UP_DONE;
    } else if (chunked) {
        char line[24];
        lg_writer w;
        lg_writer_init(&w, line, sizeof line);
        lg_write_chunk_start(&w, (size_t)r);
        lg_str parts[3] = { { line, w.len }, { call->upbuf, (size_t)r }, { "\r\n", 2 } };
        rc = lg_stream_writev(s, parts, 3);
        if (rc == LG_OK) call->sent += (uint64_t)r;
    } else {
        rc = lg_stream_write(s, call->upbuf, (size_t)r);
        if (rc == LG_OK) call->sent += (uint64_t)r;
    }
    if (rc) {
        lg__send_write_error(call, rc);
        return call->flags & CF_FINISHED ? -1 : 0;
    }
    return 1;
}

/* The next slice of a file body, by reference (file_done comes when it
 * has gone). */
static int queue_file_slice(lg_call *call, lg_stream *s)
{
    uint64_t left = call->body_len - call->sent;
    size_t n = left < FILE_SLICE ? (size_t)left : FILE_SLICE;
    call->flags |= CF_FILE_BUSY;
    call->file_req.data = call;
    call->sent += n;
    int rc = lg_stream_sendfile(s, &call->file_req, call->body_file,
                                call->body_offset + call->sent - n, n, file_done);
    if (rc) {
        call->flags &= ~(uint32_t)CF_FILE_BUSY;
        call->sent -= n;
    } else if (!(call->flags & CF_FILE_BUSY) && call->sent == call->body_len &&
               call->upload == UP_SENDING) {
        call->upload = UP_DONE; /* sent at once */
    }
    return rc;
}

void lg__send_pump(lg_call *call)
{
    if (call->flags & (CF_PUMPING | CF_PRODUCER_WAIT)) return;
    call->flags |= CF_PUMPING;
    while (call->upload == UP_SENDING && call->conn && !(call->flags & CF_FILE_BUSY)) {
        lg_stream *s = &call->conn->s;
        if (lg_stream_queued(s)) break; /* on_drain brings us back */
        uint64_t left = call->body_len - call->sent;
        int rc = LG_OK;
        if (call->body_kind == BODY_MEMORY) {
            size_t n = left < MEMORY_SLICE ? (size_t)left : MEMORY_SLICE;
            if (n) rc = lg_stream_write(s, call->body + call->sent, n);
            if (rc == LG_OK) call->sent += n;
            if (rc == LG_OK && call->sent == call->body_len) call->upload = UP_DONE;
        } else if (call->body_kind == BODY_FILE) {
            if (!left) {
                call->upload = UP_DONE;
                break;
            }
            rc = queue_file_slice(call, s);
            if (rc == LG_ERR_UNSUPPORTED) {
                call->flags &= ~(uint32_t)CF_PUMPING;
                lg__call_fail(call, rc);
                return;
            }
        } else if (call->body_kind == BODY_PRODUCER) {
            call->flags &= ~(uint32_t)CF_PUMPING;
            int more = produce(call, s);
            if (more < 0) return;
            call->flags |= CF_PUMPING;
            if (!more) break;
            continue;
        } else {
            call->upload = UP_DONE;
        }
        if (rc) {
            call->flags &= ~(uint32_t)CF_PUMPING;
            lg__send_write_error(call, rc);
            return;
        }
    }
    call->flags &= ~(uint32_t)CF_PUMPING;
}

#endif /* !LG_NO_CLIENT */
