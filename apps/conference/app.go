package conference

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/goswitch/goswitch/apps/playback"
	"github.com/goswitch/goswitch/core"
)

func init() {
	core.RegisterApp(core.AppInfo{
		Name: "conference", Module: moduleName, Short: "conference",
		Syntax: "[bridge:]<conference_name>[@<profile>][+[<pin>][+flags{<flags>}]]",
		App:    core.AppFunc(appConference),
	})
}

var (
	errJoinOnly = errors.New("conference: join-only and the conference does not exist")
	errLocked   = errors.New("conference: locked")
	errFull     = errors.New("conference: full")
)

// Target is a parsed conference application argument.
type Target struct {
	Name, Profile, Pin, Flags string
	Bridge                    string // dial string of bridge:<name>:<dialstring>
}

// ParseTarget reads [bridge:]<name>[@<profile>][+<pin>][+flags{a|b}].
func ParseTarget(data string) (Target, error) {
	var t Target
	data = strings.TrimSpace(data)
	if rest, ok := strings.CutPrefix(data, "bridge:"); ok {
		name, dial, _ := strings.Cut(rest, ":")
		data, t.Bridge = name, dial
	}
	if i := strings.Index(data, "flags{"); i >= 0 {
		end := strings.IndexByte(data[i:], '}')
		if end < 0 {
			return t, fmt.Errorf("conference: unterminated flags in %q", data)
		}
		t.Flags = data[i+6 : i+end]
		data = strings.TrimSuffix(data[:i], "+") + data[i+end+1:]
	}
	name, pin, _ := strings.Cut(data, "+")
	t.Pin = strings.TrimSpace(pin)
	t.Name, t.Profile, _ = strings.Cut(name, "@")
	if t.Profile == "" {
		t.Profile = "default"
	}
	if t.Name == "" {
		return t, errors.New("conference: no conference name")
	}
	return t, nil
}

func appConference(ctx context.Context, s *core.Session, args string) error {
	mod := Of(s.Host())
	if mod == nil {
		return errors.New("conference: mod_conference is not loaded")
	}
	t, err := ParseTarget(args)
	if err != nil {
		return err
	}
	if t.Bridge != "" {
		return errors.New("conference: bridge: is not supported")
	}
	if s.Media() == nil {
		return core.ErrNoMedia
	}
	cfg := LoadConfig(s.Config())
	p := cfg.Profiles[t.Profile]
	if p == nil {
		s.Log().Warn("conference: no such profile, using default", "profile", t.Profile)
		p = cfg.Profiles["default"]
	}
	mem := newMember(int(mod.nextID.Add(1)), s)
	mem.energy = p.EnergyLevel
	parseMemberFlags(&mem.flags, p.MemberFlags)
	parseMemberFlags(&mem.flags, s.Var("conference_member_flags"))
	parseMemberFlags(&mem.flags, t.Flags)

	// The PIN is checked before joining; the conference may not exist yet, in which case the
	// caller's pin (or the profile's) becomes the room's.
	existing := mod.Get(t.Name)
	pin, modPin := firstNonEmpty(t.Pin, p.Pin), p.ModeratorPin
	if existing != nil {
		existing.mu.Lock()
		pin, modPin = existing.pin, existing.modPin
		existing.mu.Unlock()
	}
	if pin != "" || modPin != "" {
		ok, moderator := checkPin(ctx, s, p, pin, modPin)
		if !ok {
			return nil
		}
		if moderator {
			mem.flags.moderator = true
		}
	}
	for {
		moveTo, err := attend(ctx, s, mod, t.Name, p, cfg, mem, pin)
		if err != nil || moveTo == "" {
			if mem.hangup.Load() {
				s.Hangup(core.CauseNormalClearing)
			}
			return err
		}
		// conference <name> transfer: the member keeps its id and flags in the new room.
		old := mem
		old.c.mu.Lock()
		mem = newMember(old.ID, s)
		mem.energy, mem.volIn, mem.volOut, mem.flags = old.energy, old.volIn, old.volOut, old.flags
		old.c.mu.Unlock()
		t.Name, pin = moveTo, ""
	}
}

// attend joins one conference and stays until the member leaves it; moveTo names the room a
// transfer sends it to.
func attend(ctx context.Context, s *core.Session, mod *Module, name string, p *Profile, cfg *Config, mem *Member, pin string) (moveTo string, err error) {
	created := false
	c, err := mod.join(name, p, cfg.Groups, func(c *Conference) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		created = len(c.members) == 0
		if created {
			flags := p.ConferenceFlags + "|" + s.Var("conference_flags")
			for _, f := range strings.FieldsFunc(flags, func(r rune) bool { return r == '|' || r == ',' || r == ' ' }) {
				if f == "wait-mod" {
					c.waitMod = true
				}
			}
		}
		if c.ended {
			return errLocked
		}
		if c.locked && !mem.flags.moderator {
			return errLocked
		}
		if p.MaxMembers > 0 && c.sizeLocked() >= p.MaxMembers {
			return errFull
		}
		if len(c.members) == 0 && c.pin == "" {
			c.pin = pin
		}
		return nil
	}, mem)
	switch {
	case errors.Is(err, errLocked):
		if snd := p.Param("locked-sound"); snd != "" {
			_, _ = playback.Play(ctx, s, snd, playback.Options{})
		}
		return "", nil
	case errors.Is(err, errFull):
		if snd := p.Param("max-members-sound"); snd != "" {
			_, _ = playback.Play(ctx, s, snd, playback.Options{})
		}
		return "", nil
	case err != nil:
		return "", err
	}
	mem.c = c
	s.SetVar("conference_name", c.Name)
	s.SetVar("conference_uuid", c.UUID)
	s.SetVar("conference_member_id", itoa(mem.ID))
	if created && p.Param("auto-record") != "" {
		if err := c.StartRecording(s.Expand(p.Param("auto-record"))); err != nil {
			s.Log().Warn("conference auto-record failed", "err", err)
		}
	}
	c.addMember(mem)
	if created {
		for _, oc := range autoOutcalls(s, p.Name) {
			mod.dialOut(c.Name, oc)
		}
	}
	mem.run(ctx)
	c.removeMember(mem)
	select {
	case <-mem.kicked: // kickSound and moveTo were written before kicked closed
		if mem.kickSound != "" && ctx.Err() == nil {
			_, _ = playback.Play(ctx, s, mem.kickSound, playback.Options{})
		}
		if ctx.Err() == nil {
			return mem.moveTo, nil
		}
	default:
	}
	return "", nil
}

// checkPin asks for the conference PIN (pin-sound, pin-retries tries, bad-pin-sound).
func checkPin(ctx context.Context, s *core.Session, p *Profile, pin, modPin string) (ok, moderator bool) {
	for range max(1, p.PinRetries) {
		in, err := playback.GetDigits(ctx, s, playback.Collect{
			Prompt: p.Param("pin-sound"), Min: 1, Max: 32, Terminators: "#",
			Timeout: 10 * time.Second, DigitTimeout: 5 * time.Second,
		})
		if err != nil {
			return false, false
		}
		switch {
		case modPin != "" && in.Digits == modPin:
			return true, true
		case pin != "" && in.Digits == pin:
			return true, false
		case pin == "" && modPin != "":
			return true, false // only moderators need a PIN
		}
		if snd := p.Param("bad-pin-sound"); snd != "" {
			if _, err := playback.Play(ctx, s, snd, playback.Options{}); err != nil && ctx.Err() != nil {
				return false, false
			}
		}
	}
	return false, false
}
