// Command attack runs the attacks of issue 10 against a running goswitch and prints one line per
// attack: what was sent, what it achieved, and PASS/FAIL from the defender's view. scripts/attack.sh
// builds and runs it; see there for the flags.
//
// Every attack uses its own loopback source address, because a ban is per source and host-wide:
//
//	127.0.0.7 fake phone (registers 1000, answers the call)  127.0.0.8 REFER caller
//	127.0.0.5 TCP flood   127.0.0.2 fresh source checking TCP   127.0.0.3 svcrack (-b; towards a
//	non-loopback target svcrack's packets leave from the target's own address)
//	127.0.0.4 ESL brute force   127.0.0.6 INVITE flood   127.0.0.1 ESL control (ban list, cleanup)
package main

import (
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"
)

var (
	host      = flag.String("host", "auto", "goswitch SIP address (auto: 127.0.0.1, else the first local address whose internal port answers OPTIONS)")
	internal  = flag.Int("internal", 5060, "internal profile port")
	external  = flag.Int("external", 5080, "external profile port")
	eslAddr   = flag.String("esl", "127.0.0.1:8021", "event socket address")
	eslPass   = flag.String("esl-pass", "ClueCon", "event socket password (for the ban list and cleanup)")
	user      = flag.String("user", "1000", "extension to attack")
	pass      = flag.String("pass", "1234", "its (default) password")
	conns     = flag.Int("conns", 20000, "TCP flood: connections to open")
	rate      = flag.Int("invite-rate", 1000, "INVITE flood: INVITEs per second")
	secs      = flag.Int("invite-secs", 3, "INVITE flood: seconds")
	eslSecs   = flag.Int("esl-secs", 6, "ESL brute force: seconds")
	svRange   = flag.String("svcrack-range", "1-2000", "svcrack password range")
	only      = flag.String("only", "1,2,3,4,5,6", "attacks to run")
	keepBans  = flag.Bool("keep-bans", false, "leave the bans the attacks caused in place")
	childMode = flag.String("flood-child", "", "internal: open connections to this address and hold them")
	childSrc  = flag.String("flood-src", "", "internal")
	childN    = flag.Int("flood-n", 0, "internal")
)

func main() {
	flag.Parse()
	if *childMode != "" {
		floodChild(*childMode, *childSrc, *childN)
		return
	}
	h := resolveHost()
	if !h.IsValid() {
		fmt.Println("no goswitch answering OPTIONS on port", *internal, "(tried 127.0.0.1 and local addresses); use -host")
		os.Exit(2)
	}
	fmt.Printf("target: SIP %s (internal %d, external %d), ESL %s\n", h, *internal, *external, *eslAddr)
	run := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		run[strings.TrimSpace(s)] = true
	}
	// Order of execution: the REFER call needs the REGISTER of attack 5; svcrack runs last but
	// one, ESL last, so that no ban they cause hides another attack's result.
	var lines = map[string]string{}
	if run["1"] || run["5"] {
		l1, l5 := referAttack(h)
		lines["1"], lines["5"] = l1, l5
	}
	if run["2"] {
		lines["2"] = tcpFlood(h)
	}
	if run["6"] {
		lines["6"] = inviteFlood(h)
	}
	if run["3"] {
		lines["3"] = svcrack(h)
	}
	if run["4"] {
		lines["4"] = eslBrute()
	}
	for _, k := range []string{"1", "2", "3", "4", "5", "6"} {
		if run[k] && lines[k] != "" {
			fmt.Println(lines[k])
		}
	}
	if out, ok := eslAPI("127.0.0.1", "ban list"); ok {
		fmt.Printf("ban list after the attacks:\n%s\n", indent(out))
		if !*keepBans && !strings.Contains(out, "-ERR") {
			r, _ := eslAPI("127.0.0.1", "ban del all")
			fmt.Println("cleanup: ban del all:", strings.TrimSpace(r))
		}
	}
}

func line(n, name, sent, result string, pass bool) string {
	v := "FAIL"
	if pass {
		v = "PASS"
	}
	return fmt.Sprintf("[%s] %-18s | sent: %s | result: %s | %s", n, name, sent, result, v)
}

func info(n, name, sent, result string) string {
	return fmt.Sprintf("[%s] %-18s | sent: %s | result: %s | INFO", n, name, sent, result)
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}

func resolveHost() netip.Addr {
	var cands []netip.Addr
	if *host != "auto" {
		a, err := netip.ParseAddr(*host)
		if err != nil {
			return netip.Addr{}
		}
		return a
	}
	cands = append(cands, netip.MustParseAddr("127.0.0.1"))
	if as, err := net.InterfaceAddrs(); err == nil {
		for _, a := range as {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() && !p.Addr().IsLoopback() {
				cands = append(cands, p.Addr())
			}
		}
	}
	for _, c := range cands {
		u, err := newUA("127.0.0.1", netip.AddrPortFrom(c, uint16(*internal)))
		if err != nil {
			continue
		}
		id := "probe-" + rnd()
		u.send(u.request("OPTIONS", "sip:"+netip.AddrPortFrom(c, uint16(*internal)).String(), "<sip:probe@attack>;tag="+rnd(), "<sip:probe@"+c.String()+">", id, 1, "", ""))
		m := u.final(id, 1, 700*time.Millisecond)
		u.conn.Close()
		if m != nil {
			return c
		}
	}
	return netip.Addr{}
}
