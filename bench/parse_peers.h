/* The peers of bench/parse.c. llhttp and http-parser each get their own
 * file because their headers define the same names (HTTP_REQUEST, HPE_OK,
 * ...) and cannot share a translation unit. Each run function parses one
 * whole request head and returns the number of fields it saw, or -1 when
 * the head was refused or not taken as complete. */
#ifndef LG_BENCH_PARSE_PEERS_H
#define LG_BENCH_PARSE_PEERS_H

#include <stddef.h>

#define MAX_FIELDS 32

/* Where the callback parsers store their slices: the same information the
 * array-filling parsers (linger, picohttpparser) return. */
typedef struct bench_slice {
    const char *p;
    size_t n;
} bench_slice;

typedef struct bench_fields {
    bench_slice method, target;
    bench_slice name[MAX_FIELDS], value[MAX_FIELDS];
    unsigned n;
    int done;
} bench_fields;

void bench_llhttp_setup(void);
int bench_run_llhttp(const char *buf, size_t len);

void bench_http_parser_setup(void);
int bench_run_http_parser(const char *buf, size_t len);

#endif
