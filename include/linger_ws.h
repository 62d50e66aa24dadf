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

/* Opcodes (RFC 6455 5.2). 3-7 and 0xB-0xF are reserved. */
enum {
    LG_WS_CONTINUATION = 0x0,
    LG_WS_TEXT = 0x1,
    LG_WS_BINARY = 0x2,
    LG_WS_CLOSE = 0x8,
    LG_WS_PING = 0x9,
    LG_WS_PONG = 0xA
};

/* The bits of a frame's first byte besides its opcode: lg_ws_frame.flags,
 * the flags of the writers, and (the RSV bits) the parser's flags. */
#define LG_WS_FIN  0x80u
#define LG_WS_RSV1 0x40u
#define LG_WS_RSV2 0x20u
#define LG_WS_RSV3 0x10u
/* Parser flag: this end is the client, so frames arrive unmasked. */
#define LG_WS_CLIENT 0x01u

/* Status codes of a Close frame (RFC 6455 7.4.1, and 1012-1014 as IANA
 * registered them). 1005 and 1006 say what happened and are never sent. */
enum {
    LG_WS_CLOSE_NORMAL = 1000,
    LG_WS_CLOSE_GOING_AWAY = 1001,
    LG_WS_CLOSE_PROTOCOL_ERROR = 1002,
    LG_WS_CLOSE_UNSUPPORTED_DATA = 1003,
    LG_WS_CLOSE_NO_STATUS = 1005,    /* the Close frame had no status code */
    LG_WS_CLOSE_ABNORMAL = 1006,     /* the connection ended without a Close frame */
    LG_WS_CLOSE_INVALID_DATA = 1007, /* e.g. a text message that is not UTF-8 */
    LG_WS_CLOSE_POLICY = 1008,
    LG_WS_CLOSE_TOO_BIG = 1009,
    LG_WS_CLOSE_EXTENSION = 1010,    /* (a client) an extension the server did not accept */
    LG_WS_CLOSE_INTERNAL_ERROR = 1011,
    LG_WS_CLOSE_SERVICE_RESTART = 1012,
    LG_WS_CLOSE_TRY_AGAIN_LATER = 1013,
    LG_WS_CLOSE_BAD_GATEWAY = 1014
};

/* A frame header is at most 14 bytes: 2, an extended length of 2 or 8,
 * and a masking key of 4. A control frame's payload is at most 125 bytes,
 * so a whole control frame fits 139. */
#define LG_WS_MAX_HEADER 14u
#define LG_WS_MAX_CONTROL_PAYLOAD 125u
#define LG_WS_MAX_CONTROL_FRAME (LG_WS_MAX_HEADER + LG_WS_MAX_CONTROL_PAYLOAD)

/* The message size limit when lg_ws_parser_init is given 0. */
#ifndef LG_WS_DEFAULT_MAX_MESSAGE
#define LG_WS_DEFAULT_MAX_MESSAGE (1024u * 1024u)
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

/* ======================================================================
 * Frames in: the parser
 *
 * Hand it received bytes; it returns one event at a time:
 *
 *  LG_WS_FRAME      a frame header: p->frame says what it is;
 *  LG_WS_DATA       *data holds payload bytes, unmasked in your buffer;
 *  LG_WS_FRAME_END  the frame's payload is complete.
 *
 * Every frame gives FRAME, then DATA events, then FRAME_END. A data frame's
 * payload comes in pieces as it arrives. A control frame's payload (at most
 * 125 bytes) comes in one DATA event, once it has all arrived, and is
 * already checked: a Close frame's status code and UTF-8 reason are valid
 * (lg_ws_parse_close reads them). An empty payload gives no DATA event.
 *
 * A data message is one frame, or a first frame (LG_WS_TEXT or
 * LG_WS_BINARY) without LG_WS_FIN and continuation frames up to one with
 * it; control frames may come between them. p->message_opcode says which
 * kind the current message is. At the FRAME_END of a data frame with
 * LG_WS_FIN the message is complete, and a text message is valid UTF-8:
 * its UTF-8 is checked piece by piece, across frames, and fails at the
 * first byte that makes it invalid.
 *
 * What the parser refuses, with the code a Close frame answers it with
 * (lg_err_ws_close_code):
 *  LG_ERR_WS_RESERVED_BITS  RSV1-3 set, unless allowed by the flags (1002)
 *  LG_ERR_WS_OPCODE         a reserved opcode (1002)
 *  LG_ERR_WS_CONTROL_FRAME  a control frame without FIN or over 125 bytes (1002)
 *  LG_ERR_WS_LENGTH         a 64-bit length with its top bit set (1002)
 *  LG_ERR_WS_MASK           an unmasked frame to a server, a masked one
 *                           to a client (1002)
 *  LG_ERR_WS_FRAGMENT       a continuation frame with no message to
 *                           continue, or a new message before the last
 *                           one ended (1002)
 *  LG_ERR_WS_CLOSE_PAYLOAD  a Close payload of 1 byte, or a status code
 *                           that may not be sent (1002)
 *  LG_ERR_WS_TOO_BIG        a data message over max_message_bytes, known
 *                           from the header that crosses it (1009)
 *  LG_ERR_WS_UTF8           a text message or a close reason that is not
 *                           UTF-8 (1007)
 * Each is reported as soon as the bytes that decide it have arrived: a
 * reserved opcode with the first byte, a message too big with the header
 * that makes it so, bad UTF-8 with the byte that makes it bad, a Close's
 * code and reason with its whole payload. Errors stay: every later call
 * returns the same one.
 *
 * Not checked: that lengths are in their shortest form (RFC 6455 5.2 asks
 * senders for it; receivers are not told to refuse others, and browsers
 * do not).
 *
 * After a Close frame, whatever follows is consumed and ignored (RFC 6455
 * 5.5.1: nothing may follow it): the parser keeps answering
 * LG_WS_NEED_MORE.
 *
 * Extensions (RFC 6455 9): a negotiated extension that gives the RSV bits a
 * meaning is passed those bits as flags (permessage-deflate: LG_WS_RSV1).
 * The parser then lets them through on every frame, reports them in
 * p->frame.flags, and does not check the UTF-8 of a message whose first
 * frame has an RSV bit set (its payload is not the text yet): the
 * extension's rules are the extension's to check.
 * ====================================================================== */

typedef struct lg_ws_frame {
    uint64_t length;  /* payload bytes */
    uint8_t opcode;   /* LG_WS_TEXT ... */
    uint8_t flags;    /* LG_WS_FIN and the RSV bits, as sent */
    uint8_t masked;   /* 1 when the payload came masked (everything a client sends) */
    uint8_t mask[4];  /* the masking key */
} lg_ws_frame;

typedef struct lg_ws_parser {
    lg_ws_frame frame;          /* the current frame, from LG_WS_FRAME to LG_WS_FRAME_END */
    uint64_t remaining;         /* payload bytes of the frame not yet delivered */
    uint64_t message_bytes;     /* payload bytes of the current data message so far */
    uint64_t max_message_bytes; /* the limit (lg_ws_parser_init) */
    lg_ws_utf8 utf8;            /* private: the current text message's UTF-8 */
    uint8_t message_opcode;     /* LG_WS_TEXT or LG_WS_BINARY: the kind of the current
                                   (or last) data message; 0 before the first */
    uint8_t flags;              /* private: the flags given to lg_ws_parser_init */
    uint8_t state;              /* private */
    int8_t error;               /* private: the error every call returns, once failed */
} lg_ws_parser;

/* Events of lg_ws_parse (all >= 0; errors are negative lg_err). */
enum {
    LG_WS_NEED_MORE = 0, /* everything usable consumed; more bytes are needed */
    LG_WS_FRAME = 1,     /* a frame header: p->frame */
    LG_WS_DATA = 2,      /* payload bytes in *data (a slice of buf, unmasked) */
    LG_WS_FRAME_END = 3  /* the frame (p->frame, still) is complete */
};

/* Start a parser. flags: LG_WS_CLIENT on the client's side (frames must
 * arrive unmasked; a server's must arrive masked), and the RSV bits a
 * negotiated extension allows. max_message_bytes bounds a data message
 * (the sum of its frames' payloads; control frames do not count): 0 means
 * LG_WS_DEFAULT_MAX_MESSAGE, UINT64_MAX no limit. */
void lg_ws_parser_init(lg_ws_parser *p, unsigned flags, uint64_t max_message_bytes);

/*
 * Parse received bytes. Consumes a prefix of buf[0..len), stores its length
 * in *consumed and returns an event or an error. Bytes not consumed must be
 * presented again, followed by new ones: a frame header (2 to 14 bytes) and
 * a control frame's payload (up to 125) are consumed only whole, so a
 * buffer of LG_WS_MAX_CONTROL_FRAME bytes always makes progress. Payload is
 * unmasked in place before it is returned, so buf is written to; present
 * each byte once. Call it in a loop:
 *
 *   for (;;) {
 *       size_t used; lg_str d;
 *       int ev = lg_ws_parse(&ws, rbuf, n, &used, &d);
 *       if (ev < 0) { close_with(lg_err_ws_close_code(ev)); break; }
 *       rbuf += used; n -= used;
 *       if (ev == LG_WS_NEED_MORE) break;              // keep rbuf[0..n), read more
 *       if (ev == LG_WS_DATA) deliver(d);
 *       if (ev == LG_WS_FRAME_END && (ws.frame.flags & LG_WS_FIN)
 *           && ws.frame.opcode < LG_WS_CLOSE) message_done(ws.message_opcode);
 *   }
 */
int lg_ws_parse(lg_ws_parser *p, char *buf, size_t len, size_t *consumed, lg_str *data);

/* Read a Close frame's payload (as the parser delivered it, so already
 * checked): *code is its status code, LG_WS_CLOSE_NO_STATUS (1005) when it
 * has none, and *reason the UTF-8 text after it (possibly empty). Returns
 * LG_OK, or LG_ERR_WS_CLOSE_PAYLOAD / LG_ERR_WS_UTF8 for a payload that is
 * not a valid one. */
int lg_ws_parse_close(lg_str payload, unsigned *code, lg_str *reason);

/* May a Close frame carry this status code (RFC 6455 7.4)? 1000-1003,
 * 1007-1014 and 3000-4999 (registered and private codes) yes; 1004, 1005,
 * 1006, 1015, the rest of 1000-2999 and everything else no. */
int lg_ws_close_code_valid(unsigned code);

/* The status code a Close frame answers an LG_ERR_WS_* error with: 1002,
 * 1007 or 1009; 0 for every other code (not the peer's fault: a layer
 * above may answer its own failures with LG_WS_CLOSE_INTERNAL_ERROR). */
int lg_err_ws_close_code(int err);

/* ======================================================================
 * Frames out: the writers
 *
 * They append to an lg_writer (linger.h: the first failure is kept in
 * w->err, nothing of the failing call is written, and later calls do
 * nothing). A server sends unmasked frames (mask NULL); a client masks
 * each with a new 4-byte key from a strong random source (RFC 6455 5.3),
 * which the caller supplies: the codec has no source of randomness.
 * What the parser would refuse is refused here (LG_ERR_INVALID_ARG): a
 * reserved opcode, a control frame without LG_WS_FIN or over 125 bytes, a
 * length over 2^63 - 1, a close code that may not be sent.
 *
 *   char out[LG_WS_MAX_HEADER + 5]; lg_writer w;
 *   lg_writer_init(&w, out, sizeof out);
 *   lg_ws_write_frame(&w, LG_WS_TEXT, LG_WS_FIN, "Hello", 5, NULL);
 *   if (w.err) return w.err;
 *   send_bytes(out, w.len);               // 81 05 48 65 6c 6c 6f
 * ====================================================================== */

/* A frame header for `length` payload bytes that follow it; flags are
 * LG_WS_FIN and RSV bits. With a mask the header carries it, and the
 * payload must be masked with it (lg_ws_mask) as it is sent. */
void lg_ws_write_header(lg_writer *w, unsigned opcode, unsigned flags, uint64_t length,
                        const uint8_t *mask);

/* A whole frame: its header and payload[0..len), masked in the copy when
 * mask is given (the caller's payload is left alone). */
void lg_ws_write_frame(lg_writer *w, unsigned opcode, unsigned flags, const void *payload,
                       size_t len, const uint8_t *mask);

/* A whole Close frame. code 0 sends none (an empty payload; reason must be
 * empty too); otherwise lg_ws_close_code_valid(code) and reason is UTF-8 of
 * at most 123 bytes (125 with the code). */
void lg_ws_write_close(lg_writer *w, unsigned code, lg_str reason, const uint8_t *mask);

/* XOR src[0..n) with the masking key into dst (dst == src masks in place),
 * starting `offset` bytes into the payload: a payload masked in pieces
 * gives each piece its offset. Masking twice unmasks. */
void lg_ws_mask(void *dst, const void *src, size_t n, const uint8_t mask[4], uint64_t offset);

/* ======================================================================
 * The opening handshake's values (RFC 6455 4)
 *
 * The header fields themselves are the HTTP codec's (lg_head_get,
 * lg_list_has); these compute and check the WebSocket-specific values.
 *
 *   char accept[LG_WS_ACCEPT_BYTES];
 *   lg_str key = lg_head_get(&head, "Sec-WebSocket-Key");
 *   if (lg_ws_check_key(key) != LG_OK) return 400;
 *   lg_ws_accept_value(key, accept, sizeof accept);
 *   lg_write_header(&w, "Sec-WebSocket-Accept", accept);
 * ====================================================================== */

/* The GUID every Sec-WebSocket-Accept is computed with. */
#define LG_WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
/* A Sec-WebSocket-Key (24 characters) and an Accept (28), each with a NUL. */
#define LG_WS_KEY_BYTES 25u
#define LG_WS_ACCEPT_BYTES 29u

/* A client's Sec-WebSocket-Key: base64 of 16 bytes the caller chose at
 * random for this handshake, into out (NUL-terminated). Returns 24 or
 * LG_ERR_BUFFER_TOO_SMALL. */
int lg_ws_key(const uint8_t nonce[16], char *out, size_t cap);

/* Is this a valid Sec-WebSocket-Key: base64 (with padding) of exactly 16
 * bytes? LG_OK or LG_ERR_WS_HANDSHAKE (a server answers it with 400). */
int lg_ws_check_key(lg_str key);

/* Sec-WebSocket-Accept for a key: base64(SHA-1(key + LG_WS_GUID)), 28
 * characters and a NUL into out. Returns 28 or LG_ERR_BUFFER_TOO_SMALL.
 * The key is used as sent; check it first (lg_ws_check_key). */
int lg_ws_accept_value(lg_str key, char *out, size_t cap);

/* A client's check of the server's Sec-WebSocket-Accept against the key
 * it sent: LG_OK when it is the expected value exactly, else
 * LG_ERR_WS_HANDSHAKE. */
int lg_ws_check_accept(lg_str key, lg_str accept);

/* Choose a subprotocol: the first one the client offered (the
 * comma-separated list of its Sec-WebSocket-Protocol fields, in its order of
 * preference) that is in `supported` (a NULL-terminated array). Names are
 * compared exactly (they are case-sensitive tokens); empty elements are
 * skipped. Returns the index in `supported` of the one to answer with, or
 * LG_ERR_NOT_FOUND (answer without Sec-WebSocket-Protocol). */
int lg_ws_choose_protocol(lg_str offered, const char *const *supported);

#ifdef __cplusplus
}
#endif

#endif /* LINGER_WS_H */
