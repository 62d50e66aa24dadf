/*
 * The smallest program that parses requests with linger's codec, for its
 * linked size on Cortex-M4 (bench/size/peers.sh), doing what
 * llhttp_app.c does with llhttp: a request head (method, target, every
 * field) and its body, by length or chunked. Linked with --gc-sections;
 * only what the linker keeps of liblinger.a is counted
 * (bench/size/mapsum.awk), not this file.
 */
#include <stddef.h>

#include "linger.h"

int main(void);
int main(void)
{
    static lg_header fields[32];
    static lg_head head = { .headers = fields, .max_headers = 32 };
    static const char req[] = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "1\r\nx\r\n0\r\n\r\n";
    int n = lg_parse_request(&head, req, sizeof req - 1, 0, 0);
    if (n <= 0) return 1;
    lg_body_reader body;
    lg_body_reader_init(&body, &head);
    const char *p = req + n;
    size_t left = sizeof req - 1 - (size_t)n;
    for (;;) {
        size_t used;
        lg_str data;
        int ev = lg_body_read(&body, p, left, &used, &data);
        if (ev < 0) return 1;
        p += used;
        left -= used;
        if (ev != LG_BODY_DATA) return ev == LG_BODY_DONE ? 0 : 1;
    }
}
