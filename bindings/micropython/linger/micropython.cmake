# The _linger module for MicroPython's CMake ports, on lwIP's socket API
# (ports/lwip/net_lwip.c) and the binding's portable backend (asyncio's
# select.poll asks the Loop's ioctl, as it asks every socket of these
# ports). The make-based unix port uses micropython.mk next to this file.
if(MICROPY_PORT_DIR MATCHES "rp2$")
  # MicroPython's rp2 port runs lwIP without its socket API (NO_SYS=1):
  # the module would use linger's raw-API port there (micropython.mk's
  # LINGER_NET=lwip_raw: ports/lwip_raw/net_lwip_raw.c, LGMP_LWIP_RAW), but
  # rp2 runs lwIP's input and timers from PendSV, and the binding does
  # not yet hold lwip_lock_acquire() around its calls into linger
  # (docs/micropython.md, "rp2").
  message(FATAL_ERROR "linger: on rp2 the binding does not yet take the lwIP lock (docs/micropython.md)")
endif()

get_filename_component(LINGER_ROOT ${CMAKE_CURRENT_LIST_DIR}/../../.. ABSOLUTE)
set(LINGER_MPY_SRC
  http1_chars http1_parse http1_body http1_lookup http1_write http1_date err alloc addr
  loop loop_poll stream stream_read tcp resolve url client client_pool client_send
  client_recv client_upgrade client_auth digest client_sync server server_conn server_req server_res
  server_upgrade router static static_http)
list(TRANSFORM LINGER_MPY_SRC PREPEND ${LINGER_ROOT}/src/)
list(TRANSFORM LINGER_MPY_SRC APPEND .c)

add_library(usermod_linger INTERFACE)
target_sources(usermod_linger INTERFACE
  ${CMAKE_CURRENT_LIST_DIR}/modlinger.c
  ${CMAKE_CURRENT_LIST_DIR}/lgmp_server.c
  ${CMAKE_CURRENT_LIST_DIR}/lgmp_client.c
  ${CMAKE_CURRENT_LIST_DIR}/lgmp_backend.c
  ${CMAKE_CURRENT_LIST_DIR}/lgmp_sockets.c
  ${LINGER_MPY_SRC}
  ${LINGER_ROOT}/ports/lwip/net_lwip.c)
target_include_directories(usermod_linger INTERFACE ${CMAKE_CURRENT_LIST_DIR} ${LINGER_ROOT}/include)
# As micropython.mk: no threads (names are looked up by the Python side),
# files, WebSocket, epoll or logging; lwIP's sockets; the portable backend.
target_compile_definitions(usermod_linger INTERFACE
  LG_NO_THREADS LG_NO_FILES LG_NO_WEBSOCKET LG_NO_EPOLL LG_NO_LOG LG_NO_DIGEST
  LG_DEFAULT_NET=lg_net_lwip LGMP_PORTABLE_BACKEND)
target_link_libraries(usermod INTERFACE usermod_linger)
