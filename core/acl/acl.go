// Package acl compiles acl.conf.xml network lists (FreeSWITCH switch_core_network_list) and the
// built-in .auto lists, and answers "is this address allowed by list X".
//
// Matching follows FreeSWITCH: among the nodes of a list that contain the address, the most
// specific (longest prefix) decides, the later node winning a tie; no match gives the list's
// default. A list name that is not a list but a CIDR ("10.0.0.0/8") is accepted as an ad-hoc
// allow list, as apply-inbound-acl allows.
package acl

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/goswitch/goswitch/core/xmlconf"
)

// List is one compiled network list.
type List struct {
	Name         string
	DefaultAllow bool
	nodes        []node
}

type node struct {
	allow  bool
	prefix netip.Prefix
	token  string // directory user (domain= nodes): the id IP-authenticated callers become
	domain string
}

// Set holds every list of one configuration.
type Set struct {
	lists map[string]*List
	order []string
}

// Result is a detailed answer from CheckToken.
type Result struct {
	Allowed bool
	Token   string // user id when a domain= node (directory cidr) matched
	Domain  string
}

// New compiles acl.conf from snap plus the .auto lists. Bad nodes are skipped with an error
// naming their file:line; the returned Set is usable even then.
func New(snap *xmlconf.Snapshot) (*Set, error) {
	s := &Set{lists: map[string]*List{}}
	s.addAuto()
	if snap == nil {
		return s, nil
	}
	var errs []string
	conf := snap.Configuration("acl.conf")
	if conf == nil {
		return s, nil
	}
	for _, le := range conf.FindElements("network-lists/list") {
		name := le.SelectAttrValue("name", "")
		if name == "" {
			errs = append(errs, fmt.Sprintf("%s: list without name", snap.Pos(le)))
			continue
		}
		l := &List{Name: name, DefaultAllow: strings.EqualFold(le.SelectAttrValue("default", "deny"), "allow")}
		for _, ne := range le.SelectElements("node") {
			allow := strings.EqualFold(ne.SelectAttrValue("type", "deny"), "allow")
			switch {
			case ne.SelectAttr("cidr") != nil:
				for _, c := range strings.Split(ne.SelectAttrValue("cidr", ""), ",") {
					p, err := ParsePrefix(strings.TrimSpace(c))
					if err != nil {
						errs = append(errs, fmt.Sprintf("%s: %v", snap.Pos(ne), err))
						continue
					}
					l.nodes = append(l.nodes, node{allow: allow, prefix: p})
				}
			case ne.SelectAttr("host") != nil:
				p, err := hostMask(ne.SelectAttrValue("host", ""), ne.SelectAttrValue("mask", "255.255.255.255"))
				if err != nil {
					errs = append(errs, fmt.Sprintf("%s: %v", snap.Pos(ne), err))
					continue
				}
				l.nodes = append(l.nodes, node{allow: allow, prefix: p})
			case ne.SelectAttr("domain") != nil:
				dom := ne.SelectAttrValue("domain", "")
				dir := snap.Directory()
				if dir == nil {
					continue
				}
				d := dir.Domain(dom)
				if d == nil {
					errs = append(errs, fmt.Sprintf("%s: domain %q not in the directory", snap.Pos(ne), dom))
					continue
				}
				for _, u := range d.Users {
					if u.CIDR == "" {
						continue
					}
					for _, c := range strings.Split(u.CIDR, ",") {
						p, err := ParsePrefix(strings.TrimSpace(c))
						if err != nil {
							errs = append(errs, fmt.Sprintf("%s: user %s: %v", u.Pos, u.ID, err))
							continue
						}
						l.nodes = append(l.nodes, node{allow: allow, prefix: p, token: u.ID, domain: d.Name})
					}
				}
			default:
				errs = append(errs, fmt.Sprintf("%s: node needs cidr, host or domain", snap.Pos(ne)))
			}
		}
		s.add(l)
	}
	if len(errs) > 0 {
		return s, fmt.Errorf("acl: %s", strings.Join(errs, "; "))
	}
	return s, nil
}

func (s *Set) add(l *List) {
	key := strings.ToLower(l.Name)
	if _, ok := s.lists[key]; !ok {
		s.order = append(s.order, l.Name)
	}
	s.lists[key] = l
}

// ParsePrefix accepts "a.b.c.d/n", a bare address (host route) and IPv6 forms.
func ParsePrefix(v string) (netip.Prefix, error) {
	if !strings.Contains(v, "/") {
		a, err := netip.ParseAddr(v)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("bad cidr %q", v)
		}
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	p, err := netip.ParsePrefix(v)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad cidr %q", v)
	}
	return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()).Masked(), nil
}

func hostMask(host, mask string) (netip.Prefix, error) {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad host %q", host)
	}
	m := net.ParseIP(mask).To4()
	if m == nil {
		return netip.Prefix{}, fmt.Errorf("bad mask %q", mask)
	}
	ones, bits := net.IPMask(m).Size()
	if bits == 0 {
		return netip.Prefix{}, fmt.Errorf("non-contiguous mask %q", mask)
	}
	return netip.PrefixFrom(a.Unmap(), ones).Masked(), nil
}

// Lists returns the list names in definition order (the .auto lists first).
func (s *Set) Lists() []string { return append([]string(nil), s.order...) }

// Lookup returns a list by name (case-insensitive).
func (s *Set) Lookup(name string) (*List, bool) {
	if s == nil {
		return nil, false
	}
	l, ok := s.lists[strings.ToLower(name)]
	return l, ok
}

// Check reports whether ip is allowed by listName. An unknown list that parses as a CIDR or
// address is matched directly; any other unknown list denies.
func (s *Set) Check(listName string, ip netip.Addr) bool { return s.CheckToken(listName, ip).Allowed }

// CheckToken is Check that also returns the directory user a domain= node matched.
func (s *Set) CheckToken(listName string, ip netip.Addr) Result {
	ip = ip.Unmap()
	l, ok := s.Lookup(listName)
	if !ok {
		if p, err := ParsePrefix(listName); err == nil {
			return Result{Allowed: p.Contains(ip)}
		}
		return Result{}
	}
	return l.Check(ip)
}

// Check evaluates the list for ip.
func (l *List) Check(ip netip.Addr) Result {
	ip = ip.Unmap()
	best := -1
	var hit *node
	for i := range l.nodes {
		n := &l.nodes[i]
		if n.prefix.Contains(ip) && n.prefix.Bits() >= best {
			best, hit = n.prefix.Bits(), n
		}
	}
	if hit == nil {
		return Result{Allowed: l.DefaultAllow}
	}
	return Result{Allowed: hit.allow, Token: hit.token, Domain: hit.domain}
}

// String renders the list like FreeSWITCH's "reloadacl" log lines.
func (l *List) String() string {
	var b strings.Builder
	def := "deny"
	if l.DefaultAllow {
		def = "allow"
	}
	fmt.Fprintf(&b, "%s (default %s)", l.Name, def)
	for _, n := range l.nodes {
		t := "deny"
		if n.allow {
			t = "allow"
		}
		fmt.Fprintf(&b, "\n  %s %s", t, n.prefix)
		if n.token != "" {
			fmt.Fprintf(&b, " (%s@%s)", n.token, n.domain)
		}
	}
	return b.String()
}
