/* A private network namespace for a test process, so that the kernel's TCP
 * counters (/proc/net/netstat) count only this test's connections. Needs
 * root (or an unprivileged user namespace); without it, tests that read the
 * counters say they skipped that part. */
#ifndef LG_NETNS_H
#define LG_NETNS_H

#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Call first thing in main, before any thread starts. Returns 1 when the
 * process now has its own namespace with loopback up. */
static inline int netns_enter_private(void)
{
    if (unshare(CLONE_NEWNET) != 0) return 0;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return 0;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    int ok = ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    ok = ok && ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
    close(fd);
    return ok;
}

/* A counter of the `group` ("TcpExt:" in /proc/net/netstat, "Tcp:" in
 * /proc/net/snmp), or -1. */
static inline long long netns_counter(const char *file, const char *group, const char *name)
{
    FILE *f = fopen(file, "r");
    if (!f) return -1;
    char names[8192], values[8192];
    long long result = -1;
    while (fgets(names, sizeof names, f) && fgets(values, sizeof values, f)) {
        if (strncmp(names, group, strlen(group)) != 0 || names[strlen(group)] != ' ') continue;
        char *sn, *sv;
        char *n = strtok_r(names, " \n", &sn);
        char *v = strtok_r(values, " \n", &sv);
        while (n && v) {
            if (strcmp(n, name) == 0) {
                result = atoll(v);
                break;
            }
            n = strtok_r(NULL, " \n", &sn);
            v = strtok_r(NULL, " \n", &sv);
        }
    }
    fclose(f);
    return result;
}

static inline long long netns_tcpext(const char *name)
{
    return netns_counter("/proc/net/netstat", "TcpExt:", name);
}

/* Every RST sent in the namespace, by any socket, whatever the reason:
 * also those the two counters below miss (data that reaches a socket
 * closed at once, once the kernel keeps it as a FIN_WAIT2 time-wait
 * entry, is answered with RST and counted only here). */
static inline long long netns_out_resets(void)
{
    return netns_counter("/proc/net/snmp", "Tcp:", "OutRsts");
}

/* Resets a host sends because a socket was closed with data unread, or
 * data arrived for a closed one. */
static inline long long netns_resets_for_unread(void)
{
    long long a = netns_tcpext("TCPAbortOnClose"), b = netns_tcpext("TCPAbortOnData");
    return a < 0 || b < 0 ? -1 : a + b;
}

#endif
