#!/bin/sh
# `make run`: until the server lands, a codec demo — parse a sample request
# and print what the codec saw, as JSON.
set -eu
BUILD=${1:-build}
echo "linger codec demo: parsing a sample request (the server is not built yet)" >&2
printf 'POST /items/42?color=red HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"name":"x"}\n' \
  | "$BUILD/tools/linger" parse
