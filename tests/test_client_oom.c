/* The answer a call gets when there is no memory even for its response.
 *
 * It used to be one function-static lg_response, written at every such
 * delivery: two loops on two threads that ran out of memory together wrote
 * the same object, one call's answer changed under a callback that had kept
 * another's, lg_response_keep wrote past its end and lg_response_free
 * handed it to the allocator. Now it is one read-only answer, never
 * written: keep and free leave it alone.
 *
 * Two clients, one call each, connecting forever (fault injector); with
 * every allocation failing, both calls are cancelled, so both deliver the
 * out-of-memory answer; each callback keeps its response. */
#include <stdint.h>

#include "fault/fault_net.h"
#include "test.h"

static int failing;
static long live, unknown_frees;

#define MAX_BLOCKS 256
static void *blocks[MAX_BLOCKS];

static void *checking_alloc(size_t size, void *user)
{
    (void)user;
    if (failing) return NULL;
    void *p = malloc(size);
    for (int i = 0; p && i < MAX_BLOCKS; i++) {
        if (!blocks[i]) {
            blocks[i] = p;
            live++;
            return p;
        }
    }
    fprintf(stderr, "more than %d live blocks\n", MAX_BLOCKS);
    abort();
}

static void checking_free(void *p, size_t size, void *user)
{
    (void)user;
    (void)size;
    for (int i = 0; i < MAX_BLOCKS; i++) {
        if (blocks[i] == p) {
            blocks[i] = NULL;
            live--;
            free(p);
            return;
        }
    }
    fprintf(stderr, "free of %p, which the allocator never gave\n", p);
    unknown_frees++;
}

static const lg_allocator checking = { checking_alloc, checking_free, NULL };

/* What a callback saw, to compare with what its kept response says later. */
typedef struct seen {
    int calls;
    void *user_arg;
    lg_response *res;
    int err, stage;
    void *res_user;
    char url[64];
} seen;

static void remember(seen *s, const lg_response *r)
{
    s->err = r->err;
    s->stage = r->stage;
    s->res_user = r->user;
    snprintf(s->url, sizeof s->url, "%s", r->url ? r->url : "(null)");
}

static void still_says(const seen *s)
{
    seen now;
    remember(&now, s->res);
    CHECK_EQ_INT(now.err, s->err);
    CHECK_EQ_INT(now.stage, s->stage);
    CHECK(now.res_user == s->res_user);
    CHECK(strcmp(now.url, s->url) == 0);
}

static seen first, second;

static void on_response(lg_response *r, void *user)
{
    seen *s = user;
    s->calls++;
    s->user_arg = user;
    s->res = r;
    remember(s, r);
    lg_response_keep(r);
    /* the answer the other call kept is not changed by this delivery */
    if (s == &second && first.calls) still_says(&first);
}

static void check_out_of_memory_answer(const seen *s, seen *expected_user)
{
    CHECK_EQ_INT(s->calls, 1);
    CHECK(s->user_arg == expected_user);
    CHECK_EQ_INT(s->err, LG_ERR_NOMEM);
    CHECK_EQ_INT(s->stage, LG_STAGE_START);
    CHECK(s->res_user == NULL); /* shared: it cannot carry one call's pointer */
    CHECK(strcmp(s->url, "") == 0);
    CHECK_EQ_INT(s->res->status, 0);
    CHECK(s->res->body.ptr && s->res->body.len == 0);
    CHECK(s->res->call == NULL);
}

int main(void)
{
    static fault_net fn;
    fault_net_init(&fn);
    lg_set_allocator(&checking);
    lg_loop *loop = fault_loop_new(&fn);
    lg_client *a = lg_client_new(loop, NULL);
    lg_client *b = lg_client_new(loop, NULL);
    CHECK(loop && a && b);
    fault_expect_connect_error(&fn, FAULT_CONNECT_HANG);
    fault_expect_connect_error(&fn, FAULT_CONNECT_HANG);
    lg_call *ca = lg_fetch(a, &(lg_request){ .url = "http://10.0.0.1/first" }, on_response, &first);
    lg_call *cb = lg_fetch(b, &(lg_request){ .url = "http://10.0.0.2/second" }, on_response, &second);
    CHECK(ca && cb);
    for (int i = 0; i < 10 && fn.connects_made < 2; i++) lg_loop_run_once(loop, 0);
    CHECK_EQ_INT(fn.connects_made, 2);
    CHECK_EQ_INT(first.calls + second.calls, 0);

    failing = 1;
    lg_call_cancel(ca);
    lg_call_cancel(cb);
    failing = 0;

    check_out_of_memory_answer(&first, &first);
    check_out_of_memory_answer(&second, &second);
    still_says(&first);
    still_says(&second);
    /* Kept, then freed: there is nothing to give back. */
    lg_response_free(first.res);
    lg_response_free(second.res);
    CHECK_EQ_INT(unknown_frees, 0);

    lg_client_free(a);
    lg_client_free(b);
    fault_run(loop, 100000);
    lg_loop_free(loop);
    fault_net_free(&fn);
    CHECK_EQ_INT(live, 0);
    lg_set_allocator(NULL);
    TEST_MAIN_END();
}
