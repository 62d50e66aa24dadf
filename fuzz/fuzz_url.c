/* URLs, queries and percent-encoding under fuzzing: parse, re-target,
 * resolve against a base, decode, encode and decode back (must round-trip),
 * iterate query pairs, base64 both ways. */
#include <stdlib.h>
#include <string.h>

#include "linger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    lg_str in = { s, size };
    char out[4096], back[4096];

    lg_url u;
    if (lg_url_parse(&u, s, size) == LG_OK) {
        lg_url_target(&u, out, sizeof out);
        lg_url_resolve(&u, LG_STR("../x/./y?z#f"), out, sizeof out);
    }
    lg_url base;
    if (lg_url_parse(&base, "http://h:8/a/b/c?q", 18) == LG_OK) lg_url_resolve(&base, in, out, sizeof out);

    int n = lg_url_decode_to(in, out, sizeof out, 0);
    (void)n;
    int e = lg_url_encode(in, out, sizeof out, 0);
    if (e >= 0) {
        lg_str enc = { out, (size_t)e };
        int d = lg_url_decode_to(enc, back, sizeof back, 0);
        if (d != (int)size || memcmp(back, s, size) != 0) abort(); /* encode/decode must round-trip */
    }

    lg_query_iter it;
    lg_str k, v;
    lg_query_init(&it, in);
    while (lg_query_next(&it, &k, &v)) {
        if (k.ptr && (k.ptr < s || k.ptr + k.len > s + size)) abort();
    }
    lg_query_init(&it, in);
    while (lg_query_next_decoded(&it, out, sizeof out, &k, &v) > 0) {
    }
    lg_query_get(in, "a", out, sizeof out);

    int b = lg_base64_encode(s, size, out, sizeof out);
    if (b >= 0) {
        int d = lg_base64_decode(out, (size_t)b, back, sizeof back);
        if (d != (int)size || memcmp(back, s, size) != 0) abort();
    }
    lg_base64_decode(s, size, back, sizeof back);
    free(s);
    return 0;
}
