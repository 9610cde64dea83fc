#!/usr/bin/env bash
# Where asa stands, in one command: builds `asa` (release), starts a simulator serving
# generated product pages and the server on its embedded defaults (SQLite, in-process
# limits) with a throwaway database, both through `asa dev` (bench/asa_dev.sh), drives them
# with wrk, and prints a table:
#
#   1. product requests per second through asa (16 connections) and the server's CPU per
#      request, with the mean time per request at one connection split from the server's
#      /metrics histograms (asa_stage_duration_seconds and the upstream and extraction
#      histograms) into key lookup, limits, ledger, upstream fetch (connect, simulator,
#      download, decompression), extraction, the rest of the handler, and the trace;
#   2. the latency asa adds over fetching the same page from the simulator directly, p50 and
#      p99 at one connection, beside that of nginx (Debian's package) as a plain reverse
#      proxy to the same simulator, in the same run;
#   3. INFLIGHT (10,000) requests sent at once by h2load over HTTP/2 (H2_CONNS connections,
#      each with INFLIGHT / H2_CONNS streams: 10,000 HTTP/1.1 client connections plus 10,000
#      upstream ones would pass this machine's hard open-file limit of 20,000) against a
#      simulator that answers after 5 s, run until every one is answered (or SLOW_MAX_SECS
#      pass): h2load's counts and latencies, the server's answers by status, when the first
#      answer came, the most upstream connections seen open at once, and the server's peak
#      RSS (VmHWM), with 1 MB and with 5 MB pages;
#   4. billed requests per second on SQLite and PostgreSQL, and batch items per second
#      (the asa-server `billed_load` example; PostgreSQL when DATABASE_URL is set).
#
# Figures 1 and 2 are medians of RUNS runs; each run of figure 3 starts a fresh server so
# that VmHWM is that run's own peak. It installs wrk, nginx and h2load (nghttp2-client)
# with apt-get when missing.
#
# Usage: bench/run.sh
# Knobs: RUNS (default 3), SECS (seconds per wrk run of figures 1-2, default 5),
# INFLIGHT (default 10000), SLOW_MAX_SECS (longest a figure-3 run may take, default 300),
# SLOW_RUNS (figure-3 runs per page size, default 3), SLOW_PAGES (page sizes of figure 3,
# default "1000000 5000000"), H2_CONNS (default 100), RSS_KILL_MB (the bench stops a
# server whose RSS passes this, to spare the machine; default 2000), SKIP (a list of
# figure numbers to skip, e.g. "3 4"), ASA_BIN (skip the build).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
RUNS="${RUNS:-3}"
SECS="${SECS:-5}"
INFLIGHT="${INFLIGHT:-10000}"
SLOW_MAX_SECS="${SLOW_MAX_SECS:-300}"
SLOW_RUNS="${SLOW_RUNS:-3}"
RSS_KILL_MB="${RSS_KILL_MB:-2000}"
H2_CONNS="${H2_CONNS:-100}"
SKIP=" ${SKIP:-} "
skip() { [[ "$SKIP" == *" $1 "* ]]; }
started_at=$(date +%s)

# --- tools -------------------------------------------------------------------------------
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v h2load >/dev/null || missing+=(nghttp2-client)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q "${missing[@]}" >/dev/null
fi
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
command -v python3 >/dev/null || { echo "python3 is needed (free ports, arithmetic)" >&2; exit 1; }

target="${CARGO_TARGET_DIR:-$repo/target}"
asa="${ASA_BIN:-}"
if [ -z "$asa" ]; then
  (cd "$repo" && cargo build -q --release -p asa-cli)
  asa="$target/release/asa"
fi
if ! skip 4; then
  (cd "$repo" && cargo build -q --release -p asa-server --example billed_load)
fi

# The server refuses unknown ASA_* variables: start from none of the caller's.
for v in $(compgen -e | grep '^ASA_' || true); do unset "$v"; done
# wrk, the server and the simulator each hold one descriptor per connection (the server
# two: client side and upstream side). Raise the soft limit as far as the hard one allows.
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fd_limit="$(ulimit -n)"

tmp="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
source "$here/asa_dev.sh"
calc() { python3 -c "import sys; print($1)"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
fmt() { python3 -c "import sys; v='$1'; print(v if v in ('-','') else '%.${2:-2}f' % float(v))"; }
# wrk prints latencies as 812.00us, 1.23ms, 2.01s, 1.50m: in milliseconds.
to_ms() { awk -v v="$1" 'BEGIN { n=v; u=v; sub(/[a-z]+$/,"",n); sub(/^[0-9.]+/,"",u);
  f=(u=="us")?0.001:(u=="ms")?1:(u=="s")?1000:(u=="m")?60000:1; printf "%.3f", n*f }'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
clk_tck="$(getconf CLK_TCK)"
# Sum of a /metrics series over its label sets: metric NAME [LABEL-FILTER]
metric() {
  curl -sf "$admin/metrics" |
    awk -v n="$1" -v f="${2:-}" 'index($0, n) == 1 && (f == "" || index($0, f)) {
      s = substr($0, length(n) + 1, 1); if (s == "{" || s == " ") t += $NF } END {printf "%.6f", t+0}'
}

# --- one simulator + one server ----------------------------------------------------------
# start_stack NAME [sim args...]: sets sim_port, api_port, admin (where /metrics is),
# sim_pid, srv_pid, key, dir. The
# simulator runs in an `asa dev` of its own whose API stays idle, so the server measured
# (its CPU, RSS and descriptors) is alone in its process, as it is in front of Amazon.
start_stack() {
  dir="$tmp/$1"; shift
  mkdir -p "$dir"
  local work="$dir"
  start_dev sim "$@"
  sim_pid="$dev_pid"; disown "$sim_pid"
  sim_port="${dev_sim##*:}"
  (
    export ASA_SANDBOX_BOOTSTRAP=false ASA_FAILURES_DIR="$dir/failures" ASA_LOG=warn
    # The admin listener serves /metrics (never the API listener).
    export ASA_ADMIN_TOKEN="bench-$RANDOM$RANDOM"
    # One plan whose limits never bind, and a capacity above the load.
    export ASA_CAPACITY="${BENCH_CAPACITY:-20000}"
    export ASA_PLANS_BENCH_RPS=1000000 ASA_PLANS_BENCH_BURST=1000000
    export ASA_PLANS_BENCH_CONCURRENCY="${BENCH_CAPACITY:-20000}" ASA_PLANS_BENCH_COUNTRIES=any
    [ -n "${BENCH_TIMEOUT:-}" ] && export ASA_UPSTREAM_TIMEOUT="$BENCH_TIMEOUT" ASA_UPSTREAM_ATTEMPT_TIMEOUT="$BENCH_TIMEOUT"
    start_dev serve --sim "$dev_sim" --database-url "sqlite://$dir/asa.db" --live-key bench
    echo "$dev_pid $dev_api $dev_live_key $dev_admin" >"$dir/server"
  )
  read -r srv_pid api key admin <"$dir/server"
  pids+=("$srv_pid")
  api_port="${api##*:}"
}
stop_stack() {
  # A server with requests in flight drains them before it exits: give it 5 s, then stop it.
  stop_dev "$srv_pid" 5
  stop_dev "$sim_pid" 2
}

# wrk_run OUTFILE CONNS SECS URL [header]: wrk's output in OUTFILE.
wrk_run() {
  local out="$1" c="$2" s="$3" url="$4" t=2
  [ "$c" -lt 2 ] && t=1
  if [ -n "${5:-}" ]; then wrk -t"$t" -c"$c" -d"${s}s" --timeout 60s --latency -H "$5" "$url" >"$out" 2>&1 || true
  else wrk -t"$t" -c"$c" -d"${s}s" --timeout 60s --latency "$url" >"$out" 2>&1 || true; fi
}
# h2load's request counts, status classes and request times, in one phrase. Its lines:
#   requests: 10000 total, 10000 started, 10000 done, 10000 succeeded, 0 failed, 0 errored, 0 timeout
#   status codes: 10000 2xx, 0 3xx, 0 4xx, 0 5xx
#   time for request:      5.05s    111.60s     60.00s     30.00s    57.00%
h2_summary() {
  awk '/^requests:/ {gsub(",",""); r=$6 " of " $2 " done, " $8 " succeeded, " $10 " failed, " $12 " errored, " $14 " timed out"}
       /^status codes:/ {gsub(",",""); s=$3 " 2xx, " $5 " 3xx, " $7 " 4xx, " $9 " 5xx"}
       /^finished in/ {gsub(",",""); f=$3}
       /^time for request:/ {t="; request time min " $4 ", mean " $6 ", max " $5}
       END {printf "%s (%s) in %s%s", r, s, f, t}' "$1"
}
wrk_p() { to_ms "$(awk -v q="$2%" '$1==q {print $2}' "$1")"; }
wrk_rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
wrk_non2xx() { awk '/Non-2xx/ {print $NF}' "$1" | grep . || echo 0; }

page_path="/amazon.com/dp/B000LQXC2Q?th=1&psc=1"
api_path="/api/v1/amazon/product?query=B000LQXC2Q"
rows=()

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo) RAM, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); open-file limit: $fd_limit"

# --- figures 1 and 2 ---------------------------------------------------------------------
if ! skip 1 || ! skip 2; then
  start_stack main
  direct="http://127.0.0.1:$sim_port$page_path"
  api="http://127.0.0.1:$api_port$api_path"
  auth="Authorization: Bearer $key"
  page_bytes="$(curl -sf "$direct" | wc -c)"
  curl -sf "$api" -H "$auth" >/dev/null || { echo "asa product request failed" >&2; curl -s "$api" -H "$auth" >&2; exit 1; }
  echo "page served by the simulator: $page_bytes bytes"

  # nginx, Debian's package, as a plain reverse proxy to the same simulator.
  nginx_port="$(free_port)"
  mkdir -p "$tmp/nginx"
  cat >"$tmp/nginx/nginx.conf" <<EOF
user root;
worker_processes auto;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/client;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  upstream sim { server 127.0.0.1:$sim_port; keepalive 64; }
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      proxy_pass http://sim;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
  "$nginx_bin" -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" &
  nginx_pid=$!; pids+=("$nginx_pid")
  proxied="http://127.0.0.1:$nginx_port$page_path"
  for _ in $(seq 1 50); do curl -sf "$proxied" -o /dev/null && break; sleep 0.1; done
  curl -sf "$proxied" -o /dev/null || { echo "nginx did not answer" >&2; cat "$tmp/nginx/error.log" >&2; exit 1; }
  wrk_run "$tmp/warm" 4 2 "$api" "$auth"; wrk_run "$tmp/warm" 4 1 "$proxied"

  t_rps=(); t_cpu=(); t_p50=(); t_p99=(); s_total=(); s_up=(); s_ex=(); s_rest=(); s_cpu=()
  s_auth=(); s_limits=(); s_ledger=(); s_trace=()
  d50=(); d99=(); n50=(); n99=(); a50=(); a99=(); na50=(); na99=(); aa50=(); aa99=()
  for r in $(seq 1 "$RUNS"); do
    if ! skip 2; then
      # Latency at one connection, all three in the same run, one after the other.
      wrk_run "$tmp/d" 1 "$SECS" "$direct"
      wrk_run "$tmp/n" 1 "$SECS" "$proxied"
      c0=$(cpu_ticks "$srv_pid"); q0=$(metric asa_request_duration_seconds_count 'endpoint="amazon.product"')
      rt0=$(metric asa_request_duration_seconds_sum 'endpoint="amazon.product"')
      up0=$(metric asa_upstream_duration_seconds_sum); ex0=$(metric asa_extraction_duration_seconds_sum)
      for st in auth limits ledger trace; do eval "st0_$st=\$(metric asa_stage_duration_seconds_sum 'stage=\"$st\"')"; done
      wrk_run "$tmp/a" 1 "$SECS" "$api" "$auth"
      c1=$(cpu_ticks "$srv_pid"); q1=$(metric asa_request_duration_seconds_count 'endpoint="amazon.product"')
      rt1=$(metric asa_request_duration_seconds_sum 'endpoint="amazon.product"')
      up1=$(metric asa_upstream_duration_seconds_sum); ex1=$(metric asa_extraction_duration_seconds_sum)
      for st in auth limits ledger trace; do eval "st1_$st=\$(metric asa_stage_duration_seconds_sum 'stage=\"$st\"')"; done
      d50+=("$(wrk_p "$tmp/d" 50)"); d99+=("$(wrk_p "$tmp/d" 99)")
      n50+=("$(wrk_p "$tmp/n" 50)"); n99+=("$(wrk_p "$tmp/n" 99)")
      a50+=("$(wrk_p "$tmp/a" 50)"); a99+=("$(wrk_p "$tmp/a" 99)")
      na50+=("$(calc "${n50[-1]} - ${d50[-1]}")"); na99+=("$(calc "${n99[-1]} - ${d99[-1]}")")
      aa50+=("$(calc "${a50[-1]} - ${d50[-1]}")"); aa99+=("$(calc "${a99[-1]} - ${d99[-1]}")")
      # Time per request at one connection, from the server's histograms (ms).
      q=$(calc "max(1, $q1 - $q0)")
      s_total+=("$(calc "($rt1 - $rt0) * 1000 / $q")")
      # The upstream histogram covers the whole fetch, the extractor's judging included.
      s_up+=("$(calc "($up1 - $up0 - ($ex1 - $ex0)) * 1000 / $q")")
      s_ex+=("$(calc "($ex1 - $ex0) * 1000 / $q")")
      s_auth+=("$(calc "($st1_auth - $st0_auth) * 1000 / $q")")
      s_limits+=("$(calc "($st1_limits - $st0_limits) * 1000 / $q")")
      s_ledger+=("$(calc "($st1_ledger - $st0_ledger) * 1000 / $q")")
      s_trace+=("$(calc "($st1_trace - $st0_trace) * 1000 / $q")")
      # In the handler but in no stage: parameters, JSON, glue.
      s_rest+=("$(calc "($rt1 - $rt0 - ($up1 - $up0) - ($st1_auth - $st0_auth) - ($st1_limits - $st0_limits) - ($st1_ledger - $st0_ledger)) * 1000 / $q")")
      s_cpu+=("$(calc "($c1 - $c0) * 1000 / $clk_tck / $q")")
    fi
    if ! skip 1; then
      c0=$(cpu_ticks "$srv_pid"); q0=$(metric asa_request_duration_seconds_count 'endpoint="amazon.product"')
      wrk_run "$tmp/t" 16 "$SECS" "$api" "$auth"
      c1=$(cpu_ticks "$srv_pid"); q1=$(metric asa_request_duration_seconds_count 'endpoint="amazon.product"')
      [ "$(wrk_non2xx "$tmp/t")" = 0 ] || echo "warning: $(wrk_non2xx "$tmp/t") non-2xx answers in the throughput run" >&2
      t_rps+=("$(wrk_rps "$tmp/t")")
      t_cpu+=("$(calc "($c1 - $c0) * 1000 / $clk_tck / max(1, $q1 - $q0)")")
      t_p50+=("$(wrk_p "$tmp/t" 50)"); t_p99+=("$(wrk_p "$tmp/t" 99)")
    fi
    echo "run $r/$RUNS done (load average $(cut -d' ' -f1 /proc/loadavg))" >&2
  done
  kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true
  stop_stack
  kb=$(( page_bytes / 1000 ))
  if ! skip 1; then
    rows+=("| 1 | product requests/s through asa, 16 connections, ${kb} KB pages | $(fmt "$(median "${t_rps[@]}")" 1) | runs: ${t_rps[*]} |")
    rows+=("| 1 | asa server CPU per request at 16 connections (user+sys) | $(fmt "$(median "${t_cpu[@]}")") ms | p50 $(fmt "$(median "${t_p50[@]}")") ms, p99 $(fmt "$(median "${t_p99[@]}")") ms |")
  fi
  if ! skip 2; then
    rows+=("| 1 | asa server CPU per request at 1 connection (user+sys) | $(fmt "$(median "${s_cpu[@]}")") ms | |")
    rows+=("| 1 | time per request at 1 connection (server histograms) | $(fmt "$(median "${s_total[@]}")") ms | parse + key lookup $(fmt "$(median "${s_auth[@]}")") ms, limits $(fmt "$(median "${s_limits[@]}")") ms, ledger (reserve + charge) $(fmt "$(median "${s_ledger[@]}")") ms, upstream fetch (connect, simulator, download, decompression) $(fmt "$(median "${s_up[@]}")") ms, extraction $(fmt "$(median "${s_ex[@]}")") ms, rest of the handler (parameters, JSON) $(fmt "$(median "${s_rest[@]}")") ms; after the answer: trace $(fmt "$(median "${s_trace[@]}")") ms |")
    rows+=("| 2 | simulator direct, 1 connection, p50 / p99 | $(fmt "$(median "${d50[@]}")") / $(fmt "$(median "${d99[@]}")") ms | |")
    rows+=("| 2 | nginx added latency, p50 / p99 | $(fmt "$(median "${na50[@]}")") / $(fmt "$(median "${na99[@]}")") ms | nginx p50 / p99 $(fmt "$(median "${n50[@]}")") / $(fmt "$(median "${n99[@]}")") ms |")
    rows+=("| 2 | asa added latency, p50 / p99 | $(fmt "$(median "${aa50[@]}")") / $(fmt "$(median "${aa99[@]}")") ms | asa p50 / p99 $(fmt "$(median "${a50[@]}")") / $(fmt "$(median "${a99[@]}")") ms |")
    ratio="$(calc "round($(median "${aa50[@]}") / max(0.001, $(median "${na50[@]}")), 1)")"
    verdict=$(python3 -c "print('met' if $ratio <= 3 else 'missed')")
    rows+=("| 2 | goal: asa added p50 within 3x nginx's | ${ratio}x: $verdict | |")
  fi
fi

# --- figure 3 ----------------------------------------------------------------------------
if ! skip 3; then
  for page in ${SLOW_PAGES:-1000000 5000000}; do
    hwms=(); conns=(); runs=()
    for r in $(seq 1 "$SLOW_RUNS"); do
      BENCH_TIMEOUT=120s start_stack "slow-$page-$r" --latency 5s --page-bytes "$page"
      api="http://127.0.0.1:$api_port$api_path"
      idle_fds=$(ls "/proc/$srv_pid/fd" | wc -l)
      # Sample the upstream connections open at the simulator (busy, or idle in the exit's
      # pool) and the server's RSS every 0.2 s, and every second the product answers the
      # server has given (from /metrics), until the server is gone.
      t0=$(date +%s.%N)
      (
        max_conn=0; max_rss=0; answered=0; i=0
        while kill -0 "$srv_pid" 2>/dev/null; do
          conn=$(ss -Htn state established "( sport = :$sim_port )" 2>/dev/null | wc -l)
          rss=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$srv_pid/status" 2>/dev/null || echo 0)
          at=$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN {printf "%.1f", a - b}')
          if [ $(( i % 5 )) = 0 ]; then
            answered=$( (curl -sf -m 2 "$admin/metrics" || true) |
              awk '/^asa_requests_total/ && /endpoint="amazon.product"/ {t += $NF} END {print t+0}')
            if [ "$answered" -gt 0 ] && [ ! -f "$dir/first" ]; then
              echo "${at} s (RSS then $rss MB)" >"$dir/first"
            fi
          fi
          i=$(( i + 1 ))
          [ "$conn" -gt "$max_conn" ] && max_conn=$conn
          [ "$rss" -gt "$max_rss" ] && max_rss=$rss
          echo "$max_conn $max_rss" >"$dir/peak"
          echo "${at} s: upstream connections $conn, RSS $rss MB, answered $answered" >>"$dir/samples"
          if [ "$rss" -gt "$RSS_KILL_MB" ]; then
            awk '/VmHWM/ {print int($2/1024)}' "/proc/$srv_pid/status" >"$dir/killed"; kill -9 "$srv_pid"; break
          fi
          sleep 0.2
        done
      ) &
      sampler=$!
      # Every request once, all sent at the start; h2load ends when the last is answered.
      h2rc=0
      timeout "$SLOW_MAX_SECS" h2load -n "$INFLIGHT" -c "$H2_CONNS" -m $(( INFLIGHT / H2_CONNS )) \
        -H "authorization: Bearer $key" "$api" >"$dir/h2load" 2>&1 || h2rc=$?
      sleep 1
      hwm=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$srv_pid/status" 2>/dev/null || echo "-")
      statuses=$( (curl -sf "$admin/metrics" || true) |
        awk '/^asa_requests_total/ && /endpoint="amazon.product"/ {match($0, /status="[0-9]+"/); s=substr($0, RSTART+8, 3); c[s]+=$NF}
             END {for (s in c) printf "%s%s: %d", (n++ ? ", " : ""), s, c[s]}')
      kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
      read -r max_conn max_rss <"$dir/peak" || true
      [ -f "$dir/killed" ] && hwm="$(cat "$dir/killed") MB (past $RSS_KILL_MB MB: the bench stopped the server)"
      [ -f "$dir/killed" ] || hwm="$hwm MB"
      mb=$(( page / 1000000 ))
      hwms+=("${hwm%% *}"); conns+=("$max_conn")
      first="$(cat "$dir/first" 2>/dev/null || echo never)"
      [ "$h2rc" = 124 ] && first="$first; h2load stopped after $SLOW_MAX_SECS s"
      [ "$h2rc" != 0 ] && [ "$h2rc" != 124 ] && first="$first; h2load exited with status $h2rc"
      runs+=("run $r: peak RSS $hwm, most upstream connections open at once $max_conn, first answer after $first, h2load $(h2_summary "$dir/h2load"), server answers by status: ${statuses:-none}")
      echo "figure 3, ${page} B pages: one sample a second" >&2
      awk 'NR % 5 == 1' "$dir/samples" >&2
      grep -i 'error\|panic' "$dir/serve.log" | sort | uniq -c | sort -rn | head -5 >&2 || true
      stop_stack
      echo "figure 3: ${mb} MB pages, run $r done (load average $(cut -d' ' -f1 /proc/loadavg))" >&2
    done
    rows+=("| 3 | $INFLIGHT requests at once ($H2_CONNS HTTP/2 connections), sim answers after 5 s, $(( page / 1000000 )) MB pages: server peak RSS (VmHWM) | $(median "${hwms[@]}") MB | most upstream connections open at once $(median "${conns[@]}") (median); $(printf '%s; ' "${runs[@]}")server fds when idle $idle_fds, limit $fd_limit |")
  done
fi

# --- figure 4 ----------------------------------------------------------------------------
if ! skip 4; then
  # billed_load prints one line per backend and page size; medians over RUNS runs.
  # A run that fails (it asserts every answer is a 2xx) is reported and tried once more.
  for r in $(seq 1 "$RUNS"); do
    for try in 1 2; do
      if (cd "$repo" && ASA_BENCH_SECONDS="${ASA_BENCH_SECONDS:-4}" ASA_BENCH_BATCH_ITEMS="${ASA_BENCH_BATCH_ITEMS:-300}" \
        "$target/release/examples/billed_load") >"$tmp/billed-$r" 2>&1; then break; fi
      echo "figure 4: billed_load failed (try $try): $(grep -m1 -A1 panicked "$tmp/billed-$r" | tail -n1)" >&2
      [ "$try" = 2 ] && { cat "$tmp/billed-$r" >&2; exit 1; }
    done
    echo "figure 4: run $r done (load average $(cut -d' ' -f1 /proc/loadavg))" >&2
  done
  for backend in sqlite postgres; do
    for kind in "billed requests/s" "batch items/s"; do
      for kb in 20 $(grep -ho "[0-9]* KB pages" "$tmp"/billed-* | awk '$1 != 20 {print $1}' | sort -u); do
        vals=$(grep -h "^ *$backend, *$kb KB pages:.*$kind" "$tmp"/billed-* | sed 's/.*pages: *\([0-9.]*\).*/\1/' || true)
        [ -n "$vals" ] || continue
        # shellcheck disable=SC2086
        rows+=("| 4 | $kind, $backend, $kb KB pages | $(fmt "$(median $vals)" 1) | runs: $(echo $vals) |")
      done
    done
  done
  if grep -q "postgres: skipped" "$tmp/billed-1"; then
    rows+=("| 4 | PostgreSQL | skipped | DATABASE_URL is not set |")
  fi
fi

echo
echo "| figure | what | median | detail |"
echo "|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "medians of $RUNS runs; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); took $(( $(date +%s) - started_at )) s"
