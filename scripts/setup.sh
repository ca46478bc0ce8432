#!/usr/bin/env bash
# Installs everything Tapeline needs to build, run and test on a fresh Debian machine.
#
# Idempotent: every step checks first and skips what is already in place, so a second
# run takes seconds. Sourced by scripts/run.sh and scripts/test.sh; it can also be run
# on its own (`bash scripts/setup.sh`).
#
# The WebAssembly front end needs a wasm32 standard library. Where rustup already has the
# `wasm32-unknown-unknown` target we use it; otherwise (the usual case on these machines,
# where rustup cannot download targets) we use Debian's `rustc-web` + `rust-web-src`
# and build std from source with `-Zbuild-std`. See docs/toolchain.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"            # project-local tools (npm binaryen, cached marker files)
CARGO_LEPTOS_VERSION="0.3.11"
# Must equal the `wasm-bindgen` version pinned with `=` in Cargo.toml.
WASM_BINDGEN_VERSION="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' "$ROOT/Cargo.toml")"
BINARYEN_VERSION="132.0.0"

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }

export PATH="$HOME/.cargo/bin:$PATH"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# --- 1. Debian packages -------------------------------------------------------------
if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  WASM_ROUTE=rustup
  APT_PKGS=(chromium)
else
  WASM_ROUTE=debian
  # lld-22: /usr/bin/rust-lld (from rust-web-llvm) points at it and dangles otherwise.
  # Never Debian's binaryen: its old wasm-opt breaks wasm-bindgen's externref table.
  APT_PKGS=(rustc-web cargo-web rust-web-src lld-22 chromium)
fi
# Node.js and npm (for Playwright and wasm-opt): from apt only when the machine has none;
# an existing Node (e.g. from NodeSource) is used as it is.
command -v npm >/dev/null || APT_PKGS+=(nodejs npm)
# psql: the test command checks PostgreSQL with it.
command -v psql >/dev/null || APT_PKGS+=(postgresql-client)
# nginx and Redis: the cluster tests (server/tests/cluster.rs) start their own, on free ports
# with their own configuration; this script neither uses nor starts the system services.
APT_PKGS+=(nginx redis-server)
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

# --- 3. cargo-leptos ---------------------------------------------------------------------
# Built in the dev profile without debug info: ~8 min on 2 cores instead of ~26 min for the
# release profile, and it builds the workspace identically (it mostly drives cargo).
# `no_downloads`: it never fetches tools itself; it uses wasm-bindgen and wasm-opt from PATH.
if ! cargo-leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  log "cargo install cargo-leptos $CARGO_LEPTOS_VERSION (debug profile, takes several minutes)"
  # Its lock file needs rustc >= 1.96, which Debian's rustc-web provides.
  CARGO_PROFILE_DEV_DEBUG=0 RUSTUP_TOOLCHAIN="$LEPTOS_TOOLCHAIN" \
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --features no_downloads \
    --debug --locked --root "$HOME/.cargo"
fi

# --- 4. wasm-bindgen-cli (exactly the crate's version) ---------------------------------
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION"; then
  log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # `--locked` fails to resolve on these machines (a locked version is missing from the
  # registry); the unlocked build is fine.
  RUSTUP_TOOLCHAIN="$LEPTOS_TOOLCHAIN" cargo install wasm-bindgen-cli \
    --version "$WASM_BINDGEN_VERSION" --root "$HOME/.cargo"
fi

# --- 5. npm: wasm-opt (binaryen) and Playwright -------------------------------------------
mkdir -p "$TOOLS"
if [ ! -x "$TOOLS/node_modules/.bin/wasm-opt" ] || \
   ! grep -q "\"version\": \"$BINARYEN_VERSION\"" "$TOOLS/node_modules/binaryen/package.json" 2>/dev/null; then
  log "npm: binaryen@$BINARYEN_VERSION (wasm-opt for release builds)"
  (cd "$TOOLS" && npm install --no-audit --no-fund --silent --prefix "$TOOLS" "binaryen@$BINARYEN_VERSION")
fi
# Reinstalled whenever the lock file changed since the last install (npm keeps a copy of it
# in node_modules/.package-lock.json).
if [ -f "$ROOT/end2end/package-lock.json" ] && \
   { [ ! -d "$ROOT/end2end/node_modules/@playwright/test" ] || \
     [ "$ROOT/end2end/package-lock.json" -nt "$ROOT/end2end/node_modules/.package-lock.json" ]; }; then
  log "npm: Playwright and axe-core (browser download skipped: Debian's Chromium is used)"
  (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
fi

# --- Environment for the callers --------------------------------------------------------
export PATH="$TOOLS/node_modules/.bin:$PATH"
export TAPELINE_LEPTOS_TOOLCHAIN="$LEPTOS_TOOLCHAIN"
# One target directory for cargo test and cargo leptos, so nothing is built twice.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

# Runs cargo-leptos with the environment the chosen wasm route needs.
leptos() {
  if [ "$TAPELINE_LEPTOS_TOOLCHAIN" = debian ]; then
    # The front end: Debian's compiler, std built from rust-web-src. build-std passes -Z
    # flags to every crate, which Debian's rustc accepts only with RUSTC_BOOTSTRAP.
    # The server: rustup's stable (without RUSTC_BOOTSTRAP), the same compiler `cargo test`
    # uses, so the two share one set of compiled dependencies in target/.
    RUSTUP_TOOLCHAIN=debian RUSTC_BOOTSTRAP=1 \
      LEPTOS_BIN_CARGO_COMMAND="env -u RUSTC_BOOTSTRAP -u RUSTUP_TOOLCHAIN cargo" \
      cargo leptos "$@" --lib-cargo-args=-Zbuild-std=std,panic_abort
  else
    cargo leptos "$@"
  fi
}
log "toolchain ready (wasm route: $WASM_ROUTE)"
