/* A stand-in for lwIP 2.1's lwip/sockets.h: just the declarations
 * ports/lwip/net_lwip.c uses, with lwIP's own names and signatures, so the
 * port can be compile-checked (and sized) without an lwIP tree. Not for
 * running: link against the real lwIP. */
#ifndef LG_STUB_LWIP_SOCKETS_H
#define LG_STUB_LWIP_SOCKETS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef uint8_t u8_t;
typedef uint16_t u16_t;
typedef uint32_t u32_t;
typedef uint8_t sa_family_t;
typedef uint16_t in_port_t;
typedef uint32_t socklen_t;

#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define IPPROTO_TCP 6
#define IPPROTO_IPV6 41
#define SOL_SOCKET 0xfff
#define SO_REUSEADDR 0x0004
#define SO_LINGER 0x0080
#define SO_ERROR 0x1007
#define TCP_NODELAY 0x01
#define IPV6_V6ONLY 27
#define SHUT_WR 1
#define F_GETFL 3
#define F_SETFL 4
#define O_NONBLOCK 1
#define MSG_DONTWAIT 0x08

struct in_addr { u32_t s_addr; };
struct in6_addr { union { u32_t u32_addr[4]; u8_t u8_addr[16]; } un; };
struct sockaddr { u8_t sa_len; sa_family_t sa_family; char sa_data[14]; };
struct sockaddr_in {
    u8_t sin_len;
    sa_family_t sin_family;
    in_port_t sin_port;
    struct in_addr sin_addr;
    char sin_zero[8];
};
struct sockaddr_in6 {
    u8_t sin6_len;
    sa_family_t sin6_family;
    in_port_t sin6_port;
    u32_t sin6_flowinfo;
    struct in6_addr sin6_addr;
    u32_t sin6_scope_id;
};
struct sockaddr_storage { u8_t s2_len; sa_family_t ss_family; char s2_data1[2]; u32_t s2_data2[3]; u32_t s2_data3[3]; };
struct linger { int l_onoff; int l_linger; };
struct iovec { void *iov_base; size_t iov_len; };

int lwip_socket(int domain, int type, int protocol);
int lwip_bind(int s, const struct sockaddr *name, socklen_t namelen);
int lwip_listen(int s, int backlog);
int lwip_accept(int s, struct sockaddr *addr, socklen_t *addrlen);
int lwip_connect(int s, const struct sockaddr *name, socklen_t namelen);
ssize_t lwip_recv(int s, void *mem, size_t len, int flags);
ssize_t lwip_send(int s, const void *dataptr, size_t size, int flags);
ssize_t lwip_writev(int s, const struct iovec *iov, int iovcnt);
int lwip_shutdown(int s, int how);
int lwip_close(int s);
int lwip_setsockopt(int s, int level, int optname, const void *optval, socklen_t optlen);
int lwip_getsockopt(int s, int level, int optname, void *optval, socklen_t *optlen);
int lwip_getsockname(int s, struct sockaddr *name, socklen_t *namelen);
int lwip_getpeername(int s, struct sockaddr *name, socklen_t *namelen);
int lwip_fcntl(int s, int cmd, int val);

u16_t lwip_htons(u16_t x);
#endif
