/* Entry of the footprint programs: a loop on the default platform, then
 * the server and/or the client (app_*.c), then run. */
#include "linger.h"

void app_server(lg_loop *loop);
void app_client(lg_loop *loop);
void app_ws_client(lg_loop *loop); /* app_ws_client.c */

int main(void)
{
    lg_loop *loop = lg_loop_new(NULL);
#if defined(APP_SERVER)
    app_server(loop);
#endif
#if defined(APP_CLIENT)
    app_client(loop);
#endif
#if defined(APP_WS_CLIENT)
    app_ws_client(loop);
#endif
    return lg_loop_run(loop);
}
