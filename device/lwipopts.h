/*
 * lwIP's configuration for the firmware (device/): NO_SYS=1, the raw API,
 * IPv4 and TCP over Ethernet, a static address, and all memory static —
 * lwIP's heap (tcp_write's copies), its pools (pcbs, segments, received
 * frames) are arrays fixed at build time. The same file builds lwIP's own
 * httpd for the comparison in docs/footprint.md (DEVICE_HTTPD adds its
 * options at the end).
 */
#ifndef DEVICE_LWIPOPTS_H
#define DEVICE_LWIPOPTS_H

#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0 /* one thread; the interrupts only mark */
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_CALLBACK_API 1

#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1 /* ping */
#define LWIP_RAW 0
#define LWIP_UDP 0 /* a static address: no DHCP, no DNS */
#define LWIP_TCP 1
#define LWIP_DHCP 0
#define LWIP_DNS 0
#define LWIP_IGMP 0
#define IP_REASSEMBLY 0
#define IP_FRAG 0
#define LWIP_SINGLE_NETIF 1
#define LWIP_NETIF_LOOPBACK 0
#define LWIP_HAVE_LOOPIF 0

/* Memory: everything below is a static array. */
#define MEM_ALIGNMENT 4
#define MEM_SIZE (16 * 1024) /* lwIP's heap: copies of what is sent until acknowledged */
#define MEMP_NUM_PBUF 8
#define MEMP_NUM_TCP_PCB 16  /* connections, those in TIME_WAIT and those waiting in the backlog */
#define MEMP_NUM_TCP_PCB_LISTEN 2
#define MEMP_NUM_TCP_SEG 32
#define MEMP_NUM_ARP_QUEUE 4
#define PBUF_POOL_SIZE 24    /* received frames (and what linger has not read yet) */
#define PBUF_POOL_BUFSIZE 1536

#define TCP_MSS 1460
#define TCP_WND (4 * TCP_MSS)
#define TCP_SND_BUF (4 * TCP_MSS)
#define TCP_SND_QUEUELEN ((4 * TCP_SND_BUF + TCP_MSS - 1) / TCP_MSS)
#define TCP_LISTEN_BACKLOG 1 /* so that newcomers beyond the backlog wait (their SYNs are dropped) */
#define TCP_QUEUE_OOSEQ 1
#define LWIP_TCP_KEEPALIVE 0

/* linger's raw-API port reads its settings here too: connections lwIP may
 * accept before linger takes them (each is a pcb; beyond them, SYNs are
 * dropped and the clients retransmit). */
#define LG_LWIP_RAW_BACKLOG 8

/* Checksums in software (the LAN9118 in QEMU offloads nothing). */
#define CHECKSUM_GEN_IP 1
#define CHECKSUM_GEN_TCP 1
#define CHECKSUM_CHECK_IP 1
#define CHECKSUM_CHECK_TCP 1

/* Counters the firmware reports (GET /stats and its console): free pools,
 * and the resets lwIP sent (MIB-II tcpOutRsts). */
#define LWIP_STATS 1
#define LWIP_STATS_DISPLAY 0
#define LINK_STATS 0
#define ETHARP_STATS 0
#define IP_STATS 0
#define ICMP_STATS 0
#define UDP_STATS 0
#define TCP_STATS 1
#define MEM_STATS 1
#define MEMP_STATS 1
#define SYS_STATS 0
#define MIB2_STATS 1

#if defined(DEVICE_HTTPD)
/* lwIP's httpd (src/apps/http) on the same stack, with the same pages
 * (device/www, made into fsdata_device.c by lwIP's makefsdata). */
#define HTTPD_FSDATA_FILE "fsdata_device.c"
#define LWIP_HTTPD_CGI 0
#define LWIP_HTTPD_SSI 0
#define LWIP_HTTPD_SUPPORT_POST 0
#define LWIP_HTTPD_DYNAMIC_HEADERS 0
#define HTTPD_USE_CUSTOM_FSDATA 0
#endif

#endif
