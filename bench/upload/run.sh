#!/bin/sh
# Uploads, in one run: multipart parsing throughput (MB/s, one core)
# against libmicrohttpd's MHD_PostProcessor on the same bytes, and the
# upload route's server CPU per MB against nginx's request-body buffering.
# Usage: bench/upload/run.sh [rounds] [size_mib]   (default 11 and 64)
# BUILD selects the build directory (default build-bench). Peers come from
# Debian packages (libmicrohttpd-dev, nginx-light): scripts/deps.sh bench.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build-bench}
JOBS=$(nproc 2>/dev/null || echo 2)

# -O2, as Debian builds the peers' packages.
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLINGER_TESTS=OFF \
  -DLINGER_EXAMPLES=OFF -DLINGER_TOOLS=ON >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target bench_multipart bench_drop_server linger_cli >/dev/null

pin=""
if command -v taskset >/dev/null 2>&1; then
  pin="taskset -c $(($(nproc) - 1))"
fi
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
$pin "$BUILD/bench/bench_multipart" "${1:-11}"
echo
/usr/bin/python3 bench/upload/route.py "$BUILD" "${1:-11}" "${2:-64}"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
