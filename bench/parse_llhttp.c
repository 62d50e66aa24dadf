/* llhttp (Node's parser), compiled from Debian's node-llhttp sources, with
 * callbacks that only record where each slice is. Its lenient flags stay
 * off: this is llhttp at its strictest. */
#include "llhttp.h"
#include "parse_peers.h"

static bench_fields cb;

static int on_method(llhttp_t *p, const char *at, size_t n)
{
    (void)p;
    cb.method.p = at;
    cb.method.n = n;
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t n)
{
    (void)p;
    cb.target.p = at;
    cb.target.n = n;
    return 0;
}

/* With the whole head in one buffer a name or value arrives in one piece. */
static int on_field(llhttp_t *p, const char *at, size_t n)
{
    (void)p;
    if (cb.n >= MAX_FIELDS) return -1;
    cb.name[cb.n].p = at;
    cb.name[cb.n].n = n;
    return 0;
}

static int on_value(llhttp_t *p, const char *at, size_t n)
{
    (void)p;
    cb.value[cb.n].p = at;
    cb.value[cb.n].n = n;
    cb.n++;
    return 0;
}

static int on_headers_complete(llhttp_t *p)
{
    (void)p;
    cb.done = 1;
    return 0;
}

static llhttp_settings_t settings;
static llhttp_t parser;

void bench_llhttp_setup(void)
{
    llhttp_settings_init(&settings);
    settings.on_method = on_method;
    settings.on_url = on_url;
    settings.on_header_field = on_field;
    settings.on_header_value = on_value;
    settings.on_headers_complete = on_headers_complete;
}

int bench_run_llhttp(const char *buf, size_t len)
{
    cb.n = 0;
    cb.done = 0;
    llhttp_init(&parser, HTTP_REQUEST, &settings);
    llhttp_errno_t e = llhttp_execute(&parser, buf, len);
    return e == HPE_OK && cb.done ? (int)cb.n : -1;
}
