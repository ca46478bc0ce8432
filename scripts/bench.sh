#!/usr/bin/env bash
# Runs Tapeline's benchmarks and prints their figures; the README's tables come from this
# command. Not part of the tests: timings on a shared 2-core machine are noisy, so each
# benchmark compares against a baseline measured in the same run (hello-world, or key limits
# on versus off) rather than against a fixed number.
#
#   bash scripts/bench.sh            # each route against axum's hello-world (bench/routes.sh)
#   bash scripts/bench.sh flood      # whoami's p99 calm and during a log-in flood, in rounds (bench/flood.sh)
#   bash scripts/bench.sh cluster    # throughput through nginx, 1–3 processes (bench/cluster.sh)
#   bash scripts/bench.sh instructions  # instructions per request under callgrind (bench/instructions.sh)
#   bash scripts/bench.sh wasm       # each page's WebAssembly, gzipped and brotli, from the release site (bench/wasm.sh)
#   bash scripts/bench.sh criterion  # every criterion benchmark (bench/benches/, bench profile)
#   bash scripts/bench.sh limits     # one file of bench/benches/
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
case "${1:-routes}" in
  routes) exec bash bench/routes.sh ;;
  flood) exec bash bench/flood.sh ;;
  cluster) exec bash bench/cluster.sh ;;
  instructions) exec bash bench/instructions.sh ;;
  wasm) exec bash bench/wasm.sh ;;
esac
source scripts/setup.sh
if [ "$1" = criterion ]; then
  cargo bench -p tapeline-bench
else
  cargo bench -p tapeline-bench --bench "$1"
fi
