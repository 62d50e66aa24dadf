/*
 * Signed cookie sessions through the whole server on the fault injector:
 * a session set, carried back and read; the attributes by default and
 * under TLS; every kind of tampering; expiry (and an expiry too far
 * ahead); key rotation (an old key still read, the session signed again
 * with the new one; a retired key refused); the size bound; log-out.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fault/fault_net.h"
#include "test.h"
#include "trickle_transport.h"

static const lg_str new_keys[] = { { "the newest key, 32 bytes long...", 32 },
                                   { "the key before it, still good....", 33 } };
static const lg_str old_keys[] = { { "the key before it, still good....", 33 } };
static const lg_str retired[] = { { "a key nobody uses any more.......", 33 } };
static const lg_session_config cfg_new = { .keys = new_keys, .num_keys = 2 };
static const lg_session_config cfg_old = { .keys = old_keys, .num_keys = 1 };
static const lg_session_config cfg_retired = { .keys = retired, .num_keys = 1 };
static const lg_session_config *cfg = &cfg_new;

static int last_load;

/* GET /set?k=v sets, /get?k answers the value (or "-"), /clear logs out,
 * /big fills the session past its bound. Each answers its load's status. */
static void on_any(lg_req *req, lg_res *res, void *user)
{
    lg_session s;
    char out[300];
    (void)user;
    last_load = lg_session_load(req, cfg, &s);
    lg_str path = lg_req_path(req);
    lg_str q = lg_req_query_string(req);
    char arg[64] = "", val[64] = "";
    char qs[128];
    snprintf(qs, sizeof qs, "%.*s", q.ptr ? (int)q.len : 0, q.ptr ? q.ptr : "");
    sscanf(qs, "%63[^=&]=%63[^&]", arg, val);
    if (path.len == 4 && !memcmp(path.ptr, "/set", 4)) {
        CHECK_EQ_INT(lg_session_set(&s, arg, val), LG_OK);
    } else if (path.len == 6 && !memcmp(path.ptr, "/clear", 6)) {
        lg_session_clear(&s);
    } else if (path.len == 4 && !memcmp(path.ptr, "/del", 4)) {
        lg_session_delete(&s, arg);
    } else if (path.len == 4 && !memcmp(path.ptr, "/big", 4)) {
        char v[LG_SESSION_MAX_BYTES];
        memset(v, 'v', sizeof v - 1);
        v[sizeof v - 1] = 0;
        CHECK_EQ_INT(lg_session_set(&s, "big", v), LG_ERR_BUFFER_TOO_SMALL);
        v[LG_SESSION_MAX_BYTES - 1 - 5 - (int)s.len] = 0; /* exactly full: "big\0" + v + "\0" */
        CHECK_EQ_INT(lg_session_set(&s, "big", v), LG_OK);
        CHECK_EQ_INT(s.len, LG_SESSION_MAX_BYTES - 1);
    }
    lg_str v = lg_session_get(&s, arg);
    snprintf(out, sizeof out, "%d %.*s", last_load, v.ptr ? (int)v.len : 1, v.ptr ? v.ptr : "-");
    CHECK_EQ_INT(lg_session_save(res, &s), LG_OK);
    lg_res_send_str(res, 200, out);
}

static char answer[4096];

static const char *ask(const char *path, const char *cookie, int tls)
{
    fault_net fn;
    fault_net_init(&fn);
    lg_loop *loop = fault_loop_new(&fn);
    lg_server_config sc;
    memset(&sc, 0, sizeof sc);
    sc.no_date = 1;
    sc.server_name = "";
    if (tls) sc.transport = trickle_new; /* a transport, as TLS is one */
    lg_server *srv = lg_server_new(loop, &sc);
    lg_route(srv, "GET", "/*rest", on_any, NULL);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:80", 0), LG_OK);
    char req[1024];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: d\r\n%s%s%sConnection: close\r\n\r\n",
                     path, cookie ? "Cookie: a=b; session=" : "", cookie ? cookie : "",
                     cookie ? "; z=y\r\n" : "");
    fault_exchange(&fn, loop, req, (size_t)n, answer, sizeof answer);
    lg_server_free(srv);
    lg_loop_free(loop);
    fault_net_free(&fn);
    return answer;
}

/* The session cookie's value in the last answer ("" when none). */
static char cookie[1024];
static const char *set_cookie(void)
{
    const char *p = strstr(answer, "\r\nSet-Cookie: session=");
    cookie[0] = 0;
    if (!p) return NULL;
    p += strlen("\r\nSet-Cookie: session=");
    size_t n = strcspn(p, ";\r");
    memcpy(cookie, p, n);
    cookie[n] = 0;
    return cookie;
}

static const char *body(void)
{
    const char *b = strstr(answer, "\r\n\r\n");
    return b ? b + 4 : "";
}

static void test_round_trip_and_attributes(void)
{
    ask("/set?user=ann", NULL, 0);
    CHECK(strcmp(body(), "-65 ann") == 0); /* no cookie came (LG_ERR_NOT_FOUND), then set */
    CHECK(strstr(answer, "; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax\r\n") != NULL);
    CHECK(strstr(answer, "Secure") == NULL);
    char c1[1024];
    strcpy(c1, set_cookie());
    ask("/get?user", c1, 0);
    CHECK(strcmp(body(), "0 ann") == 0);
    CHECK(set_cookie() == NULL); /* unchanged: no Set-Cookie */
    ask("/set?lang=fr", c1, 0);
    char c2[1024];
    strcpy(c2, set_cookie());
    ask("/get?user", c2, 0);
    CHECK(strcmp(body(), "0 ann") == 0);
    ask("/get?lang", c2, 0);
    CHECK(strcmp(body(), "0 fr") == 0);
    ask("/set?user=bob", c2, 0); /* replaced, not added */
    strcpy(c2, set_cookie());
    ask("/get?user", c2, 0);
    CHECK(strcmp(body(), "0 bob") == 0);
    ask("/del?user", c2, 0);
    strcpy(c2, set_cookie());
    ask("/get?user", c2, 0);
    CHECK(strcmp(body(), "0 -") == 0);
    ask("/get?lang", c2, 0);
    CHECK(strcmp(body(), "0 fr") == 0);
    /* Secure when the server's connections have a transport (TLS) */
    ask("/set?user=ann", NULL, 1);
    CHECK(strstr(answer, "; HttpOnly; Secure; SameSite=Lax\r\n") != NULL);
    /* log out: deleted */
    ask("/clear", c1, 0);
    CHECK(strstr(answer, "\r\nSet-Cookie: session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax\r\n") != NULL);
    /* the size bound: refused past it, exactly full fits and comes back */
    ask("/big?big", NULL, 0);
    char big[1024];
    strcpy(big, set_cookie());
    ask("/get?big", big, 0);
    CHECK(strncmp(body(), "0 vvvv", 6) == 0);
    CHECK_EQ_INT(strlen(body()), 2 + LG_SESSION_MAX_BYTES - 6);
}

static void test_tampering(void)
{
    ask("/set?user=ann", NULL, 0);
    char good[1024];
    strcpy(good, set_cookie());
    size_t n = strlen(good);
    /* every single character changed, and every truncation: refused */
    int refused = 0, tries = 0;
    for (size_t i = 0; i < n; i++) {
        char bad[1024];
        strcpy(bad, good);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        if (bad[i] == good[i]) continue;
        ask("/get?user", bad, 0);
        tries++;
        refused += strcmp(body(), "-41 -") == 0;
    }
    CHECK_EQ_INT(refused, tries);
    for (size_t len = 0; len < n; len += 7) {
        char bad[1024];
        memcpy(bad, good, len);
        bad[len] = 0;
        ask("/get?user", bad, 0);
        CHECK(strcmp(body(), "-41 -") == 0);
    }
    /* another session's data under this one's MAC */
    ask("/set?user=bob", NULL, 0);
    char other[1024];
    strcpy(other, set_cookie());
    char mixed[1024];
    snprintf(mixed, sizeof mixed, "%.*s%s", (int)(strchr(other, '.') - other), other, strchr(good, '.'));
    ask("/get?user", mixed, 0);
    CHECK(strcmp(body(), "-41 -") == 0);
    /* a genuine value under another cookie name is not this cookie's */
    static const lg_session_config named = { .keys = new_keys, .num_keys = 2, .name = "other" };
    cfg = &named;
    char hdr[1200];
    snprintf(hdr, sizeof hdr, "x; other=%s", good);
    ask("/get?user", hdr, 0);
    CHECK(strcmp(body(), "-41 -") == 0);
    cfg = &cfg_new;
}

/* A cookie as the server makes it, with the expiry chosen. */
static void forge(char *out, size_t cap, const lg_str *key, const char *data_b64, uint64_t expiry)
{
    char signed_part[512];
    snprintf(signed_part, sizeof signed_part, "%s.%llu", data_b64, (unsigned long long)expiry);
    lg_hmac_sha256_ctx h;
    uint8_t mac[32];
    lg_hmac_sha256_init(&h, key->ptr, key->len);
    lg_hmac_sha256_update(&h, "session=", 8);
    lg_hmac_sha256_update(&h, signed_part, strlen(signed_part));
    lg_hmac_sha256_final(&h, mac);
    char m[64];
    lg_base64_encode(mac, 32, m, sizeof m);
    snprintf(out, cap, "%s.%s", signed_part, m);
}

static void test_expiry(void)
{
    char c[1024], data[64];
    lg_base64_encode("user\0ann\0", 9, data, sizeof data);
    uint64_t now = (uint64_t)time(NULL);
    forge(c, sizeof c, &new_keys[0], data, now + 100);
    ask("/get?user", c, 0);
    CHECK(strcmp(body(), "0 ann") == 0); /* the forger holds the key: it is ours */
    forge(c, sizeof c, &new_keys[0], data, now - 1);
    ask("/get?user", c, 0);
    CHECK(strcmp(body(), "-53 -") == 0); /* LG_ERR_TIMEOUT */
    forge(c, sizeof c, &new_keys[0], data, now + 86400 + 100);
    ask("/get?user", c, 0);
    CHECK(strcmp(body(), "-53 -") == 0); /* further ahead than max_age: not our clock */
}

static void test_rotation(void)
{
    /* made under the old key alone */
    cfg = &cfg_old;
    ask("/set?user=ann", NULL, 0);
    char old[1024];
    strcpy(old, set_cookie());
    /* the new configuration reads it, and signs it again with its newest */
    cfg = &cfg_new;
    ask("/get?user", old, 0);
    CHECK(strcmp(body(), "0 ann") == 0);
    char again[1024];
    CHECK(set_cookie() != NULL);
    strcpy(again, cookie);
    CHECK(strcmp(again, old) != 0);
    ask("/get?user", again, 0);
    CHECK(strcmp(body(), "0 ann") == 0);
    CHECK(set_cookie() == NULL); /* newest key already: nothing to do */
    /* the newest key's cookie is not the old configuration's */
    cfg = &cfg_old;
    ask("/get?user", again, 0);
    CHECK(strcmp(body(), "-41 -") == 0);
    /* a retired key's cookie counts for nothing */
    cfg = &cfg_retired;
    ask("/set?user=eve", NULL, 0);
    char gone[1024];
    strcpy(gone, set_cookie());
    cfg = &cfg_new;
    ask("/get?user", gone, 0);
    CHECK(strcmp(body(), "-41 -") == 0);
}

int main(void)
{
    test_round_trip_and_attributes();
    test_tampering();
    test_expiry();
    test_rotation();
    TEST_MAIN_END();
}
