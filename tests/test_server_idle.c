/*
 * A server that waited a long time for its next newcomer — longer than its
 * header timeout — must time that newcomer from its arrival. The loop used
 * to read its clock before blocking and again only after the callbacks, so
 * a connection accepted at the end of a long quiet spell had its header
 * deadline counted from the start of the spell: already past. It was closed
 * at once, without a word (the benchmark's wrk counted those as read errors
 * after linger had sat idle while the other servers were measured). Real
 * sockets, real time: the loop blocks in the backend until the client
 * connects.
 */
#include <stdio.h>

#include "tcp_peer.h"
#include "test.h"
#include "linger.h"

#define TIMEOUT_MS 200
#define QUIET_MS 600

static uint16_t port;
static lg_loop *loop;
static lg_server *srv;
static lg_defer done;
static char answer[2][512];
static size_t answer_len[2];

static void on_hello(lg_req *req, lg_res *res, void *user)
{
    (void)req;
    (void)user;
    lg_res_send_str(res, 200, "hello\n");
}

static void shut_down(lg_defer *d)
{
    (void)d;
    lg_server_shutdown(srv, 100, NULL, NULL);
}

static void *client(void *arg)
{
    (void)arg;
    static const char req[] = "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    for (int i = 0; i < 2; i++) {
        /* Quiet first: the server blocks in its wait all that time. */
        usleep(QUIET_MS * 1000);
        int fd = peer_connect(port);
        if (fd < 0) continue;
        peer_send_all(fd, req, sizeof req - 1);
        peer_recv_all(fd, answer[i], sizeof answer[i] - 1, &answer_len[i]);
        close(fd);
    }
    lg_loop_post(loop, &done, shut_down);
    return NULL;
}

int main(void)
{
    loop = lg_loop_new(NULL);
    lg_server_config cfg = { 0 };
    cfg.header_timeout_ms = TIMEOUT_MS;
    cfg.idle_timeout_ms = TIMEOUT_MS;
    srv = lg_server_new(loop, &cfg);
    lg_route(srv, "GET", "/hello", on_hello, NULL);
    CHECK_EQ_INT(lg_server_listen(srv, "127.0.0.1:0", 0), LG_OK);
    port = lg_server_port(srv);
    pthread_t t;
    pthread_create(&t, NULL, client, NULL);
    /* Nothing is due while the server waits: the loop blocks in the
     * backend until the client comes; the client ends the run. */
    CHECK_EQ_INT(lg_loop_run(loop), LG_OK);
    pthread_join(t, NULL);
    for (int i = 0; i < 2; i++) {
        answer[i][answer_len[i]] = 0;
        if (strncmp(answer[i], "HTTP/1.1 200 OK\r\n", 17) != 0)
            fprintf(stderr, "client %d after %d ms of quiet got %zu bytes: \"%.40s\"\n", i,
                    QUIET_MS, answer_len[i], answer[i]);
        CHECK(strncmp(answer[i], "HTTP/1.1 200 OK\r\n", 17) == 0);
    }
    CHECK_EQ_INT(lg_server_get_stats(srv)->timeouts, 0);
    lg_server_free(srv);
    lg_loop_free(loop);
    TEST_MAIN_END();
}
