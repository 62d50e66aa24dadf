/*
 * linger's own state per TLS connection on the target, for
 * scripts/tls_size.sh: the transport's private struct (it holds the
 * mbedtls_ssl_context), read back with nm as the size of size_tls_conn.
 * Compiled only, never linked.
 */
#include "../../src/tls_mbedtls.c"

char size_tls_conn[sizeof(tls_conn)];
char size_ssl_context[sizeof(mbedtls_ssl_context)];
