#!/usr/bin/env bash
# What each page's WebAssembly weighs (issue 12: 250 KB gzipped at most), from the release
# site that `scripts/build.sh --release` assembles: the main module every page loads, and for
# each area of pages (app::pages::lazy) the modules the splitter gave it, as the split
# manifest lists them — the server names the same modules in a page's preload links. Sizes
# are those of the `.gz` (gzip -9) and `.br` (brotli -q 11) files the build wrote beside each
# module, so what a browser receives, not a recompression.
#
#   bash bench/wasm.sh                 # (or bash scripts/bench.sh wasm) builds the release site when absent
#   bash bench/wasm.sh DIR             # a bundle directory of your own (target/site/pkg/<hash>)
#
# Counts the WebAssembly only, as the issue does: the JavaScript glue and the loader are a few
# KB more per page.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ $# -gt 1 ]; then
  echo "usage: bash bench/wasm.sh [bundle-directory]" >&2
  exit 2
fi
if [ $# = 1 ]; then
  bundle="$1"
else
  target="${CARGO_TARGET_DIR:-$PWD/target}"
  if ! [ -f "$target/release/hash.txt" ]; then
    bash scripts/build.sh --release
  fi
  hash="$(sed -n 's/^bundle: //p' "$target/release/hash.txt")"
  bundle="$target/site/pkg/$hash"
fi
if ! [ -f "$bundle/__wasm_split_manifest.json" ]; then
  echo "bench/wasm.sh: $bundle holds no split manifest (__wasm_split_manifest.json): not a bundle scripts/build.sh made" >&2
  exit 1
fi

python3 - "$bundle" <<'EOF'
import json, os, re, sys

bundle = sys.argv[1]
with open(os.path.join(bundle, "__wasm_split_manifest.json")) as f:
    manifest = json.load(f)

def size(module, ext):
    path = os.path.join(bundle, f"{module}.wasm{ext}")
    if not os.path.exists(path):
        sys.exit(f"bench/wasm.sh: {path} is missing (a release build writes .gz and .br beside each module)")
    return os.path.getsize(path)

main = "tapeline"
main_gz, main_br = size(main, ".gz"), size(main, ".br")
rows = []
for point, modules in manifest.items():
    area = re.sub(r"_\d+$", "", point)
    gz = sum(size(m, ".gz") for m in modules)
    br = sum(size(m, ".br") for m in modules)
    rows.append((main_gz + gz, area, len(modules), gz, br))
rows.sort()

every = sorted(
    name[: -len(".wasm")] for name in os.listdir(bundle) if name.endswith(".wasm")
)
all_gz = sum(size(m, ".gz") for m in every)
all_br = sum(size(m, ".br") for m in every)

target = 250 * 1000
print(f"{'area':<16} {'modules':>7} {'its own, gz (br)':>20} {'with the main module, gz (br)':>32}  ≤ 250 KB")
for total_gz, area, n, gz, br in rows:
    ok = "yes" if total_gz <= target else "no"
    print(f"{area:<16} {n:>7} {gz:>10,} ({br:>7,}) {total_gz:>20,} ({main_br + br:>9,})  {ok}")
print(f"{'main module':<16} {1:>7} {'':>20} {main_gz:>20,} ({main_br:>9,})  {'yes' if main_gz <= target else 'no'}")
print(f"{'all modules':<16} {len(every):>7} {'':>20} {all_gz:>20,} ({all_br:>9,})")
EOF
