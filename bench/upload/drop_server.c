/*
 * The upload route with nothing but the form layer: POST /drop reads a
 * multipart (or urlencoded) body with lg_req_read_form and drops every
 * file's bytes as they arrive (the callback sink takes them all), then
 * answers the count. bench/upload/route.py measures its CPU per MB next
 * to `linger serve`'s /upload (which also hashes: SHA-256) and nginx.
 *   drop_server      (listens on 127.0.0.1, a port the kernel picks; prints it)
 */
#include <stdio.h>
#include <stdlib.h>

#include "linger.h"

typedef struct drop {
    lg_res *res;
    unsigned long long bytes;
} drop;

static int on_drop_form(lg_form *form, const lg_form_event *ev, void *user)
{
    drop *d = user;
    (void)form;
    if (ev->type == LG_FORM_DATA) {
        d->bytes += ev->data.len;
        return (int)ev->data.len;
    }
    if (ev->type != LG_FORM_END) return LG_OK;
    char out[64];
    if (ev->status == LG_OK) {
        snprintf(out, sizeof out, "%llu\n", d->bytes);
        lg_res_send_str(d->res, 200, out);
    } else {
        lg_res_error(d->res, 400, lg_strerror(ev->status));
    }
    free(d);
    return LG_OK;
}

static void on_drop(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    drop *d = calloc(1, sizeof *d);
    d->res = res;
    lg_form_config cfg = { .max_body_bytes = 1ull << 32 };
    if (lg_req_read_form(req, &cfg, on_drop_form, d) != LG_OK) {
        free(d);
        lg_res_error(res, 400, "not a form");
    }
}

int main(void)
{
    lg_loop *loop = lg_loop_new(NULL);
    lg_server *srv = lg_server_new(loop, NULL);
    lg_route_ex(srv, "POST", "/drop", LG_ROUTE_STREAM_BODY, on_drop, NULL);
    if (lg_server_listen(srv, "127.0.0.1:0", 0) != LG_OK) return 1;
    printf("%u\n", lg_server_port(srv));
    fflush(stdout);
    lg_loop_run(loop);
    return 0;
}
