/*
 * multipart/form-data parsing throughput, one core: linger's decoder
 * (lg_multipart_parse) against libmicrohttpd's MHD_PostProcessor, on the
 * same bytes held in memory, fed in the same 16 KiB pieces a server would
 * read. Two bodies: one large file (8 MiB) with a field, and 10,000 small
 * fields of 100 bytes. Each round parses the body once with each; the
 * figures are medians over the rounds, in MB/s (10^6 bytes), with the
 * ratio linger / libmicrohttpd.
 *
 * libmicrohttpd's post processor takes the Content-Type from a request on
 * a connection of its daemon, so the program runs a daemon on 127.0.0.1
 * (port 0), sends it one bodiless request with that header, and runs the
 * rounds inside its handler. Both sides count the bytes handed to them, so
 * neither can skip work; the counts must agree with the body.
 *
 *   bench/upload/run.sh    (builds this and runs it with the HTTP bench)
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "linger.h"

#define PIECE 16384
#define BOUNDARY "----bench7MA4YWxkTrZu0gW"

static char *body;
static size_t body_len, content_bytes;
static int rounds = 11;
static double lg_mbs[64], mhd_mbs[64];
static int done;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return v[n / 2];
}

/* --- the bodies --- */

static void body_large(void)
{
    size_t file = 8u << 20;
    body = malloc(file + 1024);
    char *p = body;
    p += sprintf(p, "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
                    "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"fw\"; filename=\"fw.bin\"\r\n"
                    "Content-Type: application/octet-stream\r\n\r\n");
    for (size_t i = 0; i < file; i++) p[i] = (char)(i * 2654435761u >> 13); /* CRs among them */
    p += file;
    p += sprintf(p, "\r\n--" BOUNDARY "--\r\n");
    body_len = (size_t)(p - body);
    content_bytes = file + 5;
}

static void body_small(void)
{
    body = malloc(10000 * 220);
    char *p = body;
    for (int i = 0; i < 10000; i++) {
        p += sprintf(p, "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"field%d\"\r\n\r\n", i);
        memset(p, 'a' + i % 26, 100);
        p += 100;
        p += sprintf(p, "\r\n");
    }
    p += sprintf(p, "--" BOUNDARY "--\r\n");
    body_len = (size_t)(p - body);
    content_bytes = 10000 * 100;
}

/* --- linger --- */

static size_t lg_round(void)
{
    static const char ct[] = "multipart/form-data; boundary=" BOUNDARY;
    lg_multipart mp;
    lg_str type = { ct, sizeof ct - 1 };
    if (lg_multipart_init(&mp, type, 20000, 0)) abort();
    size_t got = 0, pos = 0;
    while (pos < body_len) {
        /* what a server has: the unconsumed rest, then up to a new piece */
        size_t end = pos + PIECE < body_len ? pos + PIECE : body_len;
        for (;;) {
            size_t used;
            lg_multipart_event ev;
            int e = lg_multipart_parse(&mp, body + pos, end - pos, &used, &ev);
            if (e < 0) abort();
            pos += used;
            if (e == LG_MP_DATA) got += ev.data.len;
            else if (e == LG_MP_NEED_MORE || e == LG_MP_DONE) break;
        }
        if (end == body_len) break;
    }
    if (lg_multipart_finish(&mp) != LG_OK) abort();
    return got;
}

/* --- libmicrohttpd --- */

static size_t mhd_got;

static enum MHD_Result mhd_iter(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *filename, const char *content_type,
                                const char *transfer_encoding, const char *data, uint64_t off,
                                size_t size)
{
    (void)cls; (void)kind; (void)key; (void)filename; (void)content_type;
    (void)transfer_encoding; (void)data; (void)off;
    mhd_got += size;
    return MHD_YES;
}

static size_t mhd_round(struct MHD_Connection *conn)
{
    struct MHD_PostProcessor *pp = MHD_create_post_processor(conn, 65536, mhd_iter, NULL);
    if (!pp) abort();
    mhd_got = 0;
    for (size_t pos = 0; pos < body_len; pos += PIECE) {
        size_t n = body_len - pos < PIECE ? body_len - pos : PIECE;
        if (MHD_post_process(pp, body + pos, n) != MHD_YES) abort();
    }
    MHD_destroy_post_processor(pp);
    return mhd_got;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **state)
{
    (void)cls; (void)url; (void)method; (void)version; (void)upload_data; (void)upload_size;
    (void)state;
    for (int r = 0; r < rounds; r++) {
        /* alternate which goes first, so neither always has the warm cache */
        for (int k = 0; k < 2; k++) {
            double t0 = now();
            size_t got = (r + k) % 2 ? mhd_round(conn) : lg_round();
            double mbs = body_len / (now() - t0) / 1e6;
            if (got != content_bytes) {
                fprintf(stderr, "%s counted %zu content bytes, not %zu\n",
                        (r + k) % 2 ? "libmicrohttpd" : "linger", got, content_bytes);
                exit(1);
            }
            if ((r + k) % 2) mhd_mbs[r] = mbs;
            else lg_mbs[r] = mbs;
        }
    }
    done = 1;
    struct MHD_Response *res = MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(conn, 200, res);
    MHD_destroy_response(res);
    return ret;
}

static void run(const char *label)
{
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
                                            on_request, NULL, MHD_OPTION_END);
    if (!d) abort();
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(info->port) };
    sa.sin_addr.s_addr = htonl(0x7f000001);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) abort();
    static const char req[] = "POST / HTTP/1.1\r\nHost: b\r\nContent-Length: 0\r\n"
                              "Content-Type: multipart/form-data; boundary=" BOUNDARY "\r\n\r\n";
    if (write(fd, req, sizeof req - 1) < 0) abort();
    char buf[512];
    while (!done && read(fd, buf, sizeof buf) > 0) {
    }
    close(fd);
    MHD_stop_daemon(d);
    done = 0;
    double l = median(lg_mbs, rounds), m = median(mhd_mbs, rounds);
    printf("%-34s %9.0f MB/s %9.0f MB/s   %5.2fx\n", label, l, m, l / m);
}

int main(int argc, char **argv)
{
    if (argc > 1) rounds = atoi(argv[1]);
    if (rounds < 1 || rounds > 64) rounds = 11;
    printf("multipart parsing, one core, medians of %d rounds (16 KiB pieces)\n", rounds);
    printf("%-34s %14s %14s %8s\n", "body", "linger", "libmicrohttpd", "ratio");
    body_large();
    run("one 8 MiB file and a field");
    free(body);
    body_small();
    run("10,000 fields of 100 B");
    free(body);
    return 0;
}
