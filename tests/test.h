/* A tiny test harness: each test file is its own program (as in libuv), so
 * one crash names one file. CHECK records a failure and goes on; the program
 * exits non-zero when any check failed. */
#ifndef LG_TEST_H
#define LG_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;
static int test_checks;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        test_checks++;                                                                \
        if (!(cond)) {                                                                \
            test_failures++;                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                             \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                            \
    do {                                                                              \
        long long va_ = (long long)(a), vb_ = (long long)(b);                         \
        test_checks++;                                                                \
        if (va_ != vb_) {                                                             \
            test_failures++;                                                          \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__,     \
                    __LINE__, #a, va_, #b, vb_);                                      \
        }                                                                             \
    } while (0)

#define CHECK_STR(slice, lit)                                                         \
    do {                                                                              \
        lg_str s_ = (slice);                                                          \
        const char *l_ = (lit);                                                       \
        test_checks++;                                                                \
        if (!s_.ptr || s_.len != strlen(l_) || memcmp(s_.ptr, l_, s_.len) != 0) {     \
            test_failures++;                                                          \
            fprintf(stderr, "%s:%d: %s is \"%.*s\", expected \"%s\"\n", __FILE__,     \
                    __LINE__, #slice, s_.ptr ? (int)s_.len : 6,                       \
                    s_.ptr ? s_.ptr : "(null)", l_);                                  \
        }                                                                             \
    } while (0)

#define TEST_MAIN_END()                                                               \
    do {                                                                              \
        if (test_failures) {                                                          \
            fprintf(stderr, "%d of %d checks failed\n", test_failures, test_checks);  \
            return 1;                                                                 \
        }                                                                             \
        printf("%d checks passed\n", test_checks);                                    \
        return 0;                                                                     \
    } while (0)

#endif
