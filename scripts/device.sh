#!/bin/sh
# `make device`: the firmware for QEMU's mps2-an386 board (device/): linger's
# server on lwIP's raw API with no operating system, built with
# arm-none-eabi-gcc -Os against Debian's lwIP sources (scripts/lwip_source.sh
# unpacks them into build-device/, never into the repository), and lwIP's
# own httpd built the same way for comparison. Prints what each takes of
# flash and RAM, by component.
#
#   scripts/device.sh          build, print the sizes
#   scripts/device.sh build    build only
#
# scripts/run-device.sh PORT boots the firmware; scripts/device_tests.sh
# tests it.
set -eu
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
OUT=build-device
mkdir -p "$OUT"

for tool in arm-none-eabi-gcc cmake; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "device: $tool is missing (scripts/deps.sh check installs it)" >&2
    exit 1
  }
done
lwip=$(scripts/lwip_source.sh "$OUT")
lwip=$(cd "$lwip" && pwd -P)
cmake -S device -B "$OUT/fw" -DCMAKE_TOOLCHAIN_FILE="$(pwd)/cmake/arm-none-eabi.cmake" \
  -DCMAKE_BUILD_TYPE=MinSizeRel -DLWIP_DIR="$lwip" >"$OUT/cmake.log" 2>&1 || {
  cat "$OUT/cmake.log"
  exit 1
}
cmake --build "$OUT/fw" -j "$JOBS" >"$OUT/build.log" 2>&1 || {
  grep -E 'error|warning' "$OUT/build.log" || tail -20 "$OUT/build.log"
  exit 1
}
echo "device: $OUT/fw/linger-device.elf (lwIP's httpd: lwip-httpd.elf; with linger's client: linger-client.elf)"
[ "${1:-}" = build ] && exit 0

# Flash (text + data) and RAM (data + bss + the 8 KiB stack), by component,
# from the linker map: what the linker kept of each file.
split() { # $1 = program
  awk -f scripts/mapsize.awk "$OUT/fw/$1.map" | awk -v prog="$1" '
    function part(f) {
      if (f ~ /net_lwip_raw/) return "linger: lwIP raw-API port"
      if (f ~ /^liblinger_with_client/) return "linger: server, client, stream, loop, codec"
      if (f ~ /^liblinger/) return "linger: server, stream, loop, codec"
      if (f ~ /^(httpd|fs)\.c/) return "lwIP httpd app (+ its pages)"
      if (f ~ /^liblwip/) return "lwIP: TCP, IPv4, ARP, Ethernet, pools"
      if (f ~ /^memory\.c/) return "linger memory: server block, start-up arena"
      if (f ~ /^(startup|board|lan9118)\.c/) return "board: start-up, clock, UART, LAN9118 driver"
      if (f ~ /^lib(c|c_nano|gcc|g|nosys)\.a/) return "C library, compiler runtime"
      return "application (routes, page)"
    }
    { p = part($1); t[p] += $2; d[p] += $3; b[p] += $4; T += $2; D += $3; B += $4 }
    END {
      printf "%s\n  %-46s %8s %8s\n", prog, "component", "flash", "RAM"
      n = split("linger: server, stream, loop, codec|linger: server, client, stream, loop, codec|linger: lwIP raw-API port|lwIP httpd app (+ its pages)|lwIP: TCP, IPv4, ARP, Ethernet, pools|board: start-up, clock, UART, LAN9118 driver|application (routes, page)|linger memory: server block, start-up arena|C library, compiler runtime", order, "|")
      for (i = 1; i <= n; i++) if ((order[i] in t) || (order[i] in b))
        printf "  %-46s %8d %8d\n", order[i], t[order[i]] + d[order[i]], d[order[i]] + b[order[i]]
      printf "  %-46s %8d %8d\n", "stack", 0, 8192
      printf "  %-46s %8d %8d\n", "total", T + D, D + B + 8192
    }'
}
printf '\nflash and RAM, bytes (arm-none-eabi-gcc -Os, Cortex-M4; RAM = data + bss + stack)\n'
split linger-device
split lwip-httpd
split linger-client
