/* The WebSocket frame parser under fuzzing, against a reference: a second
 * parser, written here another way (the whole input at once, no state
 * kept between calls, UTF-8 by code point arithmetic), says which frames,
 * payload and ending the input holds, which errors it may end with, and
 * with which byte each is decided. lg_ws_parse is then fed the input
 * whole, in two pieces and a byte at a time, each call's bytes at the end
 * of a heap block of their exact size (ASan catches a read past them), and
 * must agree with the reference every time.
 *
 * Input: byte 0 is the parser's configuration (bit 0: the client's side;
 * bits 1-3: the RSV bits allowed; bits 4-5: the message size limit),
 * byte 1 where the two pieces are cut, the rest the bytes received.
 *
 * The same bytes also go through the UTF-8 validator (against the
 * reference), the writers (what they write parses back to what was
 * written), and the handshake's helpers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linger_ws.h"

#define ASSERT(cond)                                                                     \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                     \
        }                                                                                \
    } while (0)

/* ---------------------------------------------------------------------------
 * The reference
 * ------------------------------------------------------------------------ */

/* The index of the first byte of s[0..n) that no valid UTF-8 can have
 * there; n when the text ends inside a character; -1 when it is valid. */
static long ref_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        int len;
        uint32_t cp;
        if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F;
        else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F;
        else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07;
        else return (long)i;
        uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
        uint32_t max = len == 2 ? 0x7FF : len == 3 ? 0xFFFF : 0x10FFFF;
        for (int k = 1; k <= len; k++) {
            if (k > 1) {
                if (i + (size_t)k - 1 >= n) return (long)n;
                unsigned b = s[i + (size_t)k - 1];
                if ((b & 0xC0) != 0x80) return (long)(i + (size_t)k - 1);
                cp = cp << 6 | (b & 0x3F);
            }
            int rest = 6 * (len - k);
            uint32_t lo = cp << rest, hi = lo | ((1u << rest) - 1);
            if (lo < min) lo = min;
            if (hi > max) hi = max;
            if (lo > hi || (lo >= 0xD800 && hi <= 0xDFFF)) return (long)(i + (size_t)k - 1);
        }
        i += (size_t)len;
    }
    return -1;
}

static int ref_close_code_ok(unsigned c)
{
    static const unsigned registered[] = { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014 };
    for (size_t i = 0; i < sizeof registered / sizeof registered[0]; i++)
        if (c == registered[i]) return 1;
    return c >= 3000 && c < 5000;
}

/* Inputs are at most 64 KiB (longer ones are skipped): a frame takes two
 * bytes at least. */
#define MAX_INPUT 65536
#define MAX_FRAMES (MAX_INPUT / 2 + 1)

typedef struct model {
    /* frames: opcode, flags, masked, length */
    unsigned nframes;
    struct {
        uint8_t opcode, flags, masked;
        uint64_t length;
    } frames[MAX_FRAMES];
    unsigned char *payload; /* every DATA byte, unmasked, in order */
    size_t payload_len;
    int ended;        /* 1: the input ran out (no error); 0: an error */
    unsigned errors;  /* the acceptable errors, a bit each (-80 - code) */
    size_t decide_at; /* the bytes that decide the error */
    size_t leftover;  /* the bytes left unconsumed when the input ran out */
} model;

#define ERRBIT(e) (1u << (-(e) - 80))

/* Runs the reference over in[0..n). */
static void reference(const unsigned char *in, size_t n, unsigned flags, uint64_t max, model *m)
{
    int client = (flags & LG_WS_CLIENT) != 0, in_msg = 0, check_text = 0;
    unsigned allowed = flags & 0x70;
    uint64_t msg_bytes = 0;
    unsigned char *text = malloc(n + 1); /* the current text message so far */
    size_t text_len = 0;
    size_t pos = 0;
    m->nframes = 0;
    m->payload_len = 0;
    m->errors = 0;
    m->leftover = 0;
    m->ended = 1;
#define FAIL_AT(bits, at)        \
    do {                         \
        m->errors = (bits);      \
        m->decide_at = (at);     \
        m->ended = 0;            \
        goto out;                \
    } while (0)
    while (pos < n) {
        unsigned b0 = in[pos], op = b0 & 15, fin = b0 >> 7, control = op >= 8;
        unsigned bits = 0;
        if (b0 & 0x70 & ~allowed) bits |= ERRBIT(LG_ERR_WS_RESERVED_BITS);
        if (!(op <= 2 || (op >= 8 && op <= 10))) bits |= ERRBIT(LG_ERR_WS_OPCODE);
        if (control && !fin) bits |= ERRBIT(LG_ERR_WS_CONTROL_FRAME);
        if (!control && (op == 0) != in_msg) bits |= ERRBIT(LG_ERR_WS_FRAGMENT);
        if (bits) FAIL_AT(bits, pos + 1);
        if (pos + 1 >= n) {
            m->leftover = n - pos;
            goto out;
        }
        unsigned b1 = in[pos + 1], masked = b1 >> 7, len7 = b1 & 127;
        if (masked != (unsigned)!client) bits |= ERRBIT(LG_ERR_WS_MASK);
        if (control && len7 > 125) bits |= ERRBIT(LG_ERR_WS_CONTROL_FRAME);
        if (op == 8 && len7 == 1) bits |= ERRBIT(LG_ERR_WS_CLOSE_PAYLOAD);
        if (bits) FAIL_AT(bits, pos + 2);
        size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
        if (ext == 8 && pos + 2 < n && (in[pos + 2] & 0x80)) FAIL_AT(ERRBIT(LG_ERR_WS_LENGTH), pos + 3);
        if (pos + 2 + ext > n) {
            m->leftover = n - pos;
            goto out;
        }
        uint64_t length = len7;
        if (ext) {
            length = 0;
            for (size_t i = 0; i < ext; i++) length = length * 256 + in[pos + 2 + i];
        }
        if (!control) {
            uint64_t total = (op == 0 ? msg_bytes : 0);
            if (total > max || length > max - total) FAIL_AT(ERRBIT(LG_ERR_WS_TOO_BIG), pos + 2 + ext);
            if (op == 0 && fin && length == 0 && check_text && ref_utf8(text, text_len) == (long)text_len &&
                text_len > 0)
                FAIL_AT(ERRBIT(LG_ERR_WS_UTF8), pos + 2 + ext);
        }
        size_t hlen = 2 + ext + (masked ? 4 : 0);
        if (pos + hlen > n) {
            m->leftover = n - pos;
            goto out;
        }
        const unsigned char *key = in + pos + 2 + ext;
        ASSERT(m->nframes < MAX_FRAMES);
        m->frames[m->nframes].opcode = (uint8_t)op;
        m->frames[m->nframes].flags = (uint8_t)(b0 & 0xF0);
        m->frames[m->nframes].masked = (uint8_t)masked;
        m->frames[m->nframes].length = length;
        m->nframes++;
        size_t avail = n - pos - hlen;
        if (avail > length) avail = (size_t)length;
        unsigned char *out = m->payload + m->payload_len;
        for (size_t i = 0; i < avail; i++) out[i] = in[pos + hlen + i] ^ (masked ? key[i % 4] : 0);
        if (control) {
            if (avail < length) {
                m->leftover = n - pos - hlen;
                goto out;
            }
            if (op == 8 && length >= 2) {
                unsigned code = (unsigned)out[0] << 8 | out[1];
                if (!ref_close_code_ok(code)) FAIL_AT(ERRBIT(LG_ERR_WS_CLOSE_PAYLOAD), pos + hlen + length);
                if (ref_utf8(out + 2, length - 2) != -1) FAIL_AT(ERRBIT(LG_ERR_WS_UTF8), pos + hlen + length);
            }
            m->payload_len += avail;
            if (op == 8) goto out; /* after a Close, nothing counts */
            pos += hlen + length;
            continue;
        }
        /* a data frame */
        if (op != 0) {
            check_text = op == 1 && !(b0 & 0x70);
            text_len = 0;
            msg_bytes = 0;
        }
        msg_bytes += length;
        in_msg = !fin;
        if (check_text) {
            memcpy(text + text_len, out, avail);
            long bad = ref_utf8(text, text_len + avail);
            if (bad >= 0 && (size_t)bad < text_len + avail) {
                /* the bytes before the bad one are delivered (a byte at a time) */
                m->payload_len += (size_t)bad - text_len;
                FAIL_AT(ERRBIT(LG_ERR_WS_UTF8), pos + hlen + ((size_t)bad - text_len) + 1);
            }
            if (fin && avail == length && bad == (long)(text_len + avail) && length > 0) {
                m->payload_len += avail - 1;
                FAIL_AT(ERRBIT(LG_ERR_WS_UTF8), pos + hlen + length);
            }
            text_len += avail;
        }
        m->payload_len += avail;
        if (avail < length) goto out;
        pos += hlen + length;
    }
out:
    free(text);
#undef FAIL_AT
}

/* ---------------------------------------------------------------------------
 * linger's parser, in pieces
 * ------------------------------------------------------------------------ */

typedef struct run {
    unsigned nframes;
    unsigned char *payload;
    size_t payload_len;
    int result;      /* LG_WS_NEED_MORE or the error */
    size_t error_at; /* bytes fed when it came */
    size_t leftover;
} run;

/* Feeds in[0..n) in pieces ending at the cuts (ascending, below n) and n,
 * comparing each frame with the model's as it comes. */
static void feed(const unsigned char *in, size_t n, const size_t *cuts, size_t ncuts, unsigned flags,
                 uint64_t max, const model *m, run *r)
{
    lg_ws_parser p;
    lg_ws_parser_init(&p, flags, max);
    ASSERT(max == 0 || p.max_message_bytes == max);
    unsigned char *pending = malloc(n + 1);
    size_t have = 0, fed = 0, frame_data = 0;
    int in_frame = 0;
    r->nframes = 0;
    r->payload_len = 0;
    for (size_t piece = 0; piece <= ncuts; piece++) {
        size_t upto = piece < ncuts ? cuts[piece] : n;
        memcpy(pending + have, in + fed, upto - fed);
        have += upto - fed;
        fed = upto;
        for (;;) {
            /* exactly `have` bytes, at the end of their own block */
            char *block = malloc(have ? have : 1);
            char *b = block + (have ? 0 : 1);
            memcpy(b, pending, have);
            size_t used;
            lg_str d;
            int ev = lg_ws_parse(&p, b, have, &used, &d);
            if (ev < 0) {
                free(block);
                ASSERT(ev <= LG_ERR_WS_RESERVED_BITS && ev >= LG_ERR_WS_UTF8);
                ASSERT(lg_err_ws_close_code(ev) != 0);
                size_t u;
                lg_str d2;
                ASSERT(lg_ws_parse(&p, (char *)pending, have, &u, &d2) == ev); /* the error stays */
                r->result = ev;
                r->error_at = fed;
                free(pending);
                return;
            }
            ASSERT(used <= have);
            if (ev == LG_WS_FRAME) {
                ASSERT(!in_frame && used >= 2 && used <= LG_WS_MAX_HEADER);
                ASSERT(r->nframes < m->nframes);
                unsigned i = r->nframes++;
                ASSERT(p.frame.opcode == m->frames[i].opcode && p.frame.flags == m->frames[i].flags);
                ASSERT(p.frame.masked == m->frames[i].masked && p.frame.length == m->frames[i].length);
                if (p.frame.opcode < 8) ASSERT(p.message_bytes <= p.max_message_bytes);
                if (p.frame.opcode == 1 || p.frame.opcode == 2) ASSERT(p.message_opcode == p.frame.opcode);
                in_frame = 1;
                frame_data = 0;
            } else if (ev == LG_WS_DATA) {
                ASSERT(in_frame && d.ptr == b && d.len == used && d.len > 0);
                if (p.frame.opcode >= 8) ASSERT(d.len == p.frame.length);
                frame_data += d.len;
                ASSERT(frame_data + p.remaining == p.frame.length);
                ASSERT(r->payload_len + d.len <= m->payload_len);
                ASSERT(memcmp(m->payload + r->payload_len, d.ptr, d.len) == 0);
                memcpy(r->payload + r->payload_len, d.ptr, d.len);
                r->payload_len += d.len;
                if (p.frame.opcode == LG_WS_CLOSE) {
                    unsigned code;
                    lg_str reason;
                    ASSERT(lg_ws_parse_close(d, &code, &reason) == LG_OK);
                }
            } else if (ev == LG_WS_FRAME_END) {
                ASSERT(in_frame && used == 0 && frame_data == p.frame.length);
                in_frame = 0;
            } else {
                ASSERT(ev == LG_WS_NEED_MORE && d.len == 0);
            }
            /* what was not consumed, as the parser left it */
            memmove(pending, b + used, have - used);
            have -= used;
            free(block);
            if (ev == LG_WS_NEED_MORE) break;
        }
    }
    r->result = LG_WS_NEED_MORE;
    r->leftover = have;
    free(pending);
}

static void agree(const model *m, const run *r, size_t first_cut_at_decision, int exact)
{
    ASSERT(r->nframes == m->nframes || (!m->ended && r->nframes <= m->nframes));
    if (m->ended) {
        ASSERT(r->result == LG_WS_NEED_MORE);
        ASSERT(r->payload_len == m->payload_len);
        ASSERT(r->leftover == m->leftover);
    } else {
        ASSERT(r->result < 0 && (m->errors & ERRBIT(r->result)));
        ASSERT(r->error_at == first_cut_at_decision);
        ASSERT(r->nframes == m->nframes);
        if (exact) ASSERT(r->payload_len == m->payload_len);
    }
}

static size_t first_cut(const size_t *cuts, size_t ncuts, size_t n, size_t at)
{
    for (size_t i = 0; i < ncuts; i++)
        if (cuts[i] >= at) return cuts[i];
    return n;
}

/* ---------------------------------------------------------------------------
 * The rest: UTF-8, the writers, the handshake
 * ------------------------------------------------------------------------ */

static void fuzz_utf8(const unsigned char *s, size_t n)
{
    lg_ws_utf8 v;
    lg_ws_utf8_init(&v);
    long want = ref_utf8(s, n);
    long got = -1;
    for (size_t i = 0; i < n && got < 0; i++)
        if (lg_ws_utf8_check(&v, s + i, 1) != LG_OK) got = (long)i;
    if (got < 0 && lg_ws_utf8_end(&v) != LG_OK) got = (long)n;
    ASSERT(got == want);
}

static void fuzz_writers(const unsigned char *s, size_t n, unsigned cfg)
{
    static char out[8192];
    const uint8_t *key = n >= 4 ? s : NULL;
    unsigned op = cfg & 1 ? LG_WS_BINARY : LG_WS_TEXT;
    if (op == LG_WS_TEXT && ref_utf8(s, n) != -1) op = LG_WS_BINARY;
    lg_writer w;
    lg_writer_init(&w, out, sizeof out);
    lg_ws_write_frame(&w, op, LG_WS_FIN, s, n, key);
    lg_ws_write_frame(&w, LG_WS_PING, LG_WS_FIN, s, n > 125 ? 125 : n, key);
    unsigned code = n >= 2 ? (unsigned)s[0] << 8 | s[1] : 0;
    lg_str reason = { (const char *)s + (n >= 2 ? 2 : 0), n > 2 ? (n - 2 > 123 ? 123 : n - 2) : 0 };
    /* no code and no reason (an empty Close), or a code one may send and
     * a UTF-8 reason */
    int close_ok = (code == 0 && reason.len == 0) ||
                   (ref_close_code_ok(code) && ref_utf8((const unsigned char *)reason.ptr, reason.len) == -1);
    lg_writer wc = w;
    lg_ws_write_close(&wc, code, reason, key);
    if (w.err) {
        ASSERT(w.err == LG_ERR_BUFFER_TOO_SMALL && wc.err == w.err);
        return;
    }
    ASSERT(wc.err == (close_ok ? 0 : LG_ERR_INVALID_ARG));
    if (close_ok) w = wc;
    /* read back by the other side's parser */
    lg_ws_parser p;
    lg_ws_parser_init(&p, key ? 0 : LG_WS_CLIENT, UINT64_MAX);
    char *b = out;
    size_t left = w.len, used, got = 0;
    lg_str d;
    int ev, frames = 0;
    while ((ev = lg_ws_parse(&p, b, left, &used, &d)) > 0) {
        if (ev == LG_WS_FRAME) frames++;
        if (ev == LG_WS_DATA && frames == 1) {
            ASSERT(memcmp(d.ptr, s + got, d.len) == 0);
            got += d.len;
        }
        if (ev == LG_WS_DATA && frames == 3) {
            unsigned c;
            lg_str rs;
            ASSERT(lg_ws_parse_close(d, &c, &rs) == LG_OK && rs.len == reason.len);
            ASSERT(c == (code ? code : LG_WS_CLOSE_NO_STATUS));
        }
        b += used;
        left -= used;
    }
    ASSERT(ev == LG_WS_NEED_MORE && left == 0 && got == n && frames == (close_ok ? 3 : 2));
}

static void fuzz_handshake(const unsigned char *s, size_t n)
{
    lg_str in = { (const char *)s, n };
    char accept[LG_WS_ACCEPT_BYTES];
    ASSERT(lg_ws_accept_value(in, accept, sizeof accept) == 28);
    ASSERT(lg_ws_check_accept(in, (lg_str){ accept, 28 }) == LG_OK);
    uint8_t raw[32];
    int ok = n == 24 && lg_base64_decode(in.ptr, n, raw, sizeof raw) == 16;
    ASSERT((lg_ws_check_key(in) == LG_OK) == ok);
    static const char *const supported[] = { "chat", "x", "", "v1.proto", NULL };
    int i = lg_ws_choose_protocol(in, supported);
    ASSERT(i == LG_ERR_NOT_FOUND || (i >= 0 && i < 4 && i != 2));
    if (i >= 0) { /* the name chosen is in what was offered */
        size_t k = strlen(supported[i]), at = 0;
        while (at + k <= n && memcmp(in.ptr + at, supported[i], k) != 0) at++;
        ASSERT(at + k <= n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > MAX_INPUT) return 0;
    unsigned cfg = data[0];
    unsigned flags = (cfg & 1 ? LG_WS_CLIENT : 0) | ((cfg & 0x0e) << 3);
    static const uint64_t limits[4] = { 0, 5, 300, UINT64_MAX };
    uint64_t max = limits[(cfg >> 4) & 3];
    const unsigned char *in = data + 2;
    size_t n = size - 2;

    static model m;
    m.payload = malloc(n + 1);
    reference(in, n, flags, max ? max : LG_WS_DEFAULT_MAX_MESSAGE, &m);
    run r;
    r.payload = malloc(n + 1);
    size_t *cuts = malloc((n + 1) * sizeof *cuts);

    feed(in, n, NULL, 0, flags, max, &m, &r); /* whole */
    agree(&m, &r, n, 0);
    if (n > 1) { /* two pieces */
        cuts[0] = 1 + data[1] * (n - 1) / 256;
        feed(in, n, cuts, 1, flags, max, &m, &r);
        agree(&m, &r, first_cut(cuts, 1, n, m.decide_at), 0);
    }
    for (size_t i = 0; i + 1 < n; i++) cuts[i] = i + 1; /* a byte at a time */
    feed(in, n, cuts, n ? n - 1 : 0, flags, max, &m, &r);
    agree(&m, &r, m.ended ? n : m.decide_at, 1);

    free(cuts);
    free(r.payload);
    free(m.payload);

    fuzz_utf8(in, n);
    fuzz_writers(in, n, cfg);
    fuzz_handshake(in, n);
    return 0;
}
