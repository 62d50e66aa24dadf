/* What differs between mbedTLS 2.28 (Debian 12, ESP-IDF 4.x) and 3.x
 * (ESP-IDF 5), in one place, for src/tls_mbedtls.c. Built and tested
 * against 2.28 only; the 3.x branches follow 3.x's documented API (3.2
 * and later) and have not been compiled here. Not part of the API. */
#ifndef LG_TLS_MBEDTLS_COMPAT_H
#define LG_TLS_MBEDTLS_COMPAT_H

#include <mbedtls/version.h>

#if MBEDTLS_VERSION_MAJOR >= 4 || (MBEDTLS_VERSION_NUMBER < 0x021C0000)
#error "linger's TLS transport is written for mbedTLS 2.28 and 3.x"
#endif

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h> /* MBEDTLS_ERR_NET_* only: its code is not used */
#include <mbedtls/pk.h>
#include <mbedtls/platform.h> /* mbedtls_calloc/free */
#if defined(MBEDTLS_MEMORY_BUFFER_ALLOC_C)
#include <mbedtls/memory_buffer_alloc.h>
#endif
#include <mbedtls/ssl.h>
#include <mbedtls/asn1.h>
#include <mbedtls/x509_crt.h>
#if defined(MBEDTLS_SSL_TICKET_C)
#include <mbedtls/ssl_ticket.h>
#endif

#if MBEDTLS_VERSION_MAJOR >= 3

#if defined(MBEDTLS_PSA_CRYPTO_C)
#include <psa/crypto.h>
/* TLS 1.3 (and MBEDTLS_USE_PSA_CRYPTO) need PSA initialised first. */
#define LG_TLS_CRYPTO_INIT() (psa_crypto_init() == PSA_SUCCESS ? 0 : -1)
#else
#define LG_TLS_CRYPTO_INIT() 0
#endif
/* 3.x: parsing and checking a key takes the random generator (blinding). */
#define LG_TLS_PK_PARSE_KEY(pk, buf, len, pwd, pwdlen, rng, rng_ctx) \
    mbedtls_pk_parse_key(pk, buf, len, pwd, pwdlen, rng, rng_ctx)
#define LG_TLS_PK_PARSE_KEYFILE(pk, path, pwd, rng, rng_ctx) \
    mbedtls_pk_parse_keyfile(pk, path, pwd, rng, rng_ctx)
#define LG_TLS_PK_CHECK_PAIR(pub, prv, rng, rng_ctx) mbedtls_pk_check_pair(pub, prv, rng, rng_ctx)
/* TLS 1.2 at least (1.3 when the build has it: the default maximum). */
#define LG_TLS_MIN_TLS12(conf) mbedtls_ssl_conf_min_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_2)
/* Bytes of a record still waiting to leave (private in 3.x). */
#define LG_TLS_OUT_LEFT(ssl) ((ssl)->MBEDTLS_PRIVATE(out_left))
/* 3.x's default groups already put X25519, P-256 and P-384 first. */
#define LG_TLS_CONF_CURVES(conf) ((void)(conf))

#else /* 2.28 */

#define LG_TLS_CRYPTO_INIT() 0
#define LG_TLS_PK_PARSE_KEY(pk, buf, len, pwd, pwdlen, rng, rng_ctx) \
    ((void)(rng), (void)(rng_ctx), mbedtls_pk_parse_key(pk, buf, len, pwd, pwdlen))
#define LG_TLS_PK_PARSE_KEYFILE(pk, path, pwd, rng, rng_ctx) \
    ((void)(rng), (void)(rng_ctx), mbedtls_pk_parse_keyfile(pk, path, pwd))
#define LG_TLS_PK_CHECK_PAIR(pub, prv, rng, rng_ctx) \
    ((void)(rng), (void)(rng_ctx), mbedtls_pk_check_pair(pub, prv))
#define LG_TLS_MIN_TLS12(conf) \
    mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3)
#define LG_TLS_OUT_LEFT(ssl) ((ssl)->out_left)

/* ECDHE groups, most preferred first. 2.28's default is every curve the
 * build has, largest first, and a server takes the first of its own list
 * the client offers: P-521 against any OpenSSL client (curl, Python,
 * nginx), P-384 against Chromium. With OpenSSL's offers a full handshake
 * (ECDSA P-256 certificate) then cost linger's server 7.6 ms of CPU,
 * against 3.7 ms with X25519 (bench/tls). This is the order OpenSSL and
 * 3.x prefer; the rest stay acceptable after them (a peer that offers
 * only those, a certificate on such a curve). */
#if defined(MBEDTLS_ECP_C)
static const mbedtls_ecp_group_id lg_tls_curves[] = {
#if defined(MBEDTLS_ECP_DP_CURVE25519_ENABLED)
    MBEDTLS_ECP_DP_CURVE25519,
#endif
#if defined(MBEDTLS_ECP_DP_SECP256R1_ENABLED)
    MBEDTLS_ECP_DP_SECP256R1,
#endif
#if defined(MBEDTLS_ECP_DP_SECP384R1_ENABLED)
    MBEDTLS_ECP_DP_SECP384R1,
#endif
#if defined(MBEDTLS_ECP_DP_CURVE448_ENABLED)
    MBEDTLS_ECP_DP_CURVE448,
#endif
#if defined(MBEDTLS_ECP_DP_SECP521R1_ENABLED)
    MBEDTLS_ECP_DP_SECP521R1,
#endif
#if defined(MBEDTLS_ECP_DP_BP256R1_ENABLED)
    MBEDTLS_ECP_DP_BP256R1,
#endif
#if defined(MBEDTLS_ECP_DP_BP384R1_ENABLED)
    MBEDTLS_ECP_DP_BP384R1,
#endif
#if defined(MBEDTLS_ECP_DP_BP512R1_ENABLED)
    MBEDTLS_ECP_DP_BP512R1,
#endif
#if defined(MBEDTLS_ECP_DP_SECP256K1_ENABLED)
    MBEDTLS_ECP_DP_SECP256K1,
#endif
#if defined(MBEDTLS_ECP_DP_SECP224R1_ENABLED)
    MBEDTLS_ECP_DP_SECP224R1,
#endif
#if defined(MBEDTLS_ECP_DP_SECP224K1_ENABLED)
    MBEDTLS_ECP_DP_SECP224K1,
#endif
#if defined(MBEDTLS_ECP_DP_SECP192R1_ENABLED)
    MBEDTLS_ECP_DP_SECP192R1,
#endif
#if defined(MBEDTLS_ECP_DP_SECP192K1_ENABLED)
    MBEDTLS_ECP_DP_SECP192K1,
#endif
    MBEDTLS_ECP_DP_NONE,
};
#define LG_TLS_CONF_CURVES(conf) mbedtls_ssl_conf_curves(conf, lg_tls_curves)
#else /* no elliptic curves in this build: nothing to order */
#define LG_TLS_CONF_CURVES(conf) ((void)(conf))
#endif

#endif

#endif
