package main

import (
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/logging"
)

// daemonLoop is the running daemon's main loop: it ends the process on a closed console, a
// shutdown request (fsctl shutdown) or a signal, and runs the drain in between.
type daemonLoop struct {
	h            *core.Host
	logger       *slog.Logger
	logHandler   *logging.Handler
	drainTimeout time.Duration
	restart      *bool // set by fsctl shutdown restart; daemon re-executes after its cleanup

	idle     <-chan struct{}  // closed when no calls are left, during an elegant/asap shutdown
	drainEnd <-chan time.Time // the SIGTERM drain's deadline, once draining
	stopIdle chan struct{}    // closing it abandons the wait
}

// run waits for the end and returns the process's exit code.
func (l *daemonLoop) run(consoleDone <-chan struct{}, sigs <-chan os.Signal) int {
	requests := l.h.Bus.SubscribeTo(event.Interest{Names: []string{event.ShutdownRequested}}, nil, 8)
	defer requests.Close()
	defer func() {
		if l.stopIdle != nil {
			close(l.stopIdle)
		}
	}()
	for {
		select {
		case <-consoleDone:
			l.logger.Info("console closed, shutting down")
			return shutdown(l.h, core.CauseManagerRequest, 0)
		case e := <-requests.C():
			if code, done := l.request(e); done {
				return code
			}
		case <-l.idle:
			l.logger.Info("no calls left: shutting down")
			return shutdown(l.h, core.CauseManagerRequest, 0)
		case sig := <-sigs:
			if code, done := l.signal(sig); done {
				return code
			}
		case <-l.drainEnd:
			l.logger.Warn("drain deadline passed: hanging up the calls left", "calls", l.h.SessionCount())
			return shutdown(l.h, core.CauseSystemShutdown, 0)
		}
	}
}

// request handles a SHUTDOWN_REQUESTED event; done says the daemon stops with code.
func (l *daemonLoop) request(e *event.Event) (code int, done bool) {
	mode := e.Get("Shutdown-Mode")
	*l.restart = e.Get("Shutdown-Restart") == "true"
	switch mode {
	case "cancel":
		*l.restart = false
		if l.stopIdle != nil && l.drainEnd == nil {
			close(l.stopIdle)
			l.stopIdle, l.idle = nil, nil
			l.h.SetPaused(false)
			l.logger.Info("shutdown cancelled")
		}
	case "elegant", "asap":
		if mode == "asap" {
			l.h.BeginDrain() // FreeSWITCH's SCF_NO_NEW_SESSIONS; elegant still takes calls
		}
		l.logger.Info("shutdown requested: waiting for calls to end", "mode", mode)
		if l.stopIdle == nil {
			l.stopIdle = make(chan struct{})
			l.idle = waitIdle(l.stopIdle, l.h)
		}
	default: // now
		l.logger.Info("shutdown requested", "mode", mode, "restart", *l.restart)
		return shutdown(l.h, core.CauseManagerRequest, 0), true
	}
	return 0, false
}

// signal handles SIGHUP (reload), SIGTERM (drain) and SIGINT (stop).
func (l *daemonLoop) signal(sig os.Signal) (code int, done bool) {
	switch sig {
	case syscall.SIGHUP:
		// FreeSWITCH's TRAP event makes cdr_csv rotate and log files reopen; goswitch also
		// reloads the XML, so an admin has one signal for "pick up my changes".
		trap := l.h.Bus.New(event.Trap, "")
		trap.Add("Trapped-Signal", "HUP")
		l.h.Bus.Publish(trap)
		_ = l.logHandler.Reopen()
		if err := l.h.Reload(); err != nil {
			l.logger.Error("reloadxml on SIGHUP failed; previous configuration kept", "err", err)
		} else {
			l.logger.Info("configuration reloaded on SIGHUP")
		}
	case syscall.SIGTERM, syscall.SIGINT:
		*l.restart = false // a signal means stop
		if l.drainEnd != nil {
			// A second signal while draining: the operator does not want to wait.
			l.logger.Warn("second signal during drain: stopping now", "signal", sig.String(), "calls", l.h.SessionCount())
			return shutdownWithin(l.h, core.CauseSystemShutdown, 0, 2*time.Second), true
		}
		if sig == syscall.SIGINT {
			l.logger.Info("SIGINT: stopping")
			return shutdown(l.h, core.CauseSystemShutdown, 0), true
		}
		d := drainTimeout(l.h, l.drainTimeout)
		l.logger.Warn("SIGTERM: draining calls, new calls refused with 503; a second SIGTERM or SIGINT stops at once",
			"calls", l.h.SessionCount(), "deadline", d)
		l.h.BeginDrain()
		l.drainEnd = time.After(d)
		if l.stopIdle == nil {
			l.stopIdle = make(chan struct{})
			l.idle = waitIdle(l.stopIdle, l.h)
		}
	}
	return 0, false
}
