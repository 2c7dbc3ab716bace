#!/usr/bin/env bash
# Fresh Debian 12 -> every test: installs what is missing, installs the e2e node modules, then
# builds and runs ctest with the default preset and again with the asan preset (ASan + UBSan,
# warnings as errors). Exits non-zero when anything fails. CI: .ci/run (root, CI=true, no stdin).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
JOBS=${JOBS:-$(nproc)}

bash packaging/deps.sh --test || exit 1
if [ ! -d tests/e2e/node_modules/socket.io-client ] || [ ! -d tests/e2e/node_modules/@elizaos/api-client ]; then
  echo "test.sh: npm ci (tests/e2e)"
  (cd tests/e2e && { timeout 600 npm ci --no-audit --no-fund --loglevel=error ||
                     timeout 600 npm install --no-audit --no-fund --loglevel=error; } < /dev/null) || {
    echo "test.sh: npm install in tests/e2e failed" >&2; exit 1; }
fi

status=0
for preset in default asan; do
  echo "test.sh: ==== preset $preset: configure + build"
  log=$(mktemp -t "elizad-build-$preset.XXXXXX")
  if ! { cmake --preset "$preset" && cmake --build --preset "$preset" -j"$JOBS"; } > "$log" 2>&1; then
    tail -60 "$log"
    echo "test.sh: preset $preset: build FAILED (full log: $log)" >&2
    status=1
    continue
  fi
  rm -f "$log"
  echo "test.sh: ==== preset $preset: ctest"
  # ctest prints one line per test, the output of failures and the summary
  if ! timeout 5400 ctest --preset "$preset" -j"$JOBS" < /dev/null; then
    echo "test.sh: preset $preset: tests FAILED" >&2
    status=1
  fi
done
if [ $status = 0 ]; then echo "test.sh: all presets passed"; else echo "test.sh: FAILED" >&2; fi
exit $status
