/*
 * Lookups in a parsed head: a field by name, a token in a list. They read
 * what lg_parse_request and friends produced and parse nothing themselves,
 * so they live apart from the parser (and scripts/size.sh counts them
 * apart). The case-insensitive comparison they need is the one every layer
 * uses (lg__ieq).
 */
#include <string.h>

#include "http1_internal.h"

/* Only letters fold: "c | 0x20" alone would also make '^' equal '~' and
 * CR equal '-'. */
static unsigned lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? c | 0x20u : c; }

int lg__ieq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return 0;
    return 1;
}

lg_str lg_head_get(const lg_head *head, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < head->num_headers; i++) {
        const lg_header *f = &head->headers[i];
        if (f->name.len == n && lg__ieq(f->name.ptr, name, n)) return f->value;
    }
    lg_str none = { NULL, 0 };
    return none;
}

int lg_list_has(lg_str list, const char *token)
{
    size_t tn = strlen(token);
    /* An absent value (ptr NULL) holds nothing; NULL + 0 is undefined. */
    if (!list.ptr) return 0;
    const char *p = list.ptr, *end = list.ptr + list.len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e_end = comma ? comma : end;
        while (p < e_end && (*p == ' ' || *p == '\t')) p++;
        /* Stop at parameters: "gzip;q=1.0" holds gzip. */
        const char *q = p;
        while (q < e_end && *q != ';' && *q != ' ' && *q != '\t') q++;
        if ((size_t)(q - p) == tn && lg__ieq(p, token, tn)) return 1;
        p = comma ? comma + 1 : end;
    }
    return 0;
}
