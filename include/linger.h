/*
 * linger — an asynchronous HTTP/1.1 server and client library in C.
 *
 * This is the one public header. It is C99 and has no dependency beyond the
 * C library. Sections, in layer order (each only uses the ones above it):
 *
 *   1. basics   — strings and error codes
 *   2. codec    — sans-IO HTTP/1.1 parsing and serialising (no I/O, no malloc)
 *   3. memory, logging, addresses
 *   4. loop     — readiness, timers, deferred calls (one thread)
 *   5. stream   — buffered TCP with exact endings and graceful close
 *   6. tcp      — listen, connect, resolve
 *   7. url      — URLs, query strings, percent-encoding
 *   8. server   — routes, requests, responses, static files
 *   9. client   — requests, connection pool, redirects
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef LINGER_H
#define LINGER_H

#include <stddef.h>
#include <stdint.h>

#include "linger_opts.h" /* build options: what this build leaves out */

#ifdef __cplusplus
extern "C" {
#endif

#define LG_VERSION_MAJOR 0
#define LG_VERSION_MINOR 1
#define LG_VERSION_PATCH 0
#define LG_VERSION_STRING "0.1.0"

/* ======================================================================
 * 1. Basics
 * ====================================================================== */

/* A slice of bytes owned by somebody else (usually the receive buffer).
 * Not NUL-terminated. An absent value has ptr == NULL. */
typedef struct lg_str {
    const char *ptr;
    size_t len;
} lg_str;

#define LG_STR(literal) ((lg_str){ (literal), sizeof(literal) - 1 })

/* Every failure in linger is one of these negative codes; 0 is success.
 * lg_strerror() says what each means; lg_err_http_status() says which status
 * a server answers a request that failed to parse with. */
typedef enum lg_err {
    LG_OK = 0,

    /* --- codec: malformed messages (a server answers 400 unless noted) --- */
    LG_ERR_REQUEST_LINE = -1,       /* request line is not "method SP target SP version" */
    LG_ERR_METHOD = -2,             /* method is not a token */
    LG_ERR_TARGET = -3,             /* bad character in target, wrong form for the method, or an
                                       absolute-form authority not host[:port] (userinfo too) */
    LG_ERR_VERSION = -4,            /* version is not "HTTP/d.d" */
    LG_ERR_VERSION_UNSUPPORTED = -5,/* a well-formed version not HTTP/1.x (505); 1.2+ reads as 1.1 */
    LG_ERR_STATUS_LINE = -6,        /* response status line is malformed */
    LG_ERR_HEADER_NAME = -7,        /* empty name or a non-token character in it */
    LG_ERR_HEADER_VALUE = -8,       /* control character (NUL, CR, DEL ...) in a value */
    LG_ERR_SPACE_BEFORE_COLON = -9, /* "Name : value" (RFC 9112 5.1: must be rejected) */
    LG_ERR_OBS_FOLD = -10,          /* a line folded onto the next (obsolete, rejected) */
    LG_ERR_LINE_ENDING = -11,       /* bare LF or bare CR: lines end in CRLF only */
    LG_ERR_URI_TOO_LONG = -12,      /* request line does not fit the head limit (414) */
    LG_ERR_HEADERS_TOO_LARGE = -13, /* head does not fit the head limit (431) */
    LG_ERR_TOO_MANY_HEADERS = -14,  /* more header lines than the caller's array (431) */
    LG_ERR_HOST_MISSING = -15,      /* HTTP/1.1 request without Host */
    LG_ERR_HOST_DUPLICATE = -16,    /* more than one Host line */
    LG_ERR_HOST_INVALID = -17,      /* Host value is not host[:port] */
    LG_ERR_CONTENT_LENGTH = -18,    /* Content-Length is not a plain decimal, or overflows */
    LG_ERR_CONTENT_LENGTH_CONFLICT = -19, /* several differing Content-Length values */
    LG_ERR_LENGTH_AND_CHUNKED = -20,/* Content-Length together with Transfer-Encoding */
    LG_ERR_CHUNKED_NOT_LAST = -21,  /* Transfer-Encoding whose last coding is not chunked */
    LG_ERR_TRANSFER_CODING = -22,   /* a transfer coding linger does not implement (501) */
    LG_ERR_TRANSFER_ENCODING_HTTP10 = -23, /* Transfer-Encoding in an HTTP/1.0 message */
    LG_ERR_CHUNK_SIZE = -24,        /* chunk size line is not hex digits */
    LG_ERR_CHUNK_SIZE_OVERFLOW = -25, /* chunk size does not fit 63 bits */
    LG_ERR_CHUNK_EXTENSION = -26,   /* chunk extension malformed or longer than allowed */
    LG_ERR_CHUNK_DATA_END = -27,    /* chunk data not followed by CRLF */
    LG_ERR_BODY_TOO_LARGE = -28,    /* body longer than the configured limit (413) */
    LG_ERR_EXPECTATION = -29,       /* Expect other than 100-continue (417) */

    /* --- use of the API --- */
    LG_ERR_BUFFER_TOO_SMALL = -40,  /* output does not fit the buffer given */
    LG_ERR_INVALID_ARG = -41,       /* an argument is outside its documented range */
    LG_ERR_UNSUPPORTED = -42,       /* asked for something this build leaves out */

    /* --- network and streams: how an exchange ended --- */
    LG_ERR_RESET = -50,             /* the peer reset the connection (ECONNRESET) */
    LG_ERR_PIPE = -51,              /* the peer no longer reads (EPIPE) */
    LG_ERR_CLOSED_EARLY = -52,      /* EOF before the message was complete */
    LG_ERR_TIMEOUT = -53,           /* a deadline passed */
    LG_ERR_REFUSED = -54,           /* nobody listens there (ECONNREFUSED) */
    LG_ERR_UNREACHABLE = -55,       /* no route to the host or network */
    LG_ERR_TOO_LARGE = -56,         /* more data than the limit the caller set */
    LG_ERR_NOMEM = -57,             /* the allocator hook returned NULL */
    LG_ERR_ADDR_IN_USE = -58,       /* bind: address already in use */
    LG_ERR_ADDR_INVALID = -59,      /* an address string that does not parse */
    LG_ERR_RESOLVE = -60,           /* the host name did not resolve */
    LG_ERR_CANCELLED = -61,         /* the caller cancelled it */
    LG_ERR_CLOSED = -62,            /* the stream or object is already closed */
    LG_ERR_LIMIT = -63,             /* a count limit (connections, descriptors) reached */
    LG_ERR_IO = -64,                /* another operating-system error */
    LG_ERR_NOT_FOUND = -65,         /* no such file */
    LG_ERR_ACCESS = -66,            /* permission denied */
    LG_ERR_URL = -67,               /* a URL that does not parse */
    LG_ERR_REDIRECTS = -68,         /* too many redirects */
    LG_ERR_PROTOCOL = -69,          /* the peer broke HTTP in a way not listed above */
    LG_ERR_AGAIN = -70,             /* platform layer: the call would block (ports return it) */

    /* --- WebSocket (include/linger_ws.h): the peer broke RFC 6455; the
     *     Close status each is answered with: lg_err_ws_close_code() --- */
    LG_ERR_WS_RESERVED_BITS = -80,  /* RSV1-3 set without an extension that allows them (1002) */
    LG_ERR_WS_OPCODE = -81,         /* a reserved opcode (1002) */
    LG_ERR_WS_CONTROL_FRAME = -82,  /* a control frame fragmented or over 125 bytes (1002) */
    LG_ERR_WS_LENGTH = -83,         /* a 64-bit payload length with its top bit set (1002) */
    LG_ERR_WS_MASK = -84,           /* unmasked to a server, or masked to a client (1002) */
    LG_ERR_WS_FRAGMENT = -85,       /* a continuation with nothing to continue, or a new
                                       message inside a fragmented one (1002) */
    LG_ERR_WS_CLOSE_PAYLOAD = -86,  /* a Close payload of 1 byte or an invalid status code (1002) */
    LG_ERR_WS_TOO_BIG = -87,        /* a message over the size limit (1009) */
    LG_ERR_WS_UTF8 = -88,           /* a text message or close reason not UTF-8 (1007) */
    LG_ERR_WS_HANDSHAKE = -89,      /* a Sec-WebSocket-Key or -Accept that is not valid (400) */

    /* --- multipart/form-data bodies (lg_multipart) --- */
    LG_ERR_MULTIPART_BOUNDARY = -100, /* Content-Type without a usable boundary (400) */
    LG_ERR_MULTIPART = -101,        /* a multipart body that breaks RFC 2046's grammar (400) */
    LG_ERR_MULTIPART_TRUNCATED = -102, /* the body ended before its final boundary (400) */
    LG_ERR_MULTIPART_PARTS = -103,  /* more parts than allowed (413) */
    LG_ERR_MULTIPART_HEADER = -104, /* a part's header section larger than allowed (413) */

    /* --- TLS (include/linger_tls.h): how a secured connection failed (-112..) --- */
    LG_ERR_TLS = -112,              /* a TLS record failed its check, or the TLS library failed */
    LG_ERR_TLS_HANDSHAKE = -113,    /* handshake failed: malformed, or no version/cipher in common */
    LG_ERR_TLS_PLAINTEXT = -114,    /* the peer spoke plain HTTP where TLS was expected */
    LG_ERR_TLS_CUT = -115,          /* the connection closed in the middle of the handshake */
    LG_ERR_TLS_TRUNCATED = -116,    /* input ended without close_notify: data may be cut */
    LG_ERR_TLS_ALERT = -117,        /* the peer sent a fatal alert (refused the handshake) */
    LG_ERR_TLS_TIMEOUT = -118,      /* the handshake did not complete in time */
    LG_ERR_TLS_CERT_EXPIRED = -119, /* the peer's certificate has expired (or is not yet valid) */
    LG_ERR_TLS_CERT_UNTRUSTED = -120, /* self-signed, or signed by a CA not trusted here */
    LG_ERR_TLS_CERT_HOST = -121,    /* the certificate is for another host name */
    LG_ERR_TLS_CERT = -122,         /* the certificate was rejected for another reason */
    LG_ERR_TLS_CONFIG = -123        /* a certificate, key or CA that does not load or match */
} lg_err;

/* A short English sentence for an error code ("connection reset by peer").
 * Never NULL; unknown codes give "unknown error". */
const char *lg_strerror(int err);

/* The symbolic name of an error code ("LG_ERR_RESET"), for logs and tests. */
const char *lg_err_name(int err);

/* The status a server sends for a request that failed with this code
 * (400, 413, 414, 417, 431, 501, 505), or 0 when the code is not about a
 * malformed request. */
int lg_err_http_status(int err);

/* ======================================================================
 * 2. Codec — sans-IO HTTP/1.1 (RFC 9112)
 *
 * Hand the codec bytes; it returns what it found and never reads past the
 * length given. It keeps no globals and allocates nothing: names and values
 * are slices into your buffer, which must stay put while you use them.
 *
 * Line endings: CRLF only. A bare LF or bare CR anywhere in a head or a chunk
 * line is rejected with LG_ERR_LINE_ENDING (RFC 9112 2.2 allows either
 * rejecting or tolerating; tolerating is how smuggling gaps open between
 * proxies). Empty lines before a request line are skipped (RFC 9112 2.2).
 *
 * Versions: HTTP/1.0 and HTTP/1.1; a higher minor version of HTTP/1
 * ("HTTP/1.2") is processed as HTTP/1.1, the highest linger implements
 * (RFC 9110 2.5). Any other major version ("HTTP/2.0", "HTTP/0.9") is
 * LG_ERR_VERSION_UNSUPPORTED (505); "HTTP/" not followed by DIGIT "." DIGIT
 * is LG_ERR_VERSION (400).
 * ====================================================================== */

typedef struct lg_header {
    lg_str name;
    lg_str value;   /* leading and trailing spaces/tabs removed */
} lg_header;

typedef enum lg_method {
    LG_METHOD_OTHER = 0,  /* any other token: see lg_head.method */
    LG_METHOD_GET,
    LG_METHOD_HEAD,
    LG_METHOD_POST,
    LG_METHOD_PUT,
    LG_METHOD_DELETE,
    LG_METHOD_CONNECT,
    LG_METHOD_OPTIONS,
    LG_METHOD_TRACE,
    LG_METHOD_PATCH
} lg_method;

typedef enum lg_target_form {
    LG_TARGET_ORIGIN = 0, /* "/path?query" */
    LG_TARGET_ABSOLUTE,   /* "http://host/path" (to proxies; servers must accept);
                             lg_head.host is then the target's host[:port] */
    LG_TARGET_AUTHORITY,  /* "host:port" — CONNECT only */
    LG_TARGET_ASTERISK    /* "*" — OPTIONS only */
} lg_target_form;

/* How the body of a message is delimited (RFC 9112 6.3). */
typedef enum lg_framing {
    LG_FRAMING_NONE = 0,   /* no body: no length in a request; HEAD, 1xx, 204, 304 responses */
    LG_FRAMING_LENGTH,     /* exactly content_length bytes */
    LG_FRAMING_CHUNKED,    /* chunked transfer coding, then trailers */
    LG_FRAMING_CLOSE,      /* response body ends when the server closes */
    LG_FRAMING_TUNNEL      /* CONNECT 2xx or 101: the connection is no longer HTTP */
} lg_framing;

/* lg_head.flags */
#define LG_HEAD_KEEP_ALIVE      0x01u /* the connection may carry another message */
#define LG_HEAD_EXPECT_CONTINUE 0x02u /* "Expect: 100-continue" */
#define LG_HEAD_EXPECT_OTHER    0x04u /* an Expect value linger does not know (answer 417) */
#define LG_HEAD_UPGRADE         0x08u /* "Connection: upgrade" with an Upgrade header */
#define LG_HEAD_CONNECTION_CLOSE 0x10u /* "Connection: close" was sent explicitly */

/* A parsed request or response head. Before parsing, point `headers` at an
 * array of `max_headers` entries; the parser fills `num_headers` of them.
 *
 * host: with an origin-form, authority-form or asterisk-form target, the
 * value of the Host field. With an absolute-form target
 * ("GET http://example.com:8080/x HTTP/1.1") it is the target's authority
 * ("example.com:8080", a slice of `target`), and the Host field is ignored
 * (RFC 9112 3.2.2) though still required in HTTP/1.1 and still checked
 * (LG_ERR_HOST_MISSING, _DUPLICATE, _INVALID); lg_head_get(h, "Host") still
 * gives the field as sent. Such a target must be scheme "://" host
 * [":" port] ... with a non-empty host (RFC 9110 4.2.1) and no userinfo
 * ("http://user@host/", which RFC 9110 4.2.4 says to treat as an error);
 * otherwise it is LG_ERR_TARGET, as is one without "//" ("urn:x"). */
typedef struct lg_head {
    lg_header *headers;
    uint16_t max_headers;
    uint16_t num_headers;

    lg_str method;          /* requests */
    lg_str target;          /* requests, as sent (still percent-encoded) */
    lg_str host;            /* requests: host[:port] the request is for (see above);
                               ptr NULL when there is none */
    lg_str reason;          /* responses */
    uint64_t content_length;/* when framing == LG_FRAMING_LENGTH */
    uint16_t status;        /* responses */
    uint8_t version_minor;  /* 0 or 1 (HTTP/1.0 or HTTP/1.1); HTTP/1.2 to 1.9 are
                               read as 1.1 and say 1 (RFC 9110 2.5) */
    uint8_t method_id;      /* lg_method */
    uint8_t target_form;    /* lg_target_form */
    uint8_t framing;        /* lg_framing */
    uint8_t flags;          /* LG_HEAD_* */
} lg_head;

/* Default size limit of a head when a caller passes 0. */
#define LG_DEFAULT_MAX_HEAD 8192u

/*
 * Parse a request head from buf[0..len).
 *
 * Returns the number of bytes the head took (> 0) when it is complete and
 * valid, 0 when more bytes are needed, or a negative lg_err. `prev_len` is the
 * `len` of the previous call for the same head (0 the first time): the parser
 * then only scans the new bytes for the end of the head, so feeding a head one
 * byte at a time costs O(n), not O(n^2). `max_head` bounds the head (0 means
 * LG_DEFAULT_MAX_HEAD): a request line that does not fit is
 * LG_ERR_URI_TOO_LONG, a head that does not fit LG_ERR_HEADERS_TOO_LARGE.
 *
 *   lg_header hv[32];
 *   lg_head h = { .headers = hv, .max_headers = 32 };
 *   int n = lg_parse_request(&h, buf, len, 0, 0);
 */
int lg_parse_request(lg_head *head, const char *buf, size_t len,
                     size_t prev_len, size_t max_head);

/* Parse a response head. `request_method` is the lg_method of the request it
 * answers: a response to HEAD has no body whatever its headers say, and a 2xx
 * to CONNECT starts a tunnel. Returns as lg_parse_request. */
int lg_parse_response(lg_head *head, const char *buf, size_t len,
                      size_t prev_len, size_t max_head, int request_method);

/* Parse the trailer section that follows the last chunk (field lines, then an
 * empty line). Fills head->headers; other fields are left alone. Returns as
 * lg_parse_request. */
int lg_parse_trailers(lg_head *head, const char *buf, size_t len,
                      size_t prev_len, size_t max_trailers);

/* The value of the first header called `name` (case-insensitive), or a
 * slice with ptr == NULL. */
lg_str lg_head_get(const lg_head *head, const char *name);

/* True when `list` (a comma-separated header value) holds `token`,
 * case-insensitively: lg_list_has(v, "gzip") for Accept-Encoding. */
int lg_list_has(lg_str list, const char *token);

/* Incremental body decoder for the framing a head announced. */
typedef struct lg_body_reader {
    uint64_t remaining;   /* bytes left in the body or in the current chunk */
    lg_head *trailers;    /* optional: where a chunked body's trailers go */
    uint16_t line_len;    /* private: bytes of the current chunk line */
    uint16_t max_trailer_bytes; /* 0 means LG_DEFAULT_MAX_TRAILERS */
    uint8_t framing;      /* lg_framing */
    uint8_t state;        /* private */
} lg_body_reader;

/* Longest chunk line (size plus extensions) accepted. */
#define LG_MAX_CHUNK_LINE 1024u
/* Default bound of a trailer section. */
#define LG_DEFAULT_MAX_TRAILERS 4096u

/* Events of lg_body_read (all >= 0; errors are negative lg_err). */
enum {
    LG_BODY_NEED_MORE = 0, /* everything usable consumed; the body goes on */
    LG_BODY_DATA = 1,      /* *data holds body bytes (a slice of the input) */
    LG_BODY_DONE = 2       /* the body is complete; buf + *consumed starts the
                              next message */
};

/* Start decoding the body `head` announced. To keep a chunked body's
 * trailers, set r->trailers (with its headers array) after this call;
 * otherwise they are checked and skipped. */
void lg_body_reader_init(lg_body_reader *r, const lg_head *head);

/*
 * Decode body bytes. Consumes a prefix of buf[0..len), stores its length in
 * *consumed, and returns an event. Bytes not consumed must be presented
 * again, followed by new ones (a trailer section is only consumed whole, so
 * it must fit your buffer). Call it in a loop:
 *
 *   for (;;) {
 *       size_t used; lg_str d;
 *       int ev = lg_body_read(&r, p, n, &used, &d);
 *       if (ev < 0) fail(ev);
 *       p += used; n -= used;
 *       if (ev == LG_BODY_DATA) deliver(d);
 *       else if (ev == LG_BODY_NEED_MORE) break;     // keep p[0..n), read more
 *       else break;                                  // LG_BODY_DONE
 *   }
 */
int lg_body_read(lg_body_reader *r, const char *buf, size_t len,
                 size_t *consumed, lg_str *data);

/* The connection ended (EOF). Returns LG_OK when that is a proper end of the
 * body (it was complete, or it is close-delimited), else LG_ERR_CLOSED_EARLY. */
int lg_body_reader_eof(const lg_body_reader *r);

/* True once the body is complete (LG_BODY_DONE was returned, or there is no
 * body). A body waiting for its trailers is not complete. */
int lg_body_reader_done(const lg_body_reader *r);

/*
 * multipart/form-data (RFC 7578 on RFC 2046 5.1), decoded as it arrives:
 * each part's headers, then its content in pieces, with no allocation and
 * no copy. Fed the body's decoded bytes (after lg_body_read) with the same
 * contract as lg_body_read: bytes not consumed must be presented again,
 * followed by new ones. Two things are only consumed whole: a part's header
 * section (so it must fit your buffer: max_header_bytes), and content bytes
 * that could be the start of a boundary (at most the delimiter's length,
 * 74 bytes). Not in builds with LG_NO_MULTIPART.
 *
 *   lg_multipart mp;
 *   if (lg_multipart_init(&mp, lg_head_get(&head, "Content-Type"), 0, 0)) fail(400);
 *   // then, for each run of body bytes p[0..n):
 *   for (;;) {
 *       size_t used; lg_multipart_event ev;
 *       int e = lg_multipart_parse(&mp, p, n, &used, &ev);
 *       if (e < 0) fail(e);                  // 400 or 413: lg_err_http_status
 *       p += used; n -= used;
 *       if (e == LG_MP_PART) start_part(ev.name, ev.filename, ev.content_type);
 *       else if (e == LG_MP_DATA) deliver(ev.data);
 *       else if (e == LG_MP_PART_END) end_part();
 *       else break;    // LG_MP_NEED_MORE: keep p[0..n); LG_MP_DONE: the end
 *   }
 *   // when the body has ended: lg_multipart_finish(&mp) says if it was whole
 */
#define LG_MULTIPART_MAX_BOUNDARY 70u /* RFC 2046 5.1.1 */

typedef struct lg_multipart {
    /* private: "\r\n--" and the boundary, and where the parse is */
    char delim[4 + LG_MULTIPART_MAX_BOUNDARY];
    uint8_t delim_len;
    uint8_t state;
    int8_t error;
    uint16_t max_header_bytes;
    uint32_t parts, max_parts;
} lg_multipart;

/* Default limits (0 in lg_multipart_init's arguments). */
#define LG_MULTIPART_DEFAULT_PARTS 128u
#define LG_MULTIPART_DEFAULT_HEADER 1024u

/* Events of lg_multipart_parse (all >= 0; errors are negative lg_err). */
enum {
    LG_MP_NEED_MORE = 0, /* everything usable consumed */
    LG_MP_PART = 1,      /* a part begins: its headers are in the event */
    LG_MP_DATA = 2,      /* ev->data holds content of the current part */
    LG_MP_PART_END = 3,  /* the current part's content is complete */
    LG_MP_DONE = 4       /* the final boundary: everything after it is the
                            epilogue, consumed and ignored from now on */
};

typedef struct lg_multipart_event {
    lg_str data;         /* LG_MP_DATA: content bytes (a slice of the input) */
    /* LG_MP_PART, slices of the input (valid until those bytes are gone):
     * from Content-Disposition, the name and filename parameters as sent,
     * quotes removed but nothing decoded (browsers send a quote as %22);
     * filename.ptr is NULL when the part is not a file. */
    lg_str name, filename;
    lg_str content_type; /* the part's Content-Type (ptr NULL: none, text/plain) */
    lg_str headers;      /* the whole header section, for any other field */
} lg_multipart_event;

/* Read the boundary from a Content-Type value ("multipart/form-data;
 * boundary=..."); max_parts and max_header_bytes of 0 take the defaults.
 * LG_ERR_MULTIPART_BOUNDARY when it is not multipart or has no valid
 * boundary. */
int lg_multipart_init(lg_multipart *m, lg_str content_type, uint32_t max_parts,
                      uint16_t max_header_bytes);
int lg_multipart_parse(lg_multipart *m, const char *buf, size_t len, size_t *consumed,
                       lg_multipart_event *ev);
/* The body has ended: LG_OK if the final boundary came, else
 * LG_ERR_MULTIPART_TRUNCATED (never a silently short last file). */
int lg_multipart_finish(const lg_multipart *m);

/*
 * Serialising. An lg_writer appends to a fixed buffer; the first failure
 * (buffer too small, or CR/LF/NUL in a name or value, which would let a value
 * inject headers) is kept in `err` and makes every later call a no-op, so a
 * head is built with plain calls and checked once:
 *
 *   char buf[256]; lg_writer w;
 *   lg_writer_init(&w, buf, sizeof buf);
 *   lg_write_status_line(&w, 1, 200, NULL);
 *   lg_write_header(&w, "Content-Type", "text/plain");
 *   lg_write_header_uint(&w, "Content-Length", 13);
 *   lg_write_end_head(&w);
 *   if (w.err) return w.err;   // LG_ERR_BUFFER_TOO_SMALL, LG_ERR_HEADER_VALUE ...
 *   send_bytes(buf, w.len);
 */
typedef struct lg_writer {
    char *buf;
    size_t len;
    size_t cap;
    int err;
} lg_writer;

void lg_writer_init(lg_writer *w, char *buf, size_t cap);
void lg_write_bytes(lg_writer *w, const void *data, size_t len);
/* "METHOD target HTTP/1.1\r\n"; method must be a token, target visible ASCII. */
void lg_write_request_line(lg_writer *w, const char *method, lg_str target);
/* "HTTP/1.x status reason\r\n"; a NULL reason uses lg_status_reason(). */
void lg_write_status_line(lg_writer *w, int version_minor, int status,
                          const char *reason);
void lg_write_header(lg_writer *w, const char *name, const char *value);
void lg_write_header_str(lg_writer *w, lg_str name, lg_str value);
void lg_write_header_uint(lg_writer *w, const char *name, uint64_t value);
void lg_write_end_head(lg_writer *w);
/* A chunk's size line ("1a2b\r\n"); the data and then "\r\n" follow it.
 * Size 0 is refused (LG_ERR_INVALID_ARG): that is the last chunk's line. */
void lg_write_chunk_start(lg_writer *w, size_t size);
void lg_write_chunk_end(lg_writer *w);
/* The last chunk "0\r\n", the trailers, and the final "\r\n". */
void lg_write_last_chunk(lg_writer *w, const lg_header *trailers, size_t n);

/* "OK", "Not Found", ...; "Unknown" for codes it does not know. */
const char *lg_status_reason(int status);

/*
 * JSON (RFC 8259) into an lg_writer: no allocation, bounded by the writer's
 * buffer. Strings are escaped, and bytes that are not UTF-8 become U+FFFD
 * (a file name from an upload may be anything). Misuse — a value where an
 * object wants a key, an end that does not match, more than 32 levels, a
 * second top-level value — is kept in the writer's err as
 * LG_ERR_INVALID_ARG, like running out of room; check once at the end:
 *
 *   char out[256]; lg_writer w; lg_json j;
 *   lg_writer_init(&w, out, sizeof out);
 *   lg_json_init(&j, &w);
 *   lg_json_begin_object(&j);
 *   lg_json_key(&j, "name"); lg_json_string(&j, "sensor \"A\"");
 *   lg_json_key(&j, "values"); lg_json_begin_array(&j);
 *   lg_json_int(&j, -3); lg_json_uint(&j, 42); lg_json_null(&j);
 *   lg_json_end_array(&j);
 *   lg_json_end_object(&j);
 *   if (lg_json_finish(&j) == LG_OK) send_bytes(out, w.len);
 *
 * Not in builds with LG_NO_JSON.
 */
typedef struct lg_json {
    lg_writer *w;
    uint32_t objects, members; /* private: one bit per level */
    uint8_t depth, after_key, done;
} lg_json;

void lg_json_init(lg_json *j, lg_writer *w);
void lg_json_begin_object(lg_json *j);
void lg_json_end_object(lg_json *j);
void lg_json_begin_array(lg_json *j);
void lg_json_end_array(lg_json *j);
void lg_json_key(lg_json *j, const char *key);
void lg_json_key_str(lg_json *j, lg_str key);
void lg_json_string(lg_json *j, const char *s); /* NULL writes null */
void lg_json_str(lg_json *j, lg_str s);
void lg_json_int(lg_json *j, int64_t v);
void lg_json_uint(lg_json *j, uint64_t v);
void lg_json_bool(lg_json *j, int v);
void lg_json_null(lg_json *j);
/* LG_OK when one whole value was written and it fit; else the error. */
int lg_json_finish(const lg_json *j);

/*
 * SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104), incremental, no
 * allocation: to check an upload's checksum as it streams past, sign a
 * cookie, answer a Digest challenge.
 *
 *   lg_sha256_ctx h; uint8_t sum[LG_SHA256_BYTES]; char hex[2 * LG_SHA256_BYTES + 1];
 *   lg_sha256_init(&h);
 *   lg_sha256_update(&h, "ab", 2);   // as many pieces as come
 *   lg_sha256_update(&h, "c", 1);
 *   lg_sha256_final(&h, sum);
 *   lg_hex_encode(sum, sizeof sum, hex, sizeof hex);   // "ba7816bf8f01cfea..."
 *
 * A context is finished by _final; init it again to reuse it. An HMAC
 * context holds both pads hashed, so one set up from a long-lived key can
 * be copied per message instead of hashing the key again. Not in builds
 * with LG_NO_SHA256.
 */
#define LG_SHA256_BYTES 32
typedef struct lg_sha256_ctx {
    uint32_t h[8];
    uint64_t bytes;    /* private: message bytes so far */
    uint8_t block[64]; /* private: bytes % 64 of them */
} lg_sha256_ctx;
void lg_sha256_init(lg_sha256_ctx *c);
void lg_sha256_update(lg_sha256_ctx *c, const void *data, size_t len);
void lg_sha256_final(lg_sha256_ctx *c, uint8_t out[LG_SHA256_BYTES]);
void lg_sha256(const void *data, size_t len, uint8_t out[LG_SHA256_BYTES]);

typedef struct lg_hmac_sha256_ctx {
    lg_sha256_ctx inner, outer; /* private */
} lg_hmac_sha256_ctx;
void lg_hmac_sha256_init(lg_hmac_sha256_ctx *c, const void *key, size_t key_len);
void lg_hmac_sha256_update(lg_hmac_sha256_ctx *c, const void *data, size_t len);
void lg_hmac_sha256_final(lg_hmac_sha256_ctx *c, uint8_t out[LG_SHA256_BYTES]);
void lg_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                    uint8_t out[LG_SHA256_BYTES]);

/* ======================================================================
 * 3. Memory, logging, addresses
 * ====================================================================== */

/* All of linger's allocation goes through this hook. `free` gets the size
 * that was asked for, so a pool allocator needs no headers. */
typedef struct lg_allocator {
    void *(*alloc)(size_t size, void *user);
    void (*free)(void *ptr, size_t size, void *user);
    void *user;
} lg_allocator;

/* Replace the allocator (NULL restores malloc/free). Call it before creating
 * anything: memory must be freed by the allocator that gave it. */
void lg_set_allocator(const lg_allocator *a);

enum { LG_LOG_ERROR = 0, LG_LOG_WARN = 1, LG_LOG_INFO = 2, LG_LOG_DEBUG = 3 };
typedef void (*lg_log_fn)(int level, const char *message, void *user);

/* An IPv4 or IPv6 socket address (IPv4 only with LG_NO_IPV6). */
typedef struct lg_addr {
    uint8_t family;       /* 4 or 6 */
    uint16_t port;        /* host byte order */
#if !defined(LG_NO_IPV6)
    uint32_t scope_id;    /* IPv6 zone, 0 otherwise */
    uint8_t ip[16];       /* network byte order; IPv4 uses the first 4 */
#else
    uint8_t ip[4];        /* network byte order */
#endif
} lg_addr;

/* Parse a numeric address: "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:80".
 * Without a port, `default_port` is used. Host names are not looked up here:
 * see lg_resolve(). Returns LG_OK or LG_ERR_ADDR_INVALID. */
int lg_addr_parse(lg_addr *addr, const char *text, uint16_t default_port);

/* "127.0.0.1:8080" / "[::1]:8080" into buf (46+8 bytes always suffice).
 * Returns the length, or LG_ERR_BUFFER_TOO_SMALL. */
int lg_addr_format(const lg_addr *addr, char *buf, size_t cap);

/* ======================================================================
 * 4. Event loop
 *
 * One thread runs a loop; every callback runs on that thread. Handles (I/O
 * watchers, timers, deferred calls) are structs you own and embed; the loop
 * keeps pointers to them while they are active and allocates nothing for
 * them. Callbacks may start, stop and close any handle, including their own.
 * A callback gets its handle and no user pointer: the handle is embedded in
 * your struct, and LG_CONTAINER_OF finds that struct (a word less per
 * handle, which a microcontroller with many connections notices):
 *
 *     struct blinker { lg_timer t; int led; };
 *     static void tick(lg_timer *t) {
 *         struct blinker *b = LG_CONTAINER_OF(t, struct blinker, t);
 *         b->led = !b->led;
 *     }
 * ====================================================================== */

#define LG_CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

typedef struct lg_loop lg_loop;
typedef struct lg_io lg_io;
typedef struct lg_timer lg_timer;
typedef struct lg_defer lg_defer;

/* A readiness backend (see src/loop_epoll.c, src/loop_poll.c). */
typedef struct lg_backend lg_backend;
/* The socket and clock functions of a platform (see docs/porting.md). */
typedef struct lg_net lg_net;

extern const lg_backend lg_backend_epoll; /* Linux only */
extern const lg_backend lg_backend_poll;  /* anything with poll() */

typedef struct lg_loop_config {
    const lg_backend *backend; /* NULL: $LINGER_BACKEND ("epoll"/"poll"), else the best one */
    const lg_net *net;         /* NULL: the operating system's sockets */
    void *net_ctx;             /* passed to every lg_net function */
    lg_log_fn log;             /* NULL: linger prints nothing */
    void *log_user;
    int log_level;             /* messages up to this level are passed on (default WARN) */
} lg_loop_config;

/* Counters a loop keeps about how its connections ended (rule 3 in numbers). */
typedef struct lg_loop_stats {
    uint64_t closes_at_once;   /* closed without a linger: the peer had promised to send
                                  nothing more and nothing was unread (lg_stream_peer_done) */
    uint64_t lingering_closes; /* FIN sent, then the peer's input read until its EOF (or the
                                  bounds below): every close that might have met input */
    uint64_t graceful_closes;  /* closed after EOF from the peer: no RST possible */
    uint64_t linger_timeouts;  /* gave up waiting for the peer's EOF (time) */
    uint64_t linger_overflows; /* gave up draining (byte budget) */
    uint64_t send_timeouts;    /* closing: the peer took no queued byte for send_timeout_ms,
                                  so the rest was dropped (then drained and closed as usual) */
    uint64_t aborts;           /* closed with RST on purpose (lg_stream_abort) */
    uint64_t accept_errors;    /* accept() failures, e.g. out of descriptors */
} lg_loop_stats;

lg_loop *lg_loop_new(const lg_loop_config *config);
/* Frees the loop. Everything on it must already be closed. */
void lg_loop_free(lg_loop *loop);

/* Run until lg_loop_stop() or until nothing is left to wait for (no active
 * I/O watcher, timer or deferred call). Returns LG_OK or an lg_err. */
int lg_loop_run(lg_loop *loop);
/* One iteration: wait up to timeout_ms (-1: no limit, 0: just poll) and run
 * what is ready. Returns 1 if anything is still active, 0 if not, or < 0. */
int lg_loop_run_once(lg_loop *loop, int timeout_ms);
/* For a host that waits in the loop's stead (MicroPython's asyncio, an RTOS
 * task with its own wait): how long lg_loop_run_once(loop, -1) would wait
 * now for lack of I/O — 0 when deferred calls are queued (or a stop was
 * asked), the milliseconds until the next timer, -1 when only I/O can give
 * it work. Counted from the loop's time (lg_loop_update_time reads the
 * clock). Wait that long, or until a descriptor the backend watches is
 * ready, then call lg_loop_run_once(loop, 0). */
int lg_loop_timeout(const lg_loop *loop);
/* Make lg_loop_run return after the current iteration. */
void lg_loop_stop(lg_loop *loop);
/* Milliseconds on the monotonic clock, as of the start of this iteration. */
uint64_t lg_loop_now(const lg_loop *loop);
/* Re-read the clock (after a long computation in a callback). */
void lg_loop_update_time(lg_loop *loop);
const lg_loop_stats *lg_loop_get_stats(const lg_loop *loop);
/* For a program that must not allocate once it runs (static memory): make
 * room now for `timers` more running timers than run now and `ios` more
 * watched descriptors than are watched now, so that starting and watching
 * them later allocates nothing. The server does it for its connections. */
int lg_loop_reserve(lg_loop *loop, uint32_t timers, uint32_t ios);
/* Static memory: `count` buffers of `size` bytes at mem become the loop's
 * receive and send buffers (streams whose recv_buffer_bytes is `size`),
 * and none is ever allocated again (a stream finds none free: LG_ERR_NOMEM
 * for it). mem NULL ends that, once all are back. LG_ERR_LIMIT when a pool
 * is installed already. lg_server_config.memory does this for a server. */
int lg_loop_set_buffers(lg_loop *loop, void *mem, uint32_t size, uint32_t count);
/* Log through the loop's hook, printf-style. With LG_NO_LOG it is gone:
 * the arguments are not even evaluated. */
#if !defined(LG_NO_LOG)
void lg_log(lg_loop *loop, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
#else
#define lg_log(loop, level, ...) ((void)(loop), (void)(level))
#endif

/* --- readiness of a descriptor --- */
#define LG_READABLE 1u
#define LG_WRITABLE 2u

typedef void (*lg_io_cb)(lg_io *io, unsigned events);

struct lg_io {
    lg_loop *loop;
    lg_io_cb cb;
    int fd;
    uint8_t events;     /* what is being watched */
    uint8_t registered; /* private */
    uint32_t slot;      /* private: backend bookkeeping */
};

void lg_io_init(lg_loop *loop, lg_io *io, int fd, lg_io_cb cb);
/* Watch for LG_READABLE and/or LG_WRITABLE (0 stops watching). */
int lg_io_set(lg_io *io, unsigned events);
/* Stop watching for good; the descriptor is yours to close. */
void lg_io_close(lg_io *io);

/* --- timers: a binary heap, O(log n) to start or stop --- */
typedef void (*lg_timer_cb)(lg_timer *t);

/* Times are 32-bit milliseconds that wrap (after 49 days), compared as
 * differences, as lwIP and Zephyr do: a timer may be at most
 * LG_TIMER_MAX_MS (24.8 days) ahead; longer timeouts are cut to that. */
#define LG_TIMER_MAX_MS 0x7fffffffu

struct lg_timer {
    lg_loop *loop;
    lg_timer_cb cb;
    uint32_t heap_index; /* private; UINT32_MAX when stopped */
    uint32_t due_ms;     /* private: the loop's clock, wrapping */
};

void lg_timer_init(lg_loop *loop, lg_timer *t, lg_timer_cb cb);
/* Fire once, after timeout_ms. Restarting a running timer moves it. For a
 * periodic timer, start it again in its callback (from the loop's time
 * then: a loop that was stalled does not fire a burst of catch-up calls).
 * A timer keeps no period: every connection's stream has one timer, and
 * four bytes more in each is RAM a device with many connections feels. */
int lg_timer_start(lg_timer *t, uint32_t timeout_ms);
void lg_timer_stop(lg_timer *t);
int lg_timer_active(const lg_timer *t);

/* --- deferred calls: run once, after the current batch of events --- */
typedef void (*lg_defer_cb)(lg_defer *d);

struct lg_defer {
    lg_defer *next;     /* private: non-NULL while queued (zero it once) */
    lg_defer_cb cb;
};

/* Queue d to run on this loop's thread soon ("next tick"). Queuing a queued
 * d again only changes its callback. Not thread-safe: see lg_loop_post. */
void lg_defer_call(lg_loop *loop, lg_defer *d, lg_defer_cb cb);
void lg_defer_cancel(lg_loop *loop, lg_defer *d);

/* Thread-safe: queue d from any thread and wake the loop, which runs d->cb on
 * its own thread. d must stay valid until then. */
int lg_loop_post(lg_loop *loop, lg_defer *d, lg_defer_cb cb);

/* ======================================================================
 * 5. Streams: buffered, non-blocking TCP connections with exact endings
 *
 * Rule 2 lives here: a reset is an ending with a cause, never a lost
 * message; and rule 3: a stream with unread input is never simply closed.
 * lg_stream_close() flushes, shuts down the sending side, reads and discards
 * input until the peer's EOF (bounded by time and bytes), and only then
 * closes, so the peer's TCP stack never sees unread data destroyed (which is
 * what makes it send RST). The only other way out is lg_stream_abort().
 * ====================================================================== */

typedef struct lg_stream lg_stream;
typedef struct lg_write_req lg_write_req;
typedef struct lg_read_req lg_read_req;

/* How a stream's input ended. */
typedef enum lg_ending {
    LG_END_NONE = 0, /* still open */
    LG_END_EOF,      /* the peer sent FIN */
    LG_END_RESET,    /* the peer sent RST (ECONNRESET), or EPIPE on read */
    LG_END_ERROR     /* another error; lg_stream_error() says which */
} lg_ending;

typedef struct lg_stream_config {
    uint32_t recv_buffer_bytes;  /* receive buffer (default 4096) */
    uint32_t max_queued_bytes;   /* send queue bound for copied writes (default 1 MiB) */
    uint32_t linger_timeout_ms;  /* graceful close: wait this long for EOF (default 5000) */
    uint32_t linger_max_bytes;   /* graceful close: discard at most this much (default 16 MiB) */
    uint32_t send_timeout_ms;    /* while bytes wait to be sent, the longest the peer may
                                    take none of them (default 30000): then writes fail
                                    with LG_ERR_TIMEOUT (on_write_error), and a closing
                                    stream drops the rest. Nothing queued, nothing timed:
                                    a quiet stream never times out by this. The linger
                                    time starts once all has gone, so a slow reader that
                                    keeps reading keeps its whole last answer */
    uint8_t keep_idle_buffer;    /* 0: free the receive buffer whenever it is empty */
} lg_stream_config;

typedef struct lg_stream_callbacks {
    /* New bytes are buffered, or the input ended (lg_stream_ending()). Look
     * at lg_stream_peek() and lg_stream_consume() what you used; what you do
     * not consume stays buffered and is shown again with the next bytes. */
    void (*on_data)(lg_stream *s);
    /* The send queue has become empty. */
    void (*on_drain)(lg_stream *s);
    /* Sending failed (peer reset or stopped reading: LG_ERR_TIMEOUT).
     * Queued data is dropped; reading goes on: the peer's last words may
     * still be there. */
    void (*on_write_error)(lg_stream *s, int err);
    /* The descriptor is closed; the stream's memory may be reused now. */
    void (*on_close)(lg_stream *s);
    /* Optional: the time set with lg_stream_set_timeout has come. */
    void (*on_timeout)(lg_stream *s);
    /* Optional, for a stream handed over by a server (lg_res_upgrade): the
     * server is shutting down; end your protocol (a WebSocket says 1001)
     * and lg_stream_close. Without it the server closes the stream itself
     * (gracefully) at its shutdown deadline. */
    void (*on_shutdown)(lg_stream *s);
} lg_stream_callbacks;

/*
 * Transports: what carries a stream's bytes over its socket. Plain TCP is
 * the default (no transport: the loop's platform functions on the socket);
 * TLS is a transport, and so is anything that must see every byte (a test's
 * byte-at-a-time delivery). The stream, and everything above it — the
 * server, the client, the graceful close — work the same over any of them,
 * as lwIP's altcp and Redis's ConnectionType do.
 *
 * A transport's state starts with lg_transport (its ops), allocated by
 * whoever attaches it (lg_stream_set_transport, or the factory a server or
 * client is configured with) and released by ops->close. It reaches the
 * socket with lg_stream_socket_recv/send/shutdown.
 */
typedef struct lg_transport lg_transport;
typedef struct lg_transport_ops {
    const char *name;
    /* As the platform's: > 0 bytes, 0 at the end of input, LG_ERR_AGAIN
     * (would block), or a negative lg_err. send may take fewer bytes. */
    long (*recv)(lg_stream *s, void *buf, size_t len);
    long (*send)(lg_stream *s, const lg_str *parts, size_t n);
    /* End the sending side (TLS: close_notify, then FIN). LG_OK, LG_ERR_AGAIN
     * (asked again when the socket is writable), or an error. */
    int (*shutdown)(lg_stream *s);
    /* Optional: bytes already received and decoded, which recv returns
     * although the socket is not readable (TLS records read ahead). */
    size_t (*pending)(const lg_stream *s);
    /* Optional: the readiness to wait for, given what the stream wants
     * (LG_READABLE/LG_WRITABLE): a handshake may need to write before it can
     * read. */
    unsigned (*want)(const lg_stream *s, unsigned events);
    /* Release the state, just before the socket closes (abort: with RST). */
    void (*close)(lg_stream *s, int abort);
    /* Optional: nonzero while its handshake runs (nothing of the stream's
     * bytes has gone yet): a client whose deadline comes then fails with
     * LG_ERR_TLS_TIMEOUT rather than LG_ERR_TIMEOUT. */
    int (*handshaking)(const lg_stream *s);
} lg_transport_ops;

struct lg_transport {
    const lg_transport_ops *ops;
};

/* Makes a transport for a stream a server accepted (scheme NULL); NULL to
 * refuse the connection. */
typedef lg_transport *(*lg_transport_fn)(lg_stream *s, const char *scheme, void *user);

/* Makes the transport of a client's new connection to scheme://host:port
 * (host as in the URL, percent-decoded: what TLS checks the certificate
 * against and sends as SNI). Returns LG_OK with *out set, or NULL for
 * plain TCP; or an lg_err, which the request fails with (LG_ERR_UNSUPPORTED
 * for a scheme the factory does not speak). */
typedef int (*lg_client_transport_fn)(lg_stream *s, const char *scheme, const char *host,
                                      uint16_t port, lg_transport **out, void *user);

struct lg_write_req {
    lg_write_req *next;
    void (*cb)(lg_write_req *req, int status); /* status: LG_OK or the error */
    void *data;            /* yours */
    const char *ptr;       /* private */
    uint64_t offset;       /* private: file offset */
    uint64_t len;          /* private: bytes left */
    int file;              /* private: -1 for memory */
    uint8_t kind;          /* private */
};

typedef void (*lg_read_cb)(lg_read_req *req, int status, size_t len);

struct lg_read_req {
    lg_read_cb cb;
    void *data;            /* yours */
    char *dst;             /* private */
    size_t cap, len;       /* private */
    uint8_t mode;          /* private */
};

/* The fields are private but `data` (yours) and `transport` (a
 * transport's functions find their state there). Their order leaves no
 * padding on 32-bit CPUs: 104 bytes there, a server's connection 128 (both
 * checked by the compiler). */
struct lg_stream {
    lg_io io;
    const lg_stream_callbacks *cbs;
    uint64_t queued;             /* bytes waiting to be sent */
    const lg_stream_config *config;
    void *data;                  /* yours */
    lg_transport *transport;     /* NULL: plain TCP */
    char *rbuf;                  /* the buffer holds config->recv_buffer_bytes */
    uint32_t rstart, rend;
    lg_write_req *wq_head, *wq_tail; /* zero-copy and file writes, and copy blocks */
    lg_read_req *read_req;
    uint32_t discarded;          /* closing: bytes read and dropped (and see stream.c) */
    uint32_t deadline;           /* lg_stream_set_timeout, the loop's clock; 0: none */
    lg_timer timer;              /* the deadline, the send timeout, the close */
    lg_defer deferred;
    int8_t error;                /* first error seen */
    unsigned state : 4, ending : 4;
    uint8_t flags, cork;
};

/* Take over a connected, non-blocking descriptor. config may be NULL
 * (defaults); it must outlive the stream, and may be shared. */
int lg_stream_open(lg_loop *loop, lg_stream *s, int fd, const lg_stream_config *config,
                   const lg_stream_callbacks *cbs, void *data);

/* Attach a transport (before any byte is read or written: right after
 * lg_stream_open). It is released when the stream closes. */
int lg_stream_set_transport(lg_stream *s, lg_transport *t);
/* Nonzero while the stream's transport runs its handshake (TLS), 0 with
 * none or once it is done. */
int lg_stream_handshaking(const lg_stream *s);
/* Hand the stream to another owner: its callbacks and data from now on. */
void lg_stream_set_callbacks(lg_stream *s, const lg_stream_callbacks *cbs, void *data);
/* The loop the stream runs on. */
lg_loop *lg_stream_loop(const lg_stream *s);
/* 1 until lg_stream_close or lg_stream_abort (or a failed open). */
int lg_stream_is_open(const lg_stream *s);
/* The peer's address (the platform is asked; LG_ERR_UNSUPPORTED when it
 * cannot tell). */
int lg_stream_peer(const lg_stream *s, lg_addr *peer);

/* Call on_timeout once ms from now (0: never). Setting it again replaces
 * it; setting it on every byte costs nothing (the stream's one timer is
 * moved only when the time comes earlier). */
void lg_stream_set_timeout(lg_stream *s, uint32_t ms);

/* Start or stop reading from the socket (stopping is back-pressure: bytes
 * wait in the kernel). Streams start reading when opened. */
int lg_stream_read_start(lg_stream *s);
int lg_stream_read_stop(lg_stream *s);
/* Hand what is buffered to on_data again, on the next tick: after the
 * owner set bytes aside and is ready for them (pipelined requests after an
 * answer). */
void lg_stream_redeliver(lg_stream *s);

/* The bytes buffered and not yet consumed; lg_stream_consume(n) drops the
 * first n of them. */
lg_str lg_stream_peek(const lg_stream *s);
void lg_stream_consume(lg_stream *s, size_t n);
/* The same bytes as lg_stream_peek, writable (*len of them; NULL when
 * nothing is buffered): an owner may change them in place before it
 * consumes them (a WebSocket unmasks payload there). Valid until the next
 * stream call, as peek's slice is. */
char *lg_stream_peek_writable(lg_stream *s, size_t *len);
/* Drop n buffered bytes starting `offset` bytes in, keeping those before
 * them where they are: a server keeps a request's head at the front of the
 * buffer while it takes the body from behind it. */
void lg_stream_cut(lg_stream *s, size_t offset, size_t n);
/* Move what is buffered to the start of the buffer, so that later reads
 * never move it: slices into it stay valid until consumed. */
void lg_stream_compact(lg_stream *s);

/* How the input ended, and the first error the stream met (0 if none). */
lg_ending lg_stream_ending(const lg_stream *s);
int lg_stream_error(const lg_stream *s);

/* --- the read forms (asyncio's StreamReader in C) ---
 * One read request at a time; the callback gets LG_OK and the length when
 * the read completed as asked, or an error and the bytes that did come:
 *   read_some:      1..cap bytes; LG_OK with 0 bytes means EOF.
 *   read_exact:     exactly n bytes, or LG_ERR_CLOSED_EARLY/LG_ERR_RESET
 *                   with what came before the end.
 *   read_line:      up to and including "\n"; LG_ERR_TOO_LARGE when no
 *                   newline within cap; LG_ERR_CLOSED_EARLY at EOF first.
 *   read_until_eof: everything until the peer's FIN (LG_OK), or until a reset
 *                   after data (LG_ERR_RESET, with the data: rule 2),
 *                   LG_ERR_TOO_LARGE beyond cap.
 * A read started while the stream closes ends with LG_ERR_CANCELLED. */
int lg_stream_read_some(lg_stream *s, lg_read_req *req, void *dst, size_t cap, lg_read_cb cb);
int lg_stream_read_exact(lg_stream *s, lg_read_req *req, void *dst, size_t n, lg_read_cb cb);
int lg_stream_read_line(lg_stream *s, lg_read_req *req, void *dst, size_t cap, lg_read_cb cb);
int lg_stream_read_until_eof(lg_stream *s, lg_read_req *req, void *dst, size_t cap,
                             lg_read_cb cb);

/* --- writing ---
 * lg_stream_write copies what the kernel does not take at once; it fails
 * with LG_ERR_LIMIT when the queue would exceed max_queued_bytes (wait for
 * on_drain). lg_stream_write_ref and lg_stream_sendfile queue your memory or
 * file without copying; req->cb says when it is done with them. Writes go
 * out in the order they were made. After a write error every write fails
 * with that error. */
int lg_stream_write(lg_stream *s, const void *data, size_t len);
int lg_stream_writev(lg_stream *s, const lg_str *parts, size_t n);
int lg_stream_write_ref(lg_stream *s, lg_write_req *req, const void *data, size_t len,
                        void (*cb)(lg_write_req *, int));
/* A file: by the platform's sendfile where it has one and the stream is
 * plain TCP; otherwise (lwIP, a transport such as TLS) the stream reads
 * it a piece at a time (pread) as the peer takes it, so no more than a
 * piece is in memory. A file shorter than len fails the stream
 * (LG_ERR_IO): the peer gets fewer bytes than it was promised, never
 * others. LG_ERR_UNSUPPORTED with LG_NO_FILES. */
int lg_stream_sendfile(lg_stream *s, lg_write_req *req, int file, uint64_t offset, uint64_t len,
                       void (*cb)(lg_write_req *, int));
/* Bytes waiting to be sent. While a graceful close lingers: the bytes the
 * platform still held for the peer at the last look (where it can tell). */
uint64_t lg_stream_queued(const lg_stream *s);
/* Bytes the stream copies go into buffers of recv_buffer_bytes taken
 * from the loop (with static memory, from the loop's fixed set):
 * lg_stream_block_bytes is what one of them holds, lg_stream_copy_room the
 * room left in the last one queued (0 when the queue does not end in
 * one). A write of at most that room takes no new buffer: a writer that
 * must keep its queue within one buffer asks before it writes. */
size_t lg_stream_block_bytes(const lg_stream *s);
size_t lg_stream_copy_room(const lg_stream *s);
/* While corked, writes are queued but not sent; uncorking sends them in as
 * few system calls as possible (responses to pipelined requests). */
void lg_stream_cork(lg_stream *s);
void lg_stream_uncork(lg_stream *s);

/* Give up sending: what is queued is dropped (write requests complete with
 * err), and every later write fails with err; reading goes on, and a
 * graceful close no longer waits for the peer to take anything. For a peer
 * that stopped reading (a send timeout): its connection still closes
 * gracefully, without waiting for bytes it will never take. */
void lg_stream_fail_writes(lg_stream *s, int err);

/* For transports: the socket under the stream, as the platform has it
 * (returns as lg_transport_ops recv/send/shutdown). */
long lg_stream_socket_recv(lg_stream *s, void *buf, size_t len);
long lg_stream_socket_send(lg_stream *s, const lg_str *parts, size_t n);
int lg_stream_socket_shutdown(lg_stream *s);

/* Half-close: once the queue is flushed, send FIN. Reading goes on. */
int lg_stream_shutdown(lg_stream *s);

/* Graceful close (see above). on_close follows, always, exactly once. */
void lg_stream_close(lg_stream *s);
/* The peer, by its protocol, will send nothing more (an HTTP request that
 * said "Connection: close", read to its end). lg_stream_close then closes
 * at once, without the linger, if nothing is unread — the buffer empty and
 * one read finding the socket empty — and the platform holds at most 16 KiB
 * of what was sent (lg_net.unacked; a big answer to a slow reader still
 * lingers, and so does every close where the platform cannot tell). Counted
 * in closes_at_once. If the peer sent more after all, the close lingers as
 * usual. Plain TCP only: a stream with a transport (TLS, whose peer
 * answers close_notify) always lingers. */
void lg_stream_peer_done(lg_stream *s);
/* Close now with RST, dropping everything. Counted in lg_loop_stats.aborts
 * and logged: it is the one way to make a peer see a reset. */
void lg_stream_abort(lg_stream *s);
/* Close now, for an owner that goes away at once (lg_server_free with the
 * connection still open): no loop will run for a linger, so rule 3 goes as
 * far as it can without one — what has arrived is read and dropped, the
 * transport ends (TLS: close_notify, one try), then FIN and the close
 * (lg_close_unserved). What is queued is dropped; on_close is called
 * before this returns, not on a later tick, so the stream's memory may be
 * reused at once (also for a stream already closing, whose on_close was
 * still to come). Logged (LG_LOG_WARN). */
void lg_stream_close_now(lg_stream *s);

/* ======================================================================
 * 6. TCP: listening, connecting, resolving
 * ====================================================================== */

typedef struct lg_listener lg_listener;
typedef void (*lg_accept_cb)(lg_listener *l, int fd, const lg_addr *peer);

#define LG_LISTEN_REUSEPORT 1u /* SO_REUSEPORT: one listener per loop/core */

struct lg_listener {
    lg_io io;
    lg_timer pause;      /* private: accept paused when out of descriptors */
    lg_accept_cb cb;
    void *data;          /* yours */
    lg_addr addr;        /* the bound address (port filled in when 0 was asked) */
    void (*on_waiting)(lg_listener *l); /* private: see lg_listener_hold */
    uint8_t held;        /* private */
};

/* Listen on a numeric address ("0.0.0.0:8080", "[::1]:0"). Accepted sockets
 * arrive non-blocking, with TCP_NODELAY, in cb, which owns them. */
int lg_listen(lg_loop *loop, lg_listener *l, const char *addr, unsigned flags, int backlog,
              lg_accept_cb cb, void *data);
void lg_listener_close(lg_listener *l);
/* Close an accepted socket you will not serve (no memory for it, a limit):
 * what the client already sent is read and dropped and FIN goes out first,
 * so a client that spoke at once sees EOF rather than a reset. Bytes that
 * arrive later meet a closed socket: without a stream, nothing waits for
 * the client's EOF. Prefer lg_stream_open + lg_stream_close when you can. */
void lg_close_unserved(lg_loop *loop, int fd);
/* While held, the listener accepts nothing, but when a connection is
 * waiting in the backlog it calls on_waiting once (then waits to be released
 * before it looks again). A server at its connection limit uses this to make
 * room — close an idle keep-alive connection — only when somebody waits. */
void lg_listener_hold(lg_listener *l, int hold, void (*on_waiting)(lg_listener *l));

typedef struct lg_connect_req lg_connect_req;
typedef void (*lg_connect_cb)(lg_connect_req *req, int status, int fd);

struct lg_connect_req {
    lg_io io;
    lg_timer timer;
    lg_connect_cb cb;
    void *data;          /* yours */
};

/* Connect to a numeric address without blocking; cb gets the connected
 * descriptor, or LG_ERR_REFUSED / LG_ERR_UNREACHABLE / LG_ERR_TIMEOUT ... */
int lg_connect(lg_loop *loop, lg_connect_req *req, const lg_addr *addr, uint32_t timeout_ms,
               lg_connect_cb cb);
void lg_connect_cancel(lg_connect_req *req);

typedef struct lg_resolve_req lg_resolve_req;
typedef void (*lg_resolve_cb)(lg_resolve_req *req, int status, const lg_addr *addrs, size_t n);

struct lg_resolve_req {
    lg_defer done;       /* private */
    lg_timer timer;      /* private */
    lg_resolve_cb cb;
    void *data;          /* yours */
    void *job;           /* private */
};

/* Resolve a host name without blocking the loop (getaddrinfo on a helper
 * thread; numeric addresses answer at once, on the next tick). */
int lg_resolve(lg_loop *loop, lg_resolve_req *req, const char *host, uint16_t port,
               uint32_t timeout_ms, lg_resolve_cb cb);
void lg_resolve_cancel(lg_resolve_req *req);

/* ======================================================================
 * 7. URLs, query strings, percent-encoding, base64  (src/url.c)
 *
 * Portable (string.h only) and allocation-free, like the codec: parsed
 * parts are slices into your string; decoders and encoders write into a
 * buffer you give and return the length written, or a negative lg_err.
 * The server uses the same functions for request targets and forms.
 * ====================================================================== */

/* lg_url.flags */
#define LG_URL_HAS_PORT  0x01u /* the URL names a port ("host:8080") */
#define LG_URL_IPV6      0x02u /* host is an IPv6 literal (brackets removed) */
#define LG_URL_IPV4      0x04u /* host is a dotted IPv4 address */
#define LG_URL_AUTHORITY 0x08u /* "//" and an authority were present */

/* A URL split into its parts (RFC 3986 3). Absent parts have ptr == NULL;
 * "?" with nothing after it gives a query with ptr set and len 0. */
typedef struct lg_url {
    lg_str scheme;   /* "http" as written (compare without case); NULL for "/path" */
    lg_str userinfo; /* "user:pass", still percent-encoded */
    lg_str host;     /* "example.com", "10.0.0.1", "::1" (no brackets) */
    lg_str path;     /* "/a/b%20c" (still encoded); empty when the URL has none */
    lg_str query;    /* after "?", without it */
    lg_str fragment; /* after "#", without it */
    uint16_t port;   /* the port named, else the scheme's (http 80, https 443), else 0 */
    uint8_t flags;   /* LG_URL_* */
} lg_url;

/*
 * Parse an absolute URL ("http://user:pw@host:8080/p?q#f") or an
 * origin-form request target ("/p?q"). Returns LG_OK or LG_ERR_URL: control
 * characters, spaces and bytes >= 0x80 anywhere, "%" not followed by two hex
 * digits, a bad port (> 65535, not digits), a bad host (characters outside
 * RFC 3986 reg-name, an unterminated or malformed "[...]"), or a scheme
 * without a host where "//" is given.
 *
 *   lg_url u;
 *   if (lg_url_parse(&u, s, strlen(s)) == LG_OK && u.query.ptr)
 *       printf("query %.*s\n", (int)u.query.len, u.query.ptr);
 */
int lg_url_parse(lg_url *u, const char *s, size_t len);

/* The origin-form request target for u: the path (or "/") and "?query",
 * without the fragment, which is never sent (RFC 9112 3.2.1), into out
 * (NUL-terminated). Returns its length or LG_ERR_BUFFER_TOO_SMALL. */
int lg_url_target(const lg_url *u, char *out, size_t cap);

/* Resolve a reference (a redirect's Location: "/x", "../y", "//h/p",
 * "http://h/p", "?q") against an absolute base URL (RFC 3986 5.2, with
 * dot segments removed). Writes the absolute URL, without fragment, into
 * out (NUL-terminated). Returns its length, LG_ERR_URL, or
 * LG_ERR_BUFFER_TOO_SMALL. */
int lg_url_resolve(const lg_url *base, lg_str ref, char *out, size_t cap);

/* Flags of the percent-encoding functions. */
#define LG_URL_FORM  0x01u /* application/x-www-form-urlencoded: "+" is a space */
#define LG_URL_PATH  0x02u /* encode: keep "/" and the other pchar characters
                              (RFC 3986 3.3) unencoded;
                              decode: refuse "%00" and "%2F", which would let a
                              path name a NUL or a hidden separator */

/* Percent-decode s[0..len) in place. Returns the new length (never longer),
 * or LG_ERR_URL for a "%" without two hex digits after it. */
int lg_url_decode(char *s, size_t len, unsigned flags);

/* Percent-decode `in` into out (cap >= in.len always suffices). */
int lg_url_decode_to(lg_str in, char *out, size_t cap, unsigned flags);

/* Percent-encode `in` into out: unreserved characters (ALPHA DIGIT - . _ ~)
 * stay, every other byte becomes %XX (upper-case hex); LG_URL_PATH keeps
 * pchar and "/", LG_URL_FORM writes a space as "+". With out == NULL,
 * returns the length needed. Returns the length or LG_ERR_BUFFER_TOO_SMALL. */
int lg_url_encode(lg_str in, char *out, size_t cap, unsigned flags);

/* Walk "a=1&b=two&flag" pairs (a query or a form body). */
typedef struct lg_query_iter {
    const char *p, *end;
} lg_query_iter;

void lg_query_init(lg_query_iter *it, lg_str query);
/* The next pair as raw (still encoded) slices; value.ptr is NULL when the
 * pair has no "=". Empty pairs ("a&&b") are skipped. Returns 1, or 0 at the
 * end. */
int lg_query_next(lg_query_iter *it, lg_str *key, lg_str *value);
/* The same, decoded (form rules: "+" is a space) into buf: key and value
 * are slices of buf. Returns 1, 0 at the end, LG_ERR_URL for a bad escape,
 * LG_ERR_BUFFER_TOO_SMALL when the pair does not fit (it is skipped). */
int lg_query_next_decoded(lg_query_iter *it, char *buf, size_t cap, lg_str *key, lg_str *value);
/* The value of the first pair whose decoded key is `key`, decoded into out
 * (NUL-terminated). Returns its length, LG_ERR_NOT_FOUND,
 * LG_ERR_BUFFER_TOO_SMALL or LG_ERR_URL. "?flag" gives length 0. */
int lg_query_get(lg_str query, const char *key, char *out, size_t cap);

/* Base64 (RFC 4648 4, with padding), for Basic authentication (RFC 7617).
 * encode: out gets 4 * ceil(len / 3) characters and a NUL; with out == NULL
 * returns that length. decode: refuses characters outside the alphabet and
 * bad padding (LG_ERR_INVALID_ARG). Both return the length written or
 * LG_ERR_BUFFER_TOO_SMALL. */
int lg_base64_encode(const void *in, size_t len, char *out, size_t cap);
int lg_base64_decode(const char *in, size_t len, void *out, size_t cap);
/* Lower-case hexadecimal, two characters a byte and a NUL (a checksum
 * for a person or a JSON answer). Returns the length written (2 * len),
 * LG_ERR_BUFFER_TOO_SMALL when out cannot hold it and the NUL. */
int lg_hex_encode(const void *in, size_t len, char *out, size_t cap);

#if !defined(LG_NO_SERVER)
/* ======================================================================
 * 8. Server
 *
 *   lg_server *srv = lg_server_new(loop, &(lg_server_config){ .max_conns = 8 });
 *   lg_route(srv, "GET", "/items/:id", on_item, NULL);
 *   lg_server_listen(srv, "0.0.0.0:8080", 0);
 *   lg_loop_run(loop);
 *
 *   void on_item(lg_req *req, lg_res *res, void *user) {
 *       (void)user;
 *       lg_str id = lg_req_param(req, "id");
 *       lg_res_header(res, "Content-Type", "text/plain");
 *       lg_res_send(res, 200, id.ptr, id.len);
 *   }
 *
 * A handler answers with one of lg_res_send*, lg_res_redirect, or starts a
 * streamed answer (lg_res_start / lg_res_stream) — during the call or later,
 * from any callback on the loop's thread. Until it answers, `req` and `res`
 * stay valid and the connection waits. Every request gets exactly one answer.
 *
 * Rule 3 is the server's: after an answer, an unread request body is read
 * and thrown away when it is within discard_body_bytes, so the connection
 * lives on; beyond that the answer says "Connection: close" and the stream's
 * graceful close drains it. A handler that answers before the body has
 * arrived is normal, not an error.
 * ====================================================================== */

typedef struct lg_server lg_server;
typedef struct lg_req lg_req;
typedef struct lg_res lg_res;

typedef void (*lg_handler)(lg_req *req, lg_res *res, void *user);
/* A hook returns 0 to go on, or 1 when it answered the request itself. */
typedef int (*lg_hook)(lg_req *req, lg_res *res, void *user);
/* One line per request, after the answer went out (or failed). */
typedef void (*lg_access_log_fn)(lg_req *req, int status, uint64_t body_bytes,
                                 uint32_t duration_ms, void *user);

/* When max_conns is reached: */
enum {
    LG_FULL_WAIT = 0,   /* newcomers wait in the kernel's backlog; when one waits, the
                           connection idle longest (keep-alive, no request) is closed
                           gracefully to let it in */
    LG_FULL_REJECT = 1  /* accept, answer 503 with Retry-After, close gracefully */
};

typedef struct lg_server_config {
    uint32_t max_conns;          /* default 256 */
    uint8_t full_policy;         /* LG_FULL_WAIT (default) or LG_FULL_REJECT */
    uint32_t recv_buffer_bytes;  /* per connection while busy; a head must fit (default
                                    LG_SERVER_DEFAULT_RECV_BUFFER: 16384 on Linux and other
                                    hosted systems, 4096 on devices; linger_opts.h) */
    uint16_t max_headers;        /* header lines per request (default
                                    LG_SERVER_DEFAULT_MAX_HEADERS: 100 hosted, 32 devices) */
    uint32_t max_body_bytes;     /* largest body buffered for a handler (default 1 MiB) */
    uint32_t discard_body_bytes; /* unread body thrown away to keep a connection (default 64 KiB) */
    uint32_t header_timeout_ms;  /* a started head must be complete within (default 10 s) */
    uint32_t body_timeout_ms;    /* longest pause while a body arrives (default 30 s) */
    uint32_t idle_timeout_ms;    /* keep-alive connection without a request (default 30 s) */
    uint32_t send_timeout_ms;    /* longest pause while the client takes an answer (default 30 s);
                                    a closing connection gets as long for its last answer */
    uint32_t max_unsent_bytes;   /* back-pressure: while more answer bytes than this wait for
                                    the client to take them, no further request is read on
                                    its connection (pipelining); default 4 receive buffers */
    uint16_t max_requests_per_conn; /* requests on one connection; the last answer says
                                    "Connection: close" (default 1000, as nginx's
                                    keepalive_requests; UINT16_MAX: no limit) */
    uint32_t linger_timeout_ms;  /* graceful close: wait for the client's EOF (default 5 s) */
    uint32_t linger_max_bytes;   /* graceful close: discard at most (default 16 MiB) */
    uint16_t scratch_bytes;      /* per request, for decoded query/form/cookie values (default
                                    1024; taken from a pool when first needed) */
    uint16_t response_header_bytes; /* per request, for headers a handler adds (default 1024;
                                    taken from a pool at the first, back once the head is out) */
    const char *server_name;     /* "Server" header: NULL means "linger", "" means none; a
                                    name that cannot be sent (CR, LF, over 120 bytes) makes
                                    lg_server_new fail */
    uint8_t no_date;             /* 1: no Date header (a device without a clock) */
    uint8_t move_held_heads;     /* 1: a request the handler returns from without answering
                                    (its body all read) gives its receive buffer back: the
                                    head moves to a block of its size (4 KiB less per
                                    waiting request). Slices the handler took before it
                                    returned are then stale: ask req again. 0 (default):
                                    every slice stays valid until the answer. Dynamic
                                    memory only; the MicroPython binding sets it. */
    lg_access_log_fn access_log; /* NULL: none */
    void *access_log_user;
    lg_transport_fn transport;   /* NULL: plain TCP; else called for each accepted
                                    connection (scheme NULL) to make its transport (TLS) */
    void *transport_user;

    /* Static memory (a device that must not allocate once it runs): the
     * server takes its connections, requests and buffers from this block,
     * lg_server_memory_size() bytes (NULL: from the allocator, as needed).
     * Once lg_server_listen has returned, the server calls the allocator no
     * more. Then max_conns connections share max_requests request slots (a
     * connection whose request finds none waits for one, its bytes in its
     * buffer and the kernel) and `buffers` buffers of recv_buffer_bytes:
     * one for each connection that has bytes to read, the rest for answers
     * the network did not take at once (a streamed answer's queue stays
     * within one buffer: lg_res_write says LG_ERR_LIMIT when a piece does
     * not fit what is left of it, and LG_ERR_TOO_LARGE for a piece, with
     * its chunk framing, longer than a buffer holds — recv_buffer_bytes
     * less a header of some 40 bytes). A body must fit the
     * receive buffer (413 otherwise) unless its route streams it
     * (LG_ROUTE_STREAM_BODY), and the server waits when full (LG_FULL_WAIT).
     * One server per loop may have it. */
    void *memory;
    size_t memory_bytes;
    uint16_t max_requests;       /* with memory: default max_conns */
    uint16_t buffers;            /* with memory: default max_conns + max_requests */
} lg_server_config;

typedef struct lg_server_stats {
    uint64_t requests;           /* answered */
    uint64_t connections;        /* accepted in all */
    uint32_t active_connections;
    uint64_t bad_requests;       /* refused at parse time (4xx/5xx from the codec) */
    uint64_t rejected_full;      /* LG_FULL_REJECT answers */
    uint64_t idle_recycled;      /* idle keep-alive connections closed to let a newcomer in */
    uint64_t timeouts;           /* closed by header/body/idle/send timeouts */
    uint64_t bodies_discarded;   /* rule 3: bodies read and thrown away to keep alive */
    uint64_t closes_for_body;    /* rule 3: too much body left: closed gracefully instead */
    uint64_t upgraded;           /* connections handed over after 101 (lg_res_upgrade) */
    uint32_t event_streams;      /* event streams open now (lg_sse_start) */
    uint64_t events;             /* events sent on them (lg_sse_send) */
    uint64_t start_ms;           /* loop time at lg_server_new */
} lg_server_stats;

/* NULL when out of memory, when lg_server_config.memory is too small, or
 * when the configuration cannot work (a server_name that cannot be sent):
 * the loop's log hook says which. */
lg_server *lg_server_new(lg_loop *loop, const lg_server_config *config);
/* The bytes lg_server_config.memory needs for this configuration (config
 * as it would be passed to lg_server_new; its memory fields are ignored).
 * For the 32-bit targets `make size` prints it for docs/footprint.md's
 * configurations.
 *
 *   static char mem[6144];   // at least lg_server_memory_size(&cfg)
 *   lg_server_config cfg = { .max_conns = 4, .recv_buffer_bytes = 512,
 *                            .memory = mem, .memory_bytes = sizeof mem };
 */
size_t lg_server_memory_size(const lg_server_config *config);
/* Listen on a numeric address ("0.0.0.0:8080", "[::1]:8080"); may be called
 * again for more addresses. flags: LG_LISTEN_REUSEPORT. */
int lg_server_listen(lg_server *srv, const char *addr, unsigned flags);
/* The port of the first listener (useful after listening on port 0). */
uint16_t lg_server_port(const lg_server *srv);
/* Stop accepting, let requests in flight finish (answers say Connection:
 * close), close idle connections gracefully; after deadline_ms close the
 * rest. done (may be NULL) runs once every connection is closed. */
void lg_server_shutdown(lg_server *srv, uint32_t deadline_ms,
                        void (*done)(lg_server *srv, void *user), void *user);
/* Free the server. Its connections should be closed first (after
 * shutdown's done): those still open are closed at once
 * (lg_stream_close_now: no linger, so a client may see a reset; logged),
 * and everything they hold is given back. A request the application still
 * holds is gone with them: do not answer it after this. */
void lg_server_free(lg_server *srv);
const lg_server_stats *lg_server_get_stats(const lg_server *srv);
lg_loop *lg_server_loop(const lg_server *srv);

/* --- routes ---
 * method: "GET", "POST", ... or "*" for any. pattern: literal segments,
 * ":name" (one segment), ":name<int>" (digits, optionally signed),
 * and a final "*name" (the rest of the path, may be empty).
 * First match wins, in the order routes were added. A path that matches
 * with another method gets 405 with Allow; otherwise 404. */
#define LG_ROUTE_STREAM_BODY 1u /* call the handler after the head; it reads
                                   the body itself with lg_req_read_body */
int lg_route(lg_server *srv, const char *method, const char *pattern, lg_handler handler,
             void *user);
int lg_route_ex(lg_server *srv, const char *method, const char *pattern, unsigned flags,
                lg_handler handler, void *user);
/* Run before every routed request / just before every answer's head goes
 * out (to add headers). */
int lg_server_before(lg_server *srv, lg_hook hook, void *user);
int lg_server_after(lg_server *srv, lg_hook hook, void *user);
/* Answer this status (404, 405, 413, 500 ...) with your own handler; the
 * request may be only partly parsed (lg_req_error says why it failed). */
int lg_server_on_error(lg_server *srv, int status, lg_handler handler, void *user);

/* Serve files below `root` under the URL prefix (see docs/server.md):
 * content types, ETag/Last-Modified (304), single ranges (206/416), .gz
 * siblings for clients that accept gzip, index.html for directories, and no
 * way out of root. */
int lg_server_static(lg_server *srv, const char *prefix, const char *root);

/* --- the request --- */
int lg_req_method_id(const lg_req *req);          /* lg_method */
lg_str lg_req_method(const lg_req *req);
lg_str lg_req_target(const lg_req *req);          /* as sent: "/a%20b?x=1" */
/* The host the request is for: an absolute-form target's authority, else
 * the Host field (RFC 9112 3.2.2); ptr NULL when there is neither. */
lg_str lg_req_host(const lg_req *req);
lg_str lg_req_path(const lg_req *req);            /* percent-decoded path: "/a b" */
lg_str lg_req_query_string(const lg_req *req);    /* raw, after "?" */
/* Decoded query argument, cookie, form field or route parameter; ptr NULL
 * when absent. Decoded values live in the request's scratch space. */
lg_str lg_req_query(lg_req *req, const char *name);
lg_str lg_req_header(const lg_req *req, const char *name);
lg_str lg_req_cookie(lg_req *req, const char *name);
lg_str lg_req_param(const lg_req *req, const char *name);
/* application/x-www-form-urlencoded body field (needs a buffered body;
 * lg_req_read_form reads both kinds of form on a streamed route). */
lg_str lg_req_form(lg_req *req, const char *name);
const lg_head *lg_req_head(const lg_req *req);
/* The client's address, asked of the socket the first time (a connection
 * keeps none: that would cost every idle connection its bytes); family 0
 * when the platform cannot tell or the client has gone. */
const lg_addr *lg_req_peer(const lg_req *req);
/* The whole body (buffered routes); empty when there is none. */
lg_str lg_req_body(const lg_req *req);
/* Why the request failed to parse (in error handlers), else 0. */
int lg_req_error(const lg_req *req);
void *lg_req_server_data(const lg_req *req);      /* what lg_server_set_data stored */
void lg_server_set_data(lg_server *srv, void *data);

/* Streamed request bodies (LG_ROUTE_STREAM_BODY): on_chunk gets each piece
 * as it arrives, then one call with len 0 and status LG_OK at the end, or a
 * negative status (LG_ERR_RESET, LG_ERR_CLOSED_EARLY, LG_ERR_TIMEOUT,
 * LG_ERR_BODY_TOO_LARGE ...). Asking for the body is what sends
 * "100 Continue" to a client that expects it. */
typedef void (*lg_body_chunk_fn)(lg_req *req, int status, const char *data, size_t len,
                                 void *user);
int lg_req_read_body(lg_req *req, uint64_t max_bytes, lg_body_chunk_fn on_chunk, void *user);
/* Back-pressure for a streamed body: after lg_req_pause_body (from on_chunk
 * or anywhere) no more pieces come and nothing more is read from the client
 * — it waits in TCP's window, and the server holds no more than its receive
 * buffer — until lg_req_resume_body. No body timeout runs while paused: a
 * slow flash or file write sets the pace. LG_ERR_INVALID_ARG when no
 * streamed body is under way. */
int lg_req_pause_body(lg_req *req);
int lg_req_resume_body(lg_req *req);

/* --- forms and uploads (src/server_form.c) ---
 * One API for both kinds of form a browser sends, read as the body
 * streams in (on a route with LG_ROUTE_STREAM_BODY):
 * application/x-www-form-urlencoded, and multipart/form-data (RFC 7578),
 * whose parts come one at a time: each part's headers, then its content
 * in pieces as they arrive, to a sink chosen when the part begins —
 *   - into memory (lg_form_to_memory; the default for a field, one without
 *     a filename): kept as a field, up to max_field_bytes for all together;
 *   - into a file descriptor (lg_form_to_fd, not with LG_NO_FILES);
 *   - to your callback (the default for a file): LG_FORM_DATA events.
 * Limits: the whole body (max_body_bytes: 413), parts or fields
 * (max_parts: 413), a part's header section (max_header_bytes: 413), and
 * the fields kept (max_field_bytes: 413); a body that breaks the grammar,
 * or multipart without its final boundary, is 400 (never a short file
 * taken as whole). lg_err_http_status(ev->status) gives the status.
 *
 * Back-pressure: an LG_FORM_DATA callback returns how many bytes it took;
 * fewer than offered pauses the upload (the rest comes again, first, after
 * lg_form_resume), as does lg_form_pause from any event. While paused,
 * nothing more is read from the client and no body timeout runs.
 *
 * LG_FORM_END comes once, last, with status LG_OK or why the form failed
 * (a limit, a malformed body, a callback's error, the client gone); the
 * handler answers then (or earlier: the server then drains or closes as
 * rule 3 says). The form, its fields and the event's strings live until
 * the answer is complete; the part's name, filename and content type are
 * valid in all of its events.
 *
 *   static int on_form(lg_form *form, const lg_form_event *ev, void *user) {
 *       lg_res *res = user;
 *       if (ev->type == LG_FORM_DATA) return (int)ev->data.len; // a file: dropped
 *       if (ev->type != LG_FORM_END) return LG_OK;
 *       int st = lg_err_http_status(ev->status); // 0: the client left, or your error
 *       if (ev->status) return lg_res_error(res, st ? st : 500, lg_strerror(ev->status));
 *       lg_str who = lg_form_field(form, "who");
 *       return lg_res_send(res, 200, who.ptr, who.len);
 *   }
 *   static void on_post(lg_req *req, lg_res *res, void *user) {
 *       (void)user;
 *       int rc = lg_req_read_form(req, NULL, on_form, res);
 *       if (rc) lg_res_error(res, rc == LG_ERR_UNSUPPORTED ? 415 : lg_err_http_status(rc), NULL);
 *   }
 *   // lg_route_ex(srv, "POST", "/form", LG_ROUTE_STREAM_BODY, on_post, NULL);
 *
 * Not in builds with LG_NO_FORMS (or LG_NO_MULTIPART). */
#if !defined(LG_NO_FORMS)
typedef struct lg_form lg_form;
typedef struct lg_form_config {
    uint64_t max_body_bytes;    /* the whole body (default: the server's max_body_bytes) */
    uint32_t max_parts;         /* parts, or urlencoded fields (default 128) */
    uint16_t max_header_bytes;  /* one part's header section (default 1024) */
    uint32_t max_field_bytes;   /* fields kept in memory, names and values (default 8192) */
} lg_form_config;

enum {
    LG_FORM_PART = 1,     /* a multipart part begins: choose its sink now */
    LG_FORM_DATA = 2,     /* content of a part whose sink is the callback */
    LG_FORM_PART_END = 3, /* the part is whole: part_bytes is its size */
    LG_FORM_END = 4       /* the form is whole (status LG_OK) or failed */
};

typedef struct lg_form_event {
    int type;             /* LG_FORM_* */
    int status;           /* LG_FORM_END: LG_OK, or why the form failed */
    uint32_t part;        /* the part's index, from 0 */
    lg_str name, filename, content_type; /* the part's, as sent; filename.ptr is
                                            NULL for a field, content_type.ptr
                                            NULL when none was given */
    lg_str data;          /* LG_FORM_DATA: the bytes */
    uint64_t part_bytes;  /* the part's bytes before this event */
} lg_form_event;

/* LG_FORM_DATA: the bytes taken (0..data.len), or a negative lg_err to stop.
 * Other events: LG_OK, or a negative lg_err to stop (LG_FORM_END follows
 * with it; what LG_FORM_END returns is ignored). */
typedef int (*lg_form_fn)(lg_form *form, const lg_form_event *ev, void *user);

/* Start reading the request's body as a form (config NULL: defaults).
 * LG_OK, and the events follow; or, with no event to come:
 * LG_ERR_UNSUPPORTED (not a form's Content-Type: 415),
 * LG_ERR_MULTIPART_BOUNDARY (400), LG_ERR_BODY_TOO_LARGE (its
 * Content-Length is over the limit: 413), LG_ERR_NOMEM,
 * LG_ERR_INVALID_ARG (not a streamed-body route, or asked twice). */
int lg_req_read_form(lg_req *req, const lg_form_config *config, lg_form_fn fn, void *user);
/* Sinks, from an LG_FORM_PART event: keep this part in memory as a field
 * (at most max_bytes of it, and within max_field_bytes: 413 beyond), or
 * write it to fd (which stays yours: the form never closes it; a write
 * that fails ends the form with LG_ERR_IO). LG_ERR_INVALID_ARG elsewhere. */
int lg_form_to_memory(lg_form *form, uint32_t max_bytes);
int lg_form_to_fd(lg_form *form, int fd);
/* Back-pressure (see above); resume may run events before it returns. */
int lg_form_pause(lg_form *form);
int lg_form_resume(lg_form *form);
/* A field's value (the first with that name; urlencoded ones decoded);
 * ptr NULL when there is none. */
lg_str lg_form_field(const lg_form *form, const char *name);
/* Every field in order: *pos starts at 0; 1 while there is one. */
int lg_form_next(const lg_form *form, uint32_t *pos, lg_str *name, lg_str *value);
lg_req *lg_form_req(const lg_form *form);
#endif

/* --- the response ---
 * Every answer call (lg_res_send*, lg_res_redirect, lg_res_error,
 * lg_res_send_fd, lg_res_start) ends the exchange: it returns LG_OK when a
 * whole, correctly framed answer is on its way, or an error when it could
 * not send what was asked. Then nothing of that answer went out: the client
 * gets "500 Internal Server Error" instead where the connection can still
 * carry it, and the connection closes after it (never is a later answer
 * read as this one's). Returning an error, the call has still answered. */
/* Add a header (copied). Transfer-Encoding and Connection are the
 * server's to write; LG_ERR_INVALID_ARG for them. Content-Length is taken
 * as a promise, written by the server: a streamed answer with it is not
 * chunked and must be exactly that long, a bodiless answer (HEAD, 304) may
 * tell a GET's length, any other answer must match it (a mismatch fails
 * the answer call). LG_ERR_CONTENT_LENGTH for a value that is not 1*DIGIT,
 * LG_ERR_INVALID_ARG for a second one. LG_ERR_BUFFER_TOO_SMALL when
 * response_header_bytes is full, LG_ERR_HEADER_VALUE for CR/LF in it,
 * LG_ERR_NOMEM when the request's first header finds no memory for its
 * header space (dynamic memory takes it from a pool when first used). */
int lg_res_header(lg_res *res, const char *name, const char *value);
typedef struct lg_cookie_options {
    const char *path, *domain;   /* no ";" and no control characters */
    int64_t max_age;             /* seconds; < 0 deletes; 0 means a session cookie */
    uint8_t http_only, secure;
    const char *same_site;       /* "Strict", "Lax", "None" or NULL */
} lg_cookie_options;
/* LG_ERR_HEADER_NAME / LG_ERR_HEADER_VALUE for a name, value, path or
 * domain that would break the header, LG_ERR_INVALID_ARG for another
 * same_site. */
int lg_res_set_cookie(lg_res *res, const char *name, const char *value,
                      const lg_cookie_options *options);

/* Answer with a body from memory, copied where the network does not take
 * it at once (up to 64 MiB: stream larger ones). status 200..599. */
int lg_res_send(lg_res *res, int status, const void *body, size_t len);
int lg_res_send_str(lg_res *res, int status, const char *text);
/* Answer with len bytes of an open file from offset (sendfile); the server
 * closes fd when done. */
int lg_res_send_fd(lg_res *res, int status, int fd, uint64_t offset, uint64_t len);
/* 301, 302, 303, 307 or 308 to location, with a short body. */
int lg_res_redirect(lg_res *res, int status, const char *location);
/* An error answer with the default body that says what went wrong (or the
 * error handler registered for status). */
int lg_res_error(lg_res *res, int status, const char *message);

/* Streaming: lg_res_start sends the head (chunked unless a Content-Length
 * header was added), then lg_res_write pieces and lg_res_end.
 * lg_res_write returns LG_OK, or with nothing written and the answer still
 * going: LG_ERR_LIMIT when too much is queued (wait for on_drain), or
 * LG_ERR_TOO_LARGE for a piece larger than the queue can ever hold (write
 * smaller ones). Once the answer cannot be completed it returns
 * LG_ERR_CLOSED (the client is gone or the stream failed) or
 * LG_ERR_TOO_LARGE (more than the Content-Length promised: the answer is
 * cut there); stop writing then. lg_res_end always ends the answer: LG_OK
 * when it is whole; LG_ERR_CLOSED_EARLY when it is shorter than its
 * Content-Length, LG_ERR_CLOSED when it was cut before — the connection
 * then closes after what went out, and the client can tell (a chunked
 * answer without its last chunk, fewer bytes than the length), so a short
 * answer never looks whole. */
int lg_res_start(lg_res *res, int status);
int lg_res_write(lg_res *res, const void *data, size_t len);
int lg_res_end(lg_res *res);
/* Give up a started answer that cannot be completed (its source failed):
 * no last chunk is sent, and the connection closes after what went out,
 * so the client sees it cut. Ends the answer as lg_res_end does. */
int lg_res_abandon(lg_res *res);
/* Called when the queue has room again (or the client left: check
 * lg_res_write's answer). */
void lg_res_on_drain(lg_res *res, void (*on_drain)(lg_res *res, void *user), void *user);
/* Producer style: fill is called whenever the client can take more; it
 * writes with lg_res_write and calls lg_res_end when done. When
 * lg_res_write says the answer cannot be completed (LG_ERR_CLOSED: the
 * client is gone; LG_ERR_TOO_LARGE past the Content-Length), end it; a
 * fill that goes on regardless is ended for it (logged) and not called
 * again. */
typedef void (*lg_fill_fn)(lg_res *res, void *user);
int lg_res_stream(lg_res *res, int status, lg_fill_fn fill, void *user);

/* Switch protocols (RFC 9110 7.8, 15.2.2): answer "101 Switching
 * Protocols" with "Upgrade: protocol" (and the headers added with
 * lg_res_header), and take the connection. Its stream is yours from then
 * on, with your callbacks and data; the bytes the client sent after the
 * request's head are already in its buffer (lg_stream_peek; on_data comes
 * for them on the next tick). The server treats it as HTTP no more, but it
 * still counts against max_conns (and in active_connections and
 * `upgraded`), and its shutdown reaches it: cbs->on_shutdown, then a
 * graceful close at the shutdown's deadline. The request must have asked
 * for the protocol (HTTP/1.1, "Connection: upgrade", an Upgrade list
 * naming it) and carry no body still to come; otherwise, as for any answer
 * call that cannot do what it was asked, the client gets 500, the
 * connection closes, and this returns NULL (as it does when the client is
 * gone). A WebSocket server is the first user:
 *
 *   static void on_ws_data(lg_stream *s) { lg_stream_consume(s, lg_stream_peek(s).len); }
 *   static const lg_stream_callbacks ws_callbacks = { .on_data = on_ws_data };
 *
 *   static void on_ws(lg_req *req, lg_res *res, void *user) {
 *       (void)req;
 *       lg_res_header(res, "Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
 *       lg_stream *s = lg_res_upgrade(res, "websocket", &ws_callbacks, user);
 *       if (!s) return; // refused (500), or the client is gone
 *   }
 */
lg_stream *lg_res_upgrade(lg_res *res, const char *protocol, const lg_stream_callbacks *cbs,
                          void *data);

/* The request this response answers. */
lg_req *lg_res_req(lg_res *res);

/* --- authentication (RFC 9110 11; Basic: RFC 7617; Bearer: RFC 6750) ---
 *
 *   static void on_admin(lg_req *req, lg_res *res, void *user) {
 *       char buf[128]; lg_str name, pass;
 *       (void)user;
 *       if (lg_req_basic_auth(req, buf, sizeof buf, &name, &pass) != LG_OK ||
 *           !lg_equal_ct(name.ptr, name.len, "admin", 5) ||
 *           !lg_equal_ct(pass.ptr, pass.len, "s3cret", 6)) {
 *           lg_res_ask_basic(res, "device");
 *           return;
 *       }
 *       lg_res_send_str(res, 200, "welcome");
 *   }
 *
 * Not in builds with LG_NO_AUTH. */

/* Equality that takes the same time wherever the first difference is
 * (for passwords and tokens: 1 when equal). b is the secret: the time
 * depends on its length and on a's, never on their contents. */
int lg_equal_ct(const void *a, size_t alen, const void *b, size_t blen);
/* "Authorization: Basic ...": the credentials decoded into buf and split
 * at the first ':' (the password may hold more). LG_ERR_NOT_FOUND without
 * Basic credentials, LG_ERR_INVALID_ARG when they are malformed,
 * LG_ERR_BUFFER_TOO_SMALL. The slices point into buf. */
int lg_req_basic_auth(lg_req *req, char *buf, size_t cap, lg_str *user, lg_str *pass);
/* "Authorization: Bearer <token68>": the token, a slice of the request.
 * LG_ERR_NOT_FOUND without one, LG_ERR_INVALID_ARG when malformed. */
int lg_req_bearer(lg_req *req, lg_str *token);
/* Answer 401 with a challenge: WWW-Authenticate: Basic realm="...",
 * charset="UTF-8"; or Bearer realm="..." (and error="invalid_token" when
 * a token was given: the client should not just send it again). A realm
 * with a quote, a backslash or a control character is LG_ERR_INVALID_ARG. */
int lg_res_ask_basic(lg_res *res, const char *realm);
int lg_res_ask_bearer(lg_res *res, const char *realm, int invalid_token);

/* --- Digest authentication (RFC 7616; src/server_digest.c) ---
 * The password never crosses the network: the client proves it knows it
 * by hashing it with a nonce the server gave, the method and the URI.
 * SHA-256 and MD5 (MD5 for older clients: Python's urllib has no SHA-256),
 * qop=auth. Nonces are signed, not stored: a nonce is the time it was made
 * and an HMAC-SHA-256 of that time under the configuration's key, so the
 * server keeps no table that a flood of requests could fill, and a nonce
 * is good for nonce_seconds from then, on any connection. An expired nonce
 * with the right password gets a new challenge with stale=true, which the
 * client answers again without asking its user. What a signed nonce cannot
 * do is see a nonce used twice: nc (the client's count) goes into the hash
 * but is not remembered, so a request captured on the way can be replayed
 * as it was (the same method and URI) until its nonce expires. Keep
 * nonce_seconds short where that matters, or use TLS.
 *
 *   static uint8_t key[32];   // filled from a random source at start-up
 *   static const lg_digest digest = { .realm = "device", .key = key, .key_len = sizeof key };
 *   static void on_admin(lg_req *req, lg_res *res, void *user) {
 *       lg_digest_auth a;
 *       (void)user;
 *       if (lg_req_digest(req, &digest, &a) != LG_OK ||
 *           !lg_equal_ct(a.user.ptr, a.user.len, "admin", 5) ||
 *           !lg_digest_check(&a, "s3cret", 6)) {
 *           lg_res_ask_digest(res, &digest, &a);
 *           return;
 *       }
 *       lg_res_send_str(res, 200, "welcome");
 *   }
 *
 * Not in builds with LG_NO_DIGEST (nor with LG_NO_SHA256, which it needs). */
#define LG_DIGEST_SHA256 0x01u
#define LG_DIGEST_MD5 0x02u
typedef struct lg_digest {
    const char *realm;       /* no quote, backslash or control character */
    const void *key;         /* signs the nonces: at least 16 bytes, secret, random (a
                                new key at start-up is fine: old nonces turn stale) */
    size_t key_len;
    uint32_t nonce_seconds;  /* a nonce's lifetime (default 300) */
    uint8_t algorithms;      /* LG_DIGEST_*; 0: both, SHA-256 offered first */
} lg_digest;
typedef struct lg_digest_auth {
    lg_str user;             /* the username (a slice of the request or of buf) */
    uint8_t stale;           /* the nonce was genuine but has expired */
    uint8_t matched;         /* private: lg_digest_check found the password right */
    uint8_t alg;             /* private */
    lg_str realm, nonce, uri, response, cnonce, nc, qop; /* private */
    lg_str method;           /* private */
    char buf[128];           /* private: values that came with escapes */
} lg_digest_auth;
/* Read "Authorization: Digest ..." and check what can be checked without
 * the password: the realm, the algorithm, qop=auth, that the URI is the
 * request's, and that the nonce is one this configuration signed.
 * LG_OK (a->stale set when its time is up), LG_ERR_NOT_FOUND without
 * Digest credentials, LG_ERR_INVALID_ARG for anything else (malformed,
 * another realm, a nonce not ours). *a is usable by lg_res_ask_digest
 * whatever this returns. */
int lg_req_digest(lg_req *req, const lg_digest *cfg, lg_digest_auth *a);
/* 1 when the client hashed this password (compared in constant time) and
 * its nonce is fresh; 0 otherwise. */
int lg_digest_check(lg_digest_auth *a, const char *password, size_t len);
/* Answer 401 with a Digest challenge (one WWW-Authenticate per algorithm)
 * and a fresh nonce; stale=true when a (may be NULL) was right but for its
 * nonce's age. LG_ERR_INVALID_ARG for a bad realm or a key under 16 bytes. */
int lg_res_ask_digest(lg_res *res, const lg_digest *cfg, const lg_digest_auth *a);

/* --- Sessions in a signed cookie (src/server_session.c) ---
 * What a handler remembers about a browser (who logged in, a language)
 * travels in a cookie the server signs with HMAC-SHA-256, so the server
 * keeps no session table: a changed byte, another key, or the time past
 * its expiry, and the cookie counts for nothing. The data are readable by
 * whoever holds the cookie (signed, not encrypted): no secrets in them.
 * The keys rotate: keys[0] signs, every key verifies, and a session signed
 * with an older key is signed again with keys[0] when it is saved. The
 * expiry is inside the signed value (and in Max-Age): a session lasts
 * max_age_s from its last save. The cookie is HttpOnly, SameSite=Lax,
 * Path=/ by default, and Secure when the server's connections are TLS (a
 * transport). The whole session lives in the lg_session (on the
 * handler's stack: LG_SESSION_MAX_BYTES of data, linger_opts.h); nothing
 * is allocated.
 *
 *   static const lg_str keys[] = { { "a long random secret, the newest", 32 },
 *                                  { "the one before, still accepted", 30 } };
 *   static const lg_session_config sessions = { .keys = keys, .num_keys = 2 };
 *   static void on_login(lg_req *req, lg_res *res, void *user) {
 *       lg_session s;
 *       (void)user;
 *       lg_session_load(req, &sessions, &s);       // empty if none, forged or expired
 *       lg_session_set(&s, "user", "ann");
 *       lg_session_save(res, &s);                  // Set-Cookie, before the answer
 *       lg_res_send_str(res, 200, "welcome");
 *   }
 *
 * Not in builds with LG_NO_SESSION (nor with LG_NO_SHA256). */
typedef struct lg_session_config {
    const lg_str *keys;          /* keys[0] signs, all verify; each at least 16 bytes, secret */
    size_t num_keys;
    const char *name;            /* the cookie's name (default "session") */
    uint32_t max_age_s;          /* lifetime from the last save (default 86400) */
    const char *path;            /* default "/" */
    const char *same_site;       /* default "Lax" */
    uint8_t secure;              /* 0: Secure when the server has a transport (TLS); 1: always */
} lg_session_config;
typedef struct lg_session {
    const lg_session_config *cfg; /* private, all of it: use the calls below */
    uint16_t len;
    uint8_t changed, resign, had_cookie;
    char data[LG_SESSION_MAX_BYTES]; /* "key\0value\0" pairs */
} lg_session;
/* Read the request's session cookie into s. LG_OK when it is genuine and
 * in date; otherwise s is empty (and usable) and the reason is returned:
 * LG_ERR_NOT_FOUND (no cookie), LG_ERR_TIMEOUT (expired),
 * LG_ERR_INVALID_ARG (tampered, signed by no key of ours, malformed, or a
 * configuration without a usable key). */
int lg_session_load(lg_req *req, const lg_session_config *cfg, lg_session *s);
/* A value (a slice of s; ptr NULL when absent). */
lg_str lg_session_get(const lg_session *s, const char *key);
/* Set (or replace) a value. LG_ERR_BUFFER_TOO_SMALL when the session would
 * outgrow LG_SESSION_MAX_BYTES (nothing changed then), LG_ERR_INVALID_ARG
 * for an empty key. */
int lg_session_set(lg_session *s, const char *key, const char *value);
/* Remove a value; LG_ERR_NOT_FOUND when there was none. */
int lg_session_delete(lg_session *s, const char *key);
/* Remove everything (log out): the cookie is deleted when saved. */
void lg_session_clear(lg_session *s);
/* Before the answer: Set-Cookie when the session changed (or was signed
 * with an older key); nothing otherwise. An emptied session deletes the
 * cookie (Max-Age=0). lg_res_set_cookie's errors. */
int lg_session_save(lg_res *res, lg_session *s);

/* --- The test client (src/test_client.c) ---
 * A request through a server's routes, hooks and middleware in the same
 * process, with no socket, and its answer back: for unit tests of
 * handlers (as Microdot's and aiohttp's test clients). lg_test_new makes
 * a loop on memory sockets; make the server on it as in the program
 * (lg_server_new, routes, hooks), listen on any address (nothing is
 * bound), then fetch. Each fetch runs the loop until the answer is
 * complete and its connection closed; time is virtual, so an answer given
 * from a timer comes at once. The response points into the test's memory,
 * valid until the next fetch or lg_test_free. Only programs that call it
 * link it; not in builds with LG_NO_TEST_CLIENT.
 *
 *   void on_item(lg_req *req, lg_res *res, void *user);   // the app's handler
 *
 *   lg_test *t = lg_test_new();
 *   lg_server *srv = lg_server_new(lg_test_loop(t), NULL);
 *   lg_route(srv, "GET", "/items/:id", on_item, NULL);   // the app's setup
 *   lg_server_listen(srv, "127.0.0.1:80", 0);
 *   lg_test_response r;
 *   lg_test_fetch(t, &(lg_test_request){ .target = "/items/7" }, &r);
 *   if (r.err != LG_OK || r.status != 200) fail(r.err);
 *   lg_str type = lg_head_get(&r.head, "Content-Type");   // r.body: the body, de-chunked
 *   lg_server_shutdown(srv, 0, NULL, NULL);
 *   lg_server_free(srv);
 *   lg_test_free(t);
 */
#define LG_TEST_MAX_HEADERS 32
typedef struct lg_test lg_test;
typedef struct lg_test_request {
    const char *method;          /* NULL: GET, or POST with a body */
    const char *target;          /* "/path?query" (NULL: "/") */
    const char *headers;         /* more header lines, each "Name: value\r\n" (NULL: none);
                                    Host and Connection: close are sent, and Content-Length
                                    with a body */
    const void *body;
    size_t body_len;
} lg_test_request;
typedef struct lg_test_response {
    int err;                     /* LG_OK: a whole answer came; else why not (LG_ERR_TIMEOUT:
                                    the handler never answered) */
    int status;
    lg_head head;                /* lg_head_get(&r->head, "Set-Cookie") ... */
    lg_str body;                 /* NUL-terminated */
    lg_str raw;                  /* every byte the server sent */
    lg_header fields[LG_TEST_MAX_HEADERS]; /* private: head's storage */
} lg_test_response;
lg_test *lg_test_new(void);
lg_loop *lg_test_loop(lg_test *t);
/* Returns res->err. */
int lg_test_fetch(lg_test *t, const lg_test_request *req, lg_test_response *res);
/* After the server on its loop is freed. */
void lg_test_free(lg_test *t);

/* --- CORS (the Fetch standard's cross-origin resource sharing) ---
 * A before hook: register it with its configuration as the hook's user
 * data (which must outlive the server):
 *
 *   static const char *const origins[] = { "https://app.example", NULL };
 *   static const lg_cors cors = { .origins = origins, .credentials = 1 };
 *   // with the server's other setup:
 *   lg_server_before(srv, lg_cors_hook, (void *)&cors);
 *
 * A request with an Origin the configuration allows gets
 * Access-Control-Allow-Origin (and -Allow-Credentials, -Expose-Headers)
 * and goes on to its route; a preflight (OPTIONS with
 * Access-Control-Request-Method) is answered 204 here, never reaching a
 * handler. A refused origin gets no CORS headers at all (its preflight
 * still 204, which the browser then refuses). Every answer to a request
 * with an Origin says Vary: Origin. Not in builds with LG_NO_CORS. */
typedef struct lg_cors {
    const char *const *origins; /* NULL-terminated, compared exactly ("https://a.example",
                                   no trailing slash); NULL: any origin */
    const char *methods;        /* preflight: allowed methods (default
                                   "GET, HEAD, POST, PUT, PATCH, DELETE") */
    const char *headers;        /* preflight: allowed request headers; NULL: those asked for */
    const char *expose;         /* response headers scripts may read (NULL: none beyond
                                   the safelisted) */
    uint32_t max_age;           /* preflight: seconds a browser may keep it (default 600) */
    uint8_t credentials;        /* 1: cookies and HTTP auth allowed (the origin is then
                                   echoed, never "*") */
} lg_cors;
int lg_cors_hook(lg_req *req, lg_res *res, void *cors);
/* --- Server-Sent Events (src/server_sse.c) ---
 * An event stream (the WHATWG HTML standard, 9.2) is a streamed answer
 * that does not end: lg_sse_start answers 200 with "Content-Type:
 * text/event-stream" (chunked, nothing buffered on the way: "Cache-Control:
 * no-store", "X-Accel-Buffering: no" for nginx), and each lg_sse_send puts
 * one event on it, whole. A comment goes out after keepalive_ms without an
 * event, so proxies and the browser see the connection alive, and a client
 * gone is found then at the latest. The server's timeouts leave it alone
 * while the client takes what is sent (the send timeout counts only while
 * bytes wait); a client that stops reading is closed by the send timeout.
 * The request stays valid while the stream is open: a browser reconnecting
 * says where it got to in lg_req_header(lg_sse_req(sse), "Last-Event-ID").
 * lg_server_shutdown ends every event stream (on_close, then the last
 * chunk: the answer is whole, and the connection closes gracefully).
 *
 *   static void on_events(lg_req *req, lg_res *res, void *user) {
 *       (void)user;
 *       lg_sse *sse = lg_sse_start(req, res, NULL);
 *       if (sse) lg_sse_send(sse, "hello", "1", "first line\nsecond line", 0);
 *   }
 */
typedef struct lg_sse lg_sse;

typedef struct lg_sse_config {
    uint32_t keepalive_ms; /* a comment after this long without an event (default 15000;
                              UINT32_MAX: none) */
    uint32_t retry_ms;     /* sent first as "retry:", the browser's reconnection delay
                              (0: none) */
    /* Optional: the stream ended without lg_sse_close: the client went
     * (or stopped reading), or the server shuts down. sse is freed once
     * this returns. */
    void (*on_close)(lg_sse *sse, void *user);
    /* Optional: everything queued has gone, after lg_sse_send said
     * LG_ERR_AGAIN. */
    void (*on_drain)(lg_sse *sse, void *user);
    void *user;
} lg_sse_config;

/* In a handler (or later, while holding the request): start the event
 * stream. Returns it, or NULL when it could not start: a HEAD request
 * (answered with the head alone), an answer already given, no memory (503),
 * or the client gone. cfg may be NULL (defaults); it is copied. */
lg_sse *lg_sse_start(lg_req *req, lg_res *res, const lg_sse_config *cfg);
/* One event: "event:" (NULL: none, the browser's "message"), "id:" (NULL:
 * none; "" resets the browser's last event ID), "retry:" (0: none), and
 * data split at every line break (LF, CRLF or CR) into "data:" lines (NULL:
 * none, which makes an event a browser does not dispatch), then the empty
 * line that ends it. All of it or nothing is queued. LG_OK; LG_ERR_AGAIN
 * when more than 256 KiB wait for the client (nothing queued: on_drain
 * says when to go on); LG_ERR_INVALID_ARG for an event or id with CR, LF
 * (or NUL); LG_ERR_CLOSED once the client has gone (on_close follows);
 * LG_ERR_NOMEM. */
int lg_sse_send(lg_sse *sse, const char *event, const char *id, const char *data, uint32_t retry_ms);
/* A comment line (": text"), which the browser ignores. */
int lg_sse_comment(lg_sse *sse, const char *text);
/* End the stream: the last chunk, and the connection goes on (keep-alive)
 * or closes as the server decides. No on_close: sse is freed now. */
void lg_sse_close(lg_sse *sse);
/* The request that started it (its Last-Event-ID, query, cookies ...). */
lg_req *lg_sse_req(lg_sse *sse);
void *lg_sse_user(const lg_sse *sse);
/* Bytes waiting for the client. */
uint64_t lg_sse_queued(const lg_sse *sse);
#endif /* !LG_NO_SERVER */

#if !defined(LG_NO_CLIENT)
/* ======================================================================
 * 9. Client  (src/client*.c)
 *
 *   lg_client *cli = lg_client_new(loop, NULL);
 *   lg_fetch(cli, &(lg_request){ .method = "POST", .url = "http://10.0.0.2/api",
 *                                .body = json, .body_len = n }, on_response, NULL);
 *   lg_loop_run(loop);
 *
 *   void on_response(lg_response *res, void *user) {
 *       (void)user;
 *       if (res->err) printf("failed: %s\n", lg_strerror(res->err));
 *       else printf("%d: %.*s\n", res->status, (int)res->body.len, res->body.ptr);
 *   }
 *
 * Rule 1 lives here: a body is read by its framing. A Content-Length body
 * is complete at exactly that length and a chunked one at its last chunk;
 * whatever the connection does afterwards (EOF, reset) does not matter. Only
 * a body without either ends at EOF, and a reset there is LG_ERR_RESET with
 * the bytes that came, never success. A response that arrives while the
 * request body is still going out ends the upload (LG_RES_EARLY), and a
 * failed send (EPIPE, ECONNRESET) is an error only if no complete response
 * follows it.
 *
 * The callback runs exactly once per lg_fetch, never inside lg_fetch, and
 * owns nothing: the response is freed when it returns unless
 * lg_response_keep() was called. One connection carries one request at a
 * time (no pipelining); connections are pooled per origin and kept alive.
 * ====================================================================== */

typedef struct lg_client lg_client;
typedef struct lg_call lg_call;        /* one request in flight */
typedef struct lg_response lg_response;

typedef struct lg_client_config {
    uint32_t max_conns_per_origin; /* connections to one scheme+host+port (default 6) */
    uint32_t idle_timeout_ms;      /* an unused kept-alive connection closes (default 15000) */
    uint32_t connect_timeout_ms;   /* name resolution plus TCP connect (default 10000) */
    uint32_t read_timeout_ms;      /* longest silence of the server while a response is
                                      awaited; sending progress counts too (default 30000) */
    uint32_t timeout_ms;           /* the whole request, redirects included (default: none) */
    uint32_t expect_timeout_ms;    /* wait for "100 Continue", then send anyway (default 1000) */
    uint32_t close_timeout_ms;     /* graceful close: wait for the server's EOF (default 2000) */
    uint32_t close_max_bytes;      /* graceful close: read and drop at most this much of what
                                      the server still sends (default 4 MiB, as large as the
                                      default body limit) */
    uint32_t recv_buffer_bytes;    /* per connection; at least max_head_bytes (default 16384) */
    uint32_t max_head_bytes;       /* response head limit (default LG_DEFAULT_MAX_HEAD) */
    uint16_t max_headers;          /* response header fields (default 64) */
    uint8_t max_redirects;         /* default 10 */
    uint8_t no_keep_alive;         /* 1: "Connection: close" on every request */
    uint64_t max_body_bytes;       /* buffered bodies (not on_body ones) (default 4 MiB) */
    uint32_t upload_chunk_bytes;   /* producer bodies: bytes asked for at a time (default 16384) */
    const char *user_agent;        /* NULL: "linger/<version>"; "": no User-Agent */
    lg_client_transport_fn transport; /* NULL: plain TCP, and https:// URLs fail with
                                      LG_ERR_UNSUPPORTED; else called for each new
                                      connection (http and https) to make its transport:
                                      lg_tls_client_transport (linger_tls.h) for TLS */
    void *transport_user;
} lg_client_config;

/* Request body from a callback: write up to cap bytes into buf and return
 * how many (> 0), 0 at the end of the body, LG_ERR_AGAIN when there is
 * nothing yet (call lg_call_resume() when there is), or another negative
 * lg_err to abandon the request with it. With body_len ==
 * LG_BODY_LENGTH_UNKNOWN the body goes out chunked. */
typedef long (*lg_body_producer)(lg_call *call, char *buf, size_t cap, void *user);

/* Response body delivered as it arrives, a slice of the receive buffer (no
 * copy). Return 0 to go on, LG_ERR_AGAIN to pause (reading stops; the same
 * bytes come again after lg_call_resume(), called once this returned), or
 * a negative lg_err to stop with it. */
typedef int (*lg_body_cb)(lg_response *res, lg_str chunk, void *user);

typedef void (*lg_response_cb)(lg_response *res, void *user);

#define LG_BODY_LENGTH_UNKNOWN UINT64_MAX

/* lg_request.flags */
#define LG_FETCH_EXPECT_CONTINUE 0x01u /* send "Expect: 100-continue" and wait before the body */
#define LG_FETCH_NO_REDIRECTS    0x02u /* deliver 3xx responses instead of following them */
#define LG_FETCH_BODY_FILE       0x04u /* the body is body_len bytes of body_file from body_offset */
#define LG_FETCH_CLOSE           0x08u /* "Connection: close": do not reuse the connection */
#define LG_FETCH_BASIC           0x10u /* send user and password as Basic at once, without
                                          waiting for a challenge (one round trip less; the
                                          password goes in the clear without TLS) */

typedef struct lg_request {
    const char *method;          /* NULL: GET, or POST when there is a body */
    const char *url;             /* "http[s]://host[:port]/path?query", userinfo for Basic auth
                                    (see user below) */
    const lg_header *headers;    /* extra fields (copied); Host, Content-Length and
                                    Transfer-Encoding are the client's to write */
    size_t num_headers;
    const void *body;            /* in memory: referenced until the callback, never copied whole */
    uint64_t body_len;           /* memory and file bodies; producers: or LG_BODY_LENGTH_UNKNOWN */
    int body_file;               /* with LG_FETCH_BODY_FILE: a descriptor (needs sendfile) */
    uint64_t body_offset;
    lg_body_producer body_producer; /* with body_len (or LG_BODY_LENGTH_UNKNOWN): a streamed body */
    lg_body_cb on_body;          /* stream the response body here instead of buffering it */
    lg_response_cb on_head;      /* optional: the final head has arrived (before the body) */
    uint64_t max_body_bytes;     /* 0: the client's */
    uint32_t timeout_ms;         /* 0: the client's */
    uint32_t flags;              /* LG_FETCH_* */
    /* Credentials (RFC 9110 11), sent only to the origin of url (never after
     * a redirect elsewhere). With user (and password: NULL is ""), a 401
     * is answered once, with Digest (RFC 7616: SHA-256 or MD5) when the
     * server offers it, else Basic; a second 401 is the response (except
     * one Digest stale=true, answered again). Nothing is sent before the
     * challenge unless LG_FETCH_BASIC. Credentials in url's userinfo
     * ("http://user:pass@host/") go as Basic at once, and answer a Digest
     * challenge too. bearer: "Authorization: Bearer <token>" on every
     * request (not with user). A user with ':' or a token with spaces or
     * control characters is LG_ERR_INVALID_ARG. */
    const char *user, *password;
    const char *bearer;
} lg_request;

/* Where a call got to: a failure names the stage it happened in. */
typedef enum lg_stage {
    LG_STAGE_START = 0,  /* checking the request (a bad URL fails here) */
    LG_STAGE_RESOLVE,    /* looking up the host name */
    LG_STAGE_CONNECT,    /* TCP connect */
    LG_STAGE_SEND,       /* sending the request; no response byte yet */
    LG_STAGE_HEAD,       /* response bytes came, the head is not complete */
    LG_STAGE_BODY,       /* the head came, the body is not complete */
    LG_STAGE_DONE        /* the response is complete */
} lg_stage;

/* lg_response.flags */
#define LG_RES_REUSED       0x01u /* on a kept-alive connection that served before */
#define LG_RES_RETRIED      0x02u /* sent again on a fresh connection (the reused one had closed) */
#define LG_RES_EARLY        0x04u /* answered before the request body was all sent */
#define LG_RES_SEND_FAILED  0x08u /* sending failed (EPIPE/ECONNRESET) yet the response came */

struct lg_response {
    int err;                /* LG_OK: complete (whatever its status); else why not */
    uint8_t stage;          /* lg_stage: LG_STAGE_DONE, or where it failed */
    uint8_t ending;         /* lg_ending of the connection's input when it ended the
                               exchange or came with it (LG_END_NONE: still open) */
    uint8_t framing;        /* lg_framing of the body */
    uint8_t flags;          /* LG_RES_* */
    uint16_t status;        /* 0 until a final (non-1xx) head arrived */
    uint8_t version_minor;
    uint8_t redirects;      /* redirects followed to get here */
    lg_str reason;
    lg_head head;           /* header fields: lg_head_get(&res->head, "Content-Type") */
    lg_head trailers;       /* a chunked body's trailer fields (num_headers 0: none) */
    lg_str body;            /* buffered body, NUL-terminated; empty when on_body took it */
    uint64_t body_bytes;    /* body bytes received, buffered or streamed */
    uint64_t content_length;/* as announced (LG_FRAMING_LENGTH), else 0 */
    uint64_t sent_bytes;    /* request body bytes handed to the network */
    const char *url;        /* the URL that answered (after redirects) */
    lg_call *call;          /* valid until the response callback returns */
    void *user;             /* the lg_fetch user pointer */
};

/* Counters, for tests and monitoring. */
typedef struct lg_client_stats {
    uint64_t requests;      /* calls started */
    uint64_t connects;      /* TCP connections opened */
    uint64_t reuses;        /* requests sent on a kept-alive connection */
    uint64_t retries;       /* requests sent again after a reused connection closed */
    uint64_t redirects;     /* redirects followed */
    uint64_t idle_closes;   /* kept-alive connections closed (idle time, or by the server) */
} lg_client_stats;

lg_client *lg_client_new(lg_loop *loop, const lg_client_config *config);
/* Cancel every call (callbacks run with LG_ERR_CANCELLED) and close the
 * connections gracefully. The memory goes once the last one has closed:
 * keep running the loop until lg_loop_run returns. May be called from a
 * callback. */
void lg_client_free(lg_client *cli);
const lg_client_stats *lg_client_get_stats(const lg_client *cli);

/* Start a request. `req` and everything it points to may go away when
 * lg_fetch returns, except the body (memory, file, producer), which is used
 * until the callback. Returns the call, or NULL when out of memory (the
 * callback does not run then). */
lg_call *lg_fetch(lg_client *cli, const lg_request *req, lg_response_cb cb, void *user);
/* Stop a call: its callback runs with LG_ERR_CANCELLED before this returns
 * (or, from inside one of the call's own callbacks, right after it). Its
 * connection, if the exchange was under way, closes at once with RST: the
 * one close of the client that resets (lg_client_free and every failure
 * close gracefully). */
void lg_call_cancel(lg_call *call);
/* Go on after on_body or the producer returned LG_ERR_AGAIN. */
int lg_call_resume(lg_call *call);

/* In the response callback of a request that asked to switch protocols
 * (it carried "Connection: Upgrade" and an Upgrade header) and was answered
 * "101 Switching Protocols" (res->status 101, err LG_OK): take the
 * connection. Its stream is yours from then on, with your callbacks and
 * data, and the bytes the server sent after the head are in its buffer
 * (on_data comes for them on the next tick). It no longer counts against
 * the origin's connections; lg_client_free closes it (gracefully) if it is
 * still open then. Not taken, it closes once the callback returns. NULL
 * for any other response. */
lg_stream *lg_response_take_stream(lg_response *res, const lg_stream_callbacks *cbs, void *data);

/* In the response callback: keep the response after it returns; release it
 * with lg_response_free(). When there was no memory even for the response,
 * the callback gets one shared, read-only answer instead: err LG_ERR_NOMEM,
 * stage LG_STAGE_START (how far the call got is not known), url "", user
 * and call NULL (the callback's user argument is still the call's). Keep
 * and free accept it and do nothing; never write to a response. */
void lg_response_keep(lg_response *res);
void lg_response_free(lg_response *res);

/* For simple programs: run a private loop until the response is complete.
 * *res is set (free it with lg_response_free) unless out of memory, even
 * when the request failed: it tells how far it got. Returns res->err. */
int lg_fetch_sync(const lg_request *req, lg_response **res);
#endif /* !LG_NO_CLIENT */

#ifdef __cplusplus
}
#endif

#endif /* LINGER_H */
