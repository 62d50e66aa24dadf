/* The error table (src/err.c) against the lg_err enum of include/linger.h:
 * every public code has its own name, spelled as in the header, and a
 * sentence other than the fallback for unknown codes; and the table knows
 * no code that the enum does not have.
 *
 * ALL_CODES must list every enumerator: codes_listed() switches over an
 * lg_err without a default, so -Wswitch (in -Wall, an error with -Werror)
 * stops the build when the header gains a code that is not listed here. */
#include "linger.h"
#include "test.h"

#define ALL_CODES(X)                                                                    \
    X(LG_OK) X(LG_ERR_REQUEST_LINE) X(LG_ERR_METHOD) X(LG_ERR_TARGET) X(LG_ERR_VERSION) \
    X(LG_ERR_VERSION_UNSUPPORTED) X(LG_ERR_STATUS_LINE) X(LG_ERR_HEADER_NAME)           \
    X(LG_ERR_HEADER_VALUE) X(LG_ERR_SPACE_BEFORE_COLON) X(LG_ERR_OBS_FOLD)              \
    X(LG_ERR_LINE_ENDING) X(LG_ERR_URI_TOO_LONG) X(LG_ERR_HEADERS_TOO_LARGE)            \
    X(LG_ERR_TOO_MANY_HEADERS) X(LG_ERR_HOST_MISSING) X(LG_ERR_HOST_DUPLICATE)          \
    X(LG_ERR_HOST_INVALID) X(LG_ERR_CONTENT_LENGTH) X(LG_ERR_CONTENT_LENGTH_CONFLICT)   \
    X(LG_ERR_LENGTH_AND_CHUNKED) X(LG_ERR_CHUNKED_NOT_LAST) X(LG_ERR_TRANSFER_CODING)   \
    X(LG_ERR_TRANSFER_ENCODING_HTTP10) X(LG_ERR_CHUNK_SIZE) X(LG_ERR_CHUNK_SIZE_OVERFLOW) \
    X(LG_ERR_CHUNK_EXTENSION) X(LG_ERR_CHUNK_DATA_END) X(LG_ERR_BODY_TOO_LARGE)         \
    X(LG_ERR_EXPECTATION) X(LG_ERR_BUFFER_TOO_SMALL) X(LG_ERR_INVALID_ARG)              \
    X(LG_ERR_UNSUPPORTED) X(LG_ERR_RESET) X(LG_ERR_PIPE) X(LG_ERR_CLOSED_EARLY)         \
    X(LG_ERR_TIMEOUT) X(LG_ERR_REFUSED) X(LG_ERR_UNREACHABLE) X(LG_ERR_TOO_LARGE)       \
    X(LG_ERR_NOMEM) X(LG_ERR_ADDR_IN_USE) X(LG_ERR_ADDR_INVALID) X(LG_ERR_RESOLVE)      \
    X(LG_ERR_CANCELLED) X(LG_ERR_CLOSED) X(LG_ERR_LIMIT) X(LG_ERR_IO) X(LG_ERR_NOT_FOUND) \
    X(LG_ERR_ACCESS) X(LG_ERR_URL) X(LG_ERR_REDIRECTS) X(LG_ERR_PROTOCOL) X(LG_ERR_AGAIN) \
    WS_CODES(X) MP_CODES(X) TLS_CODES(X)

/* WebSocket's codes are in the table only in a build that has WebSocket;
 * without it they are unknown (and still enumerators: the switch lists
 * them either way). */
#define WS_ALL_CODES(X)                                                                 \
    X(LG_ERR_WS_RESERVED_BITS) X(LG_ERR_WS_OPCODE) X(LG_ERR_WS_CONTROL_FRAME)           \
    X(LG_ERR_WS_LENGTH) X(LG_ERR_WS_MASK) X(LG_ERR_WS_FRAGMENT) X(LG_ERR_WS_CLOSE_PAYLOAD) \
    X(LG_ERR_WS_TOO_BIG) X(LG_ERR_WS_UTF8) X(LG_ERR_WS_HANDSHAKE)
#if defined(LG_NO_WEBSOCKET)
#define WS_CODES(X)
#else
#define WS_CODES(X) WS_ALL_CODES(X)
#endif

/* multipart's likewise (LG_NO_MULTIPART). */
#define MP_ALL_CODES(X)                                                                 \
    X(LG_ERR_MULTIPART_BOUNDARY) X(LG_ERR_MULTIPART) X(LG_ERR_MULTIPART_TRUNCATED)      \
    X(LG_ERR_MULTIPART_PARTS) X(LG_ERR_MULTIPART_HEADER)
#if defined(LG_NO_MULTIPART)
#define MP_CODES(X)
#else
#define MP_CODES(X) MP_ALL_CODES(X)
#endif

/* TLS's likewise, without LG_NO_TLS. */
#define TLS_ALL_CODES(X)                                                                \
    X(LG_ERR_TLS) X(LG_ERR_TLS_HANDSHAKE) X(LG_ERR_TLS_PLAINTEXT) X(LG_ERR_TLS_CUT)     \
    X(LG_ERR_TLS_TRUNCATED) X(LG_ERR_TLS_ALERT) X(LG_ERR_TLS_TIMEOUT)                   \
    X(LG_ERR_TLS_CERT_EXPIRED) X(LG_ERR_TLS_CERT_UNTRUSTED) X(LG_ERR_TLS_CERT_HOST)     \
    X(LG_ERR_TLS_CERT) X(LG_ERR_TLS_CONFIG)
#if defined(LG_NO_TLS)
#define TLS_CODES(X)
#else
#define TLS_CODES(X) TLS_ALL_CODES(X)
#endif

typedef struct code_name {
    int code;
    const char *name;
} code_name;

#define ENTRY(code) { code, #code },
static const code_name codes[] = { ALL_CODES(ENTRY) };
#define NCODES (sizeof codes / sizeof codes[0])

#define CASE(code) case code:
/* 1 for every lg_err; the switch is what keeps ALL_CODES complete. */
static int codes_listed(lg_err e)
{
    switch (e) {
        ALL_CODES(CASE)
        return 1;
#if defined(LG_NO_WEBSOCKET)
        WS_ALL_CODES(CASE)
        return 0;
#endif
#if defined(LG_NO_MULTIPART)
        MP_ALL_CODES(CASE)
        return 0;
#endif
#if defined(LG_NO_TLS)
        TLS_ALL_CODES(CASE)
        return 0;
#endif
    }
    return 0;
}

static int in_list(int code)
{
    for (size_t i = 0; i < NCODES; i++)
        if (codes[i].code == code) return 1;
    return 0;
}

/* What the table answers for a code it does not have. */
static const char *unknown_name, *unknown_sentence;

static void test_every_code_known(void)
{
    for (size_t i = 0; i < NCODES; i++) {
        const char *name = lg_err_name(codes[i].code);
        const char *sentence = lg_strerror(codes[i].code);
        CHECK(codes_listed((lg_err)codes[i].code));
        if (strcmp(name, codes[i].name) != 0)
            fprintf(stderr, "%s: named \"%s\"\n", codes[i].name, name);
        CHECK(strcmp(name, codes[i].name) == 0);
        if (strcmp(sentence, unknown_sentence) == 0)
            fprintf(stderr, "%s: no sentence\n", codes[i].name);
        CHECK(sentence[0] && strcmp(sentence, unknown_sentence) != 0);
        /* a code is found by itself, not by a neighbour's entry */
        for (size_t j = 0; j < i; j++) CHECK(codes[j].code != codes[i].code);
    }
}

/* The table has no entry the enum lacks (a code removed from the header
 * but left in the table, or a typo in a value). Every code fits int8_t:
 * the LG_NO_ERROR_STRINGS table stores them so. */
static void test_no_code_beyond_the_enum(void)
{
    for (int code = 0; code >= -128; code--) {
        if (strcmp(lg_err_name(code), unknown_name) == 0) continue;
        if (!in_list(code)) fprintf(stderr, "the table knows %d (%s), the enum does not\n", code,
                                    lg_err_name(code));
        CHECK(in_list(code));
    }
    for (size_t i = 0; i < NCODES; i++) CHECK(codes[i].code <= 0 && codes[i].code >= -128);
}

static void test_again(void)
{
    /* the platform layer's "would block": not about a malformed request */
    CHECK(strcmp(lg_err_name(LG_ERR_AGAIN), "LG_ERR_AGAIN") == 0);
#if !defined(LG_NO_ERROR_STRINGS)
    CHECK(strcmp(lg_strerror(LG_ERR_AGAIN), "the call would block") == 0);
#endif
    CHECK_EQ_INT(lg_err_http_status(LG_ERR_AGAIN), 0);
}

/* A server answers a bad WebSocket handshake with 400 (RFC 6455 4.2.1);
 * a broken frame is no HTTP request and has no status. Without WebSocket
 * the codes are unknown. */
static void test_websocket(void)
{
#if defined(LG_NO_WEBSOCKET)
    CHECK(strcmp(lg_err_name(LG_ERR_WS_UTF8), unknown_name) == 0);
    CHECK_EQ_INT(lg_err_http_status(LG_ERR_WS_HANDSHAKE), 0);
#else
    CHECK_EQ_INT(lg_err_http_status(LG_ERR_WS_HANDSHAKE), 400);
    CHECK_EQ_INT(lg_err_http_status(LG_ERR_WS_MASK), 0);
#endif
}

/* TLS's codes are no request's: no status. Without TLS they are unknown. */
static void test_tls(void)
{
#if defined(LG_NO_TLS)
    CHECK(strcmp(lg_err_name(LG_ERR_TLS_CERT_HOST), unknown_name) == 0);
#else
    CHECK(strcmp(lg_err_name(LG_ERR_TLS_CERT_HOST), "LG_ERR_TLS_CERT_HOST") == 0);
    CHECK_EQ_INT(lg_err_http_status(LG_ERR_TLS_PLAINTEXT), 0);
#endif
}

int main(void)
{
    unknown_name = lg_err_name(-1000);
    unknown_sentence = lg_strerror(-1000);
    CHECK(strcmp(unknown_name, "LG_ERR_UNKNOWN") == 0);
#if defined(LG_NO_ERROR_STRINGS)
    CHECK(strcmp(unknown_sentence, "LG_ERR_UNKNOWN") == 0); /* the names are the sentences */
#else
    CHECK(strcmp(unknown_sentence, "unknown error") == 0);
#endif
    test_every_code_known();
    test_no_code_beyond_the_enum();
    test_again();
    test_websocket();
    test_tls();
    TEST_MAIN_END();
}
