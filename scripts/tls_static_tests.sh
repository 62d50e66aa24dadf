#!/bin/sh
# TLS with static memory (make check runs this): linger's server in its
# static-memory mode (lg_server_config.memory) with everything of TLS in one
# block (lg_tls_memory, mbedTLS's memory_buffer_alloc). Debian's mbedTLS is
# built without memory_buffer_alloc, so mbedTLS is built here from Debian's
# source (scripts/mbedtls_source.sh) with ports/mbedtls/linger_mbedtls_config.h,
# for this machine, once; tests/tls/tls_static_server.c is linked with it and
# with linger's library from BUILD, and tests/tls/test_tls_static.py drives
# it with Python's ssl; tests/tls/tls_free_server.c (built with the block)
# is freed with connections in every state, and must give every byte of
# the block back (tests/tls/test_tls_free.py), under valgrind too.
#
# Usage: scripts/tls_static_tests.sh [BUILD]   (BUILD: a host build, default build/)
#   SANITIZE=1 (with CC=clang and a -DLINGER_SANITIZE=ON BUILD): the server
#   and the transport with AddressSanitizer and UBSan, which fail it on the
#   first report
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=build-tls
JOBS=$(nproc 2>/dev/null || echo 2)
CC=${CC:-gcc}
[ -f "$BUILD/liblinger.a" ] || { echo "tls static: no $BUILD/liblinger.a (build first)" >&2; exit 1; }
tree=$(scripts/mbedtls_source.sh "$OUT")
conf=ports/mbedtls/linger_mbedtls_config.h

# mbedTLS for the host, minimal configuration (with its client: the tests'
# peers are Python's), once.
lib="$OUT/mbedtls-host/libmbedtls-all.a"
if [ ! -f "$lib" ] || [ "$conf" -nt "$lib" ]; then
  rm -rf "$OUT/mbedtls-host"; mkdir -p "$OUT/mbedtls-host"
  for f in "$tree"/library/*.c; do echo "$f"; done |
    xargs -P "$JOBS" -I{} sh -c '"$4" -std=c99 -O2 -fPIC -Iports/mbedtls -I"$1/include" \
      -DMBEDTLS_CONFIG_FILE="\"linger_mbedtls_config.h\"" -c "$2" -o "$3/$(basename "$2" .c).o"' \
      _ "$tree" {} "$OUT/mbedtls-host" "$CC"
  ar rcs "$lib" "$OUT/mbedtls-host"/*.o
fi

d="$OUT/static-test"
san=""
if [ "${SANITIZE:-0}" = 1 ]; then
  d="$OUT/static-test-san"
  san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
fi
mkdir -p "$d"
for f in src/tls_mbedtls.c src/tls_common.c tests/tls/tls_static_server.c tests/tls/tls_free_server.c; do
  # shellcheck disable=SC2086
  "$CC" -std=c11 -O2 -g $san -Wall -Wextra -Werror -Iinclude -Isrc -Iports/mbedtls -I"$tree/include" \
    -DMBEDTLS_CONFIG_FILE='"linger_mbedtls_config.h"' -DLG_TEST_TLS_BLOCK \
    -c "$f" -o "$d/$(basename "$f" .c).o"
done
# shellcheck disable=SC2086
"$CC" $san -o "$d/tls_static_server" "$d/tls_static_server.o" "$d/tls_mbedtls.o" "$d/tls_common.o" "$BUILD/liblinger.a" \
  "$lib" -lpthread
# shellcheck disable=SC2086
"$CC" $san -o "$d/tls_free_server" "$d/tls_free_server.o" "$d/tls_mbedtls.o" "$d/tls_common.o" "$BUILD/liblinger.a" \
  "$lib" -lpthread
tests/tls/make_certs.sh "$OUT/certs"
LINGER_TLS_CERTS="$(pwd)/$OUT/certs" LINGER_TLS_STATIC_SERVER="$(pwd)/$d/tls_static_server" \
  timeout 300 /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/tls/test_tls_static.py
# Freed with connections in every state: the whole block comes back (400 kB:
# five sessions and a handshake fit). Under valgrind too (the free; a
# shutdown there waits out its send timeouts), without the sanitizers
# (they do not mix).
run_free() { # VALGRIND(0|1) [pytest arguments]
  valgrind=$1
  shift
  LINGER_TLS_CERTS="$(pwd)/$OUT/certs" LINGER_TLS_FREE_SERVER="$(pwd)/$d/tls_free_server" \
    LINGER_TLS_FREE_BLOCK=400000 LINGER_TLS_FREE_VALGRIND="$valgrind" \
    timeout 300 /usr/bin/python3 -m pytest -q -p no:cacheprovider "$@" tests/tls/test_tls_free.py
}
run_free 0
if [ "${SANITIZE:-0}" != 1 ] && command -v valgrind >/dev/null; then
  run_free 1 -k test_free_with
fi
