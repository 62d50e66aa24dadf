/* Request heads: every accepted form and every rejection the codec makes,
 * each fed whole, in every prefix, and a byte at a time, at a guard page. */
#include "codec_harness.h"

#define HEAD(s) s, sizeof(s) - 1

typedef struct req_case {
    const char *name;
    const char *input;
    size_t len;
    int expect;         /* head length, or the lg_err it must fail with */
    int status;         /* for errors: the status a server answers */
    int method_id;
    int framing;
    unsigned long long content_length;
    unsigned flags;
    int num_headers;
    size_t max_head;    /* 0: default */
    int version;        /* 10 or 11: the HTTP/1.x version_minor must say; 0: not checked */
    const char *host;   /* what lg_head.host must hold; NULL: not checked */
} req_case;

#define OK(nm, in, meth, fr, cl, fl, nh) \
    { nm, HEAD(in), (int)(sizeof(in) - 1), 0, meth, fr, cl, fl, nh, 0, 0, NULL }
/* OK with trailing bytes after the head (a body, or the next request) */
#define OKT(nm, in, headlen, meth, fr, cl, fl, nh) \
    { nm, HEAD(in), headlen, 0, meth, fr, cl, fl, nh, 0, 0, NULL }
/* OK, and the version and host the head reports */
#define OKV(nm, in, meth, fr, cl, fl, nh, ver, hst) \
    { nm, HEAD(in), (int)(sizeof(in) - 1), 0, meth, fr, cl, fl, nh, 0, ver, hst }
#define BAD(nm, in, err, st) { nm, HEAD(in), err, st, 0, 0, 0, 0, -1, 0, 0, NULL }
#define BADMAX(nm, in, err, st, max) { nm, HEAD(in), err, st, 0, 0, 0, 0, -1, max, 0, NULL }

#define KA LG_HEAD_KEEP_ALIVE

static const req_case cases[] = {
    /* --- accepted --- */
    OK("simple GET", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", LG_METHOD_GET, LG_FRAMING_NONE, 0, KA, 1),
    OKV("HTTP/1.0 without Host", "GET /x HTTP/1.0\r\n\r\n", LG_METHOD_GET, LG_FRAMING_NONE, 0, 0, 0, 10,
        NULL),
    OKV("HTTP/1.1 is 1.1", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", LG_METHOD_GET, LG_FRAMING_NONE, 0, KA, 1, 11,
        "a"),
    /* RFC 9110 2.5: a higher minor version of HTTP/1 is processed as the
     * highest one linger implements, 1.1: keep-alive by default, chunked
     * allowed, Expect honoured. */
    OKV("HTTP/1.2 read as 1.1", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", LG_METHOD_GET, LG_FRAMING_NONE, 0, KA, 1,
        11, "a"),
    OKV("HTTP/1.9 chunked as 1.1", "POST / HTTP/1.9\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        LG_METHOD_POST, LG_FRAMING_CHUNKED, 0, KA, 2, 11, "a"),
    OKV("HTTP/1.5 expect 100-continue",
        "PUT / HTTP/1.5\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
        LG_METHOD_PUT, LG_FRAMING_LENGTH, 1, KA | LG_HEAD_EXPECT_CONTINUE, 3, 11, "a"),
    OK("HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", LG_METHOD_GET,
       LG_FRAMING_NONE, 0, KA, 1),
    OK("HTTP/1.1 close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", LG_METHOD_GET,
       LG_FRAMING_NONE, 0, LG_HEAD_CONNECTION_CLOSE, 2),
    OK("close among options", "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, CLOSE ,bar\r\n\r\n",
       LG_METHOD_GET, LG_FRAMING_NONE, 0, LG_HEAD_CONNECTION_CLOSE, 2),
    OK("close wins over keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
       LG_METHOD_GET, LG_FRAMING_NONE, 0, LG_HEAD_CONNECTION_CLOSE, 1),
    OKT("POST with length", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", 48,
        LG_METHOD_POST, LG_FRAMING_LENGTH, 5, KA, 2),
    OK("Content-Length 0", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", LG_METHOD_POST,
       LG_FRAMING_NONE, 0, KA, 2),
    OK("repeated equal lengths", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n",
       LG_METHOD_POST, LG_FRAMING_LENGTH, 7, KA, 3),
    OK("equal length list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7, 7\r\n\r\n", LG_METHOD_POST,
       LG_FRAMING_LENGTH, 7, KA, 2),
    OK("largest length", "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n",
       LG_METHOD_PUT, LG_FRAMING_LENGTH, 9223372036854775807ull, KA, 2),
    OK("leading zeros in length", "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 0005\r\n\r\n",
       LG_METHOD_PUT, LG_FRAMING_LENGTH, 5, KA, 2),
    OK("chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", LG_METHOD_POST,
       LG_FRAMING_CHUNKED, 0, KA, 2),
    OK("chunked any case, spaces", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  ChUnKeD \t\r\n\r\n",
       LG_METHOD_POST, LG_FRAMING_CHUNKED, 0, KA, 2),
    OK("chunked with empty list elements", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , chunked,\r\n\r\n",
       LG_METHOD_POST, LG_FRAMING_CHUNKED, 0, KA, 2),
    OK("leading empty lines", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", LG_METHOD_GET, LG_FRAMING_NONE,
       0, KA, 1),
    OK("expect 100-continue", "PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n",
       LG_METHOD_PUT, LG_FRAMING_LENGTH, 3, KA | LG_HEAD_EXPECT_CONTINUE, 3),
    OK("expect ignored in HTTP/1.0", "PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
       LG_METHOD_PUT, LG_FRAMING_LENGTH, 3, 0, 2),
    OK("unknown expectation flagged", "GET / HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\n\r\n", LG_METHOD_GET,
       LG_FRAMING_NONE, 0, KA | LG_HEAD_EXPECT_OTHER, 2),
    OK("upgrade", "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
       LG_METHOD_GET, LG_FRAMING_NONE, 0, KA | LG_HEAD_UPGRADE, 3),
    OK("upgrade header without connection option", "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n",
       LG_METHOD_GET, LG_FRAMING_NONE, 0, KA, 2),
    OKV("absolute-form", "GET http://example.com/x?y HTTP/1.1\r\nHost: example.com\r\n\r\n", LG_METHOD_GET,
        LG_FRAMING_NONE, 0, KA, 1, 11, "example.com"),
    /* RFC 9112 3.2.2: with an absolute-form target, Host is ignored (still
     * required and checked) and host is the target's authority. */
    OKV("absolute-form: Host ignored", "GET http://example.com:8080/x HTTP/1.1\r\nHost: other.example\r\n\r\n",
        LG_METHOD_GET, LG_FRAMING_NONE, 0, KA, 1, 11, "example.com:8080"),
    OKV("absolute-form: empty Host ignored", "GET http://example.com/ HTTP/1.1\r\nHost:\r\n\r\n", LG_METHOD_GET,
        LG_FRAMING_NONE, 0, KA, 1, 11, "example.com"),
    OKV("absolute-form: Host on the line loop", "POST https://a.example/p HTTP/1.1\r\nHost: b\r\n"
        "Content-Length: 2\r\nX-Pad: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n\r\n",
        LG_METHOD_POST, LG_FRAMING_LENGTH, 2, KA, 3, 11, "a.example"),
    OKV("absolute-form without path", "OPTIONS http://example.com HTTP/1.1\r\nHost: x\r\n\r\n",
        LG_METHOD_OPTIONS, LG_FRAMING_NONE, 0, KA, 1, 11, "example.com"),
    OKV("absolute-form, query after authority", "GET http://example.com?q=1 HTTP/1.1\r\nHost: x\r\n\r\n",
        LG_METHOD_GET, LG_FRAMING_NONE, 0, KA, 1, 11, "example.com"),
    OKV("absolute-form IPv6", "GET http://[::1]:8080/x HTTP/1.1\r\nHost: x\r\n\r\n", LG_METHOD_GET,
        LG_FRAMING_NONE, 0, KA, 1, 11, "[::1]:8080"),
    OKV("absolute-form IPv4, scheme in capitals", "GET HTTP://10.0.0.1:80/x HTTP/1.1\r\nHost: x\r\n\r\n",
        LG_METHOD_GET, LG_FRAMING_NONE, 0, KA, 1, 11, "10.0.0.1:80"),
    OKV("absolute-form, empty port", "GET http://a:/x HTTP/1.1\r\nHost: x\r\n\r\n", LG_METHOD_GET,
        LG_FRAMING_NONE, 0, KA, 1, 11, "a:"),
    OKV("absolute-form in HTTP/1.0 without Host", "GET http://example.com/ HTTP/1.0\r\n\r\n", LG_METHOD_GET,
        LG_FRAMING_NONE, 0, 0, 0, 10, "example.com"),
    OKV("origin-form keeps Host", "GET /x HTTP/1.1\r\nHost: example.com:80\r\n\r\n", LG_METHOD_GET,
        LG_FRAMING_NONE, 0, KA, 1, 11, "example.com:80"),
    OK("authority-form", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
       LG_METHOD_CONNECT, LG_FRAMING_NONE, 0, KA, 1),
    OK("authority-form IPv6", "CONNECT [::1]:8080 HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", LG_METHOD_CONNECT,
       LG_FRAMING_NONE, 0, KA, 1),
    OK("asterisk-form", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", LG_METHOD_OPTIONS, LG_FRAMING_NONE, 0, KA,
       1),
    OK("OPTIONS origin-form", "OPTIONS /x HTTP/1.1\r\nHost: a\r\n\r\n", LG_METHOD_OPTIONS, LG_FRAMING_NONE,
       0, KA, 1),
    OK("extension method", "PURGE /x HTTP/1.1\r\nHost: a\r\n\r\n", LG_METHOD_OTHER, LG_FRAMING_NONE, 0, KA,
       1),
    OK("lowercase get is another method", "get / HTTP/1.1\r\nHost: a\r\n\r\n", LG_METHOD_OTHER,
       LG_FRAMING_NONE, 0, KA, 1),
    OK("every method", "DELETE / HTTP/1.1\r\nHost: a\r\n\r\n", LG_METHOD_DELETE, LG_FRAMING_NONE, 0, KA, 1),
    OK("PATCH", "PATCH / HTTP/1.1\r\nHost: a\r\n\r\n", LG_METHOD_PATCH, LG_FRAMING_NONE, 0, KA, 1),
    OK("TRACE", "TRACE / HTTP/1.1\r\nHost: a\r\n\r\n", LG_METHOD_TRACE, LG_FRAMING_NONE, 0, KA, 1),
    OK("HEAD", "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", LG_METHOD_HEAD, LG_FRAMING_NONE, 0, KA, 1),
    OK("empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", LG_METHOD_GET, LG_FRAMING_NONE, 0, KA, 1),
    OK("Host with port", "GET / HTTP/1.1\r\nhOsT: example.com:8080\r\n\r\n", LG_METHOD_GET, LG_FRAMING_NONE,
       0, KA, 1),
    OK("empty value, tabs", "GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Tab:\tv\tw\t\r\n\r\n", LG_METHOD_GET,
       LG_FRAMING_NONE, 0, KA, 3),
    OK("obs-text in value", "GET / HTTP/1.1\r\nHost: a\r\nX-Latin: caf\xc3\xa9\r\n\r\n", LG_METHOD_GET,
       LG_FRAMING_NONE, 0, KA, 2),
    OK("all tchar in name", "GET / HTTP/1.1\r\nHost: a\r\n!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n", LG_METHOD_GET,
       LG_FRAMING_NONE, 0, KA, 2),
    OK("long target across vectors",
       "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?b=c&d=%20 HTTP/1.1\r\nHost: a\r\n\r\n",
       LG_METHOD_GET, LG_FRAMING_NONE, 0, KA, 1),
    OKT("pipelined: first head only", "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n", 28,
        LG_METHOD_GET, LG_FRAMING_NONE, 0, KA, 1),

    /* --- request line --- */
    BAD("empty method", " / HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_REQUEST_LINE, 400),
    BAD("bad method char", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_METHOD, 400),
    BAD("double space", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_REQUEST_LINE, 400),
    BAD("tab separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_METHOD, 400),
    BAD("HTTP/0.9", "GET /\r\n\r\n", LG_ERR_REQUEST_LINE, 400),
    BAD("no version", "GET / \r\n\r\n", LG_ERR_VERSION, 400),
    BAD("trailing space after version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", LG_ERR_REQUEST_LINE, 400),
    BAD("lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n", LG_ERR_VERSION, 400),
    BAD("version without minor", "GET / HTTP/1\r\nHost: a\r\n\r\n", LG_ERR_VERSION, 400),
    BAD("version two digits", "GET / HTTP/11.1\r\nHost: a\r\n\r\n", LG_ERR_VERSION, 400),
    BAD("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", LG_ERR_VERSION_UNSUPPORTED, 505),
    BAD("HTTP/3.0", "GET / HTTP/3.0\r\nHost: a\r\n\r\n", LG_ERR_VERSION_UNSUPPORTED, 505),
    BAD("HTTP/0.9 explicit", "GET / HTTP/0.9\r\n\r\n", LG_ERR_VERSION_UNSUPPORTED, 505),
    BAD("HTTP/0.1", "GET / HTTP/0.1\r\nHost: a\r\n\r\n", LG_ERR_VERSION_UNSUPPORTED, 505),
    /* A higher minor version is read as 1.1 (RFC 9110 2.5), Host and all. */
    BAD("HTTP/1.2 without Host", "GET / HTTP/1.2\r\n\r\n", LG_ERR_HOST_MISSING, 400),
    BAD("control char in target", "GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_TARGET, 400),
    BAD("DEL in target", "GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_TARGET, 400),
    BAD("NUL in target", "GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_TARGET, 400),
    BAD("relative target", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_TARGET, 400),
    BAD("asterisk for GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_TARGET, 400),
    BAD("CONNECT with path", "CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_TARGET, 400),
    BAD("CONNECT without port", "CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_TARGET, 400),
    BAD("CONNECT with letters in port", "CONNECT a:8x HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_TARGET, 400),
    BAD("scheme without colon", "GET http HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_TARGET, 400),
    BAD("scheme with nothing after", "GET http: HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_TARGET, 400),
    /* absolute-form needs "//" and a host (RFC 9112 3.2.2, RFC 9110 4.2.1) */
    BAD("absolute-form, empty authority", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_TARGET, 400),
    BAD("absolute-form, only //", "GET http:// HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_TARGET, 400),
    BAD("absolute-form, empty authority before query", "GET http://?x HTTP/1.1\r\nHost: a\r\n\r\n",
        LG_ERR_TARGET, 400),
    BAD("absolute-form, port without host", "GET http://:80/x HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_TARGET, 400),
    BAD("absolute-form without //", "GET http:/x HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_TARGET, 400),
    BAD("absolute-form without authority", "GET urn:isbn:0 HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_TARGET, 400),
    BAD("absolute-form, letters in port", "GET http://a:8x/ HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_TARGET, 400),
    BAD("absolute-form, two ports", "GET http://a:1:2/ HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_TARGET, 400),
    BAD("absolute-form, bad host char", "GET http://a{b}/ HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_TARGET, 400),
    BAD("absolute-form, fragment in authority", "GET http://a#f HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_TARGET,
        400),
    BAD("absolute-form, empty IP literal", "GET http://[]/ HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_TARGET, 400),
    BAD("absolute-form, unclosed IP literal", "GET http://[::1/ HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_TARGET,
        400),
    BAD("absolute-form, junk after IP literal", "GET http://[::1]x/ HTTP/1.1\r\nHost: a\r\n\r\n",
        LG_ERR_TARGET, 400),
    BAD("absolute-form, bracket in reg-name", "GET http://a]b/ HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_TARGET,
        400),
    /* RFC 9110 4.2.4: userinfo in an http(s) URI is deprecated and
     * treated as an error */
    BAD("absolute-form with userinfo", "GET http://user@example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
        LG_ERR_TARGET, 400),
    BAD("absolute-form with user and password", "GET http://u:p@example.com:80/ HTTP/1.1\r\nHost: a\r\n\r\n",
        LG_ERR_TARGET, 400),
    BAD("absolute-form with empty userinfo", "GET http://@example.com/ HTTP/1.1\r\nHost: a\r\n\r\n",
        LG_ERR_TARGET, 400),
    BAD("bare LF after request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", LG_ERR_LINE_ENDING, 400),
    BAD("bare CR after request line", "GET / HTTP/1.1\rHost: a\r\n\r\n", LG_ERR_LINE_ENDING, 400),
    BAD("bare LF before request", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_LINE_ENDING, 400),

    /* --- field lines --- */
    BAD("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", LG_ERR_SPACE_BEFORE_COLON, 400),
    BAD("tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", LG_ERR_SPACE_BEFORE_COLON, 400),
    BAD("obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", LG_ERR_OBS_FOLD, 400),
    BAD("whitespace line after start line", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", LG_ERR_OBS_FOLD, 400),
    BAD("empty name", "GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", LG_ERR_HEADER_NAME, 400),
    BAD("no colon", "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", LG_ERR_HEADER_NAME, 400),
    BAD("bad name char", "GET / HTTP/1.1\r\nHost: a\r\nX(y): v\r\n\r\n", LG_ERR_HEADER_NAME, 400),
    BAD("non-ASCII name", "GET / HTTP/1.1\r\nHost: a\r\nX\xc3\xa9: v\r\n\r\n", LG_ERR_HEADER_NAME, 400),
    BAD("NUL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", LG_ERR_HEADER_VALUE, 400),
    BAD("control in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x1b[0m\r\n\r\n", LG_ERR_HEADER_VALUE, 400),
    BAD("DEL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", LG_ERR_HEADER_VALUE, 400),
    BAD("control after vector", "GET / HTTP/1.1\r\nHost: a\r\nX: 0123456789abcdef0123456789\x0b\r\n\r\n",
        LG_ERR_HEADER_VALUE, 400),
    BAD("bare CR in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", LG_ERR_LINE_ENDING, 400),
    BAD("bare LF ends field", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", LG_ERR_LINE_ENDING, 400),
    BAD("bare LF ends head", "GET / HTTP/1.1\r\nHost: a\r\n\n", LG_ERR_LINE_ENDING, 400),
    BAD("all bare LF", "GET / HTTP/1.1\nHost: a\n\n", LG_ERR_LINE_ENDING, 400),
    BAD("CR CR LF at end", "GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", LG_ERR_LINE_ENDING, 400),

    /* --- Host --- */
    BAD("missing Host", "GET / HTTP/1.1\r\nX: y\r\n\r\n", LG_ERR_HOST_MISSING, 400),
    BAD("two Host lines", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", LG_ERR_HOST_DUPLICATE, 400),
    BAD("two Host lines in 1.0", "GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", LG_ERR_HOST_DUPLICATE, 400),
    BAD("Host with path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", LG_ERR_HOST_INVALID, 400),
    BAD("Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", LG_ERR_HOST_INVALID, 400),
    BAD("Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", LG_ERR_HOST_INVALID, 400),
    /* absolute-form: Host is ignored but still required and checked */
    BAD("absolute-form, missing Host", "GET http://example.com/ HTTP/1.1\r\n\r\n", LG_ERR_HOST_MISSING, 400),
    BAD("absolute-form, invalid Host", "GET http://example.com/ HTTP/1.1\r\nHost: a b\r\n\r\n",
        LG_ERR_HOST_INVALID, 400),
    BAD("absolute-form, two Host lines", "GET http://example.com/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        LG_ERR_HOST_DUPLICATE, 400),

    /* --- framing: request smuggling vectors --- */
    BAD("length and chunked", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        LG_ERR_LENGTH_AND_CHUNKED, 400),
    BAD("chunked and length", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
        LG_ERR_LENGTH_AND_CHUNKED, 400),
    BAD("differing lengths", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        LG_ERR_CONTENT_LENGTH_CONFLICT, 400),
    BAD("differing length list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n",
        LG_ERR_CONTENT_LENGTH_CONFLICT, 400),
    BAD("signed length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", LG_ERR_CONTENT_LENGTH, 400),
    BAD("negative length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", LG_ERR_CONTENT_LENGTH, 400),
    BAD("hex length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", LG_ERR_CONTENT_LENGTH, 400),
    BAD("length with space inside", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n",
        LG_ERR_CONTENT_LENGTH, 400),
    BAD("empty length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", LG_ERR_CONTENT_LENGTH, 400),
    BAD("length list with empty element", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n\r\n",
        LG_ERR_CONTENT_LENGTH, 400),
    BAD("length list with inner empty element", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, ,5\r\n\r\n",
        LG_ERR_CONTENT_LENGTH, 400),
    BAD("length overflows 63 bits", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n",
        LG_ERR_CONTENT_LENGTH, 400),
    BAD("length overflows 64 bits", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        LG_ERR_CONTENT_LENGTH, 400),
    BAD("chunked not last", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        LG_ERR_CHUNKED_NOT_LAST, 400),
    BAD("chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
        LG_ERR_CHUNKED_NOT_LAST, 400),
    BAD("chunked twice across lines", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        LG_ERR_CHUNKED_NOT_LAST, 400),
    BAD("chunked then other line", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
        LG_ERR_CHUNKED_NOT_LAST, 400),
    BAD("only gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", LG_ERR_CHUNKED_NOT_LAST, 400),
    BAD("unknown coding before chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        LG_ERR_TRANSFER_CODING, 501),
    BAD("identity coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity, chunked\r\n\r\n",
        LG_ERR_TRANSFER_CODING, 501),
    BAD("chunked with parameters", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n",
        LG_ERR_CHUNKED_NOT_LAST, 400),
    BAD("chunked misspelt", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunkedx\r\n\r\n",
        LG_ERR_CHUNKED_NOT_LAST, 400),
    BAD("empty transfer-encoding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n",
        LG_ERR_CHUNKED_NOT_LAST, 400),
    BAD("chunked in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        LG_ERR_TRANSFER_ENCODING_HTTP10, 400),

    /* --- limits --- */
    BADMAX("request line over the limit", "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n",
           LG_ERR_URI_TOO_LONG, 414, 32),
    BADMAX("head over the limit", "GET / HTTP/1.1\r\nHost: a\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
           LG_ERR_HEADERS_TOO_LARGE, 431, 40),
    BADMAX("head one byte over", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", LG_ERR_HEADERS_TOO_LARGE, 431, 26),
    BADMAX("error before the limit wins", "GET / HTTP/1.1\r\nHo st: a\r\nX-Long: aaaaaaaaaaaaaaaaaaaa\r\n\r\n",
           LG_ERR_HEADER_NAME, 400, 30),
};

/* A head exactly at the limit is accepted. */
static const req_case exact_limit =
    { "head exactly at the limit", HEAD("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 27, 0, LG_METHOD_GET,
      LG_FRAMING_NONE, 0, KA, 1, 27, 11, "a" };

static void run_case(const req_case *c)
{
    lg_header hv[HARNESS_MAX_HEADERS];
    lg_head h;
    int bad = feed_head_every_way(parse_req_adapter, c->name, c->input, c->len, c->max_head, 0,
                                  c->expect, &h, hv, HARNESS_MAX_HEADERS);
    test_checks++;
    if (bad) {
        test_failures++;
        fprintf(stderr, "case \"%s\" failed\n", c->name);
        return;
    }
    if (c->expect < 0) {
        CHECK_EQ_INT(lg_err_http_status(c->expect), c->status);
        return;
    }
    int before = test_failures;
    CHECK_EQ_INT(h.method_id, c->method_id);
    CHECK_EQ_INT(h.framing, c->framing);
    CHECK_EQ_INT(h.content_length, c->content_length);
    CHECK_EQ_INT(h.flags, c->flags);
    CHECK_EQ_INT(h.num_headers, c->num_headers);
    if (c->version) CHECK_EQ_INT(h.version_minor, c->version - 10);
    if (c->host) CHECK_STR(h.host, c->host);
    if (test_failures != before) fprintf(stderr, "  in case \"%s\"\n", c->name);
}

static void test_fields_and_slices(void)
{
    static const char in[] = "POST /items/42?x=1 HTTP/1.1\r\n"
                             "Host: example.com\r\n"
                             "Content-Type:   application/json  \r\n"
                             "X-Empty:\r\n"
                             "Content-Length: 2\r\n\r\n{}";
    lg_header hv[8];
    lg_head h = { .headers = hv, .max_headers = 8 };
    int n = lg_parse_request(&h, in, sizeof in - 1, 0, 0);
    CHECK_EQ_INT(n, (int)(sizeof in - 1 - 2));
    CHECK_STR(h.method, "POST");
    CHECK_STR(h.target, "/items/42?x=1");
    CHECK_STR(h.host, "example.com");
    CHECK_EQ_INT(h.version_minor, 1);
    CHECK_EQ_INT(h.target_form, LG_TARGET_ORIGIN);
    CHECK_EQ_INT(h.num_headers, 4);
    CHECK_STR(hv[1].name, "Content-Type");
    CHECK_STR(hv[1].value, "application/json");
    CHECK_EQ_INT(hv[2].value.len, 0);
    CHECK(hv[2].value.ptr != NULL);
    CHECK_STR(lg_head_get(&h, "content-type"), "application/json");
    CHECK_STR(lg_head_get(&h, "CONTENT-LENGTH"), "2");
    CHECK(lg_head_get(&h, "X-Missing").ptr == NULL);
    /* the slices point into the caller's buffer: zero-copy */
    CHECK(h.target.ptr == in + 5);
}

static void test_target_forms(void)
{
    lg_header hv[4];
    lg_head h = { .headers = hv, .max_headers = 4 };
    static const char a[] = "GET http://x/y HTTP/1.1\r\nHost: z\r\n\r\n";
    CHECK(lg_parse_request(&h, a, sizeof a - 1, 0, 0) > 0);
    CHECK_EQ_INT(h.target_form, LG_TARGET_ABSOLUTE);
    /* host is a slice of the target, not of the Host field */
    CHECK(h.host.ptr == a + 11 && h.host.len == 1);
    CHECK_STR(h.target, "http://x/y");
    static const char b[] = "CONNECT x:1 HTTP/1.1\r\nHost: x:1\r\n\r\n";
    CHECK(lg_parse_request(&h, b, sizeof b - 1, 0, 0) > 0);
    CHECK_EQ_INT(h.target_form, LG_TARGET_AUTHORITY);
    static const char c[] = "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK(lg_parse_request(&h, c, sizeof c - 1, 0, 0) > 0);
    CHECK_EQ_INT(h.target_form, LG_TARGET_ASTERISK);
}

static void test_too_many_headers(void)
{
    static const char in[] = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n";
    lg_header hv[3];
    lg_head h = { .headers = hv, .max_headers = 3 };
    CHECK_EQ_INT(lg_parse_request(&h, in, sizeof in - 1, 0, 0), (int)(sizeof in - 1));
    h.max_headers = 2;
    CHECK_EQ_INT(lg_parse_request(&h, in, sizeof in - 1, 0, 0), LG_ERR_TOO_MANY_HEADERS);
    CHECK_EQ_INT(lg_err_http_status(LG_ERR_TOO_MANY_HEADERS), 431);
}

static void test_reuse_of_head(void)
{
    /* A head struct reused for the next request carries nothing over. */
    static const char a[] = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n";
    static const char b[] = "GET / HTTP/1.1\r\nHost: b\r\n\r\n";
    lg_header hv[8];
    lg_head h = { .headers = hv, .max_headers = 8 };
    CHECK(lg_parse_request(&h, a, sizeof a - 1, 0, 0) > 0);
    CHECK(lg_parse_request(&h, b, sizeof b - 1, 0, 0) > 0);
    CHECK_EQ_INT(h.framing, LG_FRAMING_NONE);
    CHECK_EQ_INT(h.content_length, 0);
    CHECK_EQ_INT(h.flags, LG_HEAD_KEEP_ALIVE);
    CHECK_EQ_INT(h.num_headers, 1);
    CHECK_STR(h.host, "b");
    /* nor does an absolute-form target's host outlive its request */
    static const char c[] = "GET http://c/ HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char d[] = "GET / HTTP/1.0\r\n\r\n";
    CHECK(lg_parse_request(&h, c, sizeof c - 1, 0, 0) > 0);
    CHECK_STR(h.host, "c");
    CHECK(lg_parse_request(&h, d, sizeof d - 1, 0, 0) > 0);
    CHECK(h.host.ptr == NULL);
    CHECK_EQ_INT(h.target_form, LG_TARGET_ORIGIN);
}

static void test_list_has(void)
{
    lg_str v = LG_STR("deflate, GZip;q=0.5 , br");
    CHECK(lg_list_has(v, "gzip"));
    CHECK(lg_list_has(v, "br"));
    CHECK(lg_list_has(v, "deflate"));
    CHECK(!lg_list_has(v, "zip"));
    lg_str none = { NULL, 0 };
    CHECK(!lg_list_has(none, "gzip"));
}

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i]);
    run_case(&exact_limit);
    test_fields_and_slices();
    test_target_forms();
    test_too_many_headers();
    test_reuse_of_head();
    test_list_has();
    TEST_MAIN_END();
}
