/* The <poll.h> an lwIP device provides (ESP-IDF has one): the system's
 * declarations, with poll() on lwIP's sockets. linger's poll backend
 * includes <poll.h>; in the lwIP test build this file comes first. */
#ifndef LG_TEST_LWIP_POLL_H
#define LG_TEST_LWIP_POLL_H
#include_next <poll.h>
#include "lwip/sockets.h"
#define poll(fds, nfds, timeout) lwip_poll((fds), (nfds), (timeout))
#endif
