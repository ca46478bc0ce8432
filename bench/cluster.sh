#!/usr/bin/env bash
# Key-authenticated throughput through nginx (issue 11): `GET /api/v1/whoami` with an API key
# as `Authorization: Bearer`, measured with wrk against
#   - one `tapeline serve` process directly (the baseline, no nginx), then
#   - nginx running the configuration in docs/deploy.md in front of 1, 2 and 3 processes,
# every run the same length and the same number of connections. The processes share a fresh
# PostgreSQL database and a redis-server of this script's own (the deployment that
# docs/deploy.md describes), with key limits high enough never to refuse a call; a run that
# gets any answer but 200 fails the script. Everything it starts it stops, and the database is
# dropped, on any exit. Not part of the tests: the figures depend on the machine and on
# whatever else it is doing.
#
#   bash bench/cluster.sh                          # (or bash scripts/bench.sh cluster)
#                                                  # 20 s per run, 32 connections, 2 threads
#   DURATION=30s CONNECTIONS=64 bash bench/cluster.sh
#
# PostgreSQL: the server of TAPELINE_TEST_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/test); the script creates a database `tapeline_bench_*`
# on it and drops it afterwards.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
source scripts/setup.sh

DURATION="${DURATION:-20s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
WARMUP="${WARMUP:-3s}"
ADMIN_URL="${TAPELINE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"

source bench/lib.sh
ensure_tool wrk
NGINX=/usr/sbin/nginx
[ -x "$NGINX" ] || NGINX=nginx

server_binary

WORK="$(mktemp -d)"
DB="tapeline_bench_$$_$RANDOM"
PIDS=()          # tapeline processes
REDIS_PID=""
NGINX_PID=""
cleanup() {
  set +e
  [ -n "$NGINX_PID" ] && kill -TERM "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  [ -n "$REDIS_PID" ] && kill -TERM "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
  psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
  [ -n "${KEEP_WORK:-}" ] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

# --- The shared parts: a fresh database, Redis, the settings every process reads -----------
psql -q "$ADMIN_URL" -c "CREATE DATABASE $DB" >/dev/null
DATABASE_URL="${ADMIN_URL%/*}/$DB"
REDIS_PORT="$(free_port)"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" \
  >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
NGINX_PORT="$(free_port)"
SITE="$CARGO_TARGET_DIR/site"   # the API serves without it (checked); the pages would need it
[ -d "$SITE" ] || { SITE="$WORK/site"; mkdir -p "$SITE"; }
export TAPELINE_DATABASE_URL="$DATABASE_URL"
export TAPELINE_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
export TAPELINE_PUBLIC_URL="http://127.0.0.1:$NGINX_PORT"
export TAPELINE_KEY_RATE_LIMIT=1000000 TAPELINE_KEY_DAILY_QUOTA=1000000000
export TAPELINE_LOG=warn LEPTOS_SITE_ROOT="$SITE" TAPELINE_DATA_DIR="$WORK"

TOKEN="$(make_key "$BIN" wrk 1)"

start_process() { # N: the N-th process, on a port of its own
  local port; port="$(free_port)"
  mkdir -p "$WORK/process$1"
  TAPELINE_DATA_DIR="$WORK/process$1" "$BIN" serve --listen "127.0.0.1:$port" >"$WORK/process$1.log" 2>&1 &
  PIDS+=($!)
  PORTS+=("$port")
  wait_for "http://127.0.0.1:$port/healthz"
}

# nginx with the documented configuration (docs/deploy.md's ```nginx block), `listen 80`
# and the upstreams replaced as server/tests/cluster/harness.rs does, in a minimal main
# configuration like Debian's (worker_processes auto), access log off.
start_nginx() { # PORT...: the processes it sends to
  local dir="$WORK/nginx" upstreams="" port
  mkdir -p "$dir"
  for port in "$@"; do
    upstreams+="    server 127.0.0.1:$port max_fails=1 fail_timeout=10s;\n"
  done
  awk '/^```nginx$/ {inside=1; next} inside && /^```$/ {exit} inside' "$ROOT/docs/deploy.md" \
    | awk -v ups="$upstreams" '/^ *server 127\.0\.0\.1:300[0-9]/ { if (!done) { printf "%s", ups; done=1 } next } { print }' \
    | sed "s/listen 80;/listen 127.0.0.1:$NGINX_PORT;/" >"$dir/tapeline.conf"
  grep -q "listen 127.0.0.1:$NGINX_PORT;" "$dir/tapeline.conf"
  [ "$(grep -c '^ *server 127.0.0.1:' "$dir/tapeline.conf")" = "$#" ]
  cat >"$dir/nginx.conf" <<EOF
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes auto;
pid nginx.pid;
error_log error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path client_body; proxy_temp_path proxy;
  fastcgi_temp_path fastcgi; uwsgi_temp_path uwsgi; scgi_temp_path scgi;
  include tapeline.conf;
}
EOF
  "$NGINX" -p "$dir" -c nginx.conf -e error.log -g "daemon off;" 2>"$dir/stderr.log" &
  NGINX_PID=$!
  wait_for "http://127.0.0.1:$NGINX_PORT/healthz"
}

stop_nginx() {
  kill -TERM "$NGINX_PID"; wait "$NGINX_PID" || true; NGINX_PID=""
}

# CPU time so far (clock ticks): one line per process (`pid:start-time name ticks`), and
# the machine's busy time as `busy busy TICKS` (from /proc/stat).
cpu_ticks() {
  # (a process may exit between the listing and the reading: not an error)
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk '{ name = $2; gsub(/[()]/, "", name); print $1 ":" $22, name, $14 + $15 }'
  awk '$1 == "cpu" { print "busy", "busy", $2 + $3 + $4 + $7 + $8 }' /proc/stat
}
# Where the CPU went during a run, in cores busy on average: the programs by name, counting
# the processes that lived through the whole run; "rest" is the rest of the machine's busy
# time (wrk, which has exited by then, processes that started or ended meanwhile, the
# kernel's own threads, anything else running).
cpu_share() { # BEFORE AFTER MILLISECONDS
  awk -v secs="$(($3))" -v hz="$(getconf CLK_TCK)" '
    NR == FNR { before[$1] = $3; next }
    $1 in before { used[$2] += $3 - before[$1] }
    END {
      secs /= 1000
      split("tapeline postgres nginx redis-server", names, " ")
      for (i = 1; i <= 4; i++) { n = names[i]; named += used[n]; printf "%s %.2f, ", n, used[n] / hz / secs }
      printf "rest %.2f", (used["busy"] - named) / hz / secs
    }' "$1" "$2"
}

RESULTS=()
CPU=()
measure() { # NAME URL
  local out started
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -H "Authorization: Bearer $TOKEN" "$2" >/dev/null
  cpu_ticks >"$WORK/cpu.before"
  started="$(date +%s%3N)"
  out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$2")"
  cpu_ticks >"$WORK/cpu.after"
  CPU+=("$1: $(cpu_share "$WORK/cpu.before" "$WORK/cpu.after" "$(date +%s%3N) - $started")")
  echo "$out" >&2
  echo "CPU, cores busy on average: ${CPU[-1]}" >&2
  answers_ok "$1" "$out" || exit 1
  local rps p50 p99
  rps="$(awk '/^Requests\/sec:/ {printf "%d", $2}' <<<"$out")"
  p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  RESULTS+=("| $1 | $rps | $p50 | $p99 |")
}

PORTS=()
start_process 1
# Is the key really accepted? (a refused key would be measured as fast 401s)
curl -fsS -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:${PORTS[0]}/api/v1/whoami" >/dev/null
say "1 process, directly (no nginx)"
measure "1 process, direct (no nginx)" "http://127.0.0.1:${PORTS[0]}/api/v1/whoami"
for n in 1 2 3; do
  [ "$n" -gt 1 ] && start_process "$n"
  start_nginx "${PORTS[@]}"
  say "nginx in front of $n process(es)"
  measure "nginx → $n process$([ "$n" -gt 1 ] && echo es)" "http://127.0.0.1:$NGINX_PORT/api/v1/whoami"
  stop_nginx
done

cat <<EOF

GET /api/v1/whoami with an API key; wrk -t$THREADS -c$CONNECTIONS -d$DURATION (after a $WARMUP warm-up) on $(nproc) cores
| setup | requests/s | p50 | p99 |
|---|---|---|---|
$(printf '%s\n' "${RESULTS[@]}")

CPU during each run, in cores busy on average (of $(nproc)):
$(printf '%s\n' "${CPU[@]}")
EOF
