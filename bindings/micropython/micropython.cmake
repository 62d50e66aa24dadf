# linger for MicroPython's ports built with CMake (esp32, rp2; see
# docs/micropython.md):
#   make -C ports/esp32 BOARD=... USER_C_MODULES=<linger>/bindings/micropython/micropython.cmake
#   make -C ports/rp2 BOARD=RPI_PICO_W USER_C_MODULES=<linger>/bindings/micropython/micropython.cmake
include(${CMAKE_CURRENT_LIST_DIR}/linger/micropython.cmake)
