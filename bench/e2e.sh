#!/usr/bin/env bash
# End-to-end figures on this machine: the simulator serving ~1.5 MB product pages, asa in
# front of it on its embedded defaults (SQLite, in-process limits), load from wrk.
# Prints: the simulator's own latency, asa's latency (and so the latency asa adds, p50),
# and product requests per second through asa at a few concurrencies.
# Usage: bench/e2e.sh [seconds per run, default 10]
# Environment: PAGE_BYTES (size of generated pages, default the simulator's ~1.5 MB);
# ASA_RECORD_TRACES=false measures the same without request traces; ASA_BIN skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)"; exit 1; }
if [ -z "${ASA_BIN:-}" ]; then
  cargo build --release -p asa-cli >/dev/null
  ASA_BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/asa"
fi
asa="$ASA_BIN"
unset ASA_BIN  # asa refuses ASA_* variables that are not its settings
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

source bench/asa_dev.sh
export ASA_SANDBOX_BOOTSTRAP=false ASA_FAILURES_DIR="$work/failures" ASA_LOG=warn
export ASA_PLANS_BENCH_RPS=100000 ASA_PLANS_BENCH_BURST=100000 ASA_PLANS_BENCH_CONCURRENCY=10000 ASA_PLANS_BENCH_COUNTRIES=any
# The simulator in a process of its own (an `asa dev` whose API stays idle), as Amazon is.
start_dev sim ${PAGE_BYTES:+--page-bytes "$PAGE_BYTES"}
sim="$dev_sim"
start_dev server --sim "$sim" --live-key bench --credits 1000000000
account="$dev_account" key="$dev_live_key"
export ASA_DATABASE_URL="$dev_database_url"  # for `asa admin account show` below

direct="$sim/amazon.com/dp/B000LQXC2Q?th=1&psc=1"
api="$dev_api/api/v1/amazon/product?query=B000LQXC2Q"
curl -sf "$direct" -o "$work/page.html"
echo "page: $(wc -c <"$work/page.html") bytes"
curl -sf "$api" -H "Authorization: Bearer $key" >/dev/null

run() { # label url conns [header]
  local out t=2
  [ "$3" -lt 2 ] && t=1
  if [ -n "${4:-}" ]; then out=$(wrk -t"$t" -c"$3" -d"${secs}s" --latency -H "$4" "$2")
  else out=$(wrk -t"$t" -c"$3" -d"${secs}s" --latency "$2"); fi
  local p50 p99 rps non2xx
  p50=$(echo "$out" | awk '$1=="50%"{print $2}')
  p99=$(echo "$out" | awk '$1=="99%"{print $2}')
  rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/{print $NF}')
  printf "%-28s c=%-3s p50 %-9s p99 %-9s req/s %-9s non-2xx %s\n" "$1" "$3" "$p50" "$p99" "$rps" "${non2xx:-0}"
}
echo "== latency at one connection (added latency = asa p50 - simulator p50)"
run "simulator direct" "$direct" 1
run "asa product (sim upstream)" "$api" 1 "Authorization: Bearer $key"
echo "== throughput"
for c in 4 16 64; do
  run "asa product (sim upstream)" "$api" "$c" "Authorization: Bearer $key"
done
echo "credits charged: $(( 1000000000 - $("$asa" admin account show "$account" --json | sed -n 's/.*"balance": \([0-9]*\).*/\1/p' | head -1) ))"
