/*
 * linger on lwIP's raw API (NO_SYS=1: no operating system, no threads, no
 * sockets): a platform (lg_net_lwip_raw) over tcp_pcb callbacks and a
 * superloop backend (lg_backend_lwip_raw) that polls the network
 * interface, runs lwIP's timers, hands linger the connections that are
 * ready and sleeps when none is. docs/porting.md says how it works.
 *
 * Build the portable layers with it (CMake: -DLINGER_LWIP_RAW=ON, which
 * defines LG_DEFAULT_NET=lg_net_lwip_raw, LG_DEFAULT_BACKEND=
 * lg_backend_lwip_raw and LG_NO_POLL), give it lwIP's headers and your
 * lwipopts.h, and before lg_loop_new tell it how to reach the hardware:
 *
 *   static void poll_eth(void *u) { eth_poll(&netif); }   // frames -> netif->input
 *   static void sleep(void *u, uint32_t ms) { wait_for_interrupt(); }
 *   lg_lwip_raw_set_hooks(&(lg_lwip_raw_hooks){ poll_eth, sleep, NULL });
 *   lg_loop *loop = lg_loop_new(NULL);
 *   ...
 *   lg_loop_run(loop);      // the superloop: never returns while serving
 *
 * Everything runs in lg_loop_run, on one stack: lwIP's callbacks only queue
 * and mark, never call into linger.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef LINGER_LWIP_RAW_H
#define LINGER_LWIP_RAW_H

#include <stdint.h>

#include "linger_port.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const lg_net lg_net_lwip_raw;
extern const lg_backend lg_backend_lwip_raw;

typedef struct lg_lwip_raw_hooks {
    /* Hand the frames the network interface received to lwIP
     * (netif->input). Called at every turn of the loop. */
    void (*input)(void *user);
    /* Nothing to do for up to `ms` milliseconds: sleep until an interrupt
     * (a frame, the tick) or return at once. NULL: spin. */
    void (*idle)(void *user, uint32_t ms);
    void *user;
} lg_lwip_raw_hooks;

/* Before lg_loop_new. The hooks are copied. */
void lg_lwip_raw_set_hooks(const lg_lwip_raw_hooks *hooks);

/* 1 when a turn of the loop would hand linger a connection now (queued
 * bytes, a FIN, an error, send room, a pending accept, for what its io
 * watches), else 0. Does not run lwIP. For a host that waits itself and
 * turns linger's loop with a timeout of 0 (the MicroPython binding: its
 * asyncio asks this before it sleeps). */
int lg_lwip_raw_ready(void);

/* What the port holds, for a device's diagnostics. */
typedef struct lg_lwip_raw_stats {
    uint32_t sockets;       /* slots in use: listeners, connections, pending accepts */
    uint32_t rx_queued;     /* bytes received and not yet read by linger */
    uint32_t accepted;      /* connections lwIP handed over, in all */
    uint32_t resets;        /* connections the peer reset (tcp_err: ERR_RST) */
    uint32_t aborts;        /* tcp_abort (lg_stream_abort only) */
    uint32_t write_blocked; /* tcp_write found no memory: waited for an ACK */
} lg_lwip_raw_stats;

void lg_lwip_raw_get_stats(lg_lwip_raw_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* LINGER_LWIP_RAW_H */
