# Shared by hardening/chaos.sh and hardening/soak.sh (sourced, not run): builds `asa` and
# the `hardening_load` driver (release), starts `asa sim` and `asa serve` on free loopback
# ports with a throwaway SQLite database, makes a live account and key with `asa admin`,
# and stops everything on exit.
#
# Knobs shared by both scripts: ASA_BIN and LOAD_BIN (skip the builds), KEEP=1 (keep the
# work directory: database, logs, records), WORK (use this directory instead of a new one).

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
command -v python3 >/dev/null || { echo "python3 is needed (free ports, the report)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 1; }

target="${CARGO_TARGET_DIR:-$repo/target}"
asa="${ASA_BIN:-}"
if [ -z "$asa" ]; then
  (cd "$repo" && cargo build -q --release -p asa-cli)
  asa="$target/release/asa"
fi
load="${LOAD_BIN:-}"
if [ -z "$load" ]; then
  (cd "$repo" && cargo build -q --release -p asa-server --example hardening_load)
  load="$target/release/examples/hardening_load"
fi

# The server refuses unknown ASA_* variables: start from none of the caller's.
for v in $(compgen -e | grep '^ASA_' || true); do unset "$v"; done
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

work="${WORK:-$(mktemp -d)}"
mkdir -p "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

sim_port="$(free_port)"
api_port="$(free_port)"
base="http://127.0.0.1:$api_port"
db="$work/asa.db"

# start_sim [asa sim flags...]
start_sim() {
  "$asa" sim --listen "127.0.0.1:$sim_port" "$@" >"$work/sim.log" 2>&1 &
  sim_pid=$!; pids+=("$sim_pid")
  for _ in $(seq 1 100); do curl -s "http://127.0.0.1:$sim_port/" -o /dev/null && return 0; sleep 0.1; done
  echo "asa sim did not answer" >&2; cat "$work/sim.log" >&2; exit 1
}

# The server's environment: embedded defaults, a throwaway database, the simulator as
# Amazon, and one plan whose limits never bind (the runs judge answers, not 429s).
# Callers add their own ASA_* before `make_key` / `start_server`.
export ASA_LISTEN="127.0.0.1:$api_port"
export ASA_DATABASE_URL="sqlite://$db"
export ASA_UPSTREAM_URL_TEMPLATE="http://127.0.0.1:$sim_port/amazon.{domain}"
export ASA_SANDBOX_BOOTSTRAP=false ASA_FAILURES_DIR="$work/failures" ASA_LOG="${ASA_LOG_LEVEL:-warn}"
export ASA_CAPACITY=20000
export ASA_PLANS_HARDENING_RPS=1000000 ASA_PLANS_HARDENING_BURST=1000000
export ASA_PLANS_HARDENING_CONCURRENCY=20000 ASA_PLANS_HARDENING_COUNTRIES=any

# make_key: creates the database (through `asa admin`), an account and a live key; sets
# account and key.
make_key() {
  account=$("$asa" admin account create --plan hardening --credits 1000000000 --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  key=$("$asa" admin key create --account "$account" --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
}

start_server() {
  "$asa" serve >"$work/serve.log" 2>&1 &
  srv_pid=$!; pids+=("$srv_pid")
  for _ in $(seq 1 150); do
    curl -sf "$base/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$srv_pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "asa serve did not answer" >&2; cat "$work/serve.log" >&2; exit 1
}

# stop_server: SIGTERM, which drains in-flight requests and flushes every trace to the
# store before the process exits (give it 60 s).
stop_server() {
  kill -TERM "$srv_pid" 2>/dev/null || true
  for _ in $(seq 1 600); do kill -0 "$srv_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$srv_pid" 2>/dev/null; then
    echo "asa serve did not stop within 60 s of SIGTERM" >&2
    kill -9 "$srv_pid" 2>/dev/null || true
    server_stopped=killed
  else
    server_stopped=clean
  fi
  wait "$srv_pid" 2>/dev/null || true
}

# run_load OUT SECONDS RATE CONCURRENCY MIX: the driver's summary line on stdout.
run_load() {
  LOAD_BASE="$base" LOAD_KEY="$key" LOAD_OUT="$1" LOAD_SECONDS="$2" LOAD_RATE="$3" \
    LOAD_CONCURRENCY="$4" LOAD_MIX="$5" LOAD_TIMEOUT="${LOAD_TIMEOUT:-120}" \
    LOAD_ASINS="${LOAD_ASINS:-0}" "$load"
}
