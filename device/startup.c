/* Start-up for the Cortex-M4: the vector table, the reset handler that
 * copies .data and clears .bss, and a fault handler that says where. */
#include <stdint.h>

#include "board.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

void Reset_Handler(void);
void Default_Handler(void);
void HardFault_Handler(void);
void SysTick_Handler(void);
void ETH_IRQHandler(void);

void Reset_Handler(void)
{
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss;) *dst++ = 0;
    main();
    board_panic("main returned");
}

void Default_Handler(void)
{
    board_panic("unexpected interrupt");
}

void HardFault_Handler(void)
{
    uint32_t *sp;
    __asm volatile("mrs %0, msp" : "=r"(sp));
    board_puts("\nhard fault at pc 0x");
    static const char hex[] = "0123456789abcdef";
    char b[8];
    for (int i = 0; i < 8; i++) b[i] = hex[(sp[6] >> (28 - 4 * i)) & 15];
    board_putn(b, 8);
    board_panic("fault");
}

#define IRQ(n) Default_Handler
__attribute__((section(".isr_vector"), used)) static void (*const vectors[16 + 32])(void) = {
    (void (*)(void))(uintptr_t)&_estack,
    Reset_Handler,
    Default_Handler,   /* NMI */
    HardFault_Handler, /* HardFault */
    HardFault_Handler, /* MemManage */
    HardFault_Handler, /* BusFault */
    HardFault_Handler, /* UsageFault */
    0, 0, 0, 0,
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMonitor */
    0,
    Default_Handler, /* PendSV */
    SysTick_Handler,
    /* external interrupts 0..31: the LAN9118 is 13 */
    IRQ(0), IRQ(1), IRQ(2), IRQ(3), IRQ(4), IRQ(5), IRQ(6), IRQ(7), IRQ(8), IRQ(9), IRQ(10),
    IRQ(11), IRQ(12), ETH_IRQHandler, IRQ(14), IRQ(15), IRQ(16), IRQ(17), IRQ(18), IRQ(19),
    IRQ(20), IRQ(21), IRQ(22), IRQ(23), IRQ(24), IRQ(25), IRQ(26), IRQ(27), IRQ(28), IRQ(29),
    IRQ(30), IRQ(31),
};
