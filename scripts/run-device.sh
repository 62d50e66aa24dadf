#!/bin/sh
# Boots the firmware (make device) in QEMU's mps2-an386 board, with
# user-mode networking that forwards 127.0.0.1:PORT on this machine to the
# device's HTTP port (10.0.2.15:80 inside QEMU's private network; the
# guest reaches nothing else: restrict=on). Waits until the device
# answers, then keeps running in the foreground, the device's serial
# console on stdout, until it is stopped (Ctrl-C).
#
#   scripts/run-device.sh PORT [FIRMWARE.elf]
#   curl http://127.0.0.1:PORT/hello
#
# DEVICE_NAIVE_PORT=N also forwards 127.0.0.1:N to the firmware's naive
# server (port 81, for the tests). DEVICE_FETCH_PORT=N maps the address
# 10.0.2.100:80 of QEMU's network to a server on 127.0.0.1:N (guestfwd:
# QEMU connects to it when it starts, and it carries one connection), for
# the client in linger-client.elf.
set -eu
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 PORT [FIRMWARE.elf]" >&2; exit 2; }
PORT=$1
ELF=${2:-build-device/fw/linger-device.elf}
command -v qemu-system-arm >/dev/null 2>&1 || {
  echo "run-device: qemu-system-arm is missing (scripts/deps.sh check installs it)" >&2
  exit 1
}
[ -f "$ELF" ] || scripts/device.sh build >&2

# Something already answering there would be taken for the device.
if curl -s -o /dev/null -m 1 "http://127.0.0.1:$PORT/"; then
  echo "run-device: 127.0.0.1:$PORT is in use already" >&2
  exit 1
fi
fwd="hostfwd=tcp:127.0.0.1:$PORT-10.0.2.15:80"
if [ -n "${DEVICE_NAIVE_PORT:-}" ]; then
  fwd="$fwd,hostfwd=tcp:127.0.0.1:$DEVICE_NAIVE_PORT-10.0.2.15:81"
fi
if [ -n "${DEVICE_FETCH_PORT:-}" ]; then
  fwd="$fwd,guestfwd=tcp:10.0.2.100:80-tcp:127.0.0.1:$DEVICE_FETCH_PORT"
fi
qemu-system-arm -M mps2-an386 -display none -monitor none -serial stdio -kernel "$ELF" \
  -nic "user,model=lan9118,restrict=on,$fwd" </dev/null &
qemu=$!
trap 'kill "$qemu" 2>/dev/null || true' INT TERM EXIT HUP

i=0
# The device's page (device/www/index.html, which lwIP's httpd serves too).
until curl -s -m 1 "http://127.0.0.1:$PORT/" 2>/dev/null | grep -q "linger on a Cortex-M4"; do
  if ! kill -0 "$qemu" 2>/dev/null; then
    wait "$qemu" || true
    echo "run-device: QEMU exited (is 127.0.0.1:$PORT free?)" >&2
    exit 1
  fi
  i=$((i + 1))
  if [ "$i" -ge 150 ]; then
    echo "run-device: the device did not answer within 15 s" >&2
    exit 1
  fi
  sleep 0.1
done
echo "run-device: the device answers at http://127.0.0.1:$PORT/ (Ctrl-C stops it)" >&2
wait "$qemu"
