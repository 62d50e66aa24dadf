# linger as a MicroPython user C module, for the ports built with make (the
# unix port): make -C ports/unix USER_C_MODULES=<linger>/bindings/micropython
# (which finds this file in its linger/ directory; a module directory
# called "micropython" would collide with the unix port's binary)
# The ports built with CMake (esp32, rp2) use micropython.cmake next to
# this file. docs/micropython.md says more.
LINGER_MOD_DIR := $(USERMOD_DIR)
LINGER_ROOT := $(abspath $(LINGER_MOD_DIR)/../../..)

# The binding (scanned for qstrs).
SRC_USERMOD_C += $(addprefix $(LINGER_MOD_DIR)/,modlinger.c lgmp_server.c lgmp_client.c lgmp_backend.c)

# linger itself: the portable layers, and the POSIX sockets. The build
# leaves out what the binding does not use: threads (host names are looked
# up by the Python side, as MicroPython's asyncio does), files, WebSocket,
# and the epoll backend (the binding has its own, which asyncio waits on).
LINGER_SRC := http1_chars.c http1_parse.c http1_body.c http1_lookup.c http1_write.c \
	http1_date.c err.c alloc.c addr.c loop.c loop_poll.c stream.c stream_read.c tcp.c \
	resolve.c url.c client.c client_pool.c client_send.c client_recv.c client_upgrade.c client_auth.c digest.c \
	client_sync.c server.c server_conn.c server_req.c server_res.c server_upgrade.c \
	router.c static.c static_http.c
SRC_USERMOD_LIB_C += $(addprefix $(LINGER_ROOT)/src/,$(LINGER_SRC))

LINGER_OPTIONS ?= -DLG_NO_THREADS -DLG_NO_FILES -DLG_NO_WEBSOCKET -DLG_NO_EPOLL -DLG_NO_LOG -DLG_NO_DIGEST
CFLAGS_USERMOD += -I$(LINGER_ROOT)/include $(LINGER_OPTIONS)

# Sockets: the operating system's (the unix port), or lwIP's socket API
# (LINGER_NET=lwip, with LINGER_LWIP_INCLUDE naming lwIP's include
# directories and one with a <poll.h>: a make-based port on lwIP, or the
# size measurement, scripts/micropython_size.sh).
LINGER_NET ?= posix
ifeq ($(LINGER_NET),lwip)
SRC_USERMOD_LIB_C += $(LINGER_ROOT)/ports/lwip/net_lwip.c
CFLAGS_USERMOD += -DLG_DEFAULT_NET=lg_net_lwip -DLGMP_PORTABLE_BACKEND $(addprefix -I,$(LINGER_LWIP_INCLUDE))
else
SRC_USERMOD_LIB_C += $(LINGER_ROOT)/src/net_posix.c
endif
