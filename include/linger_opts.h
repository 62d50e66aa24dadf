/*
 * linger's build options, in one place (lwIP's opt.h is the model).
 *
 * Every option is off or at its default unless defined. Define them the
 * same way for the library and for every program that includes linger.h
 * (LG_NO_IPV6 changes a public structure):
 *
 *   CMake:     -DLINGER_OPTIONS="LG_NO_CLIENT;LG_NO_LOG"  (passed on to
 *              programs that link linger::linger, and to linger.pc)
 *   otherwise: -DLG_NO_CLIENT ... on every compile line, or a file of
 *              #defines named by -DLG_CONFIG_FILE='"linger_config.h"'
 *
 * Each switch leaves something out; what stays behaves as documented in
 * linger.h. A call into something left out either does not exist (the
 * client, the server) or returns LG_ERR_UNSUPPORTED (the others), so an
 * application learns at link time or from the first call, never by a
 * silent difference. docs/footprint.md has the sizes of the combinations
 * that are built and checked by `make size` (every one with -Werror, on
 * Cortex-M0+, Cortex-M4 and RV32IMC); other combinations are not tested.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef LINGER_OPTS_H
#define LINGER_OPTS_H

#if defined(LG_CONFIG_FILE)
#include LG_CONFIG_FILE
#endif

/* --- what to leave out ------------------------------------------------ */

/* LG_NO_CLIENT: the HTTP client (src/client*.c: lg_client_*, lg_fetch*).
 * URLs (src/url.c) stay: the server decodes paths and forms with them. */

/* LG_NO_SERVER: the HTTP server (src/server*.c, router.c, static*.c). */

/* LG_NO_FILES: static files and everything else that reads files:
 * lg_server_static and lg_res_send_fd return LG_ERR_UNSUPPORTED, as do the
 * client's file bodies (LG_FETCH_BODY_FILE) and lg_stream_sendfile. The
 * portable layers then use no <unistd.h>, <fcntl.h> or <sys/stat.h>. */

/* LG_NO_CHUNKED_UPLOAD: request bodies in chunks. The server answers a
 * chunked request body with 411 Length Required (RFC 9110 15.5.12: send
 * a Content-Length), and the client refuses producer bodies of unknown
 * length (LG_ERR_UNSUPPORTED). Chunked responses are still sent (streamed
 * answers) and, with the client, still read. */

/* LG_NO_IPV6: IPv4 only. lg_addr keeps 4 address bytes instead of 16, and
 * "[::1]:80" no longer parses. */

/* LG_NO_LOG: no lg_log(): the loop's log hook is never called, and no
 * formatting code (vsnprintf) is linked. Counters (lg_loop_stats) stay. */

/* LG_NO_ERROR_STRINGS: lg_strerror() returns the code's name
 * ("LG_ERR_RESET") instead of a sentence, and lg_status_reason() knows only
 * the statuses linger sends itself (others: "Unknown"). Error answers say
 * "404 Not Found" without the sentence after it. */

/* LG_NO_THREADS: no lg_loop_post() (LG_ERR_UNSUPPORTED) and no host-name
 * lookups (lg_resolve answers numeric addresses only): the platform needs
 * no mutex, no wake-up socket and no task. */

/* LG_NO_DATE: no Date header in answers, for a device without a wall
 * clock (also a run-time choice: lg_server_config.no_date); no <time.h>. */

/* LG_NO_AUTH: the server's authentication helpers (lg_req_basic_auth,
 * lg_req_bearer, lg_res_ask_*, lg_equal_ct; src/server_auth.c), and the
 * client's answers to a 401 (src/client_auth.c): lg_request.user is then
 * LG_ERR_UNSUPPORTED unless sent at once (LG_FETCH_BASIC); bearer tokens
 * and a URL's userinfo still go. */

/* LG_NO_DIGEST: Digest authentication (RFC 7616), the server's
 * (lg_req_digest, lg_digest_check, lg_res_ask_digest; src/server_digest.c)
 * and the client's answer to a Digest challenge (src/client_auth.c), with
 * MD5 (src/md5.c, src/digest.c). Implied by LG_NO_SHA256. */
#if defined(LG_NO_SHA256) && !defined(LG_NO_DIGEST)
#define LG_NO_DIGEST
#endif

/* LG_NO_SESSION: signed cookie sessions (lg_session_*,
 * src/server_session.c). Implied by LG_NO_SHA256. */
#if defined(LG_NO_SHA256) && !defined(LG_NO_SESSION)
#define LG_NO_SESSION
#endif

/* LG_NO_TEST_CLIENT: the in-process test client (lg_test_*,
 * src/test_client.c). It costs a program nothing unless called. */

/* LG_NO_CORS: the CORS hook (lg_cors_hook, src/server_cors.c). */

/* LG_NO_JSON: the JSON writer (lg_json_*, src/json.c). */

/* LG_NO_SHA256: SHA-256 and HMAC-SHA-256 (lg_sha256_*, lg_hmac_sha256_*,
 * src/sha256.c). */

/* LG_NO_MULTIPART: the multipart/form-data decoder (lg_multipart_*,
 * src/multipart.c) and its error strings. */

/* LG_NO_FORMS: forms and streamed uploads in the server (lg_req_read_form,
 * lg_form_*; src/server_form.c). A build without the multipart decoder
 * has none either. */
#if defined(LG_NO_MULTIPART) && !defined(LG_NO_FORMS)
#define LG_NO_FORMS
#endif

/* LG_NO_WEBSOCKET: WebSocket (include/linger_ws.h: the connections,
 * src/ws_*.c, and the codec with src/sha1.c) and its error strings.
 * (CMake: -DLINGER_WEBSOCKET=OFF does the same and leaves its files out
 * of the build.) Server-Sent Events are the server's and stay. */

/* LG_NO_TLS: the TLS error codes' names and sentences (LG_ERR_TLS_*), for
 * a build that will have no TLS transport (src/tls_mbedtls.c is not in the
 * library either way: linger::tls, docs/tls.md). CMake then builds no
 * linger::tls. */

/* LG_NO_SIMD: scalar scanners only in the codec (a CPU without vectors
 * gets them anyway). LG_NO_POLL: no poll() backend (a platform with its
 * own lg_backend, which it names with -DLG_DEFAULT_BACKEND=... as it
 * names its platform with -DLG_DEFAULT_NET=...). */

/* --- sizes ------------------------------------------------------------ */

/* Route parameters (":id", "*rest") per route. */
#ifndef LG_MAX_PARAMS
#define LG_MAX_PARAMS 8
#endif

/* The server's defaults for the head of a request (lg_server_config
 * recv_buffer_bytes and max_headers, when left 0). On a hosted system they
 * take what browsers send — a page with many cookies sends 8 KiB and more,
 * and nginx takes 100 header lines — and a busy connection's buffer costs
 * little there (an idle one holds none). A device keeps 4 KiB and 32
 * lines: a connection's receive buffer is most of its RAM. */
#if defined(__linux__) || defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || \
    defined(__OpenBSD__) || defined(_WIN32)
#define LG__HOSTED_DEFAULTS 1
#endif
#ifndef LG_SERVER_DEFAULT_RECV_BUFFER
#if defined(LG__HOSTED_DEFAULTS)
#define LG_SERVER_DEFAULT_RECV_BUFFER 16384
#else
#define LG_SERVER_DEFAULT_RECV_BUFFER 4096
#endif
#endif
#ifndef LG_SERVER_DEFAULT_MAX_HEADERS
#if defined(LG__HOSTED_DEFAULTS)
#define LG_SERVER_DEFAULT_MAX_HEADERS 100
#else
#define LG_SERVER_DEFAULT_MAX_HEADERS 32
#endif
#endif

/* The data a signed cookie session holds (lg_session: "key\0value\0"
 * pairs). The cookie is about 4/3 of it and 60 bytes more, and must fit
 * lg_res_set_cookie's 512 bytes with its attributes: 280 at most. */
#ifndef LG_SESSION_MAX_BYTES
#define LG_SESSION_MAX_BYTES 256
#endif

/* Addresses one server listens on. */
#ifndef LG_MAX_LISTENERS
#define LG_MAX_LISTENERS 4
#endif

/* Before-hooks and after-hooks (each), and error handlers, per server. */
#ifndef LG_MAX_HOOKS
#define LG_MAX_HOOKS 4
#endif
#ifndef LG_MAX_ERROR_HANDLERS
#define LG_MAX_ERROR_HANDLERS 8
#endif

#endif /* LINGER_OPTS_H */
