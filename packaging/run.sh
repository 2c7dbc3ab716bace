#!/usr/bin/env bash
# Fresh Debian 12 -> a running elizad: installs what is missing, builds with the default preset and
# starts build/elizad in the foreground on port 3000 with packaging/elizad.conf (SQLite under
# ./.eliza). Ctrl-C (SIGINT) stops it gracefully. SERVER_PORT, LOG_LEVEL... override the file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash packaging/deps.sh
cmake --preset default > /dev/null
log=$(mktemp -t elizad-build.XXXXXX)
cmake --build --preset default -j"$(nproc)" > "$log" 2>&1 || {
  tail -40 "$log"; echo "run.sh: build failed (full log: $log)" >&2; exit 1; }
rm -f "$log"
# the web UI is optional: without the npm registry elizad still runs (and / says how to add it)
bash packaging/fetch-webui.sh || echo "run.sh: the web UI could not be fetched; serving the API only" >&2
echo "run.sh: starting elizad on http://0.0.0.0:${SERVER_PORT:-3000}"
exec ./build/elizad --config packaging/elizad.conf
