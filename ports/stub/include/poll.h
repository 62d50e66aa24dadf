/* A stand-in for the poll() a target's TCP/IP stack provides (lwIP:
 * lwip_poll with LWIP_SOCKET_POLL=1), so the portable layers can be
 * compile-checked and sized without one. Not for running. */
#ifndef LG_STUB_POLL_H
#define LG_STUB_POLL_H
#define POLLIN 0x001
#define POLLOUT 0x004
#define POLLERR 0x008
#define POLLHUP 0x010
#define POLLNVAL 0x020
typedef unsigned int nfds_t;
struct pollfd {
    int fd;
    short events;
    short revents;
};
int poll(struct pollfd *fds, nfds_t nfds, int timeout);
#endif
