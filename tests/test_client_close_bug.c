/*
 * The bug that started linger, from the client's side, over loopback.
 *
 * The client POSTs bodies from 0 B to 1 MiB. The server (a blocking thread)
 * reads the head and at most PART bytes of the body, answers, and closes:
 *   - plainly (close() with the rest of the body unread, which makes its
 *     TCP stack send RST: the server waits until its answer is acknowledged
 *     and some unread body is queued, so the reset is certain and comes
 *     after the answer), or
 *   - gracefully (FIN, then read until our EOF).
 * Its answer is framed by Content-Length, chunked, or close-delimited.
 *
 * Expected, exactly (rule 1): every framed answer is complete whatever the
 * close did; a close-delimited one is complete after a graceful close (or a
 * plain one that found nothing unread) and is LG_ERR_RESET, with all of its
 * bytes, after a reset. Never a complete answer reported as a failure, never
 * a cut one as a success.
 *
 * A control shows the resets are real: a naive client that reads "until
 * the connection closes" fails on most of the same exchanges.
 */
#include <stdio.h>
#include <time.h>

#include "client_peer.h"
#include "linger.h"
#include "test.h"

#define PART 1000
enum { F_LENGTH, F_CHUNKED, F_CLOSE, F_COUNT };
enum { C_PLAIN, C_GRACEFUL, C_COUNT };
static const char *const framing_name[] = { "length", "chunked", "close-delimited" };
static const char *const close_name[] = { "plain close", "graceful close" };

typedef struct job {
    int framing, close_mode;
    size_t body_len, resp_len;
    /* from the server */
    int reset_made; /* closed with unread input: RST sent */
    int done;
} job;

typedef struct server {
    int lfd;
    uint16_t port;
    job *jobs;
    int njobs;
    int naive; /* the control: answer the same way, for the naive client */
    pthread_mutex_t mu;
    pthread_cond_t cv;
} server;

static char pattern[16384];

static void make_answer(const job *j, char *out, size_t *len)
{
    size_t n = 0;
    if (j->framing == F_LENGTH) {
        n = (size_t)sprintf(out, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                            j->resp_len);
        memcpy(out + n, pattern, j->resp_len);
        n += j->resp_len;
    } else if (j->framing == F_CHUNKED) {
        n = (size_t)sprintf(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
        for (size_t off = 0; off < j->resp_len; off += 4000) {
            size_t c = j->resp_len - off < 4000 ? j->resp_len - off : 4000;
            n += (size_t)sprintf(out + n, "%zx\r\n", c);
            memcpy(out + n, pattern + off, c);
            n += c;
            memcpy(out + n, "\r\n", 2);
            n += 2;
        }
        memcpy(out + n, "0\r\n\r\n", 5);
        n += 5;
    } else {
        n = (size_t)sprintf(out, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
        memcpy(out + n, pattern, j->resp_len);
        n += j->resp_len;
    }
    *len = n;
}

static void wait_until(int (*cond)(int), int fd, int ms)
{
    for (int i = 0; i < ms * 10 && !cond(fd); i++) usleep(100);
}

static int acked(int fd) { return srv_unacked(fd) == 0; }
static int has_unread(int fd) { return srv_unread(fd) > 0; }

static void *server_main(void *arg)
{
    server *sv = arg;
    static char head[65536], answer[32768];
    for (int i = 0; i < sv->njobs; i++) {
        job *j = &sv->jobs[i];
        int fd = accept(sv->lfd, NULL, NULL);
        if (fd < 0) break;
        long got = srv_read_head_exact(fd, head, sizeof head);
        size_t body = got < 0 ? 0 : srv_content_length(head);
        size_t want = body < PART ? body : PART;
        srv_discard(fd, want);
        size_t alen;
        make_answer(j, answer, &alen);
        peer_send_all(fd, answer, alen);
        if (j->close_mode == C_GRACEFUL) {
            srv_close_graceful(fd);
        } else {
            /* the answer is with the client; then, if the body goes on,
             * some of it is queued here unread: the close resets */
            wait_until(acked, fd, 2000);
            if (body > PART) wait_until(has_unread, fd, 1000);
            j->reset_made = srv_unread(fd) > 0;
            close(fd);
        }
        pthread_mutex_lock(&sv->mu);
        j->done = 1;
        pthread_cond_broadcast(&sv->cv);
        pthread_mutex_unlock(&sv->mu);
    }
    return NULL;
}

static void wait_job(server *sv, job *j)
{
    pthread_mutex_lock(&sv->mu);
    while (!j->done) pthread_cond_wait(&sv->cv, &sv->mu);
    pthread_mutex_unlock(&sv->mu);
}

/* --- the linger client --- */

typedef struct result {
    int calls, err, stage, status, ending, flags;
    uint64_t body_bytes;
    int body_ok;
    const job *j;
} result;

static void on_response(lg_response *res, void *user)
{
    result *r = user;
    r->calls++;
    r->err = res->err;
    r->stage = res->stage;
    r->status = res->status;
    r->ending = res->ending;
    r->flags = res->flags;
    r->body_bytes = res->body_bytes;
    r->body_ok = res->body.len == res->body_bytes &&
                 memcmp(res->body.ptr, pattern, (size_t)res->body_bytes) == 0;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 37;
    static const size_t sizes[] = { 0, 1, 999, 1000, 1001, 4096, 65536, 262144, 1u << 20 };
    static const size_t answers[] = { 0, 2, 1500, 12000 };
    const int nsizes = (int)(sizeof sizes / sizeof sizes[0]);
    for (size_t i = 0; i < sizeof pattern; i++) pattern[i] = (char)('a' + i % 26);
    char *body = malloc(1u << 20);
    memset(body, 'x', 1u << 20);

    int njobs = reps * nsizes * F_COUNT * C_COUNT;
    job *jobs = calloc((size_t)njobs, sizeof *jobs);
    for (int i = 0, k = 0; k < reps; k++)
        for (int s = 0; s < nsizes; s++)
            for (int f = 0; f < F_COUNT; f++)
                for (int c = 0; c < C_COUNT; c++, i++) {
                    jobs[i].body_len = sizes[s];
                    jobs[i].framing = f;
                    jobs[i].close_mode = c;
                    jobs[i].resp_len = answers[(size_t)(i / 7) % 4];
                }

    server sv;
    memset(&sv, 0, sizeof sv);
    sv.lfd = srv_listen(0, &sv.port);
    sv.jobs = jobs;
    sv.njobs = njobs;
    pthread_mutex_init(&sv.mu, NULL);
    pthread_cond_init(&sv.cv, NULL);
    pthread_t th;
    pthread_create(&th, NULL, server_main, &sv);

    lg_loop *loop = lg_loop_new(NULL);
    lg_client *cli = lg_client_new(loop, &(lg_client_config){ .read_timeout_ms = 10000 });
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/upload", sv.port);

    int count[F_COUNT][C_COUNT][2] = { { { 0 } } }, wrong[F_COUNT][C_COUNT][2] = { { { 0 } } };
    int early = 0, send_failed = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < njobs; i++) {
        job *j = &jobs[i];
        result r;
        memset(&r, 0, sizeof r);
        lg_request req = { .url = url, .body = body, .body_len = j->body_len, .max_body_bytes = 1u << 20 };
        lg_fetch(cli, &req, on_response, &r);
        while (!r.calls) lg_loop_run_once(loop, 1000);
        wait_job(&sv, j);
        int reset = j->close_mode == C_PLAIN && j->reset_made;
        /* the exact expectation */
        int want_err = j->framing == F_CLOSE && reset ? LG_ERR_RESET : LG_OK;
        int ok = r.err == want_err && r.status == 200 && r.body_bytes == j->resp_len && r.body_ok &&
                 r.stage == (want_err ? LG_STAGE_BODY : LG_STAGE_DONE);
        if (want_err) ok = ok && r.ending == LG_END_RESET;
        if (j->framing == F_CLOSE && !reset) ok = ok && r.ending == LG_END_EOF;
        count[j->framing][j->close_mode][reset]++;
        if (!ok) {
            wrong[j->framing][j->close_mode][reset]++;
            if (test_failures < 10)
                fprintf(stderr, "%s, %s, body %zu, answer %zu, reset %d: %s (want %s), stage %d, "
                                "status %d, body %llu ok %d\n",
                        framing_name[j->framing], close_name[j->close_mode], j->body_len, j->resp_len, reset,
                        lg_err_name(r.err), lg_err_name(want_err), r.stage, r.status,
                        (unsigned long long)r.body_bytes, r.body_ok);
        }
        CHECK(ok);
        early += !!(r.flags & LG_RES_EARLY);
        send_failed += !!(r.flags & LG_RES_SEND_FAILED);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(th, NULL);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%d requests in %.2f s (bodies 0 B .. 1 MiB), %d answered early, %d with a failed send\n", njobs,
           secs, early, send_failed);
    int resets = 0;
    for (int f = 0; f < F_COUNT; f++)
        for (int c = 0; c < C_COUNT; c++)
            for (int rs = 0; rs < 2; rs++) {
                if (!count[f][c][rs]) continue;
                if (rs) resets += count[f][c][rs];
                printf("  %-16s %-15s %-9s %4d requests: %4d as expected (%s)\n", framing_name[f],
                       close_name[c], rs ? "reset" : "no reset", count[f][c][rs],
                       count[f][c][rs] - wrong[f][c][rs],
                       f == F_CLOSE && rs ? "LG_ERR_RESET with all the data" : "complete");
            }
    /* the plain closes of bodies longer than PART did reset: the test
     * exercised what it is about */
    CHECK(resets >= reps * 5 * F_COUNT * 9 / 10);

    /* The control: the same exchanges, read "until the connection closes"
     * by a naive blocking client, fail with ECONNRESET. */
    lg_client_free(cli);
    lg_loop_run(loop);
    lg_loop_free(loop);
    int naive_jobs = 60, naive_resets = 0;
    job *nj = calloc((size_t)naive_jobs, sizeof *nj);
    for (int i = 0; i < naive_jobs; i++) {
        nj[i].body_len = sizes[5 + i % 4];
        nj[i].framing = F_LENGTH;
        nj[i].close_mode = C_PLAIN;
        nj[i].resp_len = 2;
    }
    sv.jobs = nj;
    sv.njobs = naive_jobs;
    pthread_create(&th, NULL, server_main, &sv);
    for (int i = 0; i < naive_jobs; i++) {
        int fd = peer_connect(sv.port);
        char h[128];
        int hn = snprintf(h, sizeof h, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n", nj[i].body_len);
        int err = peer_send_all(fd, h, (size_t)hn);
        if (!err) err = peer_send_all(fd, body, nj[i].body_len);
        size_t got;
        int rerr = peer_recv_all(fd, NULL, 0, &got);
        naive_resets += err == -ECONNRESET || err == -EPIPE || rerr == -ECONNRESET;
        close(fd);
        wait_job(&sv, &nj[i]);
    }
    pthread_join(th, NULL);
    printf("control: a naive client failed %d of %d of the same exchanges\n", naive_resets, naive_jobs);
    CHECK(naive_resets * 2 > naive_jobs);

    close(sv.lfd);
    free(nj);
    free(jobs);
    free(body);
    TEST_MAIN_END();
}
