#!/bin/sh
# The RAM of one TLS connection on Cortex-M4, measured: tests/tls/
# tls_ram_target.c (an mbedTLS server and client joined in memory, every
# allocation counted and charged to its side) built for Cortex-M4 with
# mbedTLS (Debian's 2.28 source, scripts/mbedtls_source.sh) and
# ports/mbedtls/linger_mbedtls_config.h, once per buffer setting, and run
# under qemu-arm with tests/target/linux_glue.c for its few system calls.
# Prints a table of the server's bytes; docs/tls.md has the figures.
#
# Usage: scripts/tls_ram.sh
set -eu
cd "$(dirname "$0")/.."
OUT=build-tls
for tool in arm-none-eabi-gcc qemu-arm openssl; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "tls ram: $tool is missing (scripts/deps.sh check installs it)" >&2
    exit 1
  }
done
tree=$(scripts/mbedtls_source.sh "$OUT")
FLAGS="-mcpu=cortex-m4 -mthumb -Os -ffunction-sections -fdata-sections"

# The test CA's certificates (made here, never committed), as C arrays
# (PEM, with the NUL mbedTLS counts).
tests/tls/make_certs.sh "$OUT/certs"
c_array() { # $1 name, $2 file
  printf 'static const unsigned char %s[] = {\n' "$1"
  od -An -v -tx1 "$2" | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'
  printf '0x00 };\n'
}
{
  c_array ca_pem "$OUT/certs/ca.pem"
  c_array server_chain_pem "$OUT/certs/chain.pem"
  c_array server_key_pem "$OUT/certs/server.key"
} >"$OUT/tls_ram_certs.h"

# name | mbedTLS knobs | the fragment length the client asks for
VARIANTS="16k/16k|-DLG_MBEDTLS_IN_LEN=16384 -DLG_MBEDTLS_OUT_LEN=16384|0
16k/4k|-DLG_MBEDTLS_IN_LEN=16384 -DLG_MBEDTLS_OUT_LEN=4096|0
4k/4k,mfl4096|-DLG_MBEDTLS_IN_LEN=4096 -DLG_MBEDTLS_OUT_LEN=4096|4096
16k/16k,variable,mfl2048|-DLG_MBEDTLS_VARIABLE_BUFFERS|2048
16k/4k,variable,mfl2048|-DLG_MBEDTLS_OUT_LEN=4096 -DLG_MBEDTLS_VARIABLE_BUFFERS|2048"


printf '\nRAM of one TLS connection, server side, Cortex-M4 (mbedTLS %s, measured under qemu-arm):\n' \
  "$(sed -n 's/^#define MBEDTLS_VERSION_STRING  *"\(.*\)"/\1/p' "$tree/include/mbedtls/version.h")"
printf '%-26s %8s %8s %8s %8s %7s\n' "buffers in/out" setup peak idle context struct
echo "$VARIANTS" | while IFS='|' read -r name knobs mfl; do
  d="$OUT/ram-$(echo "$name" | tr '/,' '__')"
  lib=$(scripts/mbedtls_build.sh "$tree" "$d/mbedtls" "$knobs")
  # shellcheck disable=SC2086
  arm-none-eabi-gcc -std=c99 $FLAGS -Wall -Wextra -Werror -Iports/mbedtls -I"$tree/include" -I"$OUT" \
    -DMBEDTLS_CONFIG_FILE='"linger_mbedtls_config.h"' $knobs -DMAX_FRAGMENT="$mfl" \
    -c tests/tls/tls_ram_target.c -o "$d/tls_ram.o"
  # shellcheck disable=SC2086
  arm-none-eabi-gcc $FLAGS -Wno-unused-parameter -c tests/target/linux_glue.c -o "$d/glue.o"
  # shellcheck disable=SC2086
  arm-none-eabi-gcc $FLAGS -nostartfiles --specs=nosys.specs -Wl,--gc-sections \
    -o "$d/tls_ram.elf" "$d/tls_ram.o" "$d/glue.o" "$lib"
  line=$(qemu-arm -cpu cortex-a15 "$d/tls_ram.elf") || { echo "$line" >&2; exit 1; }
  echo "$line" | awk -v n="$name" '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "%-26s %8d %8d %8d %8d %7d\n", n, v["setup"], v["peak"], v["idle"], v["context"], v["struct"] }'
done
printf '(bytes mbedTLS allocates for the connection: setup = after mbedtls_ssl_setup, peak =\n'
printf ' the most at once (the handshake), idle = after 1 KiB in and 6 KiB out; context = the\n'
printf ' certificate, key and random generator, shared by all connections; struct =\n'
printf ' sizeof(mbedtls_ssl_context), inside linger'"'"'s per-connection transport state.\n'
printf ' mfl = the max_fragment_length the client asked for)\n'
