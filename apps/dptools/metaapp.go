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
	armed    time.Time
}

const metaKey = "dptools.meta"

func metaFor(s *core.Session) *metaApps {
	if m, ok := s.Private(metaKey).(*metaApps); ok {
		return m
	}
	m := &metaApps{s: s, bindings: map[rune]metaBinding{}}
	s.SetPrivate(metaKey, m)
	s.SetDTMFHook(m.onDTMF)
	return m
}

// bindMetaApp: <key> <listen a|b|ab> <exec a|b|o|s|i|1> <app>[::<args>].
func bindMetaApp(ctx context.Context, s *core.Session, args string) error {
	a := core.SplitArgs(args, 4)
	if len(a) < 4 || len([]rune(a[0])) != 1 {
		return fmt.Errorf("bind_meta_app: usage <key> <listen> <flags> <app>[::<args>]")
	}
	app, appArgs, _ := strings.Cut(a[3], "::")
	b := metaBinding{key: []rune(a[0])[0], exec: a[2], app: app, args: appArgs, oneShot: strings.Contains(a[2], "1")}
	m := metaFor(s)
	m.mu.Lock()
	m.bindings[b.key] = b
	m.mu.Unlock()
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

// onDTMF swallows the meta key and a bound key that follows it in time, and runs the app.
func (m *metaApps) onDTMF(d media.DTMF) bool {
	meta := '*'
	if v := m.s.Var("bind_meta_key"); v != "" {
		meta = []rune(v)[0]
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.bindings) == 0 {
		return false
	}
	if d.Digit == meta && m.armed.IsZero() {
		m.armed = time.Now()
		return true
	}
	if m.armed.IsZero() {
		return false
	}
	fresh := time.Since(m.armed) < metaTimeout
	m.armed = time.Time{}
	b, ok := m.bindings[d.Digit]
	if !ok || !fresh {
		return false
	}
	if b.oneShot {
		delete(m.bindings, b.key)
	}
	target := m.s
	if strings.ContainsAny(b.exec, "ob") {
		if p := m.s.Peer(); p != nil {
			target = p
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
