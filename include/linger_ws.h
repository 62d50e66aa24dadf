/*
 * linger — WebSocket (RFC 6455): the sans-IO codec.
 *
 * Optional: a build without it (CMake -DLINGER_WEBSOCKET=OFF, or
 * LG_NO_WEBSOCKET in the build options) has none of these functions.
 *
 * Like the HTTP codec (linger.h, section 2) it does no I/O, allocates
 * nothing and keeps no globals: a parser is a struct you own, payload bytes
 * come back as slices of your buffer (unmasked there, in place), and the
 * writers append to an lg_writer. Sockets, timers, ping intervals and the
 * closing handshake's timing belong to the layers above it; they will come
 * with the server's and the client's WebSocket support (docs/websocket.md).
 *
 * Failures are lg_err codes (LG_ERR_WS_*, in linger.h);
 * lg_err_ws_close_code() gives the status code a Close frame answers each
 * with: 1002 (protocol error), 1007 (invalid UTF-8), 1009 (too big).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef LINGER_WS_H
#define LINGER_WS_H

#include "linger.h"

#if defined(LG_NO_WEBSOCKET)
#error "this linger build leaves WebSocket out (LG_NO_WEBSOCKET)"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * UTF-8 (RFC 3629), checked incrementally
 *
 * Text messages and close reasons must be UTF-8 (RFC 6455 5.6, 8.1). The
 * validator takes a message in pieces of any size, split anywhere (inside
 * a character too), and fails at the first byte that no valid text could
 * have there: an overlong form (C0, E0 80, F0 80), a surrogate (ED A0), a
 * code point over U+10FFFF (F4 90, F5), a stray continuation byte, a lead
 * byte where a continuation byte must be. A character cut off by the end
 * of the message is found by lg_ws_utf8_end.
 * ====================================================================== */

typedef struct lg_ws_utf8 { /* private fields */
    uint8_t need;   /* continuation bytes the current character still needs */
    uint8_t lo, hi; /* the range the next one must be in */
} lg_ws_utf8;

/* Start (or restart) with no text seen. */
void lg_ws_utf8_init(lg_ws_utf8 *v);
/* The next n bytes. LG_OK while the text may still be valid; otherwise
 * LG_ERR_WS_UTF8, and the validator stays failed. */
int lg_ws_utf8_check(lg_ws_utf8 *v, const void *data, size_t n);
/* The text ended here: LG_OK when it ended on a character boundary, else
 * LG_ERR_WS_UTF8. */
int lg_ws_utf8_end(const lg_ws_utf8 *v);

#ifdef __cplusplus
}
#endif

#endif /* LINGER_WS_H */
