package conference

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/goswitch/goswitch/core"
)

func init() {
	core.RegisterAPI(core.APIInfo{
		Name: "conference", Module: moduleName, Short: "Conference module commands",
		Syntax: "list|<conference_name> <command> [args]", Fn: apiConference,
	})
}

func apiConference(ctx context.Context, h *core.Host, args string, w io.Writer) error {
	mod := Of(h)
	if mod == nil {
		fmt.Fprint(w, "-ERR mod_conference is not loaded\n")
		return nil
	}
	a := strings.Fields(args)
	if len(a) == 0 {
		fmt.Fprint(w, "-ERR Usage: conference list|<conference_name> <command> [args]\n")
		return nil
	}
	if a[0] == "xml_list" {
		xmlList(w, mod.List())
		return nil
	}
	if a[0] == "json_list" {
		jsonList(w, mod.List(), len(a) > 1 && a[1] == "compact")
		return nil
	}
	if a[0] == "list" {
		confs := mod.List()
		if len(a) > 1 && a[1] == "count" {
			fmt.Fprintf(w, "%d\n", len(confs))
			return nil
		}
		if len(confs) == 0 {
			fmt.Fprint(w, "+OK No active conferences.\n")
			return nil
		}
		delim := ";"
		if len(a) > 2 && a[1] == "delim" {
			delim = a[2]
		}
		for _, c := range confs {
			fmt.Fprint(w, c.header())
			c.list(w, delim)
		}
		return nil
	}
	c := mod.Get(a[0])
	if c == nil {
		fmt.Fprintf(w, "-ERR Conference %s not found\n", a[0])
		return nil
	}
	if len(a) < 2 {
		fmt.Fprint(w, "-ERR Usage: conference <conference_name> <command> [args]\n")
		return nil
	}
	c.apiCommand(ctx, mod, a[1], a[2:], w)
	return nil
}

// apiCommand runs "conference <name> <cmd> [args]" on c.
func (c *Conference) apiCommand(ctx context.Context, mod *Module, cmd string, rest []string, w io.Writer) {
	switch cmd {
	case "dial", "bgdial":
		c.apiDial(ctx, mod, rest, cmd == "bgdial", w)
	case "list":
		delim := ";"
		if len(rest) > 1 && rest[0] == "delim" {
			delim = rest[1]
		}
		if len(rest) > 0 && rest[0] == "count" {
			fmt.Fprintf(w, "%d\n", c.Size())
			return
		}
		c.list(w, delim)
	case "count":
		fmt.Fprintf(w, "%d\n", c.Size())
	case "xml_list":
		xmlList(w, []*Conference{c})
	case "json_list":
		jsonList(w, []*Conference{c}, len(rest) > 0 && rest[0] == "compact")
	case "lock":
		c.SetLocked(true)
		fmt.Fprintf(w, "+OK %s locked\n", c.Name)
	case "unlock":
		c.SetLocked(false)
		fmt.Fprintf(w, "+OK %s unlocked\n", c.Name)
	case "kick", "hup", "mute", "unmute", "tmute", "deaf", "undeaf", "energy", "volume_in", "volume_out":
		c.apiMembers(cmd, rest, w)
	case "play":
		c.apiPlay(rest, w)
	case "record", "norecord", "chkrecord", "recording":
		c.apiRecord(cmd, rest, w)
	case "dtmf":
		if len(rest) < 2 {
			fmt.Fprint(w, "-ERR Usage: conference <name> dtmf <member_id>|all|last|non_moderator <digits>\n")
			return
		}
		digits := rest[1]
		c.eachMember(w, rest[:1], func(m *Member) string {
			if err := m.s.SendDTMF(ctx, digits, 0); err != nil {
				return fmt.Sprintf("-ERR %v", err)
			}
			c.event("dtmf-member", m, [2]string{"Digits", digits})
			return fmt.Sprintf("+OK sent %s to %d", digits, m.ID)
		})
	case "transfer":
		if len(rest) < 2 {
			fmt.Fprint(w, "-ERR Usage: conference <name> transfer <conference_name> <member_id> [...]\n")
			return
		}
		to := rest[0]
		for _, ids := range rest[1:] {
			c.eachMember(w, []string{ids}, func(m *Member) string {
				if !m.leave("", to) {
					return fmt.Sprintf("-ERR Member %d is leaving", m.ID)
				}
				c.event("transfer", m, [2]string{"Old-Conference-Name", c.Name}, [2]string{"New-Conference-Name", to})
				return fmt.Sprintf("+OK Member '%d' sent to conference %s.", m.ID, to)
			})
		}
	case "stop":
		n := c.stopSources()
		fmt.Fprintf(w, "+OK Stopped %d file(s)\n", n)
	case "get":
		if len(rest) == 0 {
			fmt.Fprint(w, "-ERR Usage: conference <name> get <param>\n")
			return
		}
		fmt.Fprintf(w, "%s\n", c.get(rest[0]))
	case "pin":
		if len(rest) == 0 {
			fmt.Fprint(w, "-ERR Usage: conference <name> pin <pin>\n")
			return
		}
		c.mu.Lock()
		c.pin = rest[0]
		c.mu.Unlock()
		fmt.Fprintf(w, "+OK pin for conference %s set: %s\n", c.Name, rest[0])
	case "nopin":
		c.mu.Lock()
		c.pin = ""
		c.mu.Unlock()
		fmt.Fprintf(w, "+OK pin for conference %s deleted\n", c.Name)
	default:
		fmt.Fprintf(w, "-ERR Unsupported command %s\n", cmd)
	}
}

// apiMembers runs the member commands (kick, hup, mute, deaf, energy, volume) on the members
// rest names.
func (c *Conference) apiMembers(cmd string, rest []string, w io.Writer) {
	switch cmd {
	case "kick", "hup":
		sound := ""
		if cmd == "kick" {
			sound = c.Profile.Param("kicked-sound")
			if len(rest) > 1 {
				sound = rest[1]
			}
		}
		c.eachMember(w, rest, func(m *Member) string {
			if cmd == "hup" {
				m.hangup.Store(true)
				m.kick("")
				c.event("hup-member", m)
				return fmt.Sprintf("+OK hup %d", m.ID)
			}
			c.event("kick-member", m)
			m.kick(sound)
			return fmt.Sprintf("+OK kicked %d", m.ID)
		})
	case "mute", "unmute", "tmute":
		quiet := len(rest) > 1 && rest[len(rest)-1] == "quiet"
		c.eachMember(w, rest, func(m *Member) string {
			v := cmd == "mute" || cmd == "tmute" && !m.muted()
			m.SetMute(v, quiet)
			return fmt.Sprintf("+OK %s %d", map[bool]string{true: "mute", false: "unmute"}[v], m.ID)
		})
	case "deaf", "undeaf":
		c.eachMember(w, rest, func(m *Member) string {
			m.SetDeaf(cmd == "deaf")
			return fmt.Sprintf("+OK %s %d", cmd, m.ID)
		})
	case "energy", "volume_in", "volume_out":
		c.eachMember(w, rest, func(m *Member) string {
			c.mu.Lock()
			p := map[string]*int{"energy": &m.energy, "volume_in": &m.volIn, "volume_out": &m.volOut}[cmd]
			if len(rest) > 1 {
				if n, err := strconv.Atoi(rest[1]); err == nil {
					if cmd == "energy" {
						*p = max(0, n)
					} else {
						*p = max(-4, min(4, n))
					}
				}
			}
			v := *p
			c.mu.Unlock()
			if cmd == "energy" {
				c.event("energy-level-member", m, [2]string{"New-Level", itoa(v)})
			} else {
				c.event(strings.ReplaceAll(cmd, "_", "-")+"-member", m, [2]string{"Volume-Level", itoa(v)})
			}
			label := map[string]string{"energy": "Energy", "volume_in": "Volume IN", "volume_out": "Volume OUT"}[cmd]
			return fmt.Sprintf("+OK %s %d = %d", label, m.ID, v)
		})
	}
}

// apiPlay is "conference <name> play <file> [async|<member_id>]".
func (c *Conference) apiPlay(rest []string, w io.Writer) {
	if len(rest) == 0 {
		fmt.Fprint(w, "-ERR Usage: conference <name> play <file> [async|<member_id>]\n")
		return
	}
	var target *Member
	if len(rest) > 1 && rest[1] != "async" {
		id, _ := strconv.Atoi(rest[1])
		if target = c.member(id); target == nil {
			fmt.Fprintf(w, "-ERR Member: %s not found.\n", rest[1])
			return
		}
	}
	c.Play(rest[0], target, false)
	if target != nil {
		fmt.Fprintf(w, "+OK (play) Playing file %s to member %d\n", rest[0], target.ID)
	} else {
		fmt.Fprintf(w, "+OK (play) Playing file %s\n", rest[0])
	}
}

// apiRecord is "conference <name> record|norecord|chkrecord <file>" and "recording
// start|stop|check <file>".
func (c *Conference) apiRecord(cmd string, rest []string, w io.Writer) {
	if cmd == "recording" && len(rest) > 0 { // recording start|stop|check <file>
		cmd = map[string]string{"start": "record", "stop": "norecord", "check": "chkrecord"}[rest[0]]
		rest = rest[1:]
	}
	switch cmd {
	case "record":
		if len(rest) == 0 {
			fmt.Fprint(w, "-ERR Usage: conference <name> record <filename>\n")
			return
		}
		if err := c.StartRecording(rest[0]); err != nil {
			fmt.Fprintf(w, "-ERR %v\n", err)
			return
		}
		fmt.Fprintf(w, "+OK Record file %s\n", rest[0])
	case "norecord":
		target := "all"
		if len(rest) > 0 {
			target = rest[0]
		}
		n := c.StopRecording(target)
		plural := "s"
		if n == 1 {
			plural = ""
		}
		fmt.Fprintf(w, "+OK Stopped recording %d file%s\n", n, plural)
	case "chkrecord":
		recs := c.Recordings()
		if len(recs) == 0 {
			fmt.Fprintf(w, "+OK conference %s is not being recorded.\n", c.Name)
			return
		}
		for _, r := range recs {
			fmt.Fprintf(w, "+OK conference %s is being recorded to %s\n", c.Name, r)
		}
	default:
		fmt.Fprint(w, "-ERR Usage: conference <name> recording start|stop|check <filename>\n")
	}
}

// header is the per-conference line of "conference list".
func (c *Conference) header() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.sizeLocked()
	plural := "s"
	if n == 1 {
		plural = ""
	}
	locked := ""
	if c.locked {
		locked = " locked"
	}
	flags := "running|answered|enforce_min|dynamic|exit_sound|enter_sound"
	return fmt.Sprintf("+OK Conference %s (%d member%s rate: %d%s flags: %s)\n", c.Name, n, plural, c.rate, locked, flags)
}

// list writes one line per member, newest first as FreeSWITCH does.
func (c *Conference) list(w io.Writer, delim string) {
	members := c.Members()
	for i := len(members) - 1; i >= 0; i-- {
		m := members[i]
		p := m.s.Profile()
		c.mu.Lock()
		var fl []string
		if !m.flags.deaf {
			fl = append(fl, "hear")
		}
		if !m.flags.mute {
			fl = append(fl, "speak")
		}
		if m.talking {
			fl = append(fl, "talking")
		}
		if m.hold != nil {
			fl = append(fl, "hold")
		}
		if m.flags.moderator {
			fl = append(fl, "moderator")
		}
		if m.flags.ghost {
			fl = append(fl, "ghost")
		}
		volIn, volOut, energy := m.volIn, m.volOut, m.energy
		c.mu.Unlock()
		fmt.Fprintf(w, "%d%s%s%s%s%s%s%s%s%s%s%s%d%s%d%s%d\n", m.ID, delim, m.s.Name(), delim, m.s.UUID(), delim,
			p.CallerIDName, delim, p.CallerIDNumber, delim, strings.Join(fl, "|"), delim, volIn, delim, volOut, delim, energy)
	}
}

// eachMember applies fn to the members a selector names: an id, all, last or non_moderator.
func (c *Conference) eachMember(w io.Writer, rest []string, fn func(*Member) string) {
	if len(rest) == 0 {
		fmt.Fprint(w, "-ERR Usage: <member_id>|all|last|non_moderator\n")
		return
	}
	members := c.Members()
	var sel []*Member
	switch rest[0] {
	case "all":
		sel = members
	case "last":
		if len(members) > 0 {
			sel = members[len(members)-1:]
		}
	case "non_moderator":
		for _, m := range members {
			c.mu.Lock()
			mod := m.flags.moderator
			c.mu.Unlock()
			if !mod {
				sel = append(sel, m)
			}
		}
	default:
		id, err := strconv.Atoi(rest[0])
		if m := c.member(id); err == nil && m != nil {
			sel = []*Member{m}
		} else {
			fmt.Fprintf(w, "-ERR Member: %s not found.\n", rest[0])
			return
		}
	}
	for _, m := range sel {
		fmt.Fprintln(w, fn(m))
	}
}

func (c *Conference) stopSources() int {
	c.mu.Lock()
	var stop []*source
	for _, s := range c.sources {
		if s.member == nil || s.member.hold != s {
			stop = append(stop, s)
		}
	}
	c.mu.Unlock()
	for _, s := range stop {
		s.cancel()
	}
	return len(stop)
}

func (c *Conference) get(param string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch param {
	case "count":
		return itoa(c.sizeLocked())
	case "count_ghosts":
		return itoa(len(c.members) - c.sizeLocked())
	case "rate":
		return itoa(c.rate)
	case "profile_name":
		return c.Profile.Name
	case "uuid":
		return c.UUID
	case "locked":
		return boolStr(c.locked)
	case "pin":
		return c.pin
	}
	return c.Profile.Param(strings.ReplaceAll(param, "_", "-"))
}
