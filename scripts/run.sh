#!/usr/bin/env bash
# Installs what Tapeline needs (first run only), builds it in release mode and runs it on an
# embedded SQLite database at http://127.0.0.1:3000. Extra arguments go to `tapeline serve`
# (see `target/release/tapeline serve --help`); TAPELINE_* variables work too.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
log "building Tapeline (release)"
leptos build --release
log "starting Tapeline — open http://${TAPELINE_LISTEN:-127.0.0.1:3000} (Ctrl-C stops it)"
# The binary is where cargo put it (CARGO_TARGET_DIR, when set); the site stays in target/site.
exec "${CARGO_TARGET_DIR:-target}/release/tapeline" serve "$@"
