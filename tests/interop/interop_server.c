/*
 * interop_server: every feature of linger's server on a route, for the
 * interoperability tests in tests/interop/server/ (curl, aiohttp, raw
 * sockets). Not installed.
 *
 *   interop_server [--port 0] [--host 127.0.0.1] [--max-body BYTES]
 *                  [--header-timeout-ms MS] [--body-timeout-ms MS]
 *                  [--idle-timeout-ms MS] [--linger-timeout-ms MS]
 *                  [--max-conns N] [--reject-when-full] [--file-bytes N] [--log] [--lib-log]
 *                  [--tls-cert FILE --tls-key FILE [--tls-handshake-timeout-ms MS]
 *                   [--tls-sni NAME:CERT:KEY] [--tls-max-sessions N]
 *                   [--tls-max-handshakes N]]
 *
 * With --tls-cert (builds with linger::tls) it serves HTTPS only, for the
 * TLS interop tests (tests/tls/). --tls-sni gives it a second certificate,
 * presented to clients that ask for NAME (SNI), case aside.
 *
 * Prints the port it listens on (one line on stdout) once it is listening.
 * SIGTERM (or SIGINT) shuts it down gracefully: requests in flight are
 * answered (with "Connection: close"), then it exits with status 0 once
 * everything it allocated is freed, so a sanitizer build finds any leak.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "interop.h"
#include "trickle_transport.h"
#if defined(LINGER_INTEROP_TLS)
#include "linger_tls.h"
#endif

/* The routes are in interop_handlers.c and interop_bodies.c. */

#if defined(LINGER_INTEROP_TLS)
static char sni_name[1024];
static const lg_tls_cert *sni_cert;

static const lg_tls_cert *choose_cert(void *user, const char *name)
{
    (void)user;
    return strcasecmp(name, sni_name) == 0 ? sni_cert : NULL;
}

/* --tls-sni NAME:CERT:KEY: the second certificate. */
static int add_sni_cert(lg_tls_server *tls, const char *arg)
{
    char spec[1024], why[300];
    snprintf(spec, sizeof spec, "%s", arg);
    char *cert = strchr(spec, ':'), *key = cert ? strchr(cert + 1, ':') : NULL;
    if (!key) {
        fprintf(stderr, "interop_server: --tls-sni NAME:CERT:KEY\n");
        return 2;
    }
    *cert++ = 0;
    *key++ = 0;
    snprintf(sni_name, sizeof sni_name, "%s", spec);
    if (lg_tls_server_add_cert(tls, &(lg_tls_blob){ .file = cert }, &(lg_tls_blob){ .file = key },
                               NULL, &sni_cert, why, sizeof why) != LG_OK) {
        fprintf(stderr, "interop_server: TLS: %s\n", why);
        return 1;
    }
    return 0;
}
#endif

static int signal_fd = -1;

static void on_signal(int sig)
{
    char c = (char)sig;
    int saved = errno;
    if (write(signal_fd, &c, 1) < 0) {
    }
    errno = saved;
}

typedef struct app {
    interop d;
    lg_io sigio;
    int sigpipe[2];
} app;

static void on_signal_readable(lg_io *io, unsigned events)
{
    app *a = LG_CONTAINER_OF(io, app, sigio);
    char c;
    (void)events;
    if (read(io->fd, &c, 1) != 1) return;
    lg_io_close(io);
    /* The loop runs on until the last request is answered and the last
     * connection has closed (gracefully), then lg_loop_run returns. */
    lg_server_shutdown(a->d.srv, 5000, NULL, NULL);
}

/* --lib-log: the library's own lines (a TLS handshake that failed, and
 * why), as "linger: ..." on stderr. */
static void lib_log(int level, const char *message, void *user)
{
    (void)level;
    (void)user;
    fprintf(stderr, "linger: %s\n", message);
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

/* The file /file serves: pattern bytes, so a client can check every one. */
static int make_file(interop *d, uint64_t bytes)
{
    snprintf(d->file_path, sizeof d->file_path, "/tmp/linger-interop-XXXXXX");
    d->file_fd = mkstemp(d->file_path);
    if (d->file_fd < 0) return -1;
    char buf[8192];
    for (uint64_t off = 0; off < bytes;) {
        size_t n = bytes - off < sizeof buf ? (size_t)(bytes - off) : sizeof buf;
        for (size_t i = 0; i < n; i++) buf[i] = (char)interop_pattern(off + i);
        if (write(d->file_fd, buf, n) != (ssize_t)n) return -1;
        off += n;
    }
    d->file_bytes = bytes;
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: interop_server [--port N] [--host ADDR] [--max-body BYTES]\n"
                    "  [--header-timeout-ms MS] [--body-timeout-ms MS] [--idle-timeout-ms MS]\n"
                    "  [--linger-timeout-ms MS] [--max-conns N] [--reject-when-full]\n"
                    "  [--file-bytes N] [--log] [--lib-log]\n"
                    "  [--tls-cert FILE --tls-key FILE [--tls-handshake-timeout-ms MS]\n"
                    "   [--tls-sni NAME:CERT:KEY] [--tls-max-sessions N] [--tls-max-handshakes N]]\n");
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    long port = 0;
    uint64_t file_bytes = (1u << 20) + 123;
    const char *tls_cert = NULL, *tls_key = NULL, *tls_sni = NULL;
    int lib_logging = 0;
    uint32_t tls_handshake_ms = 0;
    uint16_t tls_max_sessions = 0, tls_max_handshakes = 0;
    lg_server_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_body_bytes = 64u << 10;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--log") == 0) {
            cfg.access_log = access_log;
            continue;
        }
        if (strcmp(a, "--lib-log") == 0) {
            lib_logging = 1;
            continue;
        }
        if (strcmp(a, "--reject-when-full") == 0) {
            cfg.full_policy = LG_FULL_REJECT;
            continue;
        }
        if (!v) {
            usage();
            return 2;
        }
        i++;
        if (strcmp(a, "--port") == 0) port = strtol(v, NULL, 10);
        else if (strcmp(a, "--host") == 0) host = v;
        else if (strcmp(a, "--max-body") == 0) cfg.max_body_bytes = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--header-timeout-ms") == 0) cfg.header_timeout_ms = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--body-timeout-ms") == 0) cfg.body_timeout_ms = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--idle-timeout-ms") == 0) cfg.idle_timeout_ms = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--linger-timeout-ms") == 0) cfg.linger_timeout_ms = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--max-conns") == 0) cfg.max_conns = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--file-bytes") == 0) file_bytes = strtoull(v, NULL, 10);
        else if (strcmp(a, "--tls-cert") == 0) tls_cert = v;
        else if (strcmp(a, "--tls-key") == 0) tls_key = v;
        else if (strcmp(a, "--tls-sni") == 0) tls_sni = v;
        else if (strcmp(a, "--tls-max-sessions") == 0) tls_max_sessions = (uint16_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--tls-max-handshakes") == 0) tls_max_handshakes = (uint16_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--tls-handshake-timeout-ms") == 0) tls_handshake_ms = (uint32_t)strtoul(v, NULL, 10);
        else {
            usage();
            return 2;
        }
    }

    app a;
    memset(&a, 0, sizeof a);
    interop *d = &a.d;
    if (make_file(d, file_bytes) != 0) {
        perror("interop_server: temporary file");
        return 1;
    }
    d->loop = lg_loop_new(lib_logging ? &(lg_loop_config){ .log = lib_log, .log_level = LG_LOG_INFO }
                                      : NULL);
#if defined(LINGER_INTEROP_TLS)
    lg_tls_server *tls = NULL;
    if (tls_cert) {
        char why[300];
        int trc = lg_tls_server_new(&tls, &(lg_tls_server_config){
                                              .cert = { .file = tls_cert },
                                              .key = { .file = tls_key },
                                              .handshake_timeout_ms = tls_handshake_ms,
                                              .sni = tls_sni ? choose_cert : NULL,
                                              .max_sessions = tls_max_sessions,
                                              .max_handshakes = tls_max_handshakes },
                                    why, sizeof why);
        if (trc) {
            fprintf(stderr, "interop_server: TLS: %s\n", why);
            return 1;
        }
        if (tls_sni && (trc = add_sni_cert(tls, tls_sni)) != 0) return trc;
        cfg.transport = lg_tls_server_transport;
        cfg.transport_user = tls;
    }
#else
    (void)tls_handshake_ms;
    (void)tls_max_sessions;
    (void)tls_max_handshakes;
    if (tls_cert || tls_key || tls_sni) {
        fprintf(stderr, "interop_server: no TLS in this build\n");
        return 2;
    }
#endif
    /* LINGER_TEST_TRANSPORT=trickle: every connection through the test
     * transport (tests/trickle_transport.h), for the suites' second run. */
    d->srv = lg_server_new(d->loop, cfg.transport ? &cfg : tt_server(&cfg));
    if (!d->loop || !d->srv) return 1;
    interop_routes_basic(d);
    interop_routes_bodies(d);

    char addr[80];
    snprintf(addr, sizeof addr, strchr(host, ':') ? "[%s]:%ld" : "%s:%ld", host, port);
    int rc = lg_server_listen(d->srv, addr, 0);
    if (rc != LG_OK) {
        fprintf(stderr, "interop_server: cannot listen on %s: %s\n", addr, lg_strerror(rc));
        return 1;
    }

    if (pipe(a.sigpipe) != 0) return 1;
    fcntl(a.sigpipe[0], F_SETFL, O_NONBLOCK);
    fcntl(a.sigpipe[1], F_SETFL, O_NONBLOCK);
    signal_fd = a.sigpipe[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    lg_io_init(d->loop, &a.sigio, a.sigpipe[0], on_signal_readable);
    lg_io_set(&a.sigio, LG_READABLE);

    printf("%u\n", lg_server_port(d->srv));
    fflush(stdout);

    rc = lg_loop_run(d->loop);
    const lg_server_stats *st = lg_server_get_stats(d->srv);
    fprintf(stderr, "interop_server: stopped after %llu requests on %llu connections\n",
            (unsigned long long)st->requests, (unsigned long long)st->connections);
    lg_server_free(d->srv);
    lg_loop_free(d->loop);
#if defined(LINGER_INTEROP_TLS)
    lg_tls_server_free(tls);
#endif
    close(d->file_fd);
    unlink(d->file_path);
    close(a.sigpipe[0]);
    close(a.sigpipe[1]);
    return rc == LG_OK ? 0 : 1;
}
