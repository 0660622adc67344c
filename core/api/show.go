package api

import (
	"context"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/goswitch/goswitch/core"
	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/media"
)

func init() {
	register("show", "codec|endpoint|application|api|dialplan|file|timer|calls [count]|channels [count|like <match string>]|calls|detailed_calls|bridged_calls|detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|interfaces|interface_types|tasks|limits|status", "Show various reports", apiShow)
	register("help", "", "Show help for all the api commands", func(ctx context.Context, h *core.Host, args string, w io.Writer) error {
		return apiShow(ctx, h, "api "+args, w)
	})
}

// table is one `show` result.
type table struct {
	cols []string
	rows [][]string
}

var channelCols = strings.Split("uuid,direction,created,created_epoch,name,state,cid_name,cid_num,ip_addr,dest,application,application_data,dialplan,context,read_codec,read_rate,read_bit_rate,write_codec,write_rate,write_bit_rate,secure,hostname,presence_id,presence_data,accountcode,callstate,callee_name,callee_num,callee_direction,call_uuid,sent_callee_name,sent_callee_num,initial_cid_name,initial_cid_num,initial_ip_addr,initial_dest,initial_dialplan,initial_context", ",")

// callCols is FreeSWITCH's basic_calls view (switch_core_sqldb.c).
var callCols = strings.Split("uuid,direction,created,created_epoch,name,state,cid_name,cid_num,ip_addr,dest,presence_id,presence_data,callstate,callee_name,callee_num,callee_direction,call_uuid,hostname,sent_callee_name,sent_callee_num,b_uuid,b_direction,b_created,b_created_epoch,b_name,b_state,b_cid_name,b_cid_num,b_ip_addr,b_dest,b_presence_id,b_presence_data,b_callstate,b_callee_name,b_callee_num,b_callee_direction,b_call_uuid,b_sent_callee_name,b_sent_callee_num,call_created_epoch", ",")

var regCols = strings.Split("reg_user,realm,token,url,expires,network_ip,network_port,network_proto,hostname,metadata", ",")

// channelRow is a channel as the core db's channels table holds it.
func channelRow(h *core.Host, s *core.Session) map[string]string {
	p := s.Profile()
	app, data := s.CurrentApp()
	created := s.Created()
	m := map[string]string{
		"uuid": s.UUID(), "direction": s.Direction().String(),
		"created": created.Local().Format("2006-01-02 15:04:05"), "created_epoch": strconv.FormatInt(created.Unix(), 10),
		"name": s.Name(), "state": s.State().String(), "cid_name": p.CallerIDName, "cid_num": p.CallerIDNumber,
		"ip_addr": p.NetworkAddr, "dest": p.DestNumber, "application": app, "application_data": data,
		"dialplan": p.Dialplan, "context": p.Context, "hostname": h.Bus.Identity().Hostname,
		"presence_id": s.Var("presence_id"), "presence_data": s.Var("presence_data"),
		"accountcode": s.Var("accountcode"), "callstate": s.CallState().String(),
		"callee_name": p.CalleeIDName, "callee_num": p.CalleeIDNumber,
		"call_uuid":        firstNonEmpty(s.Var("call_uuid"), s.UUID()),
		"initial_cid_name": p.CallerIDName, "initial_cid_num": p.CallerIDNumber, "initial_ip_addr": p.NetworkAddr,
		"initial_dest": p.DestNumber, "initial_dialplan": p.Dialplan, "initial_context": p.Context,
	}
	if p.CalleeIDNumber != "" {
		m["callee_direction"] = "SEND"
	}
	if port := s.Port(); port != nil {
		c := port.Codec()
		rate := strconv.Itoa(c.SampleRate)
		br := strconv.Itoa(bitRate(c))
		m["read_codec"], m["read_rate"], m["read_bit_rate"] = c.Name, rate, br
		m["write_codec"], m["write_rate"], m["write_bit_rate"] = c.Name, rate, br
	}
	if v := s.Var("rtp_secure_media_confirmed"); v == "true" {
		m["secure"] = "srtp:" + s.Var("rtp_has_crypto")
	}
	return m
}

func bitRate(c media.CodecInfo) int {
	switch strings.ToUpper(c.Name) {
	case "PCMU", "PCMA", "G722":
		return 64000
	case "L16":
		return c.SampleRate * 16
	case "OPUS":
		return 0
	}
	return 0
}

func rowOf(cols []string, m map[string]string) []string {
	r := make([]string, len(cols))
	for i, c := range cols {
		r[i] = m[c]
	}
	return r
}

func channelsTable(h *core.Host, like string) table {
	t := table{cols: channelCols}
	for _, s := range h.Sessions() {
		m := channelRow(h, s)
		if like != "" && !matchesLike(m, like) {
			continue
		}
		t.rows = append(t.rows, rowOf(channelCols, m))
	}
	return t
}

func matchesLike(m map[string]string, like string) bool {
	for _, k := range []string{"uuid", "name", "cid_name", "cid_num", "dest", "presence_id", "presence_data", "accountcode", "callee_name", "callee_num"} {
		if strings.Contains(m[k], like) {
			return true
		}
	}
	return false
}

// callsTable is the basic_calls view: A-legs joined with their B-legs; channels without a partner
// appear alone, B-legs of a call do not appear on their own.
func callsTable(h *core.Host, bridgedOnly bool) table {
	t := table{cols: callCols}
	for _, s := range h.Sessions() {
		if s.Originator() != nil {
			continue
		}
		if p := s.Peer(); p != nil && p.Created().Before(s.Created()) {
			continue
		}
		b := s.Peer()
		if b == nil {
			b = s.Originatee()
		}
		if bridgedOnly && s.Peer() == nil {
			continue
		}
		a := channelRow(h, s)
		m := map[string]string{}
		for k, v := range a {
			m[k] = v
		}
		m["call_created_epoch"] = a["created_epoch"]
		if b != nil {
			for k, v := range channelRow(h, b) {
				m["b_"+k] = v
			}
		}
		t.rows = append(t.rows, rowOf(callCols, m))
	}
	return t
}

func registrationsTable(h *core.Host) table {
	t := table{cols: regCols}
	host := h.Bus.Identity().Hostname
	for _, r := range h.Registrations() {
		m := map[string]string{
			"reg_user": r.User, "realm": r.Realm, "token": r.Token, "url": r.URL,
			"expires": strconv.FormatInt(r.Expires, 10), "network_ip": r.NetworkIP,
			"network_port": strconv.Itoa(r.NetworkPort), "network_proto": r.NetworkProto,
			"hostname": host, "metadata": r.Metadata,
		}
		t.rows = append(t.rows, rowOf(regCols, m))
	}
	return t
}

func interfaceTable(kind string) table {
	t := table{cols: []string{"type", "name", "ikey"}}
	switch kind {
	case "application":
		t.cols = []string{"name", "description", "syntax", "ikey"}
		for _, a := range core.Apps() {
			if strings.HasPrefix(a.Name, "_") {
				continue
			}
			t.rows = append(t.rows, []string{a.Name, a.Short, a.Syntax, a.Module})
		}
	case "api":
		t.cols = []string{"name", "description", "syntax", "ikey"}
		for _, a := range core.APIs() {
			t.rows = append(t.rows, []string{a.Name, a.Short, a.Syntax, a.Module})
		}
	case "codec":
		seen := map[string]bool{}
		for _, c := range media.Codecs() {
			name, module := codecIface(c.Name)
			if name == "" || seen[name] {
				continue
			}
			seen[name] = true
			t.rows = append(t.rows, []string{"codec", name, module})
		}
	case "endpoint":
		for _, e := range core.Endpoints() {
			t.rows = append(t.rows, []string{"endpoint", e.Name, e.Module})
		}
	case "dialplan":
		for _, d := range core.Dialplans() {
			t.rows = append(t.rows, []string{"dialplan", d.Name, "mod_dialplan_xml"})
		}
	case "modules":
		t.cols = []string{"type", "name", "ikey", "filename"}
		for _, m := range moduleNames() {
			t.rows = append(t.rows, []string{"module", m, m, "built-in"})
		}
	case "interfaces":
		for _, r := range interfaceTable("application").rows {
			t.rows = append(t.rows, []string{"application", r[0], r[3]})
		}
		for _, r := range interfaceTable("api").rows {
			t.rows = append(t.rows, []string{"api", r[0], r[3]})
		}
		t.rows = append(t.rows, interfaceTable("codec").rows...)
		t.rows = append(t.rows, interfaceTable("dialplan").rows...)
		t.rows = append(t.rows, interfaceTable("endpoint").rows...)
	}
	return t
}

// moduleNames lists every module name the registries mention, sorted.
func moduleNames() []string {
	set := map[string]bool{}
	for _, m := range core.Modules() {
		set[m.Name] = true
	}
	for _, a := range core.Apps() {
		if a.Module != "" {
			set[a.Module] = true
		}
	}
	for _, a := range core.APIs() {
		if a.Module != "" {
			set[a.Module] = true
		}
	}
	for _, e := range core.Endpoints() {
		if e.Module != "" {
			set[e.Module] = true
		}
	}
	if len(core.Dialplans()) > 0 {
		set["mod_dialplan_xml"] = true
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func apiShow(_ context.Context, h *core.Host, args string, w io.Writer) error {
	words := strings.Fields(args)
	// trailing "as json|xml|delim <d>"
	format, delim := "", ","
	for i := 0; i+1 < len(words); i++ {
		if strings.EqualFold(words[i], "as") {
			format = strings.ToLower(words[i+1])
			if format == "delim" && i+2 < len(words) {
				delim = words[i+2]
			}
			words = words[:i]
			break
		}
	}
	if len(words) == 0 {
		return write(w, "-USAGE: "+showSyntax()+"\n")
	}
	count := false
	var t table
	switch what := strings.ToLower(words[0]); what {
	case "channels", "detailed_channels":
		like := ""
		if len(words) > 1 {
			switch strings.ToLower(words[1]) {
			case "count":
				count = true
			case "like":
				if len(words) > 2 {
					like = words[2]
				}
			}
		}
		t = channelsTable(h, like)
	case "calls", "detailed_calls", "bridged_calls", "detailed_bridged_calls":
		count = len(words) > 1 && strings.EqualFold(words[1], "count")
		t = callsTable(h, strings.Contains(what, "bridged"))
	case "registrations":
		count = len(words) > 1 && strings.EqualFold(words[1], "count")
		t = registrationsTable(h)
	case "application", "api", "codec", "endpoint", "dialplan", "modules", "interfaces":
		t = interfaceTable(what)
		if what == "modules" {
			t = modulesTable(h)
		}
		if what == "api" && len(words) > 1 {
			var rows [][]string
			for _, r := range t.rows {
				if r[0] == words[1] {
					rows = append(rows, r)
				}
			}
			t.rows = rows
		}
	case "tasks":
		count = len(words) > 1 && strings.EqualFold(words[1], "count")
		t = tasksTable(h)
	case "aliases", "complete", "chat", "management", "nat_map", "say", "timer", "file", "limits", "interface_types":
		t = table{cols: []string{"type", "name", "ikey"}}
	default:
		return write(w, "-USAGE: "+showSyntax()+"\n")
	}
	if count {
		return writef(w, "\n%d total.\n", len(t.rows))
	}
	switch format {
	case "json":
		return write(w, t.json())
	case "xml":
		return write(w, t.xml())
	}
	return write(w, t.csv(delim))
}

func showSyntax() string {
	a, _ := core.LookupAPI("show")
	return "show " + a.Syntax
}

// csv is the default output: header, rows, blank line, "N total.". No rows: just the footer.
func (t table) csv(delim string) string {
	var b strings.Builder
	if len(t.rows) > 0 {
		b.WriteString(strings.Join(t.cols, delim))
		b.WriteByte('\n')
		for _, r := range t.rows {
			b.WriteString(strings.Join(r, delim))
			b.WriteByte('\n')
		}
	}
	b.WriteString("\n" + strconv.Itoa(len(t.rows)) + " total.\n")
	return b.String()
}

// json is cJSON_Print's formatting of {"row_count":N,"rows":[{...}]} (tabs, ":\t").
func (t table) json() string {
	var b strings.Builder
	b.WriteString("{\n\t\"row_count\":\t" + strconv.Itoa(len(t.rows)))
	if len(t.rows) > 0 {
		b.WriteString(",\n\t\"rows\":\t[")
		for i, r := range t.rows {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("{\n")
			for j, c := range t.cols {
				b.WriteString("\t\t\t")
				b.Write(event.AppendJSONString(nil, c))
				b.WriteString(":\t")
				b.Write(event.AppendJSONString(nil, r[j]))
				if j < len(t.cols)-1 {
					b.WriteByte(',')
				}
				b.WriteByte('\n')
			}
			b.WriteString("\t\t}")
		}
		b.WriteString("]")
	}
	b.WriteString("\n}")
	return b.String()
}

// xml is `<result row_count="N"><row row_id="1"><col>value</col>...</row></result>` indented the
// way switch_xml_toxml prints it.
func (t table) xml() string {
	var b strings.Builder
	b.WriteString("<result row_count=\"" + strconv.Itoa(len(t.rows)) + "\">\n")
	for i, r := range t.rows {
		b.WriteString("  <row row_id=\"" + strconv.Itoa(i+1) + "\">\n")
		for j, c := range t.cols {
			b.WriteString("    <" + c + ">" + xmlEscape(r[j]) + "</" + c + ">\n")
		}
		b.WriteString("  </row>\n")
	}
	b.WriteString("</result>\n")
	return b.String()
}

func xmlEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\"", "&quot;")
	return r.Replace(s)
}

// codecIface names a codec and its module as FreeSWITCH's `show codec` does (the codec
// interface's name, not the SDP encoding name), so scripts that grep for them keep working.
func codecIface(encoding string) (name, module string) {
	switch strings.ToUpper(encoding) {
	case "PCMU":
		return "G.711 ulaw", "CORE_PCM_MODULE"
	case "PCMA":
		return "G.711 alaw", "CORE_PCM_MODULE"
	case "L16":
		return "RAW Signed Linear (16 bit)", "CORE_PCM_MODULE"
	case "G722":
		return "G.722", "mod_spandsp"
	case "OPUS":
		return "OPUS (STANDARD)", "mod_opus"
	case "TELEPHONE-EVENT", "CN":
		return "", "" // signalling payloads, not codec interfaces in FreeSWITCH
	}
	return encoding, "mod_" + strings.ToLower(strings.ReplaceAll(encoding, "-", "_"))
}
