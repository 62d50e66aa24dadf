/*
 * `linger get` and `linger post`: the client from the command line.
 *
 *   linger get URL... [-o FILE]... [-H 'Name: value']... [-i] [--timeout S]
 *              [-u USER:PASSWORD [--basic] | --bearer TOKEN]
 *   linger post URL (-d DATA | --data-file FILE) [options]
 *
 * https:// URLs where the build has TLS (linger_tls.h): the server's
 * certificate is checked against the system's CAs, or --cacert FILE's;
 * -k/--insecure checks nothing, and says so on every connection.
 *
 * -u answers the server's 401 once, with Digest when it offers it, else
 * Basic; --basic sends Basic at once, as curl -u does by default (linger
 * does not: a password in the clear only when asked to). The credentials
 * go only to the origin of the URL they came with.
 *
 * As in curl, the n-th -o names the file of the n-th URL, wherever it stands
 * on the line; URLs without one go to stdout.
 *
 * The exit status is 0 only for a complete response, whatever its status
 * (with --fail: 22 for 4xx and 5xx). Every failure prints one line on
 * stderr and exits with the status of its kind (see usage()), so a script
 * can tell a refused connection from a cut body from a reset.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "linger.h"
#if defined(LINGER_CLI_TLS)
#include "linger_tls.h"
#endif

#if defined(LINGER_CLI_TLS)
#define LINGER_CLI_CA_FILE LG_TLS_DEFAULT_CA_FILE
#else
#define LINGER_CLI_CA_FILE "no TLS in this build"
#endif

static void usage(FILE *f, const char *cmd)
{
    fprintf(f,
            "usage: linger get URL... [options]\n"
            "       linger post URL (-d DATA | --data-file FILE) [options]\n"
            "options:\n"
            "  -o FILE          write a body to FILE: the n-th -o goes with the n-th URL,\n"
            "                   URLs without one go to stdout\n"
            "  -H 'Name: value' add a request header (repeatable; no CR or LF)\n"
            "  -i               print the response head before the body, to the same output\n"
            "  -d DATA          (post) the request body\n"
            "  --data-file F    (post) the request body from a file\n"
            "  --expect         (post) send Expect: 100-continue\n"
            "  --timeout S      give up on a request after S seconds (its TLS handshake too)\n"
            "  --no-follow      do not follow redirects\n"
            "  -u USER:PASSWORD answer the server's 401 (Digest, or Basic) once\n"
            "  --basic          with -u: send Basic at once, without waiting for a 401\n"
            "  --bearer TOKEN   send Authorization: Bearer TOKEN\n"
            "  -f, --fail       exit 22 for a 4xx or 5xx status\n"
            "  -v               one line per response on stderr (connection reuse, timing)\n"
            "  -q               no progress bar\n"
            "  --cacert FILE    https: trust the CAs in FILE (default: the system's,\n"
            "                   " LINGER_CLI_CA_FILE ")\n"
            "  -k, --insecure   https: do not check the server's certificate at all\n"
            "  --cert FILE      https: a client certificate (PEM or DER), with --key FILE\n"
            "exit status: 0 complete response; 2 usage; 3 bad URL; 4 unsupported scheme;\n"
            "  5 name not resolved; 6 cannot connect; 7 timeout; 8 closed before a response;\n"
            "  9 closed before the end of the body; 10 reset during the body;\n"
            "  11 malformed response; 12 response head too large; 13 too large;\n"
            "  14 too many redirects; 15 local file error; 16 out of memory; 22 --fail;\n"
            "  TLS: 23 handshake failed; certificate 24 expired, 25 not trusted (self-signed,\n"
            "  unknown CA), 26 for another host, 27 otherwise wrong; 28 plain HTTP at the\n"
            "  other end; 29 closed during the handshake; 30 body ended without close_notify;\n"
            "  1 anything else\n");
    (void)cmd;
}

typedef struct cli_state {
    lg_loop *loop;
    lg_client *cli;
    const char *cmd;
    char **urls;
    char **outs; /* outs[i]: URL i's -o file, or NULL for stdout */
    int nurls, next;
    char *url_buf;
    lg_header headers[64];
    int nheaders;
    int out_fd;           /* the current transfer's output */
    const char *out_name; /* its file, or NULL for stdout */
    int include_head, fail, verbose, quiet, no_follow, expect;
    int progress_ok, stdout_tty;
    int progress; /* show a progress bar for the current transfer */
    uint32_t timeout_ms;
    char *user;           /* -u: "user\0password", split at the first ':' */
    const char *password;
    const char *bearer;
    int basic;
    const char *data;
    size_t data_len;
    int data_file;
    uint64_t data_file_len;
    int status;   /* exit status so far */
    int write_error; /* errno of the current output's failed write */
    /* progress */
    uint64_t shown_at_ms, started_ms;
    int bar_drawn;
} cli_state;

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* --- progress on stderr: for large downloads to a file or a pipe --- */

static void human(char *buf, size_t cap, double v)
{
    const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

static void draw_progress(cli_state *st, const lg_response *res, int final)
{
    uint64_t now = lg_loop_now(st->loop);
    if (!final && now - st->shown_at_ms < 100) return;
    uint64_t total = res->framing == LG_FRAMING_LENGTH ? res->content_length : 0;
    uint64_t got = res->body_bytes;
    /* small answers need no bar */
    if (!st->bar_drawn && !final && (total ? total : got) < (1u << 20)) return;
    if (!st->bar_drawn && final) return;
    st->shown_at_ms = now;
    double secs = (double)(now - st->started_ms) / 1000.0;
    char a[32], b[32], r[32];
    human(a, sizeof a, (double)got);
    human(r, sizeof r, secs > 0 ? (double)got / secs : 0);
    if (total) {
        int width = 30, fill = (int)((double)got / (double)total * width);
        char bar[64];
        for (int i = 0; i < width; i++) bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
        bar[width] = 0;
        human(b, sizeof b, (double)total);
        fprintf(stderr, "\r%3d%% [%s] %s / %s  %s/s ", (int)(100.0 * (double)got / (double)total), bar, a,
                b, r);
    } else {
        fprintf(stderr, "\r%s  %s/s ", a, r);
    }
    if (final) fputc('\n', stderr);
    st->bar_drawn = 1;
}

/* --- the callbacks --- */

static void print_head(cli_state *st, const lg_response *res)
{
    char line[64];
    int n = snprintf(line, sizeof line, "HTTP/1.%d %d ", res->version_minor, res->status);
    int rc = write_all(st->out_fd, line, (size_t)n);
    rc |= write_all(st->out_fd, res->reason.ptr ? res->reason.ptr : "", res->reason.len);
    rc |= write_all(st->out_fd, "\r\n", 2);
    for (size_t i = 0; i < res->head.num_headers; i++) {
        const lg_header *h = &res->head.headers[i];
        rc |= write_all(st->out_fd, h->name.ptr, h->name.len);
        rc |= write_all(st->out_fd, ": ", 2);
        rc |= write_all(st->out_fd, h->value.ptr, h->value.len);
        rc |= write_all(st->out_fd, "\r\n", 2);
    }
    rc |= write_all(st->out_fd, "\r\n", 2);
    if (rc) st->write_error = errno;
}

static void on_head(lg_response *res, void *user)
{
    cli_state *st = user;
    if (st->include_head) print_head(st, res);
}

static int on_body(lg_response *res, lg_str chunk, void *user)
{
    cli_state *st = user;
    if (write_all(st->out_fd, chunk.ptr, chunk.len) != 0) {
        st->write_error = errno;
        return LG_ERR_IO;
    }
    if (st->progress) {
        /* body_bytes counts what came before this chunk */
        lg_response shown = *res;
        shown.body_bytes += chunk.len;
        draw_progress(st, &shown, 0);
    }
    return 0;
}

/* What went wrong, in one line, and its exit status. */
static int describe(const cli_state *st, const lg_response *res, char *msg, size_t cap)
{
    int e = res->err;
    unsigned long long got = (unsigned long long)res->body_bytes;
    /* First: a failed write (of the body, or of the head with -i, which
     * does not stop the transfer) makes the rest beside the point. */
    if (st->write_error) {
        snprintf(msg, cap, "cannot write %s: %s", st->out_name ? st->out_name : "to stdout",
                 strerror(st->write_error));
        return EXIT_LOCAL_FILE;
    }
    int tls = cli_tls_failure(e, msg, cap);
    if (tls) return tls;
    switch (e) {
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
        if (res->stage < LG_STAGE_BODY) {
            snprintf(msg, cap, "connection closed (without TLS close_notify) before a complete "
                               "response head");
            return EXIT_NO_RESPONSE;
        }
        snprintf(msg, cap, "connection closed without TLS close_notify after %llu bytes of a body "
                           "that ends at the close: it may be incomplete", got);
        return EXIT_TLS_TRUNCATED;
    case LG_ERR_RESOLVE:
        snprintf(msg, cap, "host name not found");
        return EXIT_RESOLVE;
    case LG_ERR_REFUSED:
    case LG_ERR_UNREACHABLE:
        snprintf(msg, cap, "cannot connect: %s", lg_strerror(e));
        return EXIT_CONNECT;
    case LG_ERR_TIMEOUT: {
        static const char *const where[] = { "starting", "resolving the name", "connecting",
                                             "waiting for the response", "reading the response head",
                                             "reading the body", "" };
        if (res->stage == LG_STAGE_BODY)
            snprintf(msg, cap, "timed out reading the body, after %llu bytes", got);
        else
            snprintf(msg, cap, "timed out %s", where[res->stage]);
        return EXIT_TIMEOUT;
    }
    case LG_ERR_REDIRECTS:
        snprintf(msg, cap, "too many redirects (%d)", res->redirects);
        return EXIT_REDIRECTS;
    case LG_ERR_NOMEM:
        snprintf(msg, cap, "out of memory");
        return EXIT_NOMEM;
    case LG_ERR_HEADERS_TOO_LARGE:
    case LG_ERR_TOO_MANY_HEADERS:
        snprintf(msg, cap, "response head too large (%s)", lg_strerror(e));
        return EXIT_HEAD_LARGE;
    case LG_ERR_TOO_LARGE:
        snprintf(msg, cap, "response body too large");
        return EXIT_TOO_LARGE;
    default:
        break;
    }
    if (e == LG_ERR_CLOSED_EARLY || e == LG_ERR_RESET || e == LG_ERR_PIPE) {
        const char *how = e == LG_ERR_CLOSED_EARLY ? "closed" : "reset";
        if (res->stage < LG_STAGE_BODY) {
            snprintf(msg, cap, "connection %s before a complete response head", how);
            return EXIT_NO_RESPONSE;
        }
        if (res->framing == LG_FRAMING_LENGTH)
            snprintf(msg, cap, "connection %s after %llu of %llu body bytes: the body is incomplete", how,
                     got, (unsigned long long)res->content_length);
        else if (res->framing == LG_FRAMING_CHUNKED)
            snprintf(msg, cap, "connection %s after %llu bytes, before the last chunk: the body is incomplete",
                     how, got);
        else
            snprintf(msg, cap, "connection reset after %llu bytes of a body that ends at the close: "
                               "it may be incomplete", got);
        return e == LG_ERR_CLOSED_EARLY ? EXIT_CUT : EXIT_RESET;
    }
    if (e < 0 && e >= LG_ERR_EXPECTATION) {
        snprintf(msg, cap, "malformed response: %s (%s)", lg_strerror(e), lg_err_name(e));
        return EXIT_MALFORMED;
    }
    if (e == LG_ERR_PROTOCOL) {
        snprintf(msg, cap, "malformed response: %s", lg_strerror(e));
        return EXIT_MALFORMED;
    }
    snprintf(msg, cap, "%s (%s)", lg_strerror(e), lg_err_name(e));
    return EXIT_OTHER;
}

/* URL i's output. A file is opened as its transfer starts, not all at
 * the outset: one descriptor at a time however many URLs, and a file named
 * twice ends with the later body alone, as in curl, not with the later body
 * written over the start of the earlier one. A file that cannot be opened
 * fails its URL alone, as a failed transfer does. */
static int open_output(cli_state *st, int i)
{
    st->out_fd = 1;
    st->out_name = NULL;
    st->write_error = 0;
    if (st->outs[i]) {
        int fd = open(st->outs[i], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) {
            fprintf(stderr, "linger %s: cannot write %s: %s\n", st->cmd, st->outs[i], strerror(errno));
            if (!st->status) st->status = EXIT_LOCAL_FILE;
            return -1;
        }
        st->out_fd = fd;
        st->out_name = st->outs[i];
    }
    /* a bar only where it cannot mix with the body */
    st->progress = st->progress_ok && (st->out_name || !st->stdout_tty);
    return 0;
}

/* Some file systems (NFS) report a failed write only at close. */
static void close_output(cli_state *st)
{
    if (!st->out_name) return;
    if (close(st->out_fd) != 0 && !st->write_error) {
        fprintf(stderr, "linger %s: cannot write %s: %s\n", st->cmd, st->out_name, strerror(errno));
        if (!st->status) st->status = EXIT_LOCAL_FILE;
    }
    st->out_fd = 1;
    st->out_name = NULL;
}

static void start_next(cli_state *st);

static void on_response(lg_response *res, void *user)
{
    cli_state *st = user;
    if (st->progress) draw_progress(st, res, 1);
    st->bar_drawn = 0;
    if (st->verbose) {
        const lg_client_stats *s = lg_client_get_stats(st->cli);
        fprintf(stderr, "linger: %s: %s, status %d, %llu body bytes%s%s%s, %d redirect(s), %llu connection(s) so far\n",
                res->url, res->err ? lg_err_name(res->err) : "complete", res->status,
                (unsigned long long)res->body_bytes, res->flags & LG_RES_REUSED ? ", reused connection" : "",
                res->flags & LG_RES_RETRIED ? ", retried" : "", res->flags & LG_RES_EARLY ? ", early" : "",
                res->redirects, (unsigned long long)s->connects);
    }
    if (res->err || st->write_error) {
        char msg[512];
        int code = describe(st, res, msg, sizeof msg);
        fprintf(stderr, "linger: %s: %s\n", res->url[0] ? res->url : st->urls[st->next - 1], msg);
        if (!st->status) st->status = code;
    } else if (st->fail && res->status >= 400) {
        fprintf(stderr, "linger: %s: HTTP status %d %.*s\n", res->url, res->status, (int)res->reason.len,
                res->reason.ptr);
        if (!st->status) st->status = EXIT_HTTP_ERROR;
    }
    close_output(st);
    start_next(st);
}

static void start_fetch(cli_state *st, const char *u)
{
    /* "host/path" means http://host/path, as in curl */
    free(st->url_buf);
    st->url_buf = NULL;
    if (!strstr(u, "://")) {
        size_t n = strlen(u) + 8;
        st->url_buf = malloc(n);
        snprintf(st->url_buf, n, "http://%s", u);
        u = st->url_buf;
    }
    lg_request req = { .url = u, .headers = st->headers, .num_headers = (size_t)st->nheaders,
                       .on_body = on_body, .on_head = on_head, .timeout_ms = st->timeout_ms };
    if (st->no_follow) req.flags |= LG_FETCH_NO_REDIRECTS;
    if (st->data) {
        req.body = st->data;
        req.body_len = st->data_len;
    } else if (st->data_file >= 0) {
        req.flags |= LG_FETCH_BODY_FILE;
        req.body_file = st->data_file;
        req.body_len = st->data_file_len;
    }
    if (st->expect) req.flags |= LG_FETCH_EXPECT_CONTINUE;
    req.user = st->user;
    req.password = st->password;
    req.bearer = st->bearer;
    if (st->basic) req.flags |= LG_FETCH_BASIC;
    st->started_ms = st->shown_at_ms = lg_loop_now(st->loop);
    if (!lg_fetch(st->cli, &req, on_response, st)) {
        fprintf(stderr, "linger: out of memory\n");
        st->status = EXIT_NOMEM;
        close_output(st);
        lg_client_free(st->cli);
    }
}

static void start_next(cli_state *st)
{
    while (st->next < st->nurls) {
        int i = st->next++;
        if (open_output(st, i) == 0) {
            start_fetch(st, st->urls[i]);
            return;
        }
    }
    lg_client_free(st->cli);
}

/* arg with its control characters spelled out, so that the message about a
 * header stays on one line and shows where the CR or LF is. */
static void escape(char *out, size_t cap, const char *arg)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)arg; *p && n + 5 < cap; p++) {
        if (*p == '\r' || *p == '\n')
            n += (size_t)snprintf(out + n, cap - n, "\\%c", *p == '\r' ? 'r' : 'n');
        else if (*p < 0x20 || *p == 0x7f)
            n += (size_t)snprintf(out + n, cap - n, "\\x%02x", *p);
        else
            out[n++] = (char)*p;
    }
    out[n] = 0;
}

/* tchar, RFC 9110 5.6.2 */
static int is_token_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Refuse here what the library would refuse only when it writes the
 * request: the user then learns of a typo, not of a "malformed response".
 * A CR or LF would split the header in two (the library never lets it on
 * the wire), so it gets its own message. */
static int check_header(const char *cmd, const char *arg)
{
    const char *colon = strchr(arg, ':');
    const char *why = NULL;
    if (strpbrk(arg, "\r\n"))
        why = "contains a CR or LF";
    else if (!colon || colon == arg)
        why = "is not 'Name: value'";
    for (const char *p = arg; !why && p < colon; p++)
        if (!is_token_char((unsigned char)*p))
            why = "has a name that is not a token (letters, digits and !#$%&'*+-.^_`|~; no spaces)";
    for (const unsigned char *p = (const unsigned char *)colon; !why && *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f) why = "has a control character in its value";
    if (!why) return 0;
    char shown[256];
    escape(shown, sizeof shown, arg);
    fprintf(stderr, "linger %s: header '%s' %s\n", cmd, shown, why);
    return -1;
}

static int add_header(cli_state *st, const char *arg)
{
    const char *colon = strchr(arg, ':');
    if (!colon || colon == arg || st->nheaders == (int)(sizeof st->headers / sizeof st->headers[0]))
        return -1;
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t') v++;
    size_t vlen = strlen(v);
    while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t')) vlen--;
    lg_header *h = &st->headers[st->nheaders++];
    h->name.ptr = arg;
    h->name.len = (size_t)(colon - arg);
    h->value.ptr = v;
    h->value.len = vlen;
    return 0;
}

/* Field names compare without case: the codec's lookup does it, over a
 * head that is just the -H fields. */
static int has_header(cli_state *st, const char *name)
{
    lg_head fields = { .headers = st->headers, .num_headers = (uint16_t)st->nheaders };
    return lg_head_get(&fields, name).ptr != NULL;
}

/* The library's lines about TLS only: an insecure connection (a warning),
 * and with -v what failed in a handshake, in mbedTLS's words. (Its other
 * lines -- a reset sent, a close that waited -- are not the user's.) */
static void on_log(int level, const char *message, void *user)
{
    (void)level;
    if (strstr(message, "TLS")) fprintf(stderr, "linger %s: %s\n", (const char *)user, message);
}

static int run(int argc, char **argv, int post)
{
    const char *cmd = post ? "post" : "get";
    cli_state st;
    memset(&st, 0, sizeof st);
    st.cmd = cmd;
    st.out_fd = 1;
    st.data_file = -1;
    const char *data_file = NULL;
    const char *cacert = NULL, *client_cert = NULL, *client_key = NULL;
    int insecure = 0;
    /* one allocation: at most argc URLs and argc -o, and one free() */
    char **urls = calloc(2 * (size_t)argc, sizeof *urls);
    if (!urls) {
        fprintf(stderr, "linger %s: out of memory\n", cmd);
        return EXIT_NOMEM;
    }
    char **outs = urls + argc;
    int nurls = 0, nouts = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout, cmd);
            free(urls);
            return 0;
        } else if (!strcmp(a, "-o") && val) {
            /* paired with the n-th URL, which may come before or after */
            outs[nouts++] = argv[++i];
        } else if (!strcmp(a, "-H") && val) {
            if (check_header(cmd, val)) {
                free(urls);
                return EXIT_USAGE;
            }
            if (add_header(&st, val)) {
                fprintf(stderr, "linger %s: too many -H (at most %d)\n", cmd,
                        (int)(sizeof st.headers / sizeof st.headers[0]));
                free(urls);
                return EXIT_USAGE;
            }
            i++;
        } else if (!strcmp(a, "-i")) {
            st.include_head = 1;
        } else if (!strcmp(a, "-v")) {
            st.verbose = 1;
        } else if (!strcmp(a, "-q")) {
            st.quiet = 1;
        } else if (!strcmp(a, "-f") || !strcmp(a, "--fail")) {
            st.fail = 1;
        } else if (!strcmp(a, "--no-follow")) {
            st.no_follow = 1;
        } else if (!strcmp(a, "--expect") && post) {
            st.expect = 1;
        } else if (!strcmp(a, "--timeout") && val) {
            double s = atof(val);
            if (s <= 0) {
                fprintf(stderr, "linger %s: bad --timeout '%s'\n", cmd, val);
                free(urls);
                return EXIT_USAGE;
            }
            st.timeout_ms = (uint32_t)(s * 1000 + 0.5);
            i++;
        } else if (!strcmp(a, "-u") && val) {
            char *colon = strchr(argv[++i], ':');
            if (!colon) { /* (curl would ask for it on the terminal) */
                fprintf(stderr, "linger %s: -u wants USER:PASSWORD\n", cmd);
                free(urls);
                return EXIT_USAGE;
            }
            *colon = 0;
            st.user = argv[i];
            st.password = colon + 1;
        } else if (!strcmp(a, "--basic")) {
            st.basic = 1;
        } else if (!strcmp(a, "--bearer") && val) {
            st.bearer = argv[++i];
        } else if (!strcmp(a, "--cacert") && val) {
            cacert = val;
            i++;
        } else if (!strcmp(a, "--cert") && val) {
            client_cert = val;
            i++;
        } else if (!strcmp(a, "--key") && val) {
            client_key = val;
            i++;
        } else if (!strcmp(a, "-k") || !strcmp(a, "--insecure")) {
            insecure = 1;
        } else if (!strcmp(a, "-d") && val && post) {
            st.data = val;
            st.data_len = strlen(val);
            i++;
        } else if (!strcmp(a, "--data-file") && val && post) {
            data_file = val;
            i++;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "linger %s: unknown or incomplete option '%s'\n", cmd, a);
            usage(stderr, cmd);
            free(urls);
            return EXIT_USAGE;
        } else {
            urls[nurls++] = argv[i];
        }
    }
    if (nurls == 0 || (post && nurls != 1) || (post && !st.data && !data_file) || (st.data && data_file) ||
        (st.basic && !st.user) || (st.bearer && st.user)) {
        usage(stderr, cmd);
        free(urls);
        return EXIT_USAGE;
    }
    /* curl warns and ignores the extra ones; a file the user asked for that
     * would never be written is more likely a mistake worth stopping for */
    if (nouts > nurls) {
        fprintf(stderr, "linger %s: %d -o for %d URL%s: each -o names the file of one URL, in order\n", cmd,
                nouts, nurls, nurls == 1 ? "" : "s");
        free(urls);
        return EXIT_USAGE;
    }
    if (data_file) {
        st.data_file = open(data_file, O_RDONLY);
        struct stat sb;
        if (st.data_file < 0 || fstat(st.data_file, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            fprintf(stderr, "linger %s: cannot read %s: %s\n", cmd, data_file,
                    st.data_file < 0 ? strerror(errno) : "not a regular file");
            free(urls);
            return EXIT_LOCAL_FILE;
        }
        st.data_file_len = (uint64_t)sb.st_size;
    }
    if (post && !has_header(&st, "Content-Type"))
        add_header(&st, st.data ? "Content-Type: application/x-www-form-urlencoded"
                                : "Content-Type: application/octet-stream");
    st.progress_ok = !st.quiet && isatty(2);
    st.stdout_tty = isatty(1);

    st.urls = urls;
    st.outs = outs;
    st.nurls = nurls;
    /* The library's warnings (an insecure connection) and, with -v, what
     * failed in a TLS handshake, in its words. */
    st.loop = lg_loop_new(&(lg_loop_config){ .log = on_log, .log_user = (void *)cmd,
                                             .log_level = st.verbose ? LG_LOG_INFO : LG_LOG_WARN });
    /* Downloads: a larger buffer means fewer system calls per byte. */
    lg_client_config cfg = { .recv_buffer_bytes = 256u << 10, .max_conns_per_origin = 1 };
    int https = 0;
    for (int i = 0; i < nurls; i++) https |= !strncmp(urls[i], "https:", 6);
    struct lg_tls_client *tls;
    int trc = cli_tls_client(cmd, &(cli_tls_options){ .cacert = cacert, .cert = client_cert,
                                                      .key = client_key, .insecure = insecure,
                                                      .needed = https,
                                                      .timeout_ms = st.timeout_ms },
                             &tls, &cfg);
    if (trc) {
        if (st.loop) lg_loop_free(st.loop);
        free(urls);
        return trc;
    }
    st.cli = st.loop ? lg_client_new(st.loop, &cfg) : NULL;
    if (!st.cli) {
        fprintf(stderr, "linger %s: out of memory\n", cmd);
        return EXIT_NOMEM;
    }
    start_next(&st);
    lg_loop_run(st.loop);
    lg_loop_free(st.loop);
    cli_tls_client_free(tls);
    if (st.data_file >= 0) close(st.data_file);
    free(st.url_buf);
    free(urls);
    return st.status;
}

int cmd_get(int argc, char **argv)
{
    return run(argc, argv, 0);
}

int cmd_post(int argc, char **argv)
{
    return run(argc, argv, 1);
}
