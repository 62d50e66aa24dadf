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
#
# LINGER_SIZE_NET=lwip_raw: linger's lwIP raw-API port instead (NO_SYS=1,
# as MicroPython's rp2 port runs lwIP), compiled against lwIP 2.1's own
# headers (LWIP_INCLUDE: Debian's liblwip-dev, /usr/include/lwip) and
# device/'s lwipopts.h. LINGER_SIZE_CPU=cortex-m0plus (the RP2040's core):
# the module's objects for that CPU (MicroPython's core stays Cortex-M4;
# only the module's share is read then).
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
NET=${LINGER_SIZE_NET:-lwip}
CPU=${LINGER_SIZE_CPU:-cortex-m4}
case $NET in
  lwip) INC=$ROOT/ports/stub/include ;;
  lwip_raw)
    LWIP_INCLUDE=${LWIP_INCLUDE:-/usr/include/lwip}
    [ -f "$LWIP_INCLUDE/lwip/tcp.h" ] || { echo "no lwIP headers in $LWIP_INCLUDE (Debian: liblwip-dev)" >&2; exit 1; }
    INC="$ROOT/device $LWIP_INCLUDE" ;;
  *) echo "LINGER_SIZE_NET: lwip or lwip_raw" >&2; exit 1 ;;
esac
L=$L-$NET-$CPU
MOD="USER_C_MODULES=$ROOT/bindings/micropython LINGER_NET=$NET"
MODX="LINGER_CFLAGS=-mcpu=$CPU"
MODI="LINGER_LWIP_INCLUDE=$INC"
# bare-arm links MicroPython's core only: build the firmware (its qstrs
# and module table now name _linger), then the module's objects, and link
# them all ourselves.
# shellcheck disable=SC2086
make -j"$JOBS" BUILD=$L $MOD "$MODX" "$MODI" LDFLAGS_USERMOD=--unresolved-symbols=ignore-all \
  >"$OUT/size-linger.log" 2>&1 || { tail "$OUT/size-linger.log"; exit 1; }
mods=$(make -s -f - BUILD=$L $MOD "$MODX" "$MODI" print-mod <<'EOF'
include Makefile
print-mod:
	@echo $(filter-out $(PY_CORE_O),$(PY_O))
EOF
)
mods=$(echo "$mods" | tail -1) # (after make's "Including User C Module" line)
for o in $mods; do mkdir -p "$(dirname "$o")"; done
# shellcheck disable=SC2086
# (bare-arm sets -mcpu after the module's flags: the module's own -mcpu
# goes last, here)
make -j"$JOBS" -f - BUILD=$L $MOD "$MODX" "$MODI" $mods >>"$OUT/size-linger.log" 2>&1 <<'EOF' || { tail "$OUT/size-linger.log"; exit 1; }
include Makefile
CFLAGS += $(LINGER_CFLAGS)
EOF
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
lib=$(part '/(src|ports/lwip|ports/lwip_raw)/[a-z0-9_]+\.o')
echo "bare-arm (Cortex-M4, -Os) firmware text+data: $base bytes without _linger, $with with it ($NET; the module's objects for $CPU)"
echo "_linger adds $((with - base)) bytes: the binding $glue, linger (server, client, $NET port) $lib, MicroPython's qstrs and tables the rest"
