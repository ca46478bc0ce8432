#!/usr/bin/env bash
# Builds Tapeline: the server binary and the site it serves (the WebAssembly front end, its
# JavaScript glue, the stylesheet and the public assets).
#
#   bash scripts/build.sh             # debug: what scripts/test.sh tests
#   bash scripts/build.sh --release   # release: what scripts/run.sh runs
#
# This is what `cargo leptos build --split` does, done with cargo, the crates it splits and
# binds the WebAssembly with (in a small tool of Tapeline's own, scripts/wasm-bundle) and
# wasm-opt directly, so that a first run need not compile cargo-leptos (minutes on 2 cores,
# most of it a JavaScript minifier) nor wasm-bindgen's command line (its test runner's HTTP
# and TLS stack). The settings come from one place, `[[workspace.metadata.leptos]]` in
# Cargo.toml, which cargo-leptos also reads: `bash scripts/watch.sh` (live reload while
# developing) builds the same site from the same settings.
#
# The front end and the server are compiled at the same time, into separate target
# directories (as cargo-leptos does), so each fills the core the other leaves idle; on a first
# run, the bundling tool is compiled beside them. The site is assembled as soon as the front
# end is compiled, while the server still is, and published (named in hash.txt) once both are.
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
  # With the standard library built from source (below): built for size, and panics without
  # their source locations, in the release front end only. Panic messages stay. The main
  # module 4.6 % smaller (README, "The WebAssembly bundle"). cargo appends a `--config` list
  # to .cargo/config.toml's, so the target's own flags stay.
  front_std=(-Zbuild-std-features=optimize_for_size
    --config 'target.wasm32-unknown-unknown.rustflags = ["-Zlocation-detail=none"]')
else
  front_profile=(); front_dir=debug
  server_profile=()
  front_std=()
fi

# --- Compile both halves ------------------------------------------------------------------------
front() {
  if [ "$TAPELINE_LEPTOS_TOOLCHAIN" = debian ]; then
    # Debian's compiler with std built from rust-web-src (docs/toolchain.md); -Z flags need
    # RUSTC_BOOTSTRAP on a stable compiler.
    RUSTUP_TOOLCHAIN=debian RUSTC_BOOTSTRAP=1 cargo build --package "$LIB_PACKAGE" --lib \
      --target wasm32-unknown-unknown --target-dir "$FRONT_TARGET" "${front_profile[@]}" \
      -Zbuild-std=std,panic_abort "${front_std[@]}"
  else
    cargo build --package "$LIB_PACKAGE" --lib --target wasm32-unknown-unknown \
      --target-dir "$FRONT_TARGET" "${front_profile[@]}"
  fi
}
# The bundling tool (scripts/wasm-bundle): cuts the module at the pages' split points and
# writes wasm-bindgen's JavaScript glue, with the crates cargo-leptos and wasm-bindgen's command
# line use. Its glue must be for exactly the `wasm-bindgen` version the front end is compiled
# with (WASM_BINDGEN_VERSION, read by setup.sh): installed on a first run, beside the
# compiles, and again whenever its version or that one changes.
WASM_BUNDLE_VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' scripts/wasm-bundle/Cargo.toml | head -1)"
install_wasm_bundle() {
  if ! grep -q "^wasm-bindgen-cli-support = \"=$WASM_BINDGEN_VERSION\"" scripts/wasm-bundle/Cargo.toml; then
    echo "error: scripts/wasm-bundle/Cargo.toml must pin wasm-bindgen-cli-support (and wasm-bindgen-shared) to =$WASM_BINDGEN_VERSION, the workspace's wasm-bindgen" >&2
    return 1
  fi
  cargo install --locked --force --path scripts/wasm-bundle --root "$HOME/.cargo" \
    --target-dir "$CARGO_TARGET_DIR/wasm-bundle"
}
# The server: rustup's stable compiler, the same one `cargo test` uses, so the two share one
# set of compiled dependencies in the target directory.
server() {
  env -u RUSTC_BOOTSTRAP -u RUSTUP_TOOLCHAIN cargo build --package "$BIN_PACKAGE" \
    --bin "$BIN_TARGET" "${server_profile[@]}"
}

# --- The site -----------------------------------------------------------------------------------
profile_dir="$($release && echo release || echo debug)"
# The bundling tool, wasm-opt and esbuild write to a staging directory of this
# profile's own; the site gets content-hashed copies (below).
STAGE="$CARGO_TARGET_DIR/$profile_dir/site-stage"
BUNDLE="$STAGE/bundle"
wasm="$FRONT_TARGET/wasm32-unknown-unknown/$front_dir/${LIB_PACKAGE//-/_}.wasm"
# Content-hashed names, so browsers may keep the files for a year and a new build is never
# mixed with an old one: the stylesheet as $NAME.<hash>.css; the WebAssembly bundle, whose
# files import one another by their plain names, as a directory named by a hash of them all,
# pkg/<hash>/. The names go to hash.txt next to the binary, which reads them (app::server::site),
# so a release and a debug binary sharing this site directory each serve the bundle built
# with them. Each file also gets its .gz (and, in a release, .br) for the server to send as it
# is to clients that accept it.
compress() {
  if $release; then
    gzip -9 -c "$1" >"$1.gz"
    brotli -q 11 -c "$1" >"$1.br"
  else
    gzip -1 -c "$1" >"$1.gz"
  fi
}
# The front end's half of the site: staged, then packaged into pkg/ under content-hashed
# names. Nothing serves it until publish (below) names it in hash.txt.
package_site() {
  log "assembling the site in $SITE"
  mkdir -p "$PKG" "$STAGE"
  # What the staged bundle was made from; when that has not changed, the bundling tool and
  # wasm-opt (a minute on a release bundle) are not run again.
  made_from="$profile_dir $(stat -c %Y.%s "$wasm") $WASM_BINDGEN_VERSION $WASM_BUNDLE_VERSION"
  if [ "$(cat "$STAGE/.made-from" 2>/dev/null)" != "$made_from" ] || [ ! -f "$BUNDLE/$NAME.wasm" ]; then
    rm -rf "$STAGE/.made-from" "$BUNDLE"
    # 1. Cut the module at the pages' split points (app::pages::lazy) and give the main module
    #    its JavaScript glue: the main module ($NAME.wasm, $NAME.js), one module per area of
    #    pages and per set of areas sharing code, their loader and the manifest the server
    #    preloads a page's modules from (scripts/wasm-bundle/src/main.rs). It prints the split
    #    modules.
    tapeline-wasm-bundle "$wasm" "$BUNDLE" "$NAME" >"$STAGE/split-modules"
    if $release; then
      # 2. The flags cargo-leptos uses, on every module, one per core; wasm-opt is binaryen's,
      # from npm (never Debian's: setup.sh).
      # The split modules keep the linker's label names (name subsection 3), which this
      # wasm-opt does not know and warns about once per module before dropping them.
      { echo "$BUNDLE/$NAME.wasm"; cat "$STAGE/split-modules"; } | xargs -P "$(nproc)" -I{} \
        wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int {} -o {} \
        2> >(grep -v "^warning: unknown name subsection" >&2)
      # 3. Minified JavaScript. wasm-bindgen lists the loader once per function imported from
      #    it, under the same key and always the same module: a duplicate key esbuild would
      #    warn about, harmlessly.
      for js in "$BUNDLE"/*.js; do
        esbuild "$js" --minify --format=esm --log-level=warning --log-override:duplicate-object-key=silent \
          --allow-overwrite --outfile="$js"
      done
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

  css_hash="$(sha256sum "$STAGE/$NAME.css" | cut -c1-20)"
  css="$PKG/$NAME.$css_hash.css"
  if [ ! -f "$css" ] || [ ! -f "$css.gz" ]; then
    cp "$STAGE/$NAME.css" "$css.tmp"
    compress "$css.tmp"
    mv -f "$css.tmp.gz" "$css.gz"
    if $release; then mv -f "$css.tmp.br" "$css.br"; fi
    mv -f "$css.tmp" "$css"
  fi
  bundle_hash="$(cd "$BUNDLE" && sha256sum -- * | sha256sum | cut -c1-20)"
  bundle_dir="$PKG/$bundle_hash"
  # Assembled beside it and renamed into place, so the directory is complete once it exists.
  if [ ! -d "$bundle_dir" ]; then
    rm -rf "$bundle_dir.tmp"
    cp -R "$BUNDLE" "$bundle_dir.tmp"
    for file in "$bundle_dir.tmp"/*; do compress "$file"; done
    mv "$bundle_dir.tmp" "$bundle_dir"
  fi
  # What publish (below) writes to hash.txt; this job runs in a subshell of its own.
  printf 'css: %s\nbundle: %s\n' "$css_hash" "$bundle_hash" >"$STAGE/names"
}

# The front end, then its half of the site, while the server is still compiling: the server's
# last step (its optimised link, one codegen unit) keeps one core and leaves the other idle,
# and the site's assembly (wasm-opt on every module: about two minutes of a release build's
# first run) fits there. On a first run the bundling tool is compiled beside the front end.
front_and_site() {
  local tool=""
  if [ "$(tapeline-wasm-bundle --version 2>/dev/null)" != "tapeline-wasm-bundle $WASM_BUNDLE_VERSION wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
    log "installing the WebAssembly bundling tool (scripts/wasm-bundle; first run only)"
    install_wasm_bundle & tool=$!
  fi
  # The tool's compile is waited for either way, so that a failed front end never leaves it
  # running after this script has exited.
  local status=0
  front || status=$?
  if [ -n "$tool" ] && ! wait "$tool" && [ "$status" = 0 ]; then status=1; fi
  [ "$status" = 0 ] || return "$status"
  package_site
}

jobs_=(front_and_site server)
log "compiling the front end (WebAssembly) and the server ($($release && echo release || echo debug)), side by side"
pids=()
for job in "${jobs_[@]}"; do "$job" & pids+=($!); done
failed=()
for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed+=("${jobs_[$i]}"); done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "error: scripts/build.sh: failed: ${failed[*]}" >&2
  exit 1
fi

# --- Publish: both halves built ------------------------------------------------------------------
# Only now does hash.txt name the new site, so a binary is never left beside a site that
# another build made for it.
manifest="$CARGO_TARGET_DIR/$profile_dir/hash.txt"
old_manifest="$(cat "$manifest" 2>/dev/null || true)"
new_manifest="$(cat "$STAGE/names")"
bundle_dir="$PKG/$(sed -n 's/^bundle: //p' <<<"$new_manifest")"
# This binary's previous bundle is no longer served by anyone.
while IFS=': ' read -r kind hash; do
  [ -n "$hash" ] || continue
  grep -qx "$kind: $hash" <<<"$new_manifest" && continue
  case "$kind" in
    bundle) rm -rf "${PKG:?}/$hash" ;;
    *) rm -f "$PKG/$NAME.$hash.$kind"{,.gz,.br} ;;
  esac
done <<<"$old_manifest"
printf '%s\n' "$new_manifest" >"$manifest"
# Files of the plain-named layout builds before content hashing left behind.
rm -f "$PKG/$NAME".{js,wasm,css,d.ts} "$PKG/${NAME}_bg.wasm.d.ts"
cp -R "$ASSETS_DIR"/. "$SITE"/
modules=("$bundle_dir"/*.wasm)
log "built: $CARGO_TARGET_DIR/$profile_dir/$BIN_TARGET, site $SITE (WebAssembly: the main module $(du -k "$bundle_dir/$NAME.wasm" | cut -f1) KB, $(du -k "$bundle_dir/$NAME.wasm.gz" | cut -f1) KB gzipped; ${#modules[@]} modules in all, $(cat "$bundle_dir"/*.wasm.gz | wc -c | awk '{printf "%d", $1/1024}') KB gzipped)"
