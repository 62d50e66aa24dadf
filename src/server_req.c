/*
 * What a handler can ask of a request: method, path, query arguments,
 * headers, cookies, route parameters, form fields, the body. Values that
 * need decoding are decoded into the request's scratch space, so the
 * receive buffer (which the head's slices point into) is never rewritten.
 */
#include <string.h>

#include "http1_internal.h"
#include "server_internal.h"

#if !defined(LG_NO_SERVER)

int lg_req_method_id(const lg_req *req)
{
    return req->ex->head.method_id;
}

lg_str lg_req_method(const lg_req *req)
{
    return req->ex->head.method;
}

lg_str lg_req_target(const lg_req *req)
{
    return req->ex->head.target;
}

lg_str lg_req_host(const lg_req *req)
{
    return req->ex->head.host;
}

lg_str lg_req_path(const lg_req *req)
{
    return req->ex->path;
}

lg_str lg_req_query_string(const lg_req *req)
{
    return req->ex->query_raw;
}

lg_str lg_req_header(const lg_req *req, const char *name)
{
    return lg_head_get(&req->ex->head, name);
}

const lg_head *lg_req_head(const lg_req *req)
{
    return &req->ex->head;
}

const lg_addr *lg_req_peer(const lg_req *req)
{
    lg_exchange *ex = req->ex;
    if (!ex->peer.family && ex->conn && lg_stream_peer(&ex->conn->s, &ex->peer) != LG_OK)
        memset(&ex->peer, 0, sizeof ex->peer);
    return &ex->peer;
}

int lg_req_error(const lg_req *req)
{
    return req->ex->error;
}

void *lg_req_server_data(const lg_req *req)
{
    return req->ex->srv->user_data;
}

lg_str lg_req_body(const lg_req *req)
{
    const lg_exchange *ex = req->ex;
    lg_str b = { "", 0 };
    if (ex->body_mode != BODY_BUFFER || !ex->body_done) return b;
    if (ex->body_buf) {
        b.ptr = ex->body_buf;
        b.len = (size_t)ex->body_len;
    } else if (ex->conn && ex->body_kept) {
        b.ptr = lg_stream_peek(&ex->conn->s).ptr + ex->head_len;
        b.len = ex->body_kept;
    }
    return b;
}

lg_str lg_req_param(const lg_req *req, const char *name)
{
    const route_match *m = &req->ex->match;
    lg_str none = { NULL, 0 };
    int i = m->route ? lg__route_param_index(m->route, name, strlen(name)) : -1;
    return i >= 0 && i < m->nparams ? m->params[i] : none;
}

/* --- application/x-www-form-urlencoded (query strings and form bodies) --- */

/* The first pair of a query or form body whose decoded key is `name`, its
 * value decoded into the scratch space. A value with a broken escape is
 * given as it was sent rather than dropped: browsers send such values. */
static lg_str form_lookup(lg_exchange *ex, lg_str form, const char *name)
{
    lg_str none = { NULL, 0 }, key, value;
    size_t nlen = strlen(name);
    lg_query_iter it;
    lg_query_init(&it, form);
    while (lg_query_next(&it, &key, &value)) {
        char kbuf[128];
        int klen = key.len <= sizeof kbuf ? lg_url_decode_to(key, kbuf, sizeof kbuf, LG_URL_FORM) : -1;
        if (klen != (int)nlen || memcmp(kbuf, name, nlen) != 0) continue;
        if (!value.ptr) {
            value.ptr = key.ptr + key.len;
            value.len = 0;
            return value;
        }
        if (lg__exchange_scratch(ex) != LG_OK) return none; /* as when it has no room */
        char *dst = ex->scratch + ex->scratch_len;
        int n = lg_url_decode_to(value, dst, (size_t)(ex->scratch_cap - ex->scratch_len), LG_URL_FORM);
        if (n == LG_ERR_URL) return value;
        if (n < 0) return none;
        ex->scratch_len = (uint16_t)(ex->scratch_len + n);
        lg_str v = { dst, (size_t)n };
        return v;
    }
    return none;
}

lg_str lg_req_query(lg_req *req, const char *name)
{
    return form_lookup(req->ex, req->ex->query_raw, name);
}

lg_str lg_req_form(lg_req *req, const char *name)
{
    lg_str ct = lg_req_header(req, "Content-Type");
    static const char form_type[] = "application/x-www-form-urlencoded";
    lg_str none = { NULL, 0 };
    if (!ct.ptr || ct.len < sizeof form_type - 1) return none;
    if (!lg__ieq(ct.ptr, form_type, sizeof form_type - 1)) return none;
    return form_lookup(req->ex, lg_req_body(req), name);
}

/* --- cookies (RFC 6265 5.4: "a=1; b=2") --- */

lg_str lg_req_cookie(lg_req *req, const char *name)
{
    lg_str none = { NULL, 0 };
    size_t nlen = strlen(name);
    const lg_head *h = &req->ex->head;
    for (uint16_t i = 0; i < h->num_headers; i++) {
        const lg_header *f = &h->headers[i];
        if (!lg__str_ieq(f->name, "cookie")) continue;
        const char *p = f->value.ptr, *end = p + f->value.len;
        while (p < end) {
            while (p < end && (*p == ' ' || *p == ';')) p++;
            const char *semi = memchr(p, ';', (size_t)(end - p));
            const char *pair_end = semi ? semi : end;
            const char *eq = memchr(p, '=', (size_t)(pair_end - p));
            if (eq && (size_t)(eq - p) == nlen && memcmp(p, name, nlen) == 0) {
                lg_str v = { eq + 1, (size_t)(pair_end - eq - 1) };
                while (v.len && v.ptr[v.len - 1] == ' ') v.len--;
                if (v.len >= 2 && v.ptr[0] == '"' && v.ptr[v.len - 1] == '"') {
                    v.ptr++;
                    v.len -= 2;
                }
                return v;
            }
            p = pair_end;
        }
    }
    return none;
}

/* --- streamed bodies --- */

int lg_req_read_body(lg_req *req, uint64_t max_bytes, lg_body_chunk_fn on_chunk, void *user)
{
    lg_exchange *ex = req->ex;
    if (ex->body_mode != BODY_NONE || ex->res.state != RES_NONE) return LG_ERR_INVALID_ARG;
    ex->on_chunk = on_chunk;
    ex->chunk_user = user;
    ex->body_limit = max_bytes ? max_bytes : UINT64_MAX;
    if (ex->head.framing == LG_FRAMING_LENGTH && ex->head.content_length > ex->body_limit)
        return LG_ERR_BODY_TOO_LARGE;
    if (ex->body_done) {
        /* No body at all: say so on the next tick, like any other end. */
        ex->body_mode = BODY_STREAM;
        ex->body_done = 0;
        ex->body.state = 0;
    }
    return lg__conn_stream_body(ex);
}

int lg_req_pause_body(lg_req *req)
{
    return lg__conn_pause_body(req->ex, 1);
}

int lg_req_resume_body(lg_req *req)
{
    return lg__conn_pause_body(req->ex, 0);
}

#endif /* !LG_NO_SERVER */
