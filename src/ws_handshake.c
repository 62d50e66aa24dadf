/*
 * The WebSocket opening handshake's values (RFC 6455 4.1, 4.2): the key a
 * client sends, the Accept a server answers it with, and the choice of a
 * subprotocol. The header fields around them are the HTTP codec's.
 */
#include <string.h>

#include "linger_opts.h" /* LG_NO_WEBSOCKET leaves this file empty */
#if !defined(LG_NO_WEBSOCKET)
#include "linger_ws.h"
#include "sha1_internal.h"

int lg_ws_key(const uint8_t nonce[16], char *out, size_t cap)
{
    if (!out) return LG_ERR_BUFFER_TOO_SMALL;
    return lg_base64_encode(nonce, 16, out, cap);
}

int lg_ws_check_key(lg_str key)
{
    /* 4.2.1: "a base64-encoded value that, when decoded, is 16 bytes in
     * length": 24 characters, the last two "==". */
    uint8_t raw[16];
    if (!key.ptr || key.len != 24) return LG_ERR_WS_HANDSHAKE;
    return lg_base64_decode(key.ptr, key.len, raw, sizeof raw) == 16 ? LG_OK : LG_ERR_WS_HANDSHAKE;
}

int lg_ws_accept_value(lg_str key, char *out, size_t cap)
{
    uint8_t digest[LG_SHA1_BYTES];
    lg__sha1 c;
    if (!out || cap < LG_WS_ACCEPT_BYTES) return LG_ERR_BUFFER_TOO_SMALL;
    lg__sha1_init(&c);
    lg__sha1_update(&c, key.ptr, key.len);
    lg__sha1_update(&c, LG_WS_GUID, sizeof LG_WS_GUID - 1);
    lg__sha1_final(&c, digest);
    return lg_base64_encode(digest, sizeof digest, out, cap);
}

int lg_ws_check_accept(lg_str key, lg_str accept)
{
    char want[LG_WS_ACCEPT_BYTES];
    lg_ws_accept_value(key, want, sizeof want);
    if (!accept.ptr || accept.len != LG_WS_ACCEPT_BYTES - 1) return LG_ERR_WS_HANDSHAKE;
    return memcmp(want, accept.ptr, accept.len) == 0 ? LG_OK : LG_ERR_WS_HANDSHAKE;
}

int lg_ws_choose_protocol(lg_str offered, const char *const *supported)
{
    if (!offered.ptr || !supported) return LG_ERR_NOT_FOUND;
    const char *p = offered.ptr, *end = offered.ptr + offered.len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *q = comma ? comma : end;
        while (p < q && (*p == ' ' || *p == '\t')) p++;
        while (q > p && (q[-1] == ' ' || q[-1] == '\t')) q--;
        for (int i = 0; q > p && supported[i]; i++) {
            if (strlen(supported[i]) == (size_t)(q - p) && memcmp(supported[i], p, (size_t)(q - p)) == 0)
                return i;
        }
        p = comma ? comma + 1 : end;
    }
    return LG_ERR_NOT_FOUND;
}

#endif /* !LG_NO_WEBSOCKET */
