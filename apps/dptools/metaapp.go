package dptools

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media"
)

// metaTimeout is how long after the meta key (*) the bound key may follow.
const metaTimeout = 2 * time.Second

type metaBinding struct {
	key     rune
	listen  string // a (this channel's far end), b (the bridged peer's far end) or ab
	exec    string // a, b, o, s, plus i (inline) and 1 (one shot) flags
	app     string
	args    string
	oneShot bool
}

// metaApps is a channel's bind_meta_app table and the meta-key state machine.
type metaApps struct {
	mu       sync.Mutex
	s        *core.Session
	bindings map[rune]metaBinding
	armed    map[*core.Session]time.Time // when each leg pressed the meta key
}

const metaKey = "dptools.meta"

func metaFor(s *core.Session) *metaApps {
	if m, ok := s.Private(metaKey).(*metaApps); ok {
		return m
	}
	m := &metaApps{s: s, bindings: map[rune]metaBinding{}, armed: map[*core.Session]time.Time{}}
	s.SetPrivate(metaKey, m)
	s.SetDTMFHook(func(d media.DTMF) bool { return m.onDTMF(s, d) })
	return m
}

// bindMetaApp: <key> <listen a|b|ab> <exec a|b|o|s|i|1> <app>[::<args>].
func bindMetaApp(ctx context.Context, s *core.Session, args string) error {
	a := core.SplitArgs(args, 4)
	if len(a) < 4 || len([]rune(a[0])) != 1 {
		return fmt.Errorf("bind_meta_app: usage <key> <listen> <flags> <app>[::<args>]")
	}
	app, appArgs, _ := strings.Cut(a[3], "::")
	listen := strings.ToLower(a[1])
	if !strings.ContainsAny(listen, "ab") {
		return fmt.Errorf("bind_meta_app: listen must be a, b or ab, got %q", a[1])
	}
	b := metaBinding{key: []rune(a[0])[0], listen: listen, exec: a[2], app: app, args: appArgs, oneShot: strings.Contains(a[2], "1")}
	m := metaFor(s)
	m.mu.Lock()
	m.bindings[b.key] = b
	m.mu.Unlock()
	if strings.Contains(listen, "b") {
		s.SetPeerDTMFHook(m.onDTMF) // digits the bridged peer's phone sends
	}
	return nil
}

func unbindMetaApp(ctx context.Context, s *core.Session, args string) error {
	m := metaFor(s)
	m.mu.Lock()
	defer m.mu.Unlock()
	key := strings.TrimSpace(args)
	if key == "" {
		m.bindings = map[rune]metaBinding{}
		return nil
	}
	delete(m.bindings, []rune(key)[0])
	return nil
}

// onDTMF swallows the meta key and a bound key that follows it in time, and runs the app. from is
// the leg whose far end sent the digit: this channel (listen a) or its bridged peer (listen b). A
// binding only hears the leg it listens on, so the caller cannot fire what FreeSWITCH's vanilla
// dialplan binds for the callee ("1 b s execute_extension::dx": transfer by the called phone).
func (m *metaApps) onDTMF(from *core.Session, d media.DTMF) bool {
	meta := '*'
	if v := m.s.Var("bind_meta_key"); v != "" {
		meta = []rune(v)[0]
	}
	leg := "a"
	if from != m.s {
		leg = "b"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	listened := false
	for _, b := range m.bindings {
		if strings.Contains(b.listen, leg) {
			listened = true
			break
		}
	}
	if !listened {
		return false
	}
	armed := m.armed[from]
	if d.Digit == meta && armed.IsZero() {
		m.armed[from] = time.Now()
		return true
	}
	if armed.IsZero() {
		return false
	}
	fresh := time.Since(armed) < metaTimeout
	delete(m.armed, from)
	b, ok := m.bindings[d.Digit]
	if !ok || !fresh || !strings.Contains(b.listen, leg) {
		return false
	}
	if b.oneShot {
		delete(m.bindings, b.key)
	}
	// FreeSWITCH's exec flags: a = this channel, b = its peer, s = the leg that pressed, o = the
	// other one.
	target := from
	switch {
	case strings.Contains(b.exec, "a"):
		target = m.s
	case strings.Contains(b.exec, "b"):
		if p := m.s.Peer(); p != nil {
			target = p
		}
	case strings.Contains(b.exec, "o"):
		if from == m.s {
			if p := m.s.Peer(); p != nil {
				target = p
			}
		} else {
			target = m.s
		}
	}
	app, args := b.app, b.args
	target.Enqueue(func() {
		if err := target.Execute(target.Context(), app, args); err != nil {
			target.Log().Warn("meta app failed", "app", app, "err", err)
		}
	})
	return true
}
