package core

import (
	"context"
	"strings"
	"sync"

	"github.com/goswitch/goswitch/core/event"
)

// RunAPI runs an API command line the way the event socket and the console do and returns its
// output: `-ERR <cmd> Command not found!` for unknown commands, `-ERR no reply` for empty output.
func (h *Host) RunAPI(ctx context.Context, line string) string {
	line = strings.TrimSpace(line)
	cmd, args, _ := strings.Cut(line, " ")
	args = strings.TrimSpace(args)
	if _, ok := LookupAPI(cmd); !ok {
		return "-ERR " + cmd + " Command not found!\n"
	}
	out, err := h.APIOutput(ctx, cmd, args)
	if out == "" && err != nil {
		return "-ERR " + err.Error() + "\n"
	}
	if out == "" {
		return "-ERR no reply\n"
	}
	return out
}

// RunBackground runs an API command line in a goroutine counted by wg (bgapi, both the ESL
// command and the console one) and publishes the output as a BACKGROUND_JOB event (Job-UUID,
// Job-Owner-UUID, Job-Command, Job-Command-Arg; body = output).
func (h *Host) RunBackground(ctx context.Context, wg *sync.WaitGroup, line, jobUUID, owner string) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		out := h.RunAPI(ctx, line)
		cmd, args, _ := strings.Cut(strings.TrimSpace(line), " ")
		e := h.Bus.New(event.BackgroundJob, "")
		e.Add("Job-UUID", jobUUID)
		if owner != "" {
			e.Add("Job-Owner-UUID", owner)
		}
		e.Add("Job-Command", cmd)
		if args = strings.TrimSpace(args); args != "" {
			e.Add("Job-Command-Arg", args)
		}
		e.Body = out
		h.Bus.Publish(e)
	}()
}
