/*
 * Authentication helpers for handlers (RFC 9110 11): reading Basic (RFC
 * 7617) and Bearer (RFC 6750) credentials, answering 401 with a challenge,
 * and comparing secrets in constant time.
 */
#include <string.h>

#include "http1_internal.h"
#include "server_internal.h"

#if !defined(LG_NO_SERVER) && !defined(LG_NO_AUTH)

int lg_equal_ct(const void *a, size_t alen, const void *b, size_t blen)
{
    const unsigned char *x = a, *y = b;
    unsigned char d = (unsigned char)(alen != blen);
    for (size_t i = 0; i < blen; i++) d |= (unsigned char)(y[i] ^ (i < alen ? x[i] : 0));
    return d == 0;
}

/* The credentials of an Authorization field whose scheme is `scheme`
 * (case-insensitive), after one or more spaces: token68 (RFC 9110 11.2),
 * optional whitespace at its end. 1 with *cred, 0 for another scheme or
 * none, -1 when malformed. */
static int credentials(const lg_req *req, const char *scheme, lg_str *cred)
{
    lg_str v = lg_req_header(req, "Authorization");
    if (!v.ptr) return 0;
    size_t n = strlen(scheme);
    if (v.len <= n || (v.ptr[n] != ' ') || !lg__ieq(v.ptr, scheme, n)) return 0;
    const char *p = v.ptr + n, *end = v.ptr + v.len;
    while (p < end && *p == ' ') p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t')) end--;
    if (p == end) return -1;
    const char *q = p;
    while (q < end && ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') ||
                       (*q >= '0' && *q <= '9') || strchr("-._~+/", *q)))
        q++;
    while (q < end && *q == '=') q++;
    if (q != end) return -1;
    cred->ptr = p;
    cred->len = (size_t)(end - p);
    return 1;
}

int lg_req_basic_auth(lg_req *req, char *buf, size_t cap, lg_str *user, lg_str *pass)
{
    lg_str c;
    int found = credentials(req, "Basic", &c);
    if (found <= 0) return found ? LG_ERR_INVALID_ARG : LG_ERR_NOT_FOUND;
    int n = lg_base64_decode(c.ptr, c.len, buf, cap);
    if (n == LG_ERR_BUFFER_TOO_SMALL) return n;
    if (n < 0) return LG_ERR_INVALID_ARG;
    const char *colon = memchr(buf, ':', (size_t)n);
    if (!colon) return LG_ERR_INVALID_ARG;
    /* (control characters, NUL included, are not credentials: RFC 7617 2) */
    for (int i = 0; i < n; i++)
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) return LG_ERR_INVALID_ARG;
    user->ptr = buf;
    user->len = (size_t)(colon - buf);
    pass->ptr = colon + 1;
    pass->len = (size_t)(buf + n - colon - 1);
    return LG_OK;
}

int lg_req_bearer(lg_req *req, lg_str *token)
{
    int found = credentials(req, "Bearer", token);
    return found > 0 ? LG_OK : found ? LG_ERR_INVALID_ARG : LG_ERR_NOT_FOUND;
}

static int realm_ok(const char *realm)
{
    for (const char *p = realm; *p; p++)
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f) return 0;
    return 1;
}

static int ask(lg_res *res, const char *scheme, const char *realm, const char *extra)
{
    if (!realm || !realm_ok(realm)) return LG_ERR_INVALID_ARG;
    char v[160];
    lg_writer w;
    lg_writer_init(&w, v, sizeof v - 1);
    lg_write_bytes(&w, scheme, strlen(scheme));
    lg_write_bytes(&w, " realm=\"", 8);
    lg_write_bytes(&w, realm, strlen(realm));
    lg_write_bytes(&w, "\"", 1);
    if (extra) lg_write_bytes(&w, extra, strlen(extra));
    if (w.err) return LG_ERR_INVALID_ARG; /* a realm too long to be one */
    v[w.len] = 0;
    int rc = lg_res_header(res, "WWW-Authenticate", v);
    if (rc) return rc;
    return lg_res_error(res, 401, "authentication required");
}

int lg_res_ask_basic(lg_res *res, const char *realm)
{
    return ask(res, "Basic", realm, ", charset=\"UTF-8\"");
}

int lg_res_ask_bearer(lg_res *res, const char *realm, int invalid_token)
{
    return ask(res, "Bearer", realm, invalid_token ? ", error=\"invalid_token\"" : NULL);
}

#endif
