#!/bin/sh
# `make check`: every test, in every build that matters.
#   1. gcc, optimised: the whole suite under ctest
#      and TLS in static memory, against mbedTLS built from Debian's source
#      with linger's minimal configuration (scripts/tls_static_tests.sh)
#   2. clang with AddressSanitizer + UndefinedBehaviorSanitizer: the whole
#      suite again, plus a short run of every fuzzer
#   3. the reduced configurations (scripts/configs.sh: min-server,
#      min-both) on the host, with the tests that suit them
#   4. cross builds of the portable layers (-Werror), with their sizes, and
#      of the TLS transport against mbedTLS, with its flash and RAM
#      (scripts/tls_size.sh)
#   5. the tests that need no operating system, as Cortex-M4, Cortex-M0+
#      and RV32IMC code under qemu (scripts/target_tests.sh)
#   6. the lwIP port on a real lwIP (Debian's 2.1), plain and with the
#      sanitizers (scripts/lwip_tests.sh)
#   7. the firmware (device/: linger on lwIP's raw API, no operating
#      system) on QEMU's emulated mps2-an386 board, tested from the host
#      over 127.0.0.1 (scripts/device_tests.sh)
set -eu
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)

scripts/deps.sh check

step() { printf '\n=== %s\n' "$*"; }

step "gcc build and tests"
cmake -S . -B build -DCMAKE_C_COMPILER=gcc >/dev/null
cmake --build build -j "$JOBS"
ctest --test-dir build --output-on-failure -j "$JOBS"

step "TLS with static memory (mbedTLS built from Debian's source)"
scripts/tls_static_tests.sh build

step "clang ASan+UBSan build, tests and fuzz smoke"
cmake -S . -B build-asan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
  -DLINGER_SANITIZE=ON -DLINGER_FUZZ=ON >/dev/null
cmake --build build-asan -j "$JOBS"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j "$JOBS"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  CC=clang SANITIZE=1 scripts/tls_static_tests.sh build-asan

. scripts/configs.sh
for c in min-server min-both; do
  step "reduced build: $c"
  cmake -S . -B "build-$c" -DCMAKE_C_COMPILER=gcc -DLINGER_OPTIONS="$(config_options "$c")" >/dev/null
  cmake --build "build-$c" -j "$JOBS"
  ctest --test-dir "build-$c" --output-on-failure -j "$JOBS"
done

step "cross builds"
scripts/size.sh

step "tests as microcontroller code"
scripts/target_tests.sh

step "the lwIP port on lwIP"
scripts/lwip_tests.sh

step "the firmware on an emulated Cortex-M4 board"
scripts/device_tests.sh

printf '\nmake check: all passed\n'
