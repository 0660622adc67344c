package xmlconf

import (
	"strings"
	"testing"
)

const dirXML = `<document type="freeswitch/xml">
<section name="directory">
  <domain name="Example.COM">
    <params>
      <param name="dial-string" value="{presence_id=${dialed_user}@${dialed_domain}}${sofia_contact(*/${dialed_user}@${dialed_domain})}"/>
      <param name="shared" value="domain"/>
    </params>
    <variables>
      <variable name="user_context" value="domain-ctx"/>
      <variable name="record_stereo" value="true"/>
    </variables>
    <groups>
      <group name="default">
        <params><param name="shared" value="group"/></params>
        <variables><variable name="callgroup" value="g"/></variables>
        <users>
          <user id="1000" number-alias="200" cidr="192.0.2.0/24">
            <params><param name="password" value="secret"/></params>
            <variables>
              <variable name="user_context" value="default"/>
              <variable name="accountcode" value="1000"/>
            </variables>
            <gateways>
              <gateway name="gw1">
                <param name="username" value="joe"/>
                <variables><variable name="v" value="1"/></variables>
              </gateway>
            </gateways>
          </user>
          <user id="1001"/>
          <user id="1000"/>
        </users>
      </group>
      <group name="sales">
        <users>
          <user id="1001" type="pointer"/>
          <user id="1002"/>
          <user id="1000" type="pointer"/>
          <user id="9999" type="pointer"/>
        </users>
      </group>
    </groups>
  </domain>
  <domain name="flat.test">
    <users><user id="a"/></users>
    <user id="b"/>
  </domain>
  <domain name="example.com"/>
</section>
</document>
`

func TestDirectory(t *testing.T) {
	s, err := Load(Options{FS: tree(map[string]string{"freeswitch.xml": dirXML}), Globals: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	d := s.Directory()
	if n := len(d.Domains()); n != 3 {
		t.Fatalf("%d domains", n)
	}
	tests := []struct {
		id, domain string
		param, pv  string
		v, vv      string
		groups     string
	}{
		{"1000", "example.com", "password", "secret", "user_context", "default", "default,sales"},
		{"200", "EXAMPLE.com", "shared", "group", "record_stereo", "true", "default,sales"},
		{"1000", "example.com", "dial-string", "{presence_id=${dialed_user}@${dialed_domain}}${sofia_contact(*/${dialed_user}@${dialed_domain})}", "callgroup", "g", "default,sales"},
		{"1001", "example.com", "shared", "group", "user_context", "domain-ctx", "default,sales"},
		{"1002", "example.com", "shared", "domain", "callgroup", "", "sales"},
		{"a", "flat.test", "password", "", "x", "", ""},
		{"b", "flat.test", "password", "", "x", "", ""},
	}
	for _, tt := range tests {
		u := d.User(tt.id, tt.domain)
		if u == nil {
			t.Errorf("User(%s, %s) = nil", tt.id, tt.domain)
			continue
		}
		if got := u.Param(tt.param); got != tt.pv {
			t.Errorf("%s@%s param %s = %q, want %q", tt.id, tt.domain, tt.param, got, tt.pv)
		}
		if got := u.Var(tt.v); got != tt.vv {
			t.Errorf("%s@%s var %s = %q, want %q", tt.id, tt.domain, tt.v, got, tt.vv)
		}
		if got := strings.Join(u.Groups, ","); got != tt.groups {
			t.Errorf("%s@%s groups = %q, want %q", tt.id, tt.domain, got, tt.groups)
		}
	}
	u := d.User("1000", "example.com")
	if u.CIDR != "192.0.2.0/24" || u.NumberAlias != "200" || u.Domain != "Example.COM" {
		t.Errorf("attributes: %+v", u)
	}
	// Merge order as switch_xml_merge_user: user's own, then group's, then domain's.
	var names []string
	for _, kv := range u.Vars {
		names = append(names, kv.Name+"="+kv.Value)
	}
	if got := strings.Join(names, " "); got != "user_context=default accountcode=1000 callgroup=g record_stereo=true" {
		t.Errorf("merged vars: %s", got)
	}
	if len(u.Gateways) != 1 || u.Gateways[0].Name != "gw1" || lookupKV(u.Gateways[0].Params, "username") != "joe" || lookupKV(u.Gateways[0].Vars, "v") != "1" {
		t.Errorf("gateways: %+v", u.Gateways)
	}
	if got := s.Pos(u.Element).String(); got != "freeswitch.xml:17" {
		t.Errorf("user pos %s", got)
	}
	var ids []string
	for _, u := range d.GroupUsers("example.com", "SALES") {
		ids = append(ids, u.ID)
	}
	if got := strings.Join(ids, ","); got != "1001,1002,1000" {
		t.Errorf("sales = %s", got)
	}
	if d.User("nobody", "example.com") != nil || d.User("1000", "nowhere") != nil || d.GroupUsers("example.com", "none") != nil {
		t.Error("lookups of absent things not nil")
	}
	if d.Domain("example.com").Var("record_stereo") != "true" {
		t.Error("domain var")
	}
	var warns []string
	for _, w := range s.Warnings() {
		warns = append(warns, w.String())
	}
	all := strings.Join(warns, "\n")
	for _, want := range []string{
		"freeswitch.xml:31: warning: user 1000@Example.COM defined again (first at freeswitch.xml:17)",
		"freeswitch.xml:39: warning: pointer to unknown user 9999@Example.COM",
		"freeswitch.xml:48: warning: directory domain example.com defined again",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing warning %q in\n%s", want, all)
		}
	}
}
