#!/bin/sh
# lwIP's sources for the firmware (make device): Debian's lwip source
# package, fetched and unpacked into a build folder (build-device/ by
# default) by scripts/deb_source.sh — never copied into the repository.
# LWIP_DIR=<an lwIP 2.1 tree> skips all of it.
#
# Usage: scripts/lwip_source.sh [DIR]   (prints the tree's path)
set -eu
cd "$(dirname "$0")/.."
OUT=${1:-build-device}

if [ -n "${LWIP_DIR:-}" ]; then
  [ -f "$LWIP_DIR/src/core/tcp.c" ] || { echo "lwip: LWIP_DIR=$LWIP_DIR has no src/core/tcp.c" >&2; exit 1; }
  echo "$LWIP_DIR"
  exit 0
fi
scripts/deb_source.sh lwip src/core/tcp.c "$OUT" || {
  echo "lwip: give an lwIP 2.1 tree with LWIP_DIR=... instead." >&2
  exit 1
}
