#!/usr/bin/env bash
# Runs the Go SDK's checks: go vet, then go test against a real server and simulator that
# the tests start themselves with `asa dev`. Installs Go (Debian's golang-go) when it is missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if ! command -v go >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y golang-go
fi
export HOME="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
export GOCACHE="${GOCACHE:-$HOME/.cache/go-build}"
export GOPATH="${GOPATH:-$HOME/go}"
export GOPROXY=off GOFLAGS=-mod=mod

if [ -z "${ASA_BIN:-}" ]; then
  (cd "$root" && cargo build -p asa-cli)
  export ASA_BIN="$root/target/debug/asa"
fi

cd "$here"
go version
go vet ./...
go test -count=1 -v ./...
