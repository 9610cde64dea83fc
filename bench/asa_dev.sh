# Sourced (not run) by the bench/ and hardening/ scripts: the one way they start a
# simulator and a server, through `asa dev --json` (binary in $asa, files under $work).
#
# start_dev NAME [asa dev flags...]: starts `asa dev --json` in the background (stdout in
#   $work/NAME.json, logs in $work/NAME.log), waits for its line, and sets dev_pid, dev_api,
#   dev_sim, dev_admin, dev_database_url, dev_sandbox_key, dev_account, dev_live_key (empty
#   when null). The pid is also appended to the caller's `pids` array when it has one.
# stop_dev PID [SECONDS]: SIGTERM (the server drains in-flight requests and flushes its
#   traces), SIGKILL after SECONDS (default 60); sets dev_stopped to clean or killed.

start_dev() {
  local name="$1"; shift
  local out="$work/$name.json" log="$work/$name.log"
  : >"$out"
  "$asa" dev --json "$@" >"$out" 2>"$log" &
  dev_pid=$!
  if declare -p pids >/dev/null 2>&1; then pids+=("$dev_pid"); fi
  local _
  for _ in $(seq 1 1200); do
    # The line is written whole, newline included, once everything answers.
    if [ "$(tail -c 1 "$out" 2>/dev/null | od -An -c | tr -d ' ')" = '\n' ]; then
      eval "$(python3 - "$out" <<'PY'
import json, shlex, sys
line = json.load(open(sys.argv[1]))
for k in ("api", "sim", "admin", "database_url", "sandbox_key", "account", "live_key"):
    v = line.get(k)
    print("dev_%s=%s" % (k, shlex.quote("" if v is None else str(v))))
PY
)"
      return 0
    fi
    kill -0 "$dev_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "asa dev ($name) did not come up; its log:" >&2
  tail -n 50 "$log" >&2
  exit 1
}

stop_dev() {
  local pid="$1" grace="${2:-60}" _
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((grace * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "asa dev (pid $pid) did not stop within $grace s of SIGTERM" >&2
    kill -9 "$pid" 2>/dev/null || true
    dev_stopped=killed
  else
    dev_stopped=clean
  fi
  wait "$pid" 2>/dev/null || true
}
