/* A client on the fault injector: one request, its outcome copied out, and
 * the connection's socket for inspection afterwards. */
#ifndef LG_CLIENT_HARNESS_H
#define LG_CLIENT_HARNESS_H

#include "fault/fault_net.h"
#include "loop_internal.h"
#include "test.h"

typedef struct outcome {
    int calls;
    int err, stage, status, ending, flags, framing, redirects;
    uint64_t body_bytes, content_length, sent;
    char body[8192];
    size_t body_len;
    char trailer[64];  /* value of X-Sum, if any */
    char url[256];
    /* streaming */
    int chunks;
    int pause_every;   /* on_body: pause after this many chunks (0: never) */
    lg_call *paused;
    lg_client *cli;
    int free_client;   /* lg_client_free in the callback */
    int keep;          /* lg_response_keep and store it here */
    lg_response *kept;
} outcome;

static void outcome_on_response(lg_response *res, void *user)
{
    outcome *o = user;
    o->calls++;
    o->err = res->err;
    o->stage = res->stage;
    o->status = res->status;
    o->ending = res->ending;
    o->flags = res->flags;
    o->framing = res->framing;
    o->redirects = res->redirects;
    o->body_bytes = res->body_bytes;
    o->content_length = res->content_length;
    o->sent = res->sent_bytes;
    if (res->body.len) {
        size_t n = res->body.len < sizeof o->body ? res->body.len : sizeof o->body;
        memcpy(o->body, res->body.ptr, n);
        o->body_len = n;
        if (res->body.ptr[res->body.len] != 0) {
            fprintf(stderr, "body not NUL-terminated\n");
            o->err = -999;
        }
    }
    lg_str t = lg_head_get(&res->trailers, "X-Sum");
    o->trailer[0] = 0;
    if (t.ptr && t.len < sizeof o->trailer) {
        memcpy(o->trailer, t.ptr, t.len);
        o->trailer[t.len] = 0;
    }
    snprintf(o->url, sizeof o->url, "%s", res->url);
    if (o->keep) {
        lg_response_keep(res);
        o->kept = res;
    }
    if (o->free_client && o->cli) lg_client_free(o->cli);
}

/* on_body: collect into o->body, pausing every pause_every chunks. */
static int outcome_on_body(lg_response *res, lg_str chunk, void *user)
{
    outcome *o = user;
    if (o->pause_every && !o->paused && ++o->chunks % o->pause_every == 0) {
        o->paused = res->call;
        return LG_ERR_AGAIN;
    }
    o->paused = NULL;
    if (o->body_len + chunk.len <= sizeof o->body) {
        memcpy(o->body + o->body_len, chunk.ptr, chunk.len);
        o->body_len += chunk.len;
    }
    return 0;
}

/* Run the loop until the call has answered (resuming a paused body as a
 * consumer would), then free the client and run until everything closed.
 * Returns 0, or -1 on a hang. */
static int outcome_wait(lg_loop *loop, lg_client *cli, outcome *o)
{
    fault_net *fn = lg_port_net_ctx(loop);
    for (int i = 0; i < 100000 && !o->calls; i++) {
        if (o->paused) {
            lg_call *c = o->paused;
            /* resume returns the same bytes: the pause must not lose them */
            o->chunks = 0;
            lg_call_resume(c);
        }
        int before = fn->stalled_waits;
        lg_loop_run_once(loop, -1);
        if (fn->stalled_waits != before) return -1;
    }
    if (!o->calls) return -1;
    lg_client_free(cli);
    return fault_run(loop, 100000) > 0 ? 0 : -1;
}

#endif
