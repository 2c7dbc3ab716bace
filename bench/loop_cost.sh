#!/usr/bin/env bash
# Instructions per agent reply, counted by valgrind's callgrind: the loop thread and all threads.
# Not a speed figure (valgrind runs the server ~50x slower) but a cost that does not move with
# the machine's neighbours, which move replies/s by +-15 % on this VM from one run to the next:
# compare two builds with it before trusting a replies/s difference smaller than that.
#
#   bench/loop_cost.sh                       # build-release/
#   BIN_DIR=/tmp/other-build bench/loop_cost.sh
#
# env: BIN_DIR=<repo>/build-release (elizad and plugins/ in it)  PORT=3201  CLIENTS=5
#      SECONDS_MEASURED=10 (replies_bench.mjs run under instrumentation, after a 2 s warm-up)
#      EXTRA_CONF='model_eliza: { chunk_words = 1; };' (appended to the config)
#      KEEP=1 (keep the callgrind files: the folder is printed on stderr)
# Prints: replies <n> loop_kIr_per_reply <k> all_kIr_per_reply <k>
# Bounded: one server on 127.0.0.1, stopped by its PID; every wait has a deadline.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN_DIR=${BIN_DIR:-$REPO/build-release}
PORT=${PORT:-3201} CLIENTS=${CLIENTS:-5} SECONDS_MEASURED=${SECONDS_MEASURED:-10}
command -v valgrind > /dev/null || { echo "loop_cost.sh: valgrind is not installed" >&2; exit 1; }
[ -x "$BIN_DIR/elizad" ] || { echo "loop_cost.sh: no $BIN_DIR/elizad (cmake --build --preset release)" >&2; exit 1; }

DIR=$(mktemp -d -t elizad-loop-cost.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$DIR"' EXIT; echo "dir $DIR" >&2
cat > "$DIR/elizad.conf" <<CONF
server: { host = "127.0.0.1"; port = $PORT; data_dir = "$DIR/data"; plugin_dir = "$BIN_DIR/plugins"; log_level = "warn"; };
CONF
echo "${EXTRA_CONF:-}" >> "$DIR/elizad.conf"
# instrumentation off until the warm-up is over: startup and agent creation are not counted
ELIZAD_NO_DLCLOSE=1 valgrind --tool=callgrind --separate-threads=yes --instr-atstart=no \
  --callgrind-out-file="$DIR/cg.%p" "$BIN_DIR/elizad" --config "$DIR/elizad.conf" > "$DIR/log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break
  sleep 0.3
done
bench() {
  (cd "$REPO" && URL="http://127.0.0.1:$PORT" PID=$PID CLIENTS=$CLIENTS SECONDS=$1 \
    timeout 120 node plugins/runtime/bench/replies_bench.mjs 2>&1 | tail -1)
}
bench 2 > /dev/null
callgrind_control -i on "$PID" > /dev/null 2>&1
OUT=$(bench "$SECONDS_MEASURED")
callgrind_control -i off "$PID" > /dev/null 2>&1
kill "$PID"
wait "$PID" || true
N=$(echo "$OUT" | python3 -c "import json,sys; print(json.loads(sys.stdin.read())['replies'])")
LOOP=$(awk '/^totals:/ {print $2}' "$DIR/cg.$PID-01")
ALL=$(cat "$DIR"/cg."$PID"-* | awk '/^totals:/ {s += $2} END {print s}')
echo "replies $N loop_kIr_per_reply $((LOOP / N / 1000)) all_kIr_per_reply $((ALL / N / 1000))"
