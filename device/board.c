/* The mps2-an386 board: SysTick, UART0, NVIC, sleep. */
#include "board.h"

#include "lan9118.h"

#define REG32(a) (*(volatile uint32_t *)(a))

/* SysTick and NVIC (Armv7-M system control space) */
#define SYST_CSR REG32(0xE000E010u)
#define SYST_RVR REG32(0xE000E014u)
#define SYST_CVR REG32(0xE000E018u)
#define NVIC_ISER0 REG32(0xE000E100u)
#define NVIC_ICER0 REG32(0xE000E180u)

/* CMSDK APB UART0 */
#define UART0 0x40004000u
#define UART_DATA REG32(UART0 + 0x00)
#define UART_STATE REG32(UART0 + 0x04)
#define UART_CTRL REG32(UART0 + 0x08)
#define UART_BAUDDIV REG32(UART0 + 0x10)

static volatile uint32_t ticks;
static uint32_t rand_state = 0x2545f491u;

void SysTick_Handler(void);
void SysTick_Handler(void)
{
    ticks++;
}

void board_init(void)
{
    UART_BAUDDIV = 16;
    UART_CTRL = 1; /* transmit */
    SYST_RVR = BOARD_CPU_HZ / 1000 - 1;
    SYST_CVR = 0;
    SYST_CSR = 7; /* the processor's clock, interrupt, enable */
}

uint32_t board_ms(void)
{
    return ticks;
}

void board_putn(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            while (UART_STATE & 1) {
            }
            UART_DATA = '\r';
        }
        while (UART_STATE & 1) {
        }
        UART_DATA = (uint8_t)s[i];
    }
}

void board_puts(const char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    board_putn(s, n);
}

void board_put_uint(unsigned long v)
{
    char buf[12];
    int i = sizeof buf;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v && i > 0);
    board_putn(buf + i, sizeof buf - (size_t)i);
}

void board_irq_enable(int irq)
{
    NVIC_ISER0 = 1u << irq;
}

void board_irq_disable(int irq)
{
    NVIC_ICER0 = 1u << irq;
}

void board_idle(void)
{
    /* With interrupts masked, a frame that arrives after the check still
     * ends the WFI (a pending interrupt wakes the core even when masked),
     * and its handler runs as soon as they are unmasked: no lost wake-up. */
    __asm volatile("cpsid i" ::: "memory");
    if (!lan9118_rx_pending()) __asm volatile("wfi" ::: "memory");
    __asm volatile("cpsie i" ::: "memory");
}

uint32_t board_rand(void)
{
    /* xorshift32, stirred by the tick counter's phase */
    uint32_t x = rand_state ^ SYST_CVR;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rand_state = x;
    return x;
}

void board_panic(const char *why)
{
    board_puts("\npanic: ");
    board_puts(why);
    board_puts("\n");
    for (;;) __asm volatile("cpsid i\n wfi");
}
