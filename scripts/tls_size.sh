#!/bin/sh
# The TLS transport on a device (scripts/size.sh runs this, so `make size`
# and `make check` do): src/tls_mbedtls.c and src/tls_common.c (what it
# shares with the OpenSSL transport) cross-built with -Werror for
# Cortex-M4, Cortex-M0+ and RV32IMC against mbedTLS's headers (Debian's
# mbedtls source package, scripts/mbedtls_source.sh), with the minimal configuration
# (ports/mbedtls/linger_mbedtls_config.h) and with the package's own; then
# flash on Cortex-M4:
#
#   transport  what the linker keeps of tls_mbedtls.o and tls_common.o
#   the whole TLS server  ports/footprint/app_tls_server.c linked with
#              linger (the `server` configuration's library, from size.sh),
#              the transport and mbedTLS built with the minimal
#              configuration (server only), --gc-sections, -Os
#
# Usage: scripts/tls_size.sh   (after scripts/size.sh has built build-size/)
set -eu
cd "$(dirname "$0")/.."
OUT=build-tls
SIZE=build-size
tree=$(scripts/mbedtls_source.sh "$OUT")
# (the quotes are the macro's: "linger_mbedtls_config.h" is what #include gets)
# shellcheck disable=SC2089
CONF='-DMBEDTLS_CONFIG_FILE="linger_mbedtls_config.h"'
WARN="-Wall -Wextra -Werror"

flags_of() { # $1 target
  case $1 in
    m4) echo "arm-none-eabi|-mcpu=cortex-m4 -mthumb" ;;
    m0plus) echo "arm-none-eabi|-mcpu=cortex-m0plus -mthumb" ;;
    rv32) echo "riscv64-unknown-elf|-march=rv32imc -mabi=ilp32 -isystem /usr/include/newlib" ;;
  esac
}

# The transport, -Werror, for each target and configuration.
transport() { # $1 target, $2 minimal|debian, $3 extra defines; prints the objects
  info=$(flags_of "$1"); prefix=${info%%|*}; flags=${info#*|}
  conf=""; [ "$2" = minimal ] && conf="$CONF -Iports/mbedtls"
  for f in tls_mbedtls tls_common; do
    o="$OUT/$f-$1-$2.o"
    # shellcheck disable=SC2086,SC2090
    "$prefix-gcc" -std=c11 $flags -Os -ffunction-sections -fdata-sections $WARN -Iinclude -Isrc \
      -I"$tree/include" $conf -DLG_NO_FILES -DLG_NO_CLIENT $3 -c "src/$f.c" -o "$o"
    echo "$o"
  done
}


for t in m4 m0plus rv32; do
  transport "$t" debian "" >/dev/null
  transport "$t" minimal "" >/dev/null
done
tm4=$(transport m4 minimal -DLG_MBEDTLS_SERVER_ONLY)
lib=$(scripts/mbedtls_build.sh "$tree" "$OUT/mbedtls-m4-server" -DLG_MBEDTLS_SERVER_ONLY)

# The whole TLS server, linked.
[ -f "$SIZE/m4-server/liblinger.a" ] || { echo "tls size: run scripts/size.sh first" >&2; exit 1; }
d="$OUT/fp-tls"; mkdir -p "$d"
objs=""
for f in main app_tls_server stubs stubs_tls; do
  # shellcheck disable=SC2086
  arm-none-eabi-gcc -std=c11 -mcpu=cortex-m4 -mthumb -Os -ffunction-sections -fdata-sections \
    -fno-builtin $WARN -Wno-unused-parameter -Iinclude -DLG_NO_CLIENT -DAPP_SERVER \
    -c "ports/footprint/$f.c" -o "$d/$f.o"
  objs="$objs $d/$f.o"
done
# shellcheck disable=SC2086
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -nostdlib -Wl,--gc-sections -Wl,--no-warn-rwx-segments \
  -Wl,-e,main -Wl,-Map="$d/fp_tls.map" -o "$d/fp_tls.elf" $objs $tm4 \
  "$SIZE/m4-server/liblinger.a" "$lib" -lgcc
awk -f scripts/mapsize.awk "$d/fp_tls.map" >"$d/fp_tls.sizes"
part() { # $1 = awk regex on the file column; prints "text data bss"
  awk -v re="$1" '$1 ~ re { t += $2; d += $3; b += $4 } END { printf "%d %d %d\n", t, d, b }' \
    "$d/fp_tls.sizes"
}
row() { # $1 label, $2 "text data bss"
  # shellcheck disable=SC2086
  set -- "$1" $2
  printf '  %-34s text %6d  data %4d  bss %5d  flash %6d\n' "$1" "$2" "$3" "$4" $(($2 + $3))
}
printf '\nTLS on Cortex-M4 (-Os, --gc-sections), mbedTLS %s with ports/mbedtls/linger_mbedtls_config.h\n' \
  "$(sed -n 's/^#define MBEDTLS_VERSION_STRING  *"\(.*\)"/\1/p' "$tree/include/mbedtls/version.h")"
printf '(ECDHE-ECDSA-AES128-GCM-SHA256, TLS 1.2, server only); the transport also built for\n'
printf 'Cortex-M0+ and RV32IMC, and all with the package'"'"'s own configuration, -Werror: all built\n'
row "the transport (tls_mbedtls+common)" "$(part 'tls_mbedtls|tls_common')"
row "linger (server configuration)" "$(part '^liblinger\.a|^libgcc\.a')"
row "mbedTLS" "$(part '^libmbedtls-all\.a')"
all=$(part 'tls_mbedtls|tls_common|^liblinger\.a|^libgcc\.a|^libmbedtls-all\.a')
row "the whole TLS server (all three)" "$all"
printf '  (the application, the C library and lwIP are not counted; what the program\n'
printf '   calls of theirs: %s)\n' \
  "$(awk -v kept=stubs -f scripts/mapsize.awk "$d/fp_tls.map" | sort | tr '\n' ' ')"

# linger's state per TLS connection on the target (sizeof, read with nm).
# shellcheck disable=SC2086,SC2090
arm-none-eabi-gcc -std=c11 -mcpu=cortex-m4 -mthumb -Os $WARN -Iinclude -Isrc -I"$tree/include" \
  -Iports/mbedtls $CONF -DLG_NO_FILES -DLG_NO_CLIENT -c ports/footprint/tls_sizes.c -o "$OUT/tls_sizes.o"
arm-none-eabi-nm -S -t d "$OUT/tls_sizes.o" | awk '$4 ~ /^size_/ { v[$4] = $2 + 0 }
  END { printf "\nlinger'"'"'s TLS state per connection on Cortex-M4: %d bytes (of which mbedtls_ssl_context: %d)\n",
        v["size_tls_conn"], v["size_ssl_context"] }'

# And what mbedTLS allocates for one, measured under qemu-arm.
scripts/tls_ram.sh
