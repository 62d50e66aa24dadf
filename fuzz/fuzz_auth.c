/*
 * libFuzzer target: what authentication and sessions read from the
 * network. The input (CR, LF and NUL taken out: a header value cannot
 * hold them) is sent through a real server on the test client's memory
 * sockets three ways: as "Authorization:" to a Digest route, as the
 * session cookie to a session route, and as a client's challenge, read
 * by the auth-param reader the client uses on WWW-Authenticate.
 *
 * Asserted on every input: the answer is whole; the Digest route never
 * lets a request in (the password is not guessable; the nonce is signed
 * with a key the input cannot know) and refuses with 401 or 400; a
 * session cookie from the input is never genuine; the auth-param reader
 * makes progress, ends, and gives slices inside the input.
 */
#include "digest_internal.h"
#include "fuzz_check.h"

static const uint8_t key[] = "a fuzzing key the input cannot see";
static const lg_digest digest = { .realm = "r", .key = key, .key_len = sizeof key };
static const lg_str keys[] = { { "a session key the input can't see", 33 } };
static const lg_session_config sessions = { .keys = keys, .num_keys = 1 };
static int session_result;

static void on_digest(lg_req *req, lg_res *res, void *user)
{
    lg_digest_auth a;
    (void)user;
    int rc = lg_req_digest(req, &digest, &a);
    if (rc == LG_OK && lg_digest_check(&a, "pw", 2)) {
        lg_res_send_str(res, 200, "in");
        return;
    }
    lg_res_ask_digest(res, &digest, &a);
}

static void on_session(lg_req *req, lg_res *res, void *user)
{
    lg_session s;
    (void)user;
    session_result = lg_session_load(req, &sessions, &s);
    lg_session_set(&s, "k", "v");
    lg_session_save(res, &s);
    lg_res_send_str(res, 200, "ok");
}

static void params(const char *p, const char *end)
{
    const long total = end - p;
    for (long guard = 0; p < end; guard++) {
        FUZZ_ASSERT(guard <= total); /* each step consumes at least a byte */
        const char *before = p;
        lg_str name, value;
        int esc;
        int rc = lg__auth_param(&p, end, &name, &value, &esc);
        if (rc != 1) break;
        FUZZ_ASSERT(p > before && p <= end);
        FUZZ_ASSERT(name.ptr >= before && name.ptr + name.len <= end && name.len);
        FUZZ_ASSERT(value.ptr >= before && value.ptr + value.len <= end);
        char buf[64];
        int n = lg__unescape(value, buf, sizeof buf);
        FUZZ_ASSERT(n <= (int)value.len && (n >= 0 || value.len > 0));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2000) return 0;
    char value[2001];
    size_t n = 0;
    for (size_t i = 0; i < size; i++)
        if (data[i] != '\r' && data[i] != '\n' && data[i] != 0) value[n++] = (char)data[i];
    value[n] = 0;
    params(value, value + n);

    lg_test *t = lg_test_new();
    FUZZ_ASSERT(t);
    lg_server *srv = lg_server_new(lg_test_loop(t), &(lg_server_config){ .no_date = 1 });
    lg_route(srv, "GET", "/d", on_digest, NULL);
    lg_route(srv, "GET", "/s", on_session, NULL);
    lg_server_listen(srv, "127.0.0.1:80", 0);
    char hdr[2100];
    lg_test_response r;
    snprintf(hdr, sizeof hdr, "Authorization: %s\r\n", value);
    lg_test_fetch(t, &(lg_test_request){ .target = "/d", .headers = hdr }, &r);
    FUZZ_ASSERT(r.err == LG_OK);
    FUZZ_ASSERT(r.status == 401 || r.status == 400); /* never in; 400: a value the parser refuses */
    snprintf(hdr, sizeof hdr, "Cookie: session=%s\r\n", value);
    session_result = 1;
    lg_test_fetch(t, &(lg_test_request){ .target = "/s", .headers = hdr }, &r);
    FUZZ_ASSERT(r.err == LG_OK);
    FUZZ_ASSERT(r.status == 200 ? session_result != LG_OK && session_result != 1 : r.status == 400);
    lg_server_shutdown(srv, 0, NULL, NULL);
    for (int i = 0; i < 100; i++) lg_loop_run_once(lg_test_loop(t), 0);
    lg_server_free(srv);
    lg_test_free(t);
    return 0;
}
