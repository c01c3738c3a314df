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
for name in sbx.1 sbxd.8; do
  page=$dir/$name
  if [ ! -f "$page" ]; then
    echo "lint_man: $page is missing"
    status=1
    continue
  fi
  # mandoc prints its messages and exits non-zero on any warning (2) or error (3+).
  out=$(mandoc -T lint -W warning "$page" 2>&1)
  rc=$?
  if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
    printf '%s\n' "$out"
    echo "lint_man: FAIL mandoc -T lint -W warning $page (exit $rc)"
    status=1
  else
    echo "lint_man: ok mandoc $page"
  fi
  if [ "$have_groff" = yes ]; then
    # groff exits 0 even when it warns, so any output on stderr is the failure.
    out=$(groff -ww -z -mdoc "$page" 2>&1)
    rc=$?
    if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
      printf '%s\n' "$out"
      echo "lint_man: FAIL groff -ww -z -mdoc $page (exit $rc)"
      status=1
    else
      echo "lint_man: ok groff $page"
    fi
  fi
done
exit "$status"
