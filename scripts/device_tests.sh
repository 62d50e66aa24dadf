#!/bin/sh
# The firmware on an emulated board (make check runs this): builds it
# (scripts/device.sh: linger's server on lwIP's raw API for QEMU's
# mps2-an386), boots it in qemu-system-arm with user-mode networking, and
# tests it from the host over 127.0.0.1 (tests/device/test_device.py,
# through ctest in build-device/fw).
set -eu
cd "$(dirname "$0")/.."
for tool in qemu-system-arm curl python3; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "device tests: $tool is missing (scripts/deps.sh check installs it)" >&2
    exit 1
  }
done
scripts/device.sh build
ctest --test-dir build-device/fw --output-on-failure -V
