package dialplan

import (
	"context"
	"errors"
	"log/slog"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// Name is the dialplan's registry name, as in FreeSWITCH's caller profile.
const Name = "XML"

// SnapshotKey is where core attaches the compiled dialplan on a snapshot.
const SnapshotKey = "dialplan/" + Name

func init() {
	core.RegisterDialplan(core.DialplanInfo{
		Name:    Name,
		New:     func(h *core.Host) (core.Dialplan, error) { return xmlDialplan{}, nil },
		Compile: func(snap *xmlconf.Snapshot) (any, error) { return CompileSnapshot(snap) },
	})
}

// CompileSnapshot compiles the snapshot's dialplan section. Errors are an
// *xmlconf.Error listing every problem as file:line.
func CompileSnapshot(snap *xmlconf.Snapshot) (*Dialplan, error) {
	dp, _, err := Compile(snap.Section("dialplan"), snap.Pos)
	if err != nil {
		return nil, err
	}
	dp.posix = timezonesConf(snap.Configuration("timezones.conf"))
	return dp, nil
}

// FromSnapshot returns the dialplan compiled at load for snap, compiling it
// now when the snapshot was loaded without core's compilers.
func FromSnapshot(snap *xmlconf.Snapshot) (*Dialplan, error) {
	if snap == nil {
		return nil, errors.New("dialplan: no configuration")
	}
	if dp, ok := snap.Attached(SnapshotKey).(*Dialplan); ok {
		return dp, nil
	}
	return CompileSnapshot(snap)
}

// xmlDialplan is the core.Dialplan: each call hunts on the snapshot it
// started with.
type xmlDialplan struct{}

func (xmlDialplan) Hunt(ctx context.Context, s *core.Session, dest, context string) (*core.Route, error) {
	dp, err := FromSnapshot(s.Config())
	if err != nil {
		return nil, err
	}
	log := s.Log()
	return dp.Hunt(ctx, s, Hunt{
		Context: context,
		Dest:    dest,
		Trace:   func(level slog.Level, line string) { log.Log(ctx, level, line) },
		NoDebug: !log.Enabled(ctx, slog.LevelDebug),
	})
}
