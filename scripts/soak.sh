#!/bin/sh
# `make soak`: a million requests (keep-alive and "Connection: close" mixed,
# with bodies) against `linger serve`; zero errors, and the server's memory
# and descriptors after equal those before. `scripts/soak.sh N THREADS
# BUILD` runs a shorter one (make check runs 20,000).
set -eu
N=${1:-1000000}
THREADS=${2:-4}
BUILD=${3:-build}
cd "$(dirname "$0")/.."
[ -x "$BUILD/tools/linger" ] && [ -x "$BUILD/tests/soak" ] || {
  cmake -S . -B "$BUILD" >/dev/null && cmake --build "$BUILD" -j "$(nproc)" --target linger_cli soak >/dev/null
}
LOG=$(mktemp)
"$BUILD/tools/linger" serve --quiet --host 127.0.0.1 --port 0 2>"$LOG" &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -f "$LOG"' EXIT
PORT=""
for i in $(seq 1 50); do
  PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$LOG")
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { echo "soak: the server did not start" >&2; cat "$LOG" >&2; exit 1; }
"$BUILD/tests/soak" "$PORT" "$PID" "$N" "$THREADS"
kill -TERM $PID
wait $PID
