package acl

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/goswitch/goswitch/core/xmlconf"
)

const conf = `<document type="freeswitch/xml">
<section name="configuration">
<configuration name="acl.conf">
  <network-lists>
    <list name="lan" default="allow">
      <node type="deny" cidr="192.168.42.0/24"/>
      <node type="allow" cidr="192.168.42.42/32"/>
    </list>
    <list name="domains" default="deny">
      <node type="allow" domain="example.com"/>
    </list>
    <list name="hm" default="deny">
      <node type="allow" host="10.1.0.0" mask="255.255.0.0"/>
    </list>
  </network-lists>
</configuration>
</section>
<section name="directory">
  <domain name="example.com">
    <groups><group name="default"><users>
      <user id="brian" cidr="192.0.2.0/24"><params><param name="password" value="x"/></params></user>
    </users></group></groups>
  </domain>
</section>
</document>`

func load(t *testing.T) *Set {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "freeswitch.xml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	snap, err := xmlconf.Load(xmlconf.Options{Dir: dir, Globals: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(snap)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLists(t *testing.T) {
	s := load(t)
	cases := []struct {
		list, ip string
		want     bool
	}{
		{"lan", "192.168.42.1", false},
		{"lan", "192.168.42.42", true},
		{"lan", "8.8.8.8", true},
		{"domains", "192.0.2.7", true},
		{"domains", "192.0.3.7", false},
		{"hm", "10.1.200.1", true},
		{"hm", "10.2.0.1", false},
		{"loopback.auto", "127.0.0.1", true},
		{"loopback.auto", "::1", true},
		{"loopback.auto", "10.0.0.1", false},
		{"rfc1918.auto", "172.20.1.1", true},
		{"rfc1918.auto", "8.8.8.8", false},
		{"wan.auto", "8.8.8.8", true},
		{"nope", "127.0.0.1", false},
		{"127.0.0.0/8", "127.0.0.1", true},
		{"LAN", "192.168.42.42", true},
	}
	for _, c := range cases {
		if got := s.Check(c.list, netip.MustParseAddr(c.ip)); got != c.want {
			t.Errorf("Check(%s, %s) = %v, want %v", c.list, c.ip, got, c.want)
		}
	}
	r := s.CheckToken("domains", netip.MustParseAddr("192.0.2.9"))
	if r.Token != "brian" || r.Domain != "example.com" {
		t.Errorf("token %+v", r)
	}
	if !s.Check("localnet.auto", netip.MustParseAddr("127.0.0.1")) {
		t.Error("localnet.auto should contain loopback's net")
	}
}

func BenchmarkCheck(b *testing.B) {
	s, _ := New(nil)
	ip := netip.MustParseAddr("192.168.1.1")
	b.ReportAllocs()
	for b.Loop() {
		s.Check("rfc1918.auto", ip)
	}
}
