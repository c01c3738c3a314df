#!/usr/bin/env bash
# Checks that every C++ file under src/ and tests/ is formatted as .clang-format says.
#   ci/format.sh          # check (exit 1 and the offending files on a difference)
#   ci/format.sh --fix    # format them in place
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp')
if [ "${1:-}" = "--fix" ]; then
  echo "$files" | xargs clang-format -i
  exit 0
fi
bad=$(for f in $files; do clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || echo "$f"; done)
if [ -n "$bad" ]; then
  echo "format: these files differ from .clang-format (run ci/format.sh --fix):"
  echo "$bad"
  exit 1
fi
echo "format: OK: $(echo "$files" | wc -l) files"
