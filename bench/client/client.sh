#!/bin/sh
# The client against curl and libcurl, both against nginx over loopback
# (see client.py). Usage: bench/client/client.sh [client.py options]
# BUILD selects the build directory (default build-bench-client).
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build-bench-client}
JOBS=$(nproc 2>/dev/null || echo 2)
# -O2, as Debian builds curl and libcurl, so that both sides compare alike.
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLINGER_TESTS=OFF \
  -DLINGER_EXAMPLES=OFF >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target linger_cli bench_rps_linger >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target bench_rps_curl >/dev/null 2>&1 || true
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
exec "$PY" bench/client/client.py "$BUILD" "$@"
