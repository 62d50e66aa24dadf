/*
 * The router on its own: which patterns it takes, which paths each one
 * matches (against the raw, still percent-encoded path), the values of its
 * parameters and their names, and what a path that matches only other
 * methods' routes says in Allow. The HTTP around it is test_server_fault's
 * and the interop tests'.
 */
#include "fault/fault_net.h"
#include "server_internal.h"
#include "test.h"

static void on_any(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)res;
    (void)user;
}

static void test_patterns_refused(void)
{
    fault_net fn;
    fault_net_init(&fn);
    lg_loop *loop = fault_loop_new(&fn);
    lg_server *srv = lg_server_new(loop, NULL);
    static const char *const bad[] = {
        "",            "x",          "/:",          "/:a-b",      "/:id<int",   "/:id<str>",
        "/:id<int>x",  "/*",         "/*rest/x",    "/*r<int>",   "/a/:/b",     "/:<int>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = lg_route(srv, "GET", bad[i], on_any, NULL);
        if (rc != LG_ERR_INVALID_ARG) fprintf(stderr, "pattern \"%s\" taken\n", bad[i]);
        CHECK_EQ_INT(rc, LG_ERR_INVALID_ARG);
    }
    CHECK_EQ_INT(lg_route(srv, "GET", NULL, on_any, NULL), LG_ERR_INVALID_ARG);
    CHECK_EQ_INT(lg_route(srv, NULL, "/", on_any, NULL), LG_ERR_INVALID_ARG);
    CHECK_EQ_INT(lg_route(srv, "GET", "/", NULL, NULL), LG_ERR_INVALID_ARG);
    /* LG_MAX_PARAMS parameters are fine, one more is not. */
    char many[8 * (LG_MAX_PARAMS + 1) + 1] = "";
    for (int i = 0; i < LG_MAX_PARAMS; i++) sprintf(many + strlen(many), "/:p%d", i);
    CHECK_EQ_INT(lg_route(srv, "GET", many, on_any, NULL), LG_OK);
    strcat(many, "/:last");
    CHECK_EQ_INT(lg_route(srv, "GET", many, on_any, NULL), LG_ERR_INVALID_ARG);
    CHECK_EQ_INT(srv->nroutes, 1);
    lg_server_free(srv);
    lg_loop_free(loop);
}

typedef struct want {
    const char *method, *path;
    int result;           /* ROUTE_* */
    const char *pattern;  /* of the route found */
    const char *params[3];/* "name=value" each */
    const char *allow;    /* on ROUTE_WRONG_METHOD */
} want;

static void test_matching(void)
{
    fault_net fn;
    fault_net_init(&fn);
    lg_loop *loop = fault_loop_new(&fn);
    lg_server *srv = lg_server_new(loop, NULL);
    static const char *const routes[][2] = {
        { "GET", "/" },           { "GET", "/items/:id" }, { "POST", "/items/:id" },
        { "GET", "/n/:n<int>" },  { "GET", "/files/*path" }, { "GET", "/a/" },
        { "GET", "/a//b" },       { "GET", "/lit:eral*x" }, { "*", "/any" },
        { "PUT", "/x/:a/y/:b" },  { "DELETE", "/x/:a/y/:b" },
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        CHECK_EQ_INT(lg_route(srv, routes[i][0], routes[i][1], on_any, NULL), LG_OK);

    static const want cases[] = {
        { "GET", "/", ROUTE_FOUND, "/", { NULL }, NULL },
        { "GET", "/items/42", ROUTE_FOUND, "/items/:id", { "id=42" }, NULL },
        { "POST", "/items/42", ROUTE_FOUND, "/items/:id", { "id=42" }, NULL },
        { "HEAD", "/items/42", ROUTE_FOUND, "/items/:id", { "id=42" }, NULL },
        { "GET", "/items/a%2Fb", ROUTE_FOUND, "/items/:id", { "id=a%2Fb" }, NULL },
        { "GET", "/items/", ROUTE_NOT_FOUND, NULL, { NULL }, NULL },
        { "GET", "/items", ROUTE_NOT_FOUND, NULL, { NULL }, NULL },
        { "GET", "/items/4/2", ROUTE_NOT_FOUND, NULL, { NULL }, NULL },
        { "PUT", "/items/1", ROUTE_WRONG_METHOD, NULL, { NULL }, "GET, HEAD, POST" },
        { "GET", "/n/-7", ROUTE_FOUND, "/n/:n<int>", { "n=-7" }, NULL },
        { "GET", "/n/x", ROUTE_NOT_FOUND, NULL, { NULL }, NULL },
        { "GET", "/n/+", ROUTE_NOT_FOUND, NULL, { NULL }, NULL },
        { "GET", "/files/a/b%20c/d", ROUTE_FOUND, "/files/*path", { "path=a/b%20c/d" }, NULL },
        { "GET", "/files/", ROUTE_FOUND, "/files/*path", { "path=" }, NULL },
        { "GET", "/files", ROUTE_FOUND, "/files/*path", { "path=" }, NULL },
        { "GET", "/filesx", ROUTE_NOT_FOUND, NULL, { NULL }, NULL },
        { "GET", "/a/", ROUTE_FOUND, "/a/", { NULL }, NULL },
        { "GET", "/a", ROUTE_NOT_FOUND, NULL, { NULL }, NULL },
        { "GET", "/a//b", ROUTE_FOUND, "/a//b", { NULL }, NULL },
        { "GET", "/a/b", ROUTE_NOT_FOUND, NULL, { NULL }, NULL },
        { "GET", "/lit:eral*x", ROUTE_FOUND, "/lit:eral*x", { NULL }, NULL },
        { "GET", "/lit%3Aeral%2ax", ROUTE_FOUND, "/lit:eral*x", { NULL }, NULL },
        { "GET", "/lit%2Feral*x", ROUTE_NOT_FOUND, NULL, { NULL }, NULL },
        { "DELETE", "/any", ROUTE_FOUND, "/any", { NULL }, NULL },
        { "GET", "/any/", ROUTE_NOT_FOUND, NULL, { NULL }, NULL },
        { "DELETE", "/x/1/y/2", ROUTE_FOUND, "/x/:a/y/:b", { "a=1", "b=2" }, NULL },
        { "GET", "/x/1/y/2", ROUTE_WRONG_METHOD, NULL, { NULL }, "PUT, DELETE" },
        { "GET", "", ROUTE_NOT_FOUND, NULL, { NULL }, NULL },
        { "GET", "*", ROUTE_NOT_FOUND, NULL, { NULL }, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const want *w = &cases[i];
        route_match m;
        char allow[64];
        int got = lg__router_match(srv, (lg_str){ w->method, strlen(w->method) },
                                   (lg_str){ w->path, strlen(w->path) }, &m, allow, sizeof allow);
        int before = test_failures;
        CHECK_EQ_INT(got, w->result);
        if (got == ROUTE_FOUND && w->pattern) {
            CHECK(strcmp(m.route->pattern, w->pattern) == 0);
            int n = 0;
            for (int k = 0; k < 3 && w->params[k]; k++, n++) {
                const char *eq = strchr(w->params[k], '=');
                size_t nlen = (size_t)(eq - w->params[k]);
                int at = lg__route_param_index(m.route, w->params[k], nlen);
                CHECK_EQ_INT(at, k);
                if (at >= 0 && at < m.nparams) CHECK_STR(m.params[at], eq + 1);
            }
            CHECK_EQ_INT(m.nparams, n);
        }
        if (got == ROUTE_WRONG_METHOD) CHECK(strcmp(allow, w->allow) == 0);
        if (test_failures != before) fprintf(stderr, "  case %s %s\n", w->method, w->path);
    }
    /* Names that are not the pattern's, or only a prefix of one. */
    route_match m;
    lg__router_match(srv, LG_STR("GET"), LG_STR("/items/7"), &m, NULL, 0);
    CHECK_EQ_INT(lg__route_param_index(m.route, "i", 1), -1);
    CHECK_EQ_INT(lg__route_param_index(m.route, "idx", 3), -1);
    lg__router_match(srv, LG_STR("GET"), LG_STR("/"), &m, NULL, 0);
    CHECK_EQ_INT(lg__route_param_index(m.route, "id", 2), -1);
    lg_server_free(srv);
    lg_loop_free(loop);
}

int main(void)
{
    test_patterns_refused();
    test_matching();
    TEST_MAIN_END();
}
