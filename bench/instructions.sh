#!/usr/bin/env bash
# Instructions per request, counted by valgrind's callgrind in the server's own threads, for
# axum's hello-world and for Tapeline's key routes on SQLite (issue 12). Unlike requests a
# second, an instruction count does not depend on what else the machine is doing: the same
# binary and the same requests give the same figure within a fraction of a percent, so a
# change's effect on the server's CPU shows even on a busy 2-core machine. It counts user
# space only: the kernel's network path (most of hello-world's cost) is not in it.
#
# For each server and route: the server runs under callgrind with collection off; N requests
# warm it up on one keep-alive connection, collection is switched on, N more are sent, and
# the counters are dumped. The table gives instructions per request, the ratio to
# hello-world's, and for each route the functions that executed the most instructions
# themselves (inclusive counts are no guide here: the middleware's futures poll one another
# recursively, so each counts the whole request several times). The profiles are kept in the
# work directory with KEEP_WORK=1, for `callgrind_annotate --tree=caller` and the like.
#
#   bash bench/instructions.sh              # (or bash scripts/bench.sh instructions)
#   REQUESTS=2000 bash bench/instructions.sh
#   TAPELINE_BIN=/tmp/tapeline-before bash bench/instructions.sh   # a build of your own
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
source scripts/setup.sh
source bench/lib.sh

REQUESTS="${REQUESTS:-1000}"
TOP="${TOP:-25}"

ensure_tool valgrind
server_binary
hello_binary

WORK="$(mktemp -d)"
PID=""
cleanup() {
  set +e
  [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  [ -n "${KEEP_WORK:-}" ] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

# N requests on one keep-alive connection; fails on any answer but 2xx.
send() { # PORT PATH N [TOKEN]
  python3 - "$@" <<'EOF'
import http.client, sys
port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
headers = {"Authorization": "Bearer " + sys.argv[4]} if len(sys.argv) > 4 else {}
conn = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(n):
    conn.request("GET", path, headers=headers)
    answer = conn.getresponse()
    answer.read()
    if not 200 <= answer.status < 300:
        sys.exit(f"GET {path}: {answer.status}")
EOF
}

ROWS=()   # name|instructions per request
BASE=""
# Starts COMMAND under callgrind (collection off), then measures each "NAME|PATH" given.
profile() { # PORT TOKEN "NAME|PATH"... -- COMMAND...
  local port="$1" token="$2"; shift 2
  local routes=()
  while [ "$1" != -- ]; do routes+=("$1"); shift; done
  shift
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$WORK/callgrind.%p" \
    "$@" >"$WORK/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 600); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/${routes[0]#*|}" ${token:+-H "Authorization: Bearer $token"} 2>/dev/null && break
    sleep 0.2
  done
  for route in "${routes[@]}"; do
    local name="${route%%|*}" path="${route#*|}" file
    send "$port" "$path" "$REQUESTS" $token
    callgrind_control --zero "$PID" >/dev/null
    callgrind_control --instr=on "$PID" >/dev/null
    send "$port" "$path" "$REQUESTS" $token
    callgrind_control --instr=off "$PID" >/dev/null
    callgrind_control --dump "$PID" >/dev/null
    file="$(ls -t "$WORK"/callgrind.$PID.* | sed -n 1p)"
    local total
    total="$(callgrind_annotate "$file" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')"
    local per=$(( total / REQUESTS ))
    [ -z "$BASE" ] && BASE="$per"
    ROWS+=("$name|$per")
    callgrind_annotate "$file" 2>/dev/null >"$WORK/$(tr -c 'a-zA-Z0-9' _ <<<"$name").txt"
    say "$name: $per instructions a request"
  done
  kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""
}

HELLO_PORT="$(free_port)"
profile "$HELLO_PORT" "" "axum hello-world \`GET /\`|/" -- "$HELLO" "$HELLO_PORT"

export TAPELINE_DATA_DIR="$WORK/data" LEPTOS_SITE_ROOT="$WORK/site" TAPELINE_LOG=warn
PORT="$(free_port)"
export TAPELINE_PUBLIC_URL="http://127.0.0.1:$PORT"
export TAPELINE_KEY_RATE_LIMIT=1000000 TAPELINE_KEY_DAILY_QUOTA=1000000000
unset TAPELINE_DATABASE_URL TAPELINE_REDIS_URL TAPELINE_KEY_LIMITS TAPELINE_KEY_CACHE_MS
mkdir -p "$TAPELINE_DATA_DIR" "$LEPTOS_SITE_ROOT"
TOKEN="$(make_key "$BIN" callgrind 3)"
"$BIN" serve --listen "127.0.0.1:$PORT" >"$WORK/setup.log" 2>&1 &
PID=$!
wait_for "http://127.0.0.1:$PORT/healthz"
SET_ID="$(make_sets "$PORT" "$TOKEN" 51)"
kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""

profile "$PORT" "$TOKEN" \
  "\`GET /healthz\`|/healthz" \
  "\`GET /api/v1/whoami\` (key)|/api/v1/whoami" \
  "\`GET /api/v1/sets/{id}\` (key)|/api/v1/sets/$SET_ID" \
  "\`GET /api/v1/sets?limit=50\` (key, 50 sets)|/api/v1/sets?limit=50" \
  -- "$BIN" serve --listen "127.0.0.1:$PORT"

echo
echo "Instructions per request in the server's own threads (callgrind, user space only), $REQUESTS requests"
echo "on one keep-alive connection after as many to warm up; ratio: hello-world's count over the route's"
echo "(comparable with the throughput ratios of bench/routes.sh: higher is cheaper)"
echo
echo "| route | instructions a request | hello-world's over the route's |"
echo "|---|---|---|"
for row in "${ROWS[@]}"; do
  IFS='|' read -r name per <<<"$row"
  printf '| %s | %s | %s |\n' "$name" "$per" "$(awk -v a="$BASE" -v b="$per" 'BEGIN { printf "%.2f", a / b }')"
done
echo
for row in "${ROWS[@]:1}"; do
  IFS='|' read -r name per <<<"$row"
  echo "The functions that executed the most instructions themselves, $name (all $REQUESTS requests):"
  { grep -E "^ *[0-9,]+ \\(" "$WORK/$(tr -c "a-zA-Z0-9" _ <<<"$name").txt" || true; } | sed -n "2,$((TOP + 1))p" | cut -c1-160
  echo
done
