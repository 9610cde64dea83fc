#!/usr/bin/env bash
# Chaos: asa under sustained load while its upstream misbehaves. Builds `asa` and the
# `hardening_load` driver (release), starts a simulator with fault rates (per upstream
# attempt: 10% captcha pages, 5% Amazon 503s, 5% connection resets, 5% truncated bodies,
# 5% answers slower than the whole upstream budget) and the server on its embedded
# defaults (SQLite, in-process limits), each an `asa dev` on loopback, with a throwaway database,
# then drives it at a fixed rate for DURATION seconds with a mix of product pages (80%),
# searches (8%), the simulator's magic ASINs (not found, gallery page, redirect to another
# ASIN, unknown layout: 2% each), a bad parameter (2%) and a missing key (2%).
#
# Properties, each a row of the summary table; any that fails exits 1:
#   - every response is correct: a 2xx of the endpoint's body costing 5, or the exact error
#     envelope (status of its code, `retryable`, `docs_url`, request id = X-Request-Id,
#     Asa-Cost 0) with a code this request may get: for a normal page only
#     upstream_timeout, blocked_by_amazon or target_unreachable; for each magic ASIN, bad
#     parameter and missing key, its one code (for the redirect, asin_mismatch or one of
#     those three: its target is a normal page, fetched through the same faults). A
#     request with no answer is wrong too, and so is one the generator had to shed (due
#     while CONCURRENCY were in flight: the server fell behind the rate);
#   - ledger: the credits charged in the ledger = 5 x the 2xx answers = the Asa-Cost
#     headers summed, and no reservation is left held;
#   - no trace lost: every answer's request id has its stored trace with the answer's
#     status (read in the database after the server's clean stop, which flushes them; a
#     sample read back over GET /api/v1/requests/{id}); the server dropped none;
#   - memory flat: the server's RSS, median of the first minute vs the last minute.
#
# Knobs: DURATION (seconds of load, default 600), RATE (requests/s, default 20),
# CONCURRENCY (most requests in flight, default 200: under the server's default
# max_connections_per_ip of 256), PAGE_BYTES (simulated page size, default 100000: the
# run is about faults, not extraction throughput), TIMEOUT (the whole upstream budget and each attempt's, default 3s),
# MAX_ATTEMPTS (upstream attempts per page, default 2: more of the faults reach the
# answer), SLOW (delay of a slow answer, default 10s), RSS_GROWTH (default 1.5), and those
# of hardening/load_common.sh (ASA_BIN, LOAD_BIN, KEEP, WORK).
#
# Usage: hardening/chaos.sh            (e.g. DURATION=60 hardening/chaos.sh for a short run)
set -euo pipefail
DURATION="${DURATION:-600}"
RATE="${RATE:-20}"
PAGE_BYTES="${PAGE_BYTES:-100000}"
CONCURRENCY="${CONCURRENCY:-200}"
TIMEOUT="${TIMEOUT:-3s}"
MAX_ATTEMPTS="${MAX_ATTEMPTS:-2}"
SLOW="${SLOW:-10s}"
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/load_common.sh"
started_at=$(date +%s)

sim_flags=(--captcha-rate 0.10 --error503-rate 0.05 --reset-rate 0.05 --truncate-rate 0.05
  --slow-rate 0.05 --slow-latency "$SLOW")
sim_flags+=(--page-bytes "$PAGE_BYTES")
start_sim "${sim_flags[@]}"
export ASA_UPSTREAM_TIMEOUT="$TIMEOUT" ASA_UPSTREAM_ATTEMPT_TIMEOUT="$TIMEOUT"
export ASA_UPSTREAM_MAX_ATTEMPTS="$MAX_ATTEMPTS"
make_key
start_server

echo "chaos: $DURATION s at $RATE requests/s; sim faults per attempt: ${sim_flags[*]}; upstream budget $TIMEOUT, $MAX_ATTEMPTS attempts" >&2
python3 "$here/load_watch.py" sample --pid "$srv_pid" --db "$db" --out "$work/samples.tsv" \
  --interval 5 --max-seconds "$((DURATION + 300))" &
sampler=$!; pids+=("$sampler")
summary=$(run_load "$work/records.tsv" "$DURATION" "$RATE" "$CONCURRENCY" chaos)
echo "driver: $summary" >&2
sleep 2
dropped=$(curl -sf "$admin/metrics" | awk '/^asa_traces_dropped_total/ {print int($NF)}' | head -n1)
read -r spot_ok spot_n < <(python3 "$here/load_watch.py" spot --base "$base" --key "$key" --records "$work/records.tsv" --n 100)
stop_server
kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
grep -ci 'panic' "$work/serve.log" >"$work/panics" || true

echo
echo "## chaos run, $(date -u +%Y-%m-%d), $DURATION s at $RATE requests/s"
echo
set +e
python3 "$here/load_watch.py" report --mode chaos --db "$db" --account "$account" \
  --samples "$work/samples.tsv" --records "$work/records.tsv" \
  --dropped "${dropped:-0}" --spot-ok "$spot_ok" --spot-n "$spot_n" \
  --rss-growth "${RSS_GROWTH:-1.5}" --stopped "$server_stopped" \
  --note "simulator faults per attempt=${sim_flags[*]}" \
  --note "server=upstream budget $TIMEOUT (each attempt too), $MAX_ATTEMPTS attempts, max_connections_per_ip default (256); panics in its log: $(cat "$work/panics")" \
  --note "driver=$summary" \
  --note "took=$(( $(date +%s) - started_at )) s; load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
status=$?
exit "$status"
