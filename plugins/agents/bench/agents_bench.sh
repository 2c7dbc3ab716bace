#!/usr/bin/env bash
# wrk on the agents plugin's two hot reads (issue 5 benchmark):
#   GET /api/agents with 100 agents, GET /api/memory/{agentId}/memories?limit=50 with 10,000
#   memories. With PEER=1 the official server (../shared/peers/eliza) runs the agents-list test
#   in the same run, with the same 100 agents, for a side-by-side ratio.
#
#   agents_bench.sh [ELIZAD_BIN]      env: PORT (a free one), PEER=0|1, PEER_PORT (3100), DURATION (10s)
set -euo pipefail
BIN="${1:-$(dirname "$0")/../../../build/elizad}"
PORT="${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"
DURATION="${DURATION:-10s}"
PEERS_DIR="${PEERS_DIR:-$(cd "$(dirname "$0")/../../../.." && pwd)/shared/peers/eliza}"
WORK=$(mktemp -d /tmp/agents-bench.XXXXXX)
URL="http://127.0.0.1:$PORT"

cleanup() {
  [ -n "${EZ_PID:-}" ] && kill "$EZ_PID" 2>/dev/null && wait "$EZ_PID" 2>/dev/null || true
  [ "${PEER:-0}" = 1 ] && "$PEERS_DIR/stop.sh" "${PEER_PORT:-3100}" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

cat > "$WORK/elizad.conf" <<CONF
server: { host = "127.0.0.1"; port = $PORT; data_dir = "$WORK/data"; log_level = "warn"; };
plugins = [ "agents" ];
agents: { test_routes = true; };
CONF
mkdir -p "$WORK/data"
"$BIN" --config "$WORK/elizad.conf" >"$WORK/elizad.log" 2>&1 &
EZ_PID=$!
for _ in $(seq 100); do curl -sf "$URL/api/agents" >/dev/null && break; sleep 0.1; done

create_agents() { # base url
  for i in $(seq -w 1 100); do
    curl -sf -XPOST -H 'content-type: application/json' "$1/api/agents" \
      -d "{\"characterJson\":{\"name\":\"Bench Agent $i\",\"bio\":[\"Agent number $i, for the benchmark.\"],\"system\":\"You are agent $i.\",\"topics\":[\"a\",\"b\"]}}" >/dev/null
  done
}
create_agents "$URL"
AGENT=$(curl -sf -XPOST -H 'content-type: application/json' "$URL/api/agents" \
  -d '{"characterJson":{"name":"Memory Bench","bio":"remembers"}}' | sed 's/.*"id":"\([0-9a-f-]*\)".*/\1/')
curl -sf -XPOST "$URL/api/agents/$AGENT/start" >/dev/null
python3 - "$URL" "$AGENT" <<'PY'
import json, sys, time, urllib.request, uuid
url, agent = sys.argv[1], sys.argv[2]
rooms = [str(uuid.uuid4()) for _ in range(10)]
t0 = int(time.time() * 1000) - 10_000_000
for batch in range(10):
    mems = [{"roomId": rooms[i % 10], "entityId": str(uuid.uuid4()), "createdAt": t0 + batch * 1000 + i,
             "content": {"text": f"memory {batch}-{i}: a sentence of ordinary chat length.", "source": "client_chat"},
             "metadata": {"type": "message"}} for i in range(1000)]
    req = urllib.request.Request(f"{url}/api/agents/{agent}/test/memories", json.dumps({"memories": mems}).encode(),
                                 {"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()
PY

echo "== elizad GET /api/agents (101 agents)"
wrk -t2 -c50 -d"$DURATION" "$URL/api/agents" | grep -E "Requests/sec|Latency"
echo "== elizad GET /api/memory/{agentId}/memories?limit=50 (10,000 memories)"
wrk -t2 -c50 -d"$DURATION" "$URL/api/memory/$AGENT/memories?limit=50" | grep -E "Requests/sec|Latency"
echo "   RSS: $(ps -o rss= -p "$EZ_PID") KB"

if [ "${PEER:-0}" = 1 ]; then
  PEER_URL="http://127.0.0.1:${PEER_PORT:-3100}"
  PEER_RATE_LIMIT=reset "$PEERS_DIR/start.sh" "${PEER_PORT:-3100}" >/dev/null
  create_agents "$PEER_URL"
  echo "== official server GET /api/agents (100 agents)"
  wrk -t2 -c50 -d"$DURATION" "$PEER_URL/api/agents" | grep -E "Requests/sec|Latency"
fi
