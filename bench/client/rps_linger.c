/* Small keep-alive GETs with linger's client: `concurrency` requests in
 * flight on one loop (one connection each), a new one started as each
 * completes, until `total` are done. Prints wall time, CPU time and the
 * rate; bench/client/client.sh runs it beside the libcurl multi driver.
 *
 *   rps_linger URL TOTAL CONCURRENCY */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "linger.h"

typedef struct run {
    lg_client *cli;
    const char *url;
    long total, started, done, failed;
} run;

static void on_response(lg_response *res, void *user);

static void start(run *r)
{
    lg_request req = { .url = r->url };
    r->started++;
    if (!lg_fetch(r->cli, &req, on_response, r)) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
}

static void on_response(lg_response *res, void *user)
{
    run *r = user;
    r->done++;
    if (res->err || res->status != 200) r->failed++;
    if (r->started < r->total) start(r);
    else if (r->done == r->total) lg_client_free(r->cli);
}

static double secs(const struct timeval *t)
{
    return (double)t->tv_sec + (double)t->tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: rps_linger URL TOTAL CONCURRENCY\n");
        return 2;
    }
    run r = { 0 };
    r.url = argv[1];
    r.total = atol(argv[2]);
    int conc = atoi(argv[3]);
    lg_loop *loop = lg_loop_new(NULL);
    r.cli = lg_client_new(loop, &(lg_client_config){ .max_conns_per_origin = (uint32_t)conc });
    struct timespec t0, t1;
    struct rusage u0, u1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    getrusage(RUSAGE_SELF, &u0);
    for (int i = 0; i < conc && r.started < r.total; i++) start(&r);
    lg_loop_run(loop);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    getrusage(RUSAGE_SELF, &u1);
    lg_loop_free(loop);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    double cpu = secs(&u1.ru_utime) - secs(&u0.ru_utime) + secs(&u1.ru_stime) - secs(&u0.ru_stime);
    printf("requests %ld failed %ld wall %.3f cpu %.3f rps %.0f cpu_us_per_req %.2f\n", r.done, r.failed,
           wall, cpu, (double)r.done / wall, cpu / (double)r.done * 1e6);
    return r.failed ? 1 : 0;
}
