/*
 * TLS for the client commands (linger get/post, linger ws): the TLS
 * client their options make, and what they say when TLS fails, with the
 * exit status for it -- one place, so that a refused certificate reads
 * and ends the same whichever command met it.
 */
#include <stdio.h>

#include "cli.h"
#include "linger.h"
#if defined(LINGER_CLI_TLS)
#include "linger_tls.h"
#endif

int cli_tls_client(const char *cmd, const cli_tls_options *o, struct lg_tls_client **tls,
                   lg_client_config *cfg)
{
    *tls = NULL;
    int asked = o->cacert || o->cert || o->key;
#if defined(LINGER_CLI_TLS)
    char why[300];
    why[0] = 0;
    /* --timeout bounds the handshake as it bounds the rest (without it, the
     * TLS default: 10 s). Made even for plain URLs: a redirect may lead
     * to https. */
    int trc = lg_tls_client_new(tls, &(lg_tls_client_config){ .ca = { .file = o->cacert },
                                                             .insecure = (uint8_t)o->insecure,
                                                             .cert = { .file = o->cert },
                                                             .key = { .file = o->key },
                                                             .handshake_timeout_ms =
                                                                 o->timeout_ms },
                                why, sizeof why);
    if (trc) {
        *tls = NULL;
        if (asked || o->needed) {
            fprintf(stderr, "linger %s: TLS: %s\n", cmd, why[0] ? why : lg_strerror(trc));
            return trc == LG_ERR_NOMEM ? EXIT_NOMEM : EXIT_LOCAL_FILE;
        }
    }
    if (o->insecure)
        fprintf(stderr, "linger %s: WARNING: --insecure: the server's certificate is not "
                        "checked; anybody on the path can read and change this exchange\n", cmd);
    if (*tls) {
        cfg->transport = lg_tls_client_transport;
        cfg->transport_user = *tls;
    }
    return 0;
#else
    (void)cfg;
    if (asked || o->insecure) {
        fprintf(stderr, "linger %s: this build has no TLS (mbedTLS was not found: LINGER_TLS)\n",
                cmd);
        return EXIT_UNSUPPORTED;
    }
    return 0;
#endif
}

void cli_tls_client_free(struct lg_tls_client *tls)
{
#if defined(LINGER_CLI_TLS)
    lg_tls_client_free(tls);
#else
    (void)tls;
#endif
}

int cli_tls_failure(int err, char *msg, size_t cap)
{
    switch (err) {
    case LG_ERR_TLS_TIMEOUT:
        snprintf(msg, cap, "timed out in the TLS handshake");
        return EXIT_TIMEOUT;
    case LG_ERR_TLS:
    case LG_ERR_TLS_HANDSHAKE:
    case LG_ERR_TLS_ALERT:
        snprintf(msg, cap, "%s", lg_strerror(err));
        return EXIT_TLS;
    case LG_ERR_TLS_CERT_EXPIRED:
    case LG_ERR_TLS_CERT_UNTRUSTED:
    case LG_ERR_TLS_CERT_HOST:
    case LG_ERR_TLS_CERT:
        snprintf(msg, cap, "TLS: the server's %s%s", lg_strerror(err),
                 err == LG_ERR_TLS_CERT_UNTRUSTED ? " (--cacert FILE to trust its CA)" : "");
        return err == LG_ERR_TLS_CERT_EXPIRED     ? EXIT_CERT_EXPIRED
               : err == LG_ERR_TLS_CERT_UNTRUSTED ? EXIT_CERT_UNTRUSTED
               : err == LG_ERR_TLS_CERT_HOST      ? EXIT_CERT_HOST
                                                  : EXIT_CERT;
    case LG_ERR_TLS_PLAINTEXT:
        snprintf(msg, cap, "the server answered in plain HTTP, not TLS (http:// instead?)");
        return EXIT_TLS_PLAIN;
    case LG_ERR_TLS_CUT:
        snprintf(msg, cap, "%s", lg_strerror(err));
        return EXIT_TLS_CUT;
    default:
        return 0;
    }
}
