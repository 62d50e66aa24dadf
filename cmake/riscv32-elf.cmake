# Cross toolchain for RV32IMC, the core of the ESP32-C3 (Debian's
# riscv64-unknown-elf-gcc, which builds for 32-bit RISC-V with -march/-mabi).
# That toolchain ships no C library; the headers are newlib's (Debian's
# libnewlib-dev, /usr/include/newlib: the C library ESP-IDF uses too), which
# is enough to compile and size the portable layers.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv32)
set(CMAKE_C_COMPILER riscv64-unknown-elf-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
if(NOT LINGER_NEWLIB_INCLUDE)
  set(LINGER_NEWLIB_INCLUDE /usr/include/newlib)
endif()
set(CMAKE_C_FLAGS_INIT "-march=rv32imc -mabi=ilp32 -ffunction-sections -fdata-sections -isystem ${LINGER_NEWLIB_INCLUDE}")
set(CMAKE_C_FLAGS_MINSIZEREL_INIT "-Os")
