#!/bin/sh
# mbedTLS's sources, for the TLS transport's cross builds and `make size`
# (scripts/tls_cross.sh): Debian's mbedtls source package (2.28, the line
# ESP-IDF 4.x ships), fetched with `apt-get source mbedtls` through
# scripts/deb_source.sh into a build folder (build-tls/ by default), once.
# MBEDTLS_DIR=<an mbedTLS 2.28 or 3.x tree> skips all of it.
#
# Usage: scripts/mbedtls_source.sh [DIR]   (prints the tree's path)
set -eu
cd "$(dirname "$0")/.."
OUT=${1:-build-tls}
MARKER=library/ssl_tls.c
if [ -n "${MBEDTLS_DIR:-}" ]; then
  [ -f "$MBEDTLS_DIR/$MARKER" ] || { echo "mbedtls: MBEDTLS_DIR=$MBEDTLS_DIR has no $MARKER" >&2; exit 1; }
  echo "$MBEDTLS_DIR"
  exit 0
fi
mkdir -p "$OUT"
scripts/deb_source.sh mbedtls "$MARKER" "$OUT" || {
  echo "mbedtls: no mbedTLS source: the TLS cross builds need one (MBEDTLS_DIR=... to give it)" >&2
  exit 1
}
