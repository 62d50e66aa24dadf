/*
 * Digest authentication (RFC 7616): MD5 against RFC 1321's suite, the
 * request-digest against RFC 7616 3.9.1's worked example (SHA-256 and
 * MD5), and the server's check through the whole server on the fault
 * injector: a right answer, a wrong password, a nonce not ours, another
 * URI or realm or algorithm, an expired nonce (stale=true only with the
 * right password), and what a signed nonce cannot see (a replay).
 */
#include <stdio.h>
#include <string.h>

#include "digest_internal.h"
#include "fault/fault_net.h"
#include "md5_internal.h"
#include "test.h"

static const uint8_t key[32] = "0123456789abcdef0123456789abcdef";
static const lg_digest digest = { .realm = "device", .key = key, .key_len = sizeof key };
static const lg_digest digest_md5 = { .realm = "device", .key = key, .key_len = sizeof key,
                                      .algorithms = LG_DIGEST_MD5, .nonce_seconds = 60 };

static void md5_hex(const char *s, char out[33])
{
    lg__md5 c;
    uint8_t sum[16];
    lg__md5_init(&c);
    /* in two pieces, to cross the incremental path */
    size_t n = strlen(s), half = n / 2;
    lg__md5_update(&c, s, half);
    lg__md5_update(&c, s + half, n - half);
    lg__md5_final(&c, sum);
    lg_hex_encode(sum, 16, out, 33);
}

static void test_md5(void)
{
    /* RFC 1321 A.5 */
    static const char *const v[][2] = {
        { "", "d41d8cd98f00b204e9800998ecf8427e" },
        { "a", "0cc175b9c0f1b6a831c399e269772661" },
        { "abc", "900150983cd24fb0d6963f7d28e17f72" },
        { "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
        { "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
        { "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
          "d174ab98d277d9f5a5611c2c9f419d9f" },
        { "1234567890123456789012345678901234567890123456789012345678901234567890123456789"
          "0",
          "57edf4a22be3c955ac49da2e2107b67a" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char hex[33];
        md5_hex(v[i][0], hex);
        if (strcmp(hex, v[i][1])) fprintf(stderr, "md5(\"%s\") = %s\n", v[i][0], hex);
        CHECK(strcmp(hex, v[i][1]) == 0);
    }
    /* every length across the padding's two cases (55, 56, 63, 64 bytes):
     * byte at a time against all at once */
    char buf[130];
    memset(buf, 'q', sizeof buf);
    for (size_t n = 0; n < sizeof buf; n++) {
        lg__md5 a, b;
        uint8_t x[16], y[16];
        lg__md5_init(&a);
        lg__md5_update(&a, buf, n);
        lg__md5_final(&a, x);
        lg__md5_init(&b);
        for (size_t i = 0; i < n; i++) lg__md5_update(&b, buf + i, 1);
        lg__md5_final(&b, y);
        CHECK(memcmp(x, y, 16) == 0);
    }
}

static void test_rfc7616_example(void)
{
    /* RFC 7616 3.9.1: Mufasa, "Circle of Life", GET /dir/index.html */
    lg__digest_in in = {
        .alg = LG__DIGEST_SHA256,
        .user = LG_STR("Mufasa"),
        .realm = LG_STR("http-auth@example.org"),
        .password = LG_STR("Circle of Life"),
        .nonce = LG_STR("7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"),
        .nc = LG_STR("00000001"),
        .cnonce = LG_STR("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"),
        .qop = LG_STR("auth"),
        .method = LG_STR("GET"),
        .uri = LG_STR("/dir/index.html"),
    };
    char out[65];
    CHECK_EQ_INT(lg__digest_response(&in, out), 64);
    CHECK(strcmp(out, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1") == 0);
    in.alg = LG__DIGEST_MD5;
    CHECK_EQ_INT(lg__digest_response(&in, out), 32);
    CHECK(strcmp(out, "8ca523f5e9506fed4657c9700eebdbec") == 0);
    /* RFC 2617 3.5 (MD5, qop=auth): the same formula, another example */
    lg__digest_in old = {
        .alg = LG__DIGEST_MD5,
        .user = LG_STR("Mufasa"),
        .realm = LG_STR("testrealm@host.com"),
        .password = LG_STR("Circle Of Life"),
        .nonce = LG_STR("dcd98b7102dd2f0e8b11d0f600bfb0c093"),
        .nc = LG_STR("00000001"),
        .cnonce = LG_STR("0a4f113b"),
        .qop = LG_STR("auth"),
        .method = LG_STR("GET"),
        .uri = LG_STR("/dir/index.html"),
    };
    lg__digest_response(&old, out);
    CHECK(strcmp(out, "6629fae49393a05397450978507c4ef1") == 0);
    /* parameters as RFC 7616's example writes them, quoted and not */
    const char *p = "username=\"Mufasa\", realm=\"a \\\"b\\\"\",nc=00000001 ,qop=auth";
    const char *end = p + strlen(p);
    lg_str name, value;
    int esc;
    CHECK_EQ_INT(lg__auth_param(&p, end, &name, &value, &esc), 1);
    CHECK_STR(name, "username");
    CHECK_STR(value, "Mufasa");
    CHECK_EQ_INT(lg__auth_param(&p, end, &name, &value, &esc), 1);
    CHECK(esc);
    char buf[16];
    CHECK_EQ_INT(lg__unescape(value, buf, sizeof buf), 5);
    CHECK(memcmp(buf, "a \"b\"", 5) == 0);
    CHECK_EQ_INT(lg__auth_param(&p, end, &name, &value, &esc), 1);
    CHECK_STR(value, "00000001");
    CHECK_EQ_INT(lg__auth_param(&p, end, &name, &value, &esc), 1);
    CHECK_STR(value, "auth");
    CHECK_EQ_INT(lg__auth_param(&p, end, &name, &value, &esc), 0);
    /* the next challenge's scheme ends a list; an open quote is malformed */
    const char *q = "realm=\"x\", Basic realm=\"y\"";
    CHECK_EQ_INT(lg__auth_param(&q, q + strlen(q), &name, &value, &esc), 1);
    CHECK_EQ_INT(lg__auth_param(&q, q + strlen(q), &name, &value, &esc), 0);
    const char *r = "realm=\"x";
    CHECK_EQ_INT(lg__auth_param(&r, r + strlen(r), &name, &value, &esc), -1);
}

/* --- through the server --- */

static void on_admin(lg_req *req, lg_res *res, void *user)
{
    const lg_digest *cfg = user;
    lg_digest_auth a;
    int rc = lg_req_digest(req, cfg, &a);
    if (rc != LG_OK || !lg_equal_ct(a.user.ptr, a.user.len, "admin", 5) ||
        !lg_digest_check(&a, "s3cret", 6)) {
        lg_res_ask_digest(res, cfg, &a);
        return;
    }
    lg_res_send_str(res, 200, "welcome");
}

static char answer[4096];
static uint64_t clock_ms = 1000000;

static const char *ask(const char *path, const char *authorization)
{
    fault_net fn;
    fault_net_init(&fn);
    fn.now_ms = clock_ms;
    lg_loop *loop = fault_loop_new(&fn);
    lg_server_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.no_date = 1;
    cfg.server_name = "";
    lg_server *srv = lg_server_new(loop, &cfg);
    lg_route(srv, "GET", "/admin", on_admin, (void *)&digest);
    lg_route(srv, "GET", "/md5", on_admin, (void *)&digest_md5);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:80", 0), LG_OK);
    char req[1024];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: d\r\n%s%s%sConnection: close\r\n\r\n",
                     path, authorization ? "Authorization: " : "", authorization ? authorization : "",
                     authorization ? "\r\n" : "");
    fault_exchange(&fn, loop, req, (size_t)n, answer, sizeof answer);
    lg_server_free(srv);
    lg_loop_free(loop);
    fault_net_free(&fn);
    return answer;
}

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The nonce of the answer's challenge for algorithm alg. */
static void challenge_nonce(const char *alg, char nonce[64])
{
    char want[64];
    snprintf(want, sizeof want, "algorithm=%s, nonce=\"", alg);
    const char *p = strstr(answer, want);
    nonce[0] = 0;
    if (!p) return;
    p += strlen(want);
    size_t n = strcspn(p, "\"");
    if (n >= 64) n = 63;
    memcpy(nonce, p, n);
    nonce[n] = 0;
}

/* Credentials as a client makes them (RFC 7616 3.4). */
static void credentials(char *out, size_t cap, int alg, const char *user, const char *pass,
                        const char *realm, const char *nonce, const char *uri, const char *nc)
{
    lg__digest_in in = { .alg = alg,
                         .user = { user, strlen(user) },
                         .realm = { realm, strlen(realm) },
                         .password = { pass, strlen(pass) },
                         .nonce = { nonce, strlen(nonce) },
                         .nc = { nc, strlen(nc) },
                         .cnonce = LG_STR("0a4f113b"),
                         .qop = LG_STR("auth"),
                         .method = LG_STR("GET"),
                         .uri = { uri, strlen(uri) } };
    char resp[65];
    lg__digest_response(&in, resp);
    snprintf(out, cap,
             "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", algorithm=%s, "
             "qop=auth, nc=%s, cnonce=\"0a4f113b\", response=\"%s\"",
             user, realm, nonce, uri, alg == LG__DIGEST_MD5 ? "MD5" : "SHA-256", nc, resp);
}

static void test_server(void)
{
    char nonce[64], cred[512], md5_nonce[64];
    /* the challenge: SHA-256 first, then MD5, a nonce each */
    CHECK(starts(ask("/admin", NULL), "HTTP/1.1 401 "));
    CHECK(strstr(answer, "\r\nWWW-Authenticate: Digest realm=\"device\", qop=\"auth\", "
                         "algorithm=SHA-256, nonce=\"") != NULL);
    CHECK(strstr(answer, "algorithm=MD5") > strstr(answer, "algorithm=SHA-256"));
    CHECK(strstr(answer, "stale") == NULL);
    challenge_nonce("SHA-256", nonce);
    challenge_nonce("MD5", md5_nonce);
    CHECK_EQ_INT(strlen(nonce), 40);

    /* the right answer, both algorithms */
    credentials(cred, sizeof cred, LG__DIGEST_SHA256, "admin", "s3cret", "device", nonce, "/admin",
                "00000001");
    CHECK(starts(ask("/admin", cred), "HTTP/1.1 200 "));
    credentials(cred, sizeof cred, LG__DIGEST_MD5, "admin", "s3cret", "device", md5_nonce, "/admin",
                "00000001");
    CHECK(starts(ask("/admin", cred), "HTTP/1.1 200 "));
    /* the same nonce later in its life, the next nc: still good; the same
     * request again is too (a replay: what a signed nonce cannot see) */
    clock_ms += 200 * 1000;
    credentials(cred, sizeof cred, LG__DIGEST_SHA256, "admin", "s3cret", "device", nonce, "/admin",
                "00000002");
    CHECK(starts(ask("/admin", cred), "HTTP/1.1 200 "));
    CHECK(starts(ask("/admin", cred), "HTTP/1.1 200 "));

    /* refused, with a fresh challenge and no stale: wrong password or user,
     * another URI, another realm, a forged or altered nonce */
    static const struct {
        const char *user, *pass, *realm, *uri;
        int nonce_change;
    } bad[] = {
        { "admin", "wrong", "device", "/admin", 0 },   { "root", "s3cret", "device", "/admin", 0 },
        { "admin", "s3cret", "device", "/other", 0 },  { "admin", "s3cret", "elsewhere", "/admin", 0 },
        { "admin", "s3cret", "device", "/admin", 1 },  { "admin", "s3cret", "device", "/admin", 2 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char n2[64];
        strcpy(n2, nonce);
        if (bad[i].nonce_change == 1) n2[20] = n2[20] == 'a' ? 'b' : 'a'; /* the MAC */
        if (bad[i].nonce_change == 2) n2[7] = n2[7] == '0' ? '1' : '0';    /* the time */
        credentials(cred, sizeof cred, LG__DIGEST_SHA256, bad[i].user, bad[i].pass, bad[i].realm,
                    n2, bad[i].uri, "00000001");
        if (!starts(ask("/admin", cred), "HTTP/1.1 401 ")) fprintf(stderr, "bad[%zu]\n", i);
        CHECK(starts(answer, "HTTP/1.1 401 "));
        CHECK(strstr(answer, "stale") == NULL);
    }
    /* malformed credentials: missing fields, nc not 8 hex digits, qop
     * other than auth, an algorithm not offered */
    credentials(cred, sizeof cred, LG__DIGEST_SHA256, "admin", "s3cret", "device", nonce, "/admin",
                "0000001");
    CHECK(starts(ask("/admin", cred), "HTTP/1.1 401 "));
    CHECK(starts(ask("/admin", "Digest username=\"admin\""), "HTTP/1.1 401 "));
    CHECK(starts(ask("/admin", "Digest username=\"admin"), "HTTP/1.1 401 "));
    credentials(cred, sizeof cred, LG__DIGEST_SHA256, "admin", "s3cret", "device", nonce, "/md5",
                "00000001");
    CHECK(starts(ask("/md5", cred), "HTTP/1.1 401 ")); /* /md5 offers MD5 only */
    CHECK(strstr(answer, "SHA-256") == NULL);

    /* expired: right password, so stale=true; wrong password, no stale */
    clock_ms += 101 * 1000; /* 301 s after the nonce was made */
    credentials(cred, sizeof cred, LG__DIGEST_SHA256, "admin", "s3cret", "device", nonce, "/admin",
                "00000003");
    CHECK(starts(ask("/admin", cred), "HTTP/1.1 401 "));
    CHECK(strstr(answer, ", stale=true\r\n") != NULL);
    char fresh[64];
    challenge_nonce("SHA-256", fresh);
    CHECK(strcmp(fresh, nonce) != 0);
    credentials(cred, sizeof cred, LG__DIGEST_SHA256, "admin", "wrong", "device", nonce, "/admin",
                "00000003");
    CHECK(starts(ask("/admin", cred), "HTTP/1.1 401 "));
    CHECK(strstr(answer, "stale") == NULL);
    /* the new nonce works */
    credentials(cred, sizeof cred, LG__DIGEST_SHA256, "admin", "s3cret", "device", fresh, "/admin",
                "00000001");
    CHECK(starts(ask("/admin", cred), "HTTP/1.1 200 "));
    /* a nonce from the future (the clock went back: a restart) is stale */
    clock_ms -= 400 * 1000;
    CHECK(starts(ask("/admin", cred), "HTTP/1.1 401 "));
    CHECK(strstr(answer, ", stale=true\r\n") != NULL);
    clock_ms += 400 * 1000;
}

static void test_api_edges(void)
{
    lg_digest_auth a;
    memset(&a, 0, sizeof a);
    CHECK(!lg_digest_check(&a, "s3cret", 6)); /* nothing read: never right */
}

int main(void)
{
    test_md5();
    test_rfc7616_example();
    test_server();
    test_api_edges();
    TEST_MAIN_END();
}
