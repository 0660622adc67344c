package acl

import (
	"net"
	"net/netip"
)

var rfc1918 = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"}

// addAuto creates FreeSWITCH's built-in lists (switch_load_network_lists).
func (s *Set) addAuto() {
	mk := func(name string, def bool) *List { return &List{Name: name, DefaultAllow: def} }
	allow := func(l *List, cidrs ...string) {
		for _, c := range cidrs {
			l.nodes = append(l.nodes, node{allow: true, prefix: netip.MustParsePrefix(c)})
		}
	}
	deny := func(l *List, cidrs ...string) {
		for _, c := range cidrs {
			l.nodes = append(l.nodes, node{allow: false, prefix: netip.MustParsePrefix(c)})
		}
	}
	r := mk("rfc1918.auto", false)
	allow(r, rfc1918...)
	s.add(r)

	w := mk("wan.auto", true)
	deny(w, rfc1918...)
	deny(w, "127.0.0.0/8", "::1/128", "169.254.0.0/16", "fe80::/10")
	s.add(w)

	lo := mk("loopback.auto", false)
	allow(lo, "127.0.0.0/8", "::1/128")
	s.add(lo)

	local := localNets()
	ln := mk("localnet.auto", false)
	for _, p := range local {
		ln.nodes = append(ln.nodes, node{allow: true, prefix: p})
	}
	s.add(ln)

	// nat.auto: private addresses that are not on one of our own networks (a phone behind
	// someone else's NAT).
	n := mk("nat.auto", false)
	allow(n, rfc1918...)
	for _, p := range local {
		if p.Addr().IsLoopback() {
			continue
		}
		n.nodes = append(n.nodes, node{allow: false, prefix: p})
	}
	s.add(n)
}

func localNets() []netip.Prefix {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipn.IP)
		if !ok {
			continue
		}
		ones, _ := ipn.Mask.Size()
		out = append(out, netip.PrefixFrom(ip.Unmap(), ones).Masked())
	}
	return out
}
