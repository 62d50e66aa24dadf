/* URLs: parsing every part, the refusals, request targets, RFC 3986 5.4
 * reference resolution, percent-encoding both ways for every byte, query
 * iteration, and base64 against RFC 4648's vectors. Every parse runs on a
 * copy placed at a guard page, so a read past the end crashes. */
#include "guard.h"
#include "linger.h"
#include "test.h"

static guard_buf g;

static int parse(lg_url *u, const char *s)
{
    size_t n = strlen(s);
    /* at the end of the page: a read past the last byte faults */
    return lg_url_parse(u, guard_place(&g, s, n), n);
}

static void test_parse_full(void)
{
    lg_url u;
    CHECK_EQ_INT(parse(&u, "http://user:p%40ss@Example.COM:8080/a/b%20c?x=1&y=2#frag"), LG_OK);
    CHECK_STR(u.scheme, "http");
    CHECK_STR(u.userinfo, "user:p%40ss");
    CHECK_STR(u.host, "Example.COM");
    CHECK_EQ_INT(u.port, 8080);
    CHECK_STR(u.path, "/a/b%20c");
    CHECK_STR(u.query, "x=1&y=2");
    CHECK_STR(u.fragment, "frag");
    CHECK(u.flags & LG_URL_HAS_PORT);
    CHECK(u.flags & LG_URL_AUTHORITY);
    CHECK(!(u.flags & (LG_URL_IPV4 | LG_URL_IPV6)));
}

static void test_parse_defaults(void)
{
    lg_url u;
    CHECK_EQ_INT(parse(&u, "http://h"), LG_OK);
    CHECK_STR(u.host, "h");
    CHECK_EQ_INT(u.port, 80);
    CHECK(u.path.ptr != NULL);
    CHECK_EQ_INT(u.path.len, 0);
    CHECK(u.query.ptr == NULL);
    CHECK(u.fragment.ptr == NULL);
    CHECK(u.userinfo.ptr == NULL);
    CHECK(!(u.flags & LG_URL_HAS_PORT));

    CHECK_EQ_INT(parse(&u, "HTTPS://h/"), LG_OK);
    CHECK_EQ_INT(u.port, 443);
    CHECK_EQ_INT(parse(&u, "ftp://h/"), LG_OK);
    CHECK_EQ_INT(u.port, 0);
    /* an empty port is the default (RFC 3986 3.2.3) */
    CHECK_EQ_INT(parse(&u, "http://h:/x"), LG_OK);
    CHECK_EQ_INT(u.port, 80);
    CHECK(!(u.flags & LG_URL_HAS_PORT));
    /* "?" with nothing after it: a query that is present and empty */
    CHECK_EQ_INT(parse(&u, "http://h/p?"), LG_OK);
    CHECK(u.query.ptr != NULL);
    CHECK_EQ_INT(u.query.len, 0);
    CHECK_EQ_INT(parse(&u, "http://h?q#"), LG_OK);
    CHECK_STR(u.query, "q");
    CHECK_EQ_INT(u.path.len, 0);
    CHECK(u.fragment.ptr != NULL);
    CHECK_EQ_INT(u.fragment.len, 0);
    /* port 0 and 65535 are in range */
    CHECK_EQ_INT(parse(&u, "http://h:65535"), LG_OK);
    CHECK_EQ_INT(u.port, 65535);
    CHECK_EQ_INT(parse(&u, "http://h:0"), LG_OK);
    CHECK_EQ_INT(u.port, 0);
    CHECK(u.flags & LG_URL_HAS_PORT);
}

static void test_parse_hosts(void)
{
    lg_url u;
    CHECK_EQ_INT(parse(&u, "http://10.0.0.2:81/api"), LG_OK);
    CHECK_STR(u.host, "10.0.0.2");
    CHECK(u.flags & LG_URL_IPV4);
    CHECK_EQ_INT(u.port, 81);

    CHECK_EQ_INT(parse(&u, "http://[::1]:8080/"), LG_OK);
    CHECK_STR(u.host, "::1");
    CHECK(u.flags & LG_URL_IPV6);
    CHECK_EQ_INT(u.port, 8080);
    CHECK_EQ_INT(parse(&u, "http://[2001:db8::7]/"), LG_OK);
    CHECK_STR(u.host, "2001:db8::7");
    CHECK_EQ_INT(u.port, 80);
    CHECK_EQ_INT(parse(&u, "http://[::ffff:1.2.3.4]"), LG_OK);
    CHECK_STR(u.host, "::ffff:1.2.3.4");
    CHECK_EQ_INT(parse(&u, "http://[fe80::1%25eth0]:1/"), LG_OK);
    CHECK_STR(u.host, "fe80::1%25eth0");

    /* not a dotted quad: a name */
    CHECK_EQ_INT(parse(&u, "http://1.2.3/"), LG_OK);
    CHECK(!(u.flags & LG_URL_IPV4));
    CHECK_EQ_INT(parse(&u, "http://256.1.1.1/"), LG_OK);
    CHECK(!(u.flags & LG_URL_IPV4));

    /* the last "@" ends the userinfo */
    CHECK_EQ_INT(parse(&u, "http://a@b@c/"), LG_ERR_URL); /* "@" is not a userinfo char */
    CHECK_EQ_INT(parse(&u, "http://a%40b@c/"), LG_OK);
    CHECK_STR(u.userinfo, "a%40b");
    CHECK_STR(u.host, "c");
    CHECK_EQ_INT(parse(&u, "http://@c/"), LG_OK);
    CHECK(u.userinfo.ptr != NULL);
    CHECK_EQ_INT(u.userinfo.len, 0);
    CHECK_EQ_INT(parse(&u, "http://user:@c/"), LG_OK);
    CHECK_STR(u.userinfo, "user:");
}

static void test_parse_origin_form(void)
{
    lg_url u;
    CHECK_EQ_INT(parse(&u, "/items/42?sort=asc"), LG_OK);
    CHECK(u.scheme.ptr == NULL);
    CHECK(u.host.ptr == NULL);
    CHECK_STR(u.path, "/items/42");
    CHECK_STR(u.query, "sort=asc");
    CHECK_EQ_INT(u.port, 0);
    CHECK_EQ_INT(parse(&u, "/"), LG_OK);
    CHECK_STR(u.path, "/");
    /* "//x" in a request target is a path, not an authority */
    CHECK_EQ_INT(parse(&u, "//x/y"), LG_OK);
    CHECK_STR(u.path, "//x/y");
    CHECK(u.host.ptr == NULL);
    /* a scheme without an authority */
    CHECK_EQ_INT(parse(&u, "mailto:a@b.c"), LG_OK);
    CHECK_STR(u.scheme, "mailto");
    CHECK_STR(u.path, "a@b.c");
    CHECK(!(u.flags & LG_URL_AUTHORITY));
}

static void test_parse_refusals(void)
{
    static const char *const bad[] = {
        "",
        "http://",              /* no host */
        "http:///p",            /* empty host */
        "http://h:65536/",      /* port out of range */
        "http://h:8o/",         /* port not digits */
        "http://h:-1/",
        "http://h /",           /* space */
        "http://h/a b",
        "http://h/a\tb",
        "http://h/\x7f",
        "http://h/\x80",        /* raw non-ASCII must be percent-encoded */
        "http://h/%",           /* "%" without two hex digits */
        "http://h/%4",
        "http://h/%zz",
        "http://h/?q=%g0",
        "http://h/#%",
        "http://[::1/",         /* unterminated IPv6 literal */
        "http://[::1]x/",
        "http://[1.2.3.4]/",    /* no colon: not IPv6 */
        "http://[v1.x]/",       /* IPvFuture is not supported */
        "http://[fe80::1%eth0]/", /* a zone must be written %25 */
        "http://h!/",           /* sub-delims are not accepted in hosts */
        "http://h_{/",
        "1http://h/",           /* a scheme starts with a letter */
        "ht tp://h/",
        "example.com",          /* no scheme and not a path */
        "?q",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lg_url u;
        int rc = parse(&u, bad[i]);
        if (rc != LG_ERR_URL) fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
        CHECK_EQ_INT(rc, LG_ERR_URL);
    }
    lg_url u;
    CHECK_EQ_INT(lg_url_parse(&u, NULL, 0), LG_ERR_URL);
    /* a NUL inside the given length is a control character */
    CHECK_EQ_INT(lg_url_parse(&u, "http://h/\0x", 11), LG_ERR_URL);
}

static void test_target(void)
{
    static const struct { const char *url, *target; } cases[] = {
        { "http://h", "/" },
        { "http://h/", "/" },
        { "http://h?a=1", "/?a=1" },
        { "http://h/p/q?a=1#frag", "/p/q?a=1" },
        { "http://h/p#frag", "/p" },
        { "http://h/p?", "/p?" },
        { "/x?y", "/x?y" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lg_url u;
        char out[64];
        CHECK_EQ_INT(parse(&u, cases[i].url), LG_OK);
        int n = lg_url_target(&u, out, sizeof out);
        CHECK_EQ_INT(n, strlen(cases[i].target));
        CHECK(n >= 0 && strcmp(out, cases[i].target) == 0);
    }
    lg_url u;
    char small[4];
    CHECK_EQ_INT(parse(&u, "http://h/abcd"), LG_OK);
    CHECK_EQ_INT(lg_url_target(&u, small, sizeof small), LG_ERR_BUFFER_TOO_SMALL);
}

/* RFC 3986 5.4.1 and 5.4.2, against "http://a/b/c/d;p?q" (fragments are
 * dropped: a request never carries one). */
static void test_resolve_rfc3986(void)
{
    static const struct { const char *ref, *want; } cases[] = {
        { "g:h", NULL }, /* no authority: not a URL we can fetch */
        { "g", "http://a/b/c/g" },
        { "./g", "http://a/b/c/g" },
        { "g/", "http://a/b/c/g/" },
        { "/g", "http://a/g" },
        { "//g", "http://g" },
        { "?y", "http://a/b/c/d;p?y" },
        { "g?y", "http://a/b/c/g?y" },
        { "#s", "http://a/b/c/d;p?q" },
        { "g#s", "http://a/b/c/g" },
        { "g?y#s", "http://a/b/c/g?y" },
        { ";x", "http://a/b/c/;x" },
        { "g;x", "http://a/b/c/g;x" },
        { "g;x?y#s", "http://a/b/c/g;x?y" },
        { "", "http://a/b/c/d;p?q" },
        { ".", "http://a/b/c/" },
        { "./", "http://a/b/c/" },
        { "..", "http://a/b/" },
        { "../", "http://a/b/" },
        { "../g", "http://a/b/g" },
        { "../..", "http://a/" },
        { "../../", "http://a/" },
        { "../../g", "http://a/g" },
        /* abnormal */
        { "../../../g", "http://a/g" },
        { "../../../../g", "http://a/g" },
        { "/./g", "http://a/g" },
        { "/../g", "http://a/g" },
        { "g.", "http://a/b/c/g." },
        { ".g", "http://a/b/c/.g" },
        { "g..", "http://a/b/c/g.." },
        { "..g", "http://a/b/c/..g" },
        { "./../g", "http://a/b/g" },
        { "./g/.", "http://a/b/c/g/" },
        { "g/./h", "http://a/b/c/g/h" },
        { "g/../h", "http://a/b/c/h" },
        { "g;x=1/./y", "http://a/b/c/g;x=1/y" },
        { "g;x=1/../y", "http://a/b/c/y" },
        { "g?y/./x", "http://a/b/c/g?y/./x" },
        { "g?y/../x", "http://a/b/c/g?y/../x" },
        { "http:g", NULL }, /* strict parsers take it as "http:g": no host */
        /* absolute references, as most Location values are */
        { "http://other:81/x/../y?z", "http://other:81/y?z" },
        { "https://secure/", "https://secure/" },
    };
    lg_url base;
    const char *base_text = "http://a/b/c/d;p?q";
    CHECK_EQ_INT(lg_url_parse(&base, base_text, strlen(base_text)), LG_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[128];
        lg_str ref = { cases[i].ref, strlen(cases[i].ref) };
        int n = lg_url_resolve(&base, ref, out, sizeof out);
        if (!cases[i].want) {
            CHECK_EQ_INT(n, LG_ERR_URL);
            continue;
        }
        if (n < 0 || strcmp(out, cases[i].want) != 0)
            fprintf(stderr, "resolve \"%s\": got \"%s\" (%d), want \"%s\"\n", cases[i].ref,
                    n >= 0 ? out : "", n, cases[i].want);
        CHECK_EQ_INT(n, strlen(cases[i].want));
    }
}

static void test_resolve_more(void)
{
    lg_url base;
    const char *b = "http://user:pw@h:8080";
    CHECK_EQ_INT(lg_url_parse(&base, b, strlen(b)), LG_OK);
    char out[64];
    /* an empty base path merges as "/" (RFC 3986 5.2.3) */
    CHECK_EQ_INT(lg_url_resolve(&base, LG_STR("x"), out, sizeof out), strlen("http://user:pw@h:8080/x"));
    CHECK(strcmp(out, "http://user:pw@h:8080/x") == 0);
    b = "http://[::1]:9/a/";
    CHECK_EQ_INT(lg_url_parse(&base, b, strlen(b)), LG_OK);
    CHECK(lg_url_resolve(&base, LG_STR("../b c"), out, sizeof out) == LG_ERR_URL); /* space */
    CHECK(lg_url_resolve(&base, LG_STR("b"), out, sizeof out) > 0);
    CHECK(strcmp(out, "http://[::1]:9/a/b") == 0);
    /* too small a buffer, at every size below what is needed */
    for (size_t cap = 0; cap < strlen("http://[::1]:9/a/b") + 1; cap++)
        CHECK_EQ_INT(lg_url_resolve(&base, LG_STR("b"), out, cap), LG_ERR_BUFFER_TOO_SMALL);
    /* a base that is not absolute cannot be resolved against */
    CHECK_EQ_INT(lg_url_parse(&base, "/p", 2), LG_OK);
    CHECK_EQ_INT(lg_url_resolve(&base, LG_STR("x"), out, sizeof out), LG_ERR_URL);
}

static void test_decode(void)
{
    char buf[64];
    strcpy(buf, "a%20b+c%2fd%2F%41");
    int n = lg_url_decode(buf, strlen(buf), 0);
    CHECK_EQ_INT(n, 9);
    CHECK(memcmp(buf, "a b+c/d/A", 9) == 0);
    strcpy(buf, "a+b%2B");
    n = lg_url_decode(buf, strlen(buf), LG_URL_FORM);
    CHECK_EQ_INT(n, 4);
    CHECK(memcmp(buf, "a b+", 4) == 0);
    /* path rules refuse an encoded NUL or "/" */
    strcpy(buf, "a%2fb");
    CHECK_EQ_INT(lg_url_decode(buf, strlen(buf), LG_URL_PATH), LG_ERR_URL);
    strcpy(buf, "a%00b");
    CHECK_EQ_INT(lg_url_decode(buf, strlen(buf), LG_URL_PATH), LG_ERR_URL);
    CHECK_EQ_INT(lg_url_decode(buf, strlen(buf), 0), 3);
    static const char *const bad[] = { "%", "%4", "a%", "%g1", "%1g", "%%41" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = strlen(bad[i]);
        char *p = guard_place(&g, bad[i], len); /* a read past the "%" faults */
        CHECK_EQ_INT(lg_url_decode(p, len, 0), LG_ERR_URL);
    }
    char out[4];
    CHECK_EQ_INT(lg_url_decode_to(LG_STR("abcde"), out, sizeof out, 0), LG_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(lg_url_decode_to(LG_STR("%41%42%43%44"), out, sizeof out, 0), 4);
    CHECK(memcmp(out, "ABCD", 4) == 0);
}

static void test_encode_every_byte(void)
{
    /* Every byte value: encoded form decodes back, only unreserved bytes
     * stay as they are, and the length query agrees with the output. */
    char in[256], enc[768], dec[256];
    for (int i = 0; i < 256; i++) in[i] = (char)i;
    lg_str s = { in, 256 };
    for (unsigned flags = 0; flags <= (LG_URL_FORM | LG_URL_PATH); flags++) {
        int need = lg_url_encode(s, NULL, 0, flags);
        int n = lg_url_encode(s, enc, sizeof enc, flags);
        CHECK_EQ_INT(n, need);
        CHECK_EQ_INT(lg_url_encode(s, enc, (size_t)n - 1, flags), LG_ERR_BUFFER_TOO_SMALL);
        lg_str e = { enc, (size_t)n };
        CHECK_EQ_INT(lg_url_decode_to(e, dec, sizeof dec, flags & LG_URL_FORM), 256);
        CHECK(memcmp(dec, in, 256) == 0);
        /* what came out is a valid URL path/query */
        for (int k = 0; k < n; k++) CHECK(enc[k] > 0x20 && enc[k] < 0x7f);
    }
    char out[64];
    int n = lg_url_encode(LG_STR("a b/c~d?é"), out, sizeof out, 0);
    CHECK(n > 0 && memcmp(out, "a%20b%2Fc~d%3F%C3%A9", (size_t)n) == 0);
    n = lg_url_encode(LG_STR("a b/c:@!"), out, sizeof out, LG_URL_PATH);
    CHECK(n > 0 && memcmp(out, "a%20b/c:@!", (size_t)n) == 0);
    n = lg_url_encode(LG_STR("a b&c=d"), out, sizeof out, LG_URL_FORM);
    CHECK(n > 0 && memcmp(out, "a+b%26c%3Dd", (size_t)n) == 0);
}

/* The character classes, byte by byte, from RFC 3986's definitions
 * written out here again. */
static void test_classes_every_byte(void)
{
    for (int c = 0; c < 256; c++) {
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        int digit = c >= '0' && c <= '9';
        int unreserved = alpha || digit || c == '-' || c == '.' || c == '_' || c == '~';
        int subdelim = c && c < 128 && strchr("!$&'()*+,;=", c) != NULL;
        int pchar = unreserved || subdelim || c == ':' || c == '@' || c == '/';
        char in = (char)c, out[4];
        lg_str one = { &in, 1 };
        CHECK_EQ_INT(lg_url_encode(one, out, sizeof out, 0), unreserved ? 1 : 3);
        CHECK_EQ_INT(lg_url_encode(one, out, sizeof out, LG_URL_PATH), pchar ? 1 : 3);
        /* a path takes every visible character but "%", "?" and "#" as is */
        char url[16];
        snprintf(url, sizeof url, "http://h/a");
        url[9] = (char)c;
        lg_url u;
        int visible = c > 0x20 && c < 0x7f;
        int want = visible && c != '%' ? LG_OK : LG_ERR_URL;
        CHECK_EQ_INT(lg_url_parse(&u, url, 10), want);
        /* a scheme: a letter, then letters, digits, "+", "-", "." */
        char sch[16] = "xa://h/";
        sch[1] = (char)c;
        int scheme_char = alpha || digit || c == '+' || c == '-' || c == '.';
        if (c != ':' && c != '/') CHECK_EQ_INT(lg_url_parse(&u, sch, 7) == LG_OK, scheme_char);
        /* a host: unreserved characters only (and escapes) */
        char host[16] = "http://hax/";
        host[8] = (char)c;
        if (c != '/' && c != '?' && c != '#' && c != ':' && c != '@' && c != '%' && c != '[')
            CHECK_EQ_INT(lg_url_parse(&u, host, 11) == LG_OK, unreserved);
    }
}

static void test_query(void)
{
    lg_query_iter it;
    lg_str k, v;
    const char *q = "a=1&&b=&flag&c=x%20y+z&=e&";
    lg_query_init(&it, (lg_str){ q, strlen(q) });
    CHECK_EQ_INT(lg_query_next(&it, &k, &v), 1);
    CHECK_STR(k, "a");
    CHECK_STR(v, "1");
    CHECK_EQ_INT(lg_query_next(&it, &k, &v), 1);
    CHECK_STR(k, "b");
    CHECK(v.ptr != NULL && v.len == 0);
    CHECK_EQ_INT(lg_query_next(&it, &k, &v), 1);
    CHECK_STR(k, "flag");
    CHECK(v.ptr == NULL);
    CHECK_EQ_INT(lg_query_next(&it, &k, &v), 1);
    CHECK_STR(k, "c");
    CHECK_STR(v, "x%20y+z");
    CHECK_EQ_INT(lg_query_next(&it, &k, &v), 1);
    CHECK_EQ_INT(k.len, 0);
    CHECK_STR(v, "e");
    CHECK_EQ_INT(lg_query_next(&it, &k, &v), 0);
    CHECK_EQ_INT(lg_query_next(&it, &k, &v), 0);

    /* decoded */
    char buf[32];
    q = "na%6De=J%C3%B6rg+M&x=%zz&last=1";
    lg_query_init(&it, (lg_str){ q, strlen(q) });
    CHECK_EQ_INT(lg_query_next_decoded(&it, buf, sizeof buf, &k, &v), 1);
    CHECK_STR(k, "name");
    CHECK_STR(v, "J\xc3\xb6rg M");
    CHECK_EQ_INT(lg_query_next_decoded(&it, buf, sizeof buf, &k, &v), LG_ERR_URL);
    CHECK_EQ_INT(lg_query_next_decoded(&it, buf, 4, &k, &v), LG_ERR_BUFFER_TOO_SMALL); /* "last" "1" */
    CHECK_EQ_INT(lg_query_next_decoded(&it, buf, sizeof buf, &k, &v), 0);

    /* an absent query (ptr NULL) holds nothing */
    lg_query_init(&it, (lg_str){ NULL, 0 });
    CHECK_EQ_INT(lg_query_next(&it, &k, &v), 0);

    /* get */
    q = "a=1&my+key=hello%21&a=2&flag&bad=%z";
    lg_str qs = { q, strlen(q) };
    CHECK_EQ_INT(lg_query_get(qs, "a", buf, sizeof buf), 1);
    CHECK(strcmp(buf, "1") == 0);
    CHECK_EQ_INT(lg_query_get(qs, "my key", buf, sizeof buf), 6);
    CHECK(strcmp(buf, "hello!") == 0);
    CHECK_EQ_INT(lg_query_get(qs, "flag", buf, sizeof buf), 0);
    CHECK(buf[0] == 0);
    CHECK_EQ_INT(lg_query_get(qs, "nope", buf, sizeof buf), LG_ERR_NOT_FOUND);
    CHECK_EQ_INT(lg_query_get(qs, "bad", buf, sizeof buf), LG_ERR_URL);
    CHECK_EQ_INT(lg_query_get(qs, "my key", buf, 6), LG_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(lg_query_get(qs, "my key", buf, 7), 6);
}

static void test_base64(void)
{
    /* RFC 4648 10 */
    static const char *const vec[][2] = {
        { "", "" },         { "f", "Zg==" },         { "fo", "Zm8=" },     { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
    };
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        char out[16], back[16];
        size_t n = strlen(vec[i][0]);
        CHECK_EQ_INT(lg_base64_encode(vec[i][0], n, NULL, 0), strlen(vec[i][1]));
        CHECK_EQ_INT(lg_base64_encode(vec[i][0], n, out, sizeof out), strlen(vec[i][1]));
        CHECK(strcmp(out, vec[i][1]) == 0);
        CHECK_EQ_INT(lg_base64_encode(vec[i][0], n, out, strlen(vec[i][1])), LG_ERR_BUFFER_TOO_SMALL);
        CHECK_EQ_INT(lg_base64_decode(vec[i][1], strlen(vec[i][1]), back, sizeof back), n);
        CHECK(memcmp(back, vec[i][0], n) == 0);
    }
    /* RFC 7617's example */
    char out[64];
    CHECK_EQ_INT(lg_base64_encode("Aladdin:open sesame", 19, out, sizeof out), 28);
    CHECK(strcmp(out, "QWxhZGRpbjpvcGVuIHNlc2FtZQ==") == 0);
    /* every byte value round trips */
    unsigned char all[256], back[256];
    char enc[400];
    for (int i = 0; i < 256; i++) all[i] = (unsigned char)(255 - i);
    for (size_t n = 0; n <= 256; n += 17) {
        int e = lg_base64_encode(all, n, enc, sizeof enc);
        CHECK_EQ_INT(lg_base64_decode(enc, (size_t)e, back, sizeof back), n);
        CHECK(memcmp(back, all, n) == 0);
    }
    static const char *const bad[] = { "Zg=", "Zg=a", "Z===", "Zm9v!A==", "=AAA", "Zh==", "Zm9=Zm9v" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char b[16];
        CHECK_EQ_INT(lg_base64_decode(bad[i], strlen(bad[i]), b, sizeof b), LG_ERR_INVALID_ARG);
    }
    unsigned char b2[2];
    CHECK_EQ_INT(lg_base64_decode("Zm9v", 4, b2, sizeof b2), LG_ERR_BUFFER_TOO_SMALL);
}

int main(void)
{
    guard_init(&g, 4096);
    test_parse_full();
    test_parse_defaults();
    test_parse_hosts();
    test_parse_origin_form();
    test_parse_refusals();
    test_target();
    test_resolve_rfc3986();
    test_resolve_more();
    test_decode();
    test_encode_every_byte();
    test_classes_every_byte();
    test_query();
    test_base64();
    guard_free(&g);
    TEST_MAIN_END();
}
