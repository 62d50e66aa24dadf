#!/bin/sh
# `make fuzz`: build the libFuzzer targets with clang, ASan and UBSan in
# build-fuzz, then run each for SECONDS (default 60) with the HTTP dictionary,
# starting from the seed corpus in fuzz/corpus/<target>/.
#
# The seed corpus is only read: what the fuzzer finds goes to a work dir
# under build-fuzz/, kept between runs so that later runs start further on.
# To promote a finding into the repository, minimise it first:
#   build-fuzz/fuzz/fuzz_request -merge=1 fuzz/corpus/request build-fuzz/corpus/request
# Crashes are written to build-fuzz/crash-* and stop the run with an error.
#
# Usage: scripts/fuzz.sh [SECONDS]   (FUZZ_TARGETS="server url" picks targets)
set -eu
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
JOBS=$(nproc 2>/dev/null || echo 2)
B=build-fuzz

command -v clang >/dev/null 2>&1 || { echo "fuzz: clang is needed (scripts/deps.sh check installs it)" >&2; exit 1; }

cmake -S . -B "$B" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLINGER_SANITIZE=ON -DLINGER_FUZZ=ON -DLINGER_TESTS=OFF -DLINGER_TOOLS=OFF \
  -DLINGER_EXAMPLES=OFF >/dev/null
TARGETS=${FUZZ_TARGETS:-request response client server url ws multipart auth}
for t in $TARGETS; do cmake --build "$B" -j "$JOBS" --target "fuzz_$t"; done

status=0
for t in $TARGETS; do
  work="$B/corpus/$t"
  log="$B/fuzz_$t.log"
  mkdir -p "$work"
  dict=fuzz/$t.dict
  [ -f "$dict" ] || dict=fuzz/http.dict
  printf '\n=== fuzz_%s for %ss\n' "$t" "$SECONDS_PER_TARGET"
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
     "$B/fuzz/fuzz_$t" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
       -dict="$dict" -artifact_prefix="$B/" -print_final_stats=1 \
       "$work" "fuzz/corpus/$t" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    echo "fuzz_$t: ${runs:-?} executions (${rate:-?}/s), coverage ${cov:-?}, corpus $(ls "$work" | wc -l) files in $work"
  else
    status=1
    echo "fuzz_$t: FAILED; the end of $log:" >&2
    tail -40 "$log" >&2
  fi
done
exit $status
