#!/usr/bin/env bash
# SIP load test: drives SIPp against a goswitch daemon on 127.0.0.1 and prints achieved calls per
# second, failed calls, call-setup percentiles, and goswitch's CPU and RSS.
#
#   scripts/load-sip.sh [cps|bridge|all]
#
# cps    : RATE calls/s (default 300) to an extension that answers; SIPp hangs up after HOLD_MS
#          (default 0 ms); TOTAL calls (default RATE*20). AUTH=1: the internal profile challenges
#          (auth-calls) and SIPp answers the 407 as user 1000/1234 (scripts/sipp/uac_auth_load.xml).
#          DEST: the extension, answer (answer+park, default) or echo (answer+echo).
#          Reports goswitch's CPU-ms per call, SIPp's CPU, and the channels left once calls ended.
#          RSS_WAIT=N: also report goswitch's RSS N s after the run (idle RSS is taken before it).
# bridge : CONCURRENT bridged calls (default 1000) with G.711 RTP both ways: SIPp UAC streams PCMU
#          through goswitch (bridge to sofia/external/...) to a SIPp UAS that echoes it; each call
#          lasts CALL_MS (default 30000), ramped at BRIDGE_RATE calls/s (default 100).
# Environment: RATE TOTAL HOLD_MS AUTH DEST CDR RSS_WAIT PROFILE KEEP (1: keep the work directory
# with SIPp's and goswitch's logs) CONCURRENT CALL_MS BRIDGE_RATE PORT (internal
# profile, default 15060). CDR=1 (default) loads mod_cdr_csv, as the vanilla configuration does;
# mod_event_socket listens on PORT+80 for gs_cli (no listener subscribes to events), pprof on
# PORT+81. PROFILE=dir: the cps run saves a 10 s CPU profile and a heap profile (at its end) there.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
mode=${1:-all}
RATE=${RATE:-300}
TOTAL=${TOTAL:-$((RATE * 20))}
HOLD_MS=${HOLD_MS:-0}
CONCURRENT=${CONCURRENT:-1000}
CALL_MS=${CALL_MS:-30000}
BRIDGE_RATE=${BRIDGE_RATE:-100}
PORT=${PORT:-15060}
AUTH=${AUTH:-0}
DEST=${DEST:-answer}
CDR=${CDR:-1}
RSS_WAIT=${RSS_WAIT:-0}
EXT_PORT=$((PORT + 20))
UAS_PORT=$((PORT + 40))
ESL_PORT=$((PORT + 80))
METRICS_PORT=$((PORT + 81))
PROFILE=${PROFILE:-}

command -v sipp >/dev/null || { echo "sipp not installed (apt-get install sip-tester)"; exit 1; }
work=$(mktemp -d /tmp/goswitch-load.XXXXXX)
cleanup() {
	for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
mkdir -p "$work/conf" "$work/log" "$work/db" "$work/run" "$work/sipp"

echo "== building goswitch"
go build -o "$work/goswitch" ./cmd/goswitch
go build -o "$work/gs_cli" ./cmd/gs_cli
cdr_module=""
[ "$CDR" = 1 ] && cdr_module='<load module="mod_cdr_csv"/>'
auth_calls=false
[ "$AUTH" = 1 ] && auth_calls=true

cat >"$work/conf/freeswitch.xml" <<XML
<?xml version="1.0"?>
<document type="freeswitch/xml">
<section name="configuration">
  <configuration name="switch.conf"><settings>
    <param name="max-sessions" value="10000"/><param name="sessions-per-second" value="5000"/>
    <param name="loglevel" value="warning"/>
  </settings></configuration>
  <configuration name="modules.conf"><modules><load module="mod_sofia"/><load module="mod_event_socket"/>$cdr_module</modules></configuration>
  <configuration name="event_socket.conf"><settings>
    <param name="listen-ip" value="127.0.0.1"/><param name="listen-port" value="$ESL_PORT"/><param name="password" value="ClueCon"/>
  </settings></configuration>
  <configuration name="sofia.conf"><profiles>
    <profile name="internal"><settings>
      <param name="sip-ip" value="127.0.0.1"/><param name="rtp-ip" value="127.0.0.1"/>
      <param name="sip-port" value="$PORT"/><param name="context" value="load"/>
      <param name="auth-calls" value="$auth_calls"/><param name="challenge-realm" value="auto_from"/>
      <param name="inbound-codec-prefs" value="PCMU,PCMA"/>
      <param name="rtp-start-port" value="20000"/><param name="rtp-end-port" value="40000"/>
    </settings></profile>
    <profile name="external"><settings>
      <param name="sip-ip" value="127.0.0.1"/><param name="rtp-ip" value="127.0.0.1"/>
      <param name="sip-port" value="$EXT_PORT"/><param name="context" value="load"/>
      <param name="auth-calls" value="false"/><param name="outbound-codec-prefs" value="PCMU"/>
      <param name="rtp-start-port" value="40002"/><param name="rtp-end-port" value="60000"/>
    </settings></profile>
  </profiles></configuration>
</section>
<section name="dialplan">
  <context name="load">
    <extension name="answer"><condition field="destination_number" expression="^answer$">
      <action application="answer"/><action application="park"/></condition></extension>
    <extension name="echo"><condition field="destination_number" expression="^echo$">
      <action application="answer"/><action application="echo"/></condition></extension>
    <extension name="bridge"><condition field="destination_number" expression="^bridge$">
      <action application="bridge" data="sofia/external/uas@127.0.0.1:$UAS_PORT"/></condition></extension>
  </context>
</section>
<section name="directory">
  <domain name="127.0.0.1"><groups><group name="default"><users>
    <user id="1000"><params><param name="password" value="1234"/></params></user>
  </users></group></groups></domain>
</section>
</document>
XML

# One second of a 440 Hz tone in raw PCMU for SIPp's rtp_stream.
python3 - "$work/sipp/tone.raw" <<'PY'
import math, sys
def ulaw(s):
    s = max(-32635, min(32635, s)); sign = 0x80 if s < 0 else 0
    if s < 0: s = -s
    s += 0x84; exp = 7
    for e in range(7, -1, -1):
        if s & (0x4000 >> (7 - e)): exp = e; break
    mant = (s >> (exp + 3)) & 0x0F
    return (~(sign | (exp << 4) | mant)) & 0xFF
open(sys.argv[1], "wb").write(bytes(ulaw(int(8000 * math.sin(2 * math.pi * 440 * i / 8000))) for i in range(8000)))
PY

echo "== starting goswitch on 127.0.0.1:$PORT"
"$work/goswitch" -nc -nf -conf "$work/conf" -log "$work/log" -db "$work/db" -run "$work/run" \
	-metrics "127.0.0.1:$METRICS_PORT" >"$work/log/stdout" 2>&1 &
gs=$!
for _ in $(seq 100); do
	ss -lnu 2>/dev/null | grep -q "127.0.0.1:$PORT " && break
	sleep 0.1
done
sleep 0.5
kill -0 $gs || { cat "$work/log/stdout"; exit 1; }

cpu_ticks() { awk '{print $14 + $15}' /proc/$gs/stat; }
rss_kb() { awk '/VmRSS/ {print $2}' /proc/$gs/status; }
HZ=$(getconf CLK_TCK)

# monitor samples goswitch's RSS every 0.5 s into $1 until the file $2 exists.
monitor() { while [ ! -e "$2" ]; do rss_kb >>"$1" 2>/dev/null || true; sleep 0.5; done; }

# gscli runs one API command over the event socket.
gscli() { "$work/gs_cli" -H 127.0.0.1 -P "$ESL_PORT" -p ClueCon -x "$*" 2>/dev/null; }
channels() { gscli show channels count | grep -o '^[0-9]*' | head -1 || true; }

report() { # name sippdir t0 ticks0 [t1 ticks1]
	local name=$1 dir=$2 t0=$3 c0=$4
	local t1=${5:-} c1=${6:-}
	[ -n "$t1" ] || { t1=$(date +%s.%N); c1=$(cpu_ticks); }
	local stat; stat=$(ls "$dir"/*_.csv | head -1)
	python3 - "$stat" "$dir" "$t0" "$t1" "$c0" "$c1" "$HZ" "$dir/rss" "$name" "$dir/sipp.time" <<'PY'
import csv, glob, os, sys
stat, d, t0, t1, c0, c1, hz, rssf, name, timef = sys.argv[1:]
rows = list(csv.reader(open(stat), delimiter=';'))
h, last = rows[0], rows[-1]
def col(n):
    return last[h.index(n)] if n in h else "?"
ok, failed, total = int(col("SuccessfulCall(C)")), int(col("FailedCall(C)")), int(col("TotalCallCreated"))
rtts = []
for f in glob.glob(d + "/*_rtt.csv"):
    for r in list(csv.reader(open(f), delimiter=';'))[1:]:
        try: rtts.append(float(r[1]))
        except (ValueError, IndexError): pass
rtts.sort()
pct = lambda p: rtts[min(len(rtts) - 1, int(p / 100 * len(rtts)))] if rtts else float('nan')
dur = float(t1) - float(t0)
cpu = (int(c1) - int(c0)) / int(hz) / dur * 100
rss = [int(x) for x in open(rssf).read().split()] if rssf else []
peak = max(int(r[h.index("CurrentCall")]) for r in rows[1:] if len(r) == len(h)) if "CurrentCall" in h else "?"
print(f"[{name}] calls {total} ok {ok} failed {failed}  achieved {ok/dur:.1f} calls/s over {dur:.1f}s  peak concurrent {peak}")
print(f"[{name}] setup time ms p50 {pct(50):.1f} p90 {pct(90):.1f} p99 {pct(99):.1f} max {rtts[-1] if rtts else float('nan'):.1f}")
print(f"[{name}] goswitch CPU {cpu:.0f}% (of one core)  RSS max {max(rss)//1024 if rss else 0} MiB")
gs_ms = (int(c1) - int(c0)) / int(hz) * 1000
line = f"[{name}] goswitch CPU {gs_ms/max(total,1):.3f} ms per call ({gs_ms/1000:.1f} s for {total} calls)"
if os.path.exists(timef):
    u, s = (float(x) for x in open(timef).read().split()[-2:])
    line += f"  SIPp CPU {(u+s)*1000/max(total,1):.3f} ms per call ({(u+s)/dur*100:.0f}% of one core)"
print(line)
PY
}

if [ "$mode" = cps ] || [ "$mode" = all ]; then
	echo "== (a) $RATE calls/s to an answering extension, $TOTAL calls, hold ${HOLD_MS} ms"
	d="$work/sipp/cps"; mkdir -p "$d"
	t0=$(date +%s.%N); c0=$(cpu_ticks)
	( monitor "$d/rss" "$d/done" ) &
	if [ -n "$PROFILE" ]; then
		mkdir -p "$PROFILE"
		( sleep 5; curl -s -o "$PROFILE/cpu.pprof" "http://127.0.0.1:$METRICS_PORT/debug/pprof/profile?seconds=10"
		  curl -s -o "$PROFILE/heap.pprof" "http://127.0.0.1:$METRICS_PORT/debug/pprof/heap"
		  curl -s -o "$PROFILE/goroutine.txt" "http://127.0.0.1:$METRICS_PORT/debug/pprof/goroutine?debug=1"
		  cp "$work/goswitch" "$PROFILE/goswitch" ) &
	fi
	scen=(-sn uac -s "$DEST")
	[ "$AUTH" = 1 ] && scen=(-sf "$root/scripts/sipp/uac_auth_load.xml" -s 1000 -au 1000 -ap 1234 -key dest "$DEST"
		-key rtpport 6000 -key codec 0 -key codecname PCMU)
	i0=$(cpu_ticks); sleep 3; idle_ms=$((($(cpu_ticks) - i0) * 1000 / HZ / 3))
	echo "   scenario: ${scen[*]}"
	echo "   idle: RSS $(($(rss_kb) / 1024)) MiB, goswitch CPU ${idle_ms} ms/s"
	(cd "$d" && /usr/bin/time -o "$d/sipp.time" -f "%U %S" sipp 127.0.0.1:$PORT -i 127.0.0.1 -p $((PORT + 60)) "${scen[@]}" \
		-r "$RATE" -m "$TOTAL" -l $((RATE * 5 + 100)) \
		-d "$HOLD_MS" -nostdin -trace_stat -fd 1 -trace_rtt -rtt_freq 1 -trace_err -timeout 300s >"$d/sipp.out" 2>&1) || tail -5 "$d/sipp.out"
	t1=$(date +%s.%N); c1=$(cpu_ticks)
	touch "$d/done"; sleep 0.6
	report cps "$d" "$t0" "$c0" "$t1" "$c1"
	left=""
	for _ in $(seq 60); do left=$(channels); [ "$left" = 0 ] && break; sleep 0.5; done
	echo "[cps] channels left after the run: ${left:-?}"
	if [ "$RSS_WAIT" -gt 0 ]; then
		sleep "$RSS_WAIT"
		echo "[cps] RSS ${RSS_WAIT} s after the run: $(($(rss_kb) / 1024)) MiB"
	fi
fi

if [ "$mode" = bridge ] || [ "$mode" = all ]; then
	echo "== (b) $CONCURRENT concurrent bridged calls with RTP, ${CALL_MS} ms each, ramp $BRIDGE_RATE calls/s"
	d="$work/sipp/bridge"; mkdir -p "$d"; cp "$work/sipp/tone.raw" "$d/"
	(cd "$d" && exec sipp -i 127.0.0.1 -p $UAS_PORT -sn uas -rtp_echo -mi 127.0.0.1 -mp 61000 -nostdin >/dev/null 2>&1) &
	uas=$!
	t0=$(date +%s.%N); c0=$(cpu_ticks)
	( monitor "$d/rss" "$d/done" ) &
	(cd "$d" && sipp 127.0.0.1:$PORT -i 127.0.0.1 -p $((PORT + 61)) -mi 127.0.0.1 -sf "$root/scripts/sipp/uac_load_rtp.xml" \
		-key dest bridge -r "$BRIDGE_RATE" -m "$CONCURRENT" -l "$CONCURRENT" -d "$CALL_MS" \
		-nostdin -trace_stat -fd 1 -trace_rtt -rtt_freq 1 -timeout $((CALL_MS / 1000 + CONCURRENT / BRIDGE_RATE + 120))s >"$d/sipp.out" 2>&1) || tail -5 "$d/sipp.out"
	touch "$d/done"; sleep 0.6
	report bridge "$d" "$t0" "$c0"
	kill "$uas" 2>/dev/null || true
fi
