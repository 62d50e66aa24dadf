#!/bin/sh
# The tests that need no operating system, run as microcontroller code
# (make check runs this). For Cortex-M4 and Cortex-M0+: the library built
# exactly as a device builds it (arm-none-eabi-gcc -Os, newlib, the lwIP
# port, scalar scanners, 32-bit pointers and size_t), the codec, URL, stream,
# server, client and allocation-failure tests linked to it
# (tests/target/CMakeLists.txt), each run under qemu-arm's user mode through
# ctest. qemu runs the Thumb code on an A-profile core (its user mode has
# no M-profile one): same instructions, but unaligned word accesses, which a
# Cortex-M0+ would fault on, pass there.
#
# Usage: scripts/target_tests.sh [m4 m0plus]
set -eu
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
CPUS=${*:-m4 m0plus}

for tool in arm-none-eabi-gcc qemu-arm; do
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
  case $cpu in
    m4) mcpu=cortex-m4 ;;
    m0plus) mcpu=cortex-m0plus ;;
    *) echo "target tests: unknown target '$cpu' (m4, m0plus)" >&2; exit 2 ;;
  esac
  dir=build-target-$cpu
  printf '\n=== tests as %s code under qemu-arm\n' "$mcpu"
  cmake -S . -B "$dir" -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake \
    -DLINGER_ARM_CPU="$mcpu" -DCMAKE_BUILD_TYPE=MinSizeRel -DLINGER_LWIP=ON \
    -DLINGER_TARGET_TESTS=ON "-DCMAKE_CROSSCOMPILING_EMULATOR=qemu-arm;-cpu;cortex-a15" >/dev/null
  cmake --build "$dir" -j "$JOBS" >/dev/null
  ctest --test-dir "$dir" --output-on-failure -j "$JOBS"
done
