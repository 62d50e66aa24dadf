/*
 * WebSocket frames (RFC 6455 5): the parser, the close payload, masking,
 * and the writers. Sans-IO like the HTTP codec: no I/O, no allocation,
 * payload as slices of the caller's buffer, unmasked there in place.
 *
 * The parser's states, one frame at a time:
 *
 *   HEADER ──whole header──> DATA ──payload delivered──> (FRAME_END) HEADER
 *     │     (data frame)       (in pieces, as it comes)
 *     └──whole header──> CONTROL ──whole payload──> (FRAME_END) HEADER
 *        (control frame)   (<= 125 bytes, one piece)   └─ a Close: CLOSED
 *
 * CLOSED consumes everything (nothing may follow a Close frame); any
 * failure is kept in p->error and returned by every later call.
 *
 * A header and a control frame's payload are only consumed whole: the
 * caller presents the rest again with more bytes, so the parser needs no
 * copy of them (the HTTP codec's trailers work the same way). Checks are
 * made on whatever part of the header has arrived, so an error is reported
 * with the byte that decides it: a reserved opcode with the first byte, a
 * 64-bit length with its top bit set with the third.
 */
#include <string.h>

#include "linger_opts.h" /* LG_NO_WEBSOCKET leaves this file empty */
#if !defined(LG_NO_WEBSOCKET)
#include "linger_ws.h"

enum ws_state {
    ST_HEADER = 0,
    ST_DATA,    /* a data frame's payload: p->remaining bytes to deliver */
    ST_CONTROL, /* a control frame's payload, delivered once it is all there */
    ST_CLOSED   /* after a Close frame */
};

#define RSV_BITS (LG_WS_RSV1 | LG_WS_RSV2 | LG_WS_RSV3)
/* Private bits of lg_ws_parser.flags, beside LG_WS_CLIENT and RSV_BITS. */
#define IN_MESSAGE 0x02u /* a message's last frame had no FIN: continuations must follow */
#define CHECK_UTF8 0x04u /* the current message is text whose UTF-8 the parser checks */

static int is_control(unsigned opcode)
{
    return (opcode & 0x8u) != 0;
}

static int is_known_opcode(unsigned opcode)
{
    return opcode <= LG_WS_BINARY || (opcode >= LG_WS_CLOSE && opcode <= LG_WS_PONG);
}

void lg_ws_parser_init(lg_ws_parser *p, unsigned flags, uint64_t max_message_bytes)
{
    memset(p, 0, sizeof *p);
    p->flags = (uint8_t)(flags & (LG_WS_CLIENT | RSV_BITS));
    p->max_message_bytes = max_message_bytes ? max_message_bytes : LG_WS_DEFAULT_MAX_MESSAGE;
    lg_ws_utf8_init(&p->utf8);
}

/* ---------------------------------------------------------------------------
 * Close frames (RFC 6455 5.5.1, 7.4)
 * ------------------------------------------------------------------------ */

int lg_ws_close_code_valid(unsigned code)
{
    /* 1004 is reserved, 1005 and 1006 are never sent, 1015 is TLS's
     * (reported, never sent); 1012-1014 were registered after the RFC;
     * 1016-2999 are unassigned or reserved for later RFCs; 3000-3999
     * registered by libraries and frameworks; 4000-4999 private. */
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

int lg_ws_parse_close(lg_str payload, unsigned *code, lg_str *reason)
{
    *code = LG_WS_CLOSE_NO_STATUS;
    reason->ptr = payload.ptr;
    reason->len = 0;
    if (payload.len == 0) return LG_OK;
    if (payload.len == 1 || payload.len > LG_WS_MAX_CONTROL_PAYLOAD) return LG_ERR_WS_CLOSE_PAYLOAD;
    const unsigned char *b = (const unsigned char *)payload.ptr;
    unsigned c = (unsigned)b[0] << 8 | b[1];
    if (!lg_ws_close_code_valid(c)) return LG_ERR_WS_CLOSE_PAYLOAD;
    lg_ws_utf8 v;
    lg_ws_utf8_init(&v);
    if (lg_ws_utf8_check(&v, b + 2, payload.len - 2) != LG_OK || lg_ws_utf8_end(&v) != LG_OK)
        return LG_ERR_WS_UTF8;
    *code = c;
    reason->ptr = payload.ptr + 2;
    reason->len = payload.len - 2;
    return LG_OK;
}

int lg_err_ws_close_code(int err)
{
    switch (err) {
    case LG_ERR_WS_UTF8:
        return LG_WS_CLOSE_INVALID_DATA;
    case LG_ERR_WS_TOO_BIG:
        return LG_WS_CLOSE_TOO_BIG;
    case LG_ERR_WS_RESERVED_BITS:
    case LG_ERR_WS_OPCODE:
    case LG_ERR_WS_CONTROL_FRAME:
    case LG_ERR_WS_LENGTH:
    case LG_ERR_WS_MASK:
    case LG_ERR_WS_FRAGMENT:
    case LG_ERR_WS_CLOSE_PAYLOAD:
        return LG_WS_CLOSE_PROTOCOL_ERROR;
    default:
        return 0;
    }
}

/* ---------------------------------------------------------------------------
 * Masking (RFC 6455 5.3)
 * ------------------------------------------------------------------------ */

void lg_ws_mask(void *dst, const void *src, size_t n, const uint8_t mask[4], uint64_t offset)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    /* The key turned to this offset, repeated to fill a machine word: the
     * payload is XORed a word at a time (memcpy: no alignment assumed). */
    unsigned char k[8];
    for (unsigned i = 0; i < sizeof k; i++) k[i] = mask[(offset + i) & 3];
    size_t kw, i = 0;
    memcpy(&kw, k, sizeof kw);
    for (; n - i >= sizeof kw; i += sizeof kw) {
        size_t w;
        memcpy(&w, s + i, sizeof w);
        w ^= kw;
        memcpy(d + i, &w, sizeof w);
    }
    for (; i < n; i++) d[i] = (unsigned char)(s[i] ^ k[i & 3]);
}

/* ---------------------------------------------------------------------------
 * Parsing (RFC 6455 5.2, 5.4, 5.5)
 * ------------------------------------------------------------------------ */

/* Checks the header at b[0..len), as far as it has arrived. Returns its
 * length once it is whole and valid, 0 while more is needed, or an error. */
static int check_header(const lg_ws_parser *p, const unsigned char *b, size_t len)
{
    if (len < 1) return 0;
    unsigned op = b[0] & 0x0Fu;
    if (b[0] & RSV_BITS & ~(unsigned)p->flags) return LG_ERR_WS_RESERVED_BITS;
    if (!is_known_opcode(op)) return LG_ERR_WS_OPCODE;
    /* 5.5: control frames are never fragmented */
    if (is_control(op) && !(b[0] & LG_WS_FIN)) return LG_ERR_WS_CONTROL_FRAME;
    /* 5.4: a continuation continues a message; a new message waits for
     * the end of the one before */
    if (!is_control(op) && (op == LG_WS_CONTINUATION) != ((p->flags & IN_MESSAGE) != 0))
        return LG_ERR_WS_FRAGMENT;
    if (len < 2) return 0;
    /* 5.1: a server refuses unmasked frames, a client masked ones */
    unsigned masked = b[1] >> 7, len7 = b[1] & 0x7Fu;
    if (masked == ((p->flags & LG_WS_CLIENT) != 0)) return LG_ERR_WS_MASK;
    if (is_control(op) && len7 > LG_WS_MAX_CONTROL_PAYLOAD) return LG_ERR_WS_CONTROL_FRAME;
    /* 5.5.1: a Close body, if any, starts with a two-byte code */
    if (op == LG_WS_CLOSE && len7 == 1) return LG_ERR_WS_CLOSE_PAYLOAD;
    size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    /* 5.2: "the most significant bit MUST be 0" */
    if (ext == 8 && len >= 3 && (b[2] & 0x80)) return LG_ERR_WS_LENGTH;
    if (len < 2 + ext) return 0;
    uint64_t length = ext ? 0 : len7;
    for (size_t i = 0; i < ext; i++) length = length << 8 | b[2 + i];
    if (!is_control(op)) {
        /* (the limit is a public field: lowered mid-message, it may be
         * below what came already) */
        uint64_t before = op == LG_WS_CONTINUATION ? p->message_bytes : 0;
        if (before > p->max_message_bytes || length > p->max_message_bytes - before)
            return LG_ERR_WS_TOO_BIG;
        /* A text message that ends with this empty frame must end on a
         * character boundary; known before the payload (there is none). */
        if (op == LG_WS_CONTINUATION && (b[0] & LG_WS_FIN) && length == 0 &&
            (p->flags & CHECK_UTF8) && lg_ws_utf8_end(&p->utf8) != LG_OK)
            return LG_ERR_WS_UTF8;
    }
    size_t n = 2 + ext + (masked ? 4 : 0);
    return len < n ? 0 : (int)n;
}

/* The header b[0..n) has been checked: make it the current frame. */
static void start_frame(lg_ws_parser *p, const unsigned char *b, size_t n)
{
    lg_ws_frame *f = &p->frame;
    size_t ext = n - 2 - (b[1] & 0x80 ? 4 : 0);
    f->opcode = b[0] & 0x0Fu;
    f->flags = b[0] & 0xF0u;
    f->masked = b[1] >> 7;
    f->length = ext ? 0 : (b[1] & 0x7Fu);
    for (size_t i = 0; i < ext; i++) f->length = f->length << 8 | b[2 + i];
    if (f->masked) memcpy(f->mask, b + 2 + ext, 4);
    else memset(f->mask, 0, 4);
    p->remaining = f->length;
    if (is_control(f->opcode)) {
        p->state = ST_CONTROL;
        return;
    }
    p->state = ST_DATA;
    if (f->opcode != LG_WS_CONTINUATION) {
        p->message_opcode = f->opcode;
        p->message_bytes = 0;
        lg_ws_utf8_init(&p->utf8);
        /* A message an extension transformed (an RSV bit on its first
         * frame) is not text until the extension has undone it. */
        p->flags &= (uint8_t)~CHECK_UTF8;
        if (f->opcode == LG_WS_TEXT && !(f->flags & RSV_BITS)) p->flags |= CHECK_UTF8;
    }
    p->message_bytes += f->length;
    if (f->flags & LG_WS_FIN) p->flags &= (uint8_t)~IN_MESSAGE;
    else p->flags |= IN_MESSAGE;
}

static int fail(lg_ws_parser *p, int err)
{
    p->error = (int8_t)err;
    return err;
}

static int frame_end(lg_ws_parser *p)
{
    p->state = p->frame.opcode == LG_WS_CLOSE ? ST_CLOSED : ST_HEADER;
    return LG_WS_FRAME_END;
}

/* A piece of a data frame's payload: unmasked, and checked if it is text.
 * The last piece of a text message must end a character. */
static int data_piece(lg_ws_parser *p, char *buf, size_t n)
{
    const lg_ws_frame *f = &p->frame;
    if (f->masked) lg_ws_mask(buf, buf, n, f->mask, f->length - p->remaining);
    if (p->flags & CHECK_UTF8) {
        if (lg_ws_utf8_check(&p->utf8, buf, n) != LG_OK) return LG_ERR_WS_UTF8;
        if ((f->flags & LG_WS_FIN) && n == p->remaining && lg_ws_utf8_end(&p->utf8) != LG_OK)
            return LG_ERR_WS_UTF8;
    }
    p->remaining -= n;
    return LG_OK;
}

int lg_ws_parse(lg_ws_parser *p, char *buf, size_t len, size_t *consumed, lg_str *data)
{
    *consumed = 0;
    data->ptr = NULL;
    data->len = 0;
    if (p->error) return p->error;

    size_t n;
    switch (p->state) {
    case ST_HEADER: {
        int h = check_header(p, (const unsigned char *)buf, len);
        if (h <= 0) return h < 0 ? fail(p, h) : LG_WS_NEED_MORE;
        start_frame(p, (const unsigned char *)buf, (size_t)h);
        *consumed = (size_t)h;
        return LG_WS_FRAME;
    }

    case ST_DATA: {
        if (p->remaining == 0) return frame_end(p);
        if (len == 0) return LG_WS_NEED_MORE;
        n = len < p->remaining ? len : (size_t)p->remaining;
        int rc = data_piece(p, buf, n);
        if (rc < 0) return fail(p, rc);
        break;
    }

    case ST_CONTROL: {
        if (p->remaining == 0) return frame_end(p);
        if (len < p->remaining) return LG_WS_NEED_MORE;
        n = (size_t)p->remaining;
        const lg_ws_frame *f = &p->frame;
        if (f->masked) lg_ws_mask(buf, buf, n, f->mask, 0);
        if (f->opcode == LG_WS_CLOSE) {
            unsigned code;
            lg_str reason;
            int rc = lg_ws_parse_close((lg_str){ buf, n }, &code, &reason);
            if (rc < 0) return fail(p, rc);
        }
        p->remaining = 0;
        break;
    }

    default: /* ST_CLOSED */
        *consumed = len;
        return LG_WS_NEED_MORE;
    }

    data->ptr = buf;
    data->len = n;
    *consumed = n;
    return LG_WS_DATA;
}

/* ---------------------------------------------------------------------------
 * Writing (RFC 6455 5.2)
 * ------------------------------------------------------------------------ */

/* A header into h (LG_WS_MAX_HEADER bytes), in the shortest length form
 * (5.2: "the minimal number of bytes MUST be used"). Returns its length,
 * or 0 for what the parser at the other end would refuse. */
static size_t make_header(unsigned char *h, unsigned opcode, unsigned flags, uint64_t length,
                          const uint8_t *mask)
{
    if (!is_known_opcode(opcode) || (flags & ~(LG_WS_FIN | RSV_BITS)) ||
        length > UINT64_C(0x7fffffffffffffff))
        return 0;
    if (is_control(opcode) && (!(flags & LG_WS_FIN) || length > LG_WS_MAX_CONTROL_PAYLOAD)) return 0;
    h[0] = (unsigned char)(flags | opcode);
    size_t n = 2;
    if (length < 126) {
        h[1] = (unsigned char)length;
    } else if (length <= 0xFFFF) {
        h[1] = 126;
        h[2] = (unsigned char)(length >> 8);
        h[3] = (unsigned char)length;
        n = 4;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++) h[2 + i] = (unsigned char)(length >> (56 - 8 * i));
        n = 10;
    }
    if (mask) {
        h[1] |= 0x80;
        memcpy(h + n, mask, 4);
        n += 4;
    }
    return n;
}

void lg_ws_write_header(lg_writer *w, unsigned opcode, unsigned flags, uint64_t length,
                        const uint8_t *mask)
{
    unsigned char h[LG_WS_MAX_HEADER];
    if (w->err) return;
    size_t n = make_header(h, opcode, flags, length, mask);
    if (!n) {
        w->err = LG_ERR_INVALID_ARG;
        return;
    }
    lg_write_bytes(w, h, n);
}

void lg_ws_write_frame(lg_writer *w, unsigned opcode, unsigned flags, const void *payload,
                       size_t len, const uint8_t *mask)
{
    unsigned char h[LG_WS_MAX_HEADER];
    if (w->err) return;
    size_t n = make_header(h, opcode, flags, len, mask);
    if (!n) {
        w->err = LG_ERR_INVALID_ARG;
        return;
    }
    /* all or nothing: no header without its payload */
    if (len > w->cap - w->len || n > w->cap - w->len - len) {
        w->err = LG_ERR_BUFFER_TOO_SMALL;
        return;
    }
    lg_write_bytes(w, h, n);
    if (len) {
        if (mask) lg_ws_mask(w->buf + w->len, payload, len, mask, 0);
        else memcpy(w->buf + w->len, payload, len);
    }
    w->len += len;
}

void lg_ws_write_close(lg_writer *w, unsigned code, lg_str reason, const uint8_t *mask)
{
    char payload[LG_WS_MAX_CONTROL_PAYLOAD];
    size_t n = 0;
    if (w->err) return;
    if (code || reason.len) {
        lg_ws_utf8 v;
        lg_ws_utf8_init(&v);
        if (!lg_ws_close_code_valid(code) || reason.len > sizeof payload - 2 ||
            lg_ws_utf8_check(&v, reason.ptr, reason.len) != LG_OK || lg_ws_utf8_end(&v) != LG_OK) {
            w->err = LG_ERR_INVALID_ARG;
            return;
        }
        payload[0] = (char)(code >> 8);
        payload[1] = (char)code;
        if (reason.len) memcpy(payload + 2, reason.ptr, reason.len);
        n = 2 + reason.len;
    }
    lg_ws_write_frame(w, LG_WS_CLOSE, LG_WS_FIN, payload, n, mask);
}

#endif /* !LG_NO_WEBSOCKET */
