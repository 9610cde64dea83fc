#!/usr/bin/env bash
# Builds the Node SDK and runs its suite against a real server and simulator
# (`asa dev`, started by the tests themselves; ASA_BIN overrides the binary's path).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
: "${ASA_BIN:=$here/../../target/debug/asa}"
if [[ ! -x "$ASA_BIN" ]]; then
  (cd "$here/../.." && cargo build -p asa-cli)
fi
export ASA_BIN
if [[ -f package-lock.json ]]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
rm -rf dist
npx tsc
node --test dist/test/
