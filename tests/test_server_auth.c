/*
 * The server's authentication helpers, through the whole server on the
 * fault injector: Basic credentials as curl and browsers send them (and
 * every malformed form), Bearer tokens, the 401 challenges, and the
 * constant-time comparison.
 */
#include <stdio.h>
#include <string.h>

#include "fault/fault_net.h"
#include "test.h"

static void on_basic(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    char buf[64];
    lg_str name, pass;
    int rc = lg_req_basic_auth(req, buf, sizeof buf, &name, &pass);
    if (rc == LG_ERR_INVALID_ARG || rc == LG_ERR_BUFFER_TOO_SMALL) {
        lg_res_error(res, 400, "malformed credentials");
        return;
    }
    if (rc != LG_OK || !lg_equal_ct(name.ptr, name.len, "admin", 5) ||
        !lg_equal_ct(pass.ptr, pass.len, "s3:cret", 7)) {
        lg_res_ask_basic(res, "device");
        return;
    }
    lg_res_send_str(res, 200, "welcome");
}

static void on_bearer(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_str token;
    int rc = lg_req_bearer(req, &token);
    if (rc == LG_OK && lg_equal_ct(token.ptr, token.len, "abc.DEF-123_~+/==", 17)) {
        lg_res_send_str(res, 200, "token ok");
        return;
    }
    lg_res_ask_bearer(res, "api", rc != LG_ERR_NOT_FOUND);
}

/* One request through a fresh server; the answer's text. */
static char answer[2048];

static const char *ask(const char *path, const char *authorization)
{
    fault_net fn;
    fault_net_init(&fn);
    lg_loop *loop = fault_loop_new(&fn);
    lg_server_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.no_date = 1;
    cfg.server_name = "";
    lg_server *srv = lg_server_new(loop, &cfg);
    lg_route(srv, "GET", "/basic", on_basic, NULL);
    lg_route(srv, "GET", "/bearer", on_bearer, NULL);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:80", 0), LG_OK);
    char req[512];
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

static void test_basic(void)
{
    /* admin:s3:cret (a colon in the password) as curl -u sends it */
    char cred[64] = "Basic ";
    lg_base64_encode("admin:s3:cret", 13, cred + 6, sizeof cred - 6);
    CHECK(starts(ask("/basic", cred), "HTTP/1.1 200 "));
    CHECK(strstr(answer, "welcome") != NULL);
    /* the scheme in any case, more spaces */
    char lower[64] = "bAsIc   ";
    lg_base64_encode("admin:s3:cret", 13, lower + 8, sizeof lower - 8);
    CHECK(starts(ask("/basic", lower), "HTTP/1.1 200 "));
    /* none, or wrong: 401 with the challenge */
    static const char *const refused[] = { NULL, "Basic YWRtaW46d3Jvbmc=", /* admin:wrong */
                                           "Basic YWRtaW46", /* "admin:" */
                                           "Bearer YWRtaW46czM6Y3JldA==", "Basic" };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        CHECK(starts(ask("/basic", refused[i]), "HTTP/1.1 401 "));
        CHECK(strstr(answer, "\r\nWWW-Authenticate: Basic realm=\"device\", charset=\"UTF-8\"\r\n") !=
              NULL);
    }
    /* malformed: not base64, no colon, a control character, too long */
    static const char *const malformed[] = { "Basic !!!!", "Basic YWRtaW4=" /* "admin" */,
                                             "Basic YQFiOmM=" /* "a\x01b:c" */,
                                             "Basic YWJj ZGVm",
                                             "Basic YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYTpi" };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        if (!starts(ask("/basic", malformed[i]), "HTTP/1.1 400 "))
            fprintf(stderr, "%s: %.40s\n", malformed[i], answer);
        CHECK(starts(answer, "HTTP/1.1 400 "));
    }
}

static void test_bearer(void)
{
    CHECK(starts(ask("/bearer", "Bearer abc.DEF-123_~+/=="), "HTTP/1.1 200 "));
    CHECK(starts(ask("/bearer", NULL), "HTTP/1.1 401 "));
    CHECK(strstr(answer, "\r\nWWW-Authenticate: Bearer realm=\"api\"\r\n") != NULL);
    CHECK(starts(ask("/bearer", "Bearer abc.DEF-124_~+/=="), "HTTP/1.1 401 "));
    CHECK(strstr(answer, "\r\nWWW-Authenticate: Bearer realm=\"api\", error=\"invalid_token\"\r\n") !=
          NULL);
    CHECK(starts(ask("/bearer", "Bearer a=b"), "HTTP/1.1 401 ")); /* "=" only at the end */
    CHECK(strstr(answer, "invalid_token") != NULL);
}

static void test_equal_ct(void)
{
    CHECK(lg_equal_ct("abc", 3, "abc", 3));
    CHECK(lg_equal_ct("", 0, "", 0));
    CHECK(!lg_equal_ct("abc", 3, "abd", 3));
    CHECK(!lg_equal_ct("ab", 2, "abc", 3));
    CHECK(!lg_equal_ct("abcd", 4, "abc", 3));
    CHECK(!lg_equal_ct("", 0, "a", 1));
    CHECK(!lg_equal_ct("a", 1, "", 0));
    /* every single-byte difference at every position */
    char a[16], b[16];
    memset(a, 'x', sizeof a);
    for (size_t i = 0; i < sizeof a; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(b, a, sizeof a);
            b[i] = (char)(b[i] ^ (1 << bit));
            CHECK(!lg_equal_ct(a, sizeof a, b, sizeof b));
        }
}

int main(void)
{
    test_basic();
    test_bearer();
    test_equal_ct();
    TEST_MAIN_END();
}
