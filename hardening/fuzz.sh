#!/usr/bin/env bash
# Runs every cargo-fuzz target of the project for N minutes each (default 15, the issue's
# once-per-target bar): the extractor's (crates/asa-extract/fuzz) and the parsers' of the
# root fuzz/ workspace (query parameters, API keys, webhook signatures).
#
#   hardening/fuzz.sh            # 15 minutes per target
#   hardening/fuzz.sh 1          # a one-minute smoke run
#   FUZZ_TARGETS="api_key" hardening/fuzz.sh 5
#   FUZZ_SECONDS=20 hardening/fuzz.sh    # .ci/run's smoke run: 20 s per target
#
# Each target starts from its seed corpus in the repository (fuzz/corpus/<target>, and for
# the extractor the saved pages of ASA_CORPUS when set); what a run adds goes to a scratch
# folder, so the committed seeds stay small. A crash leaves its input under
# <workspace>/artifacts/<target>/ and fails the script.
#
# cargo-fuzz needs nightly compiler features: the stable toolchain is used with
# RUSTC_BOOTSTRAP=1 (no nightly install needed). The sanitizer is off by default: the code
# under test is safe Rust, where AddressSanitizer finds nothing the fuzzer's own panics do
# not, and it halves the executions per second (FUZZ_SANITIZER=address turns it on).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
minutes="${1:-15}"
seconds="${FUZZ_SECONDS:-$((minutes * 60))}"
sanitizer="${FUZZ_SANITIZER:-none}"
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
export RUSTC_BOOTSTRAP=1
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# run DIR TARGET CORPUS... [-- LIBFUZZER-FLAG...]: one target for the chosen minutes. On
# success it prints libFuzzer's closing line (executions, coverage, corpus) and final stats;
# on a crash the end of libFuzzer's output (the panic and the artifact's path) and fails.
run() {
  local dir="$1" target="$2"
  shift 2
  local corpora=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do corpora+=("$1"); shift; done
  [ "${1:-}" = "--" ] && shift
  if [ -n "${FUZZ_TARGETS:-}" ] && ! grep -qw "$target" <<<"$FUZZ_TARGETS"; then
    return 0
  fi
  mkdir -p "$scratch/$target"
  echo "== $target: ${seconds} s"
  local log="$scratch/$target.log" status=0
  # libFuzzer's own flags go after `--`: cargo-fuzz takes what precedes it for itself.
  (cd "$dir" && cargo fuzz run --sanitizer "$sanitizer" "$target" "$scratch/$target" "${corpora[@]}" -- \
    -max_total_time="$seconds" -print_final_stats=1 "$@") >"$log" 2>&1 || status=$?
  if [ "$status" != 0 ]; then
    tail -n 60 "$log"
    echo "fuzz: $target failed (status $status)" >&2
    exit "$status"
  fi
  grep -E '^#[0-9]+[[:space:]]+DONE|^Done [0-9]+ runs|^stat::' "$log" || tail -n 25 "$log"
  echo "corpus: $(find "$scratch/$target" -type f | wc -l) inputs kept by this run, beside $(find "${corpora[@]}" -type f | wc -l) seeds"
}

for t in query_params api_key webhook_signature; do
  run "$repo/fuzz" "$t" "$repo/fuzz/corpus/$t"
done
extract_seeds=()
[ -n "${ASA_CORPUS:-}" ] && [ -d "$ASA_CORPUS" ] && extract_seeds+=("$ASA_CORPUS")
extract_seeds+=("$repo/crates/asa-extract/fuzz/corpus/extract")
run "$repo/crates/asa-extract/fuzz" extract "${extract_seeds[@]}" -- -max_len=4000000
echo "fuzz: every selected target ran ${seconds} s without a crash"
