/*
 * Static files on a platform without sendfile — as on lwIP — through the
 * fault injector: answers read from the file and written in pieces, with
 * short writes and EAGAIN, must arrive whole and in order (pipelined, with
 * HEAD and a range between them); an answer whose client stops reading or
 * resets at any byte ends the connection without an abort, and every file
 * is closed.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault/fault_net.h"
#include "test.h"

#define FILE_SIZE 50000u

static char dir[64];

static unsigned char byte_at(size_t i)
{
    return (unsigned char)('a' + (i * 7 + i / 100) % 26);
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

typedef struct env {
    fault_net fn;
    lg_loop *loop;
    lg_server *srv;
} env;

static void env_open(env *e)
{
    fault_net_init(&e->fn);
    e->loop = fault_loop_new(&e->fn);
    lg_server_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.no_date = 1;
    cfg.server_name = "";
    e->srv = lg_server_new(e->loop, &cfg);
    CHECK_EQ_INT(lg_server_static(e->srv, "/s", dir), LG_OK);
    CHECK_EQ_INT(lg_server_listen(e->srv, "127.0.0.1:80", 0), LG_OK);
}

static void env_close(env *e)
{
    lg_server_free(e->srv);
    lg_loop_free(e->loop);
    fault_net_free(&e->fn);
}

static int run_until_closed(env *e, int fd)
{
    fault_sock *k = fault_sock_get(&e->fn, fd);
    for (int i = 0; i < 200000; i++) {
        int stalled = e->fn.stalled_waits;
        lg_loop_run_once(e->loop, -1);
        if (k->closed && lg_server_get_stats(e->srv)->active_connections == 0) {
            for (int j = 0; j < 3; j++) lg_loop_run_once(e->loop, 0);
            return 1;
        }
        if (e->fn.stalled_waits != stalled) return 0;
    }
    return 0;
}

/* Find the body after the head that starts at out[*pos]: checks the status
 * and Content-Length, returns the body's offset and moves *pos past it. */
static size_t next_answer(const fault_sock *k, size_t *pos, int status, size_t body_len, int has_body)
{
    if (*pos >= k->out_len) {
        CHECK(!"an answer is missing");
        return k->out_len;
    }
    const char *p = k->out + *pos;
    size_t left = k->out_len - *pos;
    char want[32];
    snprintf(want, sizeof want, "HTTP/1.1 %d ", status);
    CHECK(left > strlen(want) && memcmp(p, want, strlen(want)) == 0);
    size_t head = 0;
    for (size_t i = 3; i < left; i++)
        if (memcmp(p + i - 3, "\r\n\r\n", 4) == 0) {
            head = i + 1;
            break;
        }
    CHECK(head > 0);
    if (!head) {
        *pos = k->out_len;
        return k->out_len;
    }
    char cl[48];
    snprintf(cl, sizeof cl, "Content-Length: %zu\r\n", body_len);
    int found = 0;
    for (size_t i = 0; i + strlen(cl) <= head; i++)
        if (memcmp(p + i, cl, strlen(cl)) == 0) found = 1;
    CHECK(found);
    size_t body_at = *pos + head;
    *pos = body_at + (has_body ? body_len : 0);
    return body_at;
}

static int body_ok(const fault_sock *k, size_t at, size_t first, size_t len)
{
    if (at + len > k->out_len) return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)k->out[at + i] != byte_at(first + i)) return 0;
    return 1;
}

/* Pipelined: a file, HEAD of it, a range of it, the file again. */
static void test_pipelined_in_pieces(void)
{
    static const char req[] = "GET /s/f.bin HTTP/1.1\r\nHost: a\r\n\r\n"
                              "HEAD /s/f.bin HTTP/1.1\r\nHost: a\r\n\r\n"
                              "GET /s/f.bin HTTP/1.1\r\nHost: a\r\nRange: bytes=100-1099\r\n\r\n"
                              "GET /s/f.bin HTTP/1.1\r\nHost: a\r\n\r\n";
    static const size_t out_pieces[] = { 0, 1000, 4096, 65536 };
    for (size_t p = 0; p < sizeof out_pieces / sizeof out_pieces[0]; p++)
        for (int again = 0; again < 2; again++) {
            env e;
            env_open(&e);
            fault_sock script = { 0 };
            script.in = req;
            script.in_len = sizeof req - 1;
            script.in_end = FAULT_EOF_AFTER_FIN;
            script.out_piece = out_pieces[p];
            script.out_again = again;
            int fd = fault_accept_queue(&e.fn, &script);
            int before = test_failures;
            CHECK(run_until_closed(&e, fd));
            fault_sock *k = fault_sock_get(&e.fn, fd);
            size_t pos = 0, at;
            at = next_answer(k, &pos, 200, FILE_SIZE, 1);
            CHECK(body_ok(k, at, 0, FILE_SIZE));
            next_answer(k, &pos, 200, FILE_SIZE, 0);
            at = next_answer(k, &pos, 206, 1000, 1);
            CHECK(body_ok(k, at, 100, 1000));
            at = next_answer(k, &pos, 200, FILE_SIZE, 1);
            CHECK(body_ok(k, at, 0, FILE_SIZE));
            CHECK_EQ_INT(pos, k->out_len); /* nothing more */
            CHECK_EQ_INT(k->closed_with_unread, 0);
            CHECK_EQ_INT(k->aborted, 0);
            CHECK_EQ_INT(lg_server_get_stats(e.srv)->requests, 4);
            if (test_failures != before)
                fprintf(stderr, "  pipelined: out_piece %zu again %d, %zu bytes out\n", out_pieces[p],
                        again, k->out_len);
            env_close(&e);
        }
}

/* The client stops taking the answer at some byte of the file, by a reset
 * or by a broken pipe: the connection ends, and the file is closed. */
static void test_output_fails_midway(void)
{
    static const char req[] = "GET /s/f.bin HTTP/1.1\r\nHost: a\r\n\r\n";
    static const size_t at_bytes[] = { 1, 150, 4000, 20000, 49000 };
    for (size_t a = 0; a < sizeof at_bytes / sizeof at_bytes[0]; a++)
        for (int err = 0; err < 2; err++) {
            env e;
            env_open(&e);
            fault_sock script = { 0 };
            script.in = req;
            script.in_len = sizeof req - 1;
            script.in_end = FAULT_SILENT;
            script.out_piece = 3000;
            script.out_fail_at = at_bytes[a];
            script.out_fail_err = err ? LG_ERR_RESET : LG_ERR_PIPE;
            int fd = fault_accept_queue(&e.fn, &script);
            int before = test_failures;
            CHECK(run_until_closed(&e, fd));
            fault_sock *k = fault_sock_get(&e.fn, fd);
            CHECK(k->out_len <= at_bytes[a]);
            CHECK_EQ_INT(k->closed_with_unread, 0);
            CHECK_EQ_INT(lg_server_get_stats(e.srv)->active_connections, 0);
            if (test_failures != before)
                fprintf(stderr, "  output fails at %zu (%s)\n", at_bytes[a], err ? "reset" : "pipe");
            env_close(&e);
        }
}

int main(void)
{
    strcpy(dir, "/tmp/linger-sfault-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/f.bin", dir);
    int f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    unsigned char *data = malloc(FILE_SIZE);
    for (size_t i = 0; i < FILE_SIZE; i++) data[i] = byte_at(i);
    CHECK(f >= 0 && write(f, data, FILE_SIZE) == (ssize_t)FILE_SIZE);
    close(f);
    free(data);
    int fds_before = count_fds();

    test_pipelined_in_pieces();
    test_output_fails_midway();

    CHECK_EQ_INT(count_fds(), fds_before); /* every file closed */
    unlink(path);
    rmdir(dir);
    TEST_MAIN_END();
}
