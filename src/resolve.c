/*
 * Name resolution that does not block the loop: getaddrinfo runs on a
 * detached helper thread and posts its answer back. A numeric address
 * answers on the next tick without a thread. A timeout or a cancel detaches
 * the request at once; the job then finishes on its own and frees itself.
 * With LG_NO_THREADS only numeric addresses resolve.
 */
#include <string.h>

#include "loop_internal.h"

#define MAX_ADDRS 8
#define MAX_HOST 256

#if !defined(LG_NO_THREADS)
typedef struct resolve_job {
    lg_defer posted;
    lg_loop *loop;
    lg_resolve_req *req; /* NULL once detached */
    int status;
    uint16_t port;
    size_t n;
    lg_addr addrs[MAX_ADDRS];
    char host[MAX_HOST];
} resolve_job;

static void job_done(lg_defer *d)
{
    resolve_job *job = LG_CONTAINER_OF(d, resolve_job, posted);
    lg_resolve_req *req = job->req;
    lg__loop_unref(job->loop);
    if (req) {
        req->job = NULL;
        lg_timer_stop(&req->timer);
        req->cb(req, job->status, job->addrs, job->n);
    }
    lg__free(job, sizeof *job);
}

static void job_run(void *arg)
{
    resolve_job *job = arg;
    job->status = job->loop->net->getaddrinfo(job->loop->net_ctx, job->host, job->port,
                                              job->addrs, MAX_ADDRS, &job->n);
    lg_loop_post(job->loop, &job->posted, job_done);
}

static void resolve_timeout(lg_timer *t)
{
    lg_resolve_req *req = LG_CONTAINER_OF(t, lg_resolve_req, timer);
    resolve_job *job = req->job;
    if (job) job->req = NULL;
    req->job = NULL;
    req->cb(req, LG_ERR_TIMEOUT, NULL, 0);
}
#endif

static void numeric_done(lg_defer *d)
{
    lg_resolve_req *req = LG_CONTAINER_OF(d, lg_resolve_req, done);
    lg_addr addr = *(lg_addr *)req->job;
    lg__free(req->job, sizeof(lg_addr));
    req->job = NULL;
    req->cb(req, LG_OK, &addr, 1);
}

int lg_resolve(lg_loop *loop, lg_resolve_req *req, const char *host, uint16_t port,
               uint32_t timeout_ms, lg_resolve_cb cb)
{
    size_t hlen = strlen(host);
    req->cb = cb;
    req->job = NULL;
    memset(&req->done, 0, sizeof req->done);
#if !defined(LG_NO_THREADS)
    lg_timer_init(loop, &req->timer, resolve_timeout);
#else
    lg_timer_init(loop, &req->timer, NULL);
#endif
    if (hlen == 0 || hlen >= MAX_HOST) return LG_ERR_RESOLVE;

    /* Numeric: "10.0.0.1", "::1", "[::1]" need no lookup. */
    lg_addr addr;
    const char *text = host;
#if !defined(LG_NO_IPV6)
    char tmp[80];
    if (hlen + 3 < sizeof tmp && host[0] != '[' && memchr(host, ':', hlen)) {
        tmp[0] = '[';
        memcpy(tmp + 1, host, hlen);
        tmp[hlen + 1] = ']';
        tmp[hlen + 2] = 0;
        text = tmp;
    }
#endif
    if (lg_addr_parse(&addr, text, port) == LG_OK) {
        lg_addr *copy = lg__alloc(sizeof *copy);
        if (!copy) return LG_ERR_NOMEM;
        *copy = addr;
        req->job = copy;
        lg_defer_call(loop, &req->done, numeric_done);
        return LG_OK;
    }

#if defined(LG_NO_THREADS)
    LG_UNUSED(timeout_ms);
    return LG_ERR_UNSUPPORTED;
#else
    if (!loop->net->thread_start || loop->wake_fds[0] < 0) return LG_ERR_UNSUPPORTED;
    resolve_job *job = lg__alloc(sizeof *job);
    if (!job) return LG_ERR_NOMEM;
    memset(job, 0, sizeof *job);
    job->loop = loop;
    job->req = req;
    job->port = port;
    memcpy(job->host, host, hlen + 1);
    req->job = job;
    lg__loop_ref(loop);
    int rc = loop->net->thread_start(loop->net_ctx, job_run, job);
    if (rc) {
        lg__loop_unref(loop);
        req->job = NULL;
        lg__free(job, sizeof *job);
        return rc;
    }
    if (timeout_ms) lg_timer_start(&req->timer, timeout_ms);
    return LG_OK;
#endif
}

void lg_resolve_cancel(lg_resolve_req *req)
{
    lg_timer_stop(&req->timer);
    if (req->done.next) {
        /* numeric answer not delivered yet */
        lg_defer_cancel(req->timer.loop, &req->done);
        lg__free(req->job, sizeof(lg_addr));
    }
#if !defined(LG_NO_THREADS)
    else if (req->job) {
        ((resolve_job *)req->job)->req = NULL;
    }
#endif
    req->job = NULL;
}
