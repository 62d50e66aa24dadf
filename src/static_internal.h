/* What static.c needs to read a request about a file: media types, entity
 * tags, byte ranges, Accept-Encoding. Pure functions over bytes
 * (src/static_http.c), so they are tested on their own
 * (tests/test_static_http.c). HTTP dates are the codec's (http1_internal.h,
 * tests/test_codec_date.c). */
#ifndef LG_STATIC_INTERNAL_H
#define LG_STATIC_INTERNAL_H

#include "linger.h"

/* The Content-Type for a file name, by its extension (case-insensitive);
 * "application/octet-stream" when unknown. Text types carry
 * "; charset=utf-8". */
const char *lg__mime_type(const char *name, size_t len);

/* Does an If-None-Match / If-Match value (a list of entity tags, or "*")
 * hold `etag` (with its quotes)? weak != 0: weak comparison (W/ ignored,
 * RFC 9110 8.8.3.2, for If-None-Match); 0: strong (If-Match, If-Range). */
int lg__etag_list_match(lg_str list, const char *etag, int weak);

/* Byte ranges (RFC 9110 14.1.2). */
enum {
    LG_RANGE_IGNORE = 0,   /* send the whole representation: no range, a
                              unit other than bytes, an invalid or a
                              multiple range (14.2 allows ignoring those) */
    LG_RANGE_OK,           /* 206 with [*first, *first + *len) */
    LG_RANGE_UNSATISFIABLE /* 416 with "Content-Range: bytes * /size" */
};
int lg__range_parse(lg_str value, uint64_t size, uint64_t *first, uint64_t *len);

/* Does an Accept-Encoding value allow gzip (RFC 9110 12.5.3)? "gzip" or
 * "x-gzip" with a q above 0, or "*" with q above 0 when gzip is not
 * named. An absent header (ptr NULL) allows nothing we would choose. */
int lg__accepts_gzip(lg_str accept_encoding);

#endif
