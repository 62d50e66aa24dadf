#!/bin/sh
# mbedTLS for Cortex-M4 with ports/mbedtls/linger_mbedtls_config.h and the
# given knobs (-D...; see the header), as one archive DIR/libmbedtls-all.a,
# for scripts/tls_size.sh and scripts/tls_ram.sh. The knobs change the TLS
# layer only (library/ssl_*.c: record buffers, client or not), so the rest
# of mbedTLS is compiled once, with the defaults, and shared. Built again
# when the configuration header changes.
#
# Usage: scripts/mbedtls_build.sh TREE DIR [KNOBS]   (prints the archive)
set -eu
cd "$(dirname "$0")/.."
tree=$1
dir=$2
knobs=${3:-}
FLAGS="-std=c99 -mcpu=cortex-m4 -mthumb -Os -ffunction-sections -fdata-sections"
JOBS=$(nproc 2>/dev/null || echo 2)
common=build-tls/mbedtls-m4-common
conf=ports/mbedtls/linger_mbedtls_config.h

compile() { # $1 out dir, $2 knobs, then the sources
  out=$1; k=$2; shift 2
  # (mbedTLS's own code: its warnings are not ours to fail on)
  for f in "$@"; do echo "$f"; done |
    xargs -P "$JOBS" -I{} sh -c 'arm-none-eabi-gcc $4 -Iports/mbedtls -I"$1/include" \
      -DMBEDTLS_CONFIG_FILE="\"linger_mbedtls_config.h\"" $5 \
      -c "$2" -o "$3/$(basename "$2" .c).o"' _ "$tree" {} "$out" "$FLAGS" "$k"
}

fresh() { [ -f "$1" ] && [ "$1" -nt "$conf" ] && [ "$(cat "$1")" = "$2" ]; }

if ! fresh "$common/stamp" "$tree"; then
  rm -rf "$common"; mkdir -p "$common"
  compile "$common" "" $(ls "$tree"/library/*.c | grep -v '/ssl_[^/]*\.c$')
  echo "$tree" >"$common/stamp"
fi
if ! fresh "$dir/stamp" "$tree $knobs"; then
  rm -rf "$dir"; mkdir -p "$dir"
  # shellcheck disable=SC2046
  compile "$dir" "$knobs" $(ls "$tree"/library/ssl_*.c)
  rm -f "$dir/libmbedtls-all.a"
  arm-none-eabi-ar rcs "$dir/libmbedtls-all.a" "$common"/*.o "$dir"/*.o
  echo "$tree $knobs" >"$dir/stamp"
fi
echo "$dir/libmbedtls-all.a"
