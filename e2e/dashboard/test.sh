#!/usr/bin/env bash
# The dashboard's browser tests: headless Debian Chromium driven by playwright-core against
# a real server and simulator that the tests start with `asa dev` on 127.0.0.1. Installs
# chromium (apt-get) and playwright-core (npm ci) when missing; builds `asa` unless ASA_BIN
# names one. Screenshots of every page and the page-load timings land in artifacts/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
: "${ASA_BIN:=$here/../../target/debug/asa}"
if [[ ! -x "$ASA_BIN" ]]; then
  (cd "$here/../.." && cargo build -p asa-cli)
fi
export ASA_BIN
if ! command -v chromium >/dev/null; then
  echo "installing chromium with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq chromium >/dev/null
fi
npm ci --no-audit --no-fund >/dev/null
rm -rf artifacts
node --test --test-concurrency=1 dashboard.test.mjs
echo "screenshots: $(ls artifacts/*.png | wc -l) in e2e/dashboard/artifacts"
