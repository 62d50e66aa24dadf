/*
 * The read forms on top of the stream's buffer: some, exact, line, until
 * EOF. Each copies from the receive buffer into the caller's memory and ends
 * with a cause: the bytes that came always reach the caller, whether the
 * input ended in EOF or in a reset (rule 2).
 */
#include <string.h>

#include "loop_internal.h"
#include "stream_internal.h"

enum { READ_SOME = 1, READ_EXACT, READ_LINE, READ_UNTIL_EOF };

static void complete(lg_stream *s, lg_read_req *r, int status)
{
    s->read_req = NULL;
    r->cb(r, status, r->len);
}

/* The status a read that did not get what it asked for ends with. */
static int ending_status(const lg_stream *s, int eof_status)
{
    switch (s->ending) {
    case LG_END_EOF:
        return eof_status;
    case LG_END_RESET:
        return LG_ERR_RESET;
    default:
        return s->error ? s->error : LG_ERR_IO;
    }
}

static void read_progress(lg_stream *s)
{
    lg_read_req *r = s->read_req;
    lg_str buf = lg_stream_peek(s);
    size_t room = r->cap - r->len;
    size_t take = buf.len < room ? buf.len : room;

    switch (r->mode) {
    case READ_SOME:
        if (buf.len) {
            memcpy(r->dst + r->len, buf.ptr, take);
            r->len += take;
            lg_stream_consume(s, take);
            complete(s, r, LG_OK);
        } else if (s->ending != LG_END_NONE) {
            complete(s, r, ending_status(s, LG_OK)); /* LG_OK with 0 bytes: EOF */
        }
        return;

    case READ_EXACT:
        memcpy(r->dst + r->len, buf.ptr, take);
        r->len += take;
        lg_stream_consume(s, take);
        if (r->len == r->cap) complete(s, r, LG_OK);
        else if (s->ending != LG_END_NONE) complete(s, r, ending_status(s, LG_ERR_CLOSED_EARLY));
        return;

    case READ_LINE: {
        const char *nl = take ? memchr(buf.ptr, '\n', take) : NULL;
        if (nl) take = (size_t)(nl - buf.ptr) + 1;
        memcpy(r->dst + r->len, buf.ptr, take);
        r->len += take;
        lg_stream_consume(s, take);
        if (nl) complete(s, r, LG_OK);
        else if (r->len == r->cap) complete(s, r, LG_ERR_TOO_LARGE);
        else if (s->ending != LG_END_NONE) complete(s, r, ending_status(s, LG_ERR_CLOSED_EARLY));
        return;
    }

    case READ_UNTIL_EOF:
        memcpy(r->dst + r->len, buf.ptr, take);
        r->len += take;
        lg_stream_consume(s, take);
        if (s->ending != LG_END_NONE && buf.len == take) complete(s, r, ending_status(s, LG_OK));
        else if (r->len == r->cap && buf.len > take) complete(s, r, LG_ERR_TOO_LARGE);
        else if (r->len == r->cap && s->ending == LG_END_NONE) {
            /* Full: one more byte (or the EOF) decides between OK and too
             * large; wait for it without taking it. */
        }
        return;

    default:
        return;
    }
}

static int start(lg_stream *s, lg_read_req *req, void *dst, size_t cap, lg_read_cb cb, int mode)
{
    if (s->read_req) return LG_ERR_INVALID_ARG;
    /* A failed send does not stop reading: the peer's last words (a 413,
     * an early response) are still to come. */
    int rc = lg_stream_read_start(s);
    if (rc) return rc;
    req->cb = cb;
    req->dst = dst;
    req->cap = cap;
    req->len = 0;
    req->mode = (uint8_t)mode;
    s->read_req = req;
    lg__stream_reader = read_progress;
    /* Never complete inside this call: callers may rely on the callback
     * running after they return (as libuv promises). */
    lg__stream_schedule_delivery(s, 1);
    return LG_OK;
}

int lg_stream_read_some(lg_stream *s, lg_read_req *req, void *dst, size_t cap, lg_read_cb cb)
{
    if (cap == 0) return LG_ERR_INVALID_ARG;
    return start(s, req, dst, cap, cb, READ_SOME);
}

int lg_stream_read_exact(lg_stream *s, lg_read_req *req, void *dst, size_t n, lg_read_cb cb)
{
    return start(s, req, dst, n, cb, READ_EXACT);
}

int lg_stream_read_line(lg_stream *s, lg_read_req *req, void *dst, size_t cap, lg_read_cb cb)
{
    if (cap == 0) return LG_ERR_INVALID_ARG;
    return start(s, req, dst, cap, cb, READ_LINE);
}

int lg_stream_read_until_eof(lg_stream *s, lg_read_req *req, void *dst, size_t cap,
                             lg_read_cb cb)
{
    return start(s, req, dst, cap, cb, READ_UNTIL_EOF);
}
