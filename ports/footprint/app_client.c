/* The client half of the footprint application: one GET whose status
 * the device acts on (see app_server.c for what is measured). */
#include "linger.h"

static int last_status;

static void on_response(lg_response *res, void *user)
{
    (void)user;
    last_status = res->err ? -1 : res->status;
}

void app_client(lg_loop *loop);
void app_client(lg_loop *loop)
{
    lg_client *cli = lg_client_new(loop, NULL);
    lg_fetch(cli, &(lg_request){ .url = "http://10.0.0.2/api" }, on_response, NULL);
}
