#!/bin/sh
# Code size of the peers that can be measured here, next to linger's codec,
# with the same compiler and flags: tab-separated lines for bench/report.py
#   TARGET  NAME  TEXT  DATA  BSS  HOW
# Cortex-M4: llhttp's C sources (Debian's node-llhttp) cross-compiled as
# scripts/size.sh compiles linger (-mcpu=cortex-m4 -mthumb -Os
# -ffunction-sections -fdata-sections), object sizes before linking, as
# size.sh counts them. x86-64 -O2: linger's codec objects from the bench
# build, llhttp compiled here, and Debian's libhttp_parser.a as shipped
# (-O2). picohttpparser has no sources on this machine (Debian ships it
# inside libh2o.so), so it has no row.
# Usage: bench/size_peers.sh [out.tsv]   (default: standard output)
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-bench}
out=${1:-/dev/stdout}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/rows"

row() { # target name how objects...
  t=$1; n=$2; h=$3; shift 3
  sz=$1; shift
  "$sz" -t "$@" 2>/dev/null | tail -1 |
    awk -v t="$t" -v n="$n" -v h="$h" '{ printf "%s\t%s\t%d\t%d\t%d\t%s\n", t, n, $1, $2, $3, h }' \
      >>"$tmp/rows"
}

LLHTTP=/usr/share/llhttp
LLHTTP_INC=""
for d in /usr/share/include/llhttp /usr/include/llhttp /usr/include; do
  [ -f "$d/llhttp.h" ] && LLHTTP_INC=$d && break
done

if command -v arm-none-eabi-gcc >/dev/null 2>&1 && [ -f "$LLHTTP/llhttp.c" ] && [ -n "$LLHTTP_INC" ]; then
  ok=1
  for f in llhttp api http; do
    arm-none-eabi-gcc -std=c11 -mcpu=cortex-m4 -mthumb -Os -ffunction-sections -fdata-sections \
      -w -I"$LLHTTP_INC" -c "$LLHTTP/$f.c" -o "$tmp/arm_$f.o" || ok=0
  done
  [ $ok = 1 ] && row cortex-m4 llhttp "measured: Debian's node-llhttp sources, arm-none-eabi-gcc -Os" \
    arm-none-eabi-size "$tmp/arm_llhttp.o" "$tmp/arm_api.o" "$tmp/arm_http.o"
fi

if [ -f "$LLHTTP/llhttp.c" ] && [ -n "$LLHTTP_INC" ]; then
  ok=1
  for f in llhttp api http; do
    ${CC:-cc} -O2 -w -I"$LLHTTP_INC" -c "$LLHTTP/$f.c" -o "$tmp/x86_$f.o" || ok=0
  done
  [ $ok = 1 ] && row x86-64 llhttp "measured: Debian's node-llhttp sources, -O2" \
    size "$tmp/x86_llhttp.o" "$tmp/x86_api.o" "$tmp/x86_http.o"
fi

for a in /usr/lib/x86_64-linux-gnu/libhttp_parser.a /usr/lib/libhttp_parser.a; do
  if [ -f "$a" ]; then
    row x86-64 http-parser "measured: Debian's libhttp_parser.a as shipped (-O2)" size "$a"
    break
  fi
done

# linger's codec (parse + body, with the character table) from the bench
# build (-O2, SSE2 on x86-64), the same objects size.sh counts for Arm.
objs=""
for o in http1_chars http1_parse http1_body; do
  f=$(find "$BUILD" -path "*CMakeFiles/linger.dir/*" -name "$o.c.o" 2>/dev/null | head -1)
  [ -n "$f" ] && objs="$objs $f"
done
[ -n "$objs" ] && row x86-64 "linger codec (parse + body)" "measured: the bench build, -O2" size $objs

cat "$tmp/rows" >"$out"
