//go:build unix

package main

import (
	"log/slog"
	"syscall"
)

// raiseNoFile raises the soft RLIMIT_NOFILE to the hard limit: every SIP TCP/TLS connection,
// event socket client and RTP port is a descriptor. (The Go runtime does this too since 1.19;
// doing it here makes the limit explicit and logged, and a low one visible.)
func raiseNoFile(log *slog.Logger) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		log.Warn("cannot read RLIMIT_NOFILE", "err", err)
		return
	}
	if r.Cur < r.Max {
		r.Cur = r.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
			log.Warn("cannot raise RLIMIT_NOFILE", "err", err)
		}
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r)
	}
	if r.Cur < 16384 {
		log.Warn("open file limit is low; TCP/TLS connections and RTP ports share it", "nofile", r.Cur)
		return
	}
	log.Info("open file limit", "nofile", r.Cur)
}
