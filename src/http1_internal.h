/* Internal helpers shared by the codec files: character classes and the
 * vectorised scanners. Not part of the public API. */
#ifndef LG_HTTP1_INTERNAL_H
#define LG_HTTP1_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "linger.h"

/* For the few functions whose inlining decides the speed of the vector
 * build: a hot path calls them where an out-of-line call would clobber the
 * vector registers it keeps its constants in. */
#if defined(__GNUC__)
#define LG_ALWAYS_INLINE inline __attribute__((always_inline))
#define LG_NOINLINE __attribute__((noinline))
#else
#define LG_ALWAYS_INLINE inline
#define LG_NOINLINE
#endif

#define LG_CC_TOKEN 0x01u /* tchar, RFC 9110 5.6.2 */
#define LG_CC_HOST 0x02u  /* reg-name, IP-literal and port characters (RFC 3986) */
#define LG_CC_VALUE 0x04u /* field-vchar, SP, HTAB (RFC 9110 5.5) */
#define LG_CC_HEX 0x08u   /* HEXDIG */
#define LG_CC_SCHEME 0x10u /* ALPHA, DIGIT, "+", "-", "." after a URI scheme's first letter */

extern const uint8_t lg_char_class[256];

/* v in decimal into out (at most 20 bytes, no NUL); returns the length.
 * Without 64-bit division (http1_write.c says why). */
size_t lg__format_dec(char *out, uint64_t v);
/* 1*DIGIT, at most 2^63 - 1 (a Content-Length, RFC 9110 8.6): LG_OK and
 * *out, or LG_ERR_CONTENT_LENGTH. */
int lg__parse_dec(const char *p, size_t n, uint64_t *out);

/* Case-insensitive (ASCII) equality of a[0..n) and b[0..n): A-Z and a-z
 * fold together, every other byte (digits, '-', '^' and '~', CR, bytes
 * over 0x7f) only matches itself. The one such comparison in linger: field
 * names, schemes, hosts, tokens and file name extensions all use it. */
int lg__ieq(const char *a, const char *b, size_t n);
/* lg__ieq of a slice and a NUL-terminated string, of the same length. */
static inline int lg__str_ieq(lg_str s, const char *z)
{
    size_t n = strlen(z);
    return s.len == n && lg__ieq(s.ptr, z, n);
}

/* HTTP-date, RFC 9110 5.6.7 (src/http1_date.c): plain arithmetic on UTC
 * seconds, no C library time functions (a device's may lack them).
 * lg__http_date_format writes the IMF-fixdate "Sun, 06 Nov 1994 08:49:37
 * GMT" and a NUL into out (LG_HTTP_DATE_BYTES); t is seconds since 1970,
 * years outside 0000..9999 are clamped to them. lg__http_date_parse reads
 * any of the three forms a recipient must accept (IMF-fixdate, RFC 850,
 * asctime): 0 and *t, or -1. */
#define LG_HTTP_DATE_BYTES 30
void lg__http_date_format(int64_t t, char *out);
int lg__http_date_parse(lg_str s, int64_t *t);

static inline int lg_is_token(char c) { return lg_char_class[(unsigned char)c] & LG_CC_TOKEN; }
static inline int lg_is_host(char c) { return lg_char_class[(unsigned char)c] & LG_CC_HOST; }
static inline int lg_is_value(char c) { return lg_char_class[(unsigned char)c] & LG_CC_VALUE; }
static inline int lg_is_hex(char c) { return lg_char_class[(unsigned char)c] & LG_CC_HEX; }
static inline int lg_is_scheme(char c) { return lg_char_class[(unsigned char)c] & LG_CC_SCHEME; }

static inline unsigned lg_hex_value(char c)
{
    unsigned u = (unsigned char)c;
    return u <= '9' ? u - '0' : (u | 0x20u) - 'a' + 10u;
}

/* The scanners below find the first byte of a class in [p, end) or return
 * end. They never read outside [lo, end): `lo` is the start of the caller's
 * buffer (or p itself when nothing before p may be read). The vector loop
 * runs while 16 whole bytes remain; the last few bytes of a buffer, where
 * the last field lines of a small head are, are then read as the 16 bytes
 * ending at `end` when the buffer is that long, with the lanes before p
 * ignored; only in shorter buffers is the tail scalar. LG_NO_SIMD forces
 * the scalar path (the tests build both). */
#if !defined(LG_NO_SIMD) && defined(__SSE2__)
#include <emmintrin.h>
#define LG_SIMD_SSE2 1
#elif !defined(LG_NO_SIMD) && defined(__ARM_NEON) && defined(__aarch64__)
#include <arm_neon.h>
#define LG_SIMD_NEON 1
#endif

/* What a vector scan looks for. */
enum {
    LG_SCAN_CTL,       /* a control character (0x00-0x1f, HTAB too) or DEL */
    LG_SCAN_CTL_SPACE, /* the same or SP: the end of a request target */
    /* the scans from here on skip letters, digits, '-' (and more) */
    LG_SCAN_NAME_END,  /* anything but a letter, a digit or '-' */
    LG_SCAN_HOST_END   /* anything but a letter, a digit, '-', '.' or ':' */
};

#if defined(LG_SIMD_SSE2)
/* A bit per byte of the 16 at p, set where the byte is what `what` looks
 * for. SSE2 has no unsigned compare; a saturating add of 0x80 - k sets the
 * top bit of exactly the bytes >= k, which is what movemask collects. */
typedef unsigned lg_vmask;
#define LG_VMASK_LANE_BITS 1
static inline lg_vmask lg_vscan(const char *p, int what)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    if (what >= LG_SCAN_NAME_END) {
        /* top bit set: not a letter ((c | 0x20) - 'a' >= 26), not a digit
         * (c - '0' >= 10), and not '-' */
        __m128i a = _mm_sub_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
        __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
        __m128i bad = _mm_and_si128(_mm_adds_epu8(a, _mm_set1_epi8(0x80 - 26)),
                                    _mm_adds_epu8(d, _mm_set1_epi8(0x80 - 10)));
        __m128i ok = _mm_cmpeq_epi8(v, _mm_set1_epi8('-'));
        if (what == LG_SCAN_HOST_END)
            ok = _mm_or_si128(ok, _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('.')),
                                               _mm_cmpeq_epi8(v, _mm_set1_epi8(':'))));
        return (lg_vmask)_mm_movemask_epi8(_mm_andnot_si128(ok, bad));
    }
    /* top bit set: at or above the first allowed byte (SP, or '!' after a
     * target), and not DEL */
    __m128i ok = _mm_adds_epu8(v, _mm_set1_epi8(what == LG_SCAN_CTL ? 0x80 - 0x20 : 0x80 - 0x21));
    ok = _mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)), ok);
    return (lg_vmask)_mm_movemask_epi8(ok) ^ 0xffffu;
}
static inline size_t lg_vmask_first(lg_vmask m) { return (size_t)__builtin_ctz(m); }
/* The same mask with exactly one bit per byte (lg_vscan's already is). */
static inline unsigned lg_vbits(const char *p, int what) { return lg_vscan(p, what); }
#elif defined(LG_SIMD_NEON)
static inline uint8x16_t lg_vhit(const char *p, int what)
{
    uint8x16_t v = vld1q_u8((const uint8_t *)p);
    if (what >= LG_SCAN_NAME_END) {
        uint8x16_t a = vcltq_u8(vsubq_u8(vorrq_u8(v, vdupq_n_u8(0x20)), vdupq_n_u8('a')),
                                vdupq_n_u8(26));
        uint8x16_t d = vcltq_u8(vsubq_u8(v, vdupq_n_u8('0')), vdupq_n_u8(10));
        uint8x16_t ok = vorrq_u8(vorrq_u8(a, d), vceqq_u8(v, vdupq_n_u8('-')));
        if (what == LG_SCAN_HOST_END)
            ok = vorrq_u8(ok, vorrq_u8(vceqq_u8(v, vdupq_n_u8('.')), vceqq_u8(v, vdupq_n_u8(':'))));
        return vmvnq_u8(ok);
    }
    return vorrq_u8(vcleq_u8(v, vdupq_n_u8(what == LG_SCAN_CTL ? 0x1f : 0x20)),
                    vceqq_u8(v, vdupq_n_u8(0x7f)));
}
/* NEON has no movemask; narrowing by 4 bits per lane gives a 64-bit mask
 * with a nibble per byte. */
typedef uint64_t lg_vmask;
#define LG_VMASK_LANE_BITS 4
static inline lg_vmask lg_vscan(const char *p, int what)
{
    uint8x16_t hit = lg_vhit(p, what);
    return vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(hit), 4)), 0);
}
static inline size_t lg_vmask_first(lg_vmask m) { return (size_t)__builtin_ctzll(m) >> 2; }
/* One bit per byte: each lane keeps its bit weight, and each half adds up
 * across. */
static inline unsigned lg_vbits(const char *p, int what)
{
    static const uint8_t weight[16] = { 1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128 };
    uint8x16_t w = vandq_u8(lg_vhit(p, what), vld1q_u8(weight));
    return vaddv_u8(vget_low_u8(w)) | (unsigned)vaddv_u8(vget_high_u8(w)) << 8;
}
#endif

#if defined(LG_SIMD_SSE2) || defined(LG_SIMD_NEON)
/* Inlining that pays in the vector build (servers) and would cost bytes in
 * the scalar one (microcontrollers). */
#define LG_SPEED_INLINE LG_ALWAYS_INLINE
#define LG_SIMD_LINES 1
/* A bit for each control byte (HTAB too) or DEL among the nbits =
 * min(64, end - p) bytes at p: bit i for p[i], none past end. In a field
 * line the first one is its CR. The four loads do not depend on each
 * other, so the processor overlaps them, and finding where each line ends
 * is then bit arithmetic that waits for nothing else. Needs p < end and the
 * 16 bytes before end readable (a buffer of 16 bytes or more); reads
 * nothing at or past end. */
static inline uint64_t lg_line_ends(const char *p, const char *end, size_t *nbits)
{
    if (end - p >= 64) {
        *nbits = 64;
        return (uint64_t)lg_vbits(p, LG_SCAN_CTL) | (uint64_t)lg_vbits(p + 16, LG_SCAN_CTL) << 16 |
               (uint64_t)lg_vbits(p + 32, LG_SCAN_CTL) << 32 |
               (uint64_t)lg_vbits(p + 48, LG_SCAN_CTL) << 48;
    }
    size_t avail = (size_t)(end - p), k = 0;
    uint64_t bits = 0;
    *nbits = avail;
    for (; k + 16 <= avail; k += 16) bits |= (uint64_t)lg_vbits(p + k, LG_SCAN_CTL) << k;
    if (k < avail) /* the 16 bytes ending at end, without those before p + k */
        bits |= (uint64_t)(lg_vbits(end - 16, LG_SCAN_CTL) >> (16 - (avail - k))) << k;
    return bits;
}
#endif

#ifndef LG_SPEED_INLINE
#define LG_SPEED_INLINE
#endif

/* The vector part of a scan: the first byte `what` looks for, or end when
 * there is none, or, when the buffer is too short to look at in 16-byte
 * loads, the point from which a scalar loop must go on. */
static inline const char *lg_vfind(const char *p, const char *end, const char *lo, int what)
{
#if defined(LG_SIMD_SSE2) || defined(LG_SIMD_NEON)
    while (end - p >= 16) {
        lg_vmask m = lg_vscan(p, what);
        if (m) return p + lg_vmask_first(m);
        p += 16;
    }
    if (p < end && end - lo >= 16) {
        const char *q = end - 16; /* q < p: the lanes before p are dropped */
        lg_vmask m = lg_vscan(q, what) >> ((size_t)(p - q) * LG_VMASK_LANE_BITS);
        return m ? p + lg_vmask_first(m) : end;
    }
#else
    (void)end, (void)lo, (void)what;
#endif
    return p;
}

/* First byte that is a control character (0x00-0x1f) or DEL; HTAB counts,
 * callers step over it where it is allowed. */
static inline const char *lg_find_ctl_lo(const char *p, const char *end, const char *lo)
{
    p = lg_vfind(p, end, lo, LG_SCAN_CTL);
#if defined(LG_SIMD_LINES)
    if (end - lo >= 16) return p; /* the vector scan's answer is exact */
#else
    /* Without vectors, a machine word at a time: a word holds a control
     * byte when subtracting 0x20 from each byte borrows into a byte whose
     * top bit was clear, and DEL when its bytes xor 0x7f give a zero byte.
     * The test may flag a word wrongly only after a byte that is truly
     * flagged, so the byte loop below always finds the right one. */
    {
        const size_t ones = (size_t)-1 / 0xff, highs = ones << 7;
        while ((size_t)(end - p) >= sizeof(size_t)) {
            size_t w;
            memcpy(&w, p, sizeof w);
            size_t del = w ^ (ones * 0x7f);
            if ((((w - ones * 0x20) & ~w) | ((del - ones) & ~del)) & highs) break;
            p += sizeof w;
        }
    }
#endif
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f) return p;
        p++;
    }
    return end;
}

static inline const char *lg_find_ctl(const char *p, const char *end)
{
    return lg_find_ctl_lo(p, end, p);
}

/* First byte that is a control character, SP or DEL: the end of a request
 * target. */
static inline const char *lg_find_ctl_or_space_lo(const char *p, const char *end, const char *lo)
{
    p = lg_vfind(p, end, lo, LG_SCAN_CTL_SPACE);
#if defined(LG_SIMD_LINES)
    if (end - lo >= 16) return p; /* the vector scan's answer is exact */
#endif
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c == 0x7f) return p;
        p++;
    }
    return end;
}

static inline const char *lg_find_ctl_or_space(const char *p, const char *end)
{
    return lg_find_ctl_or_space_lo(p, end, p);
}

/* First byte that is not a token character (RFC 9110 5.6.2): the end of a
 * method or a field name. Letters, digits and '-' make up nearly every
 * method and name, so the vector part looks for anything else; the table
 * then goes on from the byte it stopped at, which is usually the end (SP or
 * ':') and otherwise one of the rarer token characters ('_', '.'). */
static inline const char *lg_skip_token(const char *p, const char *end, const char *lo)
{
    p = lg_vfind(p, end, lo, LG_SCAN_NAME_END);
    while (p < end && lg_is_token(*p)) p++;
    return p;
}

/* First byte in [p, end) that may not appear in a Host value (RFC 9110 7.2:
 * uri-host [":" port], reg-name and IP-literal characters of RFC 3986). The
 * vector part skips the usual letters, digits, '-', '.' and ':'. */
static inline const char *lg_skip_host(const char *p, const char *end, const char *lo)
{
    p = lg_vfind(p, end, lo, LG_SCAN_HOST_END);
    while (p < end && lg_is_host(*p)) p++;
    return p;
}

/* Parse one complete section of field lines ending in an empty line
 * (headers or trailers) starting at *pp. Returns 0 and advances *pp past the
 * empty line, LG_HTTP1_INCOMPLETE when input ran out, or a negative lg_err.
 * Used by the head parser and the chunked body reader. */
#define LG_HTTP1_INCOMPLETE 1
int lg_http1_parse_trailer_fields(const char **pp, const char *end, lg_head *h);

#endif
