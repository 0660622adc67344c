package conference

import (
	"context"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/goswitch/goswitch/apps/playback"
	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/audio"
)

const moduleName = "mod_conference"

func init() {
	core.RegisterModule(core.ModuleInfo{Name: moduleName, New: func(h *core.Host) (any, error) { return newModule(h), nil }})
}

// Module holds the live conferences of one Host.
type Module struct {
	h      *core.Host
	nextID atomic.Uint32

	mu    sync.Mutex
	confs map[string]*Conference

	outcalls sync.WaitGroup  // auto outcalls and bgdial calls still being dialled
	base     context.Context // ends with the module: outcalls in progress give up
	cancel   context.CancelFunc
}

func newModule(h *core.Host) *Module {
	m := &Module{h: h, confs: map[string]*Conference{}}
	m.base, m.cancel = context.WithCancel(context.Background())
	return m
}

// Of returns the conference module of a host, or nil when it is not built in.
func Of(h *core.Host) *Module {
	v, ok := h.Module(moduleName)
	if !ok {
		return nil
	}
	m, _ := v.(*Module)
	return m
}

// Stop kicks every member so the conferences end with the host.
func (m *Module) Stop(ctx context.Context) error {
	m.cancel()
	for _, c := range m.List() {
		c.kickAll("")
	}
	m.outcalls.Wait()
	return nil
}

// Get returns a live conference by name.
func (m *Module) Get(name string) *Conference {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.confs[name]
}

// List returns the live conferences sorted by name.
func (m *Module) List() []*Conference {
	m.mu.Lock()
	out := make([]*Conference, 0, len(m.confs))
	for _, c := range m.confs {
		out = append(out, c)
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// join finds or creates the conference and adds the member under the module lock, so two callers
// creating the same room at once meet in one conference.
func (m *Module) join(name string, p *Profile, groups map[string][]Control, create func(*Conference) error, mem *Member) (*Conference, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.confs[name]
	created := false
	if c == nil {
		if mem.flags.joinOnly {
			return nil, errJoinOnly
		}
		c = newConference(m, name, p, groups)
		created = true
	}
	if err := create(c); err != nil {
		return nil, err
	}
	if created {
		m.confs[name] = c
		c.start()
		c.event("conference-create", nil)
	}
	return c, nil
}

func (m *Module) remove(c *Conference) {
	m.mu.Lock()
	if m.confs[c.Name] == c {
		delete(m.confs, c.Name)
	}
	m.mu.Unlock()
}

// Conference is one room.
type Conference struct {
	m       *Module
	Name    string
	UUID    string
	Profile *Profile
	rate    int
	samples int // per interval
	created time.Time

	mu            sync.Mutex
	members       []*Member
	sources       []*source // heard by everyone
	locked        bool
	pin           string
	modPin        string
	ended         bool
	cancel        func()
	mix           []int32
	tickEvents    []tickEvent // tick's reusable list (the clock never overlaps a callback with itself)
	noise         audio.Noise
	recs          []*recording
	waitMod       bool // conference flag wait-mod
	mintwo        bool // a member with mintwo joined
	waiting       bool // wait-mod and no moderator yet: nobody is mixed
	controlGroups map[string][]Control
}

// source is a file string being played into the mix, read ahead by its own goroutine so the
// clock callback never touches the disk.
type source struct {
	name   string
	frames chan []int16
	free   chan []int16 // frames the mixer has used, back to the reader for reuse
	done   chan struct{}
	cancel context.CancelFunc
	member *Member // nil: the whole conference hears it
	loop   bool
}

func newConference(m *Module, name string, p *Profile, groups map[string][]Control) *Conference {
	c := &Conference{
		m: m, Name: name, UUID: uuid.NewString(), Profile: p, controlGroups: groups, noise: audio.NewNoise(0),
		rate: p.Rate, samples: p.Rate * p.Interval / 1000, created: time.Now(),
		pin: p.Pin, modPin: p.ModeratorPin,
	}
	c.mix = make([]int32, c.samples)
	return c
}

func (c *Conference) start() {
	c.cancel = c.m.h.Clock.Every(time.Duration(c.Profile.Interval)*time.Millisecond, c.tick)
}

// Size returns the number of members that count (ghosts don't).
func (c *Conference) Size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sizeLocked()
}

func (c *Conference) sizeLocked() int {
	n := 0
	for _, m := range c.members {
		if !m.flags.ghost {
			n++
		}
	}
	return n
}

// Members returns the members in join order.
func (c *Conference) Members() []*Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Member(nil), c.members...)
}

// Locked reports whether new members are refused.
func (c *Conference) Locked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.locked
}

// SetLocked locks or unlocks the conference.
func (c *Conference) SetLocked(v bool) {
	c.mu.Lock()
	c.locked = v
	c.mu.Unlock()
	if v {
		c.event("lock", nil)
	} else {
		c.event("unlock", nil)
	}
}

func (c *Conference) member(id int) *Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.members {
		if m.ID == id {
			return m
		}
	}
	return nil
}

func (c *Conference) addMember(mem *Member) {
	c.mu.Lock()
	mem.joined = time.Now()
	c.mintwo = c.mintwo || mem.flags.mintwo
	c.members = append(c.members, mem)
	size := c.sizeLocked()
	c.mu.Unlock()
	c.event("add-member", mem)
	silent := mem.s.Var("conference_silent_entry") == "true"
	if !silent && !mem.flags.ghost {
		if snd := c.Profile.Param("enter-sound"); snd != "" {
			c.Play(snd, nil, false)
		}
	}
	c.updateAlone(size)
}

func (c *Conference) removeMember(mem *Member) {
	c.mu.Lock()
	for i, m := range c.members {
		if m == mem {
			c.members = append(c.members[:i], c.members[i+1:]...)
			break
		}
	}
	var drop []*source
	keep := c.sources[:0]
	for _, s := range c.sources {
		if s.member == mem {
			drop = append(drop, s)
		} else {
			keep = append(keep, s)
		}
	}
	c.sources = keep
	size := c.sizeLocked()
	empty := len(c.members) == 0
	endconf := mem.flags.endconf
	c.mu.Unlock()
	for _, s := range drop {
		s.cancel()
	}
	c.event("del-member", mem)
	if empty {
		c.destroy()
		return
	}
	if endconf || size < 2 && c.hasMintwo() {
		c.kickAll("")
		return
	}
	if snd := c.Profile.Param("exit-sound"); snd != "" && !mem.flags.ghost {
		c.Play(snd, nil, false)
	}
	c.updateAlone(size)
}

// updateAlone starts music on hold for a lone member, and for everyone but moderators while a
// wait-mod conference has no moderator; it stops it when company (or the moderator) arrives.
func (c *Conference) updateAlone(size int) {
	type state struct {
		m           *Member
		nomoh, hold bool
		mod         bool
	}
	c.mu.Lock()
	hasMod := false
	for _, m := range c.members {
		hasMod = hasMod || m.flags.moderator
	}
	c.waiting = c.waitMod && !hasMod
	waiting := c.waiting
	var all []state
	for _, m := range c.members {
		all = append(all, state{m, m.flags.nomoh, m.hold != nil, m.flags.moderator})
	}
	c.mu.Unlock()
	for _, x := range all {
		want := !x.nomoh && (size == 1 || waiting && !x.mod)
		switch {
		case want && !x.hold:
			var files []string
			if a := c.Profile.Param("alone-sound"); a != "" && size == 1 {
				files = append(files, a)
			}
			if moh := c.Profile.Param("moh-sound"); moh != "" && moh != "silence" {
				files = append(files, moh)
			}
			if len(files) > 0 {
				x.m.setHold(c.playFor(x.m, files))
			}
		case !want && x.hold:
			x.m.setHold(nil)
		}
	}
}

// hasMintwo reports whether a member with the mintwo flag ever joined: such a conference ends
// when fewer than two members remain.
func (c *Conference) hasMintwo() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mintwo
}

func (c *Conference) destroy() {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ended = true
	srcs := c.sources
	c.sources = nil
	c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
	}
	for _, s := range srcs {
		s.cancel()
	}
	c.StopRecording("all")
	c.m.remove(c)
	c.event("conference-destroy", nil)
}

func (c *Conference) kickAll(sound string) {
	for _, m := range c.Members() {
		m.kick(sound)
	}
}

// Play mixes a file string into the conference (member nil) or into one member's ear. With
// wait it returns when the file has been played.
func (c *Conference) Play(file string, member *Member, wait bool) {
	src := c.startSource(file, member, false)
	if src == nil {
		return
	}
	c.event("play-file", member, [2]string{"File", file})
	go func() {
		<-src.done
		c.event("play-file-done", member, [2]string{"File", file})
	}()
	if wait {
		<-src.done
	}
}

// playFor plays files in sequence into one member's ear, the last one looping (music on hold).
func (c *Conference) playFor(m *Member, files []string) *source {
	spec := files[0]
	if len(files) > 1 {
		spec = "file_string://" + strings.Join(files, "!")
	}
	return c.startSource(spec, m, true)
}

// startSource renders a file string through the playback package into frames at the mixing
// rate; its goroutine ends when the file ends or the source is cancelled.
func (c *Conference) startSource(file string, member *Member, hold bool) *source {
	ctx, cancel := context.WithCancel(context.Background())
	s := &source{name: file, frames: make(chan []int16, 4), free: make(chan []int16, 6), done: make(chan struct{}),
		cancel: cancel, member: member, loop: hold}
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		cancel()
		return nil
	}
	c.sources = append(c.sources, s)
	c.mu.Unlock()
	go func() {
		defer close(s.done)
		defer cancel()
		sink := &frameSink{ctx: ctx, out: s.frames, free: s.free, rate: c.rate, ptime: time.Duration(c.Profile.Interval) * time.Millisecond}
		prefix := c.Profile.Param("sound-prefix")
		lang := "en"
		if member != nil {
			prefix = firstNonEmpty(prefix, member.s.Var("sound_prefix"))
		} else if len(c.Members()) > 0 {
			prefix = firstNonEmpty(prefix, c.Members()[0].s.Var("sound_prefix"))
		}
		err := playback.PlayTo(ctx, sink, file, playback.Options{SoundPrefix: prefix, Language: lang, Config: c.m.h.Config()})
		if err != nil && ctx.Err() == nil {
			c.m.h.Log.Debug("conference play failed", "conference", c.Name, "file", file, "err", err)
		}
		close(s.frames)
	}()
	return s
}

// recycle gives a frame the mixer has finished with back to the source's reader.
func (s *source) recycle(frame []int16) {
	select {
	case s.free <- frame:
	default:
	}
}

// frameSink is a media.Stream that hands frames to the mixer through a channel, reusing the
// frames the mixer gives back.
type frameSink struct {
	ctx   context.Context
	out   chan []int16
	free  chan []int16
	rate  int
	ptime time.Duration
	rs    *media.Resampler
	conv  []int16
	buf   []int16
}

func (f *frameSink) Rate() int               { return f.rate }
func (f *frameSink) Ptime() time.Duration    { return f.ptime }
func (f *frameSink) AddTap(media.Tap) func() { return func() {} }
func (f *frameSink) ReadFrame(ctx context.Context, _ *media.Frame) error {
	<-ctx.Done()
	return ctx.Err()
}
func (f *frameSink) WriteFrame(ctx context.Context, fr *media.Frame) error {
	pcm := fr.PCM
	if fr.Rate != 0 && fr.Rate != f.rate {
		if f.rs == nil || f.rs.In() != fr.Rate {
			f.rs = media.NewResampler(fr.Rate, f.rate)
		}
		if need := f.rs.OutLen(len(pcm)); cap(f.conv) < need {
			f.conv = make([]int16, need)
		}
		pcm = f.conv[:f.rs.Process(f.conv[:cap(f.conv)], pcm)]
	}
	spf := f.rate * int(f.ptime/time.Millisecond) / 1000
	f.buf = append(f.buf, pcm...)
	for len(f.buf) >= spf {
		var frame []int16
		select {
		case frame = <-f.free:
		default:
		}
		frame = append(frame[:0], f.buf[:spf]...)
		f.buf = append(f.buf[:0], f.buf[spf:]...)
		select {
		case f.out <- frame:
		case <-ctx.Done():
			return ctx.Err()
		case <-f.ctx.Done():
			return f.ctx.Err()
		}
	}
	return nil
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// event publishes conference::maintenance with the conference headers, the member's headers and
// channel data when member is set, then extra headers.
func (c *Conference) event(action string, m *Member, extra ...[2]string) {
	var e *event.Event
	if m != nil {
		e = m.s.NewEvent(event.Custom, "conference::maintenance")
	} else {
		e = c.m.h.Bus.New(event.Custom, "conference::maintenance")
	}
	c.mu.Lock()
	size, ghosts := 0, 0
	for _, x := range c.members {
		if x.flags.ghost {
			ghosts++
		} else {
			size++
		}
	}
	c.mu.Unlock()
	e.Add("Conference-Name", c.Name)
	e.Add("Conference-Domain", c.Profile.Param("domain"))
	e.Add("Conference-Size", itoa(size))
	e.Add("Conference-Ghosts", itoa(ghosts))
	e.Add("Conference-Profile-Name", c.Profile.Name)
	e.Add("Conference-Unique-ID", c.UUID)
	if m != nil {
		m.addHeaders(e)
	}
	e.Add("Action", action)
	for _, kv := range extra {
		e.Add(kv[0], kv[1])
	}
	c.m.h.Bus.Publish(e)
}
