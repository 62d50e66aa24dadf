/*
 * linger's row of bench/ws/run.py: a WebSocket echo server on
 * 127.0.0.1, on a port the kernel chooses ("listening on PORT" on stdout).
 *
 * Every message comes back as it came (lg_ws_send; reading pauses while a
 * megabyte of answers waits, as the demo's /ws does). With --broadcast, a
 * message whose first byte is 'B' goes to every open connection instead,
 * through lg_ws_broadcast: one frame, queued by reference on each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linger.h"
#include "linger_ws.h"

static int broadcast;
static lg_ws **conns;  /* the open connections (for broadcasts) */
static size_t nconns, cap;

static void on_open(lg_ws *ws)
{
    if (!broadcast) return;
    if (nconns == cap) {
        cap = cap ? cap * 2 : 1024;
        conns = realloc(conns, cap * sizeof *conns);
        if (!conns) abort();
    }
    lg_ws_set_user(ws, (void *)(uintptr_t)nconns);
    conns[nconns++] = ws;
}

static void on_message(lg_ws *ws, unsigned opcode, lg_str data)
{
    if (broadcast && data.len && data.ptr[0] == 'B') {
        lg_ws_broadcast(conns, nconns, opcode, data.ptr, data.len, LG_WS_SLOW_SKIP);
        return;
    }
    lg_ws_send(ws, opcode, data.ptr, data.len);
    if (lg_ws_queued(ws) >= (1u << 20)) lg_ws_pause(ws);
}

static void on_drain(lg_ws *ws)
{
    lg_ws_resume(ws);
}

static void on_close(lg_ws *ws, unsigned code, lg_str reason)
{
    (void)code;
    (void)reason;
    if (!broadcast) return;
    size_t i = (size_t)(uintptr_t)lg_ws_user(ws);
    if (i >= nconns || conns[i] != ws) return; /* (never opened) */
    conns[i] = conns[--nconns];
    lg_ws_set_user(conns[i], (void *)(uintptr_t)i);
}

static const lg_ws_callbacks cbs = { .on_open = on_open, .on_message = on_message,
                                     .on_drain = on_drain, .on_close = on_close };

static void on_ws(lg_req *req, lg_res *res, void *user)
{
    lg_ws_accept(req, res, NULL, &cbs, user);
}

int main(int argc, char **argv)
{
    broadcast = argc > 1 && !strcmp(argv[1], "--broadcast");
    lg_loop *loop = lg_loop_new(NULL);
    lg_server *srv = lg_server_new(loop, &(lg_server_config){ .max_conns = 8192 });
    if (!loop || !srv) return 1;
    lg_route(srv, "GET", "/", on_ws, NULL);
    if (lg_server_listen(srv, "127.0.0.1:0", 0) != LG_OK) return 1;
    printf("listening on %u\n", (unsigned)lg_server_port(srv));
    fflush(stdout);
    return lg_loop_run(loop);
}
