/*
 * linger's WebSocket client driving a conversation with an echo server:
 * the client side of tests/interop/ws/test_libwebsockets.py, against a
 * libwebsockets echo server (lws_echo_server.c --fragment, which echoes a
 * message of more than 1 KiB in three frames).
 *
 *   ws_script_client URL
 *
 * Sends, one after the other, each once the echo of the one before came
 * back and matched: text, binary, empty text, 125/126/65,535/65,536 bytes
 * (the length forms), 200 KiB of two-byte characters and 1 MiB of binary
 * (linger's default limit). Then closes with 4000 "linger done" and waits
 * for the server's answer and its FIN. One line on stdout per event:
 *
 *   echo <n> ok | echo <n> MISMATCH <len>
 *   close <code> <error name> <reason>
 *
 * Exit status 0 when every echo matched and the server answered the Close
 * with the same code and reason, with no error (no reset, no timeout).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linger.h"
#include "linger_ws.h"

static const struct {
    unsigned opcode;
    size_t len;
} plan[] = {
    { LG_WS_TEXT, 17 }, { LG_WS_BINARY, 256 }, { LG_WS_TEXT, 0 },
    { LG_WS_BINARY, 125 }, { LG_WS_BINARY, 126 }, { LG_WS_BINARY, 65535 },
    { LG_WS_BINARY, 65536 }, { LG_WS_TEXT, 200 * 1024 }, { LG_WS_BINARY, 1024 * 1024 },
};
#define PLAN_LEN (sizeof plan / sizeof plan[0])

static lg_client *cli;
static size_t cur;
static char *msg;
static int failed, result = 1;

static void send_current(lg_ws *ws)
{
    size_t len = plan[cur].len;
    free(msg);
    msg = malloc(len + 1);
    if (!msg) abort();
    if (cur == 0) memcpy(msg, "hello from linger", 17);
    else if (plan[cur].opcode == LG_WS_TEXT)
        for (size_t k = 0; k + 1 < len; k += 2) msg[k] = (char)0xC3, msg[k + 1] = (char)(0xA9 - (k / 2) % 9);
    else
        for (size_t k = 0; k < len; k++) msg[k] = (char)(k * 13 + (k >> 9));
    int rc = lg_ws_send(ws, plan[cur].opcode, msg, len);
    if (rc != LG_OK) {
        printf("send %zu failed: %s\n", cur, lg_err_name(rc));
        failed = 1;
        lg_ws_close(ws, LG_WS_CLOSE_INTERNAL_ERROR, NULL);
    }
}

static void on_open(lg_ws *ws)
{
    send_current(ws);
}

static void on_message(lg_ws *ws, unsigned opcode, lg_str data)
{
    if (cur >= PLAN_LEN) return;
    if (opcode == plan[cur].opcode && data.len == plan[cur].len && !memcmp(data.ptr, msg, data.len))
        printf("echo %zu ok\n", cur);
    else {
        printf("echo %zu MISMATCH %zu\n", cur, data.len);
        failed = 1;
    }
    fflush(stdout);
    if (++cur < PLAN_LEN) send_current(ws);
    else lg_ws_close(ws, 4000, "linger done");
}

static void on_close(lg_ws *ws, unsigned code, lg_str reason)
{
    int err = lg_ws_error(ws);
    printf("close %u %s %.*s\n", code, lg_err_name(err), (int)reason.len, reason.ptr);
    fflush(stdout);
    result = failed || cur != PLAN_LEN || err || code != 4000 || reason.len != 11
             || memcmp(reason.ptr, "linger done", 11);
    lg_client_free(cli);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: ws_script_client URL\n");
        return 2;
    }
    static const lg_ws_callbacks cbs = { .on_open = on_open, .on_message = on_message, .on_close = on_close };
    lg_loop *loop = lg_loop_new(NULL);
    cli = lg_client_new(loop, NULL);
    if (!lg_ws_connect(cli, argv[1], NULL, &cbs, NULL)) return 1;
    lg_loop_run(loop);
    lg_loop_free(loop);
    free(msg);
    return result;
}
