/*
 * HTTP dates (RFC 9110 5.6.7, src/http1_date.c): the IMF-fixdate the
 * server's Date and the file server's Last-Modified are written in, and the
 * three forms a recipient must read. On Linux the formatter is also held
 * to the C library's gmtime (what the server's Date header used to be made
 * with) over the whole 32-bit range of seconds and beyond.
 */
#include <string.h>
#if defined(__linux__)
#include <time.h>
#endif

#include "http1_internal.h"
#include "test.h"

static lg_str S(const char *s)
{
    lg_str r = { s, strlen(s) };
    return r;
}

static void test_format(void)
{
    char out[LG_HTTP_DATE_BYTES];
    /* RFC 9110's own example, and a few edges. */
    lg__http_date_format(784111777, out);
    CHECK(strcmp(out, "Sun, 06 Nov 1994 08:49:37 GMT") == 0);
    lg__http_date_format(0, out);
    CHECK(strcmp(out, "Thu, 01 Jan 1970 00:00:00 GMT") == 0);
    lg__http_date_format(951782400, out); /* a leap day in a year divisible by 400 */
    CHECK(strcmp(out, "Tue, 29 Feb 2000 00:00:00 GMT") == 0);
    lg__http_date_format(4102444799LL, out);
    CHECK(strcmp(out, "Thu, 31 Dec 2099 23:59:59 GMT") == 0);
}

static void test_format_edges(void)
{
    char out[LG_HTTP_DATE_BYTES];
    lg__http_date_format(-1, out); /* before 1970 */
    CHECK(strcmp(out, "Wed, 31 Dec 1969 23:59:59 GMT") == 0);
    lg__http_date_format(253402300799LL, out); /* the last second with four digits */
    CHECK(strcmp(out, "Fri, 31 Dec 9999 23:59:59 GMT") == 0);
    /* Beyond, the year is clamped: still four digits, still 29 bytes. */
    lg__http_date_format(253402300800LL * 4, out);
    CHECK_EQ_INT(strlen(out), LG_HTTP_DATE_BYTES - 1);
    CHECK(memcmp(out + 12, "9999", 4) == 0);
    lg__http_date_format(-253402300800LL, out);
    CHECK_EQ_INT(strlen(out), LG_HTTP_DATE_BYTES - 1);
    CHECK(memcmp(out + 12, "0000", 4) == 0);
}

#if defined(__linux__)
static void test_format_as_gmtime(void)
{
    int wrong = 0;
    for (int64_t t = 0; t < (INT64_C(1) << 33); t += 86413 * 7 + 1) {
        char out[LG_HTTP_DATE_BYTES], ref[64];
        time_t tt = (time_t)t;
        struct tm tm;
        if (!gmtime_r(&tt, &tm)) continue;
        strftime(ref, sizeof ref, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        lg__http_date_format(t, out);
        if (strcmp(out, ref) != 0 && wrong++ < 3) fprintf(stderr, "%s, gmtime says %s\n", out, ref);
    }
    CHECK_EQ_INT(wrong, 0);
}
#endif

static void test_parse(void)
{
    char out[LG_HTTP_DATE_BYTES];
    int64_t t = 0;
    CHECK_EQ_INT(lg__http_date_parse(S("Sun, 06 Nov 1994 08:49:37 GMT"), &t), 0);
    CHECK_EQ_INT(t, 784111777);
    t = 0;
    CHECK_EQ_INT(lg__http_date_parse(S("Sunday, 06-Nov-94 08:49:37 GMT"), &t), 0);
    CHECK_EQ_INT(t, 784111777);
    t = 0;
    CHECK_EQ_INT(lg__http_date_parse(S("Sun Nov  6 08:49:37 1994"), &t), 0);
    CHECK_EQ_INT(t, 784111777);
    CHECK_EQ_INT(lg__http_date_parse(S("Sun Nov 16 08:49:37 1994"), &t), 0);
    CHECK_EQ_INT(t, 784111777 + 10 * 86400);
    /* RFC 850 years: 1970..2069 */
    CHECK_EQ_INT(lg__http_date_parse(S("Thursday, 01-Jan-70 00:00:00 GMT"), &t), 0);
    CHECK_EQ_INT(t, 0);
    CHECK_EQ_INT(lg__http_date_parse(S("Sunday, 09-Sep-01 01:46:40 GMT"), &t), 0);
    CHECK_EQ_INT(t, 1000000000);
    /* Round trips over many instants. */
    int round_trips = 1;
    for (int64_t v = 0; v < 4102444800LL; v += 7777777) {
        int64_t back = -1;
        lg__http_date_format(v, out);
        if (lg__http_date_parse(S(out), &back) != 0 || back != v) round_trips = 0;
    }
    CHECK(round_trips);
    /* Not dates: each must be refused (an If-Modified-Since that does not
     * parse is ignored, RFC 9110 13.1.3). */
    static const char *bad[] = {
        "",
        "yesterday",
        "Sun, 06 Nov 1994 08:49:37",      /* no GMT */
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 6 Nov 1994 08:49:37 GMT",   /* one-digit day in IMF-fixdate */
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT ", /* trailing space */
        "Sun, 06 Nov 1994 08:49 GMT",
        "Sun Nov 6 08:49:37 1994",        /* asctime pads the day with a space */
        "1994-11-06T08:49:37Z",
        "Su, 06 Nov 1994 08:49:37 GMT",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = lg__http_date_parse(S(bad[i]), &t);
        if (rc != -1) fprintf(stderr, "accepted a bad date: \"%s\"\n", bad[i]);
        CHECK_EQ_INT(rc, -1);
    }
    lg_str none = { NULL, 0 };
    CHECK_EQ_INT(lg__http_date_parse(none, &t), -1);
}


int main(void)
{
    test_format();
    test_format_edges();
#if defined(__linux__)
    test_format_as_gmtime();
#endif
    test_parse();
    TEST_MAIN_END();
}
