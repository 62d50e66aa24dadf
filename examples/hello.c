/* The smallest linger server: GET / answers "Hello, World!".
 *   ./hello            then: curl http://127.0.0.1:8080/ */
#include <stdio.h>

#include "linger.h"

static void on_hello(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_header(res, "Content-Type", "text/plain");
    lg_res_send_str(res, 200, "Hello, World!\n");
}

int main(void)
{
    lg_loop *loop = lg_loop_new(NULL);
    lg_server *srv = lg_server_new(loop, NULL);
    lg_route(srv, "GET", "/", on_hello, NULL);
    int rc = lg_server_listen(srv, "127.0.0.1:8080", 0);
    if (rc) {
        fprintf(stderr, "listen: %s\n", lg_strerror(rc));
        return 1;
    }
    printf("listening on http://127.0.0.1:8080/\n");
    lg_loop_run(loop);
    lg_server_free(srv);
    lg_loop_free(loop);
    return 0;
}
