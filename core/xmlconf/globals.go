package xmlconf

import (
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
)

// BuiltinGlobals returns the variables FreeSWITCH's core defines before it
// reads freeswitch.xml (hostname, local_ip_v4, the *_dir paths, ...), for a
// conf directory confDir ("" = the embedded tree). The other directories sit
// next to conf/ the way a source install lays them out
// (/usr/local/freeswitch/{conf,log,db,...}).
func BuiltinGlobals(confDir string) map[string]string {
	base := "."
	if confDir != "" {
		if abs, err := filepath.Abs(confDir); err == nil {
			confDir = abs
		}
		base = filepath.Dir(confDir)
	} else {
		confDir = "conf"
	}
	host, _ := os.Hostname()
	v4, mask4 := localIPv4()
	g := map[string]string{
		"hostname":         host,
		"switchname":       host,
		"local_ip_v4":      v4,
		"local_mask_v4":    mask4,
		"local_ip_v6":      localIPv6(),
		"base_dir":         base,
		"conf_dir":         confDir,
		"core_uuid":        newUUID(),
		"nat_public_addr":  v4,
		"nat_private_addr": v4,
		"nat_type":         "none",
	}
	for _, d := range []string{"log", "run", "db", "mod", "htdocs", "script", "temp", "grammar", "certs", "storage", "cache", "recordings", "sounds", "images", "fonts"} {
		sub := d
		if d == "script" {
			sub = "scripts"
		}
		g[d+"_dir"] = filepath.Join(base, sub)
	}
	g["sound_prefix"] = g["sounds_dir"]
	return g
}

// localIPv4 finds the address of the interface holding the default route,
// as switch_find_local_ip does: "connect" a UDP socket (nothing is sent) and
// read its local address. Without a route: the first non-loopback address,
// else 127.0.0.1.
func localIPv4() (ip, mask string) {
	if c, err := net.Dial("udp4", "192.0.2.1:9"); err == nil {
		a := c.LocalAddr().(*net.UDPAddr).IP
		_ = c.Close()
		return a.String(), maskOf(a)
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.String(), net.IP(n.Mask).String()
		}
	}
	return "127.0.0.1", "255.0.0.0"
}

func maskOf(ip net.IP) string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return net.IP(n.Mask).String()
		}
	}
	return "255.255.255.0"
}

func localIPv6() string {
	if c, err := net.Dial("udp6", "[2001:db8::1]:9"); err == nil {
		a := c.LocalAddr().(*net.UDPAddr).IP
		_ = c.Close()
		return a.String()
	}
	return "::1"
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
