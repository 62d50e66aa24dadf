# linger as a MicroPython user C module, for the ports built with make (the
# unix port): make -C ports/unix USER_C_MODULES=<linger>/bindings/micropython
# (which finds this file in its linger/ directory; a module directory
# called "micropython" would collide with the unix port's binary)
# The ports built with CMake (esp32, rp2) use micropython.cmake next to
# this file. docs/micropython.md says more.
LINGER_MOD_DIR := $(USERMOD_DIR)
LINGER_ROOT := $(abspath $(LINGER_MOD_DIR)/../../..)

# The binding (scanned for qstrs).
SRC_USERMOD_C += $(addprefix $(LINGER_MOD_DIR)/,modlinger.c lgmp_server.c lgmp_client.c lgmp_backend.c \
	lgmp_sockets.c lgmp_lock.c)

# linger itself: the portable layers, and the POSIX sockets. The build
# leaves out what the binding does not use: threads (host names are looked
# up by the Python side, as MicroPython's asyncio does), files and
# WebSocket. The backend is linger's epoll one on Linux, its poll one
# elsewhere (lgmp_backend.c tells them not to wait: asyncio waits).
LINGER_SRC := http1_chars.c http1_parse.c http1_body.c http1_lookup.c http1_write.c \
	http1_date.c err.c alloc.c addr.c loop.c loop_poll.c loop_epoll.c stream.c stream_read.c tcp.c \
	resolve.c url.c client.c client_pool.c client_send.c client_recv.c client_upgrade.c client_auth.c digest.c \
	client_sync.c server.c server_conn.c server_req.c server_res.c server_upgrade.c \
	router.c static.c static_http.c
SRC_USERMOD_LIB_C += $(addprefix $(LINGER_ROOT)/src/,$(LINGER_SRC))

LINGER_OPTIONS ?= -DLG_NO_THREADS -DLG_NO_FILES -DLG_NO_WEBSOCKET -DLG_NO_LOG -DLG_NO_DIGEST
# LINGER_CFLAGS: more flags for the module's objects (the size script's
# -mcpu=cortex-m0plus, say).
CFLAGS_USERMOD += -I$(LINGER_ROOT)/include $(LINGER_OPTIONS) $(LINGER_CFLAGS)

# LINGER_LOCK_CHECK=1: the port's lwIP lock macros (none on unix) stand in
# for a checking lock, which aborts when linger's platform is called
# without it or Python runs with it held (lgmp_lock.h). scripts/micropython.sh
# builds the unix port so, and the tests run with it.
ifeq ($(LINGER_LOCK_CHECK),1)
CFLAGS_USERMOD += -DLGMP_LOCK_CHECK
endif

# Sockets: the operating system's (the unix port), or lwIP's socket API
# (LINGER_NET=lwip, with LINGER_LWIP_INCLUDE naming lwIP's include
# directories and one with a <poll.h>: a make-based port on lwIP, or the
# size measurement, scripts/micropython_size.sh).
# LINGER_NET=lwip_raw: lwIP's raw API (NO_SYS=1, as MicroPython's rp2 port
# runs it), with LINGER_LWIP_INCLUDE naming lwIP's include directory and
# the one with the firmware's lwipopts.h and arch/cc.h.
LINGER_NET ?= posix
ifeq ($(LINGER_NET),lwip)
SRC_USERMOD_LIB_C += $(LINGER_ROOT)/ports/lwip/net_lwip.c
CFLAGS_USERMOD += -DLG_DEFAULT_NET=lg_net_lwip -DLGMP_PORTABLE_BACKEND $(addprefix -I,$(LINGER_LWIP_INCLUDE))
else ifeq ($(LINGER_NET),lwip_raw)
SRC_USERMOD_LIB_C += $(LINGER_ROOT)/ports/lwip_raw/net_lwip_raw.c
CFLAGS_USERMOD += -DLG_DEFAULT_NET=lg_net_lwip_raw -DLG_DEFAULT_BACKEND=lg_backend_lwip_raw \
	-DLG_NO_POLL -DLGMP_LWIP_RAW -I$(LINGER_ROOT)/ports/lwip_raw $(addprefix -I,$(LINGER_LWIP_INCLUDE))
else
SRC_USERMOD_LIB_C += $(LINGER_ROOT)/src/net_posix.c
endif
