/* The linger tool's subcommands, one file each. Each returns the process's
 * exit status. */
#ifndef LG_CLI_H
#define LG_CLI_H

int cmd_parse(int argc, char **argv);  /* tools/cmd_parse.c: codec demo */
int cmd_serve(int argc, char **argv);  /* tools/cmd_serve.c: the demo server */
int cmd_get(int argc, char **argv);    /* tools/cmd_client.c: GET a URL */
int cmd_post(int argc, char **argv);   /* tools/cmd_client.c: POST to a URL */
int cmd_ws(int argc, char **argv);     /* tools/cmd_ws.c: a WebSocket from the command line */

struct lg_server;
/* tools/serve_upload.c: `serve`'s POST /upload, and CORS for /echo and /upload. */
void serve_upload_routes(struct lg_server *srv);

/* The client commands' exit statuses (docs/client.md, "The command line"). */
enum exit_status {
    EXIT_OK = 0,
    EXIT_OTHER = 1,
    EXIT_USAGE = 2,
    EXIT_URL = 3,          /* the URL does not parse */
    EXIT_UNSUPPORTED = 4,  /* https (no TLS in this build) */
    EXIT_RESOLVE = 5,      /* the host name did not resolve */
    EXIT_CONNECT = 6,      /* refused or unreachable */
    EXIT_TIMEOUT = 7,
    EXIT_NO_RESPONSE = 8,  /* the connection ended before a response head */
    EXIT_CUT = 9,          /* EOF before the end of a framed body */
    EXIT_RESET = 10,       /* reset during the body */
    EXIT_MALFORMED = 11,   /* the server broke HTTP */
    EXIT_HEAD_LARGE = 12,  /* response head over the limit */
    EXIT_TOO_LARGE = 13,
    EXIT_REDIRECTS = 14,
    EXIT_LOCAL_FILE = 15,  /* -o or --data-file could not be used */
    EXIT_NOMEM = 16,
    EXIT_WS_REFUSED = 17,  /* linger ws: the server refused the handshake (or answered it wrong) */
    EXIT_WS_CLOSED = 18,   /* linger ws: closed otherwise than by a normal closing handshake */
    EXIT_HTTP_ERROR = 22,  /* --fail and a 4xx/5xx status */
    /* https (linger_tls.h): how the TLS handshake or ending failed */
    EXIT_TLS = 23,         /* handshake failed (no common ground, garbage, refused by the server) */
    EXIT_CERT_EXPIRED = 24,
    EXIT_CERT_UNTRUSTED = 25, /* self-signed, or an unknown CA */
    EXIT_CERT_HOST = 26,   /* the certificate is for another host */
    EXIT_CERT = 27,        /* the certificate is wrong otherwise */
    EXIT_TLS_PLAIN = 28,   /* plain HTTP where TLS was expected */
    EXIT_TLS_CUT = 29,     /* the connection closed during the TLS handshake */
    EXIT_TLS_TRUNCATED = 30 /* a body that ends at the close ended without close_notify */
};

/* tools/cli_tls.c: the TLS client of a client command's options, set as
 * cfg's transport (none, and no error, when the build has no TLS or it
 * cannot be made and nothing needs it); 0, or the exit status after a
 * line on stderr. Free it after the loop. */
#include "linger.h"
struct lg_tls_client;
typedef struct cli_tls_options {
    const char *cacert, *cert, *key; /* --cacert, the client's certificate and key */
    int insecure;                    /* -k */
    int needed;                      /* an https:// or wss:// URL */
    uint32_t timeout_ms;             /* --timeout (0: TLS's default) */
} cli_tls_options;
int cli_tls_client(const char *cmd, const cli_tls_options *o, struct lg_tls_client **tls,
                   lg_client_config *cfg);
void cli_tls_client_free(struct lg_tls_client *tls);

/* tools/cli_tls.c: a TLS failure (err, an lg_err) in one line into msg,
 * and its exit status; 0 (msg untouched) when err is not one of TLS's
 * (LG_ERR_TLS_TRUNCATED is the caller's: it depends on the stage). */
int cli_tls_failure(int err, char *msg, size_t cap);

#endif
