#!/bin/sh
# The flash the _linger module costs a MicroPython firmware on Cortex-M4
# (docs/micropython.md): MicroPython's bare-arm port (STM32F405, -Os,
# arm-none-eabi-gcc) linked with --gc-sections once without the module and
# once with it -- the binding's C and linger's portable layers with its
# lwIP port (LINGER_NET=lwip; stand-in lwIP headers, ports/stub/include) --
# and the difference, with the share of each part from the linker's map.
# lwIP and the C library are not counted: a firmware with networking has
# them already (calls to them are left unresolved here).
#
# bare-arm is MicroPython's smallest configuration (no error texts, no
# unicode checks): a fuller port (esp32, rp2) compiles the binding's few
# messages in too. Needs `make micropython` first (the unpacked sources).
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${LINGER_MPY_BUILD:-$ROOT/build-micropython}
PORT="$OUT/micropython/ports/bare-arm"
[ -d "$PORT" ] || { echo "run make micropython first (it unpacks the sources)" >&2; exit 1; }
JOBS=${JOBS:-2}
B=build-size-base
L=build-size-linger
LD=arm-none-eabi-ld
LDFLAGS="-nostdlib -T stm32f405.ld --gc-sections --unresolved-symbols=ignore-all"

cd "$PORT"
make -j"$JOBS" BUILD=$B >"$OUT/size-base.log" 2>&1 || { tail "$OUT/size-base.log"; exit 1; }
MOD="USER_C_MODULES=$ROOT/bindings/micropython LINGER_NET=lwip LINGER_LWIP_INCLUDE=$ROOT/ports/stub/include"
# bare-arm links MicroPython's core only: build the firmware (its qstrs
# and module table now name _linger), then the module's objects, and link
# them all ourselves.
# shellcheck disable=SC2086
make -j"$JOBS" BUILD=$L $MOD LDFLAGS_USERMOD=--unresolved-symbols=ignore-all \
  >"$OUT/size-linger.log" 2>&1 || { tail "$OUT/size-linger.log"; exit 1; }
mods=$(make -s -f - BUILD=$L $MOD print-mod <<'EOF'
include Makefile
print-mod:
	@echo $(filter-out $(PY_CORE_O),$(PY_O))
EOF
)
mods=$(echo "$mods" | tail -1) # (after make's "Including User C Module" line)
for o in $mods; do mkdir -p "$(dirname "$o")"; done
# shellcheck disable=SC2086
make -j"$JOBS" BUILD=$L $MOD $mods >>"$OUT/size-linger.log" 2>&1 || { tail "$OUT/size-linger.log"; exit 1; }
core="$L/py/*.o $L/lib.o $L/main.o $L/system.o"
# shellcheck disable=SC2086
$LD $LDFLAGS -Map=$L/with.map -o $L/with.elf $core $mods
# shellcheck disable=SC2086
base=$(arm-none-eabi-size $B/firmware.elf | awk 'NR == 2 { print $1 + $2 }')
with=$(arm-none-eabi-size $L/with.elf | awk 'NR == 2 { print $1 + $2 }')
# The parts, from the map: input sections kept, by object
part() { # $1: a pattern of object paths
  awk -v pat="$1" '
    function hex(s,   i, n, c) {
      n = 0; s = tolower(substr(s, 3))
      for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; n = n * 16 + c }
      return n
    }
    /^Linker script and memory map/ { kept = 1 }  # (not the discarded sections above)
    !kept { next }
    /^ \.(text|rodata|data)/ && NF >= 4 && $4 ~ pat { s += hex($3) }
    /^ \.(text|rodata|data)[^ ]*$/ { sec = 1; next }
    sec && NF >= 3 && $3 ~ pat && $1 ~ /^0x/ { s += hex($2) }
    { sec = 0 }
    END { print s + 0 }' "$L/with.map"
}
glue=$(part '/linger/(modlinger|lgmp_)')
lib=$(part '/(src|ports/lwip)/[a-z0-9_]+\.o')
echo "bare-arm (Cortex-M4, -Os) firmware text+data: $base bytes without _linger, $with with it"
echo "_linger adds $((with - base)) bytes: the binding $glue, linger (server, client, lwIP port) $lib, MicroPython's qstrs and tables the rest"
