#!/usr/bin/env bash
# Installs what Tapeline needs (first run only), builds it in release mode and runs it on an
# embedded SQLite database at http://127.0.0.1:3000. Extra arguments go to `tapeline serve`
# (see `target/release/tapeline serve --help`); TAPELINE_* variables work too.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Only what building and running need: not the tests' browser, proxy, cache or Python tools
# (scripts/setup.sh, TAPELINE_SETUP).
TAPELINE_SETUP=build bash scripts/build.sh --release
# The binary and the site are where the build put them (CARGO_TARGET_DIR, when set).
target="${CARGO_TARGET_DIR:-$PWD/target}"
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-$target/site}"
# The address to open: TAPELINE_LISTEN's or the default, unless `--listen` is given (then the
# server's own first log line names it).
where="open http://${TAPELINE_LISTEN:-127.0.0.1:3000}"
for arg in "$@"; do
  case "$arg" in --listen|--listen=*) where="the address it listens on follows" ;; esac
done
printf '\033[1;34m[run]\033[0m %s\n' "starting Tapeline — $where (Ctrl-C stops it)" >&2
exec "$target/release/tapeline" serve "$@"
