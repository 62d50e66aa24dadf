#!/bin/sh
# Cross-compiles the portable layers with -Werror and prints text/data/bss
# per layer. Cortex-M4 -Os is the reference figure.
set -eu
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)

build_arm() { # $1 = cpu, $2 = build dir
  cmake -S . -B "$2" -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake \
    -DLINGER_ARM_CPU="$1" -DCMAKE_BUILD_TYPE=MinSizeRel -DLINGER_PORTABLE_ONLY=ON >/dev/null
  cmake --build "$2" -j "$JOBS" >/dev/null
}

layer_size() { # $1 = build dir, $2 = label, rest = object basenames
  dir=$1; label=$2; shift 2
  objs=""
  for o in "$@"; do
    objs="$objs $(find "$dir" -name "$o.c.obj" -o -name "$o.c.o" | head -1)"
  done
  arm-none-eabi-size -t $objs | tail -1 | awk -v l="$label" '{ printf "  %-28s text %6d  data %4d  bss %4d\n", l, $1, $2, $3 }'
}

build_arm cortex-m4 build-arm-m4
echo "Cortex-M4 (-mthumb -Os), arm-none-eabi-gcc $(arm-none-eabi-gcc -dumpversion):"
# Parsing heads and decoding bodies, with the character table they share;
# the lookups that read a parsed head (lg_head_get, lg_list_has) apart.
layer_size build-arm-m4 "codec: parse + body" http1_chars http1_parse http1_body
layer_size build-arm-m4 "codec: lookups" http1_lookup
layer_size build-arm-m4 "codec: serialiser" http1_write
layer_size build-arm-m4 "error table" err
layer_size build-arm-m4 "server: static files" static static_http
# The client: URLs (shared with the server), then calls, pool, send, receive.
layer_size build-arm-m4 "url" url
layer_size build-arm-m4 "client" client client_pool client_send client_recv client_sync
layer_size build-arm-m4 "loop + stream + tcp" alloc addr loop loop_poll stream stream_read tcp resolve
layer_size build-arm-m4 "server core" server server_conn server_req server_res router

# The lwIP platform port, compile-checked against stub lwIP headers
# (ports/stub/include/lwip): the real lwIP is the target's.
for cpu in cortex-m4 cortex-m0plus; do
  arm-none-eabi-gcc -std=c11 -mcpu=$cpu -mthumb -Os -Wall -Wextra -Werror -Wshadow \
    -Wstrict-prototypes -Wmissing-prototypes -Iinclude -Isrc -Iports/stub/include \
    -c ports/lwip/net_lwip.c -o "build-arm-m4/net_lwip_$cpu.o"
done
arm-none-eabi-size "build-arm-m4/net_lwip_cortex-m4.o" | tail -1 |
  awk '{ printf "  %-28s text %6d  data %4d  bss %4d\n", "platform: lwIP port", $1, $2, $3 }'
