/*
 * `linger serve`: the demo server.
 *
 *   GET  /            a small page about the server, with live figures
 *   GET  /hello       "Hello, World!" (for benchmarks)
 *   POST /echo        the request body, back
 *   POST /upload      a form (multipart/form-data or urlencoded): its fields,
 *                     and each file's name, type, size and SHA-256, as JSON
 *                     (tools/serve_upload.c: files are hashed, never held);
 *                     /echo and /upload answer CORS preflights from any origin
 *   GET  /api/stats   uptime, requests, connections (JSON)
 *   GET  /events      the same figures as Server-Sent Events, once a second
 *                     ("stats" events, id: counting up, resumed after
 *                     Last-Event-ID); the page's live table reads them
 *   GET  /ws          a WebSocket echo: each text or binary message back as
 *                     it came (up to 1 MiB); the page's echo box uses it
 *   GET  /stream      a streamed (chunked) answer, one line every 100 ms
 *   GET  /static/...  files below --root
 *
 * SIGINT/SIGTERM shut it down gracefully: in-flight requests finish.
 *
 * --workers N runs N loops, one thread each, every one with its own server
 * listening on the same port (SO_REUSEPORT: the kernel spreads connections
 * over them). Each loop stays single-threaded; nothing is shared between
 * them but the signal that stops them all.
 *
 * --tls-cert FILE --tls-key FILE serve HTTPS on --port (TLS on mbedTLS:
 * linger_tls.h); with --tls-port N as well, plain HTTP stays on --port and
 * HTTPS is on N (a second server on the same loop: a server has one
 * transport for all its connections). Each loop has its own TLS context.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "linger.h"
#if !defined(LG_NO_WEBSOCKET)
#include "linger_ws.h"
#endif
#if defined(LINGER_CLI_TLS)
#include "linger_tls.h"
#endif

/* The page links several assets from /static (--root), so that a browser
 * fetches them over parallel connections; app.js then fills the table from
 * /events and echoes the box's messages over /ws (tests/interop/browser/
 * checks all three). */
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
    "<tr><th>event streams open</th><td id=\"streams\">&hellip;</td></tr>\n"
    "<tr><th>WebSockets open</th><td id=\"websockets\">&hellip;</td></tr>\n"
    "</table>\n"
    "<p id=\"status\">loading live data&hellip;</p>\n"
    "<h2>Echo over a WebSocket</h2>\n"
    "<form id=\"echo\"><input id=\"echo-text\" autocomplete=\"off\" "
    "placeholder=\"type, then Enter\" value=\"hello, linger\">"
    "<button>Send</button></form>\n"
    "<p id=\"echo-status\">connecting&hellip;</p>\n"
    "<ul id=\"echoes\"></ul>\n"
    "<h2>Upload a file</h2>\n"
    "<form id=\"upload\" action=\"/upload\" method=\"post\" enctype=\"multipart/form-data\">"
    "<input name=\"note\" autocomplete=\"off\" value=\"from the demo page\"> "
    "<input type=\"file\" name=\"file\" multiple> <button>Upload</button></form>\n"
    "<pre id=\"upload-result\">size and SHA-256 of each file, as the server saw them</pre>\n"
    "<p>Try <a href=\"/hello\">/hello</a>, <a href=\"/stream\">/stream</a>, "
    "<code>curl -N http://HOST/events</code>, <code>linger ws ws://HOST/ws</code>, "
    "<code>curl -d hi http://HOST/echo</code>, "
    "<code>curl -F file=@FILE http://HOST/upload</code>.</p>\n"
    "<script src=\"/static/app.js\"></script>\n"
    "</body></html>\n";

typedef struct event_client event_client;

typedef struct demo {
    lg_loop *loop;
    lg_server *srv;   /* on --port: plain HTTP, or HTTPS when TLS is asked without --tls-port */
    lg_server *srv2;  /* on --tls-port: HTTPS beside the plain one */
#if defined(LINGER_CLI_TLS)
    lg_tls_server *tls;
#endif
    int servers_down;
    event_client *event_clients; /* /events streams open */
    lg_timer stats_timer;        /* once a second while there are some */
    unsigned websockets;         /* /ws connections open */
    int quiet;
    int sigpipe[2];
    lg_io sigio;
    int id;           /* 0 for the first loop, which the main thread runs */
    pthread_t thread; /* workers after the first: the thread running loop */
} demo;

#define MAX_WORKERS 64

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

/* The server's figures as JSON. `answering`: the request asking counts
 * itself (it is answered after this is written). */
static int stats_json(demo *d, char *json, size_t cap, int answering)
{
    const lg_server_stats *st = lg_server_get_stats(d->srv);
    return snprintf(json, cap,
                    "{\"uptime_ms\": %llu, \"requests\": %llu, \"connections\": %llu, "
                    "\"active_connections\": %u, \"event_streams\": %u, \"websockets\": %u}",
                    (unsigned long long)(lg_loop_now(d->loop) - st->start_ms),
                    (unsigned long long)st->requests + (answering ? 1 : 0),
                    (unsigned long long)st->connections, (unsigned)st->active_connections,
                    (unsigned)st->event_streams, d->websockets);
}

static void on_stats(lg_req *req, lg_res *res, void *user)
{
    demo *d = user;
    (void)req;
    char json[320];
    int n = stats_json(d, json, sizeof json - 1, 1);
    json[n++] = '\n';
    lg_res_header(res, "Content-Type", "application/json");
    lg_res_header(res, "Cache-Control", "no-store");
    lg_res_send(res, 200, json, (size_t)n);
}

/* /events: the figures once a second to every stream, each with its own
 * id counting up from where its client got to (Last-Event-ID: a browser
 * that reconnects goes on from there). A stream too far behind misses a
 * second rather than queueing it (lg_sse_send says LG_ERR_AGAIN). */
struct event_client {
    event_client *prev, *next;
    demo *d;
    lg_sse *sse;
    unsigned long long next_id;
};

static void send_stats(event_client *e)
{
    char json[320], id[24];
    stats_json(e->d, json, sizeof json, 0);
    snprintf(id, sizeof id, "%llu", e->next_id);
    if (lg_sse_send(e->sse, "stats", id, json, 0) == LG_OK) e->next_id++;
}

static void stats_tick(lg_timer *t)
{
    demo *d = LG_CONTAINER_OF(t, demo, stats_timer);
    for (event_client *e = d->event_clients; e; e = e->next) send_stats(e);
    if (d->event_clients) lg_timer_start(t, 1000);
}

static void event_client_gone(lg_sse *sse, void *user)
{
    event_client *e = user;
    demo *d = e->d;
    (void)sse;
    if (e->prev) e->prev->next = e->next;
    else d->event_clients = e->next;
    if (e->next) e->next->prev = e->prev;
    free(e);
    if (!d->event_clients) lg_timer_stop(&d->stats_timer);
}

static void on_events(lg_req *req, lg_res *res, void *user)
{
    demo *d = user;
    event_client *e = calloc(1, sizeof *e);
    if (!e) {
        lg_res_error(res, 503, "out of memory");
        return;
    }
    lg_str last = lg_req_header(req, "Last-Event-ID");
    char digits[24] = "0";
    if (last.len && last.len < sizeof digits && last.ptr[0] >= '0' && last.ptr[0] <= '9') {
        memcpy(digits, last.ptr, last.len);
        digits[last.len] = 0;
    }
    e->d = d;
    e->next_id = strtoull(digits, NULL, 10) + 1;
    /* retry: a browser that loses the stream is back within a second */
    lg_sse_config cfg = { .retry_ms = 1000, .on_close = event_client_gone, .user = e };
    e->sse = lg_sse_start(req, res, &cfg);
    if (!e->sse) {
        free(e);
        return;
    }
    e->next = d->event_clients;
    if (e->next) e->next->prev = e;
    d->event_clients = e;
    send_stats(e); /* at once, then with the others every second */
    if (!lg_timer_active(&d->stats_timer)) lg_timer_start(&d->stats_timer, 1000);
}

#if !defined(LG_NO_WEBSOCKET)
/* /ws: every message back as it came. While the answers wait for the
 * client (a megabyte of them), the echo reads no further (lg_ws_pause):
 * a client that sends and does not read slows itself down, and the server
 * holds at most that much for it. */
static void ws_message(lg_ws *ws, unsigned opcode, lg_str data)
{
    lg_ws_send(ws, opcode, data.ptr, data.len);
    if (lg_ws_queued(ws) >= (1u << 20)) lg_ws_pause(ws);
}

static void ws_drain(lg_ws *ws)
{
    lg_ws_resume(ws);
}

static void ws_open(lg_ws *ws)
{
    demo *d = lg_ws_user(ws);
    d->websockets++;
}

static void ws_close(lg_ws *ws, unsigned code, lg_str reason)
{
    demo *d = lg_ws_user(ws);
    (void)code;
    (void)reason;
    d->websockets--;
}

static const lg_ws_callbacks ws_echo = { .on_open = ws_open,
                                         .on_message = ws_message,
                                         .on_drain = ws_drain,
                                         .on_close = ws_close };

static void on_ws(lg_req *req, lg_res *res, void *user)
{
    lg_ws_accept(req, res, NULL, &ws_echo, user);
}
#endif

/* /stream: an answer that comes later than the handler's return, in pieces,
 * paced by a timer. */
typedef struct ticker {
    lg_timer t;
    lg_res *res;
    int n;
} ticker;

static void tick(lg_timer *t)
{
    ticker *k = LG_CONTAINER_OF(t, ticker, t);
    char line[64];
    int len = snprintf(line, sizeof line, "tick %d of 10\n", ++k->n);
    if (lg_res_write(k->res, line, (size_t)len) == LG_ERR_CLOSED || k->n == 10) {
        lg_res_end(k->res);
        free(k);
        return;
    }
    lg_timer_start(t, 100); /* the next tick */
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
    lg_timer_init(d->loop, &k->t, tick);
    lg_timer_start(&k->t, 0);
}

static void access_log(lg_req *req, int status, uint64_t bytes, uint32_t ms, void *user)
{
    (void)user;
    char peer[64] = "-";
    const lg_addr *a = lg_req_peer(req);
    if (a->family) lg_addr_format(a, peer, sizeof peer); /* (a client gone: "-") */
    lg_str m = lg_req_method(req), t = lg_req_target(req);
    if (!m.len) {
        /* A head that never parsed (408 mid-head, 400): no request line to
         * show, as nginx logs "-"; lg_req_error says why. */
        fprintf(stderr, "%s \"-\" %d %llu %ums (%s)\n", peer, status, (unsigned long long)bytes,
                ms, lg_err_name(lg_req_error(req)));
        return;
    }
    fprintf(stderr, "%s \"%.*s %.*s\" %d %llu %ums\n", peer, (int)m.len, m.ptr, (int)t.len,
            t.ptr, status, (unsigned long long)bytes, ms);
}

/* Signals arrive through a pipe per loop so that each loop, not the
 * handler, acts. The handler only writes (async-signal-safe); the table is
 * filled before the handler is installed. */
static int signal_fds[MAX_WORKERS];
static int signal_nfds;

static void on_signal(int sig)
{
    char c = (char)sig;
    int saved = errno;
    for (int i = 0; i < signal_nfds; i++)
        if (write(signal_fds[i], &c, 1) < 0) {
        }
    errno = saved;
}

static void shutdown_done(lg_server *srv, void *user)
{
    demo *d = user;
    (void)srv;
    if (++d->servers_down == (d->srv2 ? 2 : 1)) lg_io_close(&d->sigio);
}

static void on_signal_readable(lg_io *io, unsigned events)
{
    demo *d = LG_CONTAINER_OF(io, demo, sigio);
    char c;
    (void)events;
    if (read(io->fd, &c, 1) != 1) return;
    if (!d->srv) return;
    if (d->id == 0) fprintf(stderr, "linger: shutting down (in-flight requests finish first)\n");
    lg_io_close(io);
    lg_server_shutdown(d->srv, 10000, shutdown_done, d);
    if (d->srv2) lg_server_shutdown(d->srv2, 10000, shutdown_done, d);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: linger serve [--host ADDR] [--port N] [--root DIR] [--quiet]\n"
               "  --host ADDR   address to listen on (default 127.0.0.1; 0.0.0.0 or :: for all)\n"
               "  --port N      port (default 8080)\n"
               "  --root DIR    directory served under /static (default ./www)\n"
               "  --max-conns N connection limit (default 256; per worker)\n"
               "  --workers N   N event loops, one thread each, sharing the port\n"
               "                (SO_REUSEPORT; default 1: one loop, no extra thread)\n"
               "  --tls-cert FILE  certificate chain (PEM or DER): HTTPS on --port\n"
               "  --tls-key FILE   its private key\n"
               "  --tls-port N  HTTPS on N, plain HTTP staying on --port\n"
               "  --quiet       no access log on stderr\n");
}

typedef struct tls_opts {
    const char *cert, *key;
    int port;         /* -1: HTTPS on --port (when cert is given) */
} tls_opts;

static void add_routes(demo *d, lg_server *srv, const char *root, int say_root)
{
    lg_route(srv, "GET", "/", on_index, d);
    lg_route(srv, "GET", "/hello", on_hello, d);
    lg_route(srv, "POST", "/echo", on_echo, d);
    serve_upload_routes(srv); /* POST /upload; CORS for /echo and /upload */
    lg_route(srv, "GET", "/api/stats", on_stats, d);
    lg_route(srv, "GET", "/events", on_events, d);
#if !defined(LG_NO_WEBSOCKET)
    lg_route(srv, "GET", "/ws", on_ws, d);
#endif
    lg_route(srv, "GET", "/stream", on_stream, d);
    int rc = lg_server_static(srv, "/static", root);
    if (rc != LG_OK && say_root)
        fprintf(stderr, "linger serve: not serving /static from %s: %s\n", root, lg_strerror(rc));
}

/* One loop with its own server(s), routes and signal pipe. Called for
 * every worker from the main thread, before any loop runs. */
static int worker_setup(demo *d, unsigned max_conns, const char *root, int say_root,
                        const tls_opts *tls)
{
    d->sigpipe[0] = d->sigpipe[1] = -1;
    d->loop = lg_loop_new(NULL);
    if (!d->loop) {
        fprintf(stderr, "linger serve: cannot create the event loop\n");
        return -1;
    }
    lg_server_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_conns = max_conns;
    if (!d->quiet) cfg.access_log = access_log;
    lg_server_config tls_cfg = cfg;
    if (tls->cert) {
#if defined(LINGER_CLI_TLS)
        char why[300];
        int err = lg_tls_server_new(&d->tls,
                                    &(lg_tls_server_config){ .cert = { .file = tls->cert },
                                                             .key = { .file = tls->key } },
                                    why, sizeof why);
        if (err) {
            fprintf(stderr, "linger serve: TLS: %s\n", why[0] ? why : lg_strerror(err));
            return -1;
        }
        tls_cfg.transport = lg_tls_server_transport;
        tls_cfg.transport_user = d->tls;
#else
        return -1; /* said before */
#endif
    }
    int both = tls->cert && tls->port >= 0;
    d->srv = lg_server_new(d->loop, both ? &cfg : &tls_cfg);
    if (d->srv && both) d->srv2 = lg_server_new(d->loop, &tls_cfg);
    if (!d->srv || (both && !d->srv2)) {
        fprintf(stderr, "linger serve: cannot create the server\n");
        return -1;
    }
    add_routes(d, d->srv, root, say_root);
    if (d->srv2) add_routes(d, d->srv2, root, 0);
    lg_timer_init(d->loop, &d->stats_timer, stats_tick);

    if (pipe(d->sigpipe) == 0) {
        fcntl(d->sigpipe[0], F_SETFL, O_NONBLOCK);
        fcntl(d->sigpipe[1], F_SETFL, O_NONBLOCK);
        signal_fds[signal_nfds++] = d->sigpipe[1];
        lg_io_init(d->loop, &d->sigio, d->sigpipe[0], on_signal_readable);
        lg_io_set(&d->sigio, LG_READABLE);
    }
    return 0;
}

static void *worker_run(void *arg)
{
    demo *d = arg;
    lg_loop_run(d->loop);
    return NULL;
}

int cmd_serve(int argc, char **argv)
{
    const char *host = "127.0.0.1", *root = "www";
    int port = 8080, quiet = 0, nworkers = 1;
    unsigned max_conns = 0;
    tls_opts tls = { NULL, NULL, -1 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--host") == 0 && i + 1 < argc) host = argv[++i];
        else if (strcmp(a, "--tls-cert") == 0 && i + 1 < argc) tls.cert = argv[++i];
        else if (strcmp(a, "--tls-key") == 0 && i + 1 < argc) tls.key = argv[++i];
        else if (strcmp(a, "--tls-port") == 0 && i + 1 < argc) tls.port = atoi(argv[++i]);
        else if (strcmp(a, "--port") == 0 && i + 1 < argc) port = atoi(argv[++i]);
        else if (strcmp(a, "--root") == 0 && i + 1 < argc) root = argv[++i];
        else if (strcmp(a, "--max-conns") == 0 && i + 1 < argc) max_conns = (unsigned)atoi(argv[++i]);
        else if (strcmp(a, "--workers") == 0 && i + 1 < argc) nworkers = atoi(argv[++i]);
        else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) quiet = 1;
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
    if (nworkers < 1 || nworkers > MAX_WORKERS) {
        fprintf(stderr, "linger serve: --workers must be 1..%d\n", MAX_WORKERS);
        return 2;
    }
    if (!tls.cert != !tls.key || (tls.port >= 0 && !tls.cert)) {
        fprintf(stderr, "linger serve: HTTPS needs --tls-cert and --tls-key\n");
        return 2;
    }
    if (tls.port > 65535) {
        fprintf(stderr, "linger serve: --tls-port must be 0..65535\n");
        return 2;
    }
#if !defined(LINGER_CLI_TLS)
    if (tls.cert) {
        fprintf(stderr, "linger serve: this build has no TLS (mbedTLS was not found: LINGER_TLS)\n");
        return 2;
    }
#endif

    static demo workers[MAX_WORKERS];
    memset(workers, 0, sizeof workers);
    /* One loop: a plain listener, as always. Several: every listener says
     * SO_REUSEPORT, and those after the first take the first one's port
     * (which the kernel chose if --port 0 asked it to). */
    unsigned flags = nworkers > 1 ? LG_LISTEN_REUSEPORT : 0;
    int v6 = strchr(host, ':') != NULL;
    char addr[128];
    int rc = 0, ready = 0;
    for (int i = 0; i < nworkers && rc == 0; i++) {
        demo *d = &workers[i];
        d->quiet = quiet;
        d->id = i;
        rc = worker_setup(d, max_conns, root, i == 0, &tls);
        ready = i + 1;
        if (rc == 0) {
            snprintf(addr, sizeof addr, v6 ? "[%s]:%d" : "%s:%d", host, port);
            int err = lg_server_listen(d->srv, addr, flags);
            if (err != LG_OK) {
                fprintf(stderr, "linger serve: cannot listen on %s: %s\n", addr, lg_strerror(err));
                rc = -1;
            } else {
                port = lg_server_port(d->srv);
            }
        }
        if (rc == 0 && d->srv2) {
            snprintf(addr, sizeof addr, v6 ? "[%s]:%d" : "%s:%d", host, tls.port);
            int err = lg_server_listen(d->srv2, addr, flags);
            if (err != LG_OK) {
                fprintf(stderr, "linger serve: cannot listen on %s: %s\n", addr, lg_strerror(err));
                rc = -1;
            } else {
                tls.port = lg_server_port(d->srv2);
            }
        }
    }
    if (rc != 0) {
        for (int i = 0; i < ready; i++) {
            if (workers[i].srv) lg_server_free(workers[i].srv);
            if (workers[i].srv2) lg_server_free(workers[i].srv2);
            if (workers[i].sigpipe[0] >= 0) lg_io_close(&workers[i].sigio);
            if (workers[i].loop) lg_loop_free(workers[i].loop);
#if defined(LINGER_CLI_TLS)
            lg_tls_server_free(workers[i].tls);
#endif
        }
        return 1;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    snprintf(addr, sizeof addr, v6 ? "[%s]:%d" : "%s:%d", host, port);
    const char *scheme = tls.cert && tls.port < 0 ? "https" : "http";
    char also[160] = "";
    if (tls.cert && tls.port >= 0)
        snprintf(also, sizeof also, v6 ? " and https://[%s]:%d/" : " and https://%s:%d/", host,
                 tls.port);
    if (nworkers > 1)
        fprintf(stderr, "linger serve: listening on %s://%s/%s with %d loops (Ctrl-C stops)\n",
                scheme, addr, also, nworkers);
    else
        fprintf(stderr, "linger serve: listening on %s://%s/%s (Ctrl-C stops)\n", scheme, addr,
                also);

    /* The workers' threads leave the signals to the main thread, which runs
     * the first loop itself. */
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, &old);
    int started = 1;
    for (; started < nworkers; started++) {
        if (pthread_create(&workers[started].thread, NULL, worker_run, &workers[started]) != 0) {
            fprintf(stderr, "linger serve: cannot start worker %d; running %d\n", started + 1,
                    started);
            break;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    /* Workers that did not start close their listeners, or the kernel
     * would hand them connections nobody accepts. */
    for (int i = started; i < nworkers; i++) {
        lg_server_free(workers[i].srv);
        workers[i].srv = NULL;
        if (workers[i].srv2) lg_server_free(workers[i].srv2);
        workers[i].srv2 = NULL;
    }

    rc = lg_loop_run(workers[0].loop);
    for (int i = 1; i < started; i++) pthread_join(workers[i].thread, NULL);
    for (int i = 0; i < nworkers; i++) {
        if (workers[i].srv) lg_server_free(workers[i].srv);
        if (workers[i].srv2) lg_server_free(workers[i].srv2);
        if (i >= started && workers[i].sigpipe[0] >= 0) lg_io_close(&workers[i].sigio);
        lg_loop_free(workers[i].loop);
#if defined(LINGER_CLI_TLS)
        lg_tls_server_free(workers[i].tls);
#endif
    }
    return rc == LG_OK ? 0 : 1;
}
