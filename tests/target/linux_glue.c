/*
 * Just enough of an operating system for a test program built for a
 * microcontroller (arm-none-eabi with newlib, or RV32 with picolibc) to run
 * under qemu's user mode on this machine: the C library's few system calls
 * (write, sbrk, exit, ...) made as Linux system calls, which qemu carries
 * out; a _start that clears .bss and calls main; and the lwIP functions
 * linger's lwIP port refers to, which these tests never reach (they run on
 * the fault injector's scripted sockets) and which fail if they are.
 *
 * The code under test is the library exactly as a device builds it (-Os,
 * Thumb-2, Thumb-1 or RV32IMC, 32-bit pointers and size_t, the scalar
 * scanners, the lwIP port). For Arm only the CPU model differs: qemu's user
 * mode runs the code on an A-profile core, which executes the same
 * instructions but does not fault on unaligned word access as a Cortex-M0+
 * would.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* --- Linux system calls: RISC-V "ecall" (number in a7), Arm EABI "svc 0"
 * (number in r7) --- */
#if defined(__riscv)
static long linux_call(long nr, long a, long b, long c)
{
    register long a0 __asm__("a0") = a;
    register long a1 __asm__("a1") = b;
    register long a2 __asm__("a2") = c;
    register long a7 __asm__("a7") = nr;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
    return a0;
}

enum { SYS_READ = 63, SYS_WRITE = 64, SYS_CLOSE = 57, SYS_EXIT_GROUP = 94, SYS_BRK = 214 };
#else
static long linux_call(long nr, long a, long b, long c)
{
    register long r0 __asm__("r0") = a;
    register long r1 __asm__("r1") = b;
    register long r2 __asm__("r2") = c;
    register long r7 __asm__("r7") = nr;
    __asm__ volatile("svc #0" : "+r"(r0) : "r"(r1), "r"(r2), "r"(r7) : "memory");
    return r0;
}

enum { SYS_READ = 3, SYS_WRITE = 4, SYS_CLOSE = 6, SYS_EXIT_GROUP = 248, SYS_BRK = 45 };
#endif

/* The heap grows with the program break, as on Linux. */
static void *grow_break(ptrdiff_t increment)
{
    static char *brk_now;
    if (!brk_now) brk_now = (char *)linux_call(SYS_BRK, 0, 0, 0);
    char *old = brk_now, *want = brk_now + increment;
    if ((char *)linux_call(SYS_BRK, (long)want, 0, 0) != want) {
        errno = ENOMEM;
        return (void *)-1;
    }
    brk_now = want;
    return old;
}

void _exit(int status);
void _exit(int status)
{
    for (;;) linux_call(SYS_EXIT_GROUP, status, 0, 0);
}

int main(void);
void _start(void) __attribute__((noreturn));

#if defined(__riscv)
/* --- picolibc --- */
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
#include <unistd.h>

/* Its stdio writes through a FILE the program supplies. */
static int out_putc(char c, FILE *f)
{
    (void)f;
    linux_call(SYS_WRITE, 1, (long)&c, 1);
    return (unsigned char)c;
}

static FILE out = FDEV_SETUP_STREAM(out_putc, NULL, NULL, _FDEV_SETUP_WRITE);
FILE *const stdin = &out;
FILE *const stdout = &out;
FILE *const stderr = &out;

void *sbrk(ptrdiff_t increment);
void *sbrk(ptrdiff_t increment)
{
    return grow_break(increment);
}

/* What its raise() and time() call. The wall clock only feeds Date
 * headers, which these tests do not compare: a fixed instant will do. */
int getpid(void)
{
    return 1;
}

int kill(int pid, int sig); /* (picolibc declares it only for POSIX builds) */
int kill(int pid, int sig)
{
    (void)pid;
    _exit(128 + sig);
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    (void)tz;
    if (tv) {
        tv->tv_sec = 1700000000;
        tv->tv_usec = 0;
    }
    return 0;
}

/* A file answer or upload is read a piece at a time where there is no
 * sendfile (the stream's fallback, always linked); these tests send no
 * file, but the program links read and lseek. */
ssize_t read(int fd, void *buf, size_t n)
{
    long r = linux_call(SYS_READ, fd, (long)buf, (long)n);
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

off_t lseek(int fd, off_t offset, int whence)
{
    (void)fd;
    (void)offset;
    (void)whence;
    errno = ESPIPE;
    return -1;
}

/* qemu has set up the stack; set the global pointer, clear .bss */
extern char __bss_start[], _end[];

void _start(void)
{
    __asm__ volatile(".option push\n.option norelax\nla gp, __global_pointer$\n.option pop");
    memset(__bss_start, 0, (size_t)(_end - __bss_start));
    exit(main());
}

#else
/* --- newlib: its system interface (the prototypes live in its private
 * headers; declared here for -Wmissing-prototypes) --- */
#include <sys/stat.h>

int _write(int fd, const void *buf, size_t n);
int _read(int fd, void *buf, size_t n);
int _close(int fd);
int _fstat(int fd, struct stat *st);
int _isatty(int fd);
int _lseek(int fd, int offset, int whence);
int _kill(int pid, int sig);
int _getpid(void);
void *_sbrk(ptrdiff_t increment);

static int result(long r)
{
    if (r < 0 && r > -4096) {
        errno = (int)-r;
        return -1;
    }
    return (int)r;
}

int _write(int fd, const void *buf, size_t n)
{
    return result(linux_call(SYS_WRITE, fd, (long)buf, (long)n));
}

int _read(int fd, void *buf, size_t n)
{
    return result(linux_call(SYS_READ, fd, (long)buf, (long)n));
}

int _close(int fd)
{
    return result(linux_call(SYS_CLOSE, fd, 0, 0));
}

int _fstat(int fd, struct stat *st)
{
    (void)fd;
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFCHR; /* stdout: line-buffered like a terminal's */
    return 0;
}

int _isatty(int fd)
{
    return fd <= 2;
}

int _lseek(int fd, int offset, int whence)
{
    (void)fd;
    (void)offset;
    (void)whence;
    errno = ESPIPE;
    return -1;
}

int _kill(int pid, int sig)
{
    (void)pid;
    (void)sig;
    errno = ENOSYS;
    return -1;
}

int _getpid(void)
{
    return 1;
}

void *_sbrk(ptrdiff_t increment)
{
    return grow_break(increment);
}

/* qemu has set up the stack; clear .bss, run constructors */
extern char __bss_start__[], __bss_end__[];
void __libc_init_array(void);
void _init(void);
void _fini(void);

void _init(void) {}
void _fini(void) {}

void _start(void)
{
    memset(__bss_start__, 0, (size_t)(__bss_end__ - __bss_start__));
    __libc_init_array();
    exit(main());
}
#endif

/* --- lwIP: what linger's lwIP port calls; never reached here --- */

struct sockaddr;
struct addrinfo;
struct pollfd;

#define NOT_HERE(name, args)                                                   \
    int name args;                                                             \
    int name args                                                              \
    {                                                                          \
        errno = ENOSYS;                                                        \
        return -1;                                                             \
    }

NOT_HERE(lwip_socket, (int d, int t, int p))
NOT_HERE(lwip_bind, (int s, const struct sockaddr *a, unsigned l))
NOT_HERE(lwip_listen, (int s, int backlog))
NOT_HERE(lwip_accept, (int s, struct sockaddr *a, unsigned *l))
NOT_HERE(lwip_connect, (int s, const struct sockaddr *a, unsigned l))
NOT_HERE(lwip_close, (int s))
NOT_HERE(lwip_shutdown, (int s, int how))
NOT_HERE(lwip_fcntl, (int s, int cmd, int val))
NOT_HERE(lwip_setsockopt, (int s, int level, int name, const void *v, unsigned l))
NOT_HERE(lwip_getsockopt, (int s, int level, int name, void *v, unsigned *l))
NOT_HERE(lwip_getsockname, (int s, struct sockaddr *a, unsigned *l))
NOT_HERE(lwip_getpeername, (int s, struct sockaddr *a, unsigned *l))
NOT_HERE(lwip_getaddrinfo, (const char *n, const char *s, const struct addrinfo *h,
                            struct addrinfo **r))
NOT_HERE(poll, (struct pollfd *fds, unsigned long n, int timeout))

long lwip_recv(int s, void *buf, size_t len, int flags);
long lwip_recv(int s, void *buf, size_t len, int flags)
{
    (void)s, (void)buf, (void)len, (void)flags;
    errno = ENOSYS;
    return -1;
}

long lwip_send(int s, const void *buf, size_t len, int flags);
long lwip_send(int s, const void *buf, size_t len, int flags)
{
    (void)s, (void)buf, (void)len, (void)flags;
    errno = ENOSYS;
    return -1;
}

struct iovec;
long lwip_writev(int s, const struct iovec *iov, int n);
long lwip_writev(int s, const struct iovec *iov, int n)
{
    (void)s, (void)iov, (void)n;
    errno = ENOSYS;
    return -1;
}

void lwip_freeaddrinfo(struct addrinfo *ai);
void lwip_freeaddrinfo(struct addrinfo *ai)
{
    (void)ai;
}

uint16_t lwip_htons(uint16_t x);
uint16_t lwip_htons(uint16_t x)
{
    return (uint16_t)((x << 8) | (x >> 8));
}

uint32_t sys_now(void);
uint32_t sys_now(void)
{
    return 0; /* the fault injector keeps its own clock */
}

/* One thread: a mutex has nothing to exclude, and no thread can be made
 * (these tests never resolve a name). */
int8_t sys_mutex_new(void **mutex);
int8_t sys_mutex_new(void **mutex)
{
    *mutex = mutex;
    return 0;
}

void sys_mutex_lock(void **mutex);
void sys_mutex_lock(void **mutex)
{
    (void)mutex;
}

void sys_mutex_unlock(void **mutex);
void sys_mutex_unlock(void **mutex)
{
    (void)mutex;
}

void sys_mutex_free(void **mutex);
void sys_mutex_free(void **mutex)
{
    (void)mutex;
}

void *sys_thread_new(const char *name, void (*fn)(void *), void *arg, int stack, int prio);
void *sys_thread_new(const char *name, void (*fn)(void *), void *arg, int stack, int prio)
{
    (void)name, (void)fn, (void)arg, (void)stack, (void)prio;
    return NULL;
}
