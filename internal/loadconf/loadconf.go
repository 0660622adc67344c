// Package loadconf writes the goswitch configuration the load tools run against
// (scripts/loadgen's test, scripts/bench): the one scripts/load-sip.sh generates, with an event
// socket to count channels and a user to authenticate the CPS calls.
//
//	internal profile (SIPPort, auth-calls) -> context load:
//	  echo          answer + echo                         (CPS ramp, SIPp uac_auth.xml)
//	  b<N>          bridge sofia/external/b<N>@UAS         (bridged calls, the loadgen)
//	external profile (SIPPort+20) places the B legs to UAS (the loadgen's SIP address).
package loadconf

import (
	"fmt"
	"os"
	"path/filepath"
)

// Config is what differs between runs; zero values take the defaults.
type Config struct {
	SIPPort  int    // internal profile; external is SIPPort+20
	ESLPort  int    // event socket on 127.0.0.1
	ESLPass  string // default "loadtest"
	UAS      string // host:port the B legs go to
	User     string // authenticated caller, default "1000"
	Pass     string // its password, default "load1234"
	Metrics  string // -metrics equivalent in switch.conf (metrics-listen), default 127.0.0.1:8080
	AuthCall bool   // challenge INVITEs on the internal profile
	RTPStart int    // first RTP port of the internal profile, default 20000; external uses the next 20000
	MaxLagMs string // switch.conf max-scheduling-lag-ms ("0": no overload shedding); empty: goswitch's default
}

func (c *Config) defaults() {
	if c.ESLPass == "" {
		c.ESLPass = "loadtest"
	}
	if c.User == "" {
		c.User = "1000"
	}
	if c.Pass == "" {
		c.Pass = "load1234"
	}
	if c.Metrics == "" {
		c.Metrics = "127.0.0.1:8080"
	}
	if c.RTPStart == 0 {
		c.RTPStart = 20000
	}
}

// Write writes dir/freeswitch.xml, creating dir.
func Write(dir string, c Config) error {
	c.defaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	half := (65000 - c.RTPStart) / 2
	lag := ""
	if c.MaxLagMs != "" {
		lag = fmt.Sprintf(`<param name="max-scheduling-lag-ms" value="%s"/>`, c.MaxLagMs)
	}
	xml := fmt.Sprintf(tmpl, c.Metrics, lag, c.ESLPort, c.ESLPass,
		c.SIPPort, c.AuthCall, c.RTPStart, c.RTPStart+half-2,
		c.SIPPort+20, c.RTPStart+half, c.RTPStart+2*half-2,
		c.User, c.Pass, c.UAS)
	return os.WriteFile(filepath.Join(dir, "freeswitch.xml"), []byte(xml), 0o644)
}

const tmpl = `<?xml version="1.0"?>
<document type="freeswitch/xml">
<section name="configuration">
  <configuration name="switch.conf"><settings>
    <param name="max-sessions" value="20000"/><param name="sessions-per-second" value="5000"/>
    <param name="loglevel" value="warning"/><param name="metrics-listen" value="%s"/>%s
  </settings></configuration>
  <configuration name="modules.conf"><modules>
    <load module="mod_sofia"/><load module="mod_event_socket"/><load module="mod_commands"/><load module="mod_dptools"/>
  </modules></configuration>
  <configuration name="event_socket.conf"><settings>
    <param name="listen-ip" value="127.0.0.1"/><param name="listen-port" value="%d"/><param name="password" value="%s"/>
  </settings></configuration>
  <configuration name="sofia.conf"><profiles>
    <profile name="internal"><settings>
      <param name="sip-ip" value="127.0.0.1"/><param name="rtp-ip" value="127.0.0.1"/>
      <param name="sip-port" value="%d"/><param name="context" value="load"/>
      <param name="auth-calls" value="%t"/><param name="inbound-codec-prefs" value="PCMU,PCMA"/>
      <param name="rtp-start-port" value="%d"/><param name="rtp-end-port" value="%d"/>
    </settings></profile>
    <profile name="external"><settings>
      <param name="sip-ip" value="127.0.0.1"/><param name="rtp-ip" value="127.0.0.1"/>
      <param name="sip-port" value="%d"/><param name="context" value="load"/>
      <param name="auth-calls" value="false"/><param name="outbound-codec-prefs" value="PCMU"/>
      <param name="rtp-start-port" value="%d"/><param name="rtp-end-port" value="%d"/>
    </settings></profile>
  </profiles></configuration>
</section>
<section name="directory"><domain name="127.0.0.1"><users>
  <user id="%s"><params><param name="password" value="%s"/></params>
    <variables><variable name="user_context" value="load"/></variables></user>
</users></domain></section>
<section name="dialplan">
  <context name="load">
    <extension name="echo"><condition field="destination_number" expression="^echo$">
      <action application="answer"/><action application="echo"/></condition></extension>
    <extension name="answer"><condition field="destination_number" expression="^answer$">
      <action application="answer"/><action application="park"/></condition></extension>
    <extension name="bridge"><condition field="destination_number" expression="^b(\d+)$">
      <action application="bridge" data="sofia/external/b$1@%s"/></condition></extension>
  </context>
</section>
</document>
`
