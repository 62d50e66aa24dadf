/*
 * The fault injector: a scripted platform (lg_net) and readiness backend
 * (lg_backend) that run the real stream, server and client over pretend
 * sockets. Input arrives in pieces of any size, with EAGAIN between them,
 * and ends in EOF, a reset, or silence at a chosen byte; output is taken in
 * short writes and fails with EPIPE or a reset at a chosen byte, or stalls.
 * Time is virtual: when nothing is ready the clock jumps to the next timer,
 * so timeouts cost nothing and every run is the same.
 *
 * It also watches rule 3: closing a socket while scripted input is still
 * unread is recorded as `closed_with_unread` — the case in which a real TCP
 * stack sends RST.
 */
#ifndef LG_FAULT_NET_H
#define LG_FAULT_NET_H

#include <stddef.h>
#include <stdint.h>

#include "linger.h"

/* How scripted input ends once its bytes are delivered. */
enum fault_end {
    FAULT_SILENT = 0, /* nothing more ever arrives (the peer waits) */
    FAULT_EOF,        /* the peer's FIN */
    FAULT_RESET,      /* ECONNRESET */
    FAULT_EOF_AFTER_FIN /* EOF, but only once we have sent our FIN (a polite peer) */
};

typedef struct fault_sock {
    int used;
    /* input script */
    const char *in;
    size_t in_len, in_pos;
    size_t in_piece;      /* bytes per recv at most (0: all available) */
    int in_again;         /* return EAGAIN before every piece */
    int in_end;           /* enum fault_end */
    int in_again_pending; /* private */
    int in_again_said;    /* private: the last recv said EAGAIN with input still to come */
    /* output */
    char *out;
    size_t out_len, out_cap;
    size_t out_piece;     /* bytes per send at most (0: all) */
    int out_again;        /* EAGAIN before every send that would take bytes */
    size_t out_fail_at;   /* after this many bytes, sends fail ... */
    int out_fail_err;     /* ... with this (0: never) */
    size_t out_stall_at;  /* after this many bytes, sends block forever (0: never) */
    size_t out_per_ms;    /* a slow reader: takes this many bytes per virtual ms (0: any) */
    long held;            /* what lg_net.unacked says the kernel still holds (default 0) */
    uint64_t out_ms;      /* private: the virtual time its credit counts from */
    int out_again_pending;
    int send_calls;
    int more_sends;       /* of which through send_more (fault_net_sendfile_ops) */
    int sendfile_calls;   /* sendfile (fault_net_sendfile_ops) */
    /* what happened */
    int fin_sent;         /* by a shutdown, or by a close with nothing unread */
    size_t fin_at;        /* out_len when FIN was sent */
    int shutdowns;        /* shutdown_write calls */
    int closed, aborted;
    int closed_with_unread; /* rule 3 broken: input was still pending at close */
    int closed_before_input; /* ... of which none had arrived yet (the next recv said
                                EAGAIN): it came after the close, as a late byte does */
    int recv_after_close;
    int is_listener;      /* private: made by lg_listen on the fault net */
    int connect_pending;  /* a connect that never completes (never writable) */
} fault_sock;

#define FAULT_MAX_CONNECTS 16
#define FAULT_CONNECT_HANG 1 /* fault_expect_connect_error: in progress forever */
#define FAULT_MAX_SOCKS 64
#define FAULT_FD_BASE 1000

typedef struct fault_net {
    fault_sock socks[FAULT_MAX_SOCKS];
    lg_io *ios[FAULT_MAX_SOCKS];
    uint64_t now_ms;
    int stalled_waits;    /* waits in which nothing could happen */
    int accept_queue[FAULT_MAX_SOCKS]; /* scripted sockets the next accepts return */
    int accept_len;
    /* outgoing connections: each connect takes the next queued script */
    fault_sock connect_script[FAULT_MAX_CONNECTS];
    int connect_err[FAULT_MAX_CONNECTS]; /* fail with this instead (0: connects) */
    int connect_fd[FAULT_MAX_CONNECTS];  /* the descriptor each connect got (-1: none) */
    lg_addr connect_addr[FAULT_MAX_CONNECTS]; /* where each one went */
    int connects_queued, connects_made;
} fault_net;

extern const lg_net fault_net_ops;
/* The same, with a sendfile and a send_more, as Linux has them: for tests
 * of how a head and a file leave together (set loop->net to it). */
extern const lg_net fault_net_sendfile_ops;
extern const lg_backend fault_backend;

void fault_net_init(fault_net *fn);
void fault_net_free(fault_net *fn);
/* A new pretend connected socket; returns its descriptor. */
int fault_sock_new(fault_net *fn, const fault_sock *script);
fault_sock *fault_sock_get(fault_net *fn, int fd);
/* Forget a closed socket so that its slot can be used again. */
void fault_sock_release(fault_net *fn, int fd);
/* A scripted client for a server on the fault net: the next accept on any
 * listener returns it. Returns its descriptor. */
int fault_accept_queue(fault_net *fn, const fault_sock *script);
/* Queue the script of the socket the next lg_connect gets (connected at
 * once), or the error it fails with (LG_ERR_REFUSED ..., or
 * FAULT_CONNECT_HANG: in progress forever, so its timeout fires). Connects
 * beyond the queue are refused. Return the connect's index. */
int fault_expect_connect(fault_net *fn, const fault_sock *script);
int fault_expect_connect_error(fault_net *fn, int err);
/* The socket connect number i got (NULL if it failed or did not happen). */
fault_sock *fault_connected(fault_net *fn, int i);

/* A loop running on the fault injector. */
lg_loop *fault_loop_new(fault_net *fn);

/* Run until nothing is active or `max_iterations` pass (a hang). Returns the
 * iterations used, or -1 on a hang. */
int fault_run(lg_loop *loop, int max_iterations);

/* One polite client's whole exchange with a server listening on the fault
 * net (its loop): it sends `request`, waits for the server's FIN, and its bytes come
 * back in `answer` (NUL-terminated, cut to cap - 1). Returns answer. */
char *fault_exchange(fault_net *fn, lg_loop *loop, const char *request, size_t len, char *answer,
                     size_t cap);

#endif
