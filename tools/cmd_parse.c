/* `linger parse`: read an HTTP request from stdin and print what the codec
 * made of it, as JSON. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "linger.h"

static void json_str(lg_str s)
{
    putchar('"');
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20 || c == 0x7f) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

static const char *framing_name(int f)
{
    static const char *names[] = { "none", "length", "chunked", "close", "tunnel" };
    return f >= 0 && f <= 4 ? names[f] : "?";
}

int cmd_parse(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    static char buf[65536];
    size_t len = fread(buf, 1, sizeof buf, stdin);
    lg_header hv[64];
    lg_head h = { .headers = hv, .max_headers = 64 };
    int n = lg_parse_request(&h, buf, len, 0, sizeof buf);
    if (n <= 0) {
        int err = n ? n : LG_ERR_CLOSED_EARLY;
        printf("{\"error\": \"%s\", \"message\": \"%s\", \"status\": %d}\n", lg_err_name(err),
               lg_strerror(err), n ? lg_err_http_status(n) : 400);
        return 1;
    }
    printf("{\n  \"method\": ");
    json_str(h.method);
    printf(",\n  \"target\": ");
    json_str(h.target);
    printf(",\n  \"version\": \"HTTP/1.%d\",\n  \"headers\": [", h.version_minor);
    for (unsigned i = 0; i < h.num_headers; i++) {
        printf("%s\n    [", i ? "," : "");
        json_str(hv[i].name);
        printf(", ");
        json_str(hv[i].value);
        printf("]");
    }
    printf("\n  ],\n  \"framing\": \"%s\",\n", framing_name(h.framing));
    if (h.framing == LG_FRAMING_LENGTH)
        printf("  \"content_length\": %llu,\n", (unsigned long long)h.content_length);
    printf("  \"keep_alive\": %s,\n  \"head_bytes\": %d\n}\n",
           (h.flags & LG_HEAD_KEEP_ALIVE) ? "true" : "false", n);
    return 0;
}

