# Shell helpers shared by the wrk benchmarks (bench/cluster.sh, bench/routes.sh); sourced,
# not run. Expects `set -euo pipefail` in the caller.

say() { printf '\033[1;34m[bench]\033[0m %s\n' "$*" >&2; }

# wrk, from Debian's package, when the machine has none.
ensure_wrk() {
  if ! command -v wrk >/dev/null; then
    say "installing wrk (Debian package)"
    local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq && $sudo apt-get install -y -qq wrk >/dev/null
  fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_for() { # URL: until it answers 200, at most 60 s
  for _ in $(seq 600); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  say "$1 did not answer 200 in 60 s"; return 1
}
