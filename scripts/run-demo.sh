#!/bin/sh
# `make run`: the demo server on 127.0.0.1:8080, serving ./www under /static.
set -eu
BUILD=${1:-build}
cd "$(dirname "$0")/.."
echo "make run: starting the linger demo server on http://127.0.0.1:8080/ (Ctrl-C stops it)" >&2
exec "$BUILD/tools/linger" serve --host 127.0.0.1 --port 8080 --root www
