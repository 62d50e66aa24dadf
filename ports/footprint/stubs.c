/*
 * Empty stand-ins for what a footprint program links against besides
 * linger: the C library functions linger calls, lwIP's sockets and the OS
 * port. They exist only so that the linker can lay the program out and
 * drop what is unused (--gc-sections); none of them is counted as linger's,
 * and none is meant to run. Which of them survive the link is the list of
 * C library functions a build of linger needs (scripts/size.sh prints it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define STUB_INT(name, ...) int name(__VA_ARGS__); int name(__VA_ARGS__) { return 0; }
#define STUB_PTR(name, ...) void *name(__VA_ARGS__); void *name(__VA_ARGS__) { return 0; }

/* <string.h>: minimal, correct but slow versions (the target's C library
 * has its own; their size is not linger's). */
void *memcpy(void *d, const void *s, size_t n);
void *memcpy(void *d, const void *s, size_t n) { char *p = d; const char *q = s; while (n--) *p++ = *q++; return d; }
void *memmove(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n) { return memcpy(d, s, n); }
void *memset(void *d, int c, size_t n);
void *memset(void *d, int c, size_t n) { char *p = d; while (n--) *p++ = (char)c; return d; }
STUB_INT(memcmp, const void *a, const void *b, size_t n)
STUB_PTR(memchr, const void *s, int c, size_t n)
STUB_PTR(memmem, const void *a, size_t n, const void *b, size_t m)
size_t strlen(const char *s);
size_t strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }
STUB_INT(strcmp, const char *a, const char *b)
STUB_INT(strncmp, const char *a, const char *b, size_t n)
STUB_INT(strncasecmp, const char *a, const char *b, size_t n)
STUB_PTR(strchr, const char *s, int c)
STUB_PTR(strrchr, const char *s, int c)
STUB_PTR(strstr, const char *a, const char *b)
STUB_PTR(strpbrk, const char *s, const char *set)
size_t strcspn(const char *s, const char *reject);
size_t strcspn(const char *s, const char *reject) { (void)s; (void)reject; return 0; }
/* <stdlib.h>, <stdio.h>, <time.h>, <unistd.h>, <fcntl.h>, <sys/stat.h> */
STUB_PTR(malloc, size_t n)
void free(void *p);
void free(void *p) { (void)p; }
STUB_PTR(getenv, const char *name)
STUB_PTR(realpath, const char *path, char *out)
STUB_INT(vsnprintf, char *buf, size_t n, const char *fmt, va_list ap)
STUB_INT(snprintf, char *buf, size_t n, const char *fmt, ...)
STUB_INT(time, void *t)
STUB_PTR(gmtime_r, const void *t, void *tm)
STUB_INT(open, const char *path, int flags, ...)
STUB_INT(close, int fd)
STUB_INT(read, int fd, void *buf, size_t n)
STUB_INT(lseek, int fd, long off, int whence)
STUB_INT(fstat, int fd, void *st)
STUB_INT(stat, const char *path, void *st)
int errno;
int *__errno(void);
int *__errno(void) { return &errno; }
/* lwIP sockets and the OS port (ports/lwip/net_lwip.c) */
STUB_INT(lwip_socket, int d, int t, int p)
STUB_INT(lwip_bind, int s, const void *a, unsigned l)
STUB_INT(lwip_listen, int s, int b)
STUB_INT(lwip_accept, int s, void *a, void *l)
STUB_INT(lwip_connect, int s, const void *a, unsigned l)
STUB_INT(lwip_recv, int s, void *m, size_t l, int f)
STUB_INT(lwip_send, int s, const void *m, size_t l, int f)
STUB_INT(lwip_writev, int s, const void *iov, int n)
STUB_INT(lwip_shutdown, int s, int h)
STUB_INT(lwip_close, int s)
STUB_INT(lwip_setsockopt, int s, int l, int o, const void *v, unsigned n)
STUB_INT(lwip_getsockopt, int s, int l, int o, void *v, void *n)
STUB_INT(lwip_getsockname, int s, void *a, void *l)
STUB_INT(lwip_getpeername, int s, void *a, void *l)
STUB_INT(lwip_fcntl, int s, int c, int v)
STUB_INT(lwip_getaddrinfo, const char *n, const char *s, const void *h, void *r)
void lwip_freeaddrinfo(void *ai);
void lwip_freeaddrinfo(void *ai) { (void)ai; }
uint16_t lwip_htons(uint16_t x);
uint16_t lwip_htons(uint16_t x) { return (uint16_t)(x << 8 | x >> 8); }
STUB_INT(poll, void *fds, unsigned n, int timeout)
STUB_INT(sys_mutex_new, void *m)
void sys_mutex_lock(void *m);
void sys_mutex_lock(void *m) { (void)m; }
void sys_mutex_unlock(void *m);
void sys_mutex_unlock(void *m) { (void)m; }
void sys_mutex_free(void *m);
void sys_mutex_free(void *m) { (void)m; }
STUB_PTR(sys_thread_new, const char *n, void *f, void *a, int s, int p)
uint32_t sys_now(void);
uint32_t sys_now(void) { return 0; }
