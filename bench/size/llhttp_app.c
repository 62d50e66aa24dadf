/*
 * The smallest program that parses requests with llhttp, for its linked
 * size on Cortex-M4 (bench/size/peers.sh): the callbacks a server needs
 * (target, field names and values, body, end of head, end of message),
 * linked with --gc-sections. Only what the linker keeps of llhttp's own
 * objects is counted (bench/size/mapsum.awk), not this file.
 */
#include <stddef.h>

#include "llhttp.h"

static int on_span(llhttp_t *p, const char *at, size_t len)
{
    (void)p;
    (void)at;
    (void)len;
    return 0;
}

static int on_event(llhttp_t *p)
{
    (void)p;
    return 0;
}

int main(void);
int main(void)
{
    static llhttp_t parser;
    static llhttp_settings_t settings;
    static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    llhttp_settings_init(&settings);
    settings.on_url = on_span;
    settings.on_header_field = on_span;
    settings.on_header_value = on_span;
    settings.on_body = on_span;
    settings.on_headers_complete = on_event;
    settings.on_message_complete = on_event;
    llhttp_init(&parser, HTTP_REQUEST, &settings);
    return (int)llhttp_execute(&parser, req, sizeof req - 1);
}
