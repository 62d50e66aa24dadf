/*
 * `linger ws URL`: a WebSocket from the command line, as websocat does.
 * Each line of stdin goes out as a text message (--binary: binary), and
 * each message that comes in is printed on stdout with a newline. At the
 * end of stdin the closing handshake is begun (1000); the exit status says
 * how the connection ended (0: a normal closing handshake, from either
 * side), with the client commands' statuses for what failed before
 * (docs/client.md, "The command line").
 *
 * wss:// where the build has TLS: the server's certificate is checked
 * against the system's CAs or --cacert FILE's, as linger get does;
 * -k/--insecure checks nothing, and says so.
 *
 * One thread: stdin is watched by the loop like any descriptor (a regular
 * file, which cannot be watched, is read as fast as the connection takes
 * it), and while the send queue is full stdin is not read.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "linger.h"
#if !defined(LG_NO_WEBSOCKET)
#include "linger_ws.h"

#define MAX_LINE (1u << 20) /* the default message size limit */

typedef struct ws_cli {
    lg_loop *loop;
    lg_client *cli;
    lg_ws *ws;
    const char *url;
    int binary, quiet;
    int status;
    int opened, closing;
    /* stdin */
    lg_io in;
    int in_watched;      /* lg_io works on it (a pipe, a terminal) */
    int in_eof;
    int in_wait;         /* the send queue is full: not reading */
    lg_defer in_step;    /* a regular file: read it a piece at a time */
    char *line;
    size_t line_len;
} ws_cli;

static void usage(FILE *f)
{
    fprintf(f, "usage: linger ws URL [options]\n"
               "  Sends each line of stdin as a text message and prints each message\n"
               "  received, one per line; at the end of stdin, closes (1000).\n"
               "options:\n"
               "  -H 'Name: value'  add a field to the handshake (Origin, Authorization ...)\n"
               "  --protocol P      offer subprotocol P (repeatable, in order of preference)\n"
               "  --binary          send lines as binary messages\n"
               "  --timeout S       give up on the handshake after S seconds\n"
               "  -q                no 'connected' line on stderr\n"
               "  --cacert FILE     wss: trust the CAs in FILE (default: the system's)\n"
               "  -k, --insecure    wss: do not check the server's certificate at all\n"
               "URL: ws://host[:port]/path or wss:// (or http://, https://; host/path\n"
               "  means ws://host/path)\n"
               "exit status: 0 closed normally (1000, 1001 or no code, either side);\n"
               "  17 handshake refused or answered wrongly; 18 closed otherwise (another\n"
               "  code, a protocol error, the connection lost); 2 usage; 3 bad URL;\n"
               "  4 unsupported scheme; 5 name not resolved; 6 cannot connect; 7 timeout;\n"
               "  8 closed before a response; 11 malformed response; 15 --cacert unusable;\n"
               "  16 out of memory; TLS: 23 handshake failed; certificate 24 expired,\n"
               "  25 not trusted, 26 for another host, 27 otherwise wrong; 28 plain HTTP\n"
               "  at the other end; 29 closed during the handshake; 1 anything else\n");
}

static void stop_reading(ws_cli *st);
static void read_stdin(ws_cli *st);
static void stdin_step(lg_defer *d);

/* Send the complete lines in st->line; keep the rest. 0, or -1 when the
 * queue is full (the line stays). */
static int send_lines(ws_cli *st, int all)
{
    size_t off = 0;
    int rc = 0;
    while (off < st->line_len) {
        char *nl = memchr(st->line + off, '\n', st->line_len - off);
        if (!nl && !all) break;
        size_t end = nl ? (size_t)(nl - st->line) : st->line_len;
        size_t len = end - off;
        if (len && st->line[off + len - 1] == '\r') len--;
        int sent = lg_ws_send(st->ws, st->binary ? LG_WS_BINARY : LG_WS_TEXT, st->line + off, len);
        if (sent == LG_ERR_AGAIN) {
            rc = -1;
            break;
        }
        if (sent == LG_ERR_WS_UTF8)
            fprintf(stderr, "linger ws: a line that is not UTF-8 was not sent (--binary sends it)\n");
        else if (sent != LG_OK) {
            rc = -1;
            break;
        }
        off = nl ? end + 1 : st->line_len;
    }
    memmove(st->line, st->line + off, st->line_len - off);
    st->line_len -= off;
    return rc;
}

static void stdin_ended(ws_cli *st)
{
    st->in_eof = 1;
    stop_reading(st);
    if (send_lines(st, 1) != 0) return; /* the rest after on_drain */
    if (!st->closing) {
        st->closing = 1;
        lg_ws_close(st->ws, LG_WS_CLOSE_NORMAL, NULL);
    }
}

static void read_stdin(ws_cli *st)
{
    if (st->in_eof || st->in_wait || !st->ws) return;
    int whole = 0;
    if (st->line_len == MAX_LINE) {
        whole = 1; /* a line as long as a message may be: sent as it is */
    } else {
        ssize_t n = read(0, st->line + st->line_len, MAX_LINE - st->line_len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
        if (n <= 0) {
            stdin_ended(st);
            return;
        }
        st->line_len += (size_t)n;
    }
    if (send_lines(st, whole) != 0) {
        st->in_wait = 1; /* full: on_drain goes on */
        stop_reading(st);
        return;
    }
    if (!st->in_watched) lg_defer_call(st->loop, &st->in_step, stdin_step); /* next piece, next tick */
}

static void on_stdin(lg_io *io, unsigned events)
{
    (void)events;
    read_stdin(LG_CONTAINER_OF(io, ws_cli, in));
}

static void stdin_step(lg_defer *d)
{
    read_stdin(LG_CONTAINER_OF(d, ws_cli, in_step));
}

static void stop_reading(ws_cli *st)
{
    if (st->in_watched) lg_io_set(&st->in, 0);
    lg_defer_cancel(st->loop, &st->in_step);
}

static void start_reading(ws_cli *st)
{
    if (st->in_eof) return;
    st->in_wait = 0;
    if (st->in_watched) lg_io_set(&st->in, LG_READABLE);
    else lg_defer_call(st->loop, &st->in_step, stdin_step);
}

static void on_open(lg_ws *ws)
{
    ws_cli *st = lg_ws_user(ws);
    st->ws = ws;
    st->opened = 1;
    if (!st->quiet) {
        const char *p = lg_ws_protocol(ws);
        fprintf(stderr, "linger ws: connected to %s%s%s\n", st->url, p ? ", subprotocol " : "",
                p ? p : "");
    }
    lg_io_init(st->loop, &st->in, 0, on_stdin);
    st->in_watched = lg_io_set(&st->in, LG_READABLE) == LG_OK;
    if (!st->in_watched) lg_io_close(&st->in);
    start_reading(st);
}

static void on_message(lg_ws *ws, unsigned opcode, lg_str data)
{
    (void)ws;
    (void)opcode;
    fwrite(data.ptr, 1, data.len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

static void on_drain(lg_ws *ws)
{
    ws_cli *st = lg_ws_user(ws);
    if (st->in_eof) {
        stdin_ended(st);
        return;
    }
    start_reading(st);
}

/* What went wrong before the connection opened: the line and status the
 * get and post commands give for the same failure. */
static int describe_failure(const ws_cli *st, int err, int http, char *msg, size_t cap)
{
    int tls = cli_tls_failure(err, msg, cap);
    if (tls) return tls;
    switch (err) {
    case LG_ERR_WS_HANDSHAKE:
        if (http && http != 101)
            snprintf(msg, cap, "the server refused the WebSocket handshake: HTTP status %d", http);
        else
            snprintf(msg, cap, "the server's answer to the handshake is not a WebSocket's");
        return EXIT_WS_REFUSED;
    case LG_ERR_URL:
        snprintf(msg, cap, "invalid URL");
        return EXIT_URL;
    case LG_ERR_UNSUPPORTED:
#if defined(LINGER_CLI_TLS)
        snprintf(msg, cap, "unsupported scheme");
#else
        snprintf(msg, cap, "unsupported scheme (this build has no TLS)");
#endif
        return EXIT_UNSUPPORTED;
    case LG_ERR_TLS_TRUNCATED:
        snprintf(msg, cap, "connection closed (without TLS close_notify) before a complete "
                           "response head");
        return EXIT_NO_RESPONSE;
    case LG_ERR_RESOLVE:
        snprintf(msg, cap, "host name not found");
        return EXIT_RESOLVE;
    case LG_ERR_REFUSED:
    case LG_ERR_UNREACHABLE:
        snprintf(msg, cap, "cannot connect: %s", lg_strerror(err));
        return EXIT_CONNECT;
    case LG_ERR_TIMEOUT:
        snprintf(msg, cap, "timed out before the handshake was answered");
        return EXIT_TIMEOUT;
    case LG_ERR_CLOSED_EARLY:
    case LG_ERR_RESET:
    case LG_ERR_PIPE:
        snprintf(msg, cap, "connection %s before a complete response head",
                 err == LG_ERR_CLOSED_EARLY ? "closed" : "reset");
        return EXIT_NO_RESPONSE;
    case LG_ERR_NOMEM:
        snprintf(msg, cap, "out of memory");
        return EXIT_NOMEM;
    default:
        break;
    }
    (void)st;
    if ((err < 0 && err >= LG_ERR_EXPECTATION) || err == LG_ERR_PROTOCOL) {
        snprintf(msg, cap, "malformed response: %s", lg_strerror(err));
        return EXIT_MALFORMED;
    }
    snprintf(msg, cap, "%s (%s)", lg_strerror(err), lg_err_name(err));
    return EXIT_OTHER;
}

static void on_close(lg_ws *ws, unsigned code, lg_str reason)
{
    ws_cli *st = lg_ws_user(ws);
    int err = lg_ws_error(ws);
    char msg[256];
    if (!st->opened) {
        st->status = describe_failure(st, err, lg_ws_http_status(ws), msg, sizeof msg);
        fprintf(stderr, "linger ws: %s: %s\n", st->url, msg);
    } else {
        stop_reading(st);
        if (st->in_watched) lg_io_close(&st->in);
        int normal = !err && (code == LG_WS_CLOSE_NORMAL || code == LG_WS_CLOSE_GOING_AWAY ||
                              code == LG_WS_CLOSE_NO_STATUS);
        if (normal) {
            st->status = EXIT_OK;
            if (!st->quiet && !st->closing)
                fprintf(stderr, "linger ws: closed by the server (%u%s%.*s)\n", code,
                        reason.len ? " " : "", (int)reason.len, reason.ptr);
        } else {
            st->status = EXIT_WS_CLOSED;
            if (code != LG_WS_CLOSE_ABNORMAL)
                fprintf(stderr, "linger ws: closed with status %u%s%.*s%s%s\n", code,
                        reason.len ? " " : "", (int)reason.len, reason.ptr, err ? ": " : "",
                        err ? lg_strerror(err) : "");
            else
                fprintf(stderr, "linger ws: connection lost without a closing handshake: %s\n",
                        err ? lg_strerror(err) : "closed");
        }
    }
    st->ws = NULL;
    lg_client_free(st->cli);
}

static const lg_ws_callbacks cbs = { .on_open = on_open,
                                     .on_message = on_message,
                                     .on_drain = on_drain,
                                     .on_close = on_close };

int cmd_ws(int argc, char **argv)
{
    ws_cli st;
    memset(&st, 0, sizeof st);
    lg_header headers[64];
    const char *protocols[17];
    size_t nh = 0, np = 0;
    uint32_t timeout_ms = 0;
    const char *cacert = NULL;
    int insecure = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-H") && val) {
            const char *colon = strchr(val, ':');
            if (!colon || colon == val || strpbrk(val, "\r\n") || nh == sizeof headers / sizeof headers[0]) {
                fprintf(stderr, "linger ws: bad or too many -H '%s'\n", val);
                return EXIT_USAGE;
            }
            const char *v = colon + 1;
            while (*v == ' ' || *v == '\t') v++;
            headers[nh].name = (lg_str){ val, (size_t)(colon - val) };
            headers[nh].value = (lg_str){ v, strlen(v) };
            nh++;
            i++;
        } else if (!strcmp(a, "--protocol") && val) {
            if (np == sizeof protocols / sizeof protocols[0] - 1) {
                fprintf(stderr, "linger ws: too many --protocol\n");
                return EXIT_USAGE;
            }
            protocols[np++] = val;
            i++;
        } else if (!strcmp(a, "--binary")) {
            st.binary = 1;
        } else if (!strcmp(a, "-q")) {
            st.quiet = 1;
        } else if (!strcmp(a, "--cacert") && val) {
            cacert = val;
            i++;
        } else if (!strcmp(a, "-k") || !strcmp(a, "--insecure")) {
            insecure = 1;
        } else if (!strcmp(a, "--timeout") && val) {
            double s = atof(val);
            if (s <= 0) {
                fprintf(stderr, "linger ws: bad --timeout '%s'\n", val);
                return EXIT_USAGE;
            }
            timeout_ms = (uint32_t)(s * 1000 + 0.5);
            i++;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "linger ws: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return EXIT_USAGE;
        } else if (!st.url) {
            st.url = a;
        } else {
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!st.url) {
        usage(stderr);
        return EXIT_USAGE;
    }
    protocols[np] = NULL;
    char *url_buf = NULL;
    if (!strstr(st.url, "://")) { /* "host/path" means ws://host/path */
        size_t n = strlen(st.url) + 6;
        url_buf = malloc(n);
        if (!url_buf) return EXIT_NOMEM;
        snprintf(url_buf, n, "ws://%s", st.url);
        st.url = url_buf;
    }
    lg_client_config ccfg = { 0 };
    struct lg_tls_client *tls;
    int needed = !strncmp(st.url, "wss:", 4) || !strncmp(st.url, "https:", 6);
    int trc = cli_tls_client("ws", &(cli_tls_options){ .cacert = cacert, .insecure = insecure,
                                                       .needed = needed,
                                                       .timeout_ms = timeout_ms },
                             &tls, &ccfg);
    if (trc) {
        free(url_buf);
        return trc;
    }
    st.line = malloc(MAX_LINE);
    st.loop = lg_loop_new(NULL);
    st.cli = st.loop ? lg_client_new(st.loop, &ccfg) : NULL;
    if (!st.line || !st.cli) {
        fprintf(stderr, "linger ws: out of memory\n");
        return EXIT_NOMEM;
    }
    lg_ws_config cfg = { .headers = headers, .num_headers = nh,
                         .protocols = np ? protocols : NULL, .handshake_timeout_ms = timeout_ms };
    st.status = EXIT_OTHER;
    if (!lg_ws_connect(st.cli, st.url, &cfg, &cbs, &st)) {
        fprintf(stderr, "linger ws: out of memory\n");
        lg_client_free(st.cli);
        st.status = EXIT_NOMEM;
    }
    lg_loop_run(st.loop);
    lg_loop_free(st.loop);
    cli_tls_client_free(tls);
    free(st.line);
    free(url_buf);
    return st.status;
}

#else

int cmd_ws(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "linger ws: this build has no WebSocket support\n");
    return EXIT_UNSUPPORTED;
}

#endif
