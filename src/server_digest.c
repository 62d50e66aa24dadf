/*
 * Digest authentication on the server (RFC 7616): reading the client's
 * credentials, checking them against a password, and the challenge.
 *
 * Nonces are signed, not stored. A nonce is 8 hex digits of the loop's
 * clock in seconds when it was made, then 32 hex digits of HMAC-SHA-256
 * (key, those 8 digits and the realm), cut to 128 bits. The server learns
 * from the nonce alone whether it made it and how old it is, so nothing
 * grows with the number of clients — a small device cannot be made to
 * forget a legitimate client's nonce by a flood of new ones, as a bounded
 * table would be. The price, said in linger.h: a nonce used twice is not
 * seen (nc goes into the hash, but no count is remembered), so a captured
 * request can be replayed unchanged until its nonce expires.
 */
#include <string.h>

#include "digest_internal.h"
#include "http1_internal.h"
#include "server_internal.h"

#if !defined(LG_NO_SERVER) && !defined(LG_NO_DIGEST)

#define NONCE_TIME_HEX 8
#define NONCE_MAC_BYTES 16
#define NONCE_LEN (NONCE_TIME_HEX + 2 * NONCE_MAC_BYTES)

static uint32_t now_seconds(const lg_req *req)
{
    return (uint32_t)(lg_loop_now(req->ex->srv->loop) / 1000);
}

static int config_ok(const lg_digest *cfg)
{
    if (!cfg->realm || !cfg->key || cfg->key_len < 16) return 0;
    for (const char *p = cfg->realm; *p; p++)
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f) return 0;
    return 1;
}

static unsigned algorithms(const lg_digest *cfg)
{
    return cfg->algorithms ? cfg->algorithms : LG_DIGEST_SHA256 | LG_DIGEST_MD5;
}

/* The nonce made at time t, NUL-terminated. */
static void make_nonce(const lg_digest *cfg, uint32_t t, char out[NONCE_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < NONCE_TIME_HEX; i++) out[i] = hex[(t >> (28 - 4 * i)) & 15];
    lg_hmac_sha256_ctx h;
    uint8_t mac[LG_SHA256_BYTES];
    lg_hmac_sha256_init(&h, cfg->key, cfg->key_len);
    lg_hmac_sha256_update(&h, out, NONCE_TIME_HEX);
    lg_hmac_sha256_update(&h, cfg->realm, strlen(cfg->realm));
    lg_hmac_sha256_final(&h, mac);
    lg_hex_encode(mac, NONCE_MAC_BYTES, out + NONCE_TIME_HEX, NONCE_LEN + 1 - NONCE_TIME_HEX);
}

/* 1: ours and fresh; 2: ours and expired; 0: not ours. */
static int nonce_state(const lg_digest *cfg, lg_str nonce, uint32_t now)
{
    if (nonce.len != NONCE_LEN) return 0;
    uint32_t t = 0;
    for (int i = 0; i < NONCE_TIME_HEX; i++) {
        char c = nonce.ptr[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0) return 0;
        t = t << 4 | (uint32_t)v;
    }
    char want[NONCE_LEN + 1];
    make_nonce(cfg, t, want);
    if (!lg__digest_equal(want, nonce.ptr, NONCE_LEN)) return 0;
    uint32_t life = cfg->nonce_seconds ? cfg->nonce_seconds : 300;
    /* (a time ahead of the clock: a key kept across a restart of a clock
     * that starts at 0; not a nonce of this run, so not fresh) */
    return t <= now && now - t <= life ? 1 : 2;
}

static int is_hex(lg_str s)
{
    for (size_t i = 0; i < s.len; i++)
        if (!((s.ptr[i] >= '0' && s.ptr[i] <= '9') || (s.ptr[i] >= 'a' && s.ptr[i] <= 'f') ||
              (s.ptr[i] >= 'A' && s.ptr[i] <= 'F')))
            return 0;
    return 1;
}

static int str_eq(lg_str s, const char *z)
{
    return s.ptr && strlen(z) == s.len && memcmp(s.ptr, z, s.len) == 0;
}

/* The parameters of the credentials into a; LG_OK or LG_ERR_INVALID_ARG. */
static int read_params(const char *p, const char *end, lg_digest_auth *a, lg_str *alg)
{
    static const char *const names[] = { "username", "realm", "nonce",  "uri", "response",
                                         "cnonce",   "nc",    "qop",    "algorithm" };
    lg_str *slots[] = { &a->user, &a->realm, &a->nonce, &a->uri, &a->response,
                        &a->cnonce, &a->nc,  &a->qop,  alg };
    size_t used = 0;
    lg_str name, value;
    int escaped, rc;
    while ((rc = lg__auth_param(&p, end, &name, &value, &escaped)) == 1) {
        if (lg__str_ieq(name, "userhash") && !lg__str_ieq(value, "false"))
            return LG_ERR_INVALID_ARG; /* never offered (RFC 7616 3.4.4) */
        if (lg__str_ieq(name, "username*")) return LG_ERR_INVALID_ARG; /* (nor 3.4.5) */
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            if (!lg__str_ieq(name, names[i])) continue;
            if (slots[i]->ptr) return LG_ERR_INVALID_ARG; /* twice */
            if (escaped) {
                int n = lg__unescape(value, a->buf + used, sizeof a->buf - used);
                if (n < 0) return LG_ERR_INVALID_ARG;
                value.ptr = a->buf + used;
                value.len = (size_t)n;
                used += (size_t)n;
            }
            *slots[i] = value;
            if (!value.ptr) slots[i]->ptr = ""; /* (present, even empty) */
        }
    }
    return rc < 0 || p != end ? LG_ERR_INVALID_ARG : LG_OK;
}

int lg_req_digest(lg_req *req, const lg_digest *cfg, lg_digest_auth *a)
{
    memset(a, 0, sizeof *a);
    lg_str v = lg_req_header(req, "Authorization");
    if (!v.ptr || v.len <= 7 || v.ptr[6] != ' ' || !lg__ieq(v.ptr, "Digest", 6))
        return LG_ERR_NOT_FOUND;
    if (!config_ok(cfg)) return LG_ERR_INVALID_ARG;
    lg_str alg = { 0 };
    if (read_params(v.ptr + 7, v.ptr + v.len, a, &alg) != LG_OK) return LG_ERR_INVALID_ARG;
    if (!a->user.ptr || !a->nonce.ptr || !a->uri.ptr || !a->response.ptr || !a->cnonce.ptr ||
        !a->nc.ptr || !a->qop.ptr)
        return LG_ERR_INVALID_ARG;
    /* RFC 7616 3.4: the realm we asked for, an algorithm we offered (MD5
     * when none is named), qop=auth with its nc (8 hex digits) and
     * cnonce, and the URI of this very request (3.4.6: else a response
     * made for another resource would be accepted here). */
    int id = alg.ptr ? lg__digest_alg(alg) : LG__DIGEST_MD5;
    unsigned offered = algorithms(cfg);
    if (!str_eq(a->realm, cfg->realm) || (id != LG__DIGEST_MD5 && id != LG__DIGEST_SHA256) ||
        (id == LG__DIGEST_MD5 && !(offered & LG_DIGEST_MD5)) ||
        (id == LG__DIGEST_SHA256 && !(offered & LG_DIGEST_SHA256)) || !lg__str_ieq(a->qop, "auth") ||
        a->nc.len != 8 || !is_hex(a->nc) || !a->cnonce.len)
        return LG_ERR_INVALID_ARG;
    lg_str target = lg_req_target(req);
    if (a->uri.len != target.len || memcmp(a->uri.ptr, target.ptr, target.len) != 0)
        return LG_ERR_INVALID_ARG;
    if (a->response.len != (id == LG__DIGEST_MD5 ? 2u * LG_MD5_BYTES : 2u * LG_SHA256_BYTES))
        return LG_ERR_INVALID_ARG;
    int state = nonce_state(cfg, a->nonce, now_seconds(req));
    if (!state) return LG_ERR_INVALID_ARG;
    a->stale = state == 2;
    a->alg = (uint8_t)id;
    a->method = lg_req_method(req);
    return LG_OK;
}

int lg_digest_check(lg_digest_auth *a, const char *password, size_t len)
{
    if (!a->alg) return 0;
    lg__digest_in in = { .alg = a->alg,
                         .user = a->user,
                         .realm = a->realm,
                         .password = { password, len },
                         .nonce = a->nonce,
                         .nc = a->nc,
                         .cnonce = a->cnonce,
                         .qop = a->qop,
                         .method = a->method,
                         .uri = a->uri };
    char want[2 * LG_SHA256_BYTES + 1];
    size_t n = lg__digest_response(&in, want);
    /* RFC 7616 3.4.1 asks for lower-case hex; an upper-case one is the
     * same number (| 0x20 lowers hex letters and leaves digits alone) */
    unsigned char d = (unsigned char)(n != a->response.len);
    for (size_t i = 0; i < n && i < a->response.len; i++)
        d |= (unsigned char)(want[i] ^ (a->response.ptr[i] | 0x20));
    a->matched = d == 0;
    return a->matched && !a->stale;
}

int lg_res_ask_digest(lg_res *res, const lg_digest *cfg, const lg_digest_auth *a)
{
    if (!config_ok(cfg)) return LG_ERR_INVALID_ARG;
    char nonce[NONCE_LEN + 1];
    make_nonce(cfg, now_seconds(lg_res_req(res)), nonce);
    int stale = a && a->stale && a->matched;
    unsigned offered = algorithms(cfg);
    static const struct {
        unsigned flag;
        const char *name;
    } order[] = { { LG_DIGEST_SHA256, "SHA-256" }, { LG_DIGEST_MD5, "MD5" } };
    for (size_t i = 0; i < 2; i++) {
        if (!(offered & order[i].flag)) continue;
        char v[256];
        lg_writer w;
        lg_writer_init(&w, v, sizeof v - 1);
        lg_write_bytes(&w, "Digest realm=\"", 14);
        lg_write_bytes(&w, cfg->realm, strlen(cfg->realm));
        lg_write_bytes(&w, "\", qop=\"auth\", algorithm=", 25);
        lg_write_bytes(&w, order[i].name, strlen(order[i].name));
        lg_write_bytes(&w, ", nonce=\"", 9);
        lg_write_bytes(&w, nonce, NONCE_LEN);
        lg_write_bytes(&w, "\"", 1);
        if (stale) lg_write_bytes(&w, ", stale=true", 12);
        if (w.err) return LG_ERR_INVALID_ARG; /* a realm too long to be one */
        v[w.len] = 0;
        int rc = lg_res_header(res, "WWW-Authenticate", v);
        if (rc) return rc;
    }
    return lg_res_error(res, 401, "authentication required");
}

#endif
