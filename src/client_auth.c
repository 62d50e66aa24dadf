/*
 * Answering a 401 (RFC 9110 11.6.1): a call with credentials (lg_request
 * user and password, or the URL's userinfo) reads the challenges of the
 * answer's WWW-Authenticate fields and makes the request once more with
 * Digest (RFC 7616: SHA-256 preferred, then MD5, their -sess forms, qop
 * auth or none) or, when the server asks for nothing better, Basic (RFC
 * 7617). Once per URL: a second 401 is delivered (a wrong password is not
 * tried for ever), except that a Digest refusal saying stale=true (the
 * nonce expired, the password was right) is answered once more.
 * LG_NO_AUTH leaves it out (LG_NO_DIGEST, Digest alone).
 */
#include <string.h>

#include "client_internal.h"
#include "digest_internal.h"
#include "http1_internal.h"

#if !defined(LG_NO_CLIENT) && !defined(LG_NO_AUTH)

#define HEX_MAX (2 * LG_SHA256_BYTES + 1)

/* One challenge's parameters (slices of the answer's head). */
typedef struct challenge {
    int alg;                /* LG__DIGEST_*, 0: Basic */
    lg_str realm, nonce, opaque;
    int realm_escaped, stale, userhash;
    int qop;                /* offers qop=auth (else RFC 2069's form, no cnonce) */
} challenge;

static int is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

#if !defined(LG_NO_DIGEST)
/* Digest's algorithms, weakest first: a higher rank wins. */
static int rank(int alg)
{
    switch (alg) {
    case LG__DIGEST_MD5 | LG__DIGEST_SESS: return 1;
    case LG__DIGEST_MD5: return 2;
    case LG__DIGEST_SHA256 | LG__DIGEST_SESS: return 3;
    case LG__DIGEST_SHA256: return 4;
    default: return 0;
    }
}

/* A Digest challenge's parameters from *p; 1 when it is one we can
 * answer (an algorithm we know, qop absent or offering "auth", a nonce). */
static int read_digest(const char **p, const char *end, challenge *c)
{
    lg_str name, value, alg = { 0 }, qop = { 0 };
    int escaped, rc, has_nonce = 0;
    memset(c, 0, sizeof *c);
    while ((rc = lg__auth_param(p, end, &name, &value, &escaped)) == 1) {
        if (lg__str_ieq(name, "realm")) {
            c->realm = value;
            c->realm_escaped = escaped;
        } else if (lg__str_ieq(name, "nonce")) {
            c->nonce = value;
            has_nonce = !escaped; /* (a nonce is echoed as it came: no escapes to undo) */
        } else if (lg__str_ieq(name, "opaque")) {
            c->opaque = value;
        } else if (lg__str_ieq(name, "algorithm")) {
            alg = value;
        } else if (lg__str_ieq(name, "qop")) {
            qop = value;
        } else if (lg__str_ieq(name, "stale")) {
            c->stale = lg__str_ieq(value, "true");
        } else if (lg__str_ieq(name, "userhash")) {
            c->userhash = lg__str_ieq(value, "true");
        }
    }
    if (rc < 0) *p = end; /* malformed: nothing more of this field */
    c->alg = alg.ptr ? lg__digest_alg(alg) : LG__DIGEST_MD5; /* RFC 7616 3.3: MD5 by default */
    c->qop = qop.ptr != NULL;
    /* (-sess hashes the cnonce in: it needs qop) */
    if ((c->alg & LG__DIGEST_SESS) && !c->qop) return 0;
    return c->alg && has_nonce && c->realm.ptr && (!qop.ptr || lg_list_has(qop, "auth"));
}
#endif

/* The challenges of every WWW-Authenticate field: the best Digest one
 * into *best (1), else 2 when Basic is asked for, else 0. */
static int read_challenges(const lg_head *h, challenge *best)
{
    int basic = 0, found = 0;
#if defined(LG_NO_DIGEST)
    (void)best;
#endif
    for (size_t i = 0; i < h->num_headers; i++) {
        if (!lg__str_ieq(h->headers[i].name, "WWW-Authenticate")) continue;
        const char *p = h->headers[i].value.ptr, *end = p + h->headers[i].value.len;
        while (p < end) {
            while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) p++;
            const char *s = p;
            while (p < end && is_tchar(*p)) p++;
            lg_str scheme = { s, (size_t)(p - s) };
            if (!scheme.len) break; /* not a challenge: the rest of the field is lost */
#if !defined(LG_NO_DIGEST)
            if (lg__str_ieq(scheme, "Digest")) {
                challenge c;
                if (read_digest(&p, end, &c) && rank(c.alg) > (found ? rank(best->alg) : 0)) {
                    *best = c;
                    found = 1;
                }
                continue;
            }
#endif
            if (lg__str_ieq(scheme, "Basic")) basic = 1;
            /* another scheme's parameters (or token68): skip to the next
             * challenge */
            lg_str n, v;
            int esc;
            int rc;
            while ((rc = lg__auth_param(&p, end, &n, &v, &esc)) == 1) {
            }
            if (rc < 0) { /* token68, or malformed: to the next comma */
                while (p < end && *p != ',') p++;
            }
        }
    }
    return found ? 1 : basic ? 2 : 0;
}

#if !defined(LG_NO_DIGEST)
static void set_auth_value(lg_call *call, char *value)
{
    if (call->auth) lg__free(call->auth, strlen(call->auth) + 1);
    call->auth = value;
}

/* A quoted-string's content, quotes and backslashes escaped. */
static void write_quoted(lg_writer *w, const char *s, size_t n)
{
    lg_write_bytes(w, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\') lg_write_bytes(w, "\\", 1);
        lg_write_bytes(w, s + i, 1);
    }
    lg_write_bytes(w, "\"", 1);
}

static void write_param(lg_writer *w, const char *name, lg_str raw, int quote)
{
    lg_write_bytes(w, ", ", 2);
    lg_write_bytes(w, name, strlen(name));
    lg_write_bytes(w, quote ? "=\"" : "=", quote ? 2u : 1u);
    lg_write_bytes(w, raw.ptr, raw.len);
    if (quote) lg_write_bytes(w, "\"", 1);
}

/* RFC 7616 3.4: the credentials for challenge c. The cnonce need not be
 * secret, only new: a hash of the clock, the call and a counter. */
static int answer_digest(lg_call *call, const challenge *c)
{
    static uint32_t counter;
    char realm_buf[256], hex[HEX_MAX], cnonce[17], user_hash[HEX_MAX];
    lg_str realm = c->realm;
    if (c->realm_escaped) {
        int n = lg__unescape(c->realm, realm_buf, sizeof realm_buf);
        if (n < 0) return 0;
        realm = (lg_str){ realm_buf, (size_t)n };
    }
    size_t tcap = call->url_len + 4;
    char *target = lg__alloc(tcap);
    if (!target) return LG_ERR_NOMEM;
    int tn = lg_url_target(&call->u, target, tcap);
    lg_str uri = { target, tn > 0 ? (size_t)tn : 0 };

    struct {
        uint64_t now;
        const void *call;
        uint32_t n;
    } seed = { lg_loop_now(call->cli->loop), call, ++counter };
    uint8_t sum[LG_SHA256_BYTES];
    lg_sha256_ctx sc;
    lg_sha256_init(&sc);
    lg_sha256_update(&sc, &seed, sizeof seed);
    lg_sha256_update(&sc, c->nonce.ptr, c->nonce.len);
    lg_sha256_final(&sc, sum);
    lg_hex_encode(sum, 8, cnonce, sizeof cnonce);

    lg_str user = { call->cred_user, strlen(call->cred_user) };
    lg__digest_in in = { .alg = c->alg,
                         .user = user,
                         .realm = realm,
                         .password = { call->cred_pass, strlen(call->cred_pass) },
                         .nonce = c->nonce,
                         .nc = LG_STR("00000001"),
                         .cnonce = { cnonce, 16 },
                         .qop = c->qop ? LG_STR("auth") : (lg_str){ 0 },
                         .method = { call->method, strlen(call->method) },
                         .uri = uri };
    lg__digest_response(&in, hex);
    if (c->userhash) { /* RFC 7616 3.4.4: H(username:realm) in its place */
        lg__dhash h;
        lg__dhash_init(&h, c->alg);
        lg__dhash_update(&h, user.ptr, user.len);
        lg__dhash_update(&h, ":", 1);
        lg__dhash_update(&h, realm.ptr, realm.len);
        lg__dhash_hex(&h, user_hash);
    }

    size_t cap = 256 + 2 * user.len + c->realm.len + c->nonce.len + 2 * uri.len + c->opaque.len +
                 (c->userhash ? HEX_MAX + 16 : 0);
    char *v = lg__alloc(cap);
    if (!v) {
        lg__free(target, tcap);
        return LG_ERR_NOMEM;
    }
    static const char *const names[] = { "", "MD5", "SHA-256" };
    lg_writer w;
    lg_writer_init(&w, v, cap - 1);
    lg_write_bytes(&w, "Digest username=", 16);
    if (c->userhash) write_quoted(&w, user_hash, strlen(user_hash));
    else write_quoted(&w, user.ptr, user.len);
    write_param(&w, "realm", c->realm, 1);
    write_param(&w, "nonce", c->nonce, 1);
    lg_write_bytes(&w, ", uri=", 6);
    write_quoted(&w, uri.ptr, uri.len);
    lg_write_bytes(&w, ", algorithm=", 12);
    lg_write_bytes(&w, names[c->alg & 3], strlen(names[c->alg & 3]));
    if (c->alg & LG__DIGEST_SESS) lg_write_bytes(&w, "-sess", 5);
    write_param(&w, "response", (lg_str){ hex, strlen(hex) }, 1);
    if (c->qop) {
        write_param(&w, "qop", LG_STR("auth"), 0);
        write_param(&w, "nc", in.nc, 0);
        write_param(&w, "cnonce", in.cnonce, 1);
    }
    if (c->opaque.ptr) write_param(&w, "opaque", c->opaque, 1);
    if (c->userhash) write_param(&w, "userhash", LG_STR("true"), 0);
    lg__free(target, tcap);
    if (w.err) {
        lg__free(v, cap);
        return 0;
    }
    v[w.len] = 0;
    char *exact = lg__realloc(v, cap, w.len + 1);
    if (!exact) {
        lg__free(v, cap);
        return LG_ERR_NOMEM;
    }
    set_auth_value(call, exact);
    return 1;
}
#endif

int lg__auth_answer(lg_call *call, const lg_head *h)
{
    if (h->status != 401 || !call->cred_user || call->body_kind == BODY_PRODUCER) return 0;
    /* credentials go to the origin they were given for, never elsewhere */
    if (!call->auth_host || call->auth_port != call->u.port ||
        !lg__str_ieq(call->u.host, call->auth_host))
        return 0;
    challenge c;
    int kind = read_challenges(h, &c);
    if (call->flags & CF_AUTH_ANSWERED) {
        /* refused: deliver it, unless Digest said only that our nonce
         * had expired (once) */
        if (kind != 1 || !c.stale || (call->flags & CF_AUTH_STALE) || !call->auth ||
            strncmp(call->auth, "Digest ", 7) != 0)
            return 0;
        call->flags |= CF_AUTH_STALE;
    }
    int rc = 0;
#if !defined(LG_NO_DIGEST)
    if (kind == 1) rc = answer_digest(call, &c);
#endif
    /* Basic only when asked for and not sent already (it was refused) */
    if (kind == 2 && !(call->auth && strncmp(call->auth, "Basic ", 6) == 0)) rc = lg__call_basic_auth(call) == LG_OK ? 1 : LG_ERR_NOMEM;
    if (rc == 1) call->flags |= CF_AUTH_ANSWERED;
    return rc;
}

#endif /* !LG_NO_CLIENT && !LG_NO_AUTH */
