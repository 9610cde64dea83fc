#!/usr/bin/env bash
# Property-based tests of the whole HTTP API against its own `/openapi.json`: builds `asa`,
# starts the simulator (as Amazon) and the server with `asa dev` (bench/asa_dev.sh) on a
# throwaway SQLite database with an account and a live key, installs schemathesis from
# PyPI into a venv beside this script and runs every check on every documented operation.
# Any 5xx, any check failure, and fewer generated cases than MIN_CASES fail the run.
#
# Knobs: SCHEMATHESIS_EXAMPLES (max examples per operation and phase, default 450),
# MIN_CASES (default 5000), SCHEMATHESIS_WORKERS (default 1), ASA_BIN (skip the build).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
examples="${SCHEMATHESIS_EXAMPLES:-450}"
min_cases="${MIN_CASES:-5000}"
# One worker: with two, hypothesis' lambda-source cache (not thread-safe) now and then
# aborts an operation with "AST constructor recursion depth mismatch"; one is as fast here.
workers="${SCHEMATHESIS_WORKERS:-1}"

asa="${ASA_BIN:-}"
if [ -z "$asa" ]; then
  (cd "$repo" && cargo build -q -p asa-cli)
  asa="${CARGO_TARGET_DIR:-$repo/target}/debug/asa"
fi
# The server refuses unknown ASA_* variables: start from none of the caller's.
for v in $(compgen -e | grep '^ASA_' || true); do unset "$v"; done

python="${PYTHON:-python3}"
venv="$here/.venv"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check 'schemathesis>=4,<5'

work="$(mktemp -d)"
tmp="$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
source "$repo/bench/asa_dev.sh"

export ASA_UPSTREAM_TIMEOUT="10s"
export ASA_FAILURES_DIR="$tmp/failures"
export ASA_SANDBOX_BOOTSTRAP="false"
# A plan wide enough that the generated traffic is judged on its content, not turned
# into 429s (which the spec documents, and which would still be checked if they came).
export ASA_PLANS_HARDENING_RPS=10000
export ASA_PLANS_HARDENING_BURST=20000
export ASA_PLANS_HARDENING_CONCURRENCY=200
export ASA_PLANS_HARDENING_COUNTRIES=any

# Small simulated pages: this run is about the API contract, not extraction throughput.
start_dev server --page-bytes 40000 --database-url "sqlite://$tmp/asa.db" \
  --live-key hardening --credits 1000000000
base="$dev_api"
SCHEMATHESIS_ASA_KEY="$dev_live_key"
export SCHEMATHESIS_ASA_KEY

export SCHEMATHESIS_HOOKS="$here/schemathesis_hooks.py"

# schemathesis keeps a cache in its working directory: run it in the throwaway one.
cd "$tmp"
started=$(date +%s)
status=0
# Every check but two: docs/API.md answers an unknown method on a known path like any unknown
# route, `404 not_found` in the envelope (the error catalog has no 405), so the checks
# that demand `405` + `Allow` (unsupported_method, allow_header_conformance) cannot hold.
"$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" run "$base/openapi.json" \
  --checks all \
  --exclude-checks unsupported_method,allow_header_conformance \
  --max-examples "$examples" \
  --workers "$workers" \
  --seed "${SCHEMATHESIS_SEED:-12}" \
  --request-timeout 30 \
  --report ndjson --report-ndjson-path "$tmp/events.ndjson" \
  --no-color || status=$?
elapsed=$(( $(date +%s) - started ))

cases="$("$python" - "$tmp/events.ndjson" <<'EOF'
import json, sys
total = 0
for line in open(sys.argv[1]):
    event = json.loads(line)
    for name, body in event.items():
        if name == "ScenarioFinished":
            total += len(body.get("recorder", {}).get("cases", {}))
print(total)
EOF
)"
echo "schemathesis: $cases cases in ${elapsed}s, exit status $status"
if grep -q '"status_code": 5' "$tmp/events.ndjson" && ! [ "$status" -eq 0 ]; then
  echo "server log tail:"; tail -n 50 "$tmp/server.log"
fi
[ "$status" -eq 0 ] || exit "$status"
if [ "$cases" -lt "$min_cases" ]; then
  echo "only $cases cases generated; at least $min_cases are required"
  exit 1
fi
