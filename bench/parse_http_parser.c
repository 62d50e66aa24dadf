/* http-parser (Node's parser before llhttp), Debian's static library, with
 * callbacks that only record where each slice is. The method is an enum in
 * the parser state; it has no callback of its own. */
#include <http_parser.h>

#include "parse_peers.h"

static bench_fields cb;

static int on_url(http_parser *p, const char *at, size_t n)
{
    (void)p;
    cb.target.p = at;
    cb.target.n = n;
    return 0;
}

/* With the whole head in one buffer a name or value arrives in one piece. */
static int on_field(http_parser *p, const char *at, size_t n)
{
    (void)p;
    if (cb.n >= MAX_FIELDS) return -1;
    cb.name[cb.n].p = at;
    cb.name[cb.n].n = n;
    return 0;
}

static int on_value(http_parser *p, const char *at, size_t n)
{
    (void)p;
    cb.value[cb.n].p = at;
    cb.value[cb.n].n = n;
    cb.n++;
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    (void)p;
    cb.done = 1;
    return 0;
}

static http_parser_settings settings;
static http_parser parser;

void bench_http_parser_setup(void)
{
    http_parser_settings_init(&settings);
    settings.on_url = on_url;
    settings.on_header_field = on_field;
    settings.on_header_value = on_value;
    settings.on_headers_complete = on_headers_complete;
}

int bench_run_http_parser(const char *buf, size_t len)
{
    cb.n = 0;
    cb.done = 0;
    http_parser_init(&parser, HTTP_REQUEST);
    size_t used = http_parser_execute(&parser, &settings, buf, len);
    return used == len && HTTP_PARSER_ERRNO(&parser) == HPE_OK && cb.done ? (int)cb.n : -1;
}
