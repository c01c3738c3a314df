#!/usr/bin/env bash
# Sanitizer build: every target with AddressSanitizer + UndefinedBehaviorSanitizer, then the
# whole test suite against it (the e2e tests take SBX_BIN/SBXD_BIN from meson's test env, so
# they drive the instrumented sbx and sbxd, and sbxd execs the instrumented sbx-shim).
#
#   ci/sanitize.sh            # gcc (the compiler of the shipped build)
#   CC=clang CXX=clang++ ci/sanitize.sh
#   JOBS=1 ci/sanitize.sh     # compile jobs and parallel tests (default 2)
#   TIMEOUT_MULT=5 ci/sanitize.sh   # ASan debug binaries are slow: test timeouts x3 by default
#
# The daemon is detached from the test's terminal, so a report it prints could go unseen:
# every sanitizer report (any process: sbx, sbxd, sbx-shim, unit_tests) is also written to
# build-asan/sanitizer-logs/, and any file there fails the run, after the tests pass or not.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bdir=build-asan
jobs=${JOBS:-2}
: "${CC:=gcc}" "${CXX:=g++}"
export CC CXX

if [ ! -f "$bdir/build.ninja" ]; then
  meson setup "$bdir" -Db_sanitize=address,undefined -Db_lundef=false --buildtype=debug
fi
ninja -C "$bdir" -j "$jobs"

logs=$root/$bdir/sanitizer-logs
rm -rf "$logs" && mkdir -p "$logs"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$logs/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan"

rc=0
meson test -C "$bdir" --print-errorlogs --num-processes "$jobs" --no-suite slow \
  --timeout-multiplier "${TIMEOUT_MULT:-3}" || rc=$?

reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
  for f in $reports; do
    echo "=== sanitizer report: ${f#"$root"/}"
    cat "$f"
  done
  echo "sanitize: FAIL: $(echo "$reports" | wc -l) sanitizer report(s) (see above)"
  exit 1
fi
if [ "$rc" -ne 0 ]; then
  echo "sanitize: FAIL: meson test exited $rc (see $bdir/meson-logs/testlog.txt)"
  exit "$rc"
fi
echo "sanitize: OK: all tests passed under ASan+UBSan ($CXX), no sanitizer reports"
