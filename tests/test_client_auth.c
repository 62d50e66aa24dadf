/*
 * The client's credentials against linger's server on one loop, over
 * loopback: a 401 with a Digest challenge answered once (SHA-256 and MD5,
 * a POST's body sent again), Basic answered or sent at once, a bearer
 * token, a URL's userinfo, a wrong password tried once and no more, a
 * stale nonce answered once more (and not twice), no credentials to
 * another origin, and what the server saw of each.
 */
#include <stdio.h>
#include <string.h>

#include "linger.h"
#include "test.h"

static const uint8_t key[32] = "an example key, 32 bytes long..";
static const lg_digest dig = { .realm = "r", .key = key, .key_len = sizeof key };
static const lg_digest dig_md5 = { .realm = "r", .key = key, .key_len = sizeof key,
                                   .algorithms = LG_DIGEST_MD5 };

static int hits;                 /* requests the server answered */
static char last_auth[512];      /* the last Authorization it got */
static int stale_left;           /* /stale: answers of stale=true to give */

static void note(lg_req *req)
{
    hits++;
    lg_str a = lg_req_header(req, "Authorization");
    snprintf(last_auth, sizeof last_auth, "%.*s", a.ptr ? (int)a.len : 0, a.ptr ? a.ptr : "");
}

static void ok(lg_req *req, lg_res *res, lg_str who)
{
    char text[128];
    snprintf(text, sizeof text, "%.*s %zu", (int)who.len, who.ptr, lg_req_body(req).len);
    lg_res_send_str(res, 200, text);
}

static void on_digest(lg_req *req, lg_res *res, void *user)
{
    const lg_digest *cfg = user;
    lg_digest_auth a;
    note(req);
    if (lg_req_digest(req, cfg, &a) != LG_OK || !lg_equal_ct(a.user.ptr, a.user.len, "ann", 3) ||
        !lg_digest_check(&a, "pw:1", 4)) {
        lg_res_ask_digest(res, cfg, &a);
        return;
    }
    ok(req, res, a.user);
}

/* Right credentials answered stale=true while stale_left lasts (as if the
 * nonce had expired in between). */
static void on_stale(lg_req *req, lg_res *res, void *user)
{
    lg_digest_auth a;
    (void)user;
    note(req);
    int good = lg_req_digest(req, &dig, &a) == LG_OK && lg_digest_check(&a, "pw:1", 4);
    if (good && stale_left > 0) {
        stale_left--;
        a.stale = 1;
        good = 0;
    }
    if (!good) {
        lg_res_ask_digest(res, &dig, &a);
        return;
    }
    ok(req, res, a.user);
}

static void on_basic(lg_req *req, lg_res *res, void *user)
{
    char buf[64];
    lg_str u, p;
    (void)user;
    note(req);
    if (lg_req_basic_auth(req, buf, sizeof buf, &u, &p) != LG_OK || !lg_equal_ct(p.ptr, p.len, "pw:1", 4)) {
        lg_res_ask_basic(res, "r");
        return;
    }
    ok(req, res, u);
}

static void on_bearer(lg_req *req, lg_res *res, void *user)
{
    lg_str t;
    (void)user;
    note(req);
    if (lg_req_bearer(req, &t) != LG_OK || !lg_equal_ct(t.ptr, t.len, "tok.en", 6)) {
        lg_res_ask_bearer(res, "r", 1);
        return;
    }
    ok(req, res, LG_STR("bearer"));
}

/* /away: a redirect to the same server under another name (localhost). */
static uint16_t port;
static void on_away(lg_req *req, lg_res *res, void *user)
{
    char url[96];
    (void)user;
    note(req);
    snprintf(url, sizeof url, "http://localhost:%u/basic", port);
    lg_res_redirect(res, 302, url);
}

typedef struct result {
    int done, err, status;
    char body[128];
} result;

static void on_response(lg_response *res, void *user)
{
    result *r = user;
    r->done = 1;
    r->err = res->err;
    r->status = res->status;
    snprintf(r->body, sizeof r->body, "%.*s", (int)res->body.len, res->body.ptr);
}

static lg_loop *loop;
static lg_client *cli;

static result fetch(lg_request req)
{
    result r = { 0 };
    hits = 0;
    last_auth[0] = 0;
    lg_fetch(cli, &req, on_response, &r);
    for (int i = 0; i < 10000 && !r.done; i++) lg_loop_run_once(loop, 1000);
    CHECK(r.done);
    return r;
}

static char *url(const char *path)
{
    static char u[4][128];
    static int next;
    char *p = u[next++ & 3];
    snprintf(p, 128, "http://127.0.0.1:%u%s", port, path);
    return p;
}

static void test_digest(void)
{
    result r = fetch((lg_request){ .url = url("/digest?x=1"), .user = "ann", .password = "pw:1" });
    CHECK_EQ_INT(r.status, 200);
    CHECK(strcmp(r.body, "ann 0") == 0);
    CHECK_EQ_INT(hits, 2); /* the challenge, then the answer */
    CHECK(strncmp(last_auth, "Digest username=\"ann\", realm=\"r\", ", 34) == 0);
    CHECK(strstr(last_auth, "algorithm=SHA-256") != NULL); /* the stronger of the two */
    CHECK(strstr(last_auth, "uri=\"/digest?x=1\"") != NULL);
    /* MD5 only; a POST whose body goes again with the answer */
    r = fetch((lg_request){ .url = url("/md5"), .user = "ann", .password = "pw:1",
                            .body = "0123456789", .body_len = 10 });
    CHECK_EQ_INT(r.status, 200);
    CHECK(strcmp(r.body, "ann 10") == 0);
    CHECK(strstr(last_auth, "algorithm=MD5") != NULL);
    /* the URL's userinfo answers Digest too (after its Basic is refused) */
    char u[128];
    snprintf(u, sizeof u, "http://ann:pw%%3A1@127.0.0.1:%u/digest", port);
    r = fetch((lg_request){ .url = u });
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_INT(hits, 2);
    /* a wrong password: answered once, then the 401 is the response */
    r = fetch((lg_request){ .url = url("/digest"), .user = "ann", .password = "nope" });
    CHECK_EQ_INT(r.err, LG_OK);
    CHECK_EQ_INT(r.status, 401);
    CHECK_EQ_INT(hits, 2);
    /* no credentials: the 401 as it came */
    r = fetch((lg_request){ .url = url("/digest") });
    CHECK_EQ_INT(r.status, 401);
    CHECK_EQ_INT(hits, 1);
}

static void test_stale(void)
{
    stale_left = 1; /* once: answered again, with the new nonce */
    result r = fetch((lg_request){ .url = url("/stale"), .user = "ann", .password = "pw:1" });
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_INT(hits, 3);
    stale_left = 5; /* again and again: answered once more, then delivered */
    r = fetch((lg_request){ .url = url("/stale"), .user = "ann", .password = "pw:1" });
    CHECK_EQ_INT(r.status, 401);
    CHECK_EQ_INT(hits, 3);
}

static void test_basic_and_bearer(void)
{
    /* answered after the challenge */
    result r = fetch((lg_request){ .url = url("/basic"), .user = "bob", .password = "pw:1" });
    CHECK_EQ_INT(r.status, 200);
    CHECK(strcmp(r.body, "bob 0") == 0);
    CHECK_EQ_INT(hits, 2);
    /* at once */
    r = fetch((lg_request){ .url = url("/basic"), .user = "bob", .password = "pw:1",
                            .flags = LG_FETCH_BASIC });
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_INT(hits, 1);
    CHECK(strcmp(last_auth, "Basic Ym9iOnB3OjE=") == 0); /* bob:pw:1 */
    /* wrong, sent at once: not sent again */
    r = fetch((lg_request){ .url = url("/basic"), .user = "bob", .password = "x",
                            .flags = LG_FETCH_BASIC });
    CHECK_EQ_INT(r.status, 401);
    CHECK_EQ_INT(hits, 1);
    /* a server asking for Digest never gets Basic unasked */
    r = fetch((lg_request){ .url = url("/digest"), .user = "ann", .password = "pw:1" });
    CHECK_EQ_INT(hits, 2);
    CHECK(strncmp(last_auth, "Digest ", 7) == 0);
    /* bearer */
    r = fetch((lg_request){ .url = url("/bearer"), .bearer = "tok.en" });
    CHECK_EQ_INT(r.status, 200);
    CHECK(strcmp(last_auth, "Bearer tok.en") == 0);
    r = fetch((lg_request){ .url = url("/bearer"), .bearer = "tok en" });
    CHECK_EQ_INT(r.err, LG_ERR_INVALID_ARG);
    r = fetch((lg_request){ .url = url("/bearer"), .bearer = "t", .user = "u" });
    CHECK_EQ_INT(r.err, LG_ERR_INVALID_ARG);
    r = fetch((lg_request){ .url = url("/basic"), .user = "a:b" });
    CHECK_EQ_INT(r.err, LG_ERR_INVALID_ARG);
}

static void test_other_origin(void)
{
    /* a redirect to another origin (localhost is not 127.0.0.1 by name):
     * its 401 is delivered, no credentials went there */
    result r = fetch((lg_request){ .url = url("/away"), .user = "bob", .password = "pw:1",
                                   .flags = LG_FETCH_BASIC });
    CHECK_EQ_INT(r.status, 401);
    CHECK_EQ_INT(hits, 2);
    CHECK(last_auth[0] == 0);
    r = fetch((lg_request){ .url = url("/away"), .bearer = "tok.en" });
    CHECK_EQ_INT(r.status, 401);
    CHECK(last_auth[0] == 0);
}

int main(void)
{
    loop = lg_loop_new(NULL);
    lg_server *srv = lg_server_new(loop, NULL);
    lg_route(srv, "*", "/digest", on_digest, (void *)&dig);
    lg_route(srv, "*", "/md5", on_digest, (void *)&dig_md5);
    lg_route(srv, "*", "/stale", on_stale, NULL);
    lg_route(srv, "*", "/basic", on_basic, NULL);
    lg_route(srv, "*", "/bearer", on_bearer, NULL);
    lg_route(srv, "*", "/away", on_away, NULL);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:0", 0), LG_OK);
    port = lg_server_port(srv);
    cli = lg_client_new(loop, NULL);
    test_digest();
    test_stale();
    test_basic_and_bearer();
    test_other_origin();
    lg_client_free(cli);
    lg_server_shutdown(srv, 1000, NULL, NULL);
    lg_loop_run(loop);
    lg_server_free(srv);
    lg_loop_free(loop);
    TEST_MAIN_END();
}
