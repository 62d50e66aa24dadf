/* The epoll backend's state, apart so that a host that embeds linger's
 * loop can hand the set's descriptor to its own poller (the MicroPython
 * binding: bindings/micropython/linger/lgmp_backend.c). Not part of the
 * API. */
#ifndef LG_LOOP_EPOLL_STATE_H
#define LG_LOOP_EPOLL_STATE_H

#include <sys/epoll.h>

#define LG_EPOLL_MAX_EVENTS 256

typedef struct lg_epoll_state {
    int epfd;
    struct epoll_event events[LG_EPOLL_MAX_EVENTS];
} lg_epoll_state;

#endif
