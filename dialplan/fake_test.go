package dialplan

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/goswitch/goswitch/core"
)

// fakeChan is a Channel for tests: fields, variables with global fallback,
// ${var} expansion, and a list of inline-capable apps.
type fakeChan struct {
	name    string
	fields  map[string]string
	vars    map[string]string
	globals map[string]string
	now     time.Time
	inline  []string // "app(data)" executed inline
	hungup  core.Cause
}

func (f *fakeChan) Hangup(c core.Cause) { f.hungup = c }

func newFake() *fakeChan {
	return &fakeChan{
		name:    "sofia/internal/1000@example.com",
		fields:  map[string]string{"caller_id_name": "Alice", "caller_id_number": "1000", "source": "mod_sofia", "network_addr": "10.0.0.5"},
		vars:    map[string]string{},
		globals: map[string]string{},
		now:     time.Date(2026, 11, 24, 10, 30, 0, 0, time.UTC),
	}
}

func (f *fakeChan) Name() string { return f.name }
func (f *fakeChan) Field(n string) (string, bool) {
	if v, ok := f.fields[n]; ok {
		return v, ok
	}
	v, ok := f.fields[strings.ToLower(n)]
	return v, ok
}
func (f *fakeChan) Var(n string) string {
	if v, ok := f.vars[n]; ok {
		return v
	}
	if v, ok := f.fields[n]; ok {
		return v
	}
	return f.globals[n]
}
func (f *fakeChan) SetVar(n, v string) { f.vars[n] = v }
func (f *fakeChan) UnsetVar(n string)  { delete(f.vars, n) }
func (f *fakeChan) Now() time.Time     { return f.now }
func (f *fakeChan) Expand(s string) string {
	if strings.HasPrefix(s, "${") && strings.IndexByte(s, '}') == len(s)-1 && !strings.Contains(s, "(") {
		return f.Var(s[2 : len(s)-1])
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s[i:])
			return b.String()
		}
		name := s[i+2 : i+j]
		if strings.HasPrefix(name, "module_exists(") {
			b.WriteString("false")
		} else {
			b.WriteString(f.Var(name))
		}
		s = s[i+j+1:]
	}
}
func (f *fakeChan) ExecuteInline(_ context.Context, app, data string) error {
	switch app {
	case "set":
		k, v, _ := strings.Cut(data, "=")
		f.vars[k] = v
	case "unset":
		delete(f.vars, data)
	case "log", "info", "export":
	case "hash", "answer", "bridge":
		return core.ErrNotInline
	default:
		return fmt.Errorf("%w %s", core.ErrUnknownApp, app)
	}
	f.inline = append(f.inline, app+"("+data+")")
	return nil
}

func compileString(t testing.TB, xml string) *Dialplan {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(xml); err != nil {
		t.Fatal(err)
	}
	dp, _, err := Compile(doc.Root(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return dp
}

// traceOf hunts and returns the trace lines and the route as text.
func traceOf(t testing.TB, dp *Dialplan, ch *fakeChan, ctx, dest string) (trace []string, route []string, err error) {
	r, err := dp.Hunt(context.Background(), ch, Hunt{Context: ctx, Dest: dest, Trace: func(l slog.Level, line string) {
		if l == slog.LevelDebug {
			trace = append(trace, line)
		}
	}})
	if r != nil {
		for _, a := range r.Actions {
			k := "Action"
			if a.Anti {
				k = "ANTI-Action"
			}
			route = append(route, fmt.Sprintf("%s %s(%s)", k, a.App, a.Data))
		}
	}
	return trace, route, err
}
