#!/usr/bin/env bash
# Builds the asa binary, installs the SDK with its test extras into a venv under this
# folder, and runs the suite against a real simulator and server (`asa dev`).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
if [ -z "${ASA_BIN:-}" ]; then
  (cd "$repo" && cargo build -q -p asa-cli)
  export ASA_BIN="$repo/target/debug/asa"
fi
python="${PYTHON:-python3}"
venv="$here/.venv"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -e "$here[test]"
cd "$here"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider tests
