#!/usr/bin/env bash
# Runs the attacks of issue 10 against a RUNNING goswitch (e.g. `go run ./cmd/goswitch -nonat`)
# and prints one line per attack: what was sent, what it achieved, PASS/FAIL from the defender's
# view. Bounded (well under 3 minutes), stops every process it starts, and lifts the bans it
# caused afterwards (over the event socket, unless -keep-bans).
#
#   scripts/attack.sh [-host auto|IP] [-internal 5060] [-external 5080] [-esl 127.0.0.1:8021]
#                     [-esl-pass ClueCon] [-user 1000] [-pass 1234] [-conns 20000]
#                     [-invite-rate 1000] [-invite-secs 3] [-esl-secs 6] [-svcrack-range 1-2000]
#                     [-only 1,2,3,4,5,6] [-keep-bans]
#
# Attacks (each from its own 127.0.0.x source, since bans are per source):
#   1 REFER toll fraud: an unauthenticated call on the external profile to a registered extension
#     (a fake phone the script registers), then REFER Refer-To 9196 (only in context default).
#   2 TCP connection flood (-conns held open), then OPTIONS over a fresh TCP connection from
#     127.0.0.2, during the flood and after it.
#   3 svcrack (Debian sipvicious) against the extension with a range containing its password.
#   4 event-socket brute force: 8 parallel connect+auth loops.
#   5 REGISTER with the default password (from loopback: allowed by design; reported only).
#   6 INVITE flood above capacity: counts 503 with and without Retry-After.
# Needs: go; svcrack for attack 3 (apt-get install sipvicious).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/goswitch-attack.XXXXXX)
pid=""
cleanup() {
	if [ -n "$pid" ]; then kill -- "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
go build -o "$work/attack" ./scripts/attack
# The helper starts svcrack and two flood children itself and waits for them; timeout bounds the
# whole run in case the target hangs.
timeout -k 5 170 "$work/attack" "$@" &
pid=$!
rc=0
wait "$pid" || rc=$?
pid=""
exit $rc
