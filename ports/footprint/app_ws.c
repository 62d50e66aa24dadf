/* The WebSocket codec as a server uses it, on its own (no loop, no
 * stream): the handshake's values, then frames parsed from a receive
 * buffer, text and binary echoed, pings answered, and a Close answered with
 * the peer's code or the one an error calls for. scripts/size.sh links it
 * to measure what the codec costs in flash. Never run. */
#include "linger_ws.h"

char rx[512], tx[512];
size_t rx_len;
lg_str key_field, protocols_field;
volatile size_t sink;

static void send_out(const lg_writer *w)
{
    sink = w->len;
}

static int handshake(void)
{
    static const char *const supported[] = { "chat", NULL };
    char accept[LG_WS_ACCEPT_BYTES];
    if (lg_ws_check_key(key_field) != LG_OK) return -1;
    lg_ws_accept_value(key_field, accept, sizeof accept);
    sink = (size_t)lg_ws_choose_protocol(protocols_field, supported) + (size_t)accept[0];
    return 0;
}

int main(void)
{
    if (handshake() != 0) return 1;
    lg_ws_parser ws;
    lg_ws_parser_init(&ws, 0, 4096);
    char *p = rx;
    size_t n = rx_len;
    lg_writer w;
    for (;;) {
        size_t used;
        lg_str d;
        int ev = lg_ws_parse(&ws, p, n, &used, &d);
        lg_writer_init(&w, tx, sizeof tx);
        if (ev < 0) {
            lg_ws_write_close(&w, (unsigned)lg_err_ws_close_code(ev), LG_STR(""), NULL);
            send_out(&w);
            return 1;
        }
        p += used;
        n -= used;
        if (ev == LG_WS_NEED_MORE) break;
        if (ev == LG_WS_FRAME && ws.frame.opcode < LG_WS_CLOSE)
            lg_ws_write_header(&w, ws.frame.opcode, ws.frame.flags, ws.frame.length, NULL);
        if (ev == LG_WS_DATA && ws.frame.opcode == LG_WS_PING)
            lg_ws_write_frame(&w, LG_WS_PONG, LG_WS_FIN, d.ptr, d.len, NULL);
        if (ev == LG_WS_DATA && ws.frame.opcode == LG_WS_CLOSE) {
            unsigned code;
            lg_str reason;
            lg_ws_parse_close(d, &code, &reason);
            lg_ws_write_close(&w, code == LG_WS_CLOSE_NO_STATUS ? 0 : code, LG_STR(""), NULL);
        }
        if (ev == LG_WS_DATA && ws.frame.opcode < LG_WS_CLOSE) lg_write_bytes(&w, d.ptr, d.len);
        send_out(&w);
    }
    return 0;
}
