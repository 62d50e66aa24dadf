/*
 * Descriptor exhaustion. The server runs with RLIMIT_NOFILE lowered; a
 * flood of connections (from a child process, which keeps its own limit)
 * makes accept() fail with EMFILE. The server must not spin at 100% CPU
 * (the listener stays readable while accept fails: a naive loop burns a
 * core), must keep serving a connection it already has, and must accept
 * again once descriptors are free.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#include "linger.h"
#include "tcp_peer.h"
#include "test.h"

#define FLOOD 120
#define FD_LIMIT 48

static void on_hello(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_send(res, 200, "hi", 2);
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int request(int fd)
{
    static const char req[] = "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n";
    char buf[512];
    if (peer_send_all(fd, req, sizeof req - 1)) return 0;
    size_t got = 0;
    while (got < 4 || !memmem(buf, got, "\r\n\r\nhi", 6)) {
        ssize_t n = recv(fd, buf + got, sizeof buf - got, 0);
        if (n <= 0) return 0;
        got += (size_t)n;
    }
    return 1;
}

/* The child: one good connection used throughout, a flood, then relief. */
static int child(uint16_t port, int report)
{
    int good = peer_connect(port);
    int ok_during = 0, ok_after = 0;
    if (good < 0 || !request(good)) _exit(10);
    int flood[FLOOD];
    for (int i = 0; i < FLOOD; i++) flood[i] = peer_connect(port); /* queued in the backlog */
    /* While the server is out of descriptors, the established connection
     * still works. */
    for (int i = 0; i < 10; i++) {
        ok_during += request(good);
        usleep(50000);
    }
    /* Relief: close most of the flood; a fresh connection must be served. */
    for (int i = 0; i < FLOOD; i++)
        if (flood[i] >= 0) close(flood[i]);
    usleep(300000);
    int fresh = peer_connect(port);
    struct timeval tv = { 3, 0 };
    setsockopt(fresh, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ok_after = fresh >= 0 && request(fresh);
    int results[2] = { ok_during, ok_after };
    if (write(report, results, sizeof results) != sizeof results) _exit(11);
    close(good);
    if (fresh >= 0) close(fresh);
    _exit(0);
}

int main(void)
{
    lg_loop *loop = lg_loop_new(NULL);
    lg_server *srv = lg_server_new(loop, &(lg_server_config){ .max_conns = 1000, .idle_timeout_ms = 60000 });
    lg_route(srv, "GET", "/hello", on_hello, NULL);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:0", 0), LG_OK);
    uint16_t port = lg_server_port(srv);

    int pipefd[2];
    CHECK(pipe(pipefd) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(pipefd[0]);
        child(port, pipefd[1]);
    }
    close(pipefd[1]);

    /* Only the server lives with the low limit. */
    struct rlimit rl = { FD_LIMIT, FD_LIMIT };
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = FD_LIMIT;
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);

    double wall0 = now_seconds(), cpu0 = cpu_seconds();
    int results[2] = { -1, -1 };
    size_t got = 0;
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    while (now_seconds() - wall0 < 15 && got < sizeof results) {
        lg_loop_run_once(loop, 20);
        ssize_t n = read(pipefd[0], (char *)results + got, sizeof results - got);
        if (n > 0) got += (size_t)n;
    }
    double wall = now_seconds() - wall0, cpu = cpu_seconds() - cpu0;
    int status = 0;
    waitpid(pid, &status, 0);

    const lg_loop_stats *ls = lg_loop_get_stats(loop);
    printf("accept errors: %llu; server CPU %.2f s over %.2f s wall (%.0f%%); "
           "good connection served during the flood: %d/10; fresh connection after: %s\n",
           (unsigned long long)ls->accept_errors, cpu, wall, 100 * cpu / wall, results[0],
           results[1] == 1 ? "yes" : "no");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(ls->accept_errors > 0);       /* the limit was really hit */
    CHECK(cpu < 0.3 * wall);            /* and it did not spin ... */
    CHECK(ls->accept_errors < 1000);    /* ... nor retry accept in a tight loop */
    CHECK_EQ_INT(results[0], 10);       /* established work went on */
    CHECK_EQ_INT(results[1], 1);        /* and it recovered */

    lg_server_shutdown(srv, 100, NULL, NULL);
    lg_loop_run(loop);
    lg_server_free(srv);
    lg_loop_free(loop);
    TEST_MAIN_END();
}
