package dptools

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/media"
)

func sleep(ctx context.Context, s *core.Session, args string) error {
	ms, err := strconv.Atoi(strings.TrimSpace(args))
	if err != nil || ms <= 0 {
		return nil
	}
	deadline := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer deadline.Stop()
	// Digits stay queued for later applications unless sleep_eat_digits says to swallow them.
	var digits <-chan media.DTMF
	if core.True(s.Var("sleep_eat_digits")) {
		digits = s.DTMF()
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return nil
		case <-digits:
		}
	}
}

// parseSchedTime reads "[+]<secs>": relative with '+', else an absolute epoch.
func parseSchedTime(v string) (time.Duration, bool) {
	rel := strings.HasPrefix(v, "+")
	n, err := strconv.ParseInt(strings.TrimPrefix(v, "+"), 10, 64)
	if err != nil {
		return 0, false
	}
	if rel {
		return time.Duration(n) * time.Second, true
	}
	return time.Until(time.Unix(n, 0)), true
}

func schedHangup(ctx context.Context, s *core.Session, args string) error {
	a := core.SplitArgs(args, 2)
	if len(a) == 0 {
		return fmt.Errorf("sched_hangup: no time")
	}
	d, ok := parseSchedTime(a[0])
	if !ok {
		return fmt.Errorf("sched_hangup: bad time %q", a[0])
	}
	cause := core.CauseAllottedTimeout
	if len(a) > 1 {
		cause = core.ParseCause(a[1])
	}
	go func() {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			s.Hangup(cause)
		case <-s.Context().Done():
		}
	}()
	return nil
}

func schedTransfer(ctx context.Context, s *core.Session, args string) error {
	a := core.SplitArgs(args, 4)
	if len(a) < 2 {
		return fmt.Errorf("sched_transfer: need time and extension")
	}
	d, ok := parseSchedTime(a[0])
	if !ok {
		return fmt.Errorf("sched_transfer: bad time %q", a[0])
	}
	for len(a) < 4 {
		a = append(a, "")
	}
	go func() {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			s.Transfer(a[1], a[2], a[3])
		case <-s.Context().Done():
		}
	}()
	return nil
}
