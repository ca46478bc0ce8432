#!/usr/bin/env bash
# Installs what the tests need (first run only) and runs every test:
#   1. Rust unit and integration tests, each integration test on SQLite and on PostgreSQL,
#      and the cluster tests (real processes behind nginx, with Redis: docs/deploy.md);
#   2. the API contract against a real server (scripts/contract.sh): Schemathesis with a
#      level-8 and a level-1 key, and the example scripts, one through a generated client;
#   3. the Playwright suite in Debian's Chromium against the real server.
# The server and its WebAssembly bundle are built once (debug) and shared by all three.
#
# PostgreSQL: TAPELINE_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test).
# When it is unreachable the run fails; outside CI, TAPELINE_SKIP_POSTGRES=1 skips those tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh

export TAPELINE_TEST_POSTGRES_URL="${TAPELINE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
pg_up() { psql "$TAPELINE_TEST_POSTGRES_URL" -qAtc 'SELECT 1' >/dev/null 2>&1; }
if ! pg_up && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  log "PostgreSQL is not answering; starting the local cluster"
  for version in /etc/postgresql/*; do
    pg_ctlcluster --skip-systemctl-redirect "$(basename "$version")" main start 2>/dev/null || true
  done
  for _ in $(seq 1 20); do pg_up && break; sleep 0.5; done
fi
if ! pg_up; then
  if [ "${CI:-}" = true ] || [ "${TAPELINE_SKIP_POSTGRES:-}" != 1 ]; then
    echo "error: PostgreSQL is unreachable at $TAPELINE_TEST_POSTGRES_URL (set TAPELINE_SKIP_POSTGRES=1 to skip its tests outside CI)" >&2
    exit 1
  fi
  log "PostgreSQL unreachable: its tests are skipped (TAPELINE_SKIP_POSTGRES=1)"
fi

bash scripts/build.sh

log "Rust unit and integration tests (SQLite and PostgreSQL; the cluster with nginx and Redis)"
# In parallel, with the default thread count (see README, "Tests", for the render hang that
# once required one test at a time, and its cause). This also runs server/tests/cluster.rs,
# once: cargo runs one test binary at a time, and the cluster tests take a lock so that they
# run one at a time too (each starts two or three servers, nginx and Redis of its own).
cargo test -p app -p server --features app/ssr

log "the API contract: Schemathesis, a generated client and the examples (scripts/contract.sh)"
bash scripts/contract.sh "$CARGO_TARGET_DIR/debug/tapeline"

log "Playwright end-to-end tests (Chromium)"
# The binary and the site from the target directory in use (CARGO_TARGET_DIR may point
# outside the checkout, to share one build between checkouts).
(cd end2end && TAPELINE_BIN="$CARGO_TARGET_DIR/debug/tapeline" LEPTOS_SITE_ROOT="$CARGO_TARGET_DIR/site" npx playwright test)
