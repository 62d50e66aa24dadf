#!/bin/sh
# The tests that need no operating system, run as microcontroller code
# (make check runs this). For Cortex-M4, Cortex-M0+ and RV32IMC (the
# ESP32-C3's core): the library built exactly as a device builds it (-Os,
# the lwIP port, scalar scanners, 32-bit pointers and size_t; newlib on Arm,
# picolibc on RV32, as Debian ships them), the codec, URL, stream, server,
# client and allocation-failure tests linked to it
# (tests/target/CMakeLists.txt), each run under qemu's user mode through
# ctest. qemu runs the Thumb code on an A-profile core (its user mode has
# no M-profile one): same instructions, but unaligned word accesses, which a
# Cortex-M0+ would fault on, pass there.
#
# Usage: scripts/target_tests.sh [m4 m0plus rv32]
set -eu
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
CPUS=${*:-m4 m0plus rv32}
PICOLIBC=/usr/lib/picolibc/riscv64-unknown-elf

for tool in arm-none-eabi-gcc qemu-arm riscv64-unknown-elf-gcc qemu-riscv32; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "target tests: $tool is missing (scripts/deps.sh check installs it)" >&2
    exit 1
  }
done

# newlib as Debian builds it has no C99 printf formats: "%zu" prints "zu"
# and shifts every argument after it (a request built with it is garbage; a
# "%s" after it crashes). The tests built for the target must not use it.
srcs=$(sed -n 's/^linger_target_test(\(.*\))$/tests\/\1.c/p' tests/target/CMakeLists.txt)
if grep -nE '%[-+ 0-9.]*z[udixXo]' $srcs tests/*harness.h tests/guard.h tests/test.h tests/fault/*.[ch]; then
  echo "target tests: the lines above print a size_t with %z, which newlib lacks;" \
    "cast to unsigned long and use %lu" >&2
  exit 1
fi

for cpu in $CPUS; do
  dir=build-target-$cpu
  case $cpu in
    m4 | m0plus)
      mcpu=cortex-$cpu
      printf '\n=== tests as %s code under qemu-arm\n' "$mcpu"
      cmake -S . -B "$dir" -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake \
        -DLINGER_ARM_CPU="$mcpu" -DCMAKE_BUILD_TYPE=MinSizeRel -DLINGER_LWIP=ON \
        -DLINGER_TARGET_TESTS=ON "-DCMAKE_CROSSCOMPILING_EMULATOR=qemu-arm;-cpu;cortex-a15" >/dev/null
      ;;
    rv32)
      # Debian's picolibc has no rv32imc library; rv32im's is the same code
      # without compressed instructions, and links with it.
      [ -f "$PICOLIBC/lib/release/rv32im/ilp32/libc.a" ] || {
        echo "target tests: picolibc for RV32 is missing (picolibc-riscv64-unknown-elf;" \
          "scripts/deps.sh check installs it)" >&2
        exit 1
      }
      printf '\n=== tests as RV32IMC code under qemu-riscv32\n'
      cmake -S . -B "$dir" -DCMAKE_TOOLCHAIN_FILE=cmake/riscv32-elf.cmake \
        -DLINGER_NEWLIB_INCLUDE="$PICOLIBC/include" -DCMAKE_BUILD_TYPE=MinSizeRel -DLINGER_LWIP=ON \
        -DLINGER_TARGET_TESTS=ON "-DLINGER_TARGET_LINK_OPTIONS=-nostdlib" \
        "-DLINGER_TARGET_LIBS=$PICOLIBC/lib/release/rv32im/ilp32/libc.a;-lgcc" \
        "-DCMAKE_CROSSCOMPILING_EMULATOR=qemu-riscv32" >/dev/null
      ;;
    *) echo "target tests: unknown target '$cpu' (m4, m0plus, rv32)" >&2; exit 2 ;;
  esac
  cmake --build "$dir" -j "$JOBS" >/dev/null
  ctest --test-dir "$dir" --output-on-failure -j "$JOBS"
done
