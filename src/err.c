/* Error codes: one table gives each its name, its sentence and, for the
 * codec's rejections, the status a server answers with. */
#include "linger.h"

typedef struct err_info {
    int code;
    short status;
    const char *name;
    const char *text;
} err_info;

#define E(code, status, text) { code, status, #code, text }

static const err_info errors[] = {
    E(LG_OK, 0, "success"),
    E(LG_ERR_REQUEST_LINE, 400, "malformed request line"),
    E(LG_ERR_METHOD, 400, "invalid character in method"),
    E(LG_ERR_TARGET, 400, "invalid request target"),
    E(LG_ERR_VERSION, 400, "malformed HTTP version"),
    E(LG_ERR_VERSION_UNSUPPORTED, 505, "HTTP version not supported"),
    E(LG_ERR_STATUS_LINE, 0, "malformed status line"),
    E(LG_ERR_HEADER_NAME, 400, "invalid header name"),
    E(LG_ERR_HEADER_VALUE, 400, "control character in header value"),
    E(LG_ERR_SPACE_BEFORE_COLON, 400, "whitespace between header name and colon"),
    E(LG_ERR_OBS_FOLD, 400, "folded header line (obs-fold)"),
    E(LG_ERR_LINE_ENDING, 400, "bare CR or LF: lines must end in CRLF"),
    E(LG_ERR_URI_TOO_LONG, 414, "request line too long"),
    E(LG_ERR_HEADERS_TOO_LARGE, 431, "header section too large"),
    E(LG_ERR_TOO_MANY_HEADERS, 431, "too many header fields"),
    E(LG_ERR_HOST_MISSING, 400, "HTTP/1.1 request without Host"),
    E(LG_ERR_HOST_DUPLICATE, 400, "more than one Host header"),
    E(LG_ERR_HOST_INVALID, 400, "invalid Host header"),
    E(LG_ERR_CONTENT_LENGTH, 400, "invalid Content-Length"),
    E(LG_ERR_CONTENT_LENGTH_CONFLICT, 400, "conflicting Content-Length values"),
    E(LG_ERR_LENGTH_AND_CHUNKED, 400, "both Content-Length and Transfer-Encoding"),
    E(LG_ERR_CHUNKED_NOT_LAST, 400, "Transfer-Encoding does not end in chunked"),
    E(LG_ERR_TRANSFER_CODING, 501, "unsupported transfer coding"),
    E(LG_ERR_TRANSFER_ENCODING_HTTP10, 400, "Transfer-Encoding in an HTTP/1.0 message"),
    E(LG_ERR_CHUNK_SIZE, 400, "malformed chunk size"),
    E(LG_ERR_CHUNK_SIZE_OVERFLOW, 400, "chunk size too large"),
    E(LG_ERR_CHUNK_EXTENSION, 400, "malformed or overlong chunk extension"),
    E(LG_ERR_CHUNK_DATA_END, 400, "chunk data not followed by CRLF"),
    E(LG_ERR_BODY_TOO_LARGE, 413, "body larger than allowed"),
    E(LG_ERR_EXPECTATION, 417, "unsupported expectation"),
    E(LG_ERR_BUFFER_TOO_SMALL, 0, "buffer too small"),
    E(LG_ERR_INVALID_ARG, 0, "invalid argument"),
    E(LG_ERR_UNSUPPORTED, 0, "not supported by this build"),
    E(LG_ERR_RESET, 0, "connection reset by peer"),
    E(LG_ERR_PIPE, 0, "peer stopped reading (broken pipe)"),
    E(LG_ERR_CLOSED_EARLY, 0, "connection closed before the message was complete"),
    E(LG_ERR_TIMEOUT, 0, "timed out"),
    E(LG_ERR_REFUSED, 0, "connection refused"),
    E(LG_ERR_UNREACHABLE, 0, "host or network unreachable"),
    E(LG_ERR_TOO_LARGE, 0, "more data than the limit allows"),
    E(LG_ERR_NOMEM, 0, "out of memory"),
    E(LG_ERR_ADDR_IN_USE, 0, "address already in use"),
    E(LG_ERR_ADDR_INVALID, 0, "invalid address"),
    E(LG_ERR_RESOLVE, 0, "host name not found"),
    E(LG_ERR_CANCELLED, 0, "cancelled"),
    E(LG_ERR_CLOSED, 0, "already closed"),
    E(LG_ERR_LIMIT, 0, "limit reached"),
    E(LG_ERR_IO, 0, "input/output error"),
    E(LG_ERR_NOT_FOUND, 0, "not found"),
    E(LG_ERR_ACCESS, 0, "permission denied"),
    E(LG_ERR_URL, 0, "invalid URL"),
    E(LG_ERR_REDIRECTS, 0, "too many redirects"),
    E(LG_ERR_PROTOCOL, 0, "protocol error"),
};

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
