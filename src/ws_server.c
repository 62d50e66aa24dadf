/*
 * The server's side of the opening handshake (RFC 6455 4.2): a route's
 * handler calls lg_ws_accept, which checks the request, answers it with
 * 101 through lg_res_upgrade (or with the error status the RFC asks for),
 * and makes the handed-over stream a WebSocket connection.
 */
#include <string.h>

#include "ws_internal.h"
#include "http1_internal.h" /* lg__str_ieq */

#if !defined(LG_NO_WEBSOCKET) && !defined(LG_NO_SERVER)

static lg_ws *refuse(lg_res *res, int status, const char *message)
{
    lg_res_error(res, status, message);
    return NULL;
}

/* The first subprotocol the client offered (its fields in order, each a
 * list in its order of preference) that the server speaks. */
static const char *choose_protocol(const lg_head *h, const char *const *supported)
{
    if (!supported) return NULL;
    for (uint16_t i = 0; i < h->num_headers; i++) {
        const lg_header *f = &h->headers[i];
        if (!lg__str_ieq(f->name, "Sec-WebSocket-Protocol")) continue;
        int k = lg_ws_choose_protocol(f->value, supported);
        if (k >= 0) return supported[k];
    }
    return NULL;
}

lg_ws *lg_ws_accept(lg_req *req, lg_res *res, const lg_ws_config *cfg, const lg_ws_callbacks *cbs,
                    void *user)
{
    const lg_head *h = lg_req_head(req);
    if (h->method_id != LG_METHOD_GET) {
        lg_res_header(res, "Allow", "GET");
        return refuse(res, 405, "a WebSocket handshake is a GET");
    }
    /* Without "Upgrade: websocket" it is no handshake at all: 426 says
     * what this place speaks (RFC 9110 15.5.22). */
    if (!lg_list_has(lg_req_header(req, "Upgrade"), "websocket")) {
        lg_res_header(res, "Upgrade", "websocket");
        lg_res_header(res, "Sec-WebSocket-Version", "13");
        return refuse(res, 426, "this is a WebSocket endpoint");
    }
    if (h->version_minor != 1) return refuse(res, 400, "a WebSocket handshake needs HTTP/1.1");
    if (!lg_list_has(lg_req_header(req, "Connection"), "upgrade"))
        return refuse(res, 400, "a WebSocket handshake says Connection: Upgrade");
    lg_str version = lg_req_header(req, "Sec-WebSocket-Version");
    if (version.len != 2 || memcmp(version.ptr, "13", 2) != 0) {
        lg_res_header(res, "Sec-WebSocket-Version", "13"); /* RFC 6455 4.4 */
        return refuse(res, 426, "unsupported Sec-WebSocket-Version");
    }
    lg_str key = lg_req_header(req, "Sec-WebSocket-Key");
    if (lg_ws_check_key(key) != LG_OK) return refuse(res, 400, "bad Sec-WebSocket-Key");
    if (cfg && cfg->check_origin && cfg->check_origin(req, lg_req_header(req, "Origin"), user) != 0)
        return refuse(res, 403, "origin not allowed");

    lg_ws *ws = lg__ws_new(NULL, cfg, cbs, user, 0);
    if (!ws) return refuse(res, 503, "out of memory");
    char accept[LG_WS_ACCEPT_BYTES];
    lg_ws_accept_value(key, accept, sizeof accept);
    ws->protocol = choose_protocol(h, cfg ? cfg->protocols : NULL);
    if (lg_res_header(res, "Sec-WebSocket-Accept", accept) != LG_OK ||
        (ws->protocol && lg_res_header(res, "Sec-WebSocket-Protocol", ws->protocol) != LG_OK)) {
        lg__ws_free(ws);
        return refuse(res, 500, "response headers full");
    }
    lg_stream *s = lg_res_upgrade(res, "websocket", &lg__ws_stream_callbacks, ws);
    if (!s) {
        lg__ws_free(ws); /* answered 500, or the client is gone */
        return NULL;
    }
    lg__ws_opened(ws, s);
    return ws;
}

#endif
