/*
 * UTF-8 validation, incremental (RFC 3629 4), for WebSocket text messages
 * and close reasons (RFC 6455 5.6, 8.1).
 *
 * RFC 3629's grammar says, for each lead byte, which range the byte after
 * it may take; every other continuation byte is 80-BF:
 *
 *   00-7F                   one byte
 *   C2-DF  80-BF            (C0, C1 would be overlong)
 *   E0     A0-BF  80-BF     (E0 80-9F: overlong)
 *   E1-EC  80-BF  80-BF
 *   ED     80-9F  80-BF     (ED A0-BF: surrogates D800-DFFF)
 *   EE-EF  80-BF  80-BF
 *   F0     90-BF  80-BF x2  (F0 80-8F: overlong)
 *   F1-F3  80-BF  80-BF x2
 *   F4     80-8F  80-BF x2  (F4 90-BF: over U+10FFFF; F5-FF never)
 *
 * So the state is how many continuation bytes are still owed and the range
 * of the next one, and a byte is refused the moment it leaves the range:
 * the earliest point at which the text is known to be invalid (Autobahn's
 * case 6 "fail fast" checks exactly this). Pieces may end anywhere.
 */
#include <string.h>

#include "linger_opts.h" /* LG_NO_WEBSOCKET leaves this file empty */
#if !defined(LG_NO_WEBSOCKET)
#include "linger_ws.h"

void lg_ws_utf8_init(lg_ws_utf8 *v)
{
    v->need = 0;
    v->lo = 0x80;
    v->hi = 0xBF;
}

/* A lead byte: the continuation bytes it needs and the range of the first,
 * or 0 when it cannot start a character. */
static int lead(lg_ws_utf8 *v, unsigned c)
{
    v->lo = 0x80;
    v->hi = 0xBF;
    if (c < 0xC2) return 0; /* a continuation byte, or C0/C1 (overlong) */
    if (c < 0xE0) {
        v->need = 1;
    } else if (c < 0xF0) {
        v->need = 2;
        if (c == 0xE0) v->lo = 0xA0;
        if (c == 0xED) v->hi = 0x9F;
    } else if (c < 0xF5) {
        v->need = 3;
        if (c == 0xF0) v->lo = 0x90;
        if (c == 0xF4) v->hi = 0x8F;
    } else {
        return 0;
    }
    return 1;
}

int lg_ws_utf8_check(lg_ws_utf8 *v, const void *data, size_t n)
{
    if (v->need > 3) return LG_ERR_WS_UTF8; /* failed before */
    if (n == 0) return LG_OK;                /* (data may be NULL then) */
    const unsigned char *p = data, *end = p + n;
    while (p < end) {
        if (v->need == 0) {
            /* ASCII, four bytes at a time: most text is. */
            while (end - p >= 4) {
                uint32_t w;
                memcpy(&w, p, 4);
                if (w & 0x80808080u) break;
                p += 4;
            }
            if (p == end) break;
            unsigned c = *p++;
            if (c < 0x80) continue;
            if (!lead(v, c)) goto fail;
            continue;
        }
        unsigned c = *p++;
        if (c < v->lo || c > v->hi) goto fail;
        v->need--;
        v->lo = 0x80;
        v->hi = 0xBF;
    }
    return LG_OK;
fail:
    v->need = 0xFF; /* stays failed */
    return LG_ERR_WS_UTF8;
}

int lg_ws_utf8_end(const lg_ws_utf8 *v)
{
    return v->need == 0 ? LG_OK : LG_ERR_WS_UTF8;
}

#endif /* !LG_NO_WEBSOCKET */
