package esl

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/goswitch/goswitch/core/acl"
	"github.com/goswitch/goswitch/core/security"
	"github.com/goswitch/goswitch/core/xmlconf"
)

// Config is event_socket.conf's <settings>.
type Config struct {
	ListenIP   string   // listen-ip, default 127.0.0.1
	ListenPort int      // listen-port, default 8021
	Password   string   // password, default ClueCon
	ACL        []string // apply-inbound-acl, default loopback.auto
	// QueueSize bounds each listener's event queue (FreeSWITCH: 100000); events that do not fit
	// are dropped and counted (esl_status shows them).
	QueueSize int
	// LogQueueSize bounds each listener's log queue.
	LogQueueSize        int
	Debug               bool
	StopOnBindError     bool
	OutboundDefaultPort int
	// Security is the brute-force lockout of auth/userauth: auth-fail-max failures from one
	// source within auth-fail-window seconds ban it for auth-ban-time seconds (host-wide, see
	// core/security); auth-trusted-acl lists exempt sources. Loopback is not exempt by default.
	Security   security.Policy
	TrustedACL []string
	// AuthFailDelay is how long a failed auth waits before its -ERR (auth-fail-delay, ms).
	AuthFailDelay time.Duration
	// MaxConns and MaxPerSource cap inbound connections in total and per source address
	// (max-connections, max-connections-per-source; 0 = no cap): goswitch's own, not FreeSWITCH's.
	MaxConns, MaxPerSource int
}

// DefaultConfig is FreeSWITCH's built-in defaults.
func DefaultConfig() Config {
	return Config{
		ListenIP: "127.0.0.1", ListenPort: 8021, Password: "ClueCon",
		QueueSize: 100000, LogQueueSize: 10000, OutboundDefaultPort: 8084,
		Security: security.DefaultPolicy("esl"), AuthFailDelay: time.Second,
		MaxConns: 1024, MaxPerSource: 32,
	}
}

// ParseConfig reads event_socket.conf from snap; a missing section gives the defaults.
func ParseConfig(snap *xmlconf.Snapshot) (Config, error) {
	cfg := DefaultConfig()
	if snap == nil {
		return cfg, nil
	}
	el := snap.Configuration("event_socket.conf")
	if el == nil {
		return cfg, nil
	}
	for _, p := range el.FindElements("settings/param") {
		name, val := p.SelectAttrValue("name", ""), p.SelectAttrValue("value", "")
		pos := snap.Pos(p)
		switch strings.ToLower(name) {
		case "listen-ip":
			cfg.ListenIP = val
		case "listen-port":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 || n > 65535 {
				return cfg, fmt.Errorf("%v: event_socket.conf: invalid listen-port %q", pos, val)
			}
			cfg.ListenPort = n
		case "password":
			cfg.Password = val
		case "apply-inbound-acl":
			if len(cfg.ACL) < 100 {
				cfg.ACL = append(cfg.ACL, val)
			}
		case "debug":
			cfg.Debug = val != "0" && val != "false" && val != ""
		case "stop-on-bind-error":
			cfg.StopOnBindError = val == "true"
		case "max-connections", "max-connections-per-source":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				return cfg, fmt.Errorf("%v: event_socket.conf: invalid %s %q", pos, name, val)
			}
			if strings.EqualFold(name, "max-connections") {
				cfg.MaxConns = n
			} else {
				cfg.MaxPerSource = n
			}
		case "event-queue-size":
			if n, err := strconv.Atoi(val); err == nil && n > 0 {
				cfg.QueueSize = n
			}
		case "auth-fail-max", "auth-fail-window", "auth-ban-time", "auth-fail-delay":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				return cfg, fmt.Errorf("%v: event_socket.conf: invalid %s %q", pos, name, val)
			}
			if name = strings.ToLower(name); name == "auth-fail-delay" {
				cfg.AuthFailDelay = time.Duration(n) * time.Millisecond
			} else {
				cfg.Security.SetParam(name, n)
			}
		case "auth-trusted-acl":
			for _, v := range strings.Split(val, ",") {
				if v = strings.TrimSpace(v); v != "" {
					cfg.TrustedACL = append(cfg.TrustedACL, v)
				}
			}
		}
	}
	return cfg, nil
}

// Addr returns host:port to listen on; FreeSWITCH's "::" listens on every address.
func (c Config) Addr() string {
	return net.JoinHostPort(c.ListenIP, strconv.Itoa(c.ListenPort))
}

// allowed applies the inbound ACL lists (default loopback.auto) to a remote address with the
// configuration's acl.conf lists and FreeSWITCH's .auto lists; a list name may also be a CIDR.
// Without a compiled set (no configuration) only the loopback rule is applied.
func (c Config) allowed(set *acl.Set, remote net.Addr) bool {
	ap, err := netip.ParseAddrPort(remote.String())
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	acls := c.ACL
	if len(acls) == 0 {
		acls = []string{"loopback.auto"}
	}
	for _, name := range acls {
		if set != nil {
			if set.Check(name, ip) {
				return true
			}
			continue
		}
		if strings.EqualFold(name, "loopback.auto") && ip.IsLoopback() {
			return true
		}
	}
	return false
}

// DefaultPassword is FreeSWITCH's stock event socket password, the first one anyone tries.
const DefaultPassword = "ClueCon"

// ExposedDefaultPassword reports whether the configuration listens beyond loopback (an address
// other than 127/8 and ::1, or every address) with the stock password ClueCon. Start refuses to
// listen then, unless the host runs with -insecure.
func (c Config) ExposedDefaultPassword() bool {
	if c.Password != DefaultPassword {
		return false
	}
	ip := strings.TrimSpace(c.ListenIP)
	if strings.EqualFold(ip, "localhost") {
		return false
	}
	a, err := netip.ParseAddr(strings.Trim(ip, "[]"))
	return err != nil || !a.Unmap().IsLoopback()
}
