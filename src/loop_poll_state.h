/* The poll backend's state, apart so that its RAM can be counted
 * (ports/footprint/sizes.c) without the backend. Not part of the API. */
#ifndef LG_LOOP_POLL_STATE_H
#define LG_LOOP_POLL_STATE_H

#include "linger.h"

/* The poll backend's state (loop_poll.c): a dense pollfd array with a
 * parallel array of ios. */
typedef struct lg_poll_state {
    struct pollfd *fds;
    lg_io **ios;
    uint32_t len, cap;
    uint8_t dispatching, holes;
} lg_poll_state;

#endif
