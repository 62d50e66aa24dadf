/*
 * Head parsing throughput: linger against picohttpparser, llhttp and
 * http-parser, measured in the same process, interleaved round by round, so
 * that a noisy machine slows every parser alike. Prints the median of the
 * rounds and the ratios, then which of the requests in a list of malformed
 * ones each parser refuses (speed bought by accepting more is no speed).
 *
 * Every parser parses the whole head, every field line included, and hands
 * back where the method, target and each name and value are: picohttpparser
 * and linger fill arrays, llhttp and http-parser call back once per slice and
 * the callbacks store it into the same kind of array. Nothing else is done
 * with the result.
 *
 * Usage: bench_parse [rounds] (default 11; the BENCH_ROUNDS variable works
 * too). Run it pinned to one core: bench/parse.sh does. With BENCH_TSV=FILE
 * it also writes every round's figure and the strictness table to FILE, as
 * tab-separated lines, for bench/report.py:
 *   time   PARSER  REQUEST  BYTES  ROUND  NS_PER_REQUEST
 *   reject PARSER  CASE     0|1
 *
 * bench_parse --only PARSER REQUEST ITERATIONS parses one request with one
 * parser and nothing else, for a profiler: under valgrind --tool=callgrind
 * it gives instruction counts that a noisy machine cannot disturb.
 *   valgrind --tool=callgrind build/bench/bench_parse --only linger api 100000
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "linger.h"
#include "parse_peers.h"

/* --------------------------------------------------------------------------
 * The requests
 * ----------------------------------------------------------------------- */

/* What Chrome 124 sends for a script on a site with a few cookies (some of
 * its sec-ch-ua-* and Sec-Fetch-* fields left out, to make it about 500
 * bytes). */
static const char req_browser[] =
    "GET /js/app.js?v=3f2a9c1 HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "Connection: keep-alive\r\n"
    "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36\r\n"
    "Accept: */*\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Dest: script\r\n"
    "Referer: https://www.example.com/\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Accept-Language: en-GB,en;q=0.9\r\n"
    "Cookie: _ga=GA1.1.123456.1712345678; sid=8f3c2a1b9d7e; theme=dark\r\n"
    "\r\n";

/* A small JSON API call from a device or a script (head only; the body
 * would follow). */
static const char req_api[] =
    "POST /api/v1/sensors/42/readings HTTP/1.1\r\n"
    "Host: 10.0.0.2:8080\r\n"
    "User-Agent: linger/0.1\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 27\r\n"
    "Accept: */*\r\n"
    "\r\n";

/* --------------------------------------------------------------------------
 * linger: the library as built, and the same sources with LG_NO_SIMD
 * (tests/codec_scalar_twin.c renames their symbols)
 * ----------------------------------------------------------------------- */

int lg_scalar_parse_request(lg_head *head, const char *buf, size_t len, size_t prev_len,
                            size_t max_head);

/* One head for every parse, as a connection keeps one: the parser resets
 * all of it but the array it is given. */
static lg_header lg_fields[MAX_FIELDS];
static lg_head lg_h = { .headers = lg_fields, .max_headers = MAX_FIELDS };

static int run_linger(const char *buf, size_t len)
{
    int rc = lg_parse_request(&lg_h, buf, len, 0, 0);
    return rc > 0 ? (int)lg_h.num_headers : -1;
}

static int run_linger_scalar(const char *buf, size_t len)
{
    int rc = lg_scalar_parse_request(&lg_h, buf, len, 0, 0);
    return rc > 0 ? (int)lg_h.num_headers : -1;
}

/* --------------------------------------------------------------------------
 * picohttpparser, from Debian's libh2o. Its header is not installed, so
 * here is its public API (picohttpparser.h, h2o 2.2).
 * ----------------------------------------------------------------------- */
#ifdef HAVE_PICO
struct phr_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len,
                      const char **path, size_t *path_len, int *minor_version,
                      struct phr_header *headers, size_t *num_headers, size_t last_len);

static struct phr_header pico_fields[MAX_FIELDS];

static int run_pico(const char *buf, size_t len)
{
    const char *method, *path;
    size_t method_len, path_len, n = MAX_FIELDS;
    int minor;
    int rc = phr_parse_request(buf, len, &method, &method_len, &path, &path_len, &minor,
                               pico_fields, &n, 0);
    return rc > 0 ? (int)n : -1;
}
#endif

/* --------------------------------------------------------------------------
 * Measuring
 * ----------------------------------------------------------------------- */

typedef struct parser {
    const char *name;
    const char *column; /* short name for the strictness table */
    int (*run)(const char *buf, size_t len);
} parser;

static const parser parsers[] = {
    { "linger", "linger", run_linger },
    { "linger LG_NO_SIMD", "scalar", run_linger_scalar },
#ifdef HAVE_PICO
    { "picohttpparser", "pico", run_pico },
#endif
#ifdef HAVE_LLHTTP
    { "llhttp", "llhttp", bench_run_llhttp },
#endif
#ifdef HAVE_HTTP_PARSER
    { "http-parser", "http-p", bench_run_http_parser },
#endif
};
#define NPARSERS (sizeof parsers / sizeof parsers[0])

typedef struct request {
    const char *key; /* for --only */
    const char *name;
    const char *text;
    size_t len;
    int fields;
} request;

static const request requests[] = {
    { "browser", "browser GET", req_browser, sizeof req_browser - 1, 11 },
    { "api", "API POST", req_api, sizeof req_api - 1, 5 },
};
#define NREQUESTS (sizeof requests / sizeof requests[0])

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static volatile int sink;

/* Nanoseconds per parse over `iters` parses. The buffer is a private copy
 * so that no parser gets a luckier alignment than another. */
static double time_parse(const parser *ps, const char *buf, size_t len, long iters)
{
    int acc = 0;
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) acc += ps->run(buf, len);
    double t1 = now_ns();
    sink = acc;
    return (t1 - t0) / (double)iters;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* --------------------------------------------------------------------------
 * Strictness: what each parser does with requests RFC 9112 says to refuse
 * (or that open smuggling gaps between a proxy and a server)
 * ----------------------------------------------------------------------- */

static const struct {
    const char *what;
    const char *text;
} bad[] = {
    { "bare LF line ending", "GET / HTTP/1.1\nHost: a\n\n" },
    { "bare CR in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r2\r\n\r\n" },
    { "NUL in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: 1\0002\r\n\r\n" },
    { "DEL in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: 1\1772\r\n\r\n" },
    { "space before colon", "GET / HTTP/1.1\r\nHost: a\r\nX-A : 1\r\n\r\n" },
    { "obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n" },
    { "non-token in name", "GET / HTTP/1.1\r\nHost: a\r\nX(a): 1\r\n\r\n" },
    { "empty name", "GET / HTTP/1.1\r\nHost: a\r\n: 1\r\n\r\n" },
    { "control char in target", "GET /a\001b HTTP/1.1\r\nHost: a\r\n\r\n" },
    { "bad version", "GET / HTTP/1.x\r\nHost: a\r\n\r\n" },
    { "HTTP/1.1 without Host", "GET / HTTP/1.1\r\nX: 1\r\n\r\n" },
    { "two Host lines", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n" },
    { "bad Host value", "GET / HTTP/1.1\r\nHost: a b@c\r\n\r\n" },
    { "Content-Length not a number", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n" },
    { "Content-Length +5", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n" },
    { "two Content-Lengths differ",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n" },
    { "Content-Length overflow",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n" },
    { "Content-Length and chunked",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" },
    { "chunked not last",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n" },
    { "chunked twice",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n" },
    { "unknown coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo\r\n\r\n" },
    { "Transfer-Encoding in HTTP/1.0",
      "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n" },
    { "asterisk target on GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n" },
    { "CONNECT without port", "CONNECT a.example HTTP/1.1\r\nHost: a.example\r\n\r\n" },
};
#define NBAD (sizeof bad / sizeof bad[0])

/* The bad requests have embedded NULs, so their length is that of the
 * literal; strlen would cut "NUL in a value" short. */
static size_t bad_len(size_t i)
{
    const char *t = bad[i].text;
    /* Every vector ends with the empty line; find it past any NUL. */
    size_t n = 0;
    for (;;) {
        if (memcmp(t + n, "\r\n\r\n", 4) == 0) return n + 4;
        if (memcmp(t + n, "\n\n", 2) == 0) return n + 2;
        n++;
    }
}

static int only(const char *name, const char *req, long iters)
{
    for (size_t i = 0; i < NPARSERS; i++) {
        if (strcmp(parsers[i].column, name) != 0 && strcmp(parsers[i].name, name) != 0) continue;
        for (size_t r = 0; r < NREQUESTS; r++) {
            if (strcmp(requests[r].key, req) != 0) continue;
            char *c = malloc(requests[r].len);
            memcpy(c, requests[r].text, requests[r].len);
            double t = time_parse(&parsers[i], c, requests[r].len, iters);
            printf("%s on %s: %.1f ns/req (%d fields)\n", parsers[i].name, requests[r].name, t,
                   sink / (int)(iters ? iters : 1));
            free(c);
            return 0;
        }
    }
    fprintf(stderr, "--only: unknown parser or request (requests: browser, api)\n");
    return 2;
}

int main(int argc, char **argv)
{
    int rounds = 11;
    const char *env = getenv("BENCH_ROUNDS");
#ifdef HAVE_LLHTTP
    bench_llhttp_setup();
#endif
#ifdef HAVE_HTTP_PARSER
    bench_http_parser_setup();
#endif
    if (argc == 5 && strcmp(argv[1], "--only") == 0) return only(argv[2], argv[3], atol(argv[4]));
    if (argc > 1) rounds = atoi(argv[1]);
    else if (env) rounds = atoi(env);
    if (rounds < 1) rounds = 1;
    if (rounds > 99) rounds = 99;

    /* Each parser must accept both requests and see every field, or its
     * figure means nothing. */
    char *copy[NREQUESTS];
    for (size_t r = 0; r < NREQUESTS; r++) {
        copy[r] = malloc(requests[r].len);
        memcpy(copy[r], requests[r].text, requests[r].len);
        for (size_t i = 0; i < NPARSERS; i++) {
            int n = parsers[i].run(copy[r], requests[r].len);
            if (n != requests[r].fields) {
                fprintf(stderr, "%s on %s: got %d fields, expected %d\n", parsers[i].name,
                        requests[r].name, n, requests[r].fields);
                return 1;
            }
        }
    }

    /* Calibrate: enough iterations for about 20 ms per measurement. */
    long iters[NPARSERS][NREQUESTS];
    for (size_t i = 0; i < NPARSERS; i++)
        for (size_t r = 0; r < NREQUESTS; r++) {
            double ns = time_parse(&parsers[i], copy[r], requests[r].len, 20000);
            long it = (long)(20e6 / (ns > 1 ? ns : 1));
            iters[i][r] = it < 1000 ? 1000 : it;
        }

    static double ns[NPARSERS][NREQUESTS][99];
    for (int k = 0; k < rounds; k++)
        for (size_t r = 0; r < NREQUESTS; r++)
            for (size_t i = 0; i < NPARSERS; i++) {
                /* Rotate the order so no parser always runs first. */
                size_t j = (i + (size_t)k) % NPARSERS;
                ns[j][r][k] = time_parse(&parsers[j], copy[r], requests[r].len, iters[j][r]);
            }

    const char *tsv_path = getenv("BENCH_TSV");
    FILE *tsv = tsv_path && *tsv_path ? fopen(tsv_path, "w") : NULL;
    if (tsv_path && *tsv_path && !tsv) perror(tsv_path);
    if (tsv)
        for (size_t i = 0; i < NPARSERS; i++)
            for (size_t r = 0; r < NREQUESTS; r++)
                for (int k = 0; k < rounds; k++)
                    fprintf(tsv, "time\t%s\t%s\t%zu\t%d\t%.3f\n", parsers[i].name,
                            requests[r].key, requests[r].len, k, ns[i][r][k]);

    double med[NPARSERS][NREQUESTS];
    for (size_t i = 0; i < NPARSERS; i++)
        for (size_t r = 0; r < NREQUESTS; r++) {
            qsort(ns[i][r], (size_t)rounds, sizeof(double), cmp_double);
            med[i][r] = ns[i][r][rounds / 2];
        }

    int pico = -1, hp = -1;
    for (size_t i = 0; i < NPARSERS; i++) {
        if (strcmp(parsers[i].name, "picohttpparser") == 0) pico = (int)i;
        if (strcmp(parsers[i].name, "http-parser") == 0) hp = (int)i;
    }

    printf("Head parsing, median of %d rounds (one core; higher is better)\n", rounds);
    for (size_t r = 0; r < NREQUESTS; r++) {
        printf("\n%s, %zu bytes, %d fields\n", requests[r].name, requests[r].len,
               requests[r].fields);
        printf("  %-18s %10s %9s %8s %10s %10s\n", "parser", "req/s", "MB/s", "ns/req",
               "vs pico", "vs http-p");
        for (size_t i = 0; i < NPARSERS; i++) {
            double t = med[i][r];
            printf("  %-18s %10.0f %9.1f %8.1f", parsers[i].name, 1e9 / t,
                   (double)requests[r].len * 1e3 / t, t);
            if (pico >= 0) printf(" %9.2fx", med[pico][r] / t);
            else printf(" %10s", "-");
            if (hp >= 0) printf(" %9.2fx", med[hp][r] / t);
            else printf(" %10s", "-");
            printf("\n");
        }
    }

    printf("\nMalformed requests (R = rejected, . = accepted as a complete head):\n");
    printf("  %-32s", "");
    for (size_t i = 0; i < NPARSERS; i++) printf(" %-6s", parsers[i].column);
    printf("\n");
    int counts[NPARSERS] = { 0 };
    for (size_t b = 0; b < NBAD; b++) {
        size_t n = bad_len(b);
        char *c = malloc(n);
        memcpy(c, bad[b].text, n);
        printf("  %-32s", bad[b].what);
        for (size_t i = 0; i < NPARSERS; i++) {
            /* A head a parser takes in full and reports fields for is
             * accepted; an error, or still waiting for more, is not. */
            int rej = parsers[i].run(c, n) < 0;
            counts[i] += rej;
            if (tsv) fprintf(tsv, "reject\t%s\t%s\t%d\n", parsers[i].name, bad[b].what, rej);
            printf(" %-6s", rej ? "R" : ".");
        }
        printf("\n");
        free(c);
    }
    printf("  %-32s", "rejected");
    for (size_t i = 0; i < NPARSERS; i++) printf(" %2d/%-3zu", counts[i], NBAD);
    printf("\n");
    for (size_t r = 0; r < NREQUESTS; r++) free(copy[r]);
    if (tsv) fclose(tsv);
    return 0;
}
