#!/bin/sh
# Lints the man pages: `mandoc -T lint -W warning`, and `groff -ww -z -mdoc` when groff
# is installed. Any warning or error fails the test.
#
#   sh tests/lint_man.sh [MAN_DIR]      (default: the man/ folder of this checkout)
#
# Exit status: 0 clean, 1 a page has warnings or errors (or is missing),
# 77 mandoc is not installed (meson counts that as skipped).
set -u

dir=${1:-$(dirname "$0")/../man}

if ! command -v mandoc >/dev/null 2>&1; then
  echo "lint_man: mandoc is not installed: skipped"
  exit 77
fi
have_groff=no
command -v groff >/dev/null 2>&1 && have_groff=yes

status=0
# lint PAGE COMMAND...: runs COMMAND on PAGE; any output or a non-zero exit fails it.
# (mandoc exits non-zero on any warning or error; groff exits 0 even when it warns, so
# for groff the output is what tells.)
lint() {
  page=$1
  shift
  out=$("$@" "$page" 2>&1)
  rc=$?
  if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
    printf '%s\n' "$out"
    echo "lint_man: FAIL $* $page (exit $rc)"
    status=1
  else
    echo "lint_man: ok $1 $page"
  fi
}

for name in sbx.1 sbx.toml.5 sbxd.8; do
  page=$dir/$name
  if [ ! -f "$page" ]; then
    echo "lint_man: $page is missing"
    status=1
    continue
  fi
  lint "$page" mandoc -T lint -W warning
  if [ "$have_groff" = yes ]; then
    lint "$page" groff -ww -z -mdoc
  fi
done
exit "$status"
