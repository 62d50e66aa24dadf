/*
 * linger's WebSocket client as an echo client, for the client side of the
 * conformance suite (tests/interop/ws/test_conformance_client.py) and the
 * Python websockets server (test_websockets.py): connects to argv[1],
 * sends every message back as it came, and prints how the connection
 * ended, one line on stdout:
 *
 *   open <subprotocol or ->
 *   close <code> <error name> <reason>
 *
 * Options after the URL: --protocol P (offered), --close-timeout MS.
 * Exit status 0 when it opened, 1 when it never did.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linger.h"
#include "linger_ws.h"

static lg_client *cli;
static int opened;

static void on_open(lg_ws *ws)
{
    const char *p = lg_ws_protocol(ws);
    printf("open %s\n", p ? p : "-");
    fflush(stdout);
    opened = 1;
}

static void on_message(lg_ws *ws, unsigned opcode, lg_str data)
{
    int rc = lg_ws_send(ws, opcode, data.ptr, data.len);
    if (rc == LG_ERR_AGAIN) {
        /* (the suites' messages are small and read promptly) */
        fprintf(stderr, "ws_echo_client: queue full, a message not echoed\n");
    }
}

static void on_close(lg_ws *ws, unsigned code, lg_str reason)
{
    printf("close %u %s %.*s\n", code, lg_err_name(lg_ws_error(ws)), (int)reason.len, reason.ptr);
    fflush(stdout);
    lg_client_free(cli);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: ws_echo_client URL [--protocol P]... [--close-timeout MS]\n");
        return 2;
    }
    const char *protocols[9];
    size_t np = 0;
    lg_ws_config cfg = { 0 };
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--protocol") && np < 8) protocols[np++] = argv[i + 1];
        else if (!strcmp(argv[i], "--close-timeout")) cfg.close_timeout_ms = (uint32_t)atoi(argv[i + 1]);
    }
    protocols[np] = NULL;
    if (np) cfg.protocols = protocols;
    static const lg_ws_callbacks cbs = { .on_open = on_open, .on_message = on_message, .on_close = on_close };
    lg_loop *loop = lg_loop_new(NULL);
    cli = lg_client_new(loop, NULL);
    if (!lg_ws_connect(cli, argv[1], &cfg, &cbs, NULL)) return 1;
    lg_loop_run(loop);
    lg_loop_free(loop);
    return opened ? 0 : 1;
}
