/*
 * What the client commands (linger get/post, linger ws) say when TLS
 * fails, and the exit status for it: one table, so that a refused
 * certificate reads and ends the same whichever command met it.
 */
#include <stdio.h>

#include "cli.h"
#include "linger.h"

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
