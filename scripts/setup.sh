#!/usr/bin/env bash
# Installs everything Tapeline needs to build, run and test on a fresh Debian machine.
#
# Idempotent: every step checks first and skips what is already in place, so a second
# run takes seconds. Sourced by scripts/build.sh (which scripts/run.sh runs with
# TAPELINE_SETUP=build: only what building and running need) and scripts/test.sh; it can also
# be run on its own (`bash scripts/setup.sh`, everything).
#
# The WebAssembly front end needs a wasm32 standard library. Where rustup already has the
# `wasm32-unknown-unknown` target we use it; otherwise (the usual case on these machines,
# where rustup cannot download targets) we use Debian's `rustc-web` + `rust-web-src`
# and build std from source with `-Zbuild-std`. See docs/toolchain.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"            # project-local tools (npm binaryen, cached marker files)
BINARYEN_VERSION="132.0.0"
ESBUILD_VERSION="0.28.2"     # minifies the release build's JavaScript glue and stylesheet

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }

export PATH="$HOME/.cargo/bin:$PATH"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# What the caller needs: `build` — compiling and running Tapeline (scripts/run.sh) — or `all`,
# the default: the tests' tools too (Chromium, nginx, Redis, psql, Python's venv, Playwright).
TAPELINE_SETUP="${TAPELINE_SETUP:-all}"
case "$TAPELINE_SETUP" in
  build|all) ;;
  *) echo "TAPELINE_SETUP must be 'build' or 'all', not '$TAPELINE_SETUP'" >&2; return 2 2>/dev/null || exit 2 ;;
esac

# --- 1. Debian packages -------------------------------------------------------------
if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  WASM_ROUTE=rustup
  APT_PKGS=()
else
  WASM_ROUTE=debian
  # lld-22: /usr/bin/rust-lld (from rust-web-llvm) points at it and dangles otherwise.
  # Never Debian's binaryen: its old wasm-opt breaks wasm-bindgen's externref table.
  APT_PKGS=(rustc-web cargo-web rust-web-src lld-22)
fi
# Node.js and npm (for wasm-opt, esbuild and Playwright): from apt only when the machine has
# none; an existing Node (e.g. from NodeSource) is used as it is.
command -v npm >/dev/null || APT_PKGS+=(nodejs npm)
# brotli: scripts/build.sh precompresses the release build's static files.
APT_PKGS+=(brotli)
if [ "$TAPELINE_SETUP" = all ]; then
  # Chromium: the browser tests (Playwright drives Debian's).
  APT_PKGS+=(chromium)
  # psql: the test command checks PostgreSQL with it.
  command -v psql >/dev/null || APT_PKGS+=(postgresql-client)
  # Python's venv module (Debian splits it out): scripts/contract.sh keeps its tools in one.
  python3 -c 'import ensurepip, venv' 2>/dev/null || APT_PKGS+=(python3-venv)
  # nginx and Redis: the cluster tests (server/tests/cluster.rs) start their own, on free
  # ports with their own configuration; this script neither uses nor starts the system
  # services.
  APT_PKGS+=(nginx redis-server)
fi
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- 2. Rust toolchains ----------------------------------------------------------------
command -v rustup >/dev/null || { echo "rustup is required (https://rustup.rs)" >&2; exit 1; }
rustup toolchain list | grep -q '^stable' || rustup toolchain install stable --profile minimal
if [ "$WASM_ROUTE" = debian ]; then
  # Makes Debian's compiler selectable as `+debian` (idempotent).
  rustup toolchain list | grep -q '^debian' || rustup toolchain link debian /usr
  LEPTOS_TOOLCHAIN=debian
else
  LEPTOS_TOOLCHAIN=stable
fi

# --- 3. npm: wasm-opt (binaryen), esbuild and (all) Playwright -------------------------------------------
mkdir -p "$TOOLS"
npm_has() { grep -q "\"version\": \"$2\"" "$TOOLS/node_modules/$1/package.json" 2>/dev/null; }
if ! npm_has binaryen "$BINARYEN_VERSION" || ! npm_has esbuild "$ESBUILD_VERSION"; then
  log "npm: binaryen@$BINARYEN_VERSION (wasm-opt) and esbuild@$ESBUILD_VERSION for release builds"
  (cd "$TOOLS" && npm install --no-audit --no-fund --silent --prefix "$TOOLS" \
    "binaryen@$BINARYEN_VERSION" "esbuild@$ESBUILD_VERSION")
fi
# Reinstalled whenever the lock file changed since the last install (npm keeps a copy of it
# in node_modules/.package-lock.json).
if [ "$TAPELINE_SETUP" = all ] && [ -f "$ROOT/end2end/package-lock.json" ] && \
   { [ ! -d "$ROOT/end2end/node_modules/@playwright/test" ] || \
     [ "$ROOT/end2end/package-lock.json" -nt "$ROOT/end2end/node_modules/.package-lock.json" ]; }; then
  log "npm: Playwright and axe-core (browser download skipped: Debian's Chromium is used)"
  (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
fi

# --- Environment for the callers --------------------------------------------------------
export PATH="$TOOLS/node_modules/.bin:$PATH"
export TAPELINE_LEPTOS_TOOLCHAIN="$LEPTOS_TOOLCHAIN"
# One target directory for cargo test and scripts/build.sh, so nothing is built twice.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
# The `wasm-bindgen` crate's version, pinned with `=` in Cargo.toml: the JavaScript glue
# (scripts/build.sh's bundling tool, scripts/watch.sh's wasm-bindgen) must be for exactly it.
WASM_BINDGEN_VERSION="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' "$ROOT/Cargo.toml")"

log "toolchain ready (wasm route: $WASM_ROUTE)"
