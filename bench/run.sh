#!/bin/sh
# Every benchmark, one after the other, then the report (make bench):
#   parse    head parsing against picohttpparser, llhttp, http-parser
#   loop     timers and idle connections at scale
#   http     servers side by side: throughput per mode, req/s against
#            connections, one loop per core, latency at fixed rates, memory
#   client   linger's client against curl and libcurl
#   size     flash per configuration (scripts/size.sh) and the peers' code
#            size (bench/size/peers.sh)
#   ws       WebSocket servers side by side (bench/ws/run.py): only with
#            ONLY=ws; the report does not read it yet (docs/benchmarks.md
#            quotes its figures by hand)
# Each writes its figures, every round of them, under RESULTS (default
# build-bench/results; the previous run's move to RESULTS.prev), and
# bench/report.py turns them into docs/benchmarks.md and docs/img/*.png.
# A benchmark that fails, or a peer that is missing, leaves its rows out of
# the report; it never stops the others.
#
# Usage: bench/run.sh [parse rounds]
#   QUICK=1       a fast pass (fewer, shorter rounds: about 3 minutes); the
#                 report says it was one
#   ONLY="http size"   run only these benchmarks (the report still reads
#                 whatever RESULTS holds)
#   REPORT=0      no report; REPORT_DIR (default docs) where it goes
# Every knob of a benchmark (ROUNDS, DURATION, ... see bench/http/run.py)
# still works and wins over QUICK's.
set -u
cd "$(dirname "$0")/.."
RESULTS=${RESULTS:-build-bench/results}
QUICK=${QUICK:-0}
ONLY=${ONLY:-parse loop http client size}
export RESULTS

if [ "$ONLY" = "parse loop http client size" ]; then
  rm -rf "$RESULTS.prev"
  [ -d "$RESULTS" ] && mv "$RESULTS" "$RESULTS.prev"
fi
mkdir -p "$RESULTS"
case "$RESULTS" in /*) abs=$RESULTS ;; *) abs=$(pwd)/$RESULTS ;; esac

if [ "$QUICK" = 1 ]; then
  parse_rounds=${1:-5}
  loop_args="1 20000 2000"
  client_args="--rounds 2 --size-mib 256 --requests 50000"
  : "${ROUNDS:=2}" "${DURATION:=2}" "${SWEEP_ROUNDS:=1}" "${SWEEP_DURATION:=2}"
  : "${MC_ROUNDS:=1}" "${MC_DURATION:=2}" "${LAT_ROUNDS:=1}" "${LAT_DURATION:=2}"
  : "${IDLE_N:=2000}"
  export ROUNDS DURATION SWEEP_ROUNDS SWEEP_DURATION MC_ROUNDS MC_DURATION LAT_ROUNDS \
    LAT_DURATION IDLE_N
else
  parse_rounds=${1:-21}
  loop_args="5"
  client_args="--rounds 5"
fi
# Which linger was measured: the commit, and whether the library or the
# tool had changes not yet committed.
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=0
[ -n "$(git status --porcelain -- src include tools CMakeLists.txt 2>/dev/null)" ] && dirty=1
echo "quick=$QUICK commit=$commit dirty=$dirty started=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  >"$RESULTS/run.txt"

failed=""
# step NAME COMMAND...: runs it, its output on the terminal and in
# RESULTS/NAME.log; a failure is noted and the run goes on.
step() {
  name=$1
  shift
  echo "=== $name"
  t0=$(date +%s)
  { "$@"; echo $? >"$RESULTS/$name.rc"; } 2>&1 | tee "$RESULTS/$name.log"
  rc=$(cat "$RESULTS/$name.rc" 2>/dev/null || echo 1)
  [ "$rc" = 0 ] || failed="$failed $name"
  echo "=== $name: $(($(date +%s) - t0)) s$([ "$rc" = 0 ] || echo ", FAILED (exit $rc)")"
  echo
}

for b in $ONLY; do
  case $b in
    parse) step parse env BENCH_TSV="$abs/parse.tsv" bench/parse.sh "$parse_rounds" ;;
    loop) step loop env BENCH_TSV="$abs/loop.tsv" bench/loop.sh $loop_args ;;
    http) step http bench/http/run.sh ;;
    client) step client bench/client/client.sh $client_args --json "$abs/client.json" ;;
    ws) step ws bench/ws/run.py --json "$abs/ws.json" ;; # (only when asked: ONLY=ws)
    size)
      step size sh -c "scripts/size.sh >'$abs/size.txt' 2>'$abs/size.err'; rc=\$?; cat '$abs/size.txt'; exit \$rc"
      step size_peers bench/size/peers.sh "$abs/size_peers.tsv"
      ;;
    *) echo "bench/run.sh: unknown benchmark '$b'" >&2 ;;
  esac
done
echo "finished=$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$RESULTS/run.txt"

if [ "${REPORT:-1}" != 0 ]; then
  /usr/bin/python3 bench/report.py --results "$RESULTS" --out "${REPORT_DIR:-docs}" ||
    failed="$failed report"
fi
[ -z "$failed" ] || echo "bench/run.sh: failed:$failed (their rows are left out)" >&2
exit 0
