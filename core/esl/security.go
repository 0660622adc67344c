package esl

import (
	"net/netip"
	"time"

	"github.com/goswitch/goswitch/core/netguard"
	"github.com/goswitch/goswitch/core/security"
)

// Brute-force defence of the event socket: a banned source (host-wide table, core/security) is
// closed at accept without a byte; a failed auth/userauth waits AuthFailDelay, is counted per
// source and bans it after Security.FailMax failures; a banned source's auth is refused even
// with the right password, until `ban del <ip>`.

func (s *Server) newGuard() *security.Guard {
	pol := s.cfg.Security
	if pol.Service == "" {
		pol = security.DefaultPolicy("esl")
	}
	if names := s.cfg.TrustedACL; len(names) > 0 {
		pol.Trusted = func(a netip.Addr) bool {
			set := s.acls.Load()
			for _, n := range names {
				if set != nil && set.Check(n, a) {
					return true
				}
			}
			return false
		}
	}
	return security.NewGuard(s.h.Bans, pol, s.h.Log)
}

// Guard returns the event socket's security guard (counters).
func (s *Server) Guard() *security.Guard { return s.guard }

// authFailed counts a failed auth, waits the failure delay (cut short by Stop), answers
// -ERR invalid and ends the connection.
func (c *conn) authFailed(user, reason string) bool {
	c.srv.guard.Failure(netguard.RemoteIP(c.nc.RemoteAddr()), user, reason)
	if d := c.srv.cfg.AuthFailDelay; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-c.srv.ctx.Done():
			t.Stop()
		}
	}
	_ = c.reply("-ERR invalid")
	_ = c.disconnect()
	return false
}

// authBanned reports whether the connection's source was banned meanwhile (by another
// connection): its credentials are refused, right or wrong.
func (c *conn) authBanned() bool { return c.srv.h.Bans.Refuse(netguard.RemoteIP(c.nc.RemoteAddr())) }
