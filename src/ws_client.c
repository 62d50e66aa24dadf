/*
 * The client's side of the opening handshake (RFC 6455 4.1): a GET with
 * Upgrade, Connection, a fresh Sec-WebSocket-Key and the version, through
 * the HTTP client (lg_fetch, no redirects), and the 101 answer checked
 * before the stream is taken (lg_response_take_stream).
 */
#include <string.h>

#include "ws_internal.h"
#include "http1_internal.h" /* lg__ieq */

#if !defined(LG_NO_WEBSOCKET) && !defined(LG_NO_CLIENT)

static int has_token(const lg_head *h, const char *name, const char *token)
{
    return lg_list_has(lg_head_get(h, name), token);
}

/* The 101 answer, checked (RFC 6455 4.1, the client's last steps). */
static int check_answer(lg_ws *ws, const lg_response *res)
{
    const lg_head *h = &res->head;
    if (res->status != 101) return LG_ERR_WS_HANDSHAKE;
    if (!has_token(h, "Upgrade", "websocket") || !has_token(h, "Connection", "upgrade"))
        return LG_ERR_WS_HANDSHAKE;
    lg_str key = { ws->key, LG_WS_KEY_BYTES - 1 };
    if (lg_ws_check_accept(key, lg_head_get(h, "Sec-WebSocket-Accept")) != LG_OK)
        return LG_ERR_WS_HANDSHAKE;
    /* None offered, so none may be in use. */
    if (lg_head_get(h, "Sec-WebSocket-Extensions").ptr) return LG_ERR_WS_HANDSHAKE;
    lg_str proto = lg_head_get(h, "Sec-WebSocket-Protocol");
    if (proto.ptr) {
        for (const char *const *p = ws->offered; p && *p; p++)
            if (strlen(*p) == proto.len && memcmp(*p, proto.ptr, proto.len) == 0) {
                ws->protocol = *p;
                return LG_OK;
            }
        return LG_ERR_WS_HANDSHAKE; /* one we did not offer */
    }
    return LG_OK;
}

static void on_response(lg_response *res, void *user)
{
    lg_ws *ws = user;
    ws->call = NULL;
    if (ws->abandoned) { /* told already; the connection is not taken */
        ws->abandoned = 2;
        if (!ws->kept) lg__ws_free(ws);
        return;
    }
    ws->http_status = res->status;
    int err = res->err ? res->err : check_answer(ws, res);
    lg_stream *s = err ? NULL : lg_response_take_stream(res, &lg__ws_stream_callbacks, ws);
    if (!s) {
        lg__ws_failed(ws, err ? err : LG_ERR_PROTOCOL); /* the answer closes gracefully */
        return;
    }
    lg__ws_opened(ws, s);
}

/* "ws://..." is fetched as "http://...", "wss://..." as "https://...". */
static char *http_url(const char *url, size_t *size)
{
    size_t n = strlen(url);
    const char *rest = url, *scheme = "";
    if (n >= 5 && lg__ieq(url, "ws://", 5)) {
        scheme = "http";
        rest = url + 2;
    } else if (n >= 6 && lg__ieq(url, "wss://", 6)) {
        scheme = "https";
        rest = url + 3;
    }
    *size = strlen(scheme) + strlen(rest) + 1;
    char *u = lg__alloc(*size);
    if (!u) return NULL;
    memcpy(u, scheme, strlen(scheme));
    memcpy(u + strlen(scheme), rest, strlen(rest) + 1);
    return u;
}

/* lg_ws_close while connecting: the owner is told at once, and the
 * handshake's answer, whenever it comes, is not taken: the client closes
 * that connection gracefully (lg_call_cancel would reset it). The memory
 * waits for the answer. */
static void give_up(lg_ws *ws)
{
    if (ws->abandoned) return;
    ws->abandoned = 1;
    ws->error = LG_ERR_CANCELLED;
    ws->state = WS_GONE;
    ws->freed_at_close = 1;
    if (ws->cbs->on_close) ws->cbs->on_close(ws, LG_WS_CLOSE_ABNORMAL, LG_STR(""));
}

lg_ws *lg_ws_connect(lg_client *cli, const char *url, const lg_ws_config *cfg,
                     const lg_ws_callbacks *cbs, void *user)
{
    lg_ws *ws = lg__ws_new(NULL, cfg, cbs, user, 1);
    if (!ws) return NULL;
    ws->cancel = give_up;
    ws->offered = cfg ? cfg->protocols : NULL;
    uint8_t nonce[16];
    lg__ws_random(ws, nonce, sizeof nonce);
    lg_ws_key(nonce, ws->key, sizeof ws->key);

    /* The offered subprotocols as one list. */
    size_t plen = 0;
    for (const char *const *p = ws->offered; p && *p; p++) plen += strlen(*p) + 2;
    size_t nuser = cfg ? cfg->num_headers : 0;
    size_t nh = nuser + 5;
    size_t usize = 0;
    char *u = http_url(url, &usize);
    lg_header *h = lg__alloc(nh * sizeof *h);
    char *plist = plen ? lg__alloc(plen) : NULL;
    if (!u || !h || (plen && !plist)) {
        if (u) lg__free(u, usize);
        if (h) lg__free(h, nh * sizeof *h);
        if (plist) lg__free(plist, plen);
        lg__ws_free(ws);
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < nuser; i++) h[k++] = cfg->headers[i];
    h[k++] = (lg_header){ LG_STR("Upgrade"), LG_STR("websocket") };
    h[k++] = (lg_header){ LG_STR("Connection"), LG_STR("Upgrade") };
    h[k++] = (lg_header){ LG_STR("Sec-WebSocket-Key"), { ws->key, LG_WS_KEY_BYTES - 1 } };
    h[k++] = (lg_header){ LG_STR("Sec-WebSocket-Version"), LG_STR("13") };
    if (plen) {
        size_t at = 0;
        for (const char *const *p = ws->offered; *p; p++) {
            if (at) {
                memcpy(plist + at, ", ", 2);
                at += 2;
            }
            memcpy(plist + at, *p, strlen(*p));
            at += strlen(*p);
        }
        h[k++] = (lg_header){ LG_STR("Sec-WebSocket-Protocol"), { plist, at } };
    }
    lg_request req;
    memset(&req, 0, sizeof req);
    req.method = "GET";
    req.url = u;
    req.headers = h;
    req.num_headers = k;
    req.flags = LG_FETCH_NO_REDIRECTS;
    req.timeout_ms = cfg ? cfg->handshake_timeout_ms : 0;
    ws->state = WS_CONNECTING;
    ws->call = lg_fetch(cli, &req, on_response, ws); /* copies what it keeps */
    lg__free(u, usize);
    lg__free(h, nh * sizeof *h);
    if (plist) lg__free(plist, plen);
    if (!ws->call) {
        lg__ws_free(ws);
        return NULL;
    }
    return ws;
}

int lg_ws_http_status(const lg_ws *ws)
{
    return ws->http_status;
}

#endif
