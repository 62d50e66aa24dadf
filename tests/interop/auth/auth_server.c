/*
 * auth_server: linger's authentication on routes, for the interop tests in
 * this directory (curl --digest, Python's urllib, linger's own client).
 * Listens on 127.0.0.1, port 0, and prints the port; runs until killed.
 *
 *   /basic          Basic, admin:s3cret
 *   /bearer         Bearer, token "t0ken"
 *   /digest         Digest, SHA-256 and MD5 offered, admin:s3cret
 *   /digest-md5     Digest, MD5 only (Python's urllib has no SHA-256)
 *   /digest-short   Digest, MD5 and SHA-256, nonces good for 1 second
 *   /login?user=U   a signed session cookie remembers U ("logged in U")
 *   /whoami         "U" from the session, or "nobody (reason)"
 *   /logout         the session cleared ("logged out")
 *   /login-short    as /login, the session good for 1 second
 *
 * Every route takes any method; an accepted request is answered 200 with
 * "hello USER METHOD BODYBYTES".
 */
#include <stdio.h>
#include <string.h>

#include "linger.h"

static uint8_t key[32];

static const lg_digest digest_both = { .realm = "linger test", .key = key, .key_len = sizeof key };
static const lg_digest digest_md5 = { .realm = "linger test",
                                      .key = key,
                                      .key_len = sizeof key,
                                      .algorithms = LG_DIGEST_MD5 };
static const lg_digest digest_short = { .realm = "linger test",
                                        .key = key,
                                        .key_len = sizeof key,
                                        .nonce_seconds = 1 };

static void welcome(lg_req *req, lg_res *res, lg_str user)
{
    char text[256];
    lg_str m = lg_req_method(req);
    snprintf(text, sizeof text, "hello %.*s %.*s %zu", (int)user.len, user.ptr, (int)m.len, m.ptr,
             lg_req_body(req).len);
    lg_res_send_str(res, 200, text);
}

static void on_basic(lg_req *req, lg_res *res, void *user)
{
    char buf[128];
    lg_str name, pass;
    (void)user;
    if (lg_req_basic_auth(req, buf, sizeof buf, &name, &pass) != LG_OK ||
        !lg_equal_ct(name.ptr, name.len, "admin", 5) || !lg_equal_ct(pass.ptr, pass.len, "s3cret", 6)) {
        lg_res_ask_basic(res, "linger test");
        return;
    }
    welcome(req, res, name);
}

static void on_bearer(lg_req *req, lg_res *res, void *user)
{
    lg_str token;
    (void)user;
    int rc = lg_req_bearer(req, &token);
    if (rc != LG_OK || !lg_equal_ct(token.ptr, token.len, "t0ken", 5)) {
        lg_res_ask_bearer(res, "linger test", rc != LG_ERR_NOT_FOUND);
        return;
    }
    welcome(req, res, LG_STR("bearer"));
}

static void on_digest(lg_req *req, lg_res *res, void *user)
{
    const lg_digest *cfg = user;
    lg_digest_auth a;
    if (lg_req_digest(req, cfg, &a) != LG_OK || !lg_equal_ct(a.user.ptr, a.user.len, "admin", 5) ||
        !lg_digest_check(&a, "s3cret", 6)) {
        lg_res_ask_digest(res, cfg, &a);
        return;
    }
    welcome(req, res, a.user);
}

/* Sessions: two keys, as after a rotation; the short one's lifetime is 1 s. */
static const lg_str session_keys[] = { { "the newest key, 32 bytes long...", 32 },
                                       { "the key before it, still good....", 33 } };
static const lg_session_config sessions = { .keys = session_keys, .num_keys = 2 };
static const lg_session_config sessions_short = { .keys = session_keys, .num_keys = 2, .max_age_s = 1 };

static void on_session(lg_req *req, lg_res *res, void *user)
{
    const char *what = user;
    const lg_session_config *cfg = strcmp(what, "login-short") ? &sessions : &sessions_short;
    lg_session s;
    int rc = lg_session_load(req, cfg, &s);
    char text[300];
    if (!strncmp(what, "login", 5)) {
        lg_str u = lg_req_query(req, "user");
        char name[64];
        snprintf(name, sizeof name, "%.*s", u.ptr ? (int)u.len : 0, u.ptr ? u.ptr : "");
        lg_session_set(&s, "user", name);
        snprintf(text, sizeof text, "logged in %s", name);
    } else if (!strcmp(what, "logout")) {
        lg_session_clear(&s);
        snprintf(text, sizeof text, "logged out");
    } else {
        lg_str u = lg_session_get(&s, "user");
        if (u.ptr) snprintf(text, sizeof text, "%.*s", (int)u.len, u.ptr);
        else snprintf(text, sizeof text, "nobody (%s)", lg_err_name(rc));
    }
    lg_session_save(res, &s);
    lg_res_send_str(res, 200, text);
}

int main(void)
{
    FILE *r = fopen("/dev/urandom", "rb");
    if (!r || fread(key, 1, sizeof key, r) != sizeof key) return 1;
    fclose(r);
    lg_loop *loop = lg_loop_new(NULL);
    lg_server *srv = lg_server_new(loop, NULL);
    if (!loop || !srv) return 1;
    lg_route(srv, "*", "/basic", on_basic, NULL);
    lg_route(srv, "*", "/bearer", on_bearer, NULL);
    lg_route(srv, "*", "/digest", on_digest, (void *)&digest_both);
    lg_route(srv, "*", "/digest-md5", on_digest, (void *)&digest_md5);
    lg_route(srv, "*", "/digest-short", on_digest, (void *)&digest_short);
    lg_route(srv, "GET", "/login", on_session, "login");
    lg_route(srv, "GET", "/login-short", on_session, "login-short");
    lg_route(srv, "GET", "/whoami", on_session, "whoami");
    lg_route(srv, "GET", "/logout", on_session, "logout");
    if (lg_server_listen(srv, "127.0.0.1:0", 0) != LG_OK) return 1;
    printf("%u\n", lg_server_port(srv));
    fflush(stdout);
    lg_loop_run(loop);
    return 0;
}
