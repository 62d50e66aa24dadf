#!/bin/sh
# linger next to nginx, libmicrohttpd and civetweb serving "Hello, World!",
# in one run: req/s, server CPU time per request, ratios to nginx, and
# memory per idle connection. Usage: bench/http/run.sh [rounds]  (default 5)
# Knobs (environment): see bench/http/run.py. BUILD selects the build
# directory (default build-bench). Peers come from Debian packages:
# scripts/deps.sh bench installs them; a missing peer drops its rows.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build-bench}
JOBS=$(nproc 2>/dev/null || echo 2)

# -O2, as Debian builds the peers' packages.
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLINGER_TESTS=OFF \
  -DLINGER_EXAMPLES=OFF -DLINGER_TOOLS=ON >/dev/null
cmake --build "$BUILD" -j "$JOBS" >/dev/null

echo "compiler: $(${CC:-cc} --version | head -1)"
BUILD="$BUILD" exec /usr/bin/python3 bench/http/run.py "$@"
