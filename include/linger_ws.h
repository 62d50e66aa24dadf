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

/* ======================================================================
 * Connections: WebSocket on linger's server and client
 *  (src/ws_conn.c, ws_server.c, ws_client.c, ws_post.c)
 *
 * A WebSocket is a connection handed over after "101 Switching
 * Protocols": lg_ws_accept answers a request in a route's handler,
 * lg_ws_connect asks a server through an lg_client. Either gives an lg_ws,
 * which does the rest of RFC 6455 on the loop's thread:
 *
 *  - receiving: whole messages (on_message, up to max_message_bytes,
 *    assembled where a message spans reads; a message that arrived whole
 *    is handed over in the receive buffer, unmasked in place, no copy) or
 *    pieces as they arrive (streaming: on_fragment); text checked as UTF-8
 *    across frames and pieces. Every refusal of the codec is answered
 *    with its Close code (1002, 1007, 1009) and the connection closed.
 *  - pings answered (the latest one, while the send queue is full); a
 *    Ping after ping_interval_ms without a byte from the peer, and a
 *    peer silent for pong_timeout_ms after it is taken for dead (closed,
 *    LG_ERR_TIMEOUT).
 *  - the closing handshake, either side first, with a status code and a
 *    reason, then TCP's close by rule 3 (lg_stream_close: FIN, and the
 *    peer's input read until its EOF, bounded): the server closes first
 *    (RFC 6455 7.1.1), at once since the peer's Close promised nothing
 *    more; the client waits for the server's FIN, at most
 *    close_timeout_ms. A peer that never answers our Close is closed
 *    after close_timeout_ms all the same. Nothing is ever reset.
 *  - sending: each call queues one whole frame, so frames never
 *    interleave; while max_queued_bytes wait for the peer, data messages
 *    are refused with LG_ERR_AGAIN (nothing queued) and on_drain says when
 *    the queue has emptied. A peer that takes nothing for the stream's
 *    send timeout is closed.
 * An echo server:
 *
 *   static void on_message(lg_ws *ws, unsigned opcode, lg_str data) {
 *       lg_ws_send(ws, opcode, data.ptr, data.len);     // echo
 *   }
 *   static const lg_ws_callbacks echo = { .on_message = on_message };
 *
 *   static void on_ws(lg_req *req, lg_res *res, void *user) {
 *       lg_ws_accept(req, res, NULL, &echo, user);      // 101, or an error answer
 *   }
 *
 *   lg_route(srv, "GET", "/ws", on_ws, NULL);
 *
 * Every callback runs on the loop's thread, and every call but
 * lg_ws_post and lg_ws_release must be made there. on_close comes exactly
 * once, last; the lg_ws is freed when it returns (unless lg_ws_keep).
 * ====================================================================== */

typedef struct lg_ws lg_ws;

/* A time in lg_ws_config that never comes. */
#define LG_WS_NEVER UINT32_MAX

typedef struct lg_ws_config {
    uint64_t max_message_bytes; /* a data message, whole or streamed (0: 1 MiB,
                                   LG_WS_DEFAULT_MAX_MESSAGE); larger: Close 1009 */
    uint32_t max_queued_bytes;  /* while this much waits to be sent, data messages are
                                   refused with LG_ERR_AGAIN (default 1 MiB) */
    uint32_t ping_interval_ms;  /* Ping after this long without a byte from the peer
                                   (default 30000; LG_WS_NEVER: none) */
    uint32_t pong_timeout_ms;   /* after that Ping, a peer silent this long is dead
                                   (default 20000) */
    uint32_t close_timeout_ms;  /* how long to wait for the peer's Close, and a client
                                   then for the server's FIN (default 5000) */
    uint8_t streaming;          /* 1: data comes to on_fragment as it arrives */
    /* Subprotocols: a server's, NULL-terminated, the first the client
     * offered of them is chosen; a client's, offered in its order of
     * preference. The array must outlive the connections (lg_ws_protocol
     * returns one of its strings). */
    const char *const *protocols;
#if !defined(LG_NO_SERVER)
    /* Server: the handshake is refused with 403 unless this returns 0
     * (origin: the Origin field, ptr NULL when there is none: not a
     * browser). NULL: any origin. `user` is lg_ws_accept's. */
    int (*check_origin)(lg_req *req, lg_str origin, void *user);
#endif
    /* Client: more fields for the handshake's request (Origin,
     * Authorization, Cookie ...); copied. */
    const lg_header *headers;
    size_t num_headers;
    /* Client: n unpredictable bytes into buf (the masking keys and the
     * handshake's nonce, RFC 6455 5.3, 4.1). NULL: getrandom() on Linux;
     * elsewhere a generator seeded from the clock and addresses, which is
     * NOT unpredictable: a device sets its own (esp_fill_random ...). */
    void (*random)(void *buf, size_t n, void *user);
    void *random_user;
    uint32_t handshake_timeout_ms; /* client: the whole handshake (0: the client's timeout) */
} lg_ws_config;

/* lg_ws_callbacks.on_fragment flags */
#define LG_WS_FIRST 0x01u /* the first piece of a message */
#define LG_WS_LAST  0x02u /* the last piece of a message (its data may be empty) */

typedef struct lg_ws_callbacks {
    /* Optional: open; sending may begin. A server's comes inside
     * lg_ws_accept, before it returns. */
    void (*on_open)(lg_ws *ws);
    /* A whole data message: LG_WS_TEXT (valid UTF-8) or LG_WS_BINARY.
     * data is valid during the call only. */
    void (*on_message)(lg_ws *ws, unsigned opcode, lg_str data);
    /* With cfg.streaming: the message's bytes as they arrive, in order,
     * LG_WS_FIRST on the first piece and LG_WS_LAST on the last; text so
     * far valid UTF-8 (a piece may end inside a character). */
    void (*on_fragment)(lg_ws *ws, unsigned opcode, lg_str data, unsigned flags);
    /* Optional: a Pong came (to our Ping, or unasked). */
    void (*on_pong)(lg_ws *ws, lg_str data);
    /* Optional: the send queue has emptied after it was full: a send on
     * the loop's thread said LG_ERR_AGAIN, or left max_queued_bytes or
     * more waiting (an owner that pauses its reading then resumes here). */
    void (*on_drain)(lg_ws *ws);
    /* The connection is closed (TCP too), or could not be opened. code:
     * the peer's Close status (LG_WS_CLOSE_NO_STATUS, 1005, when its Close
     * had none), with its reason; LG_WS_CLOSE_ABNORMAL (1006) when no
     * Close came from the peer (lg_ws_error says why). Last callback. */
    void (*on_close)(lg_ws *ws, unsigned code, lg_str reason);
} lg_ws_callbacks;

#if !defined(LG_NO_SERVER)
/* In a handler (or later, while holding the request): check the opening
 * handshake (RFC 6455 4.2.1) and answer it. GET, HTTP/1.1, "Upgrade:
 * websocket", "Connection: Upgrade" and a valid Sec-WebSocket-Key, or 400
 * (405 for another method, 426 with "Upgrade: websocket" without the
 * Upgrade); "Sec-WebSocket-Version: 13", or 426 saying so; check_origin,
 * or 403. Then 101 with the Sec-WebSocket-Accept, the chosen subprotocol
 * and the headers added with lg_res_header, and on_open. Returns the
 * connection, or NULL when it answered with an error status instead (or
 * out of memory: 503; or the client had gone). cfg may be NULL
 * (defaults) and need not outlive the call, but cfg->protocols must. */
lg_ws *lg_ws_accept(lg_req *req, lg_res *res, const lg_ws_config *cfg,
                    const lg_ws_callbacks *cbs, void *user);
#endif

#if !defined(LG_NO_CLIENT)
/* Connect to "ws://host[:port]/path" (or "http://...", which is the
 * same; "wss://" and "https://" need a client with a TLS transport)
 * through cli: a GET with the handshake's fields, answered with 101 and
 * the right Sec-WebSocket-Accept, Upgrade and Connection, no extension
 * and one of the offered subprotocols or none; then on_open. Any other
 * outcome ends in on_close with 1006 and lg_ws_error saying why: the
 * client's error (LG_ERR_REFUSED, LG_ERR_TIMEOUT ...) or
 * LG_ERR_WS_HANDSHAKE (lg_ws_http_status: the status the server
 * answered). Returns the connection (not open yet), or NULL when out of
 * memory or for a URL that does not parse (no callback then). cfg may be
 * NULL; it need not outlive the call, but cfg->protocols must. The
 * connection leaves the client's pool once open; lg_client_free closes
 * it (gracefully: 1006 for us, as the peer is not asked). */
lg_ws *lg_ws_connect(lg_client *cli, const char *url, const lg_ws_config *cfg,
                     const lg_ws_callbacks *cbs, void *user);
/* The status a server answered the handshake with (101 once open; 0
 * before, or when no answer came). */
int lg_ws_http_status(const lg_ws *ws);
#endif

/* Send a data message (LG_WS_TEXT or LG_WS_BINARY) as one frame. The
 * bytes are sent or copied before this returns. LG_OK; LG_ERR_AGAIN when
 * max_queued_bytes or more already wait (nothing queued: try again from
 * on_drain); LG_ERR_WS_UTF8 for text that is not UTF-8 and
 * LG_ERR_INVALID_ARG for another opcode (nothing sent); LG_ERR_CLOSED once
 * the closing handshake has begun or before the connection is open;
 * LG_ERR_NOMEM. */
int lg_ws_send(lg_ws *ws, unsigned opcode, const void *data, size_t len);
int lg_ws_send_text(lg_ws *ws, const char *text, size_t len);
int lg_ws_send_binary(lg_ws *ws, const void *data, size_t len);
/* A Ping with up to 125 bytes of payload (the Pong comes to on_pong). */
int lg_ws_send_ping(lg_ws *ws, const void *data, size_t len);
/* Start the closing handshake: a Close frame with code (0: none; else
 * one lg_ws_close_code_valid accepts) and reason (NULL or UTF-8 of at
 * most 123 bytes), after what is queued. No message can be sent after it;
 * what the peer sent before its own Close is still delivered. Then as
 * described above, on_close last. While a
 * client's handshake is under way, on_close comes at once, before this
 * returns (1006, LG_ERR_CANCELLED), and the server's answer is left to
 * close gracefully when it comes. LG_OK, LG_ERR_INVALID_ARG (code or
 * reason), or LG_ERR_CLOSED when closing already. */
int lg_ws_close(lg_ws *ws, unsigned code, const char *reason);

/* Back-pressure on receiving: after lg_ws_pause no message is delivered
 * and nothing read (the peer waits in TCP's window) until lg_ws_resume;
 * no ping timer runs meanwhile. May be called from on_message (the rest
 * of what is buffered waits). */
void lg_ws_pause(lg_ws *ws);
void lg_ws_resume(lg_ws *ws);

/* Bytes waiting to be sent. */
uint64_t lg_ws_queued(const lg_ws *ws);
/* The user pointer given to lg_ws_accept / lg_ws_connect, or set. */
void *lg_ws_user(const lg_ws *ws);
void lg_ws_set_user(lg_ws *ws, void *user);
/* The subprotocol agreed on (a string of cfg->protocols), or NULL. */
const char *lg_ws_protocol(const lg_ws *ws);
/* Why the connection ended other than by a clean closing handshake (in
 * on_close): the codec's refusal of the peer's frames (LG_ERR_WS_*),
 * LG_ERR_TIMEOUT (dead peer, or no Close/FIN in time), LG_ERR_RESET,
 * LG_ERR_CLOSED_EARLY (EOF without a Close), the client's errors; 0. */
int lg_ws_error(const lg_ws *ws);
/* The connection's stream (lg_stream_peer for the address), or NULL
 * while not open. */
lg_stream *lg_ws_stream(const lg_ws *ws);

/* Broadcast: send one message to n connections, building its frame once
 * and queuing that one copy on every connection (lg_stream_write_ref,
 * reference-counted) instead of a copy each. Connections not open, or
 * closing, are passed over. A connection whose queue is full (as
 * lg_ws_send would say LG_ERR_AGAIN) is skipped (LG_WS_SLOW_SKIP: it
 * misses this message) or closed with 1008 (LG_WS_SLOW_CLOSE). A
 * client's connections get a masked copy each (lg_ws_send). Returns how
 * many connections it was queued on, or LG_ERR_WS_UTF8,
 * LG_ERR_INVALID_ARG or LG_ERR_NOMEM (sent to none). */
enum { LG_WS_SLOW_SKIP = 0, LG_WS_SLOW_CLOSE = 1 };
long lg_ws_broadcast(lg_ws *const *conns, size_t n, unsigned opcode, const void *data, size_t len,
                     unsigned slow_policy);

/* Other threads and tasks. lg_ws_post is the one way for another thread
 * to send: it copies the message, posts it (lg_loop_post) to the loop's
 * thread, which makes it a frame in place (masked for a client) and
 * queues it whole, so two senders never interleave a frame. LG_OK;
 * LG_ERR_AGAIN while frames posted and not yet sent add up to
 * max_queued_bytes (nothing posted: try again later); LG_ERR_NOMEM;
 * LG_ERR_INVALID_ARG and LG_ERR_WS_UTF8 as lg_ws_send; LG_ERR_CLOSED for
 * a client's connection not open yet; LG_ERR_UNSUPPORTED without threads
 * (LG_NO_THREADS) or a lock-free C11 atomic (Cortex-M0+, RV32 without the
 * A extension). A frame that arrives after the closing handshake began is
 * dropped. The lg_ws must stay valid meanwhile: lg_ws_keep it (on the
 * loop's thread, before another thread may use it), and lg_ws_release it
 * (from any thread, once: after the last lg_ws_post of that thread, whose
 * frames still go out first) to let it be freed after on_close. */
int lg_ws_post(lg_ws *ws, unsigned opcode, const void *data, size_t len);
void lg_ws_keep(lg_ws *ws);
void lg_ws_release(lg_ws *ws);

#ifdef __cplusplus
}
#endif

#endif /* LINGER_WS_H */
