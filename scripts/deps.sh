#!/bin/sh
# Installs the Debian packages linger's tests (or benchmarks) need, when they
# are missing. Usage: scripts/deps.sh [check|bench|all]
# Exits non-zero with a message saying what is missing when it cannot install.
set -eu

CHECK_PKGS="cmake make gcc clang libclang-rt-14-dev libfuzzer-14-dev
  gcc-arm-none-eabi libnewlib-arm-none-eabi gcc-riscv64-unknown-elf libnewlib-dev qemu-user
  qemu-system-arm dpkg-dev xz-utils
  liblwip-dev pkg-config picolibc-riscv64-unknown-elf libmbedtls-dev libssl-dev openssl
  curl nginx-light python3 python3-aiohttp python3-pytest python3-websockets iproute2 valgrind chromium
  libffi-dev libwebsockets-dev libcjson-dev"
BENCH_PKGS="wrk libh2o-dev node-llhttp libhttp-parser-dev libmicrohttpd-dev
  libcivetweb-dev civetweb libcurl4-openssl-dev gnuplot-nox nginx-light"

case "${1:-check}" in
  check) WANT="$CHECK_PKGS" ;;
  bench) WANT="$BENCH_PKGS" ;;
  all) WANT="$CHECK_PKGS $BENCH_PKGS" ;;
  *) echo "usage: $0 [check|bench|all]" >&2; exit 2 ;;
esac

missing=""
for p in $WANT; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing missing Debian packages:$missing" >&2
if [ "$(id -u)" != 0 ]; then
  echo "deps: not root; install them with: sudo apt-get install$missing" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "deps: apt-get not found; this script knows Debian only. Install:$missing" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends $missing >/tmp/linger-deps.log 2>&1; then
  apt-get update >>/tmp/linger-deps.log 2>&1 || true
  if ! apt-get install -y --no-install-recommends $missing >>/tmp/linger-deps.log 2>&1; then
    echo "deps: apt-get could not install:$missing (log: /tmp/linger-deps.log)" >&2
    tail -5 /tmp/linger-deps.log >&2
    exit 1
  fi
fi
echo "deps: installed:$missing" >&2
