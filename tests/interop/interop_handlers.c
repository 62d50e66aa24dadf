/*
 * Routes of the interop server that answer from the head: parameters,
 * query arguments, headers, cookies, the client's address, forms, hooks,
 * error handlers, redirects, statistics. Each answer is plain text a test
 * can compare exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interop.h"

void interop_cstr(lg_str s, char *out, size_t cap)
{
    size_t n = s.ptr ? s.len : 0;
    if (n >= cap) n = cap - 1;
    if (n) memcpy(out, s.ptr, n);
    out[n] = 0;
}

uint64_t interop_query_u64(lg_req *req, const char *name, uint64_t def)
{
    lg_str v = lg_req_query(req, name);
    if (!v.ptr || v.len == 0) return def;
    uint64_t n = 0;
    for (size_t i = 0; i < v.len && v.ptr[i] >= '0' && v.ptr[i] <= '9'; i++)
        n = n * 10 + (uint64_t)(v.ptr[i] - '0');
    return n;
}

static void send_text(lg_res *res, int status, const char *text, size_t len)
{
    lg_res_header(res, "Content-Type", "text/plain; charset=utf-8");
    lg_res_send(res, status, text, len);
}

/* GET / */
static void on_root(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    send_text(res, 200, "linger interop server\n", 22);
}

/* GET /items/:id, /n/:n<int>, /files/ and the rest: the parameter, decoded. */
static void on_param(lg_req *req, lg_res *res, void *user)
{
    const char *name = user;
    char out[600];
    lg_str v = lg_req_param(req, name);
    int n = snprintf(out, sizeof out, "%s=%.*s\n", name, (int)v.len, v.ptr ? v.ptr : "");
    send_text(res, 200, out, (size_t)n);
}

/* GET /query?a=1&b=x+y: "key=value" per pair, as lg_req_query finds the key
 * (so a repeated key shows its first value each time). */
static void on_query(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    char out[2048], kbuf[256];
    size_t len = 0;
    lg_query_iter it;
    lg_str k, v;
    lg_query_init(&it, lg_req_query_string(req));
    int rc;
    while ((rc = lg_query_next_decoded(&it, kbuf, sizeof kbuf, &k, &v)) != 0) {
        if (rc < 0) continue;
        char key[128];
        interop_cstr(k, key, sizeof key);
        lg_str found = lg_req_query(req, key);
        int n = snprintf(out + len, sizeof out - len, "%s=%.*s\n", key, (int)found.len,
                         found.ptr ? found.ptr : "(absent)");
        if (n < 0 || (size_t)n >= sizeof out - len) break;
        len += (size_t)n;
    }
    send_text(res, 200, out, len);
}

/* GET /header?name=x-foo: the value of that header, looked up without
 * regard to case (RFC 9110 5.1), or 404. */
static void on_header(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    char name[128];
    interop_cstr(lg_req_query(req, "name"), name, sizeof name);
    lg_str v = lg_req_header(req, name);
    if (!v.ptr) {
        send_text(res, 404, "absent\n", 7);
        return;
    }
    send_text(res, 200, v.ptr, v.len);
}

/* GET /peer: the client's address and port (one per connection). */
static void on_peer(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    char out[64];
    int n = lg_addr_format(lg_req_peer(req), out, sizeof out);
    send_text(res, 200, out, n > 0 ? (size_t)n : 0);
}

/* GET /cookie?name=sid: the cookie's value, or 404. */
static void on_cookie(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    char name[64];
    interop_cstr(lg_req_query(req, "name"), name, sizeof name);
    lg_str v = lg_req_cookie(req, name);
    if (!v.ptr) {
        send_text(res, 404, "absent\n", 7);
        return;
    }
    send_text(res, 200, v.ptr, v.len);
}

/* GET /setcookie: two cookies, one with every option. */
static void on_setcookie(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_cookie_options o = { .path = "/", .max_age = 3600, .http_only = 1, .same_site = "Lax" };
    lg_res_set_cookie(res, "sid", "abc123", &o);
    lg_cookie_options plain = { .path = "/" };
    lg_res_set_cookie(res, "theme", "dark", &plain);
    send_text(res, 200, "cookies set\n", 12);
}

/* GET /delcookie: Max-Age=0 tells the client to forget it. */
static void on_delcookie(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_cookie_options o = { .path = "/", .max_age = -1 };
    lg_res_set_cookie(res, "sid", "gone", &o);
    send_text(res, 200, "cookie deleted\n", 15);
}

/* POST /form (application/x-www-form-urlencoded, buffered). */
static void on_form(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    char out[1200];
    lg_str name = lg_req_form(req, "name"), age = lg_req_form(req, "age"),
           none = lg_req_form(req, "missing");
    int n = snprintf(out, sizeof out, "name=%.*s\nage=%.*s\nmissing=%s\n", (int)name.len,
                     name.ptr ? name.ptr : "", (int)age.len, age.ptr ? age.ptr : "",
                     none.ptr ? "present" : "(absent)");
    send_text(res, 200, out, (size_t)n);
}

/* POST /echo: the buffered body back (max_body_bytes applies: 413). */
static void on_echo(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_str body = lg_req_body(req);
    lg_res_header(res, "Content-Type", "application/octet-stream");
    lg_res_send(res, 200, body.ptr, body.len);
}

/* GET /only-get: POST to it is 405 with "Allow: GET, HEAD". */
static void on_only_get(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    send_text(res, 200, "get only\n", 9);
}

/* GET /admin/...: reached only past the before hook. */
static void on_admin(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    send_text(res, 200, "welcome, admin\n", 15);
}

/* Before hook: /admin needs "X-Admin: yes". */
static int hook_admin(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    lg_str p = lg_req_path(req);
    if (p.len < 6 || memcmp(p.ptr, "/admin", 6) != 0 || (p.len > 6 && p.ptr[6] != '/')) return 0;
    lg_str h = lg_req_header(req, "X-Admin");
    if (h.ptr && h.len == 3 && memcmp(h.ptr, "yes", 3) == 0) return 0;
    lg_res_error(res, 403, "admins only");
    return 1;
}

/* After hook: every answer of a parsed request carries this header. */
static int hook_stamp(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_header(res, "X-Interop", "after-hook");
    return 0;
}

/* Custom 404 body. */
static void on_404(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    char out[600];
    lg_str p = lg_req_path(req);
    int n = snprintf(out, sizeof out, "custom 404: %.*s\n", (int)p.len, p.ptr ? p.ptr : "");
    send_text(res, 404, out, (size_t)n);
}

/* Any method, /redirect/:code<int>: to /target?from=code */
static void on_redirect(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    char code[8], loc[64];
    interop_cstr(lg_req_param(req, "code"), code, sizeof code);
    snprintf(loc, sizeof loc, "/target?from=%s", code);
    if (lg_res_redirect(res, atoi(code), loc) != LG_OK)
        lg_res_error(res, 400, "not a redirect status");
}

/* Any method, /target: which method arrived, and how much body (307/308 keep both,
 * 303 turns them into GET: RFC 9110 15.4). */
static void on_target(lg_req *req, lg_res *res, void *user)
{
    (void)user;
    char out[128];
    lg_str m = lg_req_method(req);
    int n = snprintf(out, sizeof out, "target %.*s body=%zu\n", (int)m.len, m.ptr,
                     lg_req_body(req).len);
    send_text(res, 200, out, (size_t)n);
}

/* GET /stats: the server's and the loop's counters, as JSON. */
static void on_stats(lg_req *req, lg_res *res, void *user)
{
    interop *d = user;
    (void)req;
    const lg_server_stats *s = lg_server_get_stats(d->srv);
    const lg_loop_stats *l = lg_loop_get_stats(d->loop);
    char out[640];
    int n = snprintf(out, sizeof out,
                     "{\"requests\": %llu, \"connections\": %llu, \"active_connections\": %u, "
                     "\"bad_requests\": %llu, \"rejected_full\": %llu, \"timeouts\": %llu, "
                     "\"bodies_discarded\": %llu, \"closes_for_body\": %llu, "
                     "\"graceful_closes\": %llu, \"linger_timeouts\": %llu, "
                     "\"linger_overflows\": %llu, \"aborts\": %llu, \"stream_refusals\": %llu}\n",
                     (unsigned long long)s->requests, (unsigned long long)s->connections,
                     (unsigned)s->active_connections, (unsigned long long)s->bad_requests,
                     (unsigned long long)s->rejected_full, (unsigned long long)s->timeouts,
                     (unsigned long long)s->bodies_discarded,
                     (unsigned long long)s->closes_for_body,
                     (unsigned long long)l->graceful_closes, (unsigned long long)l->linger_timeouts,
                     (unsigned long long)l->linger_overflows, (unsigned long long)l->aborts,
                     (unsigned long long)d->stream_refusals);
    lg_res_header(res, "Content-Type", "application/json");
    lg_res_header(res, "Cache-Control", "no-store");
    lg_res_send(res, 200, out, (size_t)n);
}

void interop_routes_basic(interop *d)
{
    lg_server *s = d->srv;
    lg_route(s, "GET", "/", on_root, d);
    lg_route(s, "GET", "/items/:id", on_param, "id");
    lg_route(s, "GET", "/n/:n<int>", on_param, "n");
    lg_route(s, "GET", "/files/*rest", on_param, "rest");
    lg_route(s, "GET", "/query", on_query, d);
    lg_route(s, "GET", "/header", on_header, d);
    lg_route(s, "GET", "/peer", on_peer, d);
    lg_route(s, "GET", "/cookie", on_cookie, d);
    lg_route(s, "GET", "/setcookie", on_setcookie, d);
    lg_route(s, "GET", "/delcookie", on_delcookie, d);
    lg_route(s, "POST", "/form", on_form, d);
    lg_route(s, "POST", "/echo", on_echo, d);
    lg_route(s, "PUT", "/echo", on_echo, d);
    lg_route(s, "GET", "/only-get", on_only_get, d);
    lg_route(s, "GET", "/admin/*rest", on_admin, d);
    lg_route(s, "*", "/redirect/:code<int>", on_redirect, d);
    lg_route(s, "*", "/target", on_target, d);
    lg_route(s, "GET", "/stats", on_stats, d);
    lg_server_before(s, hook_admin, d);
    lg_server_after(s, hook_stamp, d);
    lg_server_on_error(s, 404, on_404, d);
}
