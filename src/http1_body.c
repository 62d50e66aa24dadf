/*
 * Message body decoding (RFC 9112 6 and 7): a fixed length, the chunked
 * transfer coding with its trailer section, or "until the connection
 * closes". Zero-copy: data comes back as slices of the caller's input.
 *
 * A build with neither the client nor chunked uploads (LG_NO_CLIENT and
 * LG_NO_CHUNKED_UPLOAD) never decodes chunks: the server refuses chunked
 * requests before their body. The decoder is left out then, and a chunked
 * body fails at once with LG_ERR_TRANSFER_CODING.
 */
#include <string.h>

#include "http1_internal.h"

#if defined(LG_NO_CLIENT) && defined(LG_NO_CHUNKED_UPLOAD)
#define NO_CHUNKS 1
#else
#define NO_CHUNKS 0
#endif

enum body_state {
    ST_DONE = 0,
    ST_LENGTH,      /* Content-Length bytes remain */
    ST_UNTIL_CLOSE, /* everything is body until EOF */
    ST_SIZE_FIRST,  /* chunk size: the first hex digit */
    ST_SIZE,        /* chunk size: further hex digits */
    ST_SIZE_BWS,    /* whitespace after the size: only ";" may follow */
    ST_EXT,         /* chunk extensions, ignored up to CR */
    ST_SIZE_LF,     /* the LF ending the size line */
    ST_DATA,        /* chunk data */
    ST_DATA_CR,     /* the CRLF after chunk data */
    ST_DATA_LF,
    ST_TRAILERS     /* the trailer section after the last chunk */
};

void lg_body_reader_init(lg_body_reader *r, const lg_head *head)
{
    memset(r, 0, sizeof *r);
    r->framing = head->framing;
    switch (head->framing) {
    case LG_FRAMING_LENGTH:
        r->remaining = head->content_length;
        r->state = r->remaining ? ST_LENGTH : ST_DONE;
        break;
    case LG_FRAMING_CHUNKED:
        r->state = ST_SIZE_FIRST;
        break;
    case LG_FRAMING_CLOSE:
        r->state = ST_UNTIL_CLOSE;
        break;
    default: /* NONE, and TUNNEL: what follows is not HTTP */
        r->state = ST_DONE;
        break;
    }
}

#if !NO_CHUNKS
static int read_trailers(lg_body_reader *r, const char *buf, size_t len, size_t *consumed)
{
    lg_head scratch;
    lg_head *t = r->trailers;
    if (!t) {
        memset(&scratch, 0, sizeof scratch);
        t = &scratch;
    }
    size_t max = r->max_trailer_bytes ? r->max_trailer_bytes : LG_DEFAULT_MAX_TRAILERS;
    int n = lg_parse_trailers(t, buf, len, r->line_len, max);
    if (n < 0) return n;
    if (n == 0) {
        /* r->line_len remembers how much was scanned (bounded by max). */
        r->line_len = (uint16_t)(len < max ? len : max);
        *consumed = 0;
        return LG_BODY_NEED_MORE;
    }
    r->state = ST_DONE;
    *consumed = (size_t)n;
    return LG_BODY_DONE;
}
#endif

int lg_body_read(lg_body_reader *r, const char *buf, size_t len, size_t *consumed, lg_str *data)
{
    const char *p = buf, *end = buf + len;
    data->ptr = NULL;
    data->len = 0;
    *consumed = 0;

    for (;;) {
        switch (r->state) {
        case ST_DONE:
            *consumed = (size_t)(p - buf);
            return LG_BODY_DONE;

        case ST_LENGTH:
        case ST_DATA: {
            if (p == end) goto need_more;
            size_t n = (size_t)(end - p);
            if (n > r->remaining) n = (size_t)r->remaining;
            r->remaining -= n;
            if (r->remaining == 0) r->state = r->state == ST_LENGTH ? ST_DONE : ST_DATA_CR;
            data->ptr = p;
            data->len = n;
            *consumed = (size_t)(p + n - buf);
            return LG_BODY_DATA;
        }

        case ST_UNTIL_CLOSE:
            if (p == end) goto need_more;
            data->ptr = p;
            data->len = (size_t)(end - p);
            *consumed = len;
            return LG_BODY_DATA;

#if NO_CHUNKS
        case ST_SIZE_FIRST:
            return LG_ERR_TRANSFER_CODING;
#else
        case ST_SIZE_FIRST:
        case ST_SIZE:
        case ST_SIZE_BWS:
        case ST_EXT:
        case ST_SIZE_LF:
            while (p < end) {
                char c = *p++;
                /* The limit is on the size and extensions; the CRLF ending
                 * the line is not counted against it. */
                if (++r->line_len > LG_MAX_CHUNK_LINE && c != '\r' && c != '\n')
                    return LG_ERR_CHUNK_EXTENSION;
                if (r->state == ST_SIZE_FIRST || r->state == ST_SIZE) {
                    if (lg_is_hex(c)) {
                        if (r->remaining > (UINT64_C(0x7fffffffffffffff) >> 4))
                            return LG_ERR_CHUNK_SIZE_OVERFLOW;
                        r->remaining = (r->remaining << 4) | lg_hex_value(c);
                        r->state = ST_SIZE;
                        continue;
                    }
                    if (r->state == ST_SIZE_FIRST) return LG_ERR_CHUNK_SIZE;
                    if (c == '\r') r->state = ST_SIZE_LF;
                    else if (c == ';') r->state = ST_EXT;
                    else if (c == ' ' || c == '\t') r->state = ST_SIZE_BWS;
                    else if (c == '\n') return LG_ERR_LINE_ENDING;
                    else return LG_ERR_CHUNK_SIZE;
                } else if (r->state == ST_SIZE_BWS) {
                    /* chunk-ext = *( BWS ";" ... ): whitespace must lead to ";" */
                    if (c == ';') r->state = ST_EXT;
                    else if (c != ' ' && c != '\t') return LG_ERR_CHUNK_SIZE;
                } else if (r->state == ST_EXT) {
                    /* Extensions are ignored (RFC 9112 7.1.1), but their
                     * bytes must still be field characters. */
                    if (c == '\r') r->state = ST_SIZE_LF;
                    else if (c == '\n') return LG_ERR_LINE_ENDING;
                    else if (!lg_is_value(c)) return LG_ERR_CHUNK_EXTENSION;
                } else { /* ST_SIZE_LF */
                    if (c != '\n') return LG_ERR_LINE_ENDING;
                    r->line_len = 0;
                    r->state = r->remaining ? ST_DATA : ST_TRAILERS;
                    break;
                }
            }
            if (r->state == ST_DATA || r->state == ST_TRAILERS) continue;
            goto need_more;

        case ST_DATA_CR:
            if (p == end) goto need_more;
            if (*p == '\n') return LG_ERR_LINE_ENDING;
            if (*p != '\r') return LG_ERR_CHUNK_DATA_END;
            p++;
            r->state = ST_DATA_LF;
            continue;

        case ST_DATA_LF:
            if (p == end) goto need_more;
            if (*p != '\n') return LG_ERR_LINE_ENDING;
            p++;
            r->state = ST_SIZE_FIRST;
            continue;

        case ST_TRAILERS: {
            size_t used;
            int rc = read_trailers(r, p, (size_t)(end - p), &used);
            if (rc < 0) return rc;
            *consumed = (size_t)(p - buf) + used;
            return rc;
        }
#endif

        default:
            return LG_ERR_INVALID_ARG;
        }
    }

need_more:
    *consumed = (size_t)(p - buf);
    return LG_BODY_NEED_MORE;
}

int lg_body_reader_eof(const lg_body_reader *r)
{
    if (r->state == ST_DONE || r->state == ST_UNTIL_CLOSE) return LG_OK;
    return LG_ERR_CLOSED_EARLY;
}

int lg_body_reader_done(const lg_body_reader *r)
{
    return r->state == ST_DONE;
}
