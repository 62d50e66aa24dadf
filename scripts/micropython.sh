#!/bin/sh
# `make micropython`: MicroPython's unix port (standard variant) with linger
# compiled in as the user C module _linger (bindings/micropython/linger),
# built from the snapshots in ../shared/third_party (never copied into this
# repository: unpacked into the build folder). Prints the binary's path as
# its last line. Run applications with
#   MICROPYPATH=bindings/micropython/lib:.frozen <binary> app.py
#
# The build folder (build-micropython/, or $LINGER_MPY_BUILD) is kept: a
# second run rebuilds only what changed (linger's or the binding's sources),
# in seconds. The tests (tests/micropython/) use the same folder, also for
# the real Microdot and micropython-lib's aiohttp they run against.
#
# Environment: LINGER_THIRD_PARTY (where the snapshots are), JOBS (2).
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TP=${LINGER_THIRD_PARTY:-$ROOT/../shared/third_party}
OUT=${LINGER_MPY_BUILD:-$ROOT/build-micropython}
JOBS=${JOBS:-2}
MPY_TAR=micropython-1c3c201.tar.xz
LIB_TAR=micropython-lib-ee4bb8f.tar.xz
MICRODOT_TAR=microdot-118f4ef.tar.xz

for t in $MPY_TAR $LIB_TAR $MICRODOT_TAR; do
  if [ ! -f "$TP/$t" ]; then
    echo "micropython: $TP/$t not found (set LINGER_THIRD_PARTY to the folder with the snapshots)" >&2
    exit 1
  fi
done
if ! pkg-config --exists libffi 2>/dev/null; then
  echo "micropython: the unix port needs libffi's headers (Debian: libffi-dev; scripts/deps.sh installs it)" >&2
  exit 1
fi

mkdir -p "$OUT"
# One build at a time in the folder (ctest may run in two build trees).
if command -v flock >/dev/null 2>&1 && [ -z "${LINGER_MPY_LOCKED:-}" ]; then
  export LINGER_MPY_LOCKED=1
  exec flock "$OUT/.lock" "$0" "$@"
fi

# Unpack once per set of snapshots (the stamp names them).
stamp="$MPY_TAR $LIB_TAR $MICRODOT_TAR"
if [ "$(cat "$OUT/.unpacked" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$OUT/micropython" "$OUT/micropython-lib" "$OUT/microdot"
  tar xJf "$TP/$MPY_TAR" -C "$OUT"
  tar xJf "$TP/$LIB_TAR" -C "$OUT"
  tar xJf "$TP/$MICRODOT_TAR" -C "$OUT"
  rmdir "$OUT/micropython/lib/micropython-lib"
  mv "$OUT/micropython-lib" "$OUT/micropython/lib/micropython-lib"
  echo "$stamp" >"$OUT/.unpacked"
fi

# MicroPython's make tracks headers, not flags: when the module's build
# file (its options) changed, its objects are made again.
mk="$ROOT/bindings/micropython/linger/micropython.mk"
objs="$OUT/micropython/ports/unix/build-standard"
if [ "$(cksum <"$mk")" != "$(cat "$OUT/.module-mk" 2>/dev/null)" ]; then
  rm -rf "$objs/linger" "$objs$ROOT"
  cksum <"$mk" >"$OUT/.module-mk"
fi

# The frozen modules' qstrs are made once and not again when the module
# gains a name that frozen code also uses (a clash at compile time): after
# the binding changed, they are made again (seconds).
frozen="$objs/frozen_content.c"
if [ -f "$frozen" ] && [ -n "$(find "$ROOT/bindings/micropython/linger" -newer "$frozen" -name '*.[ch]' | head -1)" ]; then
  rm -f "$frozen"
fi

log="$OUT/build.log"
: >"$log"
if ! make -C "$OUT/micropython/mpy-cross" -j"$JOBS" >>"$log" 2>&1; then
  tail -30 "$log" >&2
  echo "micropython: mpy-cross failed (log: $log)" >&2
  exit 1
fi
# BTREE and SSL are left out (their libraries are not in the snapshot's
# submodules); the standard variant freezes asyncio from micropython-lib.
# LINGER_LOCK_CHECK: the module checks that every call into linger's
# platform holds the lwIP lock and that Python never runs with it (the lock
# rp2 needs; lgmp_lock.h), aborting on a breach: every test runs with it.
if ! make -C "$OUT/micropython/ports/unix" VARIANT=standard MICROPY_PY_BTREE=0 \
    MICROPY_SSL_AXTLS=0 MICROPY_PY_SSL=0 USER_C_MODULES="$ROOT/bindings/micropython" \
    LINGER_LOCK_CHECK=1 -j"$JOBS" >>"$log" 2>&1; then
  grep -E 'error|warning' "$log" | head -30 >&2 || true
  tail -20 "$log" >&2
  echo "micropython: the unix port failed to build (log: $log)" >&2
  exit 1
fi
bin="$OUT/micropython/ports/unix/build-standard/micropython"
"$bin" -c "import _linger" || { echo "micropython: $bin has no _linger" >&2; exit 1; }
echo "$bin"
