#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang in build-fuzz and runs each for
# SECONDS on a copy of its seed corpus. Fails if any target crashes, leaks, hits UB, times
# out (-timeout) or exceeds -rss_limit_mb; the reproducer is kept under build-fuzz/fuzz-out.
#
#   ci/fuzz.sh [SECONDS]        # default 60 per target; JOBS=N compile jobs (default 2)
#   build-fuzz/tests/fuzz/fuzz_frame build-fuzz/fuzz-out/fuzz_frame/crash-...   # replay
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
secs=${1:-60}
# A fixed seed (FUZZ_SEED, default 1) explores the same inputs in the same order on every
# run, so CI's verdict on a commit does not depend on luck; set FUZZ_SEED=0 to explore.
jobs=${JOBS:-2}
bdir=build-fuzz
targets=(fuzz_frame fuzz_record fuzz_project fuzz_line_matcher fuzz_log_index)

if [ ! -f "$bdir/build.ninja" ]; then
  CC=clang CXX=clang++ meson setup "$bdir" -Dfuzz=true -Dtests=disabled --buildtype=debugoptimized
fi
meson compile -C "$bdir" -j "$jobs" "${targets[@]}" >"$bdir/fuzz-build.log" 2>&1 || {
  cat "$bdir/fuzz-build.log"; echo "fuzz: FAIL: build"; exit 1; }

out=$root/$bdir/fuzz-out
rm -rf "$out"
failed=0
for t in "${targets[@]}"; do
  work=$out/$t
  mkdir -p "$work/corpus"
  cp -r tests/fuzz/corpus/"$t"/. "$work/corpus/"
  seeds=$(find "$work/corpus" -type f | wc -l)
  rc=0
  (cd "$work" && UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$root/$bdir/tests/fuzz/$t" -seed="${FUZZ_SEED:-1}" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$work/" corpus) >"$work/log.txt" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log.txt" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\) .*/\1/p' "$work/log.txt" | tail -1)
  corpus=$(find "$work/corpus" -type f | wc -l)
  artifacts=$(find "$work" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  if [ "$rc" -ne 0 ] || [ -n "$artifacts" ]; then
    failed=1
    echo "=== $t: log tail ($work/log.txt)"
    tail -n 60 "$work/log.txt"
    echo "$t: FAIL (exit $rc) after ${runs:-?} runs; reproducer: ${artifacts:-none}"
  else
    echo "$t: OK ${secs}s, ${runs:-?} runs, cov ${cov:-?}, corpus $seeds -> $corpus"
  fi
done
exit "$failed"
