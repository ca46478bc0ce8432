#!/usr/bin/env bash
# Throughput of Tapeline's routes against axum's hello-world (issue 12), in one run:
#   - the release binary and a minimal axum hello-world (bench/src/bin/hello.rs, the same
#     stack: axum 0.8 on tokio's multi-thread runtime) are built and started;
#   - for SQLite (a fresh data directory) and then PostgreSQL (a fresh database on the server
#     of TAPELINE_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test, when it
#     answers; POSTGRES=off skips it): hello-world's `GET /` is measured first, then Tapeline
#     is started with one user and 51 sets, and wrk measures `GET /healthz`, `GET
#     /api/v1/whoami`, `GET /api/v1/sets/{id}` and `GET /api/v1/sets?limit=50` (a page of 50),
#     each with a fresh level-3 key with a raised limit (limits and usage counting stay on);
#     then whoami during a log-in flood (SQLite), and whoami again from a server restarted
#     with the key cache off (TAPELINE_KEY_CACHE_MS=0);
#   - one table: requests/s, p50, p99, non-2xx answers, and each route's ratio to the
#     hello-world measured just before it, plus the server's peak RSS (VmHWM) per database.
# Any non-2xx answer or socket error fails the script (after the table). Everything it starts
# it stops, and the database is dropped, on any exit. Not part of the tests: on a shared
# 2-core machine the absolute figures are noise; the ratio within one run is the figure.
#
#   bash bench/routes.sh                 # (or bash scripts/bench.sh routes)
#   DURATION=15s POSTGRES=off bash bench/routes.sh
#   TAPELINE_BIN=/tmp/tapeline-before bash bench/routes.sh   # a build of your own, not this tree
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
source scripts/setup.sh
source bench/lib.sh

ADMIN_URL="${TAPELINE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
POSTGRES="${POSTGRES:-auto}"

ensure_tool wrk
server_binary
hello_binary

WORK="$(mktemp -d)"
DB=""            # the PostgreSQL database, once created
HELLO_PID=""
SERVER_PID=""
FLOOD_PID=""
cleanup() {
  set +e
  for pid in "$FLOOD_PID" "$SERVER_PID" "$HELLO_PID"; do
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  [ -n "$DB" ] && psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
  [ -n "${KEEP_WORK:-}" ] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

SITE="$CARGO_TARGET_DIR/site"   # the API serves without it; the pages would need it
[ -d "$SITE" ] || { SITE="$WORK/site"; mkdir -p "$SITE"; }
export TAPELINE_KEY_RATE_LIMIT=1000000 TAPELINE_KEY_DAILY_QUOTA=1000000000
export TAPELINE_LOG=warn LEPTOS_SITE_ROOT="$SITE"
unset TAPELINE_REDIS_URL TAPELINE_KEY_LIMITS TAPELINE_KEY_CACHE_MS

HELLO_PORT="$(free_port)"
"$HELLO" "$HELLO_PORT" >"$WORK/hello.log" 2>&1 &
HELLO_PID=$!
wait_for "http://127.0.0.1:$HELLO_PORT/"

ROWS=()          # route|database|rps|p50|p99|non2xx|ratio
RSS=()
FAILED=0
BASE=""          # hello-world's requests/s for the current database
measure() { # ROUTE DATABASE URL [TOKEN]
  local auth=() out rps p50 p99 ratio
  [ -n "${4:-}" ] && auth=(-H "Authorization: Bearer $4")
  say "$2: $1"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "${auth[@]}" "$3" >/dev/null
  out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "${auth[@]}" "$3")"
  echo "$out" >"$WORK/wrk.$(tr -c 'a-zA-Z0-9' _ <<<"$1$2").txt"
  rps="$(awk '/^Requests\/sec:/ {printf "%d", $2}' <<<"$out")"
  p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  answers_ok "$2, $1" "$out" || FAILED=1
  [ -z "$BASE" ] && BASE="$rps"
  ratio="$(awk -v a="$rps" -v b="$BASE" 'BEGIN { printf "%.2f", a / b }')"
  ROWS+=("$1|$2|$rps|$p50|$p99|$(non2xx_of "$out")|$ratio")
}

# 20 wrong-password log-ins a second from another client (bench/flood.py: each second from a
# fresh loopback address and fresh names, so the log-in throttle never stops one before its
# argon2id verification), until killed; each answer's code goes to $WORK/flood.txt.
flood() { # PORT
  : >"$WORK/flood.txt"
  exec python3 "$ROOT/bench/flood.py" "$1" "$WORK/flood.txt" 20
}

# A fresh level-3 key of the bench user for each measured route: even with its limit raised to
# the most a key may have (TAPELINE_KEY_RATE_LIMIT's 1,000,000 a minute), one key measured on
# route after route reaches it on a fast machine, and 429s would fail the run.
route_key() { # NAME
  new_key "$BIN" "wrk $1" 3
}

api() { # METHOD PATH [BODY]: with the key; prints the answer, fails on an error status
  curl -fsS -X "$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    ${3:+--data "$3"} "http://127.0.0.1:$PORT$2"
}

run_database() { # NAME: the database in TAPELINE_DATABASE_URL (or SQLite in the data dir)
  local name="$1" data="$WORK/$1" set_id
  mkdir -p "$data"
  export TAPELINE_DATA_DIR="$data"
  PORT="$(free_port)"
  export TAPELINE_PUBLIC_URL="http://127.0.0.1:$PORT"
  BASE=""
  measure "axum hello-world \`GET /\`" "$name" "http://127.0.0.1:$HELLO_PORT/"

  TOKEN="$(make_key "$BIN" wrk 3)"
  "$BIN" serve --listen "127.0.0.1:$PORT" >"$WORK/$name.log" 2>&1 &
  SERVER_PID=$!
  wait_for "http://127.0.0.1:$PORT/healthz"
  set_id="$(make_sets "$PORT" "$TOKEN" 51)"
  # The key is accepted and the page is full (a refused key would be measured as fast 401s).
  api GET /api/v1/whoami >/dev/null
  [ "$(api GET '/api/v1/sets?limit=50' | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["sets"]))')" = 50 ]

  measure '`GET /healthz`' "$name" "http://127.0.0.1:$PORT/healthz"
  measure '`GET /api/v1/whoami` (key)' "$name" "http://127.0.0.1:$PORT/api/v1/whoami" "$(route_key whoami)"
  measure '`GET /api/v1/sets/{id}` (key)' "$name" "http://127.0.0.1:$PORT/api/v1/sets/$set_id" "$(route_key set)"
  measure '`GET /api/v1/sets?limit=50` (key, 50 sets)' "$name" "http://127.0.0.1:$PORT/api/v1/sets?limit=50" "$(route_key page)"
  RSS+=("$name: $(awk '/^VmHWM:/ {printf "%.1f MB", $2 / 1024}' "/proc/$SERVER_PID/status")")
  if [ "$name" = sqlite ]; then
    # The same key route while another client floods the log-in form with wrong passwords.
    flood "$PORT" &
    FLOOD_PID=$!
    measure '`GET /api/v1/whoami` (key) during a log-in flood' "$name" "http://127.0.0.1:$PORT/api/v1/whoami" "$(route_key flood)"
    kill "$FLOOD_PID" 2>/dev/null; wait "$FLOOD_PID" 2>/dev/null || true; FLOOD_PID=""
    FLOOD_HASHED="$(grep -c 'invalid_credentials' "$WORK/flood.txt" || true)"
    FLOOD_SENT="$(wc -l <"$WORK/flood.txt")"
    RSS+=("$name after the log-in flood: $(awk '/^VmHWM:/ {printf "%.1f MB", $2 / 1024}' "/proc/$SERVER_PID/status")")
  fi

  kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=""

  # The key cache's share: the same whoami from a server that remembers no key.
  TAPELINE_KEY_CACHE_MS=0 "$BIN" serve --listen "127.0.0.1:$PORT" >>"$WORK/$name.log" 2>&1 &
  SERVER_PID=$!
  wait_for "http://127.0.0.1:$PORT/healthz"
  measure '`GET /api/v1/whoami` (key), key cache off' "$name" "http://127.0.0.1:$PORT/api/v1/whoami" "$(route_key uncached)"
  kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=""
}

unset TAPELINE_DATABASE_URL
run_database sqlite

if [ "$POSTGRES" != off ] && psql -q "$ADMIN_URL" -c 'SELECT 1' >/dev/null 2>&1; then
  DB="tapeline_bench_$$_$RANDOM"
  psql -q "$ADMIN_URL" -c "CREATE DATABASE $DB" >/dev/null
  export TAPELINE_DATABASE_URL="${ADMIN_URL%/*}/$DB"
  run_database postgres
  psql -q "$ADMIN_URL" -c "DROP DATABASE $DB WITH (FORCE)" >/dev/null; DB=""
else
  say "PostgreSQL skipped (POSTGRES=off, or $ADMIN_URL does not answer)"
fi

echo
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency (after a $WARMUP warm-up) on $(nproc) cores shared with wrk;"
echo "ratio: to the hello-world measured just before, in this run"
echo
echo "| route | database | req/s | p50 | p99 | non-2xx | ratio to hello-world |"
echo "|---|---|---|---|---|---|---|"
for row in "${ROWS[@]}"; do
  IFS='|' read -r route db rps p50 p99 non2xx ratio <<<"$row"
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$route" "$db" "$rps" "$p50" "$p99" "$non2xx" "$ratio"
done
echo
echo "Server peak RSS (VmHWM): $(IFS=';'; echo "${RSS[*]}" | sed 's/;/, /g')"
CALM=""; STORM=""
for row in "${ROWS[@]}"; do
  IFS='|' read -r route db rps p50 p99 non2xx ratio <<<"$row"
  [ "$db" = sqlite ] && [ "$route" = '`GET /api/v1/whoami` (key)' ] && CALM="$p99"
  [ "$db" = sqlite ] && [ "$route" = '`GET /api/v1/whoami` (key) during a log-in flood' ] && STORM="$p99"
done
if [ -n "$CALM" ] && [ -n "$STORM" ]; then
  echo "whoami p99 on SQLite: $CALM without, $STORM during the log-in flood ($(awk -v a="$(us "$STORM")" -v b="$(us "$CALM")" 'BEGIN { printf "%+.0f %%", (a / b - 1) * 100 }'))"
fi
echo "Log-in flood: $FLOOD_SENT wrong-password attempts answered during the flooded run, $FLOOD_HASHED of them refused after a hash (invalid_credentials)"
if [ "$FAILED" != 0 ]; then
  say "some answers were not 2xx (see above): failing"
  exit 1
fi
