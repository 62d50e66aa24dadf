#!/bin/sh
# Code size of the parsers that can be measured here, linger's codec among
# them, with the same compiler and flags: tab-separated lines for
# bench/report.py
#   TARGET  NAME  TEXT  DATA  BSS  HOW
# Cortex-M4 (-mcpu=cortex-m4 -mthumb -Os -ffunction-sections
# -fdata-sections, as scripts/size.sh builds linger), counted as make size
# counts linger: what the linker keeps of the parser in a small program that
# parses a request head and its body (linger_codec_app.c, llhttp_app.c;
# --gc-sections; summed from the map by mapsum.awk; the stand-ins of
# libc_stubs.c not counted), and the sum of its objects. llhttp comes from
# Debian's node-llhttp sources; linger is built for it in build-bench-arm.
# x86-64 -O2: linger's codec objects from the bench build, llhttp compiled
# here, and Debian's libhttp_parser.a as shipped (-O2). picohttpparser has
# no sources on this machine (Debian ships it inside libh2o.so): no row.
# Usage: bench/size/peers.sh [out.tsv]   (default: standard output)
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build-bench}
ARM_BUILD=${ARM_BUILD:-build-bench-arm}
JOBS=$(nproc 2>/dev/null || echo 2)
out=${1:-/dev/stdout}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/rows"
M4="-mcpu=cortex-m4 -mthumb -Os -ffunction-sections -fdata-sections"

sizes() { # target name how size-tool objects...
  t=$1; n=$2; h=$3; sz=$4; shift 4
  "$sz" -t "$@" 2>/dev/null | tail -1 |
    awk -v t="$t" -v n="$n" -v h="$h" '{ printf "%s\t%s\t%d\t%d\t%d\t%s\n", t, n, $1, $2, $3, h }' \
      >>"$tmp/rows"
}

# linked NAME ARCHIVE APP_SOURCE CFLAGS...: links the app with the archive
# and the stand-ins, and adds what the linker kept of the archive.
linked() {
  n=$1; a=$2; app=$3; shift 3
  arm-none-eabi-gcc -std=c11 $M4 -fno-builtin -Wall -Wextra -Werror "$@" -c "$app" \
    -o "$tmp/app.o" &&
    arm-none-eabi-gcc -std=c11 $M4 -fno-builtin -Wall -Wextra -Werror -c bench/size/libc_stubs.c \
      -o "$tmp/stubs.o" &&
    arm-none-eabi-gcc $M4 -nostdlib -Wl,--gc-sections -Wl,-e,main -Wl,-Map="$tmp/app.map" \
      -o "$tmp/app.elf" "$tmp/app.o" "$a" "$tmp/stubs.o" -lgcc || return 1
  awk -v lib="$(basename "$a")" -f bench/size/mapsum.awk "$tmp/app.map" |
    awk -v n="$n" '{ printf "cortex-m4\t%s\t%d\t%d\t%d\t%s\n", n, $1, $2, $3,
      "measured: linked in a program parsing a request head and body, --gc-sections" }' \
      >>"$tmp/rows"
}

if command -v arm-none-eabi-gcc >/dev/null 2>&1; then
  # linger, as make size builds it (full configuration).
  if cmake -S . -B "$ARM_BUILD" -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake \
       -DLINGER_ARM_CPU=cortex-m4 -DCMAKE_BUILD_TYPE=MinSizeRel -DLINGER_PORTABLE_ONLY=ON \
       >"$tmp/arm.log" 2>&1 &&
     cmake --build "$ARM_BUILD" -j "$JOBS" >>"$tmp/arm.log" 2>&1; then
    linked "linger codec (linked)" "$ARM_BUILD/liblinger.a" bench/size/linger_codec_app.c \
      -Iinclude
    objs=""
    for o in http1_chars http1_parse http1_body; do
      f=$(find "$ARM_BUILD" -name "$o.c.obj" -o -name "$o.c.o" | head -1)
      [ -n "$f" ] && objs="$objs $f"
    done
    # shellcheck disable=SC2086
    [ -n "$objs" ] && sizes cortex-m4 "linger codec (sum of objects)" \
      "measured: parse + body objects, as make size counts them" arm-none-eabi-size $objs
  else
    echo "bench/size/peers.sh: the Cortex-M4 build of linger failed; see below" >&2
    tail -20 "$tmp/arm.log" >&2
  fi
fi

LLHTTP=/usr/share/llhttp
LLHTTP_INC=""
for d in /usr/share/include/llhttp /usr/include/llhttp /usr/include; do
  [ -f "$d/llhttp.h" ] && LLHTTP_INC=$d && break
done

if command -v arm-none-eabi-gcc >/dev/null 2>&1 && [ -f "$LLHTTP/llhttp.c" ] && [ -n "$LLHTTP_INC" ]; then
  ok=1
  for f in llhttp api http; do
    # Foreign code: built as its authors ship it, not held to our warnings.
    arm-none-eabi-gcc -std=c11 $M4 -w -I"$LLHTTP_INC" -c "$LLHTTP/$f.c" -o "$tmp/arm_$f.o" || ok=0
  done
  if [ $ok = 1 ]; then
    arm-none-eabi-ar rcs "$tmp/libllhttp.a" "$tmp/arm_llhttp.o" "$tmp/arm_api.o" "$tmp/arm_http.o"
    linked "llhttp (linked)" "$tmp/libllhttp.a" bench/size/llhttp_app.c -I"$LLHTTP_INC"
    sizes cortex-m4 "llhttp (sum of objects)" "measured: Debian's node-llhttp sources" \
      arm-none-eabi-size "$tmp/arm_llhttp.o" "$tmp/arm_api.o" "$tmp/arm_http.o"
  fi
fi

# x86-64, -O2: linger's codec from the bench build (SSE2 scanners
# included), llhttp, and http-parser as Debian ships it.
objs=""
for o in http1_chars http1_parse http1_body; do
  f=$(find "$BUILD" -path "*CMakeFiles/linger.dir/*" -name "$o.c.o" 2>/dev/null | head -1)
  [ -n "$f" ] && objs="$objs $f"
done
# shellcheck disable=SC2086
[ -n "$objs" ] && sizes x86-64 "linger codec (sum of objects)" \
  "measured: the bench build (-O2, SSE2)" size $objs

if [ -f "$LLHTTP/llhttp.c" ] && [ -n "$LLHTTP_INC" ]; then
  ok=1
  for f in llhttp api http; do
    ${CC:-cc} -O2 -w -I"$LLHTTP_INC" -c "$LLHTTP/$f.c" -o "$tmp/x86_$f.o" || ok=0
  done
  [ $ok = 1 ] && sizes x86-64 "llhttp (sum of objects)" "measured: Debian's node-llhttp sources, -O2" \
    size "$tmp/x86_llhttp.o" "$tmp/x86_api.o" "$tmp/x86_http.o"
fi

for a in /usr/lib/x86_64-linux-gnu/libhttp_parser.a /usr/lib/libhttp_parser.a; do
  if [ -f "$a" ]; then
    sizes x86-64 "http-parser (sum of objects)" "measured: Debian's libhttp_parser.a (-O2)" size "$a"
    break
  fi
done

cat "$tmp/rows" >"$out"
