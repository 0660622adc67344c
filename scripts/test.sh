#!/usr/bin/env bash
# Runs every goswitch test, after installing what the tests need on a fresh Debian machine:
# SIPp (sip-tester), baresip, sipvicious (svcrack), tmux, espeak-ng, chromium, nodejs/npm and sox from
# Debian, SIP.js and playwright-core from npm (web/), Go modules and staticcheck from the module proxy.
# Usage: scripts/test.sh            (CI=true makes a missing interop peer a failure, not a skip)
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=()
command -v sipp >/dev/null 2>&1 || pkgs+=(sip-tester)
command -v baresip >/dev/null 2>&1 || pkgs+=(baresip)
command -v svcrack >/dev/null 2>&1 || pkgs+=(sipvicious) # brute-force tests (endpoints/sip)
command -v tmux >/dev/null 2>&1 || pkgs+=(tmux)
command -v espeak-ng >/dev/null 2>&1 || pkgs+=(espeak-ng) # say:/speak text-to-speech tests
command -v chromium >/dev/null 2>&1 || pkgs+=(chromium)   # web phone browser test (WebRTC)
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
command -v sox >/dev/null 2>&1 || pkgs+=(sox)             # the browser's fake microphone tone
command -v gcc >/dev/null 2>&1 || pkgs+=(gcc)             # cgo, which go test -race needs
ldconfig -p | grep -q "libopus.so.0 " || pkgs+=(libopus0) # Opus (codecs/opus loads libopus at start)
command -v kamailio >/dev/null 2>&1 || pkgs+=(kamailio) # cluster test (internal/clustertest)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || pkgs+=(postgresql) # store tests on PostgreSQL, cluster test
if [ ${#pkgs[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	echo "== installing ${pkgs[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi

echo "== npm ci (web phone: SIP.js; browser test: playwright-core, using Debian's chromium)"
(cd web && npm ci --no-audit --no-fund >/dev/null)

echo "== go mod download"
go mod download

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt needed:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== staticcheck"
GOFLAGS=-mod=mod go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
"$(go env GOPATH)/bin/staticcheck" ./...

echo "== go test -race"
# The overload signal (scheduling lag) would see the test runner's own load: many -race test
# processes and SIPp share two cores. Tests of that signal set max-scheduling-lag-ms themselves.
export GOSWITCH_MAX_SCHEDULING_LAG_MS=${GOSWITCH_MAX_SCHEDULING_LAG_MS:-0}
go test -race -timeout 12m ./...
