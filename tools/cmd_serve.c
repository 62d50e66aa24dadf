/*
 * `linger serve`: the demo server.
 *
 *   GET  /            a small page about the server, with live figures
 *   GET  /hello       "Hello, World!" (for benchmarks)
 *   POST /echo        the request body, back
 *   GET  /api/stats   uptime, requests, connections (JSON; the page polls it)
 *   GET  /stream      a streamed (chunked) answer, one line every 100 ms
 *   GET  /static/...  files below --root
 *
 * SIGINT/SIGTERM shut it down gracefully: in-flight requests finish.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "linger.h"

/* The page links several assets from /static (--root), so that a browser
 * fetches them over parallel connections; app.js then polls /api/stats
 * over the kept-alive ones (tests/interop/browser/ checks both). */
static const char index_html[] =
    "<!doctype html>\n"
    "<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<title>linger</title>\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">\n"
    "<link rel=\"stylesheet\" href=\"/static/style.css\">\n"
    "</head><body>\n"
    "<header><img src=\"/static/logo.svg\" alt=\"\" width=\"48\" height=\"48\">"
    "<h1>linger</h1></header>\n"
    "<p class=\"lead\">An asynchronous HTTP/1.1 server and client in C, small enough for a "
    "microcontroller, that never resets a client by closing too early.</p>\n"
    "<section class=\"rules\">\n"
    "<figure><img src=\"/static/img/framing.svg\" alt=\"\">"
    "<figcaption>Read by framing, not by EOF</figcaption></figure>\n"
    "<figure><img src=\"/static/img/reset.svg\" alt=\"\">"
    "<figcaption>A reset is an ending with a cause</figcaption></figure>\n"
    "<figure><img src=\"/static/img/linger.svg\" alt=\"\">"
    "<figcaption>Never close with unread input</figcaption></figure>\n"
    "</section>\n"
    "<h2>This server, live</h2>\n"
    "<table id=\"stats\">\n"
    "<tr><th>uptime</th><td id=\"uptime\">&hellip;</td></tr>\n"
    "<tr><th>requests served</th><td id=\"requests\">&hellip;</td></tr>\n"
    "<tr><th>connections accepted</th><td id=\"connections\">&hellip;</td></tr>\n"
    "<tr><th>open connections</th><td id=\"active\">&hellip;</td></tr>\n"
    "</table>\n"
    "<p id=\"status\">loading live data&hellip;</p>\n"
    "<p>Try <a href=\"/hello\">/hello</a>, <a href=\"/stream\">/stream</a>, "
    "<code>curl -d hi http://HOST/echo</code>.</p>\n"
    "<script src=\"/static/app.js\"></script>\n"
    "</body></html>\n";

typedef struct demo {
    lg_loop *loop;
    lg_server *srv;
    int quiet;
    int sigpipe[2];
    lg_io sigio;
} demo;

static void on_index(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_header(res, "Content-Type", "text/html; charset=utf-8");
    lg_res_send(res, 200, index_html, sizeof index_html - 1);
}

static void on_hello(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_header(res, "Content-Type", "text/plain");
    lg_res_send(res, 200, "Hello, World!", 13);
}

static void on_echo(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_str body = lg_req_body(req);
    lg_str ct = lg_req_header(req, "Content-Type");
    if (ct.ptr && ct.len < 200) {
        char type[201];
        memcpy(type, ct.ptr, ct.len);
        type[ct.len] = 0;
        lg_res_header(res, "Content-Type", type);
    } else {
        lg_res_header(res, "Content-Type", "application/octet-stream");
    }
    lg_res_send(res, 200, body.ptr, body.len);
}

static void on_stats(lg_req *req, lg_res *res, void *user)
{
    demo *d = user;
    (void)req;
    const lg_server_stats *st = lg_server_get_stats(d->srv);
    char json[256];
    int n = snprintf(json, sizeof json,
                     "{\"uptime_ms\": %llu, \"requests\": %llu, \"connections\": %llu, "
                     "\"active_connections\": %u}\n",
                     (unsigned long long)(lg_loop_now(d->loop) - st->start_ms),
                     (unsigned long long)st->requests + 1, (unsigned long long)st->connections,
                     (unsigned)st->active_connections);
    lg_res_header(res, "Content-Type", "application/json");
    lg_res_header(res, "Cache-Control", "no-store");
    lg_res_send(res, 200, json, (size_t)n);
}

/* /stream: an answer that comes later than the handler's return, in pieces,
 * paced by a timer. */
typedef struct ticker {
    lg_timer t;
    lg_res *res;
    int n;
} ticker;

static void tick(lg_timer *t)
{
    ticker *k = t->data;
    char line[64];
    int len = snprintf(line, sizeof line, "tick %d of 10\n", ++k->n);
    if (lg_res_write(k->res, line, (size_t)len) == LG_ERR_CLOSED || k->n == 10) {
        lg_timer_stop(t);
        lg_res_end(k->res);
        free(k);
    }
}

static void on_stream(lg_req *req, lg_res *res, void *user)
{
    demo *d = user;
    (void)req;
    ticker *k = calloc(1, sizeof *k);
    if (!k) {
        lg_res_error(res, 503, "out of memory");
        return;
    }
    k->res = res;
    lg_res_header(res, "Content-Type", "text/plain; charset=utf-8");
    lg_res_start(res, 200);
    lg_timer_init(d->loop, &k->t, tick, k);
    lg_timer_start(&k->t, 0, 100);
}

static void access_log(lg_req *req, int status, uint64_t bytes, uint32_t ms, void *user)
{
    (void)user;
    char peer[64] = "-";
    lg_addr_format(lg_req_peer(req), peer, sizeof peer);
    lg_str m = lg_req_method(req), t = lg_req_target(req);
    fprintf(stderr, "%s \"%.*s %.*s\" %d %llu %ums\n", peer, (int)m.len, m.ptr ? m.ptr : "-",
            (int)t.len, t.ptr ? t.ptr : "", status, (unsigned long long)bytes, ms);
}

/* Signals arrive through a pipe so that the loop, not the handler, acts. */
static int signal_fd = -1;

static void on_signal(int sig)
{
    char c = (char)sig;
    int saved = errno;
    if (write(signal_fd, &c, 1) < 0) {
    }
    errno = saved;
}

static void shutdown_done(lg_server *srv, void *user)
{
    demo *d = user;
    (void)srv;
    lg_io_close(&d->sigio);
}

static void on_signal_readable(lg_io *io, unsigned events)
{
    demo *d = io->data;
    char c;
    (void)events;
    if (read(io->fd, &c, 1) != 1) return;
    if (!d->srv) return;
    fprintf(stderr, "linger: shutting down (in-flight requests finish first)\n");
    lg_io_close(io);
    lg_server_shutdown(d->srv, 10000, shutdown_done, d);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: linger serve [--host ADDR] [--port N] [--root DIR] [--quiet]\n"
               "  --host ADDR   address to listen on (default 127.0.0.1; 0.0.0.0 or :: for all)\n"
               "  --port N      port (default 8080)\n"
               "  --root DIR    directory served under /static (default ./www)\n"
               "  --max-conns N connection limit (default 256)\n"
               "  --quiet       no access log on stderr\n");
}

int cmd_serve(int argc, char **argv)
{
    const char *host = "127.0.0.1", *root = "www";
    int port = 8080;
    unsigned max_conns = 0;
    demo d;
    memset(&d, 0, sizeof d);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--host") == 0 && i + 1 < argc) host = argv[++i];
        else if (strcmp(a, "--port") == 0 && i + 1 < argc) port = atoi(argv[++i]);
        else if (strcmp(a, "--root") == 0 && i + 1 < argc) root = argv[++i];
        else if (strcmp(a, "--max-conns") == 0 && i + 1 < argc) max_conns = (unsigned)atoi(argv[++i]);
        else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) d.quiet = 1;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "linger serve: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (port < 0 || port > 65535) {
        fprintf(stderr, "linger serve: port must be 0..65535\n");
        return 2;
    }

    d.loop = lg_loop_new(NULL);
    if (!d.loop) {
        fprintf(stderr, "linger serve: cannot create the event loop\n");
        return 1;
    }
    lg_server_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_conns = max_conns;
    if (!d.quiet) cfg.access_log = access_log;
    d.srv = lg_server_new(d.loop, &cfg);
    lg_route(d.srv, "GET", "/", on_index, &d);
    lg_route(d.srv, "GET", "/hello", on_hello, &d);
    lg_route(d.srv, "POST", "/echo", on_echo, &d);
    lg_route(d.srv, "GET", "/api/stats", on_stats, &d);
    lg_route(d.srv, "GET", "/stream", on_stream, &d);
    int rc = lg_server_static(d.srv, "/static", root);
    if (rc != LG_OK)
        fprintf(stderr, "linger serve: not serving /static from %s: %s\n", root, lg_strerror(rc));

    char addr[128];
    int v6 = strchr(host, ':') != NULL;
    snprintf(addr, sizeof addr, v6 ? "[%s]:%d" : "%s:%d", host, port);
    rc = lg_server_listen(d.srv, addr, 0);
    if (rc != LG_OK) {
        fprintf(stderr, "linger serve: cannot listen on %s: %s\n", addr, lg_strerror(rc));
        return 1;
    }

    if (pipe(d.sigpipe) == 0) {
        fcntl(d.sigpipe[0], F_SETFL, O_NONBLOCK);
        fcntl(d.sigpipe[1], F_SETFL, O_NONBLOCK);
        signal_fd = d.sigpipe[1];
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        lg_io_init(d.loop, &d.sigio, d.sigpipe[0], on_signal_readable, &d);
        lg_io_set(&d.sigio, LG_READABLE);
    }
    signal(SIGPIPE, SIG_IGN);

    snprintf(addr, sizeof addr, v6 ? "[%s]:%u" : "%s:%u", host, lg_server_port(d.srv));
    fprintf(stderr, "linger serve: listening on http://%s/ (Ctrl-C stops)\n", addr);
    rc = lg_loop_run(d.loop);
    lg_server_free(d.srv);
    lg_loop_free(d.loop);
    return rc == LG_OK ? 0 : 1;
}
