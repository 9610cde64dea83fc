#!/usr/bin/env bash
# Soak: one node at 80% of its measured capacity for DURATION seconds. Builds `asa` and the
# `hardening_load` driver (release), starts a simulator (no faults) and the server on its
# embedded defaults (SQLite, in-process limits), each an `asa dev` on loopback, with a
# throwaway database, measures capacity (billed product requests/s of a closed loop of
# CAP_CONCURRENCY clients for CAP_SECS), then drives product requests at FRACTION of it
# with a fixed-rate (open-loop) generator, sampling the server every 5 s.
#
# Properties, each a row of the summary table; any that fails exits 1:
#   - every answer correct (as in chaos.sh; here every one should be a 200), ledger
#     = 5 x 2xx, every trace stored;
#   - RSS: median of the first minute vs the last minute, within RSS_GROWTH (or +64 MB);
#   - file descriptors: most open in the first vs the last minute, within 1.5x + 16;
#   - p99 latency per 1-minute window: the last within P99_DRIFT of the first (or +50 ms);
#   - database: it grows by its traces, which the contract keeps at least 7 days, so a
#     soak cannot see one age out. What it shows instead: the growth per request is
#     constant (first vs last third of the run), and the retention sweep (at the server's
#     start, then every 600 s) deletes what is past 7 days while the load runs. Before the
#     server starts, BACKDATED traces dated 8 days ago go into its database; the start's
#     sweep must delete them all. During the run, 300 s before each of the server's sweeps
#     that falls at least 120 s before the run's end, the first 30,000 traces stored are
#     copied back-dated by 8 days (a copy is the harness's work on the node's CPU and
#     SQLite's one writer, so it is kept small and done in pieces; it only has to give the
#     sweep something to delete under load); that sweep must delete all the copies (the script waits up to
#     180 s after the load for the last one to finish). The report shows the database's size and its
#     free pages (space the sweep freed, which SQLite reuses before it grows the file).
#     No retention below 7 days and no test-only knob are used: the product has neither.
#
# Knobs: DURATION (seconds of soak, default 1800), FRACTION (default 0.8), RATE (skip the
# probe: requests/s), CAP_SECS (default 30), CAP_CONCURRENCY (default 32), CONCURRENCY
# (most requests in flight in the soak, default 200), PAGE_BYTES (simulated page size,
# default 200000), ASINS (the catalogue the product requests draw from, default 500: see
# below), BACKDATED (default 20000), RSS_GROWTH (default 1.5), P99_DRIFT (default
# 1.5), and those of hardening/load_common.sh (ASA_BIN, LOAD_BIN, KEEP, WORK).
#
# The node under test is asa, not the simulator. With random ASINs the simulator builds
# and brotli-compresses every page, which took 1.2 of the 2 cores in the first run on a quiet
# machine and left asa 0.6: the stack saturated at 80% of the probe's rate within two
# minutes and measured the simulator. So the requests draw from ASINS fixed ASINs (500 pages
# of PAGE_BYTES fit the simulator's 256 MB page cache; the probe warms it), and the
# simulator's cost is what Amazon's is in production: none of the node's. asa caches no
# pages, so each request is still fetched, decoded, extracted, billed and traced.
# ASINS=0 restores random ASINs.
#
# Usage: hardening/soak.sh            (e.g. DURATION=60 hardening/soak.sh for a short run)
set -euo pipefail
DURATION="${DURATION:-1800}"
FRACTION="${FRACTION:-0.8}"
CAP_SECS="${CAP_SECS:-30}"
CAP_CONCURRENCY="${CAP_CONCURRENCY:-32}"
CONCURRENCY="${CONCURRENCY:-200}"
BACKDATED="${BACKDATED:-20000}"
PAGE_BYTES="${PAGE_BYTES:-200000}"
export LOAD_ASINS="${ASINS:-500}"
SWEEP_EVERY=600 # the server's trace sweep interval (crates/asa-server/src/app.rs)
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/load_common.sh"
started_at=$(date +%s)

sim_flags=(--page-bytes "$PAGE_BYTES")
start_sim "${sim_flags[@]}"
make_key

# Expired traces in the database before the server starts: its first sweep must take them.
python3 "$here/load_watch.py" backdate --db "$db" --rows "$BACKDATED" >/dev/null
# Traces past the 7-day retention in the database, read-only.
expired_traces() {
  python3 -c "
import sqlite3, sys, time
c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)
print(c.execute('SELECT count(*) FROM traces WHERE created_at < ?', (int(time.time() * 1000) - 7 * 86400000,)).fetchone()[0])" "$db"
}
old_before=$(expired_traces)
db_before=$(python3 -c "import os,sys; print(sum(os.path.getsize(p) for p in (sys.argv[1], sys.argv[1]+'-wal') if os.path.exists(p)))" "$db")
start_server
srv_t0=$(date +%s)
old_after=""
for _ in $(seq 1 60); do
  old_after=$(expired_traces)
  [ "$old_after" = 0 ] && break
  sleep 0.5
done
free_after=$(python3 -c "import sqlite3,sys; c=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro', uri=True); print(c.execute('PRAGMA freelist_count').fetchone()[0], c.execute('PRAGMA page_count').fetchone()[0])" "$db")
echo "startup sweep: $old_before back-dated traces before the start, $old_after left after it; free pages / pages: $free_after" >&2

if [ -z "${RATE:-}" ]; then
  cap=$(run_load "$work/capacity.tsv" "$CAP_SECS" 0 "$CAP_CONCURRENCY" plain)
  echo "capacity probe: $cap" >&2
  capacity=$(echo "$cap" | awk '{for (i=1;i<NF;i++) if ($i=="answered_per_s") print $(i+1)}')
  RATE=$(python3 -c "print(round($capacity * $FRACTION, 1))")
else
  : >"$work/capacity.tsv"; capacity="not measured (RATE given)"; cap="-"
fi

# Back-date copies 300 s before each server sweep that falls inside the run.
s0=$(date +%s)
injects=$(python3 -c "
d, srv, s0, every = $DURATION, $srv_t0, $s0, $SWEEP_EVERY
print(','.join(str(srv + k * every - 300 - s0) for k in range(1, 100)
               if srv + k * every - 300 >= s0 and srv + k * every + 120 <= s0 + d))")
echo "soak: $DURATION s at $RATE requests/s ($FRACTION of $capacity); back-dated copies at ${injects:-none} s" >&2
python3 "$here/load_watch.py" sample --pid "$srv_pid" --db "$db" --out "$work/samples.tsv" \
  --interval 5 --max-seconds "$((DURATION + 300))" --inject-at "$injects" &
sampler=$!; pids+=("$sampler")
summary=$(run_load "$work/records.tsv" "$DURATION" "$RATE" "$CONCURRENCY" plain)
echo "driver: $summary" >&2
sleep 2
dropped=$(curl -sf "$admin/metrics" | awk '/^asa_traces_dropped_total/ {print int($NF)}' | head -n1)
read -r spot_ok spot_n < <(python3 "$here/load_watch.py" spot --base "$base" --key "$key" --records "$work/records.tsv" --n 100)
# A sweep of many copies under load takes a while (about 1,400 deleted a second in the
# first full run): let the last one finish, sampled, before the sampler stops.
for _ in $(seq 1 36); do [ "$(expired_traces)" = 0 ] && break; sleep 5; done
sleep 6
kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
stop_server

# The sweeps: the start's, then each mid-run copy (gone at the first sample showing none).
sweep=$(python3 - "$work/samples.tsv" "$old_before" "$old_after" <<'EOF'
import sys
samples, before, after = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = [l.rstrip("\n").split("\t") for l in open(samples)][1:]
events = [l.rstrip("\n").split("\t") for l in open(samples + ".events")]
ok = before > 0 and after == 0
notes = [f"start: {before} back-dated traces, {after} left once the server was up"]
for t, kind, n in events:
    if kind != "backdated":
        ok = False; notes.append(f"{kind} at {t} s: {n}"); continue
    t = float(t)
    gone = next((float(r[0]) for r in rows if float(r[0]) > t and int(float(r[7])) == 0), None)
    if gone is None:
        ok = False; notes.append(f"{n} copied back-dated at {t:.0f} s: still there at the end")
    else:
        peak = max(int(float(r[7])) for r in rows if t <= float(r[0]) <= gone)
        notes.append(f"{n} copied back-dated at {t:.0f} s ({peak} expired in the database): all gone by {gone:.0f} s")
print(("1" if ok else "0") + "|" + "; ".join(notes))
EOF
)

echo
echo "## soak run, $(date -u +%Y-%m-%d), $DURATION s at $RATE requests/s"
echo
set +e
python3 "$here/load_watch.py" report --mode soak --db "$db" --account "$account" \
  --samples "$work/samples.tsv" --records "$work/capacity.tsv" --records "$work/records.tsv" \
  --window-from "$work/records.tsv" \
  --dropped "${dropped:-0}" --spot-ok "$spot_ok" --spot-n "$spot_n" \
  --rss-growth "${RSS_GROWTH:-1.5}" --p99-drift "${P99_DRIFT:-1.5}" \
  --sweep-ok "${sweep%%|*}" --sweep-note "${sweep#*|}" --stopped "$server_stopped" \
  --note "capacity probe=$CAP_CONCURRENCY clients closed loop for $CAP_SECS s: $cap" \
  --note "soak rate=$RATE requests/s ($FRACTION of the probe's answered_per_s)" \
  --note "database before the start=$(python3 -c "print(round($db_before/1048576, 1))") MB (the back-dated traces); free pages / pages after the start's sweep: $free_after" \
  --note "driver=$summary" \
  --note "took=$(( $(date +%s) - started_at )) s; load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
status=$?
exit "$status"
