/* The incremental UTF-8 validator (src/ws_utf8.c), after the Autobahn
 * testsuite's case 6: valid text split anywhere; overlong forms,
 * surrogates, code points over U+10FFFF, stray continuation bytes, lonely
 * lead bytes, 5- and 6-byte forms, sequences cut off at the end; each
 * refused at the first byte that makes it invalid ("fail fast"), whatever
 * the pieces.
 *
 * The expectations come from two places: hand-written positions for the
 * named cases, and a reference written another way (code point arithmetic:
 * a prefix is refused when no completion of it is a scalar value of its
 * length's range), compared with the validator on every string of up to
 * three bytes, on four-byte strings of boundary bytes, and on random
 * strings. */
#include <stdint.h>

#include "linger_ws.h"
#include "test.h"

/* What the validator says, fed `pieces` pieces (cut evenly) or a byte at a
 * time (pieces == 0): the index of the byte it refused, len when only the
 * end found the text cut off, -1 when the text is valid. */
static long validate(const unsigned char *s, size_t len, size_t pieces)
{
    lg_ws_utf8 v;
    lg_ws_utf8_init(&v);
    if (pieces == 0) {
        for (size_t i = 0; i < len; i++)
            if (lg_ws_utf8_check(&v, s + i, 1) != LG_OK) return (long)i;
    } else {
        size_t at = 0;
        for (size_t k = 1; k <= pieces; k++) {
            size_t to = len * k / pieces;
            if (lg_ws_utf8_check(&v, s + at, to - at) != LG_OK) return -2; /* refused somewhere */
            at = to;
        }
    }
    return lg_ws_utf8_end(&v) == LG_OK ? -1 : (long)len;
}

/* The reference. */
static long reference(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        int len;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F;
        else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F;
        else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07;
        else return (long)i; /* a continuation byte, or F8-FF */
        uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
        uint32_t max = len == 2 ? 0x7FF : len == 3 ? 0xFFFF : 0x10FFFF;
        for (int k = 1; k <= len; k++) {
            if (k > 1) {
                if (i + (size_t)k - 1 >= n) return (long)n; /* cut off */
                unsigned b = s[i + (size_t)k - 1];
                if ((b & 0xC0) != 0x80) return (long)(i + (size_t)k - 1);
                cp = cp << 6 | (b & 0x3F);
            }
            /* the code points this prefix can still become */
            int rest = 6 * (len - k);
            uint32_t lo = cp << rest, hi = lo | ((1u << rest) - 1);
            if (lo < min) lo = min;
            if (hi > max) hi = max;
            int possible = lo <= hi && !(lo >= 0xD800 && hi <= 0xDFFF);
            if (!possible) return (long)(i + (size_t)k - 1);
        }
        i += (size_t)len;
    }
    return -1;
}

/* The validator fed a byte at a time, whole, and cut at every point (and
 * every pair of points) agrees with `want`. Returns the mismatches. */
static int agree(const unsigned char *s, size_t len, long want, const char *name)
{
    int bad = 0;
    long got = validate(s, len, 0);
    if (got != want) {
        fprintf(stderr, "  %s: refused at %ld, expected %ld\n", name, got, want);
        bad++;
    }
    int valid = want == -1;
    for (size_t a = 0; a <= len; a++) {
        for (size_t b = a; b <= len; b++) {
            lg_ws_utf8 v;
            lg_ws_utf8_init(&v);
            int ok = lg_ws_utf8_check(&v, s, a) == LG_OK;
            int ok2 = lg_ws_utf8_check(&v, s + a, b - a) == LG_OK;
            int ok3 = lg_ws_utf8_check(&v, s + b, len - b) == LG_OK;
            /* refused as soon as the refused byte is in; never before */
            size_t refused_in = want < 0 || (size_t)want >= len ? 3 : (size_t)want < a ? 0 : (size_t)want < b ? 1 : 2;
            if (ok != (refused_in > 0) || ok2 != (refused_in > 1) || ok3 != (refused_in > 2) ||
                (lg_ws_utf8_end(&v) == LG_OK) != valid) {
                if (bad++ < 3) fprintf(stderr, "  %s: cut at %lu and %lu disagrees\n", name, (unsigned long)a, (unsigned long)b);
            }
        }
    }
    return bad;
}

typedef struct utf8_case {
    const char *name;
    const char *text;
    long refused_at; /* -1 valid; the length: cut off */
} utf8_case;

#define KOSME "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5" /* κόσμε */

static const utf8_case cases[] = {
    /* 6.1, 6.2, 6.5: valid */
    { "empty", "", -1 },
    { "ASCII", "Hello, world", -1 },
    { "6.2 mixed", "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!", -1 },
    { "6.5.1 kosme", KOSME, -1 },
    /* 6.6: every prefix of κόσμε; the odd ones end inside a character */
    { "6.6.1", "\xce", 1 },
    { "6.6.3", "\xce\xba\xe1", 3 },
    { "6.6.4", "\xce\xba\xe1\xbd", 4 },
    { "6.6.5", "\xce\xba\xe1\xbd\xb9", -1 },
    { "6.6.10", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce", 10 },
    /* 6.7: the first character of each length; 6.9: the last */
    { "6.7.1 U+0000", "\x00", -1 },
    { "6.7.2 U+0080", "\xc2\x80", -1 },
    { "6.7.3 U+0800", "\xe0\xa0\x80", -1 },
    { "6.7.4 U+10000", "\xf0\x90\x80\x80", -1 },
    { "6.9.1 U+007F", "\x7f", -1 },
    { "6.9.2 U+07FF", "\xdf\xbf", -1 },
    { "6.9.3 U+FFFF", "\xef\xbf\xbf", -1 },
    { "6.9.4 U+10FFFF", "\xf4\x8f\xbf\xbf", -1 },
    /* 6.8, 6.10: 5- and 6-byte forms, and U+1FFFFF, never valid */
    { "6.8.1 5 bytes", "\xf8\x88\x80\x80\x80", 0 },
    { "6.8.2 6 bytes", "\xfc\x84\x80\x80\x80\x80", 0 },
    { "6.10.1 U+1FFFFF", "\xf7\xbf\xbf\xbf", 0 },
    { "6.10.2 5 bytes", "\xfb\xbf\xbf\xbf\xbf", 0 },
    { "6.10.3 6 bytes", "\xfd\xbf\xbf\xbf\xbf\xbf", 0 },
    /* 6.11: other boundaries */
    { "6.11.1 U+D7FF", "\xed\x9f\xbf", -1 },
    { "6.11.2 U+E000", "\xee\x80\x80", -1 },
    { "6.11.3 U+FFFD", "\xef\xbf\xbd", -1 },
    { "6.11.4 U+10FFFF", "\xf4\x8f\xbf\xbf", -1 },
    { "6.11.5 U+110000", "\xf4\x90\x80\x80", 1 },
    /* 6.12: continuation bytes alone */
    { "6.12.1", "\x80", 0 },
    { "6.12.2", "\xbf", 0 },
    { "6.12.3", "\x80\xbf", 0 },
    { "6.12.8 after text", "ab\x80\xbf\x80\xbf\x80\xbf\x80", 2 },
    /* 6.13: lead bytes followed by a space */
    { "6.13.1 C0", "\xc0\x20", 0 },
    { "6.13.2 C2", "\xc2\x20", 1 },
    { "6.13.3 E0", "\xe0\x20", 1 },
    { "6.13.4 F0", "\xf0\x20", 1 },
    { "6.13.5 F5", "\xf5\x20", 0 },
    /* 6.14: the last continuation byte missing */
    { "6.14.1 C0", "\xc0", 0 },
    { "6.14.2 E0 80", "\xe0\x80", 1 },
    { "6.14.3 F0 80 80", "\xf0\x80\x80", 1 },
    { "6.14.6 DF", "\xdf", 1 },
    { "6.14.7 EF BF", "\xef\xbf", 2 },
    { "6.14.8 F4 8F BF", "\xf4\x8f\xbf", 3 },
    { "6.14.9 then ASCII", "\xef\xbf" "a", 2 },
    /* 6.16: bytes that never appear */
    { "6.16.1 FE", "\xfe", 0 },
    { "6.16.2 FF", "\xff", 0 },
    { "6.16.3 FE FE FF FF", "\xfe\xfe\xff\xff", 0 },
    /* 6.17-6.19: overlong forms, refused at the first byte that shows it */
    { "6.17.1 C0 AF", "\xc0\xaf", 0 },
    { "6.17.2 E0 80 AF", "\xe0\x80\xaf", 1 },
    { "6.17.3 F0 80 80 AF", "\xf0\x80\x80\xaf", 1 },
    { "6.18.1 C1 BF", "\xc1\xbf", 0 },
    { "6.18.2 E0 9F BF", "\xe0\x9f\xbf", 1 },
    { "6.18.3 F0 8F BF BF", "\xf0\x8f\xbf\xbf", 1 },
    { "6.19.1 C0 80", "\xc0\x80", 0 },
    { "6.19.2 E0 80 80", "\xe0\x80\x80", 1 },
    { "6.19.3 F0 80 80 80", "\xf0\x80\x80\x80", 1 },
    /* 6.20, 6.21: surrogates, single and paired */
    { "6.20.1 U+D800", "\xed\xa0\x80", 1 },
    { "6.20.4 U+DB80", "\xed\xae\x80", 1 },
    { "6.20.7 U+DFFF", "\xed\xbf\xbf", 1 },
    { "6.21.1 D800 DC00", "\xed\xa0\x80\xed\xb0\x80", 1 },
    { "after text", "abc\xed\xa0\x80", 4 },
    /* 6.22: noncharacters are valid UTF-8 */
    { "6.22.1 U+FFFE", "\xef\xbf\xbe", -1 },
    { "6.22.3 U+1FFFE", "\xf0\x9f\xbf\xbe", -1 },
    { "6.22.34 U+10FFFE", "\xf4\x8f\xbf\xbe", -1 },
    /* 6.4: fail fast inside a longer text */
    { "6.4.1", KOSME "\xf4\x90\x80\x80" "edited", 12 },
    { "6.4.2", KOSME "\xf4" "\x90\x80\x80" "edited", 12 },
    { "6.3.1", KOSME "\xed\xa0\x80" "edited", 12 },
    /* the ASCII fast path: a bad byte at each offset of a word */
    { "bad at 4", "abcd\xff", 4 },
    { "bad at 5", "abcde\x80xyz", 5 },
    { "bad at 7", "abcdefg\xc0zzzzzzz", 7 },
    { "bad at 8", "abcdefgh\xf5zzzzzzzzzz", 8 },
    { "lead at a word's end", "abc\xc3\xa9" "defgh", -1 },
};

static void test_cases(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const unsigned char *s = (const unsigned char *)cases[i].text;
        /* "6.7.1 U+0000" is one NUL byte */
        size_t len = cases[i].text[0] ? strlen(cases[i].text) : strncmp(cases[i].name, "6.7.1", 5) == 0;
        CHECK_EQ_INT(reference(s, len), cases[i].refused_at); /* the reference agrees by hand */
        CHECK_EQ_INT(agree(s, len, cases[i].refused_at, cases[i].name), 0);
    }
}

/* Every string of one, two and three bytes. */
static void test_exhaustive(void)
{
    unsigned char s[3];
    int bad = 0;
    for (unsigned a = 0; a < 256; a++) {
        s[0] = (unsigned char)a;
        bad += validate(s, 1, 0) != reference(s, 1);
        for (unsigned b = 0; b < 256; b++) {
            s[1] = (unsigned char)b;
            bad += validate(s, 2, 0) != reference(s, 2);
            for (unsigned c = 0; c < 256; c++) {
                s[2] = (unsigned char)c;
                long want = reference(s, 3);
                lg_ws_utf8 v;
                lg_ws_utf8_init(&v);
                long got = lg_ws_utf8_check(&v, s, 3) != LG_OK ? 0 : lg_ws_utf8_end(&v) == LG_OK ? -1 : 3;
                /* whole: refused or not, cut off or not */
                if ((want >= 0 && want < 3) != (got == 0) || (want == 3) != (got == 3)) bad++;
                if (want >= 0 && want < 3 && validate(s, 3, 0) != want) bad++;
            }
        }
    }
    CHECK_EQ_INT(bad, 0);
}

/* Four-byte strings of bytes at every boundary. */
static void test_boundaries(void)
{
    static const unsigned char edges[] = { 0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1,
                                           0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3,
                                           0xf4, 0xf5, 0xf7, 0xf8, 0xff };
    const size_t n = sizeof edges;
    int bad = 0;
    unsigned char s[5];
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++)
            for (size_t c = 0; c < n; c++)
                for (size_t d = 0; d < n; d++)
                    for (size_t e = 0; e < 3; e++) {
                        s[0] = edges[a], s[1] = edges[b], s[2] = edges[c], s[3] = edges[d];
                        s[4] = (unsigned char)(e == 0 ? 'x' : e == 1 ? 0x80 : 0xbf);
                        if (validate(s, 5, 0) != reference(s, 5)) bad++;
                        if (validate(s, 4, 0) != reference(s, 4)) bad++;
                    }
    CHECK_EQ_INT(bad, 0);
}

/* Random strings of interesting bytes, fed whole and in random pieces. */
static void test_random(void)
{
    static const unsigned char alphabet[] = { 'a', 'b', 0x00, 0x7f, 0x80, 0x8f, 0x90, 0xa0, 0xbf, 0xc2,
                                              0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xc0, 0xff };
    uint32_t seed = 12345;
    int bad = 0, valid = 0;
    unsigned char s[40];
    for (int round = 0; round < 200000; round++) {
        seed = seed * 1103515245u + 12345u;
        size_t len = (seed >> 16) % sizeof s;
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            s[i] = alphabet[(seed >> 16) % sizeof alphabet];
        }
        long want = reference(s, len);
        valid += want == -1;
        if (validate(s, len, 0) != want) bad++;
        seed = seed * 1103515245u + 12345u;
        long split = validate(s, len, 1 + (seed >> 16) % 5);
        if ((want >= 0 && (size_t)want < len) ? split != -2 : split != want) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(valid > 1000); /* the alphabet makes valid text too */
}

/* A validator that refused stays refused; init starts it again. */
static void test_state(void)
{
    lg_ws_utf8 v;
    lg_ws_utf8_init(&v);
    CHECK_EQ_INT(lg_ws_utf8_check(&v, "\xff", 1), LG_ERR_WS_UTF8);
    CHECK_EQ_INT(lg_ws_utf8_check(&v, "a", 1), LG_ERR_WS_UTF8);
    CHECK_EQ_INT(lg_ws_utf8_check(&v, NULL, 0), LG_ERR_WS_UTF8);
    CHECK_EQ_INT(lg_ws_utf8_end(&v), LG_ERR_WS_UTF8);
    lg_ws_utf8_init(&v);
    CHECK_EQ_INT(lg_ws_utf8_check(&v, NULL, 0), LG_OK);
    CHECK_EQ_INT(lg_ws_utf8_end(&v), LG_OK);
    CHECK_EQ_INT(lg_ws_utf8_check(&v, "\xe2", 1), LG_OK);
    CHECK_EQ_INT(lg_ws_utf8_end(&v), LG_ERR_WS_UTF8);
    CHECK_EQ_INT(lg_ws_utf8_check(&v, "\x82\xac", 2), LG_OK);
    CHECK_EQ_INT(lg_ws_utf8_end(&v), LG_OK);
}

int main(void)
{
    test_cases();
    test_exhaustive();
    test_boundaries();
    test_random();
    test_state();
    TEST_MAIN_END();
}
