#!/usr/bin/env bash
# Builds Tapeline: the server binary and the site it serves (the WebAssembly front end, its
# JavaScript glue, the stylesheet and the public assets).
#
#   bash scripts/build.sh             # debug: what scripts/test.sh tests
#   bash scripts/build.sh --release   # release: what scripts/run.sh runs
#
# This is what `cargo leptos build` does, done with cargo, wasm-bindgen and wasm-opt directly,
# so that a first run need not compile cargo-leptos (minutes on 2 cores, most of it a
# JavaScript minifier). The settings come from one place, `[[workspace.metadata.leptos]]` in
# Cargo.toml, which cargo-leptos also reads: `bash scripts/watch.sh` (live reload while
# developing) builds the same site from the same settings.
#
# The front end and the server are compiled at the same time, into separate target
# directories (as cargo-leptos does), so each fills the core the other leaves idle; on a first
# run, wasm-bindgen's command line is compiled beside them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh

release=false
case "${1:-}" in
  --release) release=true ;;
  "") ;;
  *) echo "usage: bash scripts/build.sh [--release]" >&2; exit 2 ;;
esac

# --- The settings, from Cargo.toml -------------------------------------------------------------
eval "$(python3 - "$ROOT/Cargo.toml" <<'EOF'
import shlex, sys, tomllib
with open(sys.argv[1], "rb") as f:
    leptos = tomllib.load(f)["workspace"]["metadata"]["leptos"][0]
for key in ("name", "bin-package", "bin-target", "lib-package", "site-root", "site-pkg-dir",
            "style-file", "assets-dir", "lib-profile-release"):
    print(f"{key.replace('-', '_').upper()}={shlex.quote(str(leptos[key]))}")
EOF
)"
# cargo-leptos puts a site root under target/ into the target directory in use.
SITE="${SITE_ROOT/#target/$CARGO_TARGET_DIR}"
PKG="$SITE/$SITE_PKG_DIR"
FRONT_TARGET="$CARGO_TARGET_DIR/front"
if $release; then
  front_profile=(--profile "$LIB_PROFILE_RELEASE"); front_dir="$LIB_PROFILE_RELEASE"
  server_profile=(--release)
else
  front_profile=(); front_dir=debug
  server_profile=()
fi

# --- Compile both halves ------------------------------------------------------------------------
front() {
  if [ "$TAPELINE_LEPTOS_TOOLCHAIN" = debian ]; then
    # Debian's compiler with std built from rust-web-src (docs/toolchain.md); -Z flags need
    # RUSTC_BOOTSTRAP on a stable compiler.
    RUSTUP_TOOLCHAIN=debian RUSTC_BOOTSTRAP=1 cargo build --package "$LIB_PACKAGE" --lib \
      --target wasm32-unknown-unknown --target-dir "$FRONT_TARGET" "${front_profile[@]}" \
      -Zbuild-std=std,panic_abort
  else
    cargo build --package "$LIB_PACKAGE" --lib --target wasm32-unknown-unknown \
      --target-dir "$FRONT_TARGET" "${front_profile[@]}"
  fi
}
# wasm-bindgen's command line must be exactly the version of the crate, pinned with `=` in
# Cargo.toml. On a first run it is installed here, beside the two compiles, not before them.
WASM_BINDGEN_VERSION="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' Cargo.toml)"
install_wasm_bindgen() {
  # `--locked` fails to resolve on these machines (a locked version is missing from the
  # registry); the unlocked build is fine. Debian's compiler where the front end uses it.
  RUSTUP_TOOLCHAIN="$TAPELINE_LEPTOS_TOOLCHAIN" cargo install wasm-bindgen-cli \
    --version "$WASM_BINDGEN_VERSION" --root "$HOME/.cargo"
}
# The server: rustup's stable compiler, the same one `cargo test` uses, so the two share one
# set of compiled dependencies in the target directory.
server() {
  env -u RUSTC_BOOTSTRAP -u RUSTUP_TOOLCHAIN cargo build --package "$BIN_PACKAGE" \
    --bin "$BIN_TARGET" "${server_profile[@]}"
}

jobs_=(front server)
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (first run only)"
  jobs_+=(install_wasm_bindgen)
fi
log "compiling the front end (WebAssembly) and the server ($($release && echo release || echo debug)), side by side"
pids=()
for job in "${jobs_[@]}"; do "$job" & pids+=($!); done
failed=()
for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed+=("${jobs_[$i]}"); done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "error: scripts/build.sh: failed: ${failed[*]}" >&2
  exit 1
fi

# --- The site -----------------------------------------------------------------------------------
log "assembling the site in $SITE"
mkdir -p "$PKG"
wasm="$FRONT_TARGET/wasm32-unknown-unknown/$front_dir/${LIB_PACKAGE//-/_}.wasm"
# What the site's WebAssembly was made from; when that has not changed, wasm-bindgen and
# wasm-opt (half a minute on a release bundle) are not run again.
made_from="$($release && echo release || echo debug) $(stat -c %Y.%s "$wasm") $WASM_BINDGEN_VERSION"
if [ "$(cat "$PKG/.made-from" 2>/dev/null)" != "$made_from" ] || [ ! -f "$PKG/$NAME.wasm" ]; then
  rm -f "$PKG/.made-from"
  # Leptos's hydration script loads $PKG/$NAME.js and $PKG/$NAME.wasm.
  wasm-bindgen --target web --out-name "$NAME" --out-dir "$PKG" "$wasm"
  mv -f "$PKG/${NAME}_bg.wasm" "$PKG/$NAME.wasm"
  if $release; then
    # The flags cargo-leptos uses; wasm-opt is binaryen's, from npm (never Debian's: setup.sh).
    wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
      "$PKG/$NAME.wasm" -o "$PKG/$NAME.wasm"
    esbuild "$PKG/$NAME.js" --minify --format=esm --log-level=warning --allow-overwrite \
      --outfile="$PKG/$NAME.js"
  fi
  echo "$made_from" >"$PKG/.made-from"
fi
if $release; then
  # Browsers from the last few years: the stylesheet keeps its modern syntax.
  esbuild "$STYLE_FILE" --minify --target=chrome100,firefox100,safari15 --log-level=warning \
    --outfile="$PKG/$NAME.css"
else
  cp "$STYLE_FILE" "$PKG/$NAME.css"
fi
cp -R "$ASSETS_DIR"/. "$SITE"/
log "built: $CARGO_TARGET_DIR/$($release && echo release || echo debug)/$BIN_TARGET, site $SITE ($(du -k "$PKG/$NAME.wasm" | cut -f1) KB of WebAssembly)"
