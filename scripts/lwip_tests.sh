#!/bin/sh
# linger's lwIP port on a real lwIP (make check runs this): Debian's lwIP 2.1
# (liblwip-dev), its socket API in its own thread as on FreeRTOS; the
# library built with -DLINGER_LWIP=ON on the host, once plain and once with
# AddressSanitizer + UndefinedBehaviorSanitizer (a double free inside the
# stack is what this test exists to catch), and tests/lwip/test_lwip_port
# run through ctest. Only the loopback of lwIP's own interface is used.
set -eu
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)

if ! pkg-config --exists lwip 2>/dev/null && [ ! -e /usr/include/lwip/lwip/sockets.h ]; then
  echo "lwip tests: Debian's liblwip-dev is missing (scripts/deps.sh check installs it)" >&2
  exit 1
fi
inc="$(pwd)/tests/lwip/include;/usr/include/lwip"
# Debian's lwIP headers want the POSIX names (_DEFAULT_SOURCE: ssize_t, SSIZE_MAX).
for variant in plain asan; do
  dir=build-lwip
  flags=-D_DEFAULT_SOURCE
  link=
  if [ $variant = asan ]; then
    dir=build-lwip-asan
    flags="-D_DEFAULT_SOURCE -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
    link="-fsanitize=address,undefined"
  fi
  printf '\n=== the lwIP port on lwIP 2.1 (%s)\n' "$variant"
  cmake -S . -B "$dir" -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_C_FLAGS=$flags" "-DCMAKE_EXE_LINKER_FLAGS=$link" -DLINGER_LWIP=ON \
    -DLINGER_LWIP_TESTS=ON "-DLINGER_LWIP_INCLUDE_DIRS=$inc" >/dev/null
  cmake --build "$dir" -j "$JOBS" >/dev/null
  # (lwIP's own thread and buffers are still allocated at exit: not ours to free)
  ASAN_OPTIONS=detect_leaks=0 ctest --test-dir "$dir" --output-on-failure
done
