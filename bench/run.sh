#!/bin/sh
# Every benchmark, one after the other (make bench). Each prints medians of
# several rounds and ratios against peers measured in the same run.
set -eu
cd "$(dirname "$0")"
./parse.sh "$@"
./loop.sh
./http/run.sh
./client/client.sh
