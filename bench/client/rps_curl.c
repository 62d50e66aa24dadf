/* The same as rps_linger.c with libcurl's multi interface (Debian's
 * libcurl): `concurrency` easy handles, each re-added as it completes so
 * that its kept-alive connection is used again, until `total` are done.
 *
 *   rps_curl URL TOTAL CONCURRENCY */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static size_t discard(char *p, size_t size, size_t n, void *user)
{
    (void)p;
    (void)user;
    return size * n;
}

static double secs(const struct timeval *t)
{
    return (double)t->tv_sec + (double)t->tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: rps_curl URL TOTAL CONCURRENCY\n");
        return 2;
    }
    const char *url = argv[1];
    long total = atol(argv[2]), started = 0, done = 0, failed = 0;
    int conc = atoi(argv[3]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)conc * 2);
    CURL **h = calloc((size_t)conc, sizeof *h);
    struct timespec t0, t1;
    struct rusage u0, u1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    getrusage(RUSAGE_SELF, &u0);
    for (int i = 0; i < conc && started < total; i++, started++) {
        h[i] = curl_easy_init();
        curl_easy_setopt(h[i], CURLOPT_URL, url);
        curl_easy_setopt(h[i], CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(h[i], CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
        curl_multi_add_handle(m, h[i]);
    }
    int running = 1;
    while (done < total) {
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            CURL *e = msg->easy_handle;
            long code = 0;
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
            if (msg->data.result != CURLE_OK || code != 200) failed++;
            done++;
            curl_multi_remove_handle(m, e);
            if (started < total) {
                started++;
                curl_multi_add_handle(m, e); /* same handle: its connection is reused */
            }
        }
        if (done < total) curl_multi_poll(m, NULL, 0, 1000, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    getrusage(RUSAGE_SELF, &u1);
    for (int i = 0; i < conc; i++)
        if (h[i]) curl_easy_cleanup(h[i]);
    curl_multi_cleanup(m);
    free(h);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    double cpu = secs(&u1.ru_utime) - secs(&u0.ru_utime) + secs(&u1.ru_stime) - secs(&u0.ru_stime);
    printf("requests %ld failed %ld wall %.3f cpu %.3f rps %.0f cpu_us_per_req %.2f\n", done, failed, wall,
           cpu, (double)done / wall, cpu / (double)done * 1e6);
    return failed ? 1 : 0;
}
