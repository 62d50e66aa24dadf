/*
 * LG_ASSERT is on in the tests' build of the library (CMake's
 * LINGER_ASSERTS): an invariant broken through the API stops the program
 * at once, where a comment would have let it run on. Here: a transport
 * whose operations are missing, attached to a stream, in a child process
 * that must die of SIGABRT; a whole transport, in another, must not.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault/fault_net.h"
#include "test.h"

static long no_recv(lg_stream *s, void *buf, size_t len)
{
    (void)s;
    (void)buf;
    (void)len;
    return LG_ERR_AGAIN;
}

static long no_send(lg_stream *s, const lg_str *parts, size_t n)
{
    (void)s;
    (void)parts;
    (void)n;
    return LG_ERR_AGAIN;
}

static int no_shutdown(lg_stream *s)
{
    (void)s;
    return LG_OK;
}

static void no_close(lg_stream *s, int abort)
{
    (void)s;
    (void)abort;
}

static const lg_transport_ops whole = { "whole", no_recv, no_send, no_shutdown, NULL, NULL, no_close, NULL };
static const lg_transport_ops broken = { "broken", no_recv, NULL, no_shutdown, NULL, NULL, no_close, NULL };

/* 0 when the child ran through, the signal that ended it otherwise. */
static int attach_in_child(const lg_transport_ops *ops)
{
    pid_t pid = fork();
    if (pid == 0) {
        fault_net fn;
        fault_net_init(&fn);
        lg_loop *loop = fault_loop_new(&fn);
        fault_sock script = { 0 };
        int fd = fault_sock_new(&fn, &script);
        static lg_stream s;
        static lg_transport t;
        t.ops = ops;
        lg_stream_open(loop, &s, fd, NULL, NULL, NULL);
        lg_stream_set_transport(&s, &t);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

int main(void)
{
    CHECK_EQ_INT(attach_in_child(&whole), 0);
    CHECK_EQ_INT(attach_in_child(&broken), SIGABRT);
    TEST_MAIN_END();
}
