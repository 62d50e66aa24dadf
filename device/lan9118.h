/* An lwIP driver for the SMSC LAN9118 (QEMU's mps2 boards; the LAN9220 of
 * the real MPS2 is the same to software). */
#ifndef DEVICE_LAN9118_H
#define DEVICE_LAN9118_H

#include "lwip/err.h"
#include "lwip/netif.h"

/* netif_add's init function: finds the chip, reads its MAC address,
 * starts it, and fills in the netif. */
err_t lan9118_netif_init(struct netif *netif);
/* Hand every frame the chip has received to lwIP (netif->input); then let
 * the chip's interrupt wake the core again. */
void lan9118_poll(struct netif *netif);
/* A received frame waits in the chip. */
int lan9118_rx_pending(void);

typedef struct lan9118_stats {
    uint32_t rx_frames, tx_frames, rx_dropped; /* dropped: no pbuf, or a bad frame */
} lan9118_stats;
extern lan9118_stats lan9118_counters;

#endif
