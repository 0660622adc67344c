#!/usr/bin/env bash
# Cluster load test: SIPp CPS through Kamailio (conf/cluster/kamailio.cfg) to one goswitch node,
# then to two, with PostgreSQL holding the shared state; prints calls/s, failed calls, setup
# percentiles and the CPU of each node and of Kamailio. Runs in a private network namespace
# (needs root, kamailio, sipp, postgresql).
#
#   scripts/load-cluster.sh
#
# Environment: RATE (calls/s offered, default 200), SECS (seconds per run, default 20),
# HOLD_MS (call length, default 0), KEEP=1 (keep the work directory with the logs).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
RATE=${RATE:-200}
SECS=${SECS:-20}
HOLD_MS=${HOLD_MS:-0}
TOTAL=$((RATE * SECS))
for p in sipp kamailio ip; do command -v $p >/dev/null || { echo "$p not installed"; exit 1; }; done
[ "$(id -u)" = 0 ] || { echo "needs root (network namespace)"; exit 1; }
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pgbin/initdb" ] || { echo "postgresql not installed"; exit 1; }

work=$(mktemp -d /tmp/goswitch-cluster-load.XXXXXX)
chmod 755 "$work"
ns=gsload$$
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 -- "-$p" 2>/dev/null || kill -9 "$p" 2>/dev/null || true; done
	runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1 || true
	ip netns del "$ns" 2>/dev/null || true
	[ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
inns() { ip netns exec "$ns" "$@"; }

echo "== building goswitch"
go build -o "$work/goswitch" ./cmd/goswitch

echo "== PostgreSQL (throw-away cluster, unix socket)"
mkdir -p "$work/pg" && chown postgres "$work/pg"
runuser -u postgres -- "$pgbin/initdb" -D "$work/pg/data" -A trust -U postgres -E UTF8 --no-sync >/dev/null
runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg/data" -w -l "$work/pg/log" \
	-o "-k $work/pg -c listen_addresses='' -F -c max_connections=200" start >/dev/null
dsn="pgsql://host=$work/pg dbname=postgres user=postgres sslmode=disable"

# node NAME IP: one goswitch behind Kamailio, answering "answer" (answer, park until the BYE).
node() {
	local name=$1 ip=$2 d="$work/$1"
	mkdir -p "$d/conf"
	cat >"$d/conf/freeswitch.xml" <<XML
<?xml version="1.0"?>
<document type="freeswitch/xml">
<section name="configuration">
  <configuration name="switch.conf"><settings>
    <param name="switchname" value="$name"/><param name="core-db-dsn" value="$dsn"/>
    <param name="max-sessions" value="10000"/><param name="sessions-per-second" value="5000"/>
    <param name="loglevel" value="warning"/>
  </settings></configuration>
  <configuration name="modules.conf"><modules><load module="mod_sofia"/></modules></configuration>
  <configuration name="sofia.conf"><profiles>
    <profile name="internal"><settings>
      <param name="sip-ip" value="$ip"/><param name="rtp-ip" value="$ip"/><param name="sip-port" value="5060"/>
      <param name="context" value="load"/><param name="auth-calls" value="false"/>
      <param name="inbound-codec-prefs" value="PCMU"/>
    </settings></profile>
  </profiles></configuration>
</section>
<section name="dialplan"><context name="load">
  <extension name="answer"><condition field="destination_number" expression="^answer$">
    <action application="answer"/><action application="park"/></condition></extension>
</context></section>
</document>
XML
	setsid ip netns exec "$ns" "$work/goswitch" -nc -nf -conf "$d/conf" -metrics off -log "$d/log" -db "$d/db" -run "$d/run" >"$d/stdout" 2>&1 &
	pids+=($!)
}
node node-a 127.0.0.11
node node-b 127.0.0.12
# pid of the goswitch process itself (ip netns exec / setsid exec into it).
gspid() { pgrep -f -- "-conf $work/$1/conf" | head -1; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

# Two Kamailio fronts, both started once: 127.0.0.9 dispatches to node-a only, 127.0.0.10 to both.
kam() { # IP NODES...
	local ip=$1; shift
	: >"$work/ds-$ip.list"
	for n in "$@"; do echo "1 sip:$n:5060 0 0" >>"$work/ds-$ip.list"; done
	setsid ip netns exec "$ns" kamailio -DD -E -m 256 -f "$root/conf/cluster/kamailio.cfg" -A "LISTEN=udp:$ip:5060" \
		-A "DSLIST=\"$work/ds-$ip.list\"" -A DS_PING=1 -A PIKE_REQS=1000000 -P "$work/kamailio-$ip.pid" >"$work/kamailio-$ip.log" 2>&1 &
	pids+=($!)
}
kam 127.0.0.9 127.0.0.11
kam 127.0.0.10 127.0.0.11 127.0.0.12
sleep 3 # the dispatchers' first OPTIONS round marks the nodes up

run() { # N PROXY
	local n=$1 proxy=$2 d="$work/run$1"
	mkdir -p "$d"
	local a b k
	a=$(gspid node-a); b=$(gspid node-b); k=$(cat "$work/kamailio-$proxy.pid")
	local ta tb tk t0
	ta=$(ticks "$a"); tb=$(ticks "$b"); tk=$(for p in $(pgrep -P "$k") "$k"; do ticks "$p"; done | paste -sd+ | bc)
	t0=$(date +%s.%N)
	(cd "$d" && inns sipp "$proxy:5060" -i 127.0.0.20 -p 5070 -mi 127.0.0.20 -sf "$root/scripts/sipp/uac_cluster.xml" \
		-s answer -r "$RATE" -m "$TOTAL" -l $((RATE * 5 + 100)) -d "$HOLD_MS" -nostdin -trace_stat -fd 1 \
		-trace_rtt -rtt_freq 1 -timeout $((SECS * 3 + 30))s >"$d/sipp.out" 2>&1) || tail -5 "$d/sipp.out"
	local t1 ta1 tb1 tk1
	t1=$(date +%s.%N); ta1=$(ticks "$a"); tb1=$(ticks "$b")
	tk1=$(for p in $(pgrep -P "$k") "$k"; do ticks "$p"; done | paste -sd+ | bc)
	python3 - "$d" "$n" "$t0" "$t1" "$HZ" "$ta" "$ta1" "$tb" "$tb1" "$tk" "$tk1" <<'PY'
import csv, glob, sys
d, n, t0, t1, hz, ta, ta1, tb, tb1, tk, tk1 = sys.argv[1:]
rows = list(csv.reader(open(glob.glob(d + "/*_.csv")[0]), delimiter=';'))
h, last = rows[0], rows[-1]
col = lambda c: int(last[h.index(c)])
ok, failed = col("SuccessfulCall(C)"), col("FailedCall(C)")
rtts = sorted(float(r[1]) for f in glob.glob(d + "/*_rtt.csv") for r in list(csv.reader(open(f), delimiter=';'))[1:] if len(r) > 1 and r[1].replace('.', '', 1).isdigit())
pct = lambda p: rtts[min(len(rtts) - 1, int(p / 100 * len(rtts)))] if rtts else float('nan')
dur, hz = float(t1) - float(t0), int(hz)
cpu = lambda a, b: (int(b) - int(a)) / hz / dur * 100
print(f"[{n} node(s)] ok {ok} failed {failed}  {ok/dur:.1f} calls/s over {dur:.1f}s  setup ms p50 {pct(50):.1f} p99 {pct(99):.1f}")
print(f"[{n} node(s)] CPU node-a {cpu(ta, ta1):.0f}%  node-b {cpu(tb, tb1):.0f}%  kamailio {cpu(tk, tk1):.0f}%  (of one core)")
PY
}

echo "== $RATE calls/s for ${SECS}s through Kamailio to one node"
run 1 127.0.0.9
echo "== $RATE calls/s for ${SECS}s through Kamailio to two nodes"
run 2 127.0.0.10
