package sip

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// flushInboundReg is `sofia profile <p> flush_inbound_reg [<call_id>|<user@host>] [reboot]`:
// registrations of the profile (all of them, one Call-ID's, or one user@host's) are dropped at
// once, firing sofia::expire as an expiry does; with reboot each phone first gets the NOTIFY
// FreeSWITCH sends to make it resync or reboot (check-sync, by User-Agent).
func (e *Endpoint) flushInboundReg(w io.Writer, p *Profile, args []string) {
	reboot, target := false, ""
	for _, a := range args {
		if strings.EqualFold(a, "reboot") {
			reboot = true
		} else if target == "" {
			target = a
		}
	}
	var gone []*Registration
	if e.regs != nil {
		for _, reg := range e.regs.all(p.cfg.Name) {
			if target != "" && reg.CallID != target && !strings.EqualFold(reg.User+"@"+reg.Host, target) {
				continue
			}
			gone = append(gone, e.regs.remove(reg.Profile, reg.User, reg.Host, reg.ContactURI)...)
		}
	}
	if reboot {
		var wg sync.WaitGroup
		for _, reg := range gone {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.sendRebootNotify(reg)
			}()
		}
		wg.Wait()
	}
	for _, reg := range gone {
		e.publishReg("sofia::expire", reg, "")
	}
	verb := "flushing"
	if reboot {
		verb = "rebooting"
	}
	switch {
	case target == "":
		fmt.Fprintf(w, "+OK %s all registrations\n", verb)
	case strings.Contains(target, "@"):
		fmt.Fprintf(w, "+OK %s all registrations matching specified user@realm\n", verb)
	default:
		fmt.Fprintf(w, "+OK %s all registrations matching specified call_id\n", verb)
	}
}

// rebootEvent is the Event FreeSWITCH's flush_inbound_reg ... reboot sends for a phone's
// User-Agent: snom and Yealink take check-sync;reboot=true, Linksys reboot_now, other SPA
// models reboot, everything else check-sync.
func rebootEvent(userAgent string) string {
	ua := strings.ToLower(userAgent)
	switch {
	case strings.Contains(ua, "snom"), strings.Contains(ua, "yealink"):
		return "check-sync;reboot=true"
	case strings.Contains(ua, "linksys"):
		return "reboot_now"
	case strings.Contains(ua, "spa"):
		return "reboot"
	}
	return "check-sync"
}

// sendRebootNotify sends the out-of-dialog NOTIFY of flush_inbound_reg ... reboot to the
// registered contact, waiting at most two seconds for its answer.
func (p *Profile) sendRebootNotify(reg *Registration) {
	var ruri sip.Uri
	if err := sip.ParseUri(reg.dialURI(), &ruri); err != nil {
		return
	}
	req := sip.NewRequest(sip.NOTIFY, ruri)
	req.AppendHeader(sip.NewHeader("Event", rebootEvent(reg.UserAgent)))
	req.AppendHeader(sip.NewHeader("Subscription-State", "terminated;reason=noresource"))
	req.AppendHeader(sip.NewHeader("Content-Length", "0"))
	transport := strings.ToLower(reg.Transport)
	if transport == "" {
		transport = "udp"
	}
	req.SetTransport(transport)
	if reg.NetworkIP != "" && reg.NetworkPort > 0 {
		req.SetDestination(net.JoinHostPort(reg.NetworkIP, strconv.Itoa(reg.NetworkPort)))
	}
	if transport == "udp" {
		req.Laddr = sip.Addr{IP: net.IP(p.sipIP.AsSlice()), Port: p.port}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := p.cli.Do(ctx, req); err != nil {
		p.ep.log.Debug("flush_inbound_reg reboot NOTIFY", "user", reg.User, "err", err)
	}
}

// killGateway is `sofia profile <p> killgw <gateway>|_all_`: the gateway stops (unregistering
// when registered) and leaves the profile until a rescan or restart brings it back from the
// configuration.
func (e *Endpoint) killGateway(w io.Writer, p *Profile, args []string) {
	if len(args) == 0 {
		fmt.Fprint(w, "-ERR missing gw name\n")
		return
	}
	name := args[0]
	var killed []*Gateway
	e.mu.Lock()
	kept := p.gateways[:0:0]
	for _, g := range p.gateways {
		if name == "_all_" || g.cfg.Name == name {
			killed = append(killed, g)
			delete(e.gateways, g.cfg.Name)
		} else {
			kept = append(kept, g)
		}
	}
	p.gateways = kept
	e.mu.Unlock()
	for _, g := range killed {
		g.stop()
	}
	switch {
	case name == "_all_":
		fmt.Fprint(w, "+OK every gateway marked for deletion.\n")
	case len(killed) > 0:
		fmt.Fprint(w, "+OK gateway marked for deletion.\n")
	default:
		fmt.Fprint(w, "-ERR no such gateway.\n")
	}
}
