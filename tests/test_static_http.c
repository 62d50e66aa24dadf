/*
 * The pure parts of the file server (src/static_http.c): media types,
 * entity-tag lists (RFC 9110 8.8.3), byte ranges (14.1.2) and
 * Accept-Encoding q-values (12.5.3). (HTTP dates: test_codec_date.c.)
 */
#include <string.h>

#include "static_internal.h"
#include "test.h"

static lg_str S(const char *s)
{
    lg_str r = { s, strlen(s) };
    return r;
}

static void test_types(void)
{
    static const struct {
        const char *name, *type;
    } cases[] = {
        { "index.html", "text/html; charset=utf-8" },
        { "a/b/STYLE.CSS", "text/css; charset=utf-8" },
        { "app.js", "text/javascript; charset=utf-8" },
        { "mod.mjs", "text/javascript; charset=utf-8" },
        { "data.json", "application/json" },
        { "notes.txt", "text/plain; charset=utf-8" },
        { "logo.svg", "image/svg+xml" },
        { "p.png", "image/png" },
        { "p.jpg", "image/jpeg" },
        { "p.JPEG", "image/jpeg" },
        { "p.gif", "image/gif" },
        { "favicon.ico", "image/x-icon" },
        { "p.webp", "image/webp" },
        { "m.wasm", "application/wasm" },
        { "doc.pdf", "application/pdf" },
        { "feed.xml", "application/xml" },
        { "f.woff", "font/woff" },
        { "f.woff2", "font/woff2" },
        { "app.js.map", "application/json" },
        { "site.tar.gz", "application/gzip" },
        { "Makefile", "application/octet-stream" },
        { "dir.d/noext", "application/octet-stream" }, /* a dot in a directory is no extension */
        { "trailing.", "application/octet-stream" },
        { "x.unknown", "application/octet-stream" },
        { "", "application/octet-stream" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *t = lg__mime_type(cases[i].name, strlen(cases[i].name));
        if (strcmp(t, cases[i].type) != 0) fprintf(stderr, "type of %s: %s\n", cases[i].name, t);
        CHECK(strcmp(t, cases[i].type) == 0);
    }
}

static void test_etags(void)
{
    const char *e = "\"5f-10\"";
    CHECK(lg__etag_list_match(S("\"5f-10\""), e, 1));
    CHECK(lg__etag_list_match(S("\"5f-10\""), e, 0));
    CHECK(lg__etag_list_match(S("W/\"5f-10\""), e, 1));  /* weak comparison */
    CHECK(!lg__etag_list_match(S("W/\"5f-10\""), e, 0)); /* strong: a weak tag never matches */
    CHECK(lg__etag_list_match(S("\"a\", \"5f-10\""), e, 1));
    CHECK(lg__etag_list_match(S("\"a\",W/\"5f-10\" , \"b\""), e, 1));
    CHECK(lg__etag_list_match(S("\"x,y\", \"5f-10\""), e, 1)); /* a comma inside a tag */
    CHECK(lg__etag_list_match(S("*"), e, 1));
    CHECK(lg__etag_list_match(S("*"), e, 0));
    CHECK(!lg__etag_list_match(S("\"5f-11\""), e, 1));
    CHECK(!lg__etag_list_match(S("\"5f-10"), e, 1)); /* unterminated */
    CHECK(!lg__etag_list_match(S("5f-10"), e, 1));   /* unquoted */
    CHECK(!lg__etag_list_match(S(""), e, 1));
    lg_str none = { NULL, 0 };
    CHECK(!lg__etag_list_match(none, e, 1));
}

typedef struct range_case {
    const char *value;
    uint64_t size;
    int result;
    uint64_t first, len;
} range_case;

static void test_ranges(void)
{
    static const range_case cases[] = {
        { "bytes=0-0", 100, LG_RANGE_OK, 0, 1 },
        { "bytes=0-99", 100, LG_RANGE_OK, 0, 100 },
        { "bytes=10-19", 100, LG_RANGE_OK, 10, 10 },
        { "bytes=99-99", 100, LG_RANGE_OK, 99, 1 },
        { "bytes=90-", 100, LG_RANGE_OK, 90, 10 },
        { "bytes=0-", 100, LG_RANGE_OK, 0, 100 },
        { "bytes=-10", 100, LG_RANGE_OK, 90, 10 },
        { "bytes=-100", 100, LG_RANGE_OK, 0, 100 },
        { "bytes=-1000", 100, LG_RANGE_OK, 0, 100 },    /* a suffix longer than the file */
        { "bytes=50-1000", 100, LG_RANGE_OK, 50, 50 },  /* clamped to the end */
        { "bytes=0-99999999999999999999999", 100, LG_RANGE_OK, 0, 100 },
        { "BYTES=1-2", 100, LG_RANGE_OK, 1, 2 },        /* the unit is case-insensitive */
        { "bytes= 1-2 ", 100, LG_RANGE_OK, 1, 2 },
        { "bytes=1-2,", 100, LG_RANGE_OK, 1, 2 },       /* an empty list element */
        { "bytes=100-", 100, LG_RANGE_UNSATISFIABLE, 0, 0 },
        { "bytes=100-200", 100, LG_RANGE_UNSATISFIABLE, 0, 0 },
        { "bytes=-0", 100, LG_RANGE_UNSATISFIABLE, 0, 0 },
        { "bytes=0-", 0, LG_RANGE_UNSATISFIABLE, 0, 0 },  /* an empty file has no bytes */
        { "bytes=-5", 0, LG_RANGE_UNSATISFIABLE, 0, 0 },
        { "bytes=5-2", 100, LG_RANGE_IGNORE, 0, 0 },      /* invalid: ignored */
        { "bytes=0-1,5-6", 100, LG_RANGE_IGNORE, 0, 0 },  /* several: the whole file */
        { "bytes=0-1, -5", 100, LG_RANGE_IGNORE, 0, 0 },
        { "items=0-5", 100, LG_RANGE_IGNORE, 0, 0 },
        { "bytes=", 100, LG_RANGE_IGNORE, 0, 0 },
        { "bytes=a-b", 100, LG_RANGE_IGNORE, 0, 0 },
        { "bytes=1", 100, LG_RANGE_IGNORE, 0, 0 },
        { "bytes=-", 100, LG_RANGE_IGNORE, 0, 0 },
        { "bytes=1-2x", 100, LG_RANGE_IGNORE, 0, 0 },
        { "bytes", 100, LG_RANGE_IGNORE, 0, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const range_case *c = &cases[i];
        uint64_t first = 12345, len = 12345;
        int r = lg__range_parse(S(c->value), c->size, &first, &len);
        int ok = r == c->result && (r != LG_RANGE_OK || (first == c->first && len == c->len));
        if (!ok)
            fprintf(stderr, "range \"%s\" of %llu: %d %llu+%llu\n", c->value,
                    (unsigned long long)c->size, r, (unsigned long long)first,
                    (unsigned long long)len);
        CHECK(ok);
    }
}

static void test_accept_encoding(void)
{
    CHECK(lg__accepts_gzip(S("gzip")));
    CHECK(lg__accepts_gzip(S("gzip, deflate, br")));
    CHECK(lg__accepts_gzip(S("br;q=1.0, GZIP;q=0.5")));
    CHECK(lg__accepts_gzip(S("x-gzip")));
    CHECK(lg__accepts_gzip(S("*")));
    CHECK(lg__accepts_gzip(S("deflate, *;q=0.1")));
    CHECK(lg__accepts_gzip(S("gzip;q=1, *;q=0")));  /* named beats the wildcard */
    CHECK(lg__accepts_gzip(S("gzip ; q=0.001")));
    CHECK(!lg__accepts_gzip(S("gzip;q=0")));
    CHECK(!lg__accepts_gzip(S("gzip;q=0.000")));
    CHECK(!lg__accepts_gzip(S("gzip;Q=0, *")));      /* named beats the wildcard */
    CHECK(!lg__accepts_gzip(S("*;q=0")));
    CHECK(!lg__accepts_gzip(S("deflate, br")));
    CHECK(!lg__accepts_gzip(S("identity")));
    CHECK(!lg__accepts_gzip(S("gzipped")));
    CHECK(!lg__accepts_gzip(S("")));
    lg_str none = { NULL, 0 };
    CHECK(!lg__accepts_gzip(none));
}

int main(void)
{
    test_types();
    test_etags();
    test_ranges();
    test_accept_encoding();
    TEST_MAIN_END();
}
