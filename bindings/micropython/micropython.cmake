# linger for MicroPython's ports built with CMake (esp32; see
# docs/micropython.md for rp2):
#   make -C ports/esp32 BOARD=... USER_C_MODULES=<linger>/bindings/micropython/micropython.cmake
include(${CMAKE_CURRENT_LIST_DIR}/linger/micropython.cmake)
