/* Stand-in for lwIP's lwip/def.h (byte order helpers), for compile checks
 * of the port without an lwIP tree; the declarations are in sockets.h. */
#ifndef LG_STUB_LWIP_DEF_H
#define LG_STUB_LWIP_DEF_H
#include "lwip/sockets.h"
#endif
