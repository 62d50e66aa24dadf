/* Response heads: status lines good and bad, body framing per RFC 9112 6.3
 * for the method of the request answered, persistence, and every rejection
 * the codec makes, each fed whole, in every prefix and a byte at a time, at
 * a guard page. */
#include "codec_harness.h"

#define HEAD(s) s, sizeof(s) - 1

typedef struct resp_case {
    const char *name;
    const char *input;
    size_t len;
    int expect;         /* head length, or the lg_err it must fail with */
    int method;         /* lg_method of the request answered */
    int status;
    int version_minor;
    int framing;
    unsigned long long content_length;
    unsigned flags;
    int num_headers;
    const char *reason; /* NULL: not checked */
    size_t max_head;    /* 0: default */
} resp_case;

#define GET LG_METHOD_GET
#define KA LG_HEAD_KEEP_ALIVE
#define CLOSE LG_HEAD_CONNECTION_CLOSE

/* Accepted: the whole input is the head. */
#define OK(nm, m, in, st, vm, fr, cl, fl, nh, rs) \
    { nm, HEAD(in), (int)(sizeof(in) - 1), m, st, vm, fr, cl, fl, nh, rs, 0 }
/* Accepted, with bytes after the head (a body, or the next response). */
#define OKT(nm, m, in, headlen, st, vm, fr, cl, fl, nh, rs) \
    { nm, HEAD(in), headlen, m, st, vm, fr, cl, fl, nh, rs, 0 }
#define BAD(nm, m, in, err) { nm, HEAD(in), err, m, 0, 0, 0, 0, 0, -1, NULL, 0 }
#define BADMAX(nm, in, err, max) { nm, HEAD(in), err, GET, 0, 0, 0, 0, 0, -1, NULL, max }

static const resp_case cases[] = {
    /* --- status lines --- */
    OK("200 OK", GET, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 200, 1, LG_FRAMING_NONE, 0, KA, 1,
       "OK"),
    OK("HTTP/1.0", GET, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 200, 0, LG_FRAMING_NONE, 0, 0, 1,
       "OK"),
    OK("reason with spaces", GET, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 404, 1,
       LG_FRAMING_NONE, 0, KA, 1, "Not Found"),
    OK("reason with tab and obs-text", GET, "HTTP/1.1 200 Tr\xc3\xa8s\tbien\r\nContent-Length: 0\r\n\r\n",
       200, 1, LG_FRAMING_NONE, 0, KA, 1, "Tr\xc3\xa8s\tbien"),
    OK("empty reason after SP", GET, "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", 200, 1,
       LG_FRAMING_NONE, 0, KA, 1, ""),
    /* RFC 9112 4: the SP is required, but servers leave it out; harmless. */
    OK("no SP before empty reason", GET, "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 200, 1,
       LG_FRAMING_NONE, 0, KA, 1, ""),
    OK("long reason across vectors", GET,
       "HTTP/1.1 500 A reason long enough to cross several sixteen-byte blocks\r\nContent-Length: 0\r\n\r\n",
       500, 1, LG_FRAMING_NONE, 0, KA, 1, "A reason long enough to cross several sixteen-byte blocks"),
    OK("status 599", GET, "HTTP/1.1 599 Odd\r\nContent-Length: 0\r\n\r\n", 599, 1, LG_FRAMING_NONE, 0, KA,
       1, "Odd"),
    /* RFC 9110 15: a client treats 600..999 as 5xx; parsing keeps them. */
    OK("status 999", GET, "HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n", 999, 1, LG_FRAMING_NONE, 0, KA,
       1, "Odd"),
    OK("no headers at all", GET, "HTTP/1.1 200 OK\r\n\r\n", 200, 1, LG_FRAMING_CLOSE, 0, 0, 0, "OK"),

    BAD("lowercase version", GET, "http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", LG_ERR_STATUS_LINE),
    BAD("version without minor", GET, "HTTP/1 200 OK\r\nContent-Length: 0\r\n\r\n", LG_ERR_STATUS_LINE),
    BAD("version letter", GET, "HTTP/1.x 200 OK\r\nContent-Length: 0\r\n\r\n", LG_ERR_STATUS_LINE),
    BAD("HTTP/2 without minor", GET, "HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n", LG_ERR_STATUS_LINE),
    BAD("HTTP/2.0", GET, "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", LG_ERR_VERSION_UNSUPPORTED),
    BAD("HTTP/3.0", GET, "HTTP/3.0 200 OK\r\nContent-Length: 0\r\n\r\n", LG_ERR_VERSION_UNSUPPORTED),
    BAD("HTTP/0.9", GET, "HTTP/0.9 200 OK\r\nContent-Length: 0\r\n\r\n", LG_ERR_VERSION_UNSUPPORTED),
    /* RFC 9110 2.5: a higher minor version of HTTP/1 is processed as 1.1,
     * the highest linger implements: persistent by default, chunked allowed. */
    OK("HTTP/1.2 read as 1.1", GET, "HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n", 200, 1, LG_FRAMING_NONE,
       0, KA, 1, "OK"),
    OK("HTTP/1.9 chunked as 1.1", GET, "HTTP/1.9 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 200, 1,
       LG_FRAMING_CHUNKED, 0, KA, 1, "OK"),
    BAD("not HTTP at all", GET, "ICY 200 OK\r\nContent-Length: 0\r\n\r\n", LG_ERR_STATUS_LINE),
    BAD("empty line before status", GET, "\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        LG_ERR_STATUS_LINE),
    BAD("two-digit status", GET, "HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n", LG_ERR_STATUS_LINE),
    BAD("two-digit status, no reason", GET, "HTTP/1.1 20\r\nContent-Length: 0\r\n\r\n", LG_ERR_STATUS_LINE),
    BAD("four-digit status", GET, "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", LG_ERR_STATUS_LINE),
    BAD("status 099", GET, "HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n", LG_ERR_STATUS_LINE),
    BAD("status 000", GET, "HTTP/1.1 000 Low\r\nContent-Length: 0\r\n\r\n", LG_ERR_STATUS_LINE),
    BAD("letter in status", GET, "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", LG_ERR_STATUS_LINE),
    BAD("no SP before status", GET, "HTTP/1.1\t200 OK\r\nContent-Length: 0\r\n\r\n", LG_ERR_STATUS_LINE),
    BAD("two SP before status", GET, "HTTP/1.1  200 OK\r\nContent-Length: 0\r\n\r\n", LG_ERR_STATUS_LINE),
    BAD("no SP before reason", GET, "HTTP/1.1 200OK\r\nContent-Length: 0\r\n\r\n", LG_ERR_STATUS_LINE),
    BAD("control char in reason", GET, "HTTP/1.1 200 O\x01K\r\nContent-Length: 0\r\n\r\n",
        LG_ERR_STATUS_LINE),
    BAD("NUL in reason", GET, "HTTP/1.1 200 O\0K\r\nContent-Length: 0\r\n\r\n", LG_ERR_STATUS_LINE),
    BAD("DEL in reason", GET, "HTTP/1.1 200 OK\x7f\r\nContent-Length: 0\r\n\r\n", LG_ERR_STATUS_LINE),
    BAD("escape after vector in reason", GET,
        "HTTP/1.1 200 0123456789abcdef0123\x1b[0m\r\nContent-Length: 0\r\n\r\n", LG_ERR_STATUS_LINE),
    BAD("bare LF after status line", GET, "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", LG_ERR_LINE_ENDING),
    BAD("bare LF after status code", GET, "HTTP/1.1 200\nContent-Length: 0\r\n\r\n", LG_ERR_LINE_ENDING),
    BAD("bare CR after status line", GET, "HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n", LG_ERR_LINE_ENDING),
    BAD("bare CR after status code", GET, "HTTP/1.1 200\rContent-Length: 0\r\n\r\n", LG_ERR_LINE_ENDING),
    BAD("bare CR inside reason", GET, "HTTP/1.1 200 O\rK\r\nContent-Length: 0\r\n\r\n", LG_ERR_LINE_ENDING),
    BAD("all bare LF", GET, "HTTP/1.1 200 OK\nContent-Length: 0\n\n", LG_ERR_LINE_ENDING),

    /* --- field lines: the same rules as requests --- */
    BAD("bare LF ends head", GET, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n", LG_ERR_LINE_ENDING),
    BAD("bare LF ends field", GET, "HTTP/1.1 200 OK\r\nServer: x\nContent-Length: 0\r\n\r\n",
        LG_ERR_LINE_ENDING),
    BAD("space before colon", GET, "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n",
        LG_ERR_SPACE_BEFORE_COLON),
    BAD("obs-fold", GET, "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n", LG_ERR_OBS_FOLD),
    BAD("whitespace line after status line", GET, "HTTP/1.1 200 OK\r\n Content-Length: 0\r\n\r\n",
        LG_ERR_OBS_FOLD),
    BAD("bad name char", GET, "HTTP/1.1 200 OK\r\nX[1]: a\r\nContent-Length: 0\r\n\r\n",
        LG_ERR_HEADER_NAME),
    BAD("empty name", GET, "HTTP/1.1 200 OK\r\n: a\r\nContent-Length: 0\r\n\r\n", LG_ERR_HEADER_NAME),
    BAD("control char in value", GET, "HTTP/1.1 200 OK\r\nX: a\x01\r\nContent-Length: 0\r\n\r\n",
        LG_ERR_HEADER_VALUE),

    /* --- framing by status and request method (RFC 9112 6.3) --- */
    OKT("length", GET, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 38, 200, 1, LG_FRAMING_LENGTH, 5,
        KA, 1, "OK"),
    OK("largest length", GET, "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\n", 200, 1,
       LG_FRAMING_LENGTH, 9223372036854775807ull, KA, 1, NULL),
    OK("equal length list", GET, "HTTP/1.1 200 OK\r\nContent-Length: 3,3\r\nContent-Length: 3\r\n\r\n", 200,
       1, LG_FRAMING_LENGTH, 3, KA, 2, NULL),
    OK("chunked", GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 200, 1, LG_FRAMING_CHUNKED,
       0, KA, 1, NULL),
    OK("chunked, any case", GET, "HTTP/1.1 200 OK\r\ntransfer-encoding: CHUNKED\r\n\r\n", 200, 1,
       LG_FRAMING_CHUNKED, 0, KA, 1, NULL),
    /* RFC 9112 6.3 item 8: no length, no chunking: the body runs to EOF,
     * so the connection cannot be kept whatever Connection says. */
    OK("close-delimited", GET, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", 200, 1,
       LG_FRAMING_CLOSE, 0, 0, 1, NULL),
    OK("close-delimited despite keep-alive", GET, "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\n", 200,
       1, LG_FRAMING_CLOSE, 0, 0, 1, NULL),
    OK("close-delimited 1.0", GET, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n", 200, 0,
       LG_FRAMING_CLOSE, 0, 0, 1, NULL),
    OK("POST answered with length", LG_METHOD_POST, "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n",
       201, 1, LG_FRAMING_LENGTH, 2, KA, 1, "Created"),

    /* HEAD: no body, whatever the headers announce; the length is what a
     * GET would have got, and the connection stays usable. */
    OK("HEAD with length", LG_METHOD_HEAD, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", 200, 1,
       LG_FRAMING_NONE, 1234, KA, 1, NULL),
    OK("HEAD with chunked", LG_METHOD_HEAD, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 200, 1,
       LG_FRAMING_NONE, 0, KA, 1, NULL),
    OK("HEAD without length", LG_METHOD_HEAD, "HTTP/1.1 200 OK\r\n\r\n", 200, 1, LG_FRAMING_NONE, 0, KA, 0,
       NULL),
    OK("HEAD 404", LG_METHOD_HEAD, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n", 404, 1,
       LG_FRAMING_NONE, 9, KA, 1, NULL),
    OKT("HEAD, next response follows", LG_METHOD_HEAD,
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 38,
        200, 1, LG_FRAMING_NONE, 5, KA, 1, NULL),

    /* 1xx: interim, no body; the final response follows on the connection. */
    OK("100 Continue", LG_METHOD_PUT, "HTTP/1.1 100 Continue\r\n\r\n", 100, 1, LG_FRAMING_NONE, 0, KA, 0,
       "Continue"),
    OKT("100 then final response", LG_METHOD_PUT,
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 25, 100, 1,
        LG_FRAMING_NONE, 0, KA, 0, "Continue"),
    OK("103 Early Hints", GET, "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n", 103, 1,
       LG_FRAMING_NONE, 0, KA, 1, NULL),
    OK("101 Switching Protocols", GET,
       "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", 101, 1,
       LG_FRAMING_TUNNEL, 0, LG_HEAD_UPGRADE, 2, NULL),
    OK("101 with a length", GET, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nContent-Length: 4\r\n\r\n",
       101, 1, LG_FRAMING_TUNNEL, 0, 0, 2, NULL),

    /* 204 and 304 never have a body (RFC 9112 6.3 item 1). */
    OK("204", LG_METHOD_DELETE, "HTTP/1.1 204 No Content\r\n\r\n", 204, 1, LG_FRAMING_NONE, 0, KA, 0,
       "No Content"),
    OK("204 with length", LG_METHOD_DELETE, "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", 204,
       1, LG_FRAMING_NONE, 10, KA, 1, NULL),
    OK("304 with length", GET, "HTTP/1.1 304 Not Modified\r\nContent-Length: 5000\r\nETag: \"x\"\r\n\r\n",
       304, 1, LG_FRAMING_NONE, 5000, KA, 2, NULL),
    OK("304 with chunked", GET, "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", 304, 1,
       LG_FRAMING_NONE, 0, KA, 1, NULL),
    OK("304 without length", GET, "HTTP/1.1 304 Not Modified\r\n\r\n", 304, 1, LG_FRAMING_NONE, 0, KA, 0,
       NULL),
    OK("205 has a body", GET, "HTTP/1.1 205 Reset Content\r\nContent-Length: 0\r\n\r\n", 205, 1,
       LG_FRAMING_NONE, 0, KA, 1, NULL),

    /* CONNECT: any 2xx turns the connection into a tunnel (RFC 9112 6.3
     * item 2); anything else is an ordinary response. */
    OK("CONNECT 200", LG_METHOD_CONNECT, "HTTP/1.1 200 Connection established\r\n\r\n", 200, 1,
       LG_FRAMING_TUNNEL, 0, 0, 0, "Connection established"),
    OK("CONNECT 200 with length", LG_METHOD_CONNECT, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", 200, 1,
       LG_FRAMING_TUNNEL, 0, 0, 1, NULL),
    OK("CONNECT 299", LG_METHOD_CONNECT, "HTTP/1.1 299 Odd\r\n\r\n", 299, 1, LG_FRAMING_TUNNEL, 0, 0, 0,
       NULL),
    OK("CONNECT 407", LG_METHOD_CONNECT,
       "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 3\r\n\r\n", 407, 1, LG_FRAMING_LENGTH,
       3, KA, 1, NULL),
    OK("CONNECT 300", LG_METHOD_CONNECT, "HTTP/1.1 300 Multiple Choices\r\n\r\n", 300, 1, LG_FRAMING_CLOSE,
       0, 0, 0, NULL),
    OK("GET 200 is no tunnel", GET, "HTTP/1.1 200 Connection established\r\nContent-Length: 0\r\n\r\n", 200,
       1, LG_FRAMING_NONE, 0, KA, 1, NULL),

    /* --- persistence (RFC 9112 9.3) --- */
    OK("1.0 with length closes", GET, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n", 200, 0,
       LG_FRAMING_LENGTH, 2, 0, 1, NULL),
    OK("1.0 keep-alive", GET, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: Keep-Alive\r\n\r\n", 200,
       0, LG_FRAMING_LENGTH, 2, KA, 2, NULL),
    OK("1.0 keep-alive and close", GET,
       "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", 200, 0,
       LG_FRAMING_LENGTH, 2, CLOSE, 3, NULL),
    OK("1.1 close", GET, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n", 200, 1,
       LG_FRAMING_LENGTH, 2, CLOSE, 2, NULL),
    OK("1.1 close among options", GET, "HTTP/1.1 200 OK\r\nConnection: x, Close\r\nContent-Length: 2\r\n\r\n",
       200, 1, LG_FRAMING_LENGTH, 2, CLOSE, 2, NULL),
    OK("1.1 chunked close", GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
       200, 1, LG_FRAMING_CHUNKED, 0, CLOSE, 2, NULL),

    /* --- Host and Expect mean nothing in a response --- */
    OK("two Host lines", GET, "HTTP/1.1 200 OK\r\nHost: a\r\nHost: b c/d\r\nContent-Length: 0\r\n\r\n", 200,
       1, LG_FRAMING_NONE, 0, KA, 3, NULL),
    OK("Expect in a response", GET, "HTTP/1.1 200 OK\r\nExpect: 100-continue\r\nExpect: teapot\r\n"
       "Content-Length: 0\r\n\r\n", 200, 1, LG_FRAMING_NONE, 0, KA, 3, NULL),

    /* --- framing: response smuggling and splitting vectors --- */
    BAD("length and chunked", GET, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        LG_ERR_LENGTH_AND_CHUNKED),
    BAD("chunked and length", GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
        LG_ERR_LENGTH_AND_CHUNKED),
    BAD("differing lengths", GET, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        LG_ERR_CONTENT_LENGTH_CONFLICT),
    BAD("differing length list", GET, "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n",
        LG_ERR_CONTENT_LENGTH_CONFLICT),
    BAD("signed length", GET, "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", LG_ERR_CONTENT_LENGTH),
    BAD("negative length", GET, "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", LG_ERR_CONTENT_LENGTH),
    BAD("hex length", GET, "HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\n", LG_ERR_CONTENT_LENGTH),
    BAD("empty length", GET, "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", LG_ERR_CONTENT_LENGTH),
    BAD("length with inner space", GET, "HTTP/1.1 200 OK\r\nContent-Length: 1 0\r\n\r\n",
        LG_ERR_CONTENT_LENGTH),
    BAD("length list with empty element", GET, "HTTP/1.1 200 OK\r\nContent-Length: 5,,5\r\n\r\n",
        LG_ERR_CONTENT_LENGTH),
    BAD("length overflows 63 bits", GET, "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n",
        LG_ERR_CONTENT_LENGTH),
    BAD("chunked not last", GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        LG_ERR_CHUNKED_NOT_LAST),
    BAD("only gzip", GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", LG_ERR_CHUNKED_NOT_LAST),
    BAD("chunked twice", GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        LG_ERR_CHUNKED_NOT_LAST),
    BAD("unknown coding", GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        LG_ERR_TRANSFER_CODING),
    BAD("chunked in HTTP/1.0", GET, "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        LG_ERR_TRANSFER_ENCODING_HTTP10),
    BAD("chunked and length in HTTP/1.0", GET,
        "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        LG_ERR_TRANSFER_ENCODING_HTTP10),
    /* Broken framing is refused even where the status says "no body": a
     * peer that sends it is broken or hostile. */
    BAD("HEAD: length and chunked", LG_METHOD_HEAD,
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", LG_ERR_LENGTH_AND_CHUNKED),
    BAD("HEAD: bad length", LG_METHOD_HEAD, "HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\n",
        LG_ERR_CONTENT_LENGTH),
    BAD("204: differing lengths", LG_METHOD_DELETE,
        "HTTP/1.1 204 No Content\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        LG_ERR_CONTENT_LENGTH_CONFLICT),
    BAD("304: unknown coding", GET, "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: br, chunked\r\n\r\n",
        LG_ERR_TRANSFER_CODING),
    BAD("101: chunked not last", GET, "HTTP/1.1 101 Switching Protocols\r\nTransfer-Encoding: gzip\r\n\r\n",
        LG_ERR_CHUNKED_NOT_LAST),
    BAD("CONNECT 200: length and chunked", LG_METHOD_CONNECT,
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n", LG_ERR_LENGTH_AND_CHUNKED),

    /* --- limits: a response's head is never "URI too long" --- */
    BADMAX("status line over the limit", "HTTP/1.1 200 A very long reason phrase indeed\r\n\r\n",
           LG_ERR_HEADERS_TOO_LARGE, 24),
    BADMAX("limit inside the version", "HTTP/1.1 200 OK\r\n\r\n", LG_ERR_HEADERS_TOO_LARGE, 6),
    BADMAX("head over the limit", "HTTP/1.1 200 OK\r\nServer: aaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
           LG_ERR_HEADERS_TOO_LARGE, 40),
    BADMAX("head one byte over", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", LG_ERR_HEADERS_TOO_LARGE,
           37),
    BADMAX("error before the limit wins", "HTTP/1.1 200 OK\r\nSer ver: a\r\nX-Long: aaaaaaaaaaaaaaaaaa\r\n\r\n",
           LG_ERR_HEADER_NAME, 32),
};

/* A head exactly at the limit is accepted. */
static const resp_case exact_limit = { "head exactly at the limit",
                                       HEAD("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), 38, GET, 200, 1,
                                       LG_FRAMING_NONE, 0, KA, 1, "OK", 38 };

static void run_case(const resp_case *c)
{
    lg_header hv[HARNESS_MAX_HEADERS];
    lg_head h;
    int bad = feed_head_every_way(parse_resp_adapter, c->name, c->input, c->len, c->max_head, c->method,
                                  c->expect, &h, hv, HARNESS_MAX_HEADERS);
    test_checks++;
    if (bad) {
        test_failures++;
        fprintf(stderr, "case \"%s\" failed\n", c->name);
        return;
    }
    if (c->expect < 0) return;
    int before = test_failures;
    CHECK_EQ_INT(h.status, c->status);
    CHECK_EQ_INT(h.version_minor, c->version_minor);
    CHECK_EQ_INT(h.framing, c->framing);
    CHECK_EQ_INT(h.content_length, c->content_length);
    CHECK_EQ_INT(h.flags, c->flags);
    CHECK_EQ_INT(h.num_headers, c->num_headers);
    if (c->reason) CHECK_STR(h.reason, c->reason);
    /* Request-only fields stay empty: Host means nothing in a response. */
    CHECK(h.host.ptr == NULL);
    CHECK(h.method.ptr == NULL && h.target.ptr == NULL);
    if (test_failures != before) fprintf(stderr, "  in case \"%s\"\n", c->name);
}

static void test_fields_and_slices(void)
{
    static const char in[] = "HTTP/1.1 201 Created\r\n"
                             "Location:  /items/42 \r\n"
                             "Content-Length: 2\r\n\r\n{}";
    lg_header hv[4];
    lg_head h = { .headers = hv, .max_headers = 4 };
    int n = lg_parse_response(&h, in, sizeof in - 1, 0, 0, LG_METHOD_POST);
    CHECK_EQ_INT(n, (int)(sizeof in - 1 - 2));
    CHECK_EQ_INT(h.num_headers, 2);
    CHECK_STR(hv[0].name, "Location");
    CHECK_STR(hv[0].value, "/items/42");
    CHECK_STR(lg_head_get(&h, "content-length"), "2");
    /* zero-copy: the reason is a slice of the input */
    CHECK(h.reason.ptr == in + 13);
}

static void test_too_many_headers(void)
{
    static const char in[] = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nContent-Length: 0\r\n\r\n";
    lg_header hv[3];
    lg_head h = { .headers = hv, .max_headers = 3 };
    CHECK_EQ_INT(lg_parse_response(&h, in, sizeof in - 1, 0, 0, LG_METHOD_GET), (int)(sizeof in - 1));
    h.max_headers = 2;
    CHECK_EQ_INT(lg_parse_response(&h, in, sizeof in - 1, 0, 0, LG_METHOD_GET), LG_ERR_TOO_MANY_HEADERS);
}

static void test_reuse_of_head(void)
{
    /* A head reused for the next response carries nothing over. */
    static const char a[] = "HTTP/1.1 404 Nope\r\nConnection: close\r\nContent-Length: 3\r\n\r\n";
    static const char b[] = "HTTP/1.1 204 No Content\r\n\r\n";
    lg_header hv[4];
    lg_head h = { .headers = hv, .max_headers = 4 };
    CHECK(lg_parse_response(&h, a, sizeof a - 1, 0, 0, LG_METHOD_GET) > 0);
    CHECK(lg_parse_response(&h, b, sizeof b - 1, 0, 0, LG_METHOD_GET) > 0);
    CHECK_EQ_INT(h.status, 204);
    CHECK_EQ_INT(h.framing, LG_FRAMING_NONE);
    CHECK_EQ_INT(h.content_length, 0);
    CHECK_EQ_INT(h.flags, LG_HEAD_KEEP_ALIVE);
    CHECK_EQ_INT(h.num_headers, 0);
    CHECK_STR(h.reason, "No Content");
}

/* Every status from 100 to 999 parses to itself, and the framing follows the
 * status classes of RFC 9112 6.3 for a GET, a HEAD and a CONNECT. */
static void test_every_status(void)
{
    char in[64];
    lg_header hv[2];
    for (int st = 100; st <= 999; st++) {
        int n = snprintf(in, sizeof in, "HTTP/1.1 %d X\r\nContent-Length: 7\r\n\r\n", st);
        for (int m = 0; m < 3; m++) {
            int method = m == 0 ? LG_METHOD_GET : m == 1 ? LG_METHOD_HEAD : LG_METHOD_CONNECT;
            lg_head h = { .headers = hv, .max_headers = 2 };
            int r = lg_parse_response(&h, in, (size_t)n, 0, 0, method);
            int want;
            if (st == 101 || (method == LG_METHOD_CONNECT && st >= 200 && st < 300)) want = LG_FRAMING_TUNNEL;
            else if (st < 200 || st == 204 || st == 304 || method == LG_METHOD_HEAD) want = LG_FRAMING_NONE;
            else want = LG_FRAMING_LENGTH;
            if (r != n || h.status != st || h.framing != want) {
                test_failures++;
                fprintf(stderr, "status %d method %d: r=%d status=%d framing=%d, want framing %d\n", st,
                        method, r, h.status, h.framing, want);
            }
            test_checks++;
        }
    }
}

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i]);
    run_case(&exact_limit);
    test_fields_and_slices();
    test_too_many_headers();
    test_reuse_of_head();
    test_every_status();
    TEST_MAIN_END();
}
