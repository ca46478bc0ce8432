#!/usr/bin/env bash
# What a log-in flood does to key-authenticated calls (issue 12: whoami's p99 may move by
# 20 % at most), measured in alternating rounds on one server, since a single calm run and a
# single flooded run differ by this machine's noise alone:
#   - the release server is started on SQLite (a fresh data directory) with one user and a
#     level-3 key with a raised limit (limits and usage counting stay on);
#   - each of ROUNDS rounds measures `GET /api/v1/whoami` with wrk twice, first calm, then
#     while bench/flood.py sends 20 wrong-password log-ins a second (each second from a fresh
#     loopback address and fresh names, so the log-in throttle never stops one before its
#     argon2id verification);
#   - one table: each round's calm and flooded p99, their change, the flood's answers and
#     how many were refused after a hash, and the server's minor page faults and context
#     switches during each measurement; then the median change.
# Two controls take the flood's place: LOAD=refused sends the same log-ins with an empty
# password, refused before the throttle and the hash (the log-in path without argon2id);
# LOAD=spin has nothing of Tapeline in it: bench/src/bin/spin.rs, another process doing CPU
# work as pure arithmetic (RATE units a second of 15 ms, about one verification's time
# here) under the idle scheduling policy of the server's hashing threads (`chrt --idle 0`).
# Any non-2xx answer on the key route or socket error fails the script.
#
#   bash bench/flood.sh                  # (or bash scripts/bench.sh flood)
#   ROUNDS=5 DURATION=10s bash bench/flood.sh
#   LOAD=refused bash bench/flood.sh     # the controls
#   LOAD=spin bash bench/flood.sh
#   TAPELINE_BIN=/tmp/tapeline-before bash bench/flood.sh   # a build of your own
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
source scripts/setup.sh
source bench/lib.sh

ROUNDS="${ROUNDS:-3}"
RATE="${RATE:-20}"
LOAD="${LOAD:-login}"

ensure_tool wrk
server_binary
case "$LOAD" in
  login | refused) ;;
  spin)
    say "building the control (cargo build --release -p tapeline-bench --bin spin)"
    cargo build --release -p tapeline-bench --bin spin
    SPIN="$CARGO_TARGET_DIR/release/spin" ;;
  *) echo "error: LOAD must be login, refused or spin, not $LOAD" >&2; exit 2 ;;
esac

WORK="$(mktemp -d)"
SERVER_PID=""
FLOOD_PID=""
cleanup() {
  set +e
  for pid in "$FLOOD_PID" "$SERVER_PID"; do
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  [ -n "${KEEP_WORK:-}" ] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

SITE="$CARGO_TARGET_DIR/site"
[ -d "$SITE" ] || { SITE="$WORK/site"; mkdir -p "$SITE"; }
export TAPELINE_KEY_RATE_LIMIT=1000000 TAPELINE_KEY_DAILY_QUOTA=1000000000
export TAPELINE_LOG=warn LEPTOS_SITE_ROOT="$SITE" TAPELINE_DATA_DIR="$WORK/data"
unset TAPELINE_DATABASE_URL TAPELINE_REDIS_URL TAPELINE_KEY_LIMITS TAPELINE_KEY_CACHE_MS
mkdir -p "$TAPELINE_DATA_DIR"
PORT="$(free_port)"
export TAPELINE_PUBLIC_URL="http://127.0.0.1:$PORT"
TOKEN="$(make_key "$BIN" wrk 3)"
"$BIN" serve --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_for "http://127.0.0.1:$PORT/healthz"
URL="http://127.0.0.1:$PORT/api/v1/whoami"
curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "$URL"   # the key is accepted

# The server's minor page faults and its threads' context switches so far.
faults() { awk '{print $10}' "/proc/$SERVER_PID/stat"; }
switches() { cat /proc/"$SERVER_PID"/task/*/status | awk '/ctxt_switches/ {n += $2} END {print n}'; }

FAILED=0
P99=""
STATS=""
measure() { # LABEL: wrk on whoami; sets P99 and STATS (faults, switches during the run)
  local out f0 s0
  f0="$(faults)"; s0="$(switches)"
  out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$URL")"
  STATS="$(($(faults) - f0)) / $(($(switches) - s0))"
  P99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  answers_ok "$1" "$out" || FAILED=1
}

say "warming up"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -H "Authorization: Bearer $TOKEN" "$URL" >/dev/null
ROWS=()
CHANGES=()
for round in $(seq "$ROUNDS"); do
  say "round $round of $ROUNDS: calm"
  measure calm
  calm="$P99"; calm_stats="$STATS"
  say "round $round of $ROUNDS: during the $LOAD load"
  : >"$WORK/flood.txt"
  if [ "$LOAD" != spin ]; then
    python3 "$ROOT/bench/flood.py" "$PORT" "$WORK/flood.txt" "$RATE" "$LOAD" &
  else
    chrt --idle 0 "$SPIN" "$WORK/flood.txt" "$RATE" &
  fi
  FLOOD_PID=$!
  measure flooded
  kill "$FLOOD_PID" 2>/dev/null; wait "$FLOOD_PID" 2>/dev/null || true; FLOOD_PID=""
  sent="$(wc -l <"$WORK/flood.txt")"
  hashed="$(grep -c '^invalid_credentials$' "$WORK/flood.txt" || true)"
  [ "$LOAD" = login ] || hashed="—"
  change="$(awk -v a="$(us "$P99")" -v b="$(us "$calm")" 'BEGIN { printf "%+.0f", (a / b - 1) * 100 }')"
  CHANGES+=("$change")
  ROWS+=("| $round | $calm | $P99 | $change % | $sent / $hashed | $calm_stats | $STATS |")
  sleep 1   # the last log-ins finish before the next calm run
done

echo
echo "whoami on SQLite, wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency on $(nproc) cores shared with wrk;"
if [ "$LOAD" = login ]; then
  echo "flooded: $RATE wrong-password log-ins a second (bench/flood.py)"
  done_column="log-ins answered / refused after a hash"
elif [ "$LOAD" = refused ]; then
  echo "flooded: the control, $RATE log-ins a second with an empty password, refused before any hash (bench/flood.py refused)"
  done_column="log-ins answered / —"
else
  echo "flooded: the control, $RATE units a second of 15 ms of arithmetic in another process, under SCHED_IDLE (bench/src/bin/spin.rs)"
  done_column="units done / —"
fi
echo
echo "| round | p99 calm | p99 flooded | change | $done_column | faults / switches, calm | faults / switches, flooded |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "median change: $(printf '%s\n' "${CHANGES[@]}" | sort -g | awk '{a[NR] = $1} END {printf "%+d", a[int((NR + 1) / 2)]}') %"
echo "server peak RSS (VmHWM): $(awk '/^VmHWM:/ {printf "%.1f MB", $2 / 1024}' "/proc/$SERVER_PID/status")"
if [ "$FAILED" != 0 ]; then
  say "some answers were not 2xx (see above): failing"
  exit 1
fi
