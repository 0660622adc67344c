package conference

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goswitch/goswitch/apps/playback"
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/media"
)

// memberFlags are FreeSWITCH's member flags (conference_member_flags, +flags{...}).
type memberFlags struct {
	mute, deaf, moderator, nomoh, endconf, ghost, joinOnly, mintwo, muteDetect, distDTMF bool
}

func parseMemberFlags(f *memberFlags, spec string) {
	for _, x := range strings.FieldsFunc(spec, func(r rune) bool { return r == '|' || r == ',' || r == ' ' }) {
		switch strings.ToLower(x) {
		case "mute":
			f.mute = true
		case "deaf":
			f.deaf = true
		case "moderator":
			f.moderator = true
		case "nomoh":
			f.nomoh = true
		case "endconf", "mandatory_member_endconf":
			f.endconf = true
		case "ghost":
			f.ghost = true
		case "join-only":
			f.joinOnly = true
		case "mintwo":
			f.mintwo = true
		case "mute-detect":
			f.muteDetect = true
		case "dist-dtmf":
			f.distDTMF = true
		}
	}
}

// hangover keeps a member "talking" for this many intervals after its energy drops, so word
// endings aren't clipped.
const hangover = 10

// Member is one channel in a conference. Fields below mu-guarded are protected by the
// conference's mutex.
type Member struct {
	ID int
	c  *Conference
	s  *core.Session

	// guarded by c.mu
	flags    memberFlags
	volIn    int
	volOut   int
	energy   int
	score    int
	talking  bool
	hang     int
	in       []int16
	hasIn    bool
	contrib  []int32 // this interval's voice in the sum, taken out of what the member hears
	priv     []int32 // this interval's audio played to the member alone (valid when hasPriv)
	hasPriv  bool
	nbuf     int // output frames made so far (at most outDepth+1)
	hold     *source
	joined   time.Time
	lastTalk time.Time

	out       chan []int16 // mixed frames for the member's goroutine
	free      chan []int16 // frames it has written, back to the mixer for reuse
	kickOnce  sync.Once
	kicked    chan struct{}
	kickSound string
	moveTo    string
	hangup    atomic.Bool
}

// outDepth is how many mixed frames may wait for a member's goroutine.
const outDepth = 4

func newMember(id int, s *core.Session) *Member {
	return &Member{ID: id, s: s, out: make(chan []int16, outDepth), free: make(chan []int16, outDepth+1),
		kicked: make(chan struct{})}
}

// frame returns an output buffer of n samples for this interval: one the member's goroutine gave
// back, a new one while fewer than outDepth+1 exist, else the oldest frame still waiting (the
// member fell behind and that frame is dropped). Called by tick under c.mu.
func (m *Member) frame(n int) []int16 {
	var buf []int16
	select {
	case buf = <-m.free:
	default:
		if m.nbuf <= outDepth {
			m.nbuf++
		} else {
			select {
			case buf = <-m.out:
			default:
				return nil // all frames are in flight for a moment; skip this interval
			}
		}
	}
	if cap(buf) < n {
		buf = make([]int16, n)
	}
	return buf[:n]
}

// send queues a mixed frame, dropping the oldest waiting one when the member fell behind (only
// tick sends, so the second try succeeds unless the goroutine took a frame meanwhile).
func (m *Member) send(out []int16) {
	select {
	case m.out <- out:
		return
	default:
	}
	select {
	case old := <-m.out:
		select {
		case m.free <- old:
		default:
		}
	default:
	}
	select {
	case m.out <- out:
	default:
	}
}

// Session returns the member's channel.
func (m *Member) Session() *core.Session { return m.s }

func (m *Member) setHold(src *source) {
	m.c.mu.Lock()
	old := m.hold
	m.hold = src
	m.c.mu.Unlock()
	if old != nil && old != src {
		old.cancel()
	}
}

// kick makes the member leave; sound is played to it first.
func (m *Member) kick(sound string) { m.leave(sound, "") }

// leave ends the member's stay; moveTo, when set, is the conference it goes to next.
func (m *Member) leave(sound, moveTo string) bool {
	done := false
	m.kickOnce.Do(func() {
		m.kickSound, m.moveTo = sound, moveTo
		close(m.kicked)
		done = true
	})
	return done
}

// run is the member's media loop: it feeds the mixer with what the caller says, plays what the
// mixer made for it, and handles caller controls, until the call ends or the member is kicked.
func (m *Member) run(ctx context.Context) {
	st := m.s.Media()
	c := m.c
	var f, wf media.Frame
	var rs *media.Resampler
	var conv []int16
	for {
		select {
		case <-m.kicked:
			return
		default:
		}
		if err := st.ReadFrame(ctx, &f); err != nil {
			return
		}
		pcm := f.PCM
		if f.Rate != 0 && f.Rate != c.rate {
			if rs == nil || rs.In() != f.Rate {
				rs = media.NewResampler(f.Rate, c.rate)
			}
			if need := rs.OutLen(len(pcm)); cap(conv) < need {
				conv = make([]int16, need)
			}
			pcm = conv[:rs.Process(conv[:cap(conv)], pcm)]
		}
		c.mu.Lock()
		m.in = append(m.in[:0], pcm...)
		m.hasIn = true
		c.mu.Unlock()
	digits:
		for {
			select {
			case d := <-m.s.DTMF():
				m.control(ctx, d.Digit)
			default:
				break digits
			}
		}
	frames:
		for {
			select {
			case out := <-m.out:
				wf = media.Frame{PCM: out, Rate: c.rate}
				err := st.WriteFrame(ctx, &wf)
				select { // WriteFrame does not keep the PCM
				case m.free <- out:
				default:
				}
				if err != nil {
					return
				}
			default:
				break frames
			}
		}
	}
}

func (m *Member) controls() []Control {
	c := m.c
	name := c.Profile.CallerControls
	m.c.mu.Lock()
	mod := m.flags.moderator
	m.c.mu.Unlock()
	if mod && c.Profile.ModeratorControl != "" {
		name = c.Profile.ModeratorControl
	}
	if v := m.s.Var("conference_controls"); v != "" { // the channel picks its group
		name = v
	}
	if name == "none" {
		return nil
	}
	return c.controlGroups[name]
}

// control runs the caller control bound to a digit.
func (m *Member) control(ctx context.Context, d rune) {
	c := m.c
	c.mu.Lock()
	dist := m.flags.distDTMF
	c.mu.Unlock()
	c.event("dtmf", m, [2]string{"DTMF-Key", string(d)}, [2]string{"Data", string(d)})
	if dist {
		for _, o := range c.Members() {
			if o != m {
				_ = o.s.SendDTMF(ctx, string(d), 0)
			}
		}
		return
	}
	for _, ctl := range m.controls() {
		if ctl.Digits == string(d) {
			m.do(ctx, ctl.Action, ctl.Data)
			return
		}
	}
}

// do performs a caller-control action.
func (m *Member) do(ctx context.Context, action, data string) {
	c := m.c
	switch action {
	case "mute":
		m.SetMute(!m.muted(), false)
	case "mute on":
		m.SetMute(true, false)
	case "mute off":
		m.SetMute(false, false)
	case "deaf mute":
		c.mu.Lock()
		both := m.flags.mute && m.flags.deaf
		c.mu.Unlock()
		m.SetMute(!both, false)
		m.SetDeaf(!both)
	case "deaf":
		c.mu.Lock()
		deaf := m.flags.deaf
		c.mu.Unlock()
		m.SetDeaf(!deaf)
	case "deaf on":
		m.SetDeaf(true)
	case "deaf off":
		m.SetDeaf(false)
	case "energy up", "energy equ", "energy dn":
		c.mu.Lock()
		switch action {
		case "energy up":
			m.energy = min(m.energy+200, 1800)
		case "energy dn":
			m.energy = max(m.energy-200, 0)
		default:
			m.energy = c.Profile.EnergyLevel
		}
		v := m.energy
		c.mu.Unlock()
		c.event("energy-level", m, [2]string{"New-Level", itoa(v)})
	case "vol talk up", "vol talk zero", "vol talk dn":
		c.mu.Lock()
		m.volIn = stepVolume(m.volIn, action)
		v := m.volIn
		c.mu.Unlock()
		c.event("volume-in-member", m, [2]string{"Volume-Level", itoa(v)})
	case "vol listen up", "vol listen zero", "vol listen dn":
		c.mu.Lock()
		m.volOut = stepVolume(m.volOut, action)
		v := m.volOut
		c.mu.Unlock()
		c.event("volume-out-member", m, [2]string{"Volume-Level", itoa(v)})
	case "hangup":
		m.kick("")
	case "lock":
		c.SetLocked(!c.Locked())
		if snd := map[bool]string{true: "is-locked-sound", false: "is-unlocked-sound"}[c.Locked()]; c.Profile.Param(snd) != "" {
			c.Play(c.Profile.Param(snd), nil, false)
		}
	case "event":
		// the dtmf event above already told observers
	case "transfer":
		a := playback.SeparateString(data, 3)
		if len(a) > 0 {
			m.s.Transfer(a[0], arg(a, 1), arg(a, 2))
		}
	case "execute_application":
		app, args, _ := strings.Cut(strings.TrimSpace(data), " ")
		if err := m.s.Execute(ctx, app, args); err != nil {
			m.s.Log().Warn("conference control failed", "app", app, "err", err)
		}
	default:
		m.s.Log().Debug("conference: unsupported caller control", "action", action)
	}
}

func arg(a []string, i int) string {
	if i < len(a) {
		return a[i]
	}
	return ""
}

func stepVolume(v int, action string) int {
	switch {
	case strings.HasSuffix(action, " up"):
		v++
	case strings.HasSuffix(action, " dn"):
		v--
	default:
		v = 0
	}
	return max(-4, min(4, v))
}

func (m *Member) muted() bool {
	m.c.mu.Lock()
	defer m.c.mu.Unlock()
	return m.flags.mute
}

// SetMute mutes or unmutes; the member hears muted-sound / unmuted-sound unless quiet.
func (m *Member) SetMute(v, quiet bool) {
	c := m.c
	c.mu.Lock()
	m.flags.mute = v
	if v {
		m.talking = false
	}
	c.mu.Unlock()
	if v {
		c.event("mute-member", m)
	} else {
		c.event("unmute-member", m)
	}
	if !quiet {
		snd := c.Profile.Param(map[bool]string{true: "muted-sound", false: "unmuted-sound"}[v])
		if snd != "" {
			c.Play(snd, m, false)
		}
	}
}

// SetDeaf stops or restarts the member hearing the conference.
func (m *Member) SetDeaf(v bool) {
	c := m.c
	c.mu.Lock()
	m.flags.deaf = v
	c.mu.Unlock()
	if v {
		c.event("deaf-member", m)
	} else {
		c.event("undeaf-member", m)
	}
}

// addHeaders adds FreeSWITCH's member headers to a conference event.
func (m *Member) addHeaders(e *event.Event) {
	c := m.c
	c.mu.Lock()
	f, talking, energy, score, hold := m.flags, m.talking, m.energy, m.score, m.hold != nil
	c.mu.Unlock()
	e.Add("Floor", "false")
	e.Add("Video", "false")
	e.Add("Hear", boolStr(!f.deaf))
	e.Add("See", "true")
	e.Add("Speak", boolStr(!f.mute))
	e.Add("Talking", boolStr(talking))
	e.Add("Mute-Detect", boolStr(f.muteDetect))
	e.Add("Hold", boolStr(hold))
	e.Add("Member-ID", itoa(m.ID))
	e.Add("Member-Type", map[bool]string{true: "moderator", false: "member"}[f.moderator])
	e.Add("Member-Ghost", boolStr(f.ghost))
	e.Add("Energy-Level", itoa(energy))
	e.Add("Current-Energy", itoa(score))
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func itoa(n int) string { return strconv.Itoa(n) }
