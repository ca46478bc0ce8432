#!/usr/bin/env bash
# The API's contract, checked against a real server on a fresh SQLite database:
#   1. Schemathesis (pinned, in .tools/venv) reads the served /api/openapi.json and runs every
#      check (but one on one operation: scripts/schemathesis.toml says why), in every phase
#      (examples, coverage, fuzzing, stateful), once with a key at the top level (8, an
#      admin's) and once with a key at level 1 (a user's): any finding fails;
#   2. a client generated fresh from the served document by openapi-python-client (pinned)
#      runs examples/generated_client.py unchanged, and examples/stdlib_client.py runs on the
#      standard library alone — both against a key with a low rate limit, so that their 429
#      handling is exercised, not just written.
#
#   bash scripts/contract.sh [path/to/tapeline]    # default: the debug build
#
# TAPELINE_CONTRACT_EXAMPLES sets Schemathesis's examples per operation and phase (default
# 25: the whole script then takes a few minutes on 2 cores). Rate limits stay on: the keys'
# own limits and the anonymous limit are raised, not disabled.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
BIN="${1:-$CARGO_TARGET_DIR/debug/tapeline}"
EXAMPLES="${TAPELINE_CONTRACT_EXAMPLES:-25}"
[ -x "$BIN" ] || { echo "error: no Tapeline binary at $BIN (bash scripts/build.sh)" >&2; exit 1; }
say() { printf '\033[1;34m[contract]\033[0m %s\n' "$*" >&2; }

# The tools, pinned, in a virtual environment of the checkout's own (first run only).
SCHEMATHESIS_VERSION="4.32.5"
OPENAPI_PYTHON_CLIENT_VERSION="0.29.1"
VENV="$TOOLS/venv"
if ! "$VENV/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION" ||
   ! "$VENV/bin/openapi-python-client" --version 2>/dev/null | grep -q "$OPENAPI_PYTHON_CLIENT_VERSION"; then
  say "pip: schemathesis $SCHEMATHESIS_VERSION and openapi-python-client $OPENAPI_PYTHON_CLIENT_VERSION into .tools/venv"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION" "openapi-python-client==$OPENAPI_PYTHON_CLIENT_VERSION"
fi

work="$(mktemp -d)"
server_pid=""
finish() {
  status=$?
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  if [ "$status" != 0 ] && [ -f "$work/server.log" ]; then
    echo "--- the server's log (last 40 lines) ---" >&2
    tail -n 40 "$work/server.log" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap finish EXIT

# --- A server of our own ----------------------------------------------------------------------
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
export TAPELINE_DATA_DIR="$work/data"
TAPELINE_ANON_RATE_LIMIT=1000000 "$BIN" serve --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -sf -o /dev/null "$base/healthz" && break
  kill -0 "$server_pid" 2>/dev/null || { echo "error: the server stopped" >&2; exit 1; }
  sleep 0.2
done
curl -sf -o /dev/null "$base/healthz" || { echo "error: the server never answered /healthz" >&2; exit 1; }

# People and keys, made the way an operator makes them: with the binary's command line (the
# operator sets the keys' limits: staff may not change their own).
account() { # username role
  echo "contract password for $1" |
    "$BIN" users create --username "$1" --email "$1@contract.test" --password-stdin --role "$2" >/dev/null
}
key() { # username level name
  "$BIN" keys create --username "$1" --level "$2" --name "$3" --expires-in 1d
}
limit() { # token rate quota
  local id="${1#tpl_}"
  "$BIN" admin keys limit "${id:0:12}" --rate "$2" --quota "$3" --reason "contract tests" >/dev/null
}
# The admin's key first, alone: its run may revoke, throttle or suspend anything that exists
# (that is what level 8 may do), so the other people and keys are made after it.
account contract-admin admin
top="$(key contract-admin 8 "Schemathesis, level 8")"
limit "$top" 1000000 1000000000

# --- Schemathesis -----------------------------------------------------------------------------
schemathesis() { # label token
  say "Schemathesis with the $1 key: every check, every phase, $EXAMPLES examples per operation"
  # From the scratch directory: Schemathesis keeps a cache in its working directory. Every
  # check is on by default; scripts/schemathesis.toml holds the one exception and its reason.
  (cd "$work" && SCHEMATHESIS_HOOKS=contract_hooks PYTHONPATH="$OLDPWD/scripts" PYTHONDONTWRITEBYTECODE=1 \
    "$VENV/bin/st" --config-file "$OLDPWD/scripts/schemathesis.toml" run "$base/api/openapi.json" \
    --header "Authorization: Bearer $2" \
    --phases examples,coverage,fuzzing,stateful \
    --max-examples "$EXAMPLES" \
    --workers 1 \
    --generation-database none \
    --no-color)
}
schemathesis "level-8" "$top"

account contract-user user
low="$(key contract-user 1 "Schemathesis, level 1")"
limit "$low" 1000000 1000000000
schemathesis "level-1" "$low"

account contract-sewist user
generated="$(key contract-sewist 3 "example: generated client")"
stdlib="$(key contract-sewist 3 "example: standard library")"
# Low enough that each example meets a 429 and must wait it out (4 calls, then one every 15 s).
limit "$generated" 4 10000
limit "$stdlib" 4 10000

# --- Clients ------------------------------------------------------------------------------------
say "generating a Python client from the served document (openapi-python-client)"
(cd "$work" && "$VENV/bin/openapi-python-client" generate --url "$base/api/openapi.json" \
  --config "$OLDPWD/examples/client-config.yaml" --output-path "$work/client" >/dev/null)
run_example() { # script key
  say "examples/$1"
  local out="$work/$1.out"
  TAPELINE_URL="$base" TAPELINE_KEY="$2" PYTHONPATH="$work/client" \
    "$VENV/bin/python" "examples/$1" examples/measurements.csv | tee "$out"
  # The example met the key's rate limit and waited as told, and read the 422's field errors.
  grep -q "^rate limited: waiting" "$out" || { echo "error: examples/$1 never met a 429" >&2; exit 1; }
  grep -q "^refused (422): measurements.shoulderSlope" "$out" || { echo "error: examples/$1 did not report the 422" >&2; exit 1; }
}
run_example generated_client.py "$generated"
run_example stdlib_client.py "$stdlib"
say "the API contract holds"
