/*
 * Sessions in a signed cookie: the handler's key-value pairs, base64, the
 * expiry, and an HMAC-SHA-256 of both under the current key:
 *
 *   name=<base64 of "key\0value\0"...>.<expiry, seconds>.<base64 of the MAC>
 *
 * The MAC covers the cookie's name too, so a value signed for one cookie
 * is worth nothing in another. Verification tries every key (rotation:
 * the newest first), comparing in constant time. Expiry is wall-clock
 * seconds (time()), so that sessions outlive a restart of the server; a
 * build without a clock (LG_NO_DATE) counts on the loop's clock instead,
 * and sessions end when the device restarts. Either way a cookie whose
 * expiry lies further ahead than max_age_s is refused: it was not made by
 * this clock (a restart of a clock that starts at 0).
 */
#include <string.h>
#if !defined(LG_NO_DATE)
#include <time.h>
#endif

#include "http1_internal.h"
#include "server_internal.h"

#if !defined(LG_NO_SERVER) && !defined(LG_NO_SESSION)

#if LG_SESSION_MAX_BYTES > 280
#error "LG_SESSION_MAX_BYTES: at most 280 (the cookie must fit lg_res_set_cookie's buffer)"
#endif

#define MAC_B64 44 /* base64 of 32 bytes */
#define DATA_B64 (4 * ((LG_SESSION_MAX_BYTES + 2) / 3))

static uint64_t now_seconds(const lg_req *req)
{
#if !defined(LG_NO_DATE)
    (void)req;
    time_t t = time(NULL);
    return t > 0 ? (uint64_t)t : 0;
#else
    return lg_loop_now(req->ex->srv->loop) / 1000;
#endif
}

static const char *cookie_name(const lg_session_config *cfg)
{
    return cfg->name ? cfg->name : "session";
}

static uint32_t max_age(const lg_session_config *cfg)
{
    return cfg->max_age_s ? cfg->max_age_s : 86400;
}

static int keys_ok(const lg_session_config *cfg)
{
    if (!cfg->keys || !cfg->num_keys) return 0;
    for (size_t i = 0; i < cfg->num_keys; i++)
        if (!cfg->keys[i].ptr || cfg->keys[i].len < 16) return 0;
    return 1;
}

/* base64 of HMAC(key, name "=" signed), NUL-terminated. */
static void sign(const lg_session_config *cfg, lg_str key, lg_str signed_part, char out[MAC_B64 + 1])
{
    lg_hmac_sha256_ctx h;
    uint8_t mac[LG_SHA256_BYTES];
    const char *name = cookie_name(cfg);
    lg_hmac_sha256_init(&h, key.ptr, key.len);
    lg_hmac_sha256_update(&h, name, strlen(name));
    lg_hmac_sha256_update(&h, "=", 1);
    lg_hmac_sha256_update(&h, signed_part.ptr, signed_part.len);
    lg_hmac_sha256_final(&h, mac);
    lg_base64_encode(mac, sizeof mac, out, MAC_B64 + 1);
}

/* Pairs of NUL-terminated strings, each key non-empty. */
static int well_formed(const char *d, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const char *k = memchr(d + i, 0, n - i);
        if (!k || k == d + i) return 0;
        i = (size_t)(k - d) + 1;
        const char *v = i < n ? memchr(d + i, 0, n - i) : NULL;
        if (!v) return 0;
        i = (size_t)(v - d) + 1;
    }
    return 1;
}

int lg_session_load(lg_req *req, const lg_session_config *cfg, lg_session *s)
{
    memset(s, 0, offsetof(lg_session, data));
    s->cfg = cfg;
    if (!keys_ok(cfg)) return LG_ERR_INVALID_ARG;
    lg_str v = lg_req_cookie(req, cookie_name(cfg));
    if (!v.ptr) return LG_ERR_NOT_FOUND;
    s->had_cookie = 1;
    /* <data>.<expiry>.<mac>: the mac is the last 44 characters */
    if (v.len < MAC_B64 + 3 || v.ptr[v.len - MAC_B64 - 1] != '.') return LG_ERR_INVALID_ARG;
    lg_str signed_part = { v.ptr, v.len - MAC_B64 - 1 };
    const char *mac = v.ptr + signed_part.len + 1;
    size_t which = cfg->num_keys;
    for (size_t i = 0; i < cfg->num_keys; i++) { /* every key: no early exit to time */
        char want[MAC_B64 + 1];
        sign(cfg, cfg->keys[i], signed_part, want);
        unsigned char d = 0;
        for (size_t k = 0; k < MAC_B64; k++) d |= (unsigned char)(want[k] ^ mac[k]);
        if (d == 0 && which == cfg->num_keys) which = i;
    }
    if (which == cfg->num_keys) return LG_ERR_INVALID_ARG;
    /* genuine: now its parts (made by us, but a key may have signed them
     * under another LG_SESSION_MAX_BYTES) */
    const char *dot = memchr(signed_part.ptr, '.', signed_part.len);
    if (!dot) return LG_ERR_INVALID_ARG;
    uint64_t expiry = 0;
    const char *p = dot + 1, *end = signed_part.ptr + signed_part.len;
    if (p == end || end - p > 19) return LG_ERR_INVALID_ARG;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9') return LG_ERR_INVALID_ARG;
        expiry = expiry * 10 + (uint64_t)(*p - '0');
    }
    uint64_t now = now_seconds(req);
    if (expiry <= now || expiry - now > max_age(cfg)) return LG_ERR_TIMEOUT;
    int n = lg_base64_decode(signed_part.ptr, (size_t)(dot - signed_part.ptr), s->data, sizeof s->data);
    if (n < 0 || !well_formed(s->data, (size_t)n)) return LG_ERR_INVALID_ARG;
    s->len = (uint16_t)n;
    s->resign = which != 0; /* an older key: sign it again with the newest */
    return LG_OK;
}

/* The pair of key: its offset, or -1. */
static long find(const lg_session *s, const char *key)
{
    size_t klen = strlen(key), i = 0;
    while (i < s->len) {
        const char *k = s->data + i;
        size_t kl = strlen(k);
        const char *val = k + kl + 1;
        size_t next = i + kl + 1 + strlen(val) + 1;
        if (kl == klen && memcmp(k, key, klen) == 0) return (long)i;
        i = next;
    }
    return -1;
}

lg_str lg_session_get(const lg_session *s, const char *key)
{
    long at = find(s, key);
    if (at < 0) return (lg_str){ NULL, 0 };
    const char *val = s->data + at + strlen(key) + 1;
    return (lg_str){ val, strlen(val) };
}

int lg_session_delete(lg_session *s, const char *key)
{
    long at = find(s, key);
    if (at < 0) return LG_ERR_NOT_FOUND;
    size_t klen = strlen(key);
    size_t pair = klen + 1 + strlen(s->data + at + klen + 1) + 1;
    memmove(s->data + at, s->data + at + pair, s->len - (size_t)at - pair);
    s->len = (uint16_t)(s->len - pair);
    s->changed = 1;
    return LG_OK;
}

int lg_session_set(lg_session *s, const char *key, const char *value)
{
    size_t kl = strlen(key), vl = strlen(value);
    if (!kl) return LG_ERR_INVALID_ARG;
    long at = find(s, key);
    size_t old = at < 0 ? 0 : kl + 1 + strlen(s->data + at + kl + 1) + 1;
    if (s->len - old + kl + 1 + vl + 1 > sizeof s->data) return LG_ERR_BUFFER_TOO_SMALL;
    if (at >= 0) lg_session_delete(s, key);
    memcpy(s->data + s->len, key, kl + 1);
    memcpy(s->data + s->len + kl + 1, value, vl + 1);
    s->len = (uint16_t)(s->len + kl + 1 + vl + 1);
    s->changed = 1;
    return LG_OK;
}

void lg_session_clear(lg_session *s)
{
    s->len = 0;
    s->changed = 1;
}

int lg_session_save(lg_res *res, lg_session *s)
{
    const lg_session_config *cfg = s->cfg;
    if (!cfg || !keys_ok(cfg)) return LG_ERR_INVALID_ARG;
    if (!s->changed && !s->resign) return LG_OK;
    lg_req *req = lg_res_req(res);
    lg_cookie_options o = { .path = cfg->path ? cfg->path : "/",
                            .http_only = 1,
                            .same_site = cfg->same_site ? cfg->same_site : "Lax" };
    o.secure = cfg->secure || req->ex->srv->cfg.transport != NULL;
    if (s->len == 0) {
        if (!s->had_cookie) return LG_OK; /* nothing to delete */
        o.max_age = -1;
        return lg_res_set_cookie(res, cookie_name(cfg), "", &o);
    }
    /* data "." expiry "." mac */
    char v[DATA_B64 + 1 + 20 + 1 + MAC_B64 + 1];
    int n = lg_base64_encode(s->data, s->len, v, sizeof v);
    if (n < 0) return n;
    v[n++] = '.';
    n += (int)lg__format_dec(v + n, now_seconds(req) + max_age(cfg));
    sign(cfg, cfg->keys[0], (lg_str){ v, (size_t)n }, v + n + 1);
    v[n] = '.';
    o.max_age = max_age(cfg);
    return lg_res_set_cookie(res, cookie_name(cfg), v, &o);
}

#endif
