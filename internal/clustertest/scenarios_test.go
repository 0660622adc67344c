package clustertest

import (
	"fmt"
	"strings"
)

// SIPp scenarios of the cluster phones. Every request goes to Kamailio; in-dialog requests
// follow the Record-Route set ([routes]) to the node that took the call.

// registerBlind: one REGISTER (the nodes run accept-blind-reg) answered 200.
const registerBlind = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="blind register">
  <send retrans="500">
    <![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:[service]@[domain]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[domain]>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:[service]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Expires: 300
      User-Agent: SIPp
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
</scenario>
`

// mwiPhone registers, answers the MWI NOTIFY that follows the registration (the node's answer
// to its MESSAGE_QUERY) and then waits for the NOTIFY that says a message is waiting.
const mwiPhone = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="mwi phone">
  <send retrans="500">
    <![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:[service]@[domain]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[domain]>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:[service]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Expires: 300
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
  <recv request="NOTIFY">
    <action><ereg regexp="Messages-Waiting: no" search_in="body" check_it="true" assign_to="no"/></action>
  </recv>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <recv request="NOTIFY">
    <action>
      <ereg regexp="Messages-Waiting: yes" search_in="body" check_it="true" assign_to="yes"/>
      <ereg regexp="Voice-Message: 1/0" search_in="body" check_it="true" assign_to="count"/>
    </action>
  </recv>
  <Reference variables="no,yes,count"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
</scenario>
`

// whoamiScenario: INVITE whoami, expecting the given node's answer code, ACKed.
const whoamiScenario = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="whoami">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[dest]@[domain] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:probe@[domain]>;tag=[pid]W[call_number]
      To: <sip:[dest]@[domain]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:probe@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="%d"/>
  <send>
    <![CDATA[
      ACK sip:[dest]@[domain] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:probe@[domain]>;tag=[pid]W[call_number]
      To: <sip:[dest]@[domain]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
</scenario>
`

const inviteHead = `
      INVITE sip:[dest]@[domain] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:[service]@[domain]>;tag=[pid]C[call_number]
      To: <sip:[dest]@[domain]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:[service]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=phone 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [auto_media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
      a=ptime:20
`

const inDialog = `
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      [routes]
      From: <sip:[service]@[domain]>;tag=[pid]C[call_number]
      To: <sip:[dest]@[domain]>[peer_tag_param]
      Call-ID: [call_id]
      Max-Forwards: 70`

// callerScenario calls [dest], streams tone.raw for -d ms (with the given actions in the
// middle: INFO digits), then hangs up.
func callerScenario(middle string) string {
	return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="cluster caller">
  <send retrans="500"><![CDATA[` + inviteHead + `
    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
      ACK [next_url] SIP/2.0` + inDialog + `
      CSeq: 1 ACK
      Content-Length: 0

    ]]></send>
  <nop><action><exec rtp_stream="tone.raw,-1,0"/></action></nop>
` + middle + `
  <pause/>
  <nop><action><exec rtp_stream="pause"/></action></nop>
  <send retrans="500"><![CDATA[
      BYE [next_url] SIP/2.0` + inDialog + `
      CSeq: 3 BYE
      Content-Length: 0

    ]]></send>
  <recv response="200" crlf="true"/>
</scenario>
`
}

// mediaCaller is callerScenario for a phone whose media is an rtpPhone (key rtpport): the SDP
// offers that port and SIPp itself sends no RTP.
func mediaCaller(middle string) string {
	s := strings.Replace(callerScenario(middle), "[auto_media_port]", "[rtpport]", 1)
	s = strings.Replace(s, `  <nop><action><exec rtp_stream="tone.raw,-1,0"/></action></nop>
`, "", 1)
	return strings.Replace(s, `  <nop><action><exec rtp_stream="pause"/></action></nop>
`, "", 1)
}

// infoDigit sends one digit as application/dtmf-relay after a pause of ms.
func infoDigit(ms int, digit string) string {
	return `  <pause milliseconds="` + itoa(ms) + `"/>
  <send retrans="500"><![CDATA[
      INFO [next_url] SIP/2.0` + inDialog + `
      CSeq: 2 INFO
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal=` + digit + `
      Duration=160
    ]]></send>
  <recv response="200"/>
`
}

// calleeEcho answers one call (RTP echoed by -rtp_echo) and the BYE.
const calleeEcho = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="cluster callee">
  <recv request="INVITE"/>
  <send retrans="500"><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_Record-Route:]
      [last_From:]
      [last_To:];tag=[pid]E[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[service]@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=phone 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
      a=ptime:20

    ]]></send>
  <recv request="ACK" crlf="true"/>
  <recv request="BYE"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
</scenario>
`

const okReply = `  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
`

// blfWatcher subscribes [service] to the dialog package of [dest] (auth-subscriptions is off),
// then answers NOTIFYs until one shows the dialog confirmed and then until one shows it
// terminated (SIPp has no loops: the waits are unrolled, each jumping on once it matched).
func blfWatcher() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="blf watcher">
  <send retrans="500"><![CDATA[
      SUBSCRIBE sip:[dest]@[domain] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:[service]@[domain]>;tag=[pid]B[call_number]
      To: <sip:[dest]@[domain]>
      Call-ID: [call_id]
      CSeq: 1 SUBSCRIBE
      Contact: <sip:[service]@[local_ip]:[local_port]>
      Event: dialog
      Accept: application/dialog-info+xml
      Expires: 120
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv response="200" optional="true"/>
  <recv response="202"/>
  <recv request="NOTIFY"/>
` + okReply)
	for i, state := range []string{"confirmed", "terminated"} {
		for range 8 {
			fmt.Fprintf(&b, `  <recv request="NOTIFY"><action>
    <ereg regexp="&lt;state&gt;%s&lt;/state&gt;" search_in="body" check_it="false" assign_to="%s"/>
  </action></recv>
`, state, state)
			b.WriteString(strings.Replace(okReply, "<send>", fmt.Sprintf(`<send next="%d" test="%s">`, i+1, state), 1))
		}
		fmt.Fprintf(&b, "  <label id=\"%d\"/>\n", i+1)
	}
	b.WriteString("</scenario>\n")
	return b.String()
}
