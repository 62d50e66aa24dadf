/*
 * lg_fetch_sync: one request on a private loop and client, for programs
 * that have nothing else to do meanwhile. The loop runs until the response
 * is complete and the connection has closed gracefully, then goes away.
 */
#include <string.h>

#include "client_internal.h"

#if !defined(LG_NO_CLIENT)

typedef struct sync_state {
    lg_client *cli;
    lg_response *res;
} sync_state;

static void sync_done(lg_response *res, void *user)
{
    sync_state *st = user;
    lg_response_keep(res);
    st->res = res;
    /* Nothing else will use the connection: close it now, so that the loop
     * ends as soon as the close is done. */
    lg_client_free(st->cli);
    st->cli = NULL;
}

int lg_fetch_sync(const lg_request *req, lg_response **res)
{
    *res = NULL;
    lg_loop *loop = lg_loop_new(NULL);
    if (!loop) return LG_ERR_NOMEM;
    sync_state st;
    memset(&st, 0, sizeof st);
    /* One request: "Connection: close" lets the server end the connection
     * right after its answer, so nothing waits on a graceful close. */
    st.cli = lg_client_new(loop, &(lg_client_config){ .no_keep_alive = 1 });
    if (!st.cli || !lg_fetch(st.cli, req, sync_done, &st)) {
        if (st.cli) lg_client_free(st.cli);
        lg_loop_run(loop);
        lg_loop_free(loop);
        return LG_ERR_NOMEM;
    }
    lg_loop_run(loop);
    lg_loop_free(loop);
    *res = st.res;
    return st.res ? st.res->err : LG_ERR_NOMEM;
}

#endif /* !LG_NO_CLIENT */
