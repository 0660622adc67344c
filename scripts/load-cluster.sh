#!/usr/bin/env bash
# Cluster load test: SIPp CPS through Kamailio (conf/cluster/kamailio.cfg) to one goswitch node,
# then to two, with PostgreSQL holding the shared state; prints calls/s, failed calls, setup
# percentiles and the CPU of each node and of Kamailio. Runs in a private network namespace
# (needs root, kamailio, sipp, postgresql).
#
#   scripts/load-cluster.sh                                  # RATE calls/s to one node, then two
#   NODE_CPU=25 RATES=100,200,300,400,500,600,700 scripts/load-cluster.sh
#
# The second form is the scale-out proof on a small box: every node is held to NODE_CPU % of one
# core by a cgroup CPU quota, so the nodes (not SIPp or Kamailio, which share the same cores) are
# what runs out; each topology climbs RATES until a step is not clean (a failed call, a call not
# completed, or setup p99 over MAX_P99_MS), and the last lines compare the highest clean rates.
#
# Environment: RATE (calls/s offered, default 200), RATES (a ramp, overrides RATE), SECS (seconds
# per step, default 20), HOLD_MS (call length, default 0), NODE_CPU (percent of a core per node;
# needs a writable cgroup v1 cpu or v2 hierarchy), MAX_P99_MS (default 500), KEEP=1 (keep the work
# directory with the logs).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
RATE=${RATE:-200}
RATES=${RATES:-$RATE}
SECS=${SECS:-20}
HOLD_MS=${HOLD_MS:-0}
NODE_CPU=${NODE_CPU:-}
MAX_P99_MS=${MAX_P99_MS:-500}
for p in sipp kamailio ip; do command -v $p >/dev/null || { echo "$p not installed"; exit 1; }; done
[ "$(id -u)" = 0 ] || { echo "needs root (network namespace)"; exit 1; }
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pgbin/initdb" ] || { echo "postgresql not installed"; exit 1; }

work=$(mktemp -d /tmp/goswitch-cluster-load.XXXXXX)
chmod 755 "$work"
ns=gsload$$
pids=()
cgroups=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 -- "-$p" 2>/dev/null || kill -9 "$p" 2>/dev/null || true; done
	for cg in "${cgroups[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$cg" 2>/dev/null && break; sleep 0.2; done
	done
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

# cpucap NAME: makes $cg a cgroup holding its processes to NODE_CPU % of one core (v2 cpu.max or
# v1 CFS quota).
cpucap() {
	local d quota=$((NODE_CPU * 1000))
	if [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw cpu /sys/fs/cgroup/cgroup.controllers; then
		echo +cpu >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
		d=/sys/fs/cgroup/goswitch-load-$$-$1
		mkdir "$d" && echo "$quota 100000" >"$d/cpu.max"
	elif [ -w /sys/fs/cgroup/cpu ]; then
		d=/sys/fs/cgroup/cpu/goswitch-load-$$-$1
		mkdir "$d" && echo 100000 >"$d/cpu.cfs_period_us" && echo "$quota" >"$d/cpu.cfs_quota_us"
	else
		echo "NODE_CPU needs a writable cgroup cpu controller" >&2
		exit 1
	fi
	cgroups+=("$d")
	cg=$d/cgroup.procs
}

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
	cg=/dev/null
	[ -n "$NODE_CPU" ] && cpucap "$name"
	# In the cgroup before goswitch starts, so the Go runtime sizes GOMAXPROCS from the quota.
	setsid bash -c 'echo $$ >"$1" && shift && exec "$@"' _ "$cg" ip netns exec "$ns" "$work/goswitch" -nc -nf \
		-conf "$d/conf" -metrics off -log "$d/log" -db "$d/db" -run "$d/run" >"$d/stdout" 2>&1 &
	pids+=($!)
	disown $!
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
	disown $!
}
kam 127.0.0.9 127.0.0.11
kam 127.0.0.10 127.0.0.11 127.0.0.12
sleep 3 # the dispatchers' first OPTIONS round marks the nodes up

run() { # N PROXY RATE: exit status 0 if the step was clean
	local n=$1 proxy=$2 rate=$3 d="$work/run$1-$3" total=$(($3 * SECS))
	mkdir -p "$d"
	local a b k
	a=$(gspid node-a); b=$(gspid node-b); k=$(cat "$work/kamailio-$proxy.pid")
	local ta tb tk t0
	ta=$(ticks "$a"); tb=$(ticks "$b"); tk=$(for p in $(pgrep -P "$k") "$k"; do ticks "$p"; done | paste -sd+ | bc)
	t0=$(date +%s.%N)
	(cd "$d" && inns sipp "$proxy:5060" -i 127.0.0.20 -p 5070 -mi 127.0.0.20 -sf "$root/scripts/sipp/uac_cluster.xml" \
		-s answer -r "$rate" -m "$total" -l $((rate * 5 + 100)) -d "$HOLD_MS" -nostdin -trace_stat -fd 1 \
		-trace_rtt -rtt_freq 1 -timeout $((SECS * 3 + 30))s >"$d/sipp.out" 2>&1) || tail -5 "$d/sipp.out"
	local t1 ta1 tb1 tk1
	t1=$(date +%s.%N); ta1=$(ticks "$a"); tb1=$(ticks "$b")
	tk1=$(for p in $(pgrep -P "$k") "$k"; do ticks "$p"; done | paste -sd+ | bc)
	python3 - "$d" "$n" "$t0" "$t1" "$HZ" "$ta" "$ta1" "$tb" "$tb1" "$tk" "$tk1" "$rate" "$total" "$MAX_P99_MS" <<'PY'
import csv, glob, sys
d, n, t0, t1, hz, ta, ta1, tb, tb1, tk, tk1, rate, total, maxp99 = sys.argv[1:]
rows = list(csv.reader(open(glob.glob(d + "/*_.csv")[0]), delimiter=';'))
h, last = rows[0], rows[-1]
col = lambda c: int(last[h.index(c)])
ok, failed = col("SuccessfulCall(C)"), col("FailedCall(C)")
rtts = sorted(float(r[1]) for f in glob.glob(d + "/*_rtt.csv") for r in list(csv.reader(open(f), delimiter=';'))[1:] if len(r) > 1 and r[1].replace('.', '', 1).isdigit())
pct = lambda p: rtts[min(len(rtts) - 1, int(p / 100 * len(rtts)))] if rtts else float('nan')
dur, hz = float(t1) - float(t0), int(hz)
cpu = lambda a, b: (int(b) - int(a)) / hz / dur * 100
clean = failed == 0 and ok == int(total) and pct(99) <= float(maxp99)
print(f"[{n} node(s)] {rate}/s offered: ok {ok} failed {failed}  {ok/dur:.1f} calls/s over {dur:.1f}s  setup ms p50 {pct(50):.1f} p99 {pct(99):.1f}  {'clean' if clean else 'NOT clean'}")
print(f"[{n} node(s)] CPU node-a {cpu(ta, ta1):.0f}%  node-b {cpu(tb, tb1):.0f}%  kamailio {cpu(tk, tk1):.0f}%  (of one core)")
sys.exit(0 if clean else 3)
PY
}

# ramp N PROXY: climb RATES until a step is not clean; prints the highest clean rate.
ramp() {
	local best=0 r
	for r in ${RATES//,/ }; do
		echo "== $r calls/s for ${SECS}s through Kamailio to $1 node(s)${NODE_CPU:+, each held to $NODE_CPU % of a core}" >&2
		if run "$1" "$2" "$r" >&2; then best=$r; else break; fi
	done
	echo "$best"
}
best1=$(ramp 1 127.0.0.9)
best2=$(ramp 2 127.0.0.10)
echo "== highest clean rate (of RATES=$RATES${NODE_CPU:+, NODE_CPU=$NODE_CPU}): one node $best1/s, two nodes $best2/s$([ "$best1" -gt 0 ] && echo " ($(echo "scale=2; $best2 / $best1" | bc)x)")"
