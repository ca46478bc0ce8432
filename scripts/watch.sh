#!/usr/bin/env bash
# Live reload while developing: `cargo leptos watch` rebuilds the server and the front end on
# every change and reloads the page. It reads the same settings as scripts/build.sh
# (`[[workspace.metadata.leptos]]` in Cargo.toml). Running and testing Tapeline need neither
# this script nor cargo-leptos: the first run installs it (several minutes), later ones start
# at once. Extra arguments go to `cargo leptos watch`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
CARGO_LEPTOS_VERSION="0.3.11"

# Built in the dev profile without debug info: ~5 min on 2 cores instead of ~26 min for the
# release profile; it mostly drives cargo. `no_downloads`: it never fetches tools itself; it
# uses wasm-bindgen and wasm-opt from PATH, installed here on first use too (scripts/build.sh
# needs neither wasm-bindgen's command line nor cargo-leptos).
if ! cargo-leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  log "cargo install cargo-leptos $CARGO_LEPTOS_VERSION (debug profile, takes several minutes)"
  # Its lock file needs rustc >= 1.96, which Debian's rustc-web provides.
  CARGO_PROFILE_DEV_DEBUG=0 RUSTUP_TOOLCHAIN="$TAPELINE_LEPTOS_TOOLCHAIN" \
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --features no_downloads \
    --debug --locked --root "$HOME/.cargo"
fi
# Exactly the `wasm-bindgen` crate's version (WASM_BINDGEN_VERSION, from setup.sh).
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (takes several minutes)"
  # `--locked` fails to resolve on these machines (a locked version is missing from the
  # registry); the unlocked build is fine.
  RUSTUP_TOOLCHAIN="$TAPELINE_LEPTOS_TOOLCHAIN" cargo install wasm-bindgen-cli \
    --version "$WASM_BINDGEN_VERSION" --root "$HOME/.cargo"
fi

if [ "$TAPELINE_LEPTOS_TOOLCHAIN" = debian ]; then
  # The front end: Debian's compiler, std built from rust-web-src (docs/toolchain.md). The
  # server: rustup's stable, without RUSTC_BOOTSTRAP, the compiler `cargo test` uses.
  RUSTUP_TOOLCHAIN=debian RUSTC_BOOTSTRAP=1 \
    LEPTOS_BIN_CARGO_COMMAND="env -u RUSTC_BOOTSTRAP -u RUSTUP_TOOLCHAIN cargo" \
    exec cargo leptos watch --split --lib-cargo-args=-Zbuild-std=std,panic_abort "$@"
else
  exec cargo leptos watch --split "$@"
fi
