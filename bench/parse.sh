#!/bin/sh
# Head parsing throughput of linger against picohttpparser, llhttp and
# http-parser, in one run. Usage: bench/parse.sh [rounds]   (default 11)
# BUILD selects the build directory (default build-bench). The peers come
# from Debian packages: scripts/deps.sh bench installs them.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-bench}
JOBS=$(nproc 2>/dev/null || echo 2)

# The same optimisation level Debian builds its packages with (-O2), so
# that linger and the peers from Debian's libraries compare like for like.
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLINGER_TESTS=OFF \
  -DLINGER_EXAMPLES=OFF -DLINGER_TOOLS=OFF >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target bench_parse >/dev/null

# One core, the same one for every parser: the last, which the shell and
# the build are least likely to be using.
pin=""
if command -v taskset >/dev/null 2>&1; then
  cpu=$(($(nproc) - 1))
  pin="taskset -c $cpu"
fi

echo "cpu: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')"
echo "compiler: $(${CC:-cc} --version | head -1)"
$pin "$BUILD/bench/bench_parse" "${1:-11}"
