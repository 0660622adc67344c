package main

import (
	"crypto/md5"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckSecurity: the unsafe defaults the daemon refuses are check errors: ESL ClueCon on a
// non-loopback address and directory passwords 1234 / empty / a1-hash-of-1234 while a profile
// listens beyond loopback. The same tree with real secrets (or loopback only) is clean.
func TestCheckSecurity(t *testing.T) {
	const tree = `<?xml version="1.0"?>
<document type="freeswitch/xml">
<section name="configuration">
  <configuration name="event_socket.conf"><settings>
    <param name="listen-ip" value="{{esl_ip}}"/>
    <param name="password" value="{{esl_pass}}"/>
  </settings></configuration>
  <configuration name="sofia.conf"><profiles>
    <profile name="external"><settings>
      <param name="sip-ip" value="{{sip_ip}}"/>
    </settings></profile>
  </profiles></configuration>
</section>
<section name="directory">
  <domain name="pbx.example.com"><groups><group name="default"><users>
    <user id="1000"><params><param name="password" value="{{pass}}"/></params></user>
    <user id="1001"><params><param name="a1-hash" value="{{a1}}"/></params></user>
  </users></group></groups></domain>
</section>
</document>
`
	tests := []struct {
		name                               string
		eslIP, eslPass, sipIP, pass, a1pwd string
		want                               []string
		code                               int
	}{
		{"unsafe", "0.0.0.0", "ClueCon", "192.0.2.10", "1234", "1234", []string{
			"freeswitch.xml:6: event socket listens on 0.0.0.0 with the default password ClueCon: goswitch refuses to open it",
			"freeswitch.xml:16: 2 user(s) of domain pbx.example.com have a default or empty password (1000, 1001; default password 1234): profile external (192.0.2.10) listens beyond loopback",
			" 2 error(s)"}, 1},
		{"esl on ::", "::", "ClueCon", "127.0.0.1", "1234", "1234", []string{"event socket listens on :: with the default password ClueCon", " 1 error(s)"}, 1},
		{"empty password", "127.0.0.1", "ClueCon", "192.0.2.10", "", "s3cret", []string{"1 user(s) of domain pbx.example.com have a default or empty password (1000; empty password)", " 1 error(s)"}, 1},
		{"loopback only", "127.0.0.1", "ClueCon", "127.0.0.1", "1234", "1234", []string{" 0 error(s)"}, 0},
		{"real secrets", "0.0.0.0", "Xk3-secret", "192.0.2.10", "Tr0ub4dor", "s3cret", []string{" 0 error(s)"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			r := strings.NewReplacer("{{esl_ip}}", tt.eslIP, "{{esl_pass}}", tt.eslPass, "{{sip_ip}}", tt.sipIP,
				"{{pass}}", tt.pass, "{{a1}}", md5sum("1001:pbx.example.com:"+tt.a1pwd))
			if err := os.WriteFile(filepath.Join(dir, "freeswitch.xml"), []byte(r.Replace(tree)), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, _ := runCheckT(t, "-conf", dir)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s", code, tt.code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func md5sum(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestInsecureFlag(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want bool
	}{{nil, false}, {[]string{"-insecure"}, true}} {
		o, err := parseFlags(tt.args, io.Discard)
		if err != nil || o.insecure != tt.want {
			t.Errorf("parseFlags(%q): insecure=%v err=%v", tt.args, o != nil && o.insecure, err)
		}
	}
}
