package event

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestURLEncode(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{"a b", "a%20b"},
		{"sofia/internal/1000@10.0.0.5", "sofia/internal/1000%4010.0.0.5"},
		{"2026-11-23 12:00:00", "2026-11-23%2012%3A00%3A00"},
		{"already%20done", "already%20done"},
		{"100%", "100%25"},
		{"\"Name\" <1000>", "%22Name%22%20%3C1000%3E"},
		{"x\r\ny", "x%0D%0Ay"},
		{"#&+;=?[\\]^`{|}", "%23%26%2B%3B%3D%3F%5B%5C%5D%5E%60%7B%7C%7D"},
		{"é", "%C3%A9"},
		{"a,b.c-d_e~f!*'()/$", "a,b.c-d_e~f!*'()/$"},
	}
	for _, c := range cases {
		if got := URLEncode(c.in); got != c.want {
			t.Errorf("URLEncode(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := URLDecode("a%20b%3A"); got != "a b:" {
		t.Errorf("URLDecode = %q", got)
	}
}

func sample() *Event {
	e := &Event{Name: "CUSTOM"}
	e.Add("Event-Name", "CUSTOM")
	e.Add("Event-Subclass", "test::x")
	e.Add("Caller-Caller-ID-Name", "Alice Smith")
	e.Add("Empty", "")
	e.Add("variable_list", "ARRAY::a|:b c")
	return e
}

func TestPlain(t *testing.T) {
	e := sample()
	want := "Event-Name: CUSTOM\nEvent-Subclass: test%3A%3Ax\nCaller-Caller-ID-Name: Alice%20Smith\nEmpty: _undef_\nvariable_list: ARRAY%3A%3Aa%7C%3Ab%20c\n\n"
	if got := string(e.Plain()); got != want {
		t.Errorf("plain:\n%q\nwant\n%q", got, want)
	}
	e.Body = "hello\nworld"
	want = want[:len(want)-1] + "Content-Length: 11\n\nhello\nworld"
	if got := string(e.Plain()); got != want {
		t.Errorf("plain with body:\n%q\nwant\n%q", got, want)
	}
	back := ParsePlain(e.Plain())
	if back.Get("Caller-Caller-ID-Name") != "Alice Smith" || back.Body != "hello\nworld" || back.Name != "CUSTOM" || back.Subclass != "test::x" {
		t.Errorf("round trip: %+v", back)
	}
}

func TestJSON(t *testing.T) {
	e := sample()
	e.Body = "b\"ody\x01"
	got := string(e.JSON())
	want := `{"Event-Name":"CUSTOM","Event-Subclass":"test::x","Caller-Caller-ID-Name":"Alice Smith","Empty":"","variable_list":["a","b c"],"Content-Length":"6","_body":"b\"ody\u0001"}`
	if got != want {
		t.Errorf("json:\n%s\nwant\n%s", got, want)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(got), &m); err != nil {
		t.Fatal(err)
	}
}

func TestXML(t *testing.T) {
	e := sample()
	e.Body = "<x>"
	got := string(e.XML())
	want := "<event>\n  <headers>\n    <Event-Name>CUSTOM</Event-Name>\n    <Event-Subclass>test%3A%3Ax</Event-Subclass>\n    <Caller-Caller-ID-Name>Alice%20Smith</Caller-Caller-ID-Name>\n    <Empty></Empty>\n    <variable_list>a</variable_list>\n    <variable_list>b%20c</variable_list>\n  </headers>\n  <Content-Length>3</Content-Length>\n  <body>&lt;x&gt;</body>\n</event>"
	if got != want {
		t.Errorf("xml:\n%s\nwant\n%s", got, want)
	}
}

func BenchmarkPlain(b *testing.B) {
	bus := NewBus(Identity{CoreUUID: "c", Hostname: "h", Switchname: "s"})
	e := bus.New(ChannelAnswer, "")
	for i := 0; i < 60; i++ {
		e.Add("variable_x", "some value with spaces: and @ signs")
	}
	buf := make([]byte, 0, 8192)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = e.AppendPlain(buf[:0])
	}
}

func BenchmarkJSON(b *testing.B) {
	bus := NewBus(Identity{CoreUUID: "c", Hostname: "h", Switchname: "s"})
	e := bus.New(ChannelAnswer, "")
	for i := 0; i < 60; i++ {
		e.Add("variable_x", "some value with spaces: and @ signs")
	}
	buf := make([]byte, 0, 8192)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = e.AppendJSON(buf[:0])
	}
}

// FuzzPlainRoundTrip: any header value survives AppendPlain then ParsePlain, except that an
// existing %XX sequence is (deliberately, like FreeSWITCH) not encoded twice.
func FuzzPlainRoundTrip(f *testing.F) {
	f.Add("Alice Smith", "body")
	f.Add("a%2", "")
	f.Add("\r\n:;", "x\n\ny")
	f.Fuzz(func(t *testing.T, v, body string) {
		e := &Event{Name: "CUSTOM"}
		e.Add("Event-Name", "CUSTOM")
		e.Add("V", v)
		e.Body = body
		back := ParsePlain(e.Plain())
		if back.Body != body {
			t.Fatalf("body %q -> %q", body, back.Body)
		}
		if !strings.Contains(v, "%") && !strings.Contains(v, "+") && v != "" && back.Get("V") != v {
			t.Fatalf("value %q -> %q", v, back.Get("V"))
		}
	})
}
