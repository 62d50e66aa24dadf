# The _linger module for MicroPython's ports built with CMake. The
# make-based unix port uses micropython.mk next to this file.
#
# LINGER_NET says how linger reaches lwIP:
#   lwip      lwIP's socket API (ports/lwip/net_lwip.c) and the binding's
#             portable backend (asyncio's select.poll asks the Loop's
#             ioctl, as it asks every socket of the port): esp32, the
#             default elsewhere than rp2.
#   lwip_raw  lwIP's raw API (ports/lwip_raw/net_lwip_raw.c, LGMP_LWIP_RAW,
#             as micropython.mk's LINGER_NET=lwip_raw): rp2, which runs lwIP
#             without its sockets (NO_SYS=1), and the default there. rp2
#             runs lwIP's input and timers from PendSV; the binding holds
#             the port's lock (MICROPY_PY_LWIP_ENTER/EXIT, lgmp_lock.h) in
#             every call into linger. lwIP's include directories are the
#             firmware's (the module is compiled into its target).
# docs/micropython.md says more.
set(_linger_rp2 FALSE)
if(MICROPY_PORT_DIR MATCHES "rp2$")
  set(_linger_rp2 TRUE)
endif()
if(NOT DEFINED LINGER_NET)
  if(_linger_rp2)
    set(LINGER_NET lwip_raw)
  else()
    set(LINGER_NET lwip)
  endif()
endif()
if(_linger_rp2 AND NOT LINGER_NET STREQUAL "lwip_raw")
  message(FATAL_ERROR "linger: rp2 runs lwIP without its socket API: LINGER_NET=lwip_raw (docs/micropython.md)")
elseif(LINGER_NET STREQUAL "lwip_raw" AND NOT _linger_rp2)
  # The lock the binding takes is written the way rp2's macros are
  # (lgmp_lock.h); elsewhere lwIP's raw API is not the binding's to call.
  message(FATAL_ERROR "linger: LINGER_NET=lwip_raw is for rp2 (docs/micropython.md)")
elseif(NOT LINGER_NET MATCHES "^(lwip|lwip_raw)$")
  message(FATAL_ERROR "linger: LINGER_NET must be lwip or lwip_raw")
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
  ${CMAKE_CURRENT_LIST_DIR}/lgmp_lock.c
  ${LINGER_MPY_SRC})
target_include_directories(usermod_linger INTERFACE ${CMAKE_CURRENT_LIST_DIR} ${LINGER_ROOT}/include)
# As micropython.mk: no threads (names are looked up by the Python side),
# files, WebSocket, epoll, logging or Digest's hashes.
target_compile_definitions(usermod_linger INTERFACE
  LG_NO_THREADS LG_NO_FILES LG_NO_WEBSOCKET LG_NO_EPOLL LG_NO_LOG LG_NO_DIGEST)
if(LINGER_NET STREQUAL "lwip_raw")
  target_sources(usermod_linger INTERFACE ${LINGER_ROOT}/ports/lwip_raw/net_lwip_raw.c)
  target_include_directories(usermod_linger INTERFACE ${LINGER_ROOT}/ports/lwip_raw)
  target_compile_definitions(usermod_linger INTERFACE
    LG_NO_POLL LG_DEFAULT_NET=lg_net_lwip_raw LG_DEFAULT_BACKEND=lg_backend_lwip_raw LGMP_LWIP_RAW)
else()
  target_sources(usermod_linger INTERFACE ${LINGER_ROOT}/ports/lwip/net_lwip.c)
  target_compile_definitions(usermod_linger INTERFACE
    LG_DEFAULT_NET=lg_net_lwip LGMP_PORTABLE_BACKEND)
endif()
target_link_libraries(usermod INTERFACE usermod_linger)
