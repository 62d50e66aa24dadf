/* A streamed answer: numbers produced as fast as the client takes them,
 * with back-pressure (the fill callback runs only when there is room), in
 * chunked encoding.
 *   curl -N http://127.0.0.1:8080/count?to=100000 */
#include <stdio.h>
#include <stdlib.h>

#include "linger.h"

typedef struct counter {
    long next, to;
} counter;

static void fill(lg_res *res, void *user)
{
    counter *c = user;
    char line[32];
    for (int i = 0; i < 256 && c->next <= c->to; i++) {
        int n = snprintf(line, sizeof line, "%ld\n", c->next);
        int rc = lg_res_write(res, line, (size_t)n);
        if (rc == LG_ERR_LIMIT) return;          /* full: called again on drain */
        if (rc != LG_OK) c->next = c->to + 1;    /* the client left */
        else c->next++;
    }
    if (c->next > c->to) {
        lg_res_end(res);
        free(c);
    }
}

static void on_count(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_str to = lg_req_query(req, "to");
    counter *c = malloc(sizeof *c);
    if (!c) {
        lg_res_error(res, 503, "out of memory");
        return;
    }
    c->next = 1;
    c->to = to.ptr ? atol(to.ptr) : 1000;
    lg_res_header(res, "Content-Type", "text/plain");
    lg_res_stream(res, 200, fill, c);
}

int main(void)
{
    lg_loop *loop = lg_loop_new(NULL);
    lg_server *srv = lg_server_new(loop, NULL);
    lg_route(srv, "GET", "/count", on_count, NULL);
    if (lg_server_listen(srv, "127.0.0.1:8080", 0) != LG_OK) return 1;
    printf("streaming on http://127.0.0.1:8080/count?to=N\n");
    lg_loop_run(loop);
    lg_server_free(srv);
    lg_loop_free(loop);
    return 0;
}
