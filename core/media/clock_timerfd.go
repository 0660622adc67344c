//go:build linux && (amd64 || arm64)

package media

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

// timerfdSleeper waits on a timerfd parked in Go's netpoller. Go's own timers wake through
// epoll_wait, whose timeout is in milliseconds: when the process is otherwise idle a timer
// fires up to 1 ms late, and that lateness changes from tick to tick, which is jitter on every
// packet a clock-paced sender emits. The kernel's hrtimer behind a timerfd wakes within
// microseconds.
type timerfdSleeper struct {
	f    *os.File
	fd   int
	stop <-chan struct{}
	buf  [8]byte
}

type itimerspec struct {
	interval, value syscall.Timespec
}

func newSleeper(stop <-chan struct{}) sleeper {
	const tfdNonblock, tfdCloexec = syscall.O_NONBLOCK, syscall.O_CLOEXEC
	fd, _, e := syscall.RawSyscall(syscall.SYS_TIMERFD_CREATE, 1 /* CLOCK_MONOTONIC */, tfdNonblock|tfdCloexec, 0)
	if e != 0 {
		return newTimerSleeper(stop)
	}
	f := os.NewFile(fd, "media-clock")
	if f.SetReadDeadline(time.Time{}) != nil { // not in the netpoller: reads would block a thread
		f.Close()
		return newTimerSleeper(stop)
	}
	return &timerfdSleeper{f: f, fd: int(fd), stop: stop}
}

func (s *timerfdSleeper) sleepUntil(t time.Time) bool {
	for {
		select {
		case <-s.stop:
			return false
		default:
		}
		d := time.Until(t)
		if d <= 0 {
			return true
		}
		its := itimerspec{value: syscall.NsecToTimespec(int64(d))}
		if _, _, e := syscall.RawSyscall6(syscall.SYS_TIMERFD_SETTIME, uintptr(s.fd), 0,
			uintptr(unsafe.Pointer(&its)), 0, 0, 0); e != 0 {
			time.Sleep(d)
			return true
		}
		if _, err := s.f.Read(s.buf[:]); err != nil && !os.IsTimeout(err) {
			time.Sleep(d) // cannot happen with a live timerfd; do not spin
		}
		// Woken by the timer, or by wake (Close): loop to check stop and the time left.
	}
}

// wake interrupts a sleepUntil in progress (after stop is closed).
func (s *timerfdSleeper) wake() { _ = s.f.SetReadDeadline(time.Unix(1, 0)) }

func (s *timerfdSleeper) close() { s.f.Close() }
