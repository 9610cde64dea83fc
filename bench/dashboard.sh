#!/usr/bin/env bash
# How fast the dashboard's pages come back from a local server with history behind them:
# builds asa (release; ASA_BIN skips the build), starts the simulator and the server with
# `asa dev` (bench/asa_dev.sh) on their embedded defaults (SQLite), gives one account
# HISTORY requests (a mix of 2xx and errors, 20 KB pages) and a batch, signs in with curl,
# then loads each page RUNS
# times and prints the median and p90 of curl's total time (server render + transfer over
# loopback), and the page size. The page's CSS and JS are cacheable and load once.
#
# Usage: bench/dashboard.sh         Knobs: HISTORY (default 2000), RUNS (default 30).
set -euo pipefail
cd "$(dirname "$0")/.."
HISTORY="${HISTORY:-2000}"
RUNS="${RUNS:-30}"
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
start_dev server --page-bytes 20000 --live-key bench --credits 1000000000
base="$dev_api" key="$dev_live_key"

# History: 9 in 10 requests succeed, the rest are captchas (422), over a few marketplaces.
python3 - "$base" "$key" "$HISTORY" <<'EOF'
import sys, urllib.request, urllib.error, concurrent.futures
base, key, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
domains = ["com", "de", "co.uk", "fr", "co.jp"]
def one(i):
    asin = "B0CAPTCHA%d" % (i % 10) if i % 10 == 0 else "B0%08d" % i
    url = "%s/api/v1/amazon/product?query=%s&domain=%s" % (base, asin, domains[i % len(domains)])
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + key})
    try:
        urllib.request.urlopen(req, timeout=60).read()
    except urllib.error.HTTPError as e:
        e.read()
with concurrent.futures.ThreadPoolExecutor(16) as pool:
    list(pool.map(one, range(n)))
EOF
batch=$(curl -sf "$base/api/v1/amazon/batch" -H "Authorization: Bearer $key" -H 'content-type: application/json' \
  -d '{"endpoint":"amazon.product","items":[{"query":"B000LQXC2Q"},{"query":"B0NOTFND01"},{"query":"B000000042"}]}' |
  sed -n 's/.*"id":"\(bat_[0-9a-f]*\)".*/\1/p')
trace=$(curl -s "$base/api/v1/amazon/product?query=B0CAPTCHA1" -H "Authorization: Bearer $key" |
  sed -n 's/.*"request_id":"\(req_[0-9a-f]*\)".*/\1/p')
sleep 1

jar="$work/cookies"
curl -sf -c "$jar" -o /dev/null "$base/dashboard/login" -d "key=$key" -H "Origin: $base" || true
echo "history: $HISTORY requests + a batch of 3; $RUNS loads per page; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-40s %10s %10s %10s\n" "page" "median ms" "p90 ms" "bytes"
for path in /dashboard /dashboard/keys /dashboard/requests "/dashboard/requests?outcome=error" \
  "/dashboard/requests/$trace" /dashboard/batches "/dashboard/batches/$batch" /dashboard/playground \
  /dashboard/login /dashboard/assets/app.css /dashboard/assets/app.js; do
  times=()
  for _ in $(seq 1 "$RUNS"); do
    times+=("$(curl -s -b "$jar" -o "$work/body" -w '%{http_code} %{time_total}' "$base$path")")
  done
  code=$(echo "${times[0]}" | cut -d' ' -f1)
  [ "$code" = 200 ] || { echo "$path answered $code" >&2; exit 1; }
  printf '%s\n' "${times[@]}" | cut -d' ' -f2 | sort -n | awk -v p="$path" -v b="$(wc -c <"$work/body")" \
    '{ t[NR] = $1 * 1000 } END { printf "%-40s %10.1f %10.1f %10d\n", p, t[int((NR + 1) / 2)], t[int(NR * 0.9 + 0.5)], b }'
done
