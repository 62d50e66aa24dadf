/*
 * The comparison firmware for docs/footprint.md: lwIP's own httpd
 * (src/apps/http) on the same board, driver, lwIP configuration and
 * superloop, serving the same pages (device/www, made into
 * fsdata_device.c by lwIP's makefsdata): GET / and GET /hello. It is what
 * an lwIP device serves pages with when it has no linger; it reads each
 * request's head, answers HTTP/1.0 from flash and closes.
 */
#include "board.h"
#include "lan9118.h"
#include "lwip/apps/httpd.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

static struct netif eth;

u32_t sys_now(void)
{
    return board_ms();
}

int main(void)
{
    board_init();
    board_puts("\nlwIP httpd device: mps2-an386 (Cortex-M4), lwIP " LWIP_VERSION_STRING
               " raw API, NO_SYS\n");
    lwip_init();
    ip4_addr_t ip, mask, gw;
    IP4_ADDR(&ip, 10, 0, 2, 15);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 10, 0, 2, 2);
    if (!netif_add(&eth, &ip, &mask, &gw, NULL, lan9118_netif_init, ethernet_input))
        board_panic("no LAN9118");
    netif_set_default(&eth);
    netif_set_up(&eth);
    httpd_init();
    board_puts("listening on http://10.0.2.15:80/\n");
    for (;;) {
        lan9118_poll(&eth);
        sys_check_timeouts();
        board_idle(); /* until the tick or a frame */
    }
}
