/* What Digest authentication (RFC 7616) needs on both sides, the server's
 * check (server_digest.c) and the client's answer (client_auth.c): the
 * two hashes behind one interface, the response value, and the
 * auth-param lists of challenges and credentials (RFC 9110 11.2). Not
 * part of the API. */
#ifndef LG_DIGEST_INTERNAL_H
#define LG_DIGEST_INTERNAL_H

#include "linger.h"

#if !defined(LG_NO_DIGEST)
#include "md5_internal.h"

/* Algorithms (RFC 7616 3.2); the -sess variants hash A1 once more with
 * the nonces (3.4.2). */
#define LG__DIGEST_MD5 1
#define LG__DIGEST_SHA256 2
#define LG__DIGEST_SESS 0x10

typedef struct lg__dhash {
    int alg;
    union {
        lg__md5 md5;
        lg_sha256_ctx sha256;
    } u;
} lg__dhash;

void lg__dhash_init(lg__dhash *h, int alg);
void lg__dhash_update(lg__dhash *h, const void *data, size_t len);
/* The hash in lower-case hex, NUL-terminated; its length (32 or 64). */
size_t lg__dhash_hex(lg__dhash *h, char out[2 * LG_SHA256_BYTES + 1]);

/* "MD5", "SHA-256" (case-insensitive), with "-sess": LG__DIGEST_*, or 0. */
int lg__digest_alg(lg_str name);

/* The request-digest (RFC 7616 3.4.1) in hex: with qop ("auth"),
 * KD(H(A1), nonce:nc:cnonce:qop:H(A2)); without (RFC 2069's form, for old
 * servers), KD(H(A1), nonce:H(A2)). A1 = user:realm:password (or, given
 * ha1, that hash already made, in hex); A2 = method:uri. Returns the
 * length of out. */
typedef struct lg__digest_in {
    int alg;
    lg_str user, realm, password, ha1;
    lg_str nonce, nc, cnonce, qop;
    lg_str method, uri;
} lg__digest_in;
size_t lg__digest_response(const lg__digest_in *in, char out[2 * LG_SHA256_BYTES + 1]);

/* Constant-time equality of two equal-length strings (1 when equal). */
int lg__digest_equal(const char *a, const char *b, size_t n);

#endif /* !LG_NO_DIGEST */

/* (in every build with a server or a client: Basic's challenge is read
 * with them too) */
/* The next auth-param of a list at *p (RFC 9110 11.2: token BWS "=" BWS
 * (token / quoted-string), commas and whitespace around): 1 with name and
 * value (a quoted one without its quotes; *escaped when it holds a
 * backslash escape), 0 at the end of the list or where the next challenge
 * starts (a token not followed by "="), -1 when malformed. */
int lg__auth_param(const char **p, const char *end, lg_str *name, lg_str *value, int *escaped);
/* A quoted-string's content without its escapes, into buf (cap bytes);
 * the length, or -1 when it does not fit. */
int lg__unescape(lg_str v, char *buf, size_t cap);

#endif
