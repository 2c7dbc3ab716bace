#!/usr/bin/env bash
# Static analysis of the C sources. cppcheck always (fast; ctest runs it as lint.cppcheck);
# clang-tidy with the root .clang-tidy when TIDY=1 (minutes on 2 cores; needs build/ configured,
# for compile_commands.json). Exits non-zero on any finding.
#   bash packaging/lint.sh           # cppcheck
#   TIDY=1 bash packaging/lint.sh    # + clang-tidy
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
status=0

command -v cppcheck > /dev/null || { echo "lint: cppcheck is not installed" >&2; exit 1; }
# jansson.h is included so that its foreach macros are understood (else: unknownMacro)
out=$(cppcheck --quiet --enable=warning,portability,performance --std=c11 --inline-suppr \
  -I include -I kernel --include=/usr/include/jansson.h kernel plugins sdk tests 2>&1 |
  grep -E '^(kernel|plugins|sdk|tests)/' || true)
if [ -n "$out" ]; then
  echo "$out"
  echo "lint: cppcheck found the problems above" >&2
  status=1
else
  echo "lint: cppcheck clean"
fi

if [ "${TIDY:-0}" = 1 ]; then
  db=${BUILD_DIR:-build}/compile_commands.json
  [ -f "$db" ] || { echo "lint: $db missing (cmake --preset default first)" >&2; exit 1; }
  out=$(jq -r '.[].file' "$db" | grep -v '/build' | sort -u |
    xargs -P"$(nproc)" -n8 clang-tidy -p "$(dirname "$db")" --quiet 2> /dev/null | grep 'warning:' || true)
  if [ -n "$out" ]; then
    echo "$out"
    echo "lint: clang-tidy found the problems above" >&2
    status=1
  else
    echo "lint: clang-tidy clean"
  fi
fi
exit $status
