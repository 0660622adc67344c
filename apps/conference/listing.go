package conference

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// memberInfo is a member's state for xml_list / json_list.
type memberInfo struct {
	ID                       int
	UUID, CIDName, CIDNumber string
	Flags                    [][2]any // ordered flag name / bool
	JoinTime, LastTalking    int64
	Energy, VolIn, VolOut    int
}

func (c *Conference) snapshot() (members []memberInfo, size, ghosts int, locked bool) {
	now := time.Now()
	for _, m := range c.Members() {
		p := m.s.Profile()
		c.mu.Lock()
		f := m.flags
		info := memberInfo{
			ID: m.ID, UUID: m.s.UUID(), CIDName: p.CallerIDName, CIDNumber: p.CallerIDNumber,
			JoinTime: int64(now.Sub(m.joined).Seconds()), Energy: m.energy, VolIn: m.volIn, VolOut: m.volOut,
			Flags: [][2]any{
				{"can_hear", !f.deaf}, {"can_see", true}, {"can_speak", !f.mute}, {"hold", m.hold != nil},
				{"mute_detect", f.muteDetect}, {"talking", m.talking}, {"has_video", false},
				{"video_bridge", false}, {"has_floor", false}, {"is_moderator", f.moderator},
				{"end_conference", f.endconf},
			},
		}
		if !m.lastTalk.IsZero() {
			info.LastTalking = int64(now.Sub(m.lastTalk).Seconds())
		}
		if f.ghost {
			ghosts++
		} else {
			size++
		}
		c.mu.Unlock()
		members = append(members, info)
	}
	return members, size, ghosts, c.Locked()
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// writeXML writes one <conference> element of "conference xml_list".
func (c *Conference) writeXML(w io.Writer) {
	members, size, ghosts, locked := c.snapshot()
	lock := ""
	if locked {
		lock = ` locked="true"`
	}
	fmt.Fprintf(w, `  <conference name="%s" member-count="%d" ghost-count="%d" rate="%d" uuid="%s" running="true" answered="true" enforce_min="true" dynamic="true" exit_sound="true" enter_sound="true"%s run_time="%d">`+"\n",
		xmlText(c.Name), size, ghosts, c.rate, c.UUID, lock, int64(time.Since(c.created).Seconds()))
	fmt.Fprint(w, "    <members>\n")
	for _, m := range members {
		fmt.Fprint(w, "      <member type=\"caller\">\n")
		fmt.Fprintf(w, "        <id>%d</id>\n        <flags>\n", m.ID)
		for _, f := range m.Flags {
			fmt.Fprintf(w, "          <%s>%v</%s>\n", f[0], f[1], f[0])
		}
		fmt.Fprint(w, "        </flags>\n")
		fmt.Fprintf(w, "        <uuid>%s</uuid>\n        <caller_id_name>%s</caller_id_name>\n        <caller_id_number>%s</caller_id_number>\n",
			xmlText(m.UUID), xmlText(m.CIDName), xmlText(m.CIDNumber))
		fmt.Fprintf(w, "        <join_time>%d</join_time>\n        <last_talking>%d</last_talking>\n        <energy>%d</energy>\n        <volume_in>%d</volume_in>\n        <volume_out>%d</volume_out>\n",
			m.JoinTime, m.LastTalking, m.Energy, m.VolIn, m.VolOut)
		fmt.Fprint(w, "      </member>\n")
	}
	fmt.Fprint(w, "    </members>\n  </conference>\n")
}

// xmlList writes "conference [name] xml_list".
func xmlList(w io.Writer, confs []*Conference) {
	fmt.Fprint(w, "<?xml version=\"1.0\"?>\n<conferences>\n")
	for _, c := range confs {
		c.writeXML(w)
	}
	fmt.Fprint(w, "</conferences>\n")
}

// jsonList writes "conference [name] json_list".
func jsonList(w io.Writer, confs []*Conference, compact bool) {
	out := []map[string]any{}
	for _, c := range confs {
		members, size, ghosts, locked := c.snapshot()
		ms := []map[string]any{}
		for _, m := range members {
			flags := map[string]any{}
			for _, f := range m.Flags {
				flags[f[0].(string)] = f[1]
			}
			ms = append(ms, map[string]any{
				"type": "caller", "id": m.ID, "flags": flags, "uuid": m.UUID,
				"caller_id_name": m.CIDName, "caller_id_number": m.CIDNumber,
				"join_time": m.JoinTime, "last_talking": m.LastTalking,
				"energy": m.Energy, "volume_in": m.VolIn, "volume_out": m.VolOut,
			})
		}
		out = append(out, map[string]any{
			"conference_name": c.Name, "member_count": size, "ghost_count": ghosts, "rate": c.rate,
			"run_time": int64(time.Since(c.created).Seconds()), "conference_uuid": c.UUID,
			"locked": locked, "running": true, "answered": true, "dynamic": true,
			"enter_sound": true, "exit_sound": true, "members": ms,
		})
	}
	var b []byte
	if compact {
		b, _ = json.Marshal(out)
	} else {
		b, _ = json.MarshalIndent(out, "", "  ")
	}
	w.Write(append(b, '\n'))
}
