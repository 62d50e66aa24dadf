/*
 * A chaos proxy for tests: a loopback TCP proxy on its own thread that, per
 * direction, splits the stream into small segments, delays them, stalls,
 * truncates (ends that direction with FIN) or resets both sides at a chosen
 * byte. Bounded: it serves the connections the test makes, then stops.
 */
#ifndef LG_CHAOS_PROXY_H
#define LG_CHAOS_PROXY_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define CHAOS_OFF ((size_t)-1)

typedef struct chaos_dir {
    size_t split;        /* forward at most this many bytes per write (0: all) */
    uint32_t delay_ms;   /* pause before each forwarded piece */
    size_t stall_at;     /* after this many bytes, forward nothing for stall_ms */
    uint32_t stall_ms;
    size_t truncate_at;  /* after this many bytes, end this direction with FIN */
    size_t reset_at;     /* after this many bytes, reset both connections */
} chaos_dir;

typedef struct chaos_proxy {
    uint16_t port;           /* where to connect (filled in by chaos_start) */
    uint16_t upstream_port;  /* where it forwards to */
    chaos_dir up;            /* client -> server */
    chaos_dir down;          /* server -> client */
    /* private */
    pthread_t thread;
    int listen_fd;
    volatile int stop;
    volatile int pairs;      /* connection pairs finished */
} chaos_proxy;

/* A direction that does nothing unusual. */
chaos_dir chaos_plain(void);
int chaos_start(chaos_proxy *p, uint16_t upstream_port);
void chaos_stop(chaos_proxy *p);

#endif
