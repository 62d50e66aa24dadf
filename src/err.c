/* Error codes: one table gives each its name, its sentence and, for the
 * codec's rejections, the status a server answers with.
 *
 * With LG_NO_ERROR_STRINGS the sentences go and the names stay (a log line
 * that says LG_ERR_RESET serves the person reading it as well as
 * "connection reset by peer"), packed into one string, with two bytes per
 * code beside it instead of a table of pointers: under a third of the size. */
#include <stddef.h>

#include "linger.h"

/* X(code, status a server answers with, sentence) */
#define LG_ERRORS(X) \
    X(LG_OK, 0, "success") \
    X(LG_ERR_REQUEST_LINE, 400, "malformed request line") \
    X(LG_ERR_METHOD, 400, "invalid character in method") \
    X(LG_ERR_TARGET, 400, "invalid request target") \
    X(LG_ERR_VERSION, 400, "malformed HTTP version") \
    X(LG_ERR_VERSION_UNSUPPORTED, 505, "HTTP version not supported") \
    X(LG_ERR_STATUS_LINE, 0, "malformed status line") \
    X(LG_ERR_HEADER_NAME, 400, "invalid header name") \
    X(LG_ERR_HEADER_VALUE, 400, "control character in header value") \
    X(LG_ERR_SPACE_BEFORE_COLON, 400, "whitespace between header name and colon") \
    X(LG_ERR_OBS_FOLD, 400, "folded header line (obs-fold)") \
    X(LG_ERR_LINE_ENDING, 400, "bare CR or LF: lines must end in CRLF") \
    X(LG_ERR_URI_TOO_LONG, 414, "request line too long") \
    X(LG_ERR_HEADERS_TOO_LARGE, 431, "header section too large") \
    X(LG_ERR_TOO_MANY_HEADERS, 431, "too many header fields") \
    X(LG_ERR_HOST_MISSING, 400, "HTTP/1.1 request without Host") \
    X(LG_ERR_HOST_DUPLICATE, 400, "more than one Host header") \
    X(LG_ERR_HOST_INVALID, 400, "invalid Host header") \
    X(LG_ERR_CONTENT_LENGTH, 400, "invalid Content-Length") \
    X(LG_ERR_CONTENT_LENGTH_CONFLICT, 400, "conflicting Content-Length values") \
    X(LG_ERR_LENGTH_AND_CHUNKED, 400, "both Content-Length and Transfer-Encoding") \
    X(LG_ERR_CHUNKED_NOT_LAST, 400, "Transfer-Encoding does not end in chunked") \
    X(LG_ERR_TRANSFER_CODING, 501, "unsupported transfer coding") \
    X(LG_ERR_TRANSFER_ENCODING_HTTP10, 400, "Transfer-Encoding in an HTTP/1.0 message") \
    X(LG_ERR_CHUNK_SIZE, 400, "malformed chunk size") \
    X(LG_ERR_CHUNK_SIZE_OVERFLOW, 400, "chunk size too large") \
    X(LG_ERR_CHUNK_EXTENSION, 400, "malformed or overlong chunk extension") \
    X(LG_ERR_CHUNK_DATA_END, 400, "chunk data not followed by CRLF") \
    X(LG_ERR_BODY_TOO_LARGE, 413, "body larger than allowed") \
    X(LG_ERR_EXPECTATION, 417, "unsupported expectation") \
    X(LG_ERR_BUFFER_TOO_SMALL, 0, "buffer too small") \
    X(LG_ERR_INVALID_ARG, 0, "invalid argument") \
    X(LG_ERR_UNSUPPORTED, 0, "not supported by this build") \
    X(LG_ERR_RESET, 0, "connection reset by peer") \
    X(LG_ERR_PIPE, 0, "peer stopped reading (broken pipe)") \
    X(LG_ERR_CLOSED_EARLY, 0, "connection closed before the message was complete") \
    X(LG_ERR_TIMEOUT, 0, "timed out") \
    X(LG_ERR_REFUSED, 0, "connection refused") \
    X(LG_ERR_UNREACHABLE, 0, "host or network unreachable") \
    X(LG_ERR_TOO_LARGE, 0, "more data than the limit allows") \
    X(LG_ERR_NOMEM, 0, "out of memory") \
    X(LG_ERR_ADDR_IN_USE, 0, "address already in use") \
    X(LG_ERR_ADDR_INVALID, 0, "invalid address") \
    X(LG_ERR_RESOLVE, 0, "host name not found") \
    X(LG_ERR_CANCELLED, 0, "cancelled") \
    X(LG_ERR_CLOSED, 0, "already closed") \
    X(LG_ERR_LIMIT, 0, "limit reached") \
    X(LG_ERR_IO, 0, "input/output error") \
    X(LG_ERR_NOT_FOUND, 0, "not found") \
    X(LG_ERR_ACCESS, 0, "permission denied") \
    X(LG_ERR_URL, 0, "invalid URL") \
    X(LG_ERR_REDIRECTS, 0, "too many redirects") \
    X(LG_ERR_PROTOCOL, 0, "protocol error") \
    X(LG_ERR_AGAIN, 0, "the call would block") \
    LG_WS_ERRORS(X) \
    LG_MULTIPART_ERRORS(X) \
    LG_TLS_ERRORS(X)

/* multipart/form-data's, only in a build that has it. */
#if defined(LG_NO_MULTIPART)
#define LG_MULTIPART_ERRORS(X)
#else
#define LG_MULTIPART_ERRORS(X) \
    X(LG_ERR_MULTIPART_BOUNDARY, 400, "multipart body without a valid boundary parameter") \
    X(LG_ERR_MULTIPART, 400, "malformed multipart body") \
    X(LG_ERR_MULTIPART_TRUNCATED, 400, "multipart body ended before its final boundary") \
    X(LG_ERR_MULTIPART_PARTS, 413, "too many parts in a multipart body") \
    X(LG_ERR_MULTIPART_HEADER, 413, "a part's header section is too large")
#endif

/* TLS's (include/linger_tls.h), unless the build says it has none. */
#if defined(LG_NO_TLS)
#define LG_TLS_ERRORS(X)
#else
#define LG_TLS_ERRORS(X) \
    X(LG_ERR_TLS, 0, "TLS error: a record failed its integrity check, or the TLS library failed") \
    X(LG_ERR_TLS_HANDSHAKE, 0, "TLS handshake failed: malformed, or no protocol version or cipher in common") \
    X(LG_ERR_TLS_PLAINTEXT, 0, "plain HTTP where TLS was expected (http:// sent to an https port?)") \
    X(LG_ERR_TLS_CUT, 0, "connection closed in the middle of the TLS handshake") \
    X(LG_ERR_TLS_TRUNCATED, 0, "connection closed without TLS close_notify: the data may be truncated") \
    X(LG_ERR_TLS_ALERT, 0, "the peer sent a fatal TLS alert (in a handshake: it refused our certificate or terms)") \
    X(LG_ERR_TLS_TIMEOUT, 0, "TLS handshake timed out") \
    X(LG_ERR_TLS_CERT_EXPIRED, 0, "certificate has expired (or is not yet valid)") \
    X(LG_ERR_TLS_CERT_UNTRUSTED, 0, "certificate is not trusted: self-signed, or signed by an unknown CA") \
    X(LG_ERR_TLS_CERT_HOST, 0, "certificate is for another host name") \
    X(LG_ERR_TLS_CERT, 0, "certificate is not acceptable (key usage, signature or format)") \
    X(LG_ERR_TLS_CONFIG, 0, "TLS certificate, key or CA does not load, or the key does not match")
#endif

/* WebSocket's, only in a build that has it. */
#if defined(LG_NO_WEBSOCKET)
#define LG_WS_ERRORS(X)
#else
#define LG_WS_ERRORS(X) \
    X(LG_ERR_WS_RESERVED_BITS, 0, "WebSocket frame with a reserved bit set") \
    X(LG_ERR_WS_OPCODE, 0, "WebSocket frame with a reserved opcode") \
    X(LG_ERR_WS_CONTROL_FRAME, 0, "WebSocket control frame fragmented or over 125 bytes") \
    X(LG_ERR_WS_LENGTH, 0, "WebSocket frame length over 2^63 - 1") \
    X(LG_ERR_WS_MASK, 0, "WebSocket frame masked wrongly for its direction") \
    X(LG_ERR_WS_FRAGMENT, 0, "WebSocket continuation frame out of order") \
    X(LG_ERR_WS_CLOSE_PAYLOAD, 0, "invalid WebSocket close status or payload") \
    X(LG_ERR_WS_TOO_BIG, 0, "WebSocket message larger than allowed") \
    X(LG_ERR_WS_UTF8, 0, "invalid UTF-8 in a WebSocket text message or close reason") \
    X(LG_ERR_WS_HANDSHAKE, 400, "invalid WebSocket handshake")
#endif

#if !defined(LG_NO_ERROR_STRINGS)

typedef struct err_info {
    int code;
    short status;
    const char *name;
    const char *text;
} err_info;

#define INFO(code, status, text) { code, status, #code, text },
static const err_info errors[] = { LG_ERRORS(INFO) };

static const err_info *find(int code)
{
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i].code == code) return &errors[i];
    return NULL;
}

const char *lg_strerror(int err)
{
    const err_info *e = find(err);
    return e ? e->text : "unknown error";
}

const char *lg_err_name(int err)
{
    const err_info *e = find(err);
    return e ? e->name : "LG_ERR_UNKNOWN";
}

int lg_err_http_status(int err)
{
    const err_info *e = find(err);
    return e ? e->status : 0;
}

#else

/* Every code is between -128 and 0, every status a server answers with
 * between 300 and 555: one byte each. */
typedef struct err_code {
    int8_t code;
    uint8_t status; /* status - 300, or 0 */
} err_code;

#define CODE(code, status, text) { code, (uint8_t)((status) ? (status) - 300 : 0) },
#define NAME(code, status, text) #code "\0"
static const err_code codes[] = { LG_ERRORS(CODE) };
static const char names[] = LG_ERRORS(NAME) "LG_ERR_UNKNOWN";

/* Index of a code in the table, or the count when unknown. */
static size_t find(int code)
{
    size_t i = 0;
    while (i < sizeof codes / sizeof codes[0] && codes[i].code != code) i++;
    return i;
}

const char *lg_err_name(int err)
{
    const char *p = names;
    for (size_t i = find(err); i > 0; i--)
        while (*p++) {
        }
    return p;
}

const char *lg_strerror(int err)
{
    return lg_err_name(err);
}

int lg_err_http_status(int err)
{
    size_t i = find(err);
    return i < sizeof codes / sizeof codes[0] && codes[i].status ? codes[i].status + 300 : 0;
}

#endif

#include "assert_internal.h"
#if LG_ASSERTS_ON
#include <stdlib.h>
#if defined(LG__HOSTED_DEFAULTS)
#include <stdio.h>
#endif
void lg__assert_failed(const char *file, int line, const char *what)
{
#if defined(LG__HOSTED_DEFAULTS)
    fprintf(stderr, "linger: %s:%d: assertion failed: %s\n", file, line, what);
#else
    (void)file;
    (void)line;
    (void)what;
#endif
    abort();
}
#endif
