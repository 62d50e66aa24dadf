/*
 * Digest authentication's shared parts (RFC 7616): MD5 or SHA-256 behind
 * one interface, the request-digest, and the auth-param lists that carry
 * challenges and credentials. The server (server_digest.c) checks with
 * them, the client (client_auth.c) answers with them. The lists are read
 * in every build (the client reads a Basic challenge with them); the
 * rest goes with LG_NO_DIGEST.
 */
#include <string.h>

#include "digest_internal.h"
#include "http1_internal.h"

#if !defined(LG_NO_DIGEST)

void lg__dhash_init(lg__dhash *h, int alg)
{
    h->alg = alg & ~LG__DIGEST_SESS;
    if (h->alg == LG__DIGEST_MD5) lg__md5_init(&h->u.md5);
    else lg_sha256_init(&h->u.sha256);
}

void lg__dhash_update(lg__dhash *h, const void *data, size_t len)
{
    if (h->alg == LG__DIGEST_MD5) lg__md5_update(&h->u.md5, data, len);
    else lg_sha256_update(&h->u.sha256, data, len);
}

size_t lg__dhash_hex(lg__dhash *h, char out[2 * LG_SHA256_BYTES + 1])
{
    uint8_t sum[LG_SHA256_BYTES];
    size_t n = LG_SHA256_BYTES;
    if (h->alg == LG__DIGEST_MD5) {
        lg__md5_final(&h->u.md5, sum);
        n = LG_MD5_BYTES;
    } else {
        lg_sha256_final(&h->u.sha256, sum);
    }
    lg_hex_encode(sum, n, out, 2 * LG_SHA256_BYTES + 1);
    return 2 * n;
}

int lg__digest_alg(lg_str name)
{
    int sess = 0;
    if (name.len > 5 && lg__ieq(name.ptr + name.len - 5, "-sess", 5)) {
        sess = LG__DIGEST_SESS;
        name.len -= 5;
    }
    if (lg__str_ieq(name, "MD5")) return LG__DIGEST_MD5 | sess;
    if (lg__str_ieq(name, "SHA-256")) return LG__DIGEST_SHA256 | sess;
    return 0;
}

/* H of the parts joined by colons, in hex. */
static size_t hash_join(int alg, const lg_str *parts, int n, char out[2 * LG_SHA256_BYTES + 1])
{
    lg__dhash h;
    lg__dhash_init(&h, alg);
    for (int i = 0; i < n; i++) {
        if (i) lg__dhash_update(&h, ":", 1);
        lg__dhash_update(&h, parts[i].ptr, parts[i].len);
    }
    return lg__dhash_hex(&h, out);
}

size_t lg__digest_response(const lg__digest_in *in, char out[2 * LG_SHA256_BYTES + 1])
{
    char ha1[2 * LG_SHA256_BYTES + 1], ha2[2 * LG_SHA256_BYTES + 1];
    size_t n1;
    if (in->ha1.ptr) {
        n1 = in->ha1.len < sizeof ha1 ? in->ha1.len : sizeof ha1 - 1;
        memcpy(ha1, in->ha1.ptr, n1);
    } else {
        const lg_str a1[3] = { in->user, in->realm, in->password };
        n1 = hash_join(in->alg, a1, 3, ha1);
    }
    if (in->alg & LG__DIGEST_SESS) { /* 3.4.2: H(user:realm:password):nonce:cnonce */
        const lg_str s[3] = { { ha1, n1 }, in->nonce, in->cnonce };
        n1 = hash_join(in->alg, s, 3, ha1);
    }
    const lg_str a2[2] = { in->method, in->uri };
    size_t n2 = hash_join(in->alg, a2, 2, ha2);
    if (in->qop.len) {
        const lg_str kd[6] = { { ha1, n1 }, in->nonce, in->nc, in->cnonce, in->qop, { ha2, n2 } };
        return hash_join(in->alg, kd, 6, out);
    }
    const lg_str kd[3] = { { ha1, n1 }, in->nonce, { ha2, n2 } };
    return hash_join(in->alg, kd, 3, out);
}

#endif /* !LG_NO_DIGEST */

static int is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    return p;
}

int lg__auth_param(const char **pp, const char *end, lg_str *name, lg_str *value, int *escaped)
{
    const char *p = *pp;
    while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) p++;
    if (p == end) {
        *pp = p;
        return 0;
    }
    const char *n = p;
    while (p < end && is_tchar(*p)) p++;
    if (p == n) return -1;
    const char *after = skip_ws(p, end);
    if (after == end || *after != '=') return 0; /* the next challenge's scheme */
    name->ptr = n;
    name->len = (size_t)(p - n);
    p = skip_ws(after + 1, end);
    *escaped = 0;
    if (p < end && *p == '"') {
        const char *v = ++p;
        while (p < end && *p != '"') {
            if (*p == '\\') {
                if (++p == end) return -1;
                *escaped = 1;
            }
            p++;
        }
        if (p == end) return -1; /* no closing quote */
        value->ptr = v;
        value->len = (size_t)(p - v);
        p++;
    } else {
        const char *v = p;
        while (p < end && is_tchar(*p)) p++;
        if (p == v) return -1;
        value->ptr = v;
        value->len = (size_t)(p - v);
    }
    p = skip_ws(p, end);
    if (p < end && *p != ',') return -1;
    *pp = p;
    return 1;
}

int lg__unescape(lg_str v, char *buf, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (v.ptr[i] == '\\') i++; /* quoted-pair: the next octet as it is */
        if (n + 1 > cap) return -1;
        buf[n++] = v.ptr[i];
    }
    return (int)n;
}

#if !defined(LG_NO_DIGEST)
int lg__digest_equal(const char *a, const char *b, size_t n)
{
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++) d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

#endif /* !LG_NO_DIGEST */
