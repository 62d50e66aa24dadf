/*
 * Receiving a response, zero-copy from the stream's receive buffer: the
 * head is parsed where it lies (and copied once, whole, when complete), body
 * bytes are decoded in place and handed on as slices.
 *
 * Rule 1: the body is read by its framing. Content-Length and chunked
 * bodies complete when the decoder says so, whatever the connection does
 * next; only when the decoder still wants bytes does the input's ending
 * matter: EOF completes a close-delimited body and cuts any other
 * (LG_ERR_CLOSED_EARLY), and a reset is LG_ERR_RESET in every case, with
 * the bytes that came.
 */
#include "client_internal.h"

#if !defined(LG_NO_CLIENT)

void lg__read_timer_arm(lg_call *call)
{
    uint32_t ms = call->cli->cfg.read_timeout_ms;
    if (ms) lg_timer_start(&call->read_timer, ms);
}

/* The error an ending is, when the message was not complete. */
static int ending_error(const client_conn *c)
{
    switch (lg_stream_ending(&c->s)) {
    case LG_END_EOF:
        return LG_ERR_CLOSED_EARLY;
    case LG_END_RESET:
        return LG_ERR_RESET;
    default: {
        int e = lg_stream_error(&c->s);
        return e ? e : LG_ERR_IO;
    }
    }
}

static int is_redirect(unsigned status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* Follow this response rather than deliver it? Only when it names where to
 * go, and only when the request can be made again: a body that is dropped
 * (303, or 301/302 after POST) or can be sent again (memory, file). */
static int will_follow(const lg_call *call, const lg_head *h)
{
    if ((call->flags & CF_NO_FOLLOW) || !is_redirect(h->status)) return 0;
    if (!lg_head_get(h, "Location").ptr) return 0;
    int becomes_get = h->status == 303 ||
                      ((h->status == 301 || h->status == 302) && call->method_id == LG_METHOD_POST);
    if (!becomes_get && call->body_kind == BODY_PRODUCER) return 0;
    return 1;
}

static void pause_reading(lg_call *call)
{
    call->flags |= CF_PAUSED;
    lg_timer_stop(&call->read_timer);
    lg_stream_read_stop(&call->conn->s);
}

/* Returns 1 when the final head is in and the body follows, 0 to stop
 * (need more bytes, or the call was completed, failed or retried). */
static int recv_head(lg_call *call)
{
    lg_client *cli = call->cli;
    client_conn *c = call->conn;
    lg_stream *s = &c->s;
    for (;;) {
        lg_str in = lg_stream_peek(s);
        int n = 0;
        if (in.len) {
            call->flags |= CF_GOT_BYTES;
            call->stage = LG_STAGE_HEAD;
            n = lg_parse_response(&call->head, in.ptr, in.len, call->prev_len, cli->cfg.max_head_bytes,
                                  call->method_id);
        }
        if (n < 0) {
            lg__call_fail(call, n);
            return 0;
        }
        if (n == 0) {
            if (lg_stream_ending(s) != LG_END_NONE) {
                if (lg__call_can_retry(call)) lg__call_retry(call);
                else lg__call_fail(call, ending_error(c));
                return 0;
            }
            call->prev_len = in.len;
            return 0;
        }
        call->prev_len = 0;
        const lg_head *h = &call->head;
        if (h->framing == LG_FRAMING_TUNNEL) {
            /* 101 to a request that asked for no upgrade (RFC 9110 15.2.2),
             * or a tunnel linger does not open (CONNECT) */
            if (h->status != 101 || !(call->flags & CF_UPGRADE)) {
                lg__call_fail(call, LG_ERR_PROTOCOL);
                return 0;
            }
            call->res = lg__response_new(call, h, in.ptr, (size_t)n);
            if (!call->res) {
                lg__call_fail(call, LG_ERR_NOMEM);
                return 0;
            }
            /* What follows the head is the new protocol's: it stays in
             * the stream for whoever takes it. */
            lg_stream_consume(s, (size_t)n);
            lg__call_upgraded(call);
            return 0;
        }
        if (h->status < 200) {
            /* 1xx: interim, skipped (RFC 9110 15.2); 100 lets the body go */
            if (++call->interim > CLIENT_MAX_INTERIM) {
                lg__call_fail(call, LG_ERR_PROTOCOL);
                return 0;
            }
            lg_stream_consume(s, (size_t)n);
            if (h->status == 100) lg__send_continue(call);
            continue;
        }

        call->res = lg__response_new(call, h, in.ptr, (size_t)n);
        if (!call->res) {
            lg__call_fail(call, LG_ERR_NOMEM);
            return 0;
        }
        lg_stream_consume(s, (size_t)n);
        call->phase = PH_BODY;
        call->stage = LG_STAGE_BODY;
        if (call->upload == UP_SENDING || call->upload == UP_WAIT_CONTINUE ||
            (call->flags & CF_FILE_BUSY)) {
            /* The final answer came before the body went out: the server
             * will not read the rest, so stop sending it (and do not reuse
             * the connection, whose request is unfinished). */
            call->flags |= CF_EARLY;
            lg__send_stop(call);
        }
        lg_body_reader_init(&call->br, &call->res->head);
        call->trailers.num_headers = 0;
        call->br.trailers = &call->trailers;
        /* The trailers must fit the buffer they are parsed in. */
        call->br.max_trailer_bytes = (uint16_t)(cli->cfg.max_head_bytes < LG_DEFAULT_MAX_TRAILERS
                                                    ? cli->cfg.max_head_bytes
                                                    : LG_DEFAULT_MAX_TRAILERS);
        if (will_follow(call, h)) {
            call->flags |= CF_DISCARD;
            return 1;
        }
#if defined(LG_NO_AUTH)
        int answered = 0;
#else
        int answered = lg__auth_answer(call, h);
#endif
        if (answered < 0) {
            lg__call_fail(call, answered);
            return 0;
        }
        if (answered) { /* made again with credentials once this body is read */
            call->flags |= CF_DISCARD | CF_AUTH_RETRY;
            return 1;
        }
        if (!call->on_body && h->framing == LG_FRAMING_LENGTH && h->content_length > call->max_body) {
            lg__call_fail(call, LG_ERR_TOO_LARGE);
            return 0;
        }
        if (call->on_head) {
            lg__user_enter(call);
            call->on_head(call->res, call->user);
            if (!lg__user_leave(call)) return 0;
        }
        return 1;
    }
}

/* Hand body bytes on. Returns 0, LG_ERR_AGAIN (paused), another error, or
 * 1 when the call went away in the user's callback. */
static int take_data(lg_call *call, lg_str d)
{
    if (call->flags & CF_DISCARD) return 0;
    lg_response *res = call->res;
    if (call->on_body) {
        lg__user_enter(call);
        int rc = call->on_body(res, d, call->user);
        if (!lg__user_leave(call)) return 1;
        if (rc < 0) return rc;
    } else {
        int rc = lg__response_body_append(call, d);
        if (rc) return rc;
    }
    res->body_bytes += d.len;
    return 0;
}

static void recv_body(lg_call *call)
{
    client_conn *c = call->conn;
    lg_stream *s = &c->s;
    lg_str in = lg_stream_peek(s);
    const char *p = in.ptr;
    size_t left = in.len;

    if (call->paused_len) {
        lg_str d = { p, call->paused_len };
        int rc = take_data(call, d);
        if (rc == 1) return;
        if (rc == LG_ERR_AGAIN) {
            pause_reading(call);
            return;
        }
        if (rc < 0) {
            lg__call_fail(call, rc);
            return;
        }
        p += d.len;
        left -= d.len;
        call->paused_len = 0;
    }
    for (;;) {
        size_t used;
        lg_str d;
        int ev = lg_body_read(&call->br, p, left, &used, &d);
        if (ev < 0) {
            lg__call_fail(call, ev);
            return;
        }
        p += used;
        left -= used;
        if (ev == LG_BODY_DATA) {
            int rc = take_data(call, d);
            if (rc == 0) continue;
            if (rc == 1) return;
            if (rc == LG_ERR_AGAIN) {
                /* keep the slice at the front of the buffer for later */
                lg_stream_consume(s, (size_t)(d.ptr - in.ptr));
                call->paused_len = d.len;
                pause_reading(call);
                return;
            }
            lg__call_fail(call, rc);
            return;
        }
        if (ev == LG_BODY_DONE) {
            /* the trailers are slices of what is about to be consumed */
            int rc = lg__response_keep_trailers(call);
            lg_stream_consume(s, (size_t)(p - in.ptr));
            if (rc) lg__call_fail(call, rc);
            else lg__call_complete(call);
            return;
        }
        lg_stream_consume(s, (size_t)(p - in.ptr)); /* need more */
        break;
    }
    /* Everything usable is taken and the body goes on: the ending decides. */
    lg_ending e = lg_stream_ending(s);
    if (e == LG_END_NONE) return;
    if (e == LG_END_EOF && lg_body_reader_eof(&call->br) == LG_OK) {
        lg__call_complete(call); /* a close-delimited body ends at EOF */
        return;
    }
    lg__call_fail(call, ending_error(c));
}

void lg__recv_process(lg_call *call)
{
    if (call->flags & CF_PAUSED) return;
    lg__read_timer_arm(call);
    if (call->phase == PH_HEAD && !recv_head(call)) return;
    if (call->phase == PH_BODY) recv_body(call);
}

#endif /* !LG_NO_CLIENT */
