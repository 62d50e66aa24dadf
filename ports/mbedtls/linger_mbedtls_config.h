/*
 * A minimal mbedTLS 2.28 configuration for linger's TLS transport on a
 * device: TLS 1.2, one cipher suite (ECDHE-ECDSA with AES-128-GCM and
 * SHA-256, on P-256), certificates in PEM or DER from memory, session
 * tickets, SNI, ALPN, max_fragment_length, and mbedTLS's memory taken from
 * one fixed block (MBEDTLS_MEMORY_BUFFER_ALLOC_C) when the application
 * gives it one. Used by `make size` (scripts/tls_size.sh) for the whole TLS
 * server's flash and by scripts/tls_ram.sh for the RAM of one connection;
 * a starting point for a device's own (ESP-IDF: menuconfig has the same
 * switches). Select it with -DMBEDTLS_CONFIG_FILE='"linger_mbedtls_config.h"'.
 *
 * Knobs (define before, e.g. with -D):
 *   LG_MBEDTLS_SERVER_ONLY      no TLS client code (a server's flash)
 *   LG_MBEDTLS_IN_LEN, _OUT_LEN the record buffers' payload (default 16384
 *                               each: what any peer may send; see docs/tls.md)
 *   LG_MBEDTLS_VARIABLE_BUFFERS shrink them after the handshake to the
 *                               fragment length the client asked for
 *   LG_MBEDTLS_MEMORY_DEBUG     mbedTLS counts its block's use (tls_ram)
 */
#ifndef LINGER_MBEDTLS_CONFIG_H
#define LINGER_MBEDTLS_CONFIG_H

/* System: no operating system, no files, no clock, no sockets. */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY          /* calloc/free replaceable at run time */
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C    /* ... by a fixed block */
/* Its blocks aligned for pointers and 64-bit integers (mbedTLS's default,
 * 4, misaligns them on a 64-bit host) */
#define MBEDTLS_MEMORY_ALIGN_MULTIPLE 8
#if defined(LG_MBEDTLS_MEMORY_DEBUG)
#define MBEDTLS_MEMORY_DEBUG
#endif
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_ENTROPY_HARDWARE_ALT     /* mbedtls_hardware_poll(): the device's TRNG */
#if defined(__ARM_ARCH)
#define MBEDTLS_HAVE_ASM                 /* bignum multiply in Thumb-2 */
#endif

/* The one suite, and TLS 1.2. */
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_SSL_CIPHERSUITES MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_WINDOW_SIZE 2        /* smaller tables, slower: RAM over speed */
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0
#define MBEDTLS_MPI_MAX_SIZE 32          /* P-256 */
#define MBEDTLS_AES_ROM_TABLES           /* AES tables in flash, not RAM */
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_SHA256_SMALLER
#define MBEDTLS_ENTROPY_FORCE_SHA256     /* no SHA-512 for the entropy pool */
#define MBEDTLS_ENTROPY_MAX_SOURCES 2

#define MBEDTLS_AES_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_GCM_C
#define MBEDTLS_MD_C
#define MBEDTLS_OID_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C

/* TLS */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_SRV_C
#if !defined(LG_MBEDTLS_SERVER_ONLY)
#define MBEDTLS_SSL_CLI_C
#endif
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_ALPN
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_TICKET_C
/* (no renegotiation: linger refuses it anyway) */

#if !defined(LG_MBEDTLS_IN_LEN)
#define LG_MBEDTLS_IN_LEN 16384
#endif
#if !defined(LG_MBEDTLS_OUT_LEN)
#define LG_MBEDTLS_OUT_LEN 16384
#endif
#define MBEDTLS_SSL_IN_CONTENT_LEN LG_MBEDTLS_IN_LEN
#define MBEDTLS_SSL_OUT_CONTENT_LEN LG_MBEDTLS_OUT_LEN
#if defined(LG_MBEDTLS_VARIABLE_BUFFERS)
#define MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH
#endif

#include "mbedtls/check_config.h"

#endif /* LINGER_MBEDTLS_CONFIG_H */
