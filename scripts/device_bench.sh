#!/bin/sh
# Requests per second through QEMU (not part of make check): linger's
# firmware and lwIP's httpd firmware (make device), each booted with
# scripts/run-device.sh and loaded with wrk over 127.0.0.1, in the same
# run, alternating, ROUNDS times. The board is emulated and the host's
# load shows in every figure: only the ratios mean anything.
#
#   scripts/device_bench.sh [SECONDS] [ROUNDS]
set -eu
cd "$(dirname "$0")/.."
SECS=${1:-5}
ROUNDS=${2:-3}
command -v wrk >/dev/null 2>&1 || { echo "device bench: wrk is missing (scripts/deps.sh bench)" >&2; exit 1; }
scripts/device.sh build >/dev/null

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

run() { # $1 firmware, $2 path, $3 close|keep-alive; prints requests/s
  port=$(free_port)
  rm -f "build-device/bench-$1.log"
  scripts/run-device.sh "$port" "build-device/fw/$1.elf" >/dev/null 2>"build-device/bench-$1.log" &
  pid=$!
  i=0
  until grep -q "answers" "build-device/bench-$1.log" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 200 ] || { echo "device bench: $1 did not start" >&2; kill $pid; exit 1; }
    sleep 0.1
  done
  hdr=""
  [ "$3" = close ] && hdr="Connection: close"
  wrk -t1 -c3 -d"${SECS}s" ${hdr:+-H "$hdr"} "http://127.0.0.1:$port$2" 2>&1 | tee "build-device/bench-$1-$3.wrk" |
    awk '/Requests\/sec/ { printf "%d", $2 } /Non-2xx|Socket errors/ { err = err " [" $0 "]" }
         END { if (err != "") printf "%s", err }'
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

printf 'requests/s through QEMU (mps2-an386, user-mode network), wrk -t1 -c3, %s s each\n' "$SECS"
printf '%-6s %-28s %-28s %-28s\n' round "lwIP httpd, GET /hello" "linger, GET /hello" "linger, keep-alive"
r=1
while [ $r -le "$ROUNDS" ]; do
  a=$(run lwip-httpd /hello close)
  b=$(run linger-device /hello close)
  c=$(run linger-device /hello keep-alive)
  printf '%-6s %-28s %-28s %-28s\n' "$r" "$a" "$b" "$c"
  r=$((r + 1))
done
printf '(lwIP httpd answers HTTP/1.0 and closes: every request is a new connection, and\n'
printf ' the first two columns ask for that; the third keeps its three connections: the\n'
printf ' device has four, and one retired after 1,000 requests lingers while its successor\n'
printf ' connects)\n'
