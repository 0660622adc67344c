package clustertest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// nodeConf writes one node's freeswitch.xml: the cluster settings of conf/cluster/node (one
// PostgreSQL for registrations and the voicemail index, voicemail audio on storage both nodes
// use), a directory, and a dialplan that bridges user/ calls and reaches voicemail.
func (c *cluster) nodeConf(name, ip, dsn string) string {
	conf := filepath.Join(c.dir, name, "conf")
	if err := os.MkdirAll(conf, 0o755); err != nil {
		c.t.Fatal(err)
	}
	var users strings.Builder
	for i := 1000; i < 1010; i++ {
		extra := ""
		if i >= 1005 { // MWI phones: unsolicited NOTIFYs to the registration
			extra = `<param name="send-message-query-on-register" value="true"/>`
		}
		fmt.Fprintf(&users, `<user id="%d"><params><param name="password" value="x"/><param name="vm-password" value="1234"/>%s</params></user>`, i, extra)
	}
	xml := `<?xml version="1.0"?>
<document type="freeswitch/xml">
<section name="configuration">
  <configuration name="switch.conf"><settings>
    <param name="switchname" value="` + name + `"/>
    <param name="core-db-dsn" value="` + dsn + `"/>
    <param name="max-db-handles" value="4"/><param name="loglevel" value="info"/>
  </settings></configuration>
  <configuration name="modules.conf"><modules>
    <load module="mod_sofia"/><load module="mod_dptools"/><load module="mod_commands"/><load module="mod_dialplan_xml"/>
    <load module="mod_voicemail"/><load module="mod_cdr_csv"/><load module="mod_event_socket"/>
    <load module="mod_db"/><load module="mod_sndfile"/><load module="mod_tone_stream"/><load module="mod_say_en"/>
    <load module="mod_conference"/>
  </modules></configuration>
  <configuration name="event_socket.conf"><settings>
    <param name="listen-ip" value="` + ip + `"/><param name="listen-port" value="8021"/><param name="password" value="ClueCon"/>
  </settings></configuration>
  <configuration name="cdr_csv.conf"><settings>
    <param name="legs" value="ab"/><param name="default-template" value="cluster"/><param name="master-file-only" value="true"/>
    <param name="sqlite" value="true"/><param name="db-dsn" value="` + dsn + `"/>
  </settings><templates>
    <template name="cluster">"${sip_call_id}","${uuid}","${rtp_audio_in_packet_count}","${rtp_audio_out_packet_count}","${destination_number}"</template>
  </templates></configuration>
  <configuration name="voicemail.conf"><settings>
    <param name="odbc-dsn" value="` + dsn + `"/>
  </settings><profiles><profile name="default">
    <param name="storage-dir" value="` + c.voice + `"/><param name="min-record-len" value="1"/>
  </profile></profiles></configuration>
  <configuration name="conference.conf"><profiles><profile name="default">
    <param name="rate" value="8000"/><param name="interval" value="20"/><param name="energy-level" value="100"/>
    <param name="comfort-noise" value="false"/>
  </profile></profiles></configuration>
  <configuration name="sofia.conf"><profiles>
    <profile name="internal"><settings>
      <param name="sip-ip" value="` + ip + `"/><param name="rtp-ip" value="` + ip + `"/>
      <param name="sip-port" value="5060"/><param name="context" value="default"/>
      <param name="auth-calls" value="false"/><param name="accept-blind-reg" value="true"/>
      <param name="odbc-dsn" value="` + dsn + `"/><param name="inbound-codec-prefs" value="PCMU"/>
      <param name="mwi-use-reg-callid" value="true"/><param name="auth-subscriptions" value="false"/>
      <param name="manage-presence" value="true"/>
    </settings></profile>
  </profiles></configuration>
</section>
<section name="directory"><domain name="` + domain + `">
  <params><param name="dial-string" value="{presence_id=${dialed_user}@${dialed_domain}}${sofia_contact(*/${dialed_user}@${dialed_domain})}"/></params>
  <groups><group name="default"><users>` + users.String() + `</users></group></groups>
</domain></section>
<section name="dialplan"><context name="default">
  <extension name="whoami"><condition field="destination_number" expression="^whoami$">
    <action application="respond" data="` + fmt.Sprint(whoamiCode[name]) + `"/></condition></extension>
  <extension name="vm"><condition field="destination_number" expression="^vm-(10\d\d)$">
    <action application="answer"/><action application="voicemail" data="default ` + domain + ` $1"/></condition></extension>
  <extension name="vmcheck"><condition field="destination_number" expression="^vmcheck-(10\d\d)$">
    <action application="answer"/><action application="voicemail" data="check auth default ` + domain + ` $1"/></condition></extension>
  <extension name="limited"><condition field="destination_number" expression="^limited$">
    <action application="limit" data="db cluster trunk 1 !USER_BUSY"/>
    <action application="answer"/><action application="park"/></condition></extension>
  <extension name="conference-probe"><condition field="destination_number" expression="^(33[89]\d)$">
    <action application="respond" data="` + fmt.Sprint(whoamiCode[name]) + `"/></condition></extension>
  <extension name="conference"><condition field="destination_number" expression="^(3[0-3]\d\d)$">
    <action application="answer"/><action application="conference" data="$1-` + domain + `@default"/></condition></extension>
  <extension name="users"><condition field="destination_number" expression="^(10\d\d)$">
    <action application="bridge" data="user/$1@` + domain + `"/></condition></extension>
</context></section>
</document>`
	if err := os.WriteFile(filepath.Join(conf, "freeswitch.xml"), []byte(xml), 0o644); err != nil {
		c.t.Fatal(err)
	}
	return conf
}
