package sip

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/sdp"
)

func registerAPIs() {
	core.RegisterAPI(core.APIInfo{Name: "sofia", Module: "mod_sofia", Fn: sofiaAPI,
		Syntax: "sofia status [profile <name> [reg]|gateway <name>] | sofia profile <name> start|stop|restart|rescan|siptrace on|off | sofia ban list|add <ip> [secs] [reason]|del <ip>|all",
		Short:  "Sofia Controls"})
	core.RegisterAPI(core.APIInfo{Name: "sofia_contact", Module: "mod_sofia", Fn: sofiaContactAPI,
		Syntax: "[profile/]<user>@<domain>", Short: "Sofia Contacts"})
}

func endpointOf(h *core.Host) (*Endpoint, bool) {
	ep, ok := h.Endpoint("sofia")
	if !ok {
		return nil, false
	}
	e, ok := ep.(*Endpoint)
	return e, ok && e.regs != nil
}

// sofiaContactAPI returns comma-joined dial strings of a user's registrations, or
// error/user_not_registered.
func sofiaContactAPI(ctx context.Context, h *core.Host, args string, w io.Writer) error {
	e, ok := endpointOf(h)
	args = strings.TrimSpace(args)
	profile := ""
	if pr, rest, found := strings.Cut(args, "/"); found {
		profile, args = pr, rest
	}
	user, domain, _ := strings.Cut(args, "@")
	if domain == "" {
		if v, ok := h.Global("domain"); ok {
			domain = v
		}
	}
	if !ok {
		io.WriteString(w, "error/user_not_registered")
		return nil
	}
	cs := e.Contacts(profile, user, domain)
	if len(cs) == 0 {
		io.WriteString(w, "error/user_not_registered")
		return nil
	}
	io.WriteString(w, strings.Join(cs, ","))
	return nil
}

const statusRule = "================================================================================================="

func sofiaAPI(ctx context.Context, h *core.Host, args string, w io.Writer) error {
	e, ok := endpointOf(h)
	if !ok {
		fmt.Fprintln(w, "-ERR mod_sofia is not running")
		return nil
	}
	f := strings.Fields(args)
	if len(f) == 0 {
		fmt.Fprintln(w, "-USAGE: sofia status|profile ...")
		return nil
	}
	switch f[0] {
	case "status":
		return e.status(w, f[1:])
	case "profile":
		if len(f) < 3 {
			fmt.Fprintln(w, "-USAGE: sofia profile <name> start|stop|restart|rescan|siptrace on|off")
			return nil
		}
		return e.profileCmd(w, f[1], f[2:])
	case "global":
		fmt.Fprintln(w, "+OK")
		return nil
	case "ban": // the host's ban table, as the top-level `ban` API (core/security)
		h.Bans.Command(ctx, strings.Join(f[1:], " "), w)
		return nil
	}
	fmt.Fprintln(w, "-ERR Unknown command")
	return nil
}

func (e *Endpoint) status(w io.Writer, f []string) error {
	if len(f) >= 2 && f[0] == "profile" {
		p, ok := e.Profile(f[1])
		if !ok {
			fmt.Fprintf(w, "Invalid Profile [%s]\n", f[1])
			return nil
		}
		if len(f) >= 3 && f[2] == "reg" {
			filter := ""
			if len(f) >= 4 {
				filter = f[3]
			}
			e.statusReg(w, p, filter)
			return nil
		}
		e.statusProfile(w, p)
		return nil
	}
	if len(f) >= 1 && f[0] == "gateway" {
		if len(f) >= 2 {
			g, ok := e.Gateway(f[1])
			if !ok {
				fmt.Fprintf(w, "Invalid Gateway!\n")
				return nil
			}
			io.WriteString(w, g.statusText())
			return nil
		}
		fmt.Fprintf(w, "%25s\t%32s\t%s\t%s\n", "Profile::Gateway-Name", "Data", "State", "IB Calls(F/T)")
		fmt.Fprintln(w, statusRule)
		for _, n := range e.gatewayNames() {
			g, _ := e.Gateway(n)
			fmt.Fprintf(w, "%25s\t%32s\t%s\t%d/%d\t%d/%d\t%s\n", g.p.cfg.Name+"::"+n, "sip:"+g.cfg.Username+"@"+g.cfg.Proxy,
				g.State(), g.failedIn.Load(), g.callsIn.Load(), g.failedOut.Load(), g.callsOut.Load(), g.Status())
		}
		fmt.Fprintln(w, statusRule)
		return nil
	}
	// sofia status: FreeSWITCH's table.
	fmt.Fprintf(w, "%25s\t%s\t  %40s\t%s\n", "Name", "   Type", "Data", "State")
	fmt.Fprintln(w, statusRule)
	names := e.ProfileNames()
	for _, n := range names {
		p, ok := e.Profile(n)
		if !ok {
			continue
		}
		calls := 0
		p.calls.Range(func(_, _ any) bool { calls++; return true })
		fmt.Fprintf(w, "%25s\t%s\t  %40s\t%s (%d)\n", n, "profile", p.url(), "RUNNING", calls)
		if p.tlsL != nil {
			fmt.Fprintf(w, "%25s\t%s\t  %40s\t%s (%d) (TLS)\n", n, "profile", fmt.Sprintf("sip:mod_sofia@%s:%d", p.extSIPIP, p.tlsPort), "RUNNING", calls)
		}
		for _, g := range p.gateways {
			fmt.Fprintf(w, "%25s\t%s\t  %40s\t%s\n", n+"::"+g.cfg.Name, "gateway", "sip:"+g.cfg.Username+"@"+g.cfg.Proxy, g.State())
		}
	}
	fmt.Fprintln(w, statusRule)
	fmt.Fprintf(w, "%d profile%s 0 aliases\n", len(names), plural(len(names)))
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (e *Endpoint) statusProfile(w io.Writer, p *Profile) {
	cfg := p.cfg
	regs := len(e.regs.all(cfg.Name))
	tlsURL := ""
	if p.tlsL != nil {
		tlsURL = fmt.Sprintf("sip:mod_sofia@%s:%d;transport=tls", p.extSIPIP, p.tlsPort)
	}
	dtmf := cfg.DTMFType
	rows := [][2]string{
		{"Name", cfg.Name}, {"Domain Name", "N/A"}, {"Auto-NAT", "false"}, {"DBName", "sofia_reg_" + cfg.Name},
		{"Pres Hosts", ""}, {"Dialplan", cfg.Dialplan}, {"Context", cfg.Context}, {"Challenge Realm", cfg.ChallengeRealm},
		{"RTP-IP", p.rtpIP.String()}, {"Ext-RTP-IP", p.extRTPIP.String()}, {"SIP-IP", p.sipIP.String()},
		{"Ext-SIP-IP", p.extSIPIP.String()}, {"URL", p.url()},
		{"BIND-URL", fmt.Sprintf("sip:mod_sofia@%s:%d;maddr=%s;transport=udp,tcp", p.extSIPIP, p.port, p.sipIP)},
		{"TLS-URL", tlsURL}, {"WS-BIND-URL", ""}, {"WSS-BIND-URL", ""},
		{"HOLD-MUSIC", cfg.Params["hold-music"]}, {"OUTBOUND-PROXY", "N/A"},
		{"CODECS IN", sdp.FormatCodecString(cfg.InboundCodecs)}, {"CODECS OUT", sdp.FormatCodecString(cfg.OutboundCodecs)},
		{"TEL-EVENT", fmt.Sprint(cfg.RFC2833PT)}, {"DTMF-MODE", dtmf}, {"CNG", fmt.Sprint(cfg.CNGPT)},
		{"SESSION-TO", fmt.Sprint(int(cfg.SessionTimeout.Seconds()))}, {"MAX-DIALOG", "0"},
		{"MAX-RECV-RPS", fmt.Sprint(cfg.MaxRecvRPS)}, {"NOMEDIA", "false"}, {"LATE-NEG", "false"},
		{"PROXY-MEDIA", "false"}, {"ZRTP-PASSTHRU", "false"}, {"AGGRESSIVENAT", "false"},
		{"CALLS-IN", fmt.Sprint(p.callsIn.Load())}, {"FAILED-CALLS-IN", fmt.Sprint(p.failedIn.Load())},
		{"CALLS-OUT", fmt.Sprint(p.callsOut.Load())}, {"FAILED-CALLS-OUT", fmt.Sprint(p.failedOut.Load())},
		{"CALLS-REFUSED-503", fmt.Sprint(p.refused.Load())}, {"RTP-PORTS", p.portStatus()},
		{"REGISTRATIONS", fmt.Sprint(regs)},
		// Messages refused or dropped before a handler (malformed, oversize, rate-limited):
		// not a FreeSWITCH row, goswitch's own.
		{"DROPPED-MSGS", fmt.Sprint(p.dropped.Load())},
	}
	rows = append(rows, securityRows(e, p)...)
	// Stream listener guard counters (goswitch's own rows, streamlimits.go).
	rows = append(rows, streamStatus("TCP", p.tcp)...)
	rows = append(rows, streamStatus("TLS", p.tlsL)...)
	fmt.Fprintln(w, statusRule)
	for _, r := range rows {
		fmt.Fprintf(w, "%-17s\t%s\n", r[0], r[1])
	}
	fmt.Fprintln(w, statusRule)
}

func (e *Endpoint) statusReg(w io.Writer, p *Profile, filter string) {
	regs := e.regs.all(p.cfg.Name)
	sort.Slice(regs, func(i, j int) bool { return regs[i].User+regs[i].ContactURI < regs[j].User+regs[j].ContactURI })
	fmt.Fprintf(w, "\nRegistrations:\n%s\n", statusRule)
	n := 0
	host := e.h.Bus.Identity().Hostname
	for _, r := range regs {
		if filter != "" && !strings.Contains(r.Contact, filter) && !strings.Contains(r.User, filter) {
			continue
		}
		n++
		exp := time.Until(r.Expires).Round(time.Second)
		fmt.Fprintf(w, "Call-ID:    \t%s\n", r.CallID)
		fmt.Fprintf(w, "User:       \t%s@%s\n", r.User, r.Host)
		fmt.Fprintf(w, "Contact:    \t%s\n", r.Contact)
		fmt.Fprintf(w, "Agent:      \t%s\n", r.UserAgent)
		fmt.Fprintf(w, "Status:     \tRegistered(%s)(unknown) EXP(%s) EXPSECS(%d)\n", r.Transport, r.Expires.Format("2006-01-02 15:04:05"), int(exp.Seconds()))
		fmt.Fprintf(w, "Ping-Status:\tReachable\nPing-Time:\t0.00\n")
		fmt.Fprintf(w, "Host:       \t%s\n", host)
		fmt.Fprintf(w, "IP:         \t%s\n", r.NetworkIP)
		fmt.Fprintf(w, "Port:       \t%d\n", r.NetworkPort)
		fmt.Fprintf(w, "Auth-User:  \t%s\n", r.AuthUser)
		fmt.Fprintf(w, "Auth-Realm: \t%s\n", r.Realm)
		fmt.Fprintf(w, "MWI-Account:\t%s@%s\n\n", r.User, r.Host)
	}
	fmt.Fprintf(w, "Total items returned: %d\n%s\n", n, statusRule)
}

func (e *Endpoint) profileCmd(w io.Writer, name string, f []string) error {
	switch f[0] {
	case "start":
		if _, ok := e.Profile(name); ok {
			fmt.Fprintf(w, "Failure starting %s: already running\n", name)
			return nil
		}
		if err := e.startNamed(name); err != nil {
			fmt.Fprintf(w, "-ERR %v\n", err)
			return nil
		}
		fmt.Fprintf(w, "Reload XML [Success]\n%s started successfully\n", name)
	case "stop":
		if !e.stopProfile(name) {
			fmt.Fprintf(w, "Invalid Profile [%s]\n", name)
			return nil
		}
		fmt.Fprintf(w, "Reload XML [Success]\nstopping: %s\n", name)
	case "restart":
		p, ok := e.Profile(name)
		if !ok {
			fmt.Fprintf(w, "Invalid Profile [%s]\n", name)
			return nil
		}
		if time.Since(p.started) < 10*time.Second {
			fmt.Fprintf(w, "Profile %s must be up for at least 10 seconds to stop/restart.\nPlease wait 10 seconds.\n", name)
			return nil
		}
		e.stopProfile(name)
		if err := e.startNamed(name); err != nil {
			fmt.Fprintf(w, "-ERR %v\n", err)
			return nil
		}
		fmt.Fprintf(w, "Reload XML [Success]\nrestarting: %s\n", name)
	case "rescan":
		p, ok := e.Profile(name)
		if !ok {
			fmt.Fprintf(w, "Invalid Profile [%s]\n", name)
			return nil
		}
		cfgs, _ := parseProfiles(e.h.Config())
		for _, pc := range cfgs {
			if pc.Name == name {
				p.rescan(pc)
			}
		}
		fmt.Fprintf(w, "Reload XML [Success]\n+OK scan complete\n")
	case "flush_inbound_reg", "killgw":
		p, ok := e.Profile(name)
		if !ok {
			fmt.Fprintf(w, "Invalid Profile [%s]\n", name)
			return nil
		}
		if f[0] == "killgw" {
			e.killGateway(w, p, f[1:])
		} else {
			e.flushInboundReg(w, p, f[1:])
		}
	case "siptrace":
		p, ok := e.Profile(name)
		if !ok {
			fmt.Fprintf(w, "Invalid Profile [%s]\n", name)
			return nil
		}
		p.trace.Store(len(f) > 1 && f[1] == "on")
		fmt.Fprintf(w, "Enabled sip debugging on %s\n", name)
	default:
		fmt.Fprintln(w, "-ERR Unknown command")
	}
	return nil
}

func (e *Endpoint) startNamed(name string) error {
	cfgs, err := parseProfiles(e.h.Config())
	if err != nil {
		return err
	}
	for _, pc := range cfgs {
		if pc.Name == name {
			return e.startProfile(pc)
		}
	}
	return fmt.Errorf("no profile %s in sofia.conf", name)
}

// Registrations returns every live registration, for `show registrations`.
func (e *Endpoint) Registrations() []Registration {
	if e.regs == nil {
		return nil
	}
	var out []Registration
	for _, r := range e.regs.all("") {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].User < out[j].User })
	return out
}
