#!/bin/sh
# linger's TLS server and client (mbedTLS, and OpenSSL where built) next to
# nginx's and curl's, in one run:
# full and resumed handshakes/s, keep-alive GET /hello and a 100 MiB
# download over TLS, with ECDSA P-256 and RSA-2048 certificates and the
# same suite on both sides; medians and ratios (see bench/tls/run.py).
# Usage: bench/tls/run.sh   Knobs (environment): ROUNDS, DURATION, PAR,
# CONNS, KEYS; BUILD selects the build directory (default build-bench-tls).
# Needs nginx-light, wrk, curl, openssl (scripts/deps.sh bench, check).
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build-bench-tls}
JOBS=$(nproc 2>/dev/null || echo 2)
# -O2, as Debian builds nginx, OpenSSL and mbedTLS.
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLINGER_TESTS=OFF \
  -DLINGER_EXAMPLES=OFF -DLINGER_TOOLS=ON -DLINGER_TLS=ON >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target linger_cli >/dev/null
# the OpenSSL transport's tool too, where OpenSSL is found (linger-openssl)
if grep -q "^LINGER_TLS_OPENSSL:BOOL=ON" "$BUILD/CMakeCache.txt"; then
  cmake --build "$BUILD" -j "$JOBS" --target linger_cli_openssl >/dev/null
fi
echo "linger $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(/usr/sbin/nginx -v 2>&1), $(openssl version)"
BUILD="$BUILD" exec /usr/bin/python3 bench/tls/run.py "$@"
