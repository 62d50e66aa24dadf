/*
 * Cross-origin resource sharing (the Fetch standard, "CORS protocol"), as
 * a before hook: headers for allowed origins, preflights answered here.
 */
#include <string.h>

#include "http1_internal.h"
#include "server_internal.h"

#if !defined(LG_NO_SERVER) && !defined(LG_NO_CORS)

static int origin_allowed(const lg_cors *c, lg_str origin)
{
    if (!c->origins) return 1;
    for (const char *const *o = c->origins; *o; o++)
        if (strlen(*o) == origin.len && memcmp(*o, origin.ptr, origin.len) == 0) return 1;
    return 0;
}

/* A header value from a slice (lg_res_header takes a C string); values
 * that do not fit are left out. */
static void header_slice(lg_res *res, const char *name, lg_str v)
{
    char buf[512];
    if (v.len >= sizeof buf) return;
    memcpy(buf, v.ptr, v.len);
    buf[v.len] = 0;
    lg_res_header(res, name, buf);
}

int lg_cors_hook(lg_req *req, lg_res *res, void *user)
{
    const lg_cors *c = user;
    lg_str origin = lg_req_header(req, "Origin");
    if (!origin.ptr) return 0; /* not a cross-origin request */
    lg_str method = lg_req_method(req);
    int preflight = lg__str_ieq(method, "OPTIONS") &&
                    lg_req_header(req, "Access-Control-Request-Method").ptr != NULL;
    lg_res_header(res, "Vary", "Origin");
    if (!origin_allowed(c, origin)) {
        if (!preflight) return 0;
        lg_res_send(res, 204, NULL, 0);
        return 1;
    }
    /* "*" only where no credentials go: otherwise the origin itself. */
    if (!c->origins && !c->credentials) lg_res_header(res, "Access-Control-Allow-Origin", "*");
    else header_slice(res, "Access-Control-Allow-Origin", origin);
    if (c->credentials) lg_res_header(res, "Access-Control-Allow-Credentials", "true");
    if (!preflight) {
        if (c->expose) lg_res_header(res, "Access-Control-Expose-Headers", c->expose);
        return 0;
    }
    lg_res_header(res, "Access-Control-Allow-Methods",
                  c->methods ? c->methods : "GET, HEAD, POST, PUT, PATCH, DELETE");
    if (c->headers) {
        lg_res_header(res, "Access-Control-Allow-Headers", c->headers);
    } else {
        lg_str asked = lg_req_header(req, "Access-Control-Request-Headers");
        if (asked.ptr && asked.len) {
            header_slice(res, "Access-Control-Allow-Headers", asked);
            lg_res_header(res, "Vary", "Access-Control-Request-Headers");
        }
    }
    char age[24];
    age[lg__format_dec(age, c->max_age ? c->max_age : 600)] = 0;
    lg_res_header(res, "Access-Control-Max-Age", age);
    lg_res_send(res, 204, NULL, 0);
    return 1;
}

#endif
