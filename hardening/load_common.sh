# Shared by hardening/chaos.sh and hardening/soak.sh (sourced, not run): builds `asa` and
# the `hardening_load` driver (release), starts the simulator and the server on loopback
# through `asa dev` (bench/asa_dev.sh) with a throwaway SQLite database, makes a live
# account and key with `asa admin`, and stops everything on exit.
#
# Knobs shared by both scripts: ASA_BIN and LOAD_BIN (skip the builds), KEEP=1 (keep the
# work directory: database, logs, records), WORK (use this directory instead of a new one).

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
command -v python3 >/dev/null || { echo "python3 is needed (asa dev's line, the report)" >&2; exit 1; }
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
source "$repo/bench/asa_dev.sh"
db="$work/asa.db"

# start_sim [simulator flags of asa dev...]: a simulator of its own, in an `asa dev` whose
# API stays idle, so the server under test (its RSS, its log) is alone in its process.
start_sim() {
  start_dev sim "$@"
  sim_url="$dev_sim"
}

# The server's environment: embedded defaults, a throwaway database, the simulator as
# Amazon, and one plan whose limits never bind (the runs judge answers, not 429s).
# Callers add their own ASA_* before `make_key` / `start_server`.
# `asa admin` finds the database through ASA_DATABASE_URL; `asa dev` takes it as a flag.
export ASA_DATABASE_URL="sqlite://$db"
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

# start_server: the server under test on the database `make_key` made, fetching from the
# simulator of `start_sim`; sets srv_pid, base and admin (its admin listener, which serves
# /metrics). Its log is $work/serve.log.
start_server() {
  ASA_ADMIN_TOKEN="hardening-$RANDOM$RANDOM" start_dev serve --sim "$sim_url" --database-url "sqlite://$db"
  srv_pid="$dev_pid"
  base="$dev_api"
  admin="$dev_admin"
}

# stop_server: SIGTERM, which drains in-flight requests and flushes every trace to the
# store before the process exits (give it 60 s); sets server_stopped to clean or killed.
stop_server() {
  stop_dev "$srv_pid" 60
  server_stopped="$dev_stopped"
}

# run_load OUT SECONDS RATE CONCURRENCY MIX: the driver's summary line on stdout.
run_load() {
  LOAD_BASE="$base" LOAD_KEY="$key" LOAD_OUT="$1" LOAD_SECONDS="$2" LOAD_RATE="$3" \
    LOAD_CONCURRENCY="$4" LOAD_MIX="$5" LOAD_TIMEOUT="${LOAD_TIMEOUT:-120}" \
    LOAD_ASINS="${LOAD_ASINS:-0}" "$load"
}
