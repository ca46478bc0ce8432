# Shell helpers shared by the server benchmarks (bench/cluster.sh, bench/flood.sh,
# bench/routes.sh, bench/instructions.sh); sourced, not run. Expects `set -euo pipefail` in the caller.

# wrk's settings (issue 12's: 2 threads, 32 connections, 8 s after a 2-s warm-up), each
# overridable from the environment; bench/cluster.sh sets its own before sourcing this.
DURATION="${DURATION:-8s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
WARMUP="${WARMUP:-2s}"

# A wrk latency (`850.00us`, `1.63ms`, `2.01s`) in microseconds.
us() { awk '{ v = $1 + 0; if ($1 ~ /us$/) print v; else if ($1 ~ /ms$/) print v * 1000; else print v * 1000000 }' <<<"$1"; }

say() { printf '\033[1;34m[bench]\033[0m %s\n' "$*" >&2; }

# How many answers wrk's output (its text, in OUT) counts as not 2xx: 0 when it names none.
non2xx_of() { # OUT
  awk '/Non-2xx or 3xx responses:/ { n = $NF } END { print n + 0 }' <<<"$1"
}

# Whether every answer in wrk's output OUT was 2xx and no socket failed; if not, prints the
# output and what went wrong, under LABEL, and returns 1 (the caller fails the run).
answers_ok() { # LABEL OUT
  local non2xx errors
  non2xx="$(non2xx_of "$2")"
  errors="$(grep 'Socket errors' <<<"$2" || true)"
  if [ "$non2xx" != 0 ] || [ -n "$errors" ]; then
    echo "$2" >&2
    say "$1: $non2xx answers not 2xx ${errors:+($errors)}"
    return 1
  fi
}

# A command from the Debian package of the same name (wrk, valgrind), when the machine has
# none.
ensure_tool() { # COMMAND
  if ! command -v "$1" >/dev/null; then
    say "installing $1 (Debian package)"
    local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq && $sudo apt-get install -y -qq "$1" >/dev/null
  fi
}

# The release server to measure, in BIN: TAPELINE_BIN when set (to compare two builds, each
# measured against hello-world in its own run), else the one cargo builds here.
server_binary() {
  if [ -n "${TAPELINE_BIN:-}" ]; then
    BIN="$TAPELINE_BIN"
    say "measuring $BIN (TAPELINE_BIN)"
  else
    say "building the release server (cargo build --release -p server --bin tapeline)"
    cargo build --release -p server --bin tapeline
    BIN="$CARGO_TARGET_DIR/release/tapeline"   # where cargo built it (setup.sh sets the directory)
  fi
}

# axum's hello-world baseline (bench/src/bin/hello.rs), built here, in HELLO.
hello_binary() {
  say "building hello-world (cargo build --release -p tapeline-bench --bin hello)"
  cargo build --release -p tapeline-bench --bin hello
  HELLO="$CARGO_TARGET_DIR/release/hello"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_for() { # URL: until it answers 200, at most 60 s
  for _ in $(seq 600); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  say "$1 did not answer 200 in 60 s"; return 1
}

# A user and a key of LEVEL from the operator's command line (this migrates the database in
# TAPELINE_DATABASE_URL, or SQLite's in TAPELINE_DATA_DIR); prints the key's token.
make_key() { # BIN KEY_NAME LEVEL
  echo "a long password" | "$1" users create --username bench --email bench@example.org --password-stdin >/dev/null
  new_key "$@"
}

# Another key of LEVEL for make_key's user; prints its token.
new_key() { # BIN KEY_NAME LEVEL
  "$1" keys create --username bench --name "$2" --level "$3"
}

# COUNT measurement sets made through the API of the server on PORT, with the key; prints
# the first one's id.
make_sets() { # PORT TOKEN COUNT
  local i id first=""
  for i in $(seq 0 $(($3 - 1))); do
    id="$(curl -fsS -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
      --data "{\"name\":\"bench $i\",\"measurements\":{\"waist\":$((600 + i))}}" \
      "http://127.0.0.1:$1/api/v1/sets" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')"
    first="${first:-$id}"
  done
  echo "$first"
}
