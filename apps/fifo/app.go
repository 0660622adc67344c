package fifo

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/goswitch/goswitch/core"
)

const usage = "<fifo name>[!<importance_number>] [in [<announce file>|undef] [<music file>|undef] | out [wait|nowait] [<announce file>|undef] [<music file>|undef]]"

// request is the parsed argument string of the fifo app.
type request struct {
	names    []string // "name" of each queue, importance stripped
	imps     []int
	consumer bool
	wait     bool
	announce string
	music    string
}

func parseRequest(s *core.Session, args string) (*request, error) {
	f := strings.Fields(args)
	if len(f) < 2 {
		return nil, fmt.Errorf("USAGE %s", usage)
	}
	r := &request{wait: true}
	switch strings.ToLower(f[1]) {
	case "out":
		r.consumer = true
	case "in":
	default:
		return nil, fmt.Errorf("USAGE %s", usage)
	}
	for _, n := range strings.Split(f[0], ",") {
		imp := 0
		if i := strings.LastIndexByte(n, '!'); i >= 0 {
			imp, _ = strconv.Atoi(n[i+1:])
			n = n[:i]
		}
		if n == "" {
			continue
		}
		r.names = append(r.names, n)
		r.imps = append(r.imps, max(imp, 0))
	}
	if len(r.names) == 0 || !r.consumer && len(r.names) > 1 {
		return nil, fmt.Errorf("USAGE %s", usage)
	}
	r.music, r.announce = s.Var("fifo_music"), s.Var("fifo_announce")
	rest := f[2:]
	if r.consumer && len(rest) > 0 {
		switch strings.ToLower(rest[0]) {
		case "nowait":
			r.wait = false
		case "wait":
		default:
			return nil, fmt.Errorf("USAGE %s", usage)
		}
		rest = rest[1:]
	}
	if len(rest) > 0 {
		r.announce = rest[0]
	}
	if len(rest) > 1 {
		r.music = rest[1]
	}
	if strings.EqualFold(r.announce, "undef") {
		r.announce = ""
	}
	if strings.EqualFold(r.music, "undef") || strings.EqualFold(r.music, "silence") {
		r.music = ""
	}
	return r, nil
}

func fifoApp(ctx context.Context, s *core.Session, args string) error {
	m := moduleFor(s.Host())
	if m == nil {
		return fmt.Errorf("fifo: %s is not loaded", moduleName)
	}
	r, err := parseRequest(s, args)
	if err != nil {
		s.Log().Error(err.Error())
		return nil
	}
	if r.consumer {
		return m.consume(ctx, s, r)
	}
	return m.enqueue(ctx, s, r)
}
