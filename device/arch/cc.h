/* lwIP's compiler and platform glue for the firmware (newlib, Cortex-M). */
#ifndef DEVICE_ARCH_CC_H
#define DEVICE_ARCH_CC_H

#include <stdint.h>

#define BYTE_ORDER LITTLE_ENDIAN
/* Headers in frames are 2-byte aligned (no ETH_PAD_SIZE): let the compiler
 * know, so that it never uses an access that must be aligned. */
#define PACK_STRUCT_STRUCT __attribute__((packed))
#define LWIP_RAND() ((u32_t)board_rand())
#define LWIP_PLATFORM_DIAG(x) do { } while (0)
#define LWIP_PLATFORM_ASSERT(x) board_panic(x)

uint32_t board_rand(void);
void board_panic(const char *why) __attribute__((noreturn));

#endif
