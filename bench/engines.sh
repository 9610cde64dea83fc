#!/usr/bin/env bash
# Upstream engines benchmark: the same load through the standard and the browser engine
# against asa-sim's bot-manager mode (TLS, JA4 / HTTP/2 fingerprints, sticky sessions).
# Prints a Markdown table for BENCHMARKS.md, "Upstream engines". Needs cmake and clang
# for the browser engine. Usage: bench/engines.sh [REQUESTS per engine, default 600]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release -q -p asa-upstream --features browser --example engines -- "${1:-600}"
