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
profile_dir="$($release && echo release || echo debug)"
# wasm-bindgen, wasm-opt and esbuild write to a staging directory of this profile's own; the
# site gets content-hashed copies (below).
STAGE="$CARGO_TARGET_DIR/$profile_dir/site-stage"
mkdir -p "$PKG" "$STAGE"
wasm="$FRONT_TARGET/wasm32-unknown-unknown/$front_dir/${LIB_PACKAGE//-/_}.wasm"
# What the staged WebAssembly was made from; when that has not changed, wasm-bindgen and
# wasm-opt (half a minute on a release bundle) are not run again.
made_from="$profile_dir $(stat -c %Y.%s "$wasm") $WASM_BINDGEN_VERSION"
if [ "$(cat "$STAGE/.made-from" 2>/dev/null)" != "$made_from" ] || [ ! -f "$STAGE/$NAME.wasm" ]; then
  rm -f "$STAGE/.made-from"
  # Leptos's hydration script loads $NAME.js and $NAME.wasm (hashed names: see below).
  wasm-bindgen --target web --out-name "$NAME" --out-dir "$STAGE" "$wasm"
  mv -f "$STAGE/${NAME}_bg.wasm" "$STAGE/$NAME.wasm"
  if $release; then
    # The flags cargo-leptos uses; wasm-opt is binaryen's, from npm (never Debian's: setup.sh).
    wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
      "$STAGE/$NAME.wasm" -o "$STAGE/$NAME.wasm"
    esbuild "$STAGE/$NAME.js" --minify --format=esm --log-level=warning --allow-overwrite \
      --outfile="$STAGE/$NAME.js"
  fi
  echo "$made_from" >"$STAGE/.made-from"
fi
if $release; then
  # Browsers from the last few years: the stylesheet keeps its modern syntax.
  esbuild "$STYLE_FILE" --minify --target=chrome100,firefox100,safari15 --log-level=warning \
    --outfile="$STAGE/$NAME.css"
else
  cp "$STYLE_FILE" "$STAGE/$NAME.css"
fi

# Content-hashed names ($NAME.<hash>.js, .wasm, .css), so browsers may keep them for a year
# and a new build is never mixed with an old one; the names go to hash.txt next to the
# binary, which reads them (server/src/lib.rs), so a release and a debug binary sharing this
# site directory each serve the bundle built with them. Each file also gets its .gz (and, in
# a release, .br) for the server to send as it is to clients that accept it.
manifest="$CARGO_TARGET_DIR/$profile_dir/hash.txt"
old_manifest="$(cat "$manifest" 2>/dev/null || true)"
new_manifest=""
for ext in js wasm css; do
  hash="$(sha256sum "$STAGE/$NAME.$ext" | cut -c1-20)"
  target="$PKG/$NAME.$hash.$ext"
  if [ ! -f "$target" ] || [ ! -f "$target.gz" ]; then
    cp "$STAGE/$NAME.$ext" "$target.tmp"
    if $release; then
      gzip -9 -c "$target.tmp" >"$target.gz"
      brotli -q 11 -c "$target.tmp" >"$target.br"
    else
      gzip -1 -c "$target.tmp" >"$target.gz"
    fi
    mv -f "$target.tmp" "$target"
  fi
  new_manifest+="$ext: $hash"$'\n'
done
# This binary's previous bundle is no longer served by anyone.
while IFS=': ' read -r ext hash; do
  [ -n "$hash" ] || continue
  grep -qx "$ext: $hash" <<<"$new_manifest" || rm -f "$PKG/$NAME.$hash.$ext"{,.gz,.br}
done <<<"$old_manifest"
printf '%s' "$new_manifest" >"$manifest"
# Files of the plain-named layout builds before content hashing left behind.
rm -f "$PKG/$NAME".{js,wasm,css,d.ts} "$PKG/${NAME}_bg.wasm.d.ts"
cp -R "$ASSETS_DIR"/. "$SITE"/
wasm_hash="$(sed -n 's/^wasm: //p' "$manifest")"
log "built: $CARGO_TARGET_DIR/$profile_dir/$BIN_TARGET, site $SITE ($(du -k "$PKG/$NAME.$wasm_hash.wasm" | cut -f1) KB of WebAssembly, $(du -k "$PKG/$NAME.$wasm_hash.wasm.gz" | cut -f1) KB gzipped)"
