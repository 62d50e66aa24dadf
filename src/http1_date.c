/*
 * HTTP-date (RFC 9110 5.6.7): the one IMF-fixdate formatter (the server's
 * Date, the file server's Last-Modified) and the parser of the three forms
 * a recipient must read. Plain arithmetic on UTC seconds the caller gives:
 * no clock, no C library time functions (a microcontroller's C library may
 * lack gmtime or a timezone database), no I/O, no allocation.
 */
#include <string.h>

#include "http1_internal.h"

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard
 * Hinnant's algorithms; eras of 400 years keep them exact). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static const char day_names[] = "SunMonTueWedThuFriSat";
static const char month_names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

static void two(char *p, int v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

void lg__http_date_format(int64_t t, char *out)
{
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t secs = t - days * 86400;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    int wday = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday (4) */
    if (y < 0) y = 0;
    if (y > 9999) y = 9999;
    memcpy(out, day_names + 3 * wday, 3);
    memcpy(out + 3, ", ", 2);
    two(out + 5, d);
    out[7] = ' ';
    memcpy(out + 8, month_names + 3 * (m - 1), 3);
    out[11] = ' ';
    two(out + 12, (int)(y / 100));
    two(out + 14, (int)(y % 100));
    out[16] = ' ';
    two(out + 17, (int)(secs / 3600));
    out[19] = ':';
    two(out + 20, (int)(secs / 60 % 60));
    out[22] = ':';
    two(out + 23, (int)(secs % 60));
    memcpy(out + 25, " GMT", 5); /* with the NUL */
}

typedef struct cursor {
    const char *p, *end;
} cursor;

static int lit(cursor *c, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0) return 0;
    c->p += n;
    return 1;
}

/* Exactly n digits. */
static int digits(cursor *c, int n, int *v)
{
    if (c->end - c->p < n) return 0;
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (c->p[i] < '0' || c->p[i] > '9') return 0;
        *v = *v * 10 + (c->p[i] - '0');
    }
    c->p += n;
    return 1;
}

static int month(cursor *c, int *m)
{
    if (c->end - c->p < 3) return 0;
    for (int i = 0; i < 12; i++) {
        if (memcmp(c->p, month_names + 3 * i, 3) == 0) {
            *m = i + 1;
            c->p += 3;
            return 1;
        }
    }
    return 0;
}

/* "08:49:37" */
static int hms(cursor *c, int *h, int *mi, int *s)
{
    return digits(c, 2, h) && lit(c, ":") && digits(c, 2, mi) && lit(c, ":") && digits(c, 2, s);
}

int lg__http_date_parse(lg_str str, int64_t *t)
{
    if (!str.ptr) return -1;
    cursor c = { str.ptr, str.ptr + str.len };
    int y, m, d, h, mi, s;
    /* The day name: three letters, or spelled out (RFC 850). Whether it
     * agrees with the date is not checked (RFC 9110 5.6.7 lets us be
     * lenient with it). */
    const char *q = c.p;
    while (q < c.end && ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z'))) q++;
    if (q - c.p < 3) return -1;
    c.p = q;
    if (lit(&c, ", ")) {
        if (c.end - c.p >= 3 && c.p[2] == ' ') {
            /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
            if (!(digits(&c, 2, &d) && lit(&c, " ") && month(&c, &m) && lit(&c, " ") &&
                  digits(&c, 4, &y) && lit(&c, " ") && hms(&c, &h, &mi, &s) && lit(&c, " GMT")))
                return -1;
        } else {
            /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT". A two-digit year
             * is taken in 1970..2069: RFC 9110 asks for the most recent
             * past year when it would be over 50 years ahead, which this
             * matches until 2020 + 50 without reading a clock. */
            if (!(digits(&c, 2, &d) && lit(&c, "-") && month(&c, &m) && lit(&c, "-") &&
                  digits(&c, 2, &y) && lit(&c, " ") && hms(&c, &h, &mi, &s) && lit(&c, " GMT")))
                return -1;
            y += y < 70 ? 2000 : 1900;
        }
    } else if (lit(&c, " ")) {
        /* asctime: "Sun Nov  6 08:49:37 1994" */
        if (!(month(&c, &m) && lit(&c, " "))) return -1;
        if (c.p < c.end && *c.p == ' ') {
            c.p++;
            if (!digits(&c, 1, &d)) return -1;
        } else if (!digits(&c, 2, &d)) {
            return -1;
        }
        if (!(lit(&c, " ") && hms(&c, &h, &mi, &s) && lit(&c, " ") && digits(&c, 4, &y))) return -1;
    } else {
        return -1;
    }
    if (c.p != c.end) return -1;
    if (d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return -1;
    *t = days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 + (s > 59 ? 59 : s);
    return 0;
}
