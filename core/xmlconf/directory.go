package xmlconf

import (
	"strings"

	"github.com/beevik/etree"
)

// KV is one <param> or <variable>: name and value, in file order.
type KV struct{ Name, Value string }

// Directory is the directory section (FS-COMPAT 1.6) compiled once per load:
// domains, their groups and users, with pointer users resolved and every
// user's params and variables merged with its group's and domain's.
type Directory struct {
	domains []*Domain
	byName  map[string]*Domain // lower-cased name
}

// Domain is one <domain name="...">.
type Domain struct {
	Name   string
	Params []KV
	Vars   []KV
	Groups []*Group
	Users  []*User // real (non-pointer) users in file order
	Pos    Pos

	byID map[string]*User // lower-cased id and number-alias, first wins
}

// Group is one <group name="..."> with its users (pointers resolved).
type Group struct {
	Name   string
	Params []KV
	Vars   []KV
	Users  []*User
	Pos    Pos

	ids []string // every listed user id in file order, resolved after the domain is read
}

// Gateway is a <gateway> found inside a directory user (external profile
// with <domain parse="true"> registers these).
type Gateway struct {
	Name   string
	Params []KV
	Vars   []KV
	Pos    Pos
}

// User is a directory user after FreeSWITCH's merge
// (switch_xml_merge_user): the user's own params and variables in file
// order, then the group's and then the domain's that the user does not set.
// So the most specific definition wins and each name appears once across
// levels; setting Vars in order gives FreeSWITCH's result.
type User struct {
	ID, Domain, CIDR string
	Params, Vars     []KV
	Groups           []string // every group that lists the user (pointers included)

	NumberAlias string // number-alias attribute: the user is found by this too
	Mailbox     string // mailbox attribute
	Gateways    []Gateway
	Pos         Pos
	Element     *etree.Element
}

// Param returns the merged value of a <param>, "" if unset.
func (u *User) Param(name string) string { return lookupKV(u.Params, name) }

// Var returns the merged value of a <variable>, "" if unset.
func (u *User) Var(name string) string { return lookupKV(u.Vars, name) }

func lookupKV(kvs []KV, name string) string {
	for _, kv := range kvs {
		if strings.EqualFold(kv.Name, name) {
			return kv.Value
		}
	}
	return ""
}

// Param returns a domain <param>, "" if unset.
func (d *Domain) Param(name string) string { return lookupKV(d.Params, name) }

// Var returns a domain <variable>, "" if unset.
func (d *Domain) Var(name string) string { return lookupKV(d.Vars, name) }

// Domains returns the domains in file order.
func (d *Directory) Domains() []*Domain {
	if d == nil {
		return nil
	}
	return append([]*Domain(nil), d.domains...)
}

// Domain returns the domain with that name (ignoring case), nil if none.
// FreeSWITCH's directory has no domain aliases: a SIP profile's
// <domain alias="true"> only makes the name an alias of the profile.
func (d *Directory) Domain(name string) *Domain {
	if d == nil {
		return nil
	}
	return d.byName[strings.ToLower(name)]
}

// User finds a user by id or number-alias in a domain, nil if none.
func (d *Directory) User(id, domain string) *User {
	dom := d.Domain(domain)
	if dom == nil {
		return nil
	}
	return dom.byID[strings.ToLower(id)]
}

// GroupUsers returns the users of one group of a domain, pointers resolved.
func (d *Directory) GroupUsers(domain, group string) []*User {
	dom := d.Domain(domain)
	if dom == nil {
		return nil
	}
	for _, g := range dom.Groups {
		if strings.EqualFold(g.Name, group) {
			return append([]*User(nil), g.Users...)
		}
	}
	return nil
}

// kvs collects <tag name value/> from every <container> child of parent.
func kvs(parent *etree.Element, container, tag string) []KV {
	if parent == nil {
		return nil
	}
	var out []KV
	for _, c := range parent.SelectElements(container) {
		out = append(out, children(c, tag)...)
	}
	return out
}

// children collects the <tag name value/> children of e.
func children(e *etree.Element, tag string) []KV {
	var out []KV
	for _, c := range e.SelectElements(tag) {
		out = append(out, KV{c.SelectAttrValue("name", ""), c.SelectAttrValue("value", "")})
	}
	return out
}

// merge appends the entries of more whose names in is not using yet (do_merge).
func merge(in, more []KV) []KV {
	out := append([]KV(nil), in...)
	for _, kv := range more {
		found := false
		for _, have := range out {
			if strings.EqualFold(have.Name, kv.Name) {
				found = true
				break
			}
		}
		if !found {
			out = append(out, kv)
		}
	}
	return out
}

func buildDirectory(s *Snapshot, pp *preprocessor) *Directory {
	dir := &Directory{byName: map[string]*Domain{}}
	sec := s.Section("directory")
	if sec == nil {
		return dir
	}
	for _, de := range sec.SelectElements("domain") {
		dom := &Domain{
			Name:   de.SelectAttrValue("name", ""),
			Params: kvs(de, "params", "param"),
			Vars:   kvs(de, "variables", "variable"),
			Pos:    s.Pos(de),
			byID:   map[string]*User{},
		}
		key := strings.ToLower(dom.Name)
		if dom.Name == "" {
			pp.warn(dom.Pos, "directory <domain> without a name")
		} else if _, dup := dir.byName[key]; dup {
			pp.warn(dom.Pos, "directory domain %s defined again; the first definition is used", dom.Name)
		} else {
			dir.byName[key] = dom
		}
		dir.domains = append(dir.domains, dom)

		b := &domainBuilder{s: s, pp: pp, dom: dom}
		b.build(de)
	}
	return dir
}

// userPointer is a <user type="pointer">: a group member defined elsewhere in the domain.
type userPointer struct {
	id  string
	g   *Group
	pos Pos
}

// domainBuilder reads one <domain>'s groups and users into dom.
type domainBuilder struct {
	s        *Snapshot
	pp       *preprocessor
	dom      *Domain
	pointers []userPointer
}

// build reads the groups, then the users outside groups, then resolves pointers and group
// members (a member may be defined after the group that names it).
func (b *domainBuilder) build(de *etree.Element) {
	for _, gs := range de.SelectElements("groups") {
		for _, ge := range gs.SelectElements("group") {
			g := &Group{
				Name:   ge.SelectAttrValue("name", ""),
				Params: kvs(ge, "params", "param"),
				Vars:   kvs(ge, "variables", "variable"),
				Pos:    b.s.Pos(ge),
			}
			b.dom.Groups = append(b.dom.Groups, g)
			b.usersOf(ge, g)
		}
	}
	b.usersOf(de, nil)
	for _, ue := range de.SelectElements("user") {
		b.addUser(ue, nil)
	}
	for _, p := range b.pointers {
		u := b.dom.byID[strings.ToLower(p.id)]
		if u == nil {
			b.pp.warn(p.pos, "pointer to unknown user %s@%s", p.id, b.dom.Name)
			continue
		}
		if p.g != nil {
			u.Groups = append(u.Groups, p.g.Name)
		}
	}
	for _, g := range b.dom.Groups {
		for _, id := range g.ids {
			if u := b.dom.byID[strings.ToLower(id)]; u != nil {
				g.Users = append(g.Users, u)
			}
		}
		g.ids = nil
	}
}

// usersOf adds the users of parent's <users> (a domain's, or group g's).
func (b *domainBuilder) usersOf(parent *etree.Element, g *Group) {
	for _, us := range parent.SelectElements("users") {
		for _, ue := range us.SelectElements("user") {
			b.addUser(ue, g)
		}
	}
}

// addUser adds one <user> (of group g, or none) with the group's and domain's params and
// variables under its own; a pointer is kept for build to resolve.
func (b *domainBuilder) addUser(ue *etree.Element, g *Group) {
	if strings.EqualFold(ue.SelectAttrValue("type", ""), "pointer") {
		b.pointers = append(b.pointers, userPointer{ue.SelectAttrValue("id", ""), g, b.s.Pos(ue)})
		if g != nil {
			g.ids = append(g.ids, ue.SelectAttrValue("id", ""))
		}
		return
	}
	u := &User{
		ID:          ue.SelectAttrValue("id", ""),
		Domain:      b.dom.Name,
		CIDR:        ue.SelectAttrValue("cidr", ""),
		NumberAlias: ue.SelectAttrValue("number-alias", ""),
		Mailbox:     ue.SelectAttrValue("mailbox", ""),
		Params:      kvs(ue, "params", "param"),
		Vars:        kvs(ue, "variables", "variable"),
		Pos:         b.s.Pos(ue),
		Element:     ue,
	}
	if g != nil {
		u.Params = merge(u.Params, g.Params)
		u.Vars = merge(u.Vars, g.Vars)
		u.Groups = append(u.Groups, g.Name)
		g.ids = append(g.ids, u.ID)
	}
	u.Params = merge(u.Params, b.dom.Params)
	u.Vars = merge(u.Vars, b.dom.Vars)
	for _, gws := range ue.SelectElements("gateways") {
		for _, gw := range gws.SelectElements("gateway") {
			u.Gateways = append(u.Gateways, Gateway{
				Name:   gw.SelectAttrValue("name", ""),
				Params: children(gw, "param"),
				Vars:   kvs(gw, "variables", "variable"),
				Pos:    b.s.Pos(gw),
			})
		}
	}
	if u.ID == "" {
		b.pp.warn(u.Pos, "directory user without an id in domain %s", b.dom.Name)
		return
	}
	b.dom.Users = append(b.dom.Users, u)
	for _, k := range []string{u.ID, u.NumberAlias} {
		if k == "" {
			continue
		}
		lk := strings.ToLower(k)
		if prev, dup := b.dom.byID[lk]; dup {
			if k == u.ID {
				b.pp.warn(u.Pos, "user %s@%s defined again (first at %s); the first is used", k, b.dom.Name, prev.Pos)
			}
			continue
		}
		b.dom.byID[lk] = u
	}
}
