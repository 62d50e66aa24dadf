#!/bin/sh
# The loop at scale: 100,000 timers (start, move, stop, fire) and 10,000
# idle connections per backend (memory per connection, an idle iteration, a
# round trip among the idle). Usage: bench/loop.sh [rounds [timers [conns]]]
# BUILD selects the build directory (default build-bench).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-bench}
JOBS=$(nproc 2>/dev/null || echo 2)
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLINGER_TESTS=OFF \
  -DLINGER_EXAMPLES=OFF >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target bench_loop >/dev/null
pin=""
if command -v taskset >/dev/null 2>&1; then
  pin="taskset -c $(($(nproc) - 1))"
fi
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')"
$pin "$BUILD/bench/bench_loop" "$@"
