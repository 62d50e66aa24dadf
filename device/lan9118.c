/*
 * An lwIP driver for the SMSC LAN9118, polled from the superloop with its
 * interrupt as the wake-up: the handler only masks the line, and
 * lan9118_poll, which moves every waiting frame from the chip's FIFO into
 * a pbuf, unmasks it again. Frames go out through the TX FIFO at once.
 *
 * Register map and FIFO formats: SMSC LAN9118 datasheet (section 5: the
 * system control and status registers; 3.13: the RX and TX formats).
 * What QEMU's model does not need but a real chip does — waiting for the
 * PHY's auto-negotiation, the TX FIFO's free space, RX errors — is done
 * anyway, cheaply.
 */
#include <string.h>

#include "board.h"
#include "lan9118.h"
#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "netif/ethernet.h"

#define LAN_BASE 0x40200000u
#define REG(off) (*(volatile uint32_t *)(LAN_BASE + (off)))

#define RX_DATA_FIFO 0x00
#define TX_DATA_FIFO 0x20
#define RX_STATUS_FIFO 0x40
#define TX_STATUS_FIFO 0x48
#define ID_REV 0x50
#define IRQ_CFG 0x54
#define INT_STS 0x58
#define INT_EN 0x5c
#define BYTE_TEST 0x64
#define RX_CFG 0x6c
#define TX_CFG 0x70
#define HW_CFG 0x74
#define RX_FIFO_INF 0x7c
#define TX_FIFO_INF 0x80
#define PMT_CTRL 0x84
#define MAC_CSR_CMD 0xa4
#define MAC_CSR_DATA 0xa8

#define IRQ_CFG_EN 0x100u
#define IRQ_CFG_POL 0x10u  /* active high */
#define IRQ_CFG_TYPE 0x01u /* push-pull */
#define INT_RSFL 0x08u     /* RX status FIFO level: a frame came */

#define MAC_CR 1
#define MAC_ADDRH 2
#define MAC_ADDRL 3
#define MAC_MII_ACC 6
#define MAC_MII_DATA 7
#define MAC_CR_TXEN 0x08u
#define MAC_CR_RXEN 0x04u
#define MAC_CR_FDPX 0x100000u

#define PHY_ADDR 1
#define PHY_BMCR 0
#define PHY_BMSR 1

#define RX_STS_ERROR 0x8000u
#define MAX_FRAME 1514u

lan9118_stats lan9118_counters;

/* A frame that does not fit one pbuf as words goes through here. */
static uint32_t bounce[(MAX_FRAME + 4 + 3) / 4];

static void mac_wait(void)
{
    for (int i = 0; i < 100000 && (REG(MAC_CSR_CMD) & 0x80000000u); i++) {
    }
}

static uint32_t mac_read(int reg)
{
    REG(MAC_CSR_CMD) = 0xc0000000u | (uint32_t)reg; /* busy, read */
    mac_wait();
    return REG(MAC_CSR_DATA);
}

static void mac_write(int reg, uint32_t v)
{
    REG(MAC_CSR_DATA) = v;
    REG(MAC_CSR_CMD) = 0x80000000u | (uint32_t)reg;
    mac_wait();
}

static void mii_wait(void)
{
    for (int i = 0; i < 100000 && (mac_read(MAC_MII_ACC) & 1u); i++) {
    }
}

static uint16_t phy_read(int reg)
{
    mii_wait();
    mac_write(MAC_MII_ACC, (PHY_ADDR << 11) | ((uint32_t)reg << 6) | 1u);
    mii_wait();
    return (uint16_t)mac_read(MAC_MII_DATA);
}

static void phy_write(int reg, uint16_t v)
{
    mii_wait();
    mac_write(MAC_MII_DATA, v);
    mac_write(MAC_MII_ACC, (PHY_ADDR << 11) | ((uint32_t)reg << 6) | 2u | 1u);
    mii_wait();
}

int lan9118_rx_pending(void)
{
    return (REG(RX_FIFO_INF) >> 16) & 0xff;
}

void ETH_IRQHandler(void);
void ETH_IRQHandler(void)
{
    /* Only a wake-up: lan9118_poll does the work and unmasks the line. */
    board_irq_disable(BOARD_ETH_IRQ);
}

static void read_words(uint32_t *dst, uint32_t words)
{
    while (words--) *dst++ = REG(RX_DATA_FIFO);
}

static void receive_one(struct netif *netif)
{
    uint32_t status = REG(RX_STATUS_FIFO);
    uint32_t len = (status >> 16) & 0x3fff; /* with the 4-byte CRC */
    uint32_t words = (len + 3) / 4;
    struct pbuf *p = NULL;
    if (!(status & RX_STS_ERROR) && len >= 14 + 4 && len <= MAX_FRAME + 4)
        p = pbuf_alloc(PBUF_RAW, (u16_t)(len - 4), PBUF_POOL);
    if (!p) {
        for (uint32_t i = 0; i < words; i++) (void)REG(RX_DATA_FIFO); /* drop it */
        lan9118_counters.rx_dropped++;
        LINK_STATS_INC(link.drop);
        return;
    }
    if (!p->next && ((uintptr_t)p->payload & 3) == 0 && words * 4 <= PBUF_POOL_BUFSIZE) {
        read_words(p->payload, words); /* the CRC lands past p->len, inside the buffer */
    } else {
        read_words(bounce, words);
        pbuf_take(p, bounce, (u16_t)(len - 4));
    }
    lan9118_counters.rx_frames++;
    if (netif->input(p, netif) != ERR_OK) pbuf_free(p);
}

void lan9118_poll(struct netif *netif)
{
    while (lan9118_rx_pending()) receive_one(netif);
    REG(INT_STS) = INT_RSFL;
    board_irq_enable(BOARD_ETH_IRQ);
}

static err_t low_level_output(struct netif *netif, struct pbuf *p)
{
    LWIP_UNUSED_ARG(netif);
    uint32_t len = p->tot_len;
    if (len > MAX_FRAME) return ERR_BUF;
    uint32_t words = (len + 3) / 4;
    /* Room in the TX data FIFO for the two command words and the frame. */
    for (int i = 0; i < 100000 && (REG(TX_FIFO_INF) & 0xffffu) < words * 4 + 8; i++) {
    }
    const uint32_t *src = bounce;
    if (!p->next && ((uintptr_t)p->payload & 3) == 0) src = p->payload;
    else pbuf_copy_partial(p, bounce, (u16_t)len, 0);
    REG(TX_DATA_FIFO) = (1u << 13) | (1u << 12) | len;  /* command A: first and last segment */
    REG(TX_DATA_FIFO) = (len << 16) | len;               /* command B: tag, packet length */
    for (uint32_t i = 0; i < words; i++) REG(TX_DATA_FIFO) = src[i];
    /* Statuses are not looked at: drop them before their FIFO fills. */
    while ((REG(TX_FIFO_INF) >> 16) & 0xff) (void)REG(TX_STATUS_FIFO);
    lan9118_counters.tx_frames++;
    return ERR_OK;
}

err_t lan9118_netif_init(struct netif *netif)
{
    if (REG(BYTE_TEST) != 0x87654321u) return ERR_IF;
    REG(HW_CFG) = 1; /* soft reset */
    for (int i = 0; i < 100000 && (REG(HW_CFG) & 1u); i++) {
    }
    for (int i = 0; i < 100000 && !(REG(PMT_CTRL) & 1u); i++) { /* READY */
    }
    uint32_t lo = mac_read(MAC_ADDRL), hi = mac_read(MAC_ADDRH);
    netif->hwaddr_len = ETH_HWADDR_LEN;
    netif->hwaddr[0] = (u8_t)lo;
    netif->hwaddr[1] = (u8_t)(lo >> 8);
    netif->hwaddr[2] = (u8_t)(lo >> 16);
    netif->hwaddr[3] = (u8_t)(lo >> 24);
    netif->hwaddr[4] = (u8_t)hi;
    netif->hwaddr[5] = (u8_t)(hi >> 8);

    /* The PHY: auto-negotiation (QEMU's completes at once). */
    phy_write(PHY_BMCR, 0x1200); /* enable and restart auto-negotiation */
    for (int i = 0; i < 100000 && !(phy_read(PHY_BMSR) & 0x24u); i++) {
    }

    mac_write(MAC_CR, MAC_CR_TXEN | MAC_CR_RXEN | MAC_CR_FDPX); /* own address and broadcast */
    REG(TX_CFG) = 2;  /* TX_ON */
    REG(RX_CFG) = 0;  /* no offset, no padding */
    REG(INT_STS) = 0xffffffffu;
    REG(INT_EN) = INT_RSFL;
    REG(IRQ_CFG) = IRQ_CFG_EN | IRQ_CFG_POL | IRQ_CFG_TYPE;
    board_irq_enable(BOARD_ETH_IRQ);

    netif->name[0] = 'e';
    netif->name[1] = 'n';
    netif->mtu = 1500;
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
    netif->output = etharp_output;
    netif->linkoutput = low_level_output;
    return ERR_OK;
}
