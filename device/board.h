/*
 * The board: QEMU's mps2-an386 (Arm MPS2 with the AN386 image: a
 * Cortex-M4 at 25 MHz, a CMSDK UART, a LAN9118 Ethernet controller). What
 * another board needs instead is these few functions and the Ethernet
 * driver (lan9118.c): docs/porting.md.
 */
#ifndef DEVICE_BOARD_H
#define DEVICE_BOARD_H

#include <stddef.h>
#include <stdint.h>

#define BOARD_CPU_HZ 25000000u

/* Clock, console, interrupts. */
void board_init(void);
uint32_t board_ms(void);            /* milliseconds since start (SysTick) */
void board_puts(const char *s);     /* the serial console (UART0) */
void board_put_uint(unsigned long v);
void board_putn(const char *s, size_t n);
/* Sleep until an interrupt, unless the network has a frame waiting. */
void board_idle(void);
uint32_t board_rand(void);
void board_panic(const char *why) __attribute__((noreturn));

/* The NVIC line of the LAN9118. */
#define BOARD_ETH_IRQ 13
void board_irq_enable(int irq);
void board_irq_disable(int irq);

#endif
