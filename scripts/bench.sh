#!/usr/bin/env bash
# Runs Tapeline's benchmarks (criterion, in the optimised bench profile) and prints their
# figures; the README's tables come from this command. Not part of the tests: timings on a
# shared 2-core machine are noisy, so each benchmark compares against a baseline measured in
# the same run (for example key limits on versus off) rather than against a fixed number.
#
#   bash scripts/bench.sh            # every benchmark
#   bash scripts/bench.sh limits     # one file of bench/benches/
#   bash scripts/bench.sh cluster    # throughput through nginx, 1–3 processes (bench/cluster.sh)
#   bash scripts/bench.sh routes     # each route against axum's hello-world (bench/routes.sh)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
case "${1:-}" in
  cluster) exec bash bench/cluster.sh ;;
  routes) exec bash bench/routes.sh ;;
esac
source scripts/setup.sh
if [ $# -gt 0 ]; then
  cargo bench -p tapeline-bench --bench "$1"
else
  cargo bench -p tapeline-bench
fi
