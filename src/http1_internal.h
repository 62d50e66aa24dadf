/* Internal helpers shared by the codec files: character classes and the
 * vectorised scanners. Not part of the public API. */
#ifndef LG_HTTP1_INTERNAL_H
#define LG_HTTP1_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "linger.h"

#define LG_CC_TOKEN 0x01u /* tchar, RFC 9110 5.6.2 */
#define LG_CC_HOST 0x02u  /* reg-name, IP-literal and port characters (RFC 3986) */
#define LG_CC_VALUE 0x04u /* field-vchar, SP, HTAB (RFC 9110 5.5) */
#define LG_CC_HEX 0x08u   /* HEXDIG */

extern const uint8_t lg_char_class[256];

static inline int lg_is_token(char c) { return lg_char_class[(unsigned char)c] & LG_CC_TOKEN; }
static inline int lg_is_host(char c) { return lg_char_class[(unsigned char)c] & LG_CC_HOST; }
static inline int lg_is_value(char c) { return lg_char_class[(unsigned char)c] & LG_CC_VALUE; }
static inline int lg_is_hex(char c) { return lg_char_class[(unsigned char)c] & LG_CC_HEX; }

static inline unsigned lg_hex_value(char c)
{
    unsigned u = (unsigned char)c;
    return u <= '9' ? u - '0' : (u | 0x20u) - 'a' + 10u;
}

/* The scanners below find the first byte of a class in [p, end) or return
 * end. They never read at or past `end`: the vector loop only runs while 16
 * whole bytes remain, and the tail is scalar. LG_NO_SIMD forces the scalar
 * path (the tests build both). */
#if !defined(LG_NO_SIMD) && defined(__SSE2__)
#include <emmintrin.h>
#define LG_SIMD_SSE2 1
#elif !defined(LG_NO_SIMD) && defined(__ARM_NEON) && defined(__aarch64__)
#include <arm_neon.h>
#define LG_SIMD_NEON 1
#endif

#if defined(LG_SIMD_NEON)
/* NEON has no movemask; narrowing by 4 bits per lane gives a 64-bit mask
 * with a nibble per byte. */
static inline uint64_t lg_neon_mask(uint8x16_t m)
{
    return vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(m), 4)), 0);
}
#endif

/* First byte that is a control character (0x00-0x1f) or DEL; HTAB counts,
 * callers step over it where it is allowed. */
static inline const char *lg_find_ctl(const char *p, const char *end)
{
#if defined(LG_SIMD_SSE2)
    const __m128i c1f = _mm_set1_epi8(0x1f), c7f = _mm_set1_epi8(0x7f);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(v, c1f), v);
        int m = _mm_movemask_epi8(_mm_or_si128(low, _mm_cmpeq_epi8(v, c7f)));
        if (m) return p + __builtin_ctz((unsigned)m);
        p += 16;
    }
#elif defined(LG_SIMD_NEON)
    while (end - p >= 16) {
        uint8x16_t v = vld1q_u8((const uint8_t *)p);
        uint8x16_t m = vorrq_u8(vcleq_u8(v, vdupq_n_u8(0x1f)), vceqq_u8(v, vdupq_n_u8(0x7f)));
        uint64_t bits = lg_neon_mask(m);
        if (bits) return p + (__builtin_ctzll(bits) >> 2);
        p += 16;
    }
#endif
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f) return p;
        p++;
    }
    return end;
}

/* First byte that is a control character, SP or DEL: the end of a request
 * target. */
static inline const char *lg_find_ctl_or_space(const char *p, const char *end)
{
#if defined(LG_SIMD_SSE2)
    const __m128i c20 = _mm_set1_epi8(0x20), c7f = _mm_set1_epi8(0x7f);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(v, c20), v);
        int m = _mm_movemask_epi8(_mm_or_si128(low, _mm_cmpeq_epi8(v, c7f)));
        if (m) return p + __builtin_ctz((unsigned)m);
        p += 16;
    }
#elif defined(LG_SIMD_NEON)
    while (end - p >= 16) {
        uint8x16_t v = vld1q_u8((const uint8_t *)p);
        uint8x16_t m = vorrq_u8(vcleq_u8(v, vdupq_n_u8(0x20)), vceqq_u8(v, vdupq_n_u8(0x7f)));
        uint64_t bits = lg_neon_mask(m);
        if (bits) return p + (__builtin_ctzll(bits) >> 2);
        p += 16;
    }
#endif
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c == 0x7f) return p;
        p++;
    }
    return end;
}

/* Case-insensitive comparison of n bytes against a lower-case literal made of
 * letters and '-', which is all the field names the codec looks for. */
static inline int lg_name_is(const char *s, const char *lower, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] | 0x20u) != (unsigned char)lower[i]) return 0;
    return 1;
}

/* Case-insensitive equality of a slice with a lower-case literal (any chars). */
static inline int lg_slice_ieq(const char *s, size_t n, const char *lower, size_t lower_len)
{
    if (n != lower_len) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c | 0x20u);
        if (c != (unsigned char)lower[i]) return 0;
    }
    return 1;
}

/* Parse one complete section of field lines ending in an empty line
 * (headers or trailers) starting at *pp. Returns 0 and advances *pp past the
 * empty line, LG_HTTP1_INCOMPLETE when input ran out, or a negative lg_err.
 * Used by the head parser and the chunked body reader. */
#define LG_HTTP1_INCOMPLETE 1
int lg_http1_parse_trailer_fields(const char **pp, const char *end, lg_head *h);

#endif
