package sip

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tortureCase is one RFC 4475 message (testdata/torture/<name>.sip) and the responses we accept.
// Code 0 means "no response" (the message is dropped). valid marks section 3.1.1-style messages
// that must be handled like any request; invalid ones must never get a 1xx/2xx.
type tortureCase struct {
	name  string
	valid bool
	want  []int
	tcp   []int // the codes accepted over TCP; nil: not sent over TCP (a stream would wait for the rest of clerr and read dblreq's two requests)
}

// tortureCases: what RFC 4475 expects of a UAS, on the "internal" profile (auth-calls=true, so a
// handled INVITE gets 407 and a handled REGISTER 401).
//
// Over TCP the read filter sees stream chunks, not messages, so the raw checks of UDP
// (rawReject, normalizeHeaders) do not apply there, and these gaps are accepted:
//   - what sipgo's parser cannot read is dropped without a 400 (code 0): badaspec, badinv01,
//     badvers, ltgtruri, lwsruri, lwsstart, mcl01, ncl, novelsc, quotbal, scalar02, trws;
//   - inv2543 (no branch, no From tag) and wsinv (LWS around its From tag's '=') get 400 from
//     sipgo's transaction layer, which matches RFC 2543 transactions by From tag;
//   - regbadct's bare Contact with '?' parses, so it is challenged (401);
//   - baddn's unquoted "Bell, Alexander" parses as a display name (200), so it is not sent.
var tortureCases = []tortureCase{
	// 3.1.1 valid messages
	{"wsinv", true, []int{481, 407}, []int{481, 407, 400}}, // its To has a tag: a re-INVITE of no dialog
	{"intmeth", true, []int{405, 501}, []int{405, 501}},
	{"esc01", true, []int{407}, []int{407}},
	{"escnull", true, []int{401}, []int{401}},
	{"esc02", true, []int{405, 501}, []int{405, 501}},
	{"lwsdisp", true, []int{200}, []int{200}},
	{"longreq", true, []int{481, 407}, []int{481, 407}}, // To tag too
	{"dblreq", true, []int{401}, nil},
	{"semiuri", true, []int{200}, []int{200}},
	{"transports", true, []int{200}, []int{200}},
	{"mpart01", true, []int{407}, []int{407}}, // MESSAGE out of dialog: challenged like INVITE
	{"unreason", true, []int{0}, []int{0}},    // a response without a transaction
	{"noreason", true, []int{0}, []int{0}},
	// 3.2.1, 3.3.x, 3.5 valid messages
	{"badbranch", true, []int{200}, []int{200}},
	{"cparam01", true, []int{401}, []int{401}},
	{"cparam02", true, []int{401}, []int{401}},
	{"regescrt", true, []int{401}, []int{401}},
	{"inv2543", true, []int{407}, []int{407, 400}},
	{"zeromf", true, []int{200, 483}, []int{200, 483}},
	{"sdp01", true, []int{406, 407}, []int{406, 407}},
	{"unksm2", true, []int{400}, []int{400}}, // syntactically valid; a registrar refuses a non-SIP AOR with 400
	{"regaut01", true, []int{401}, []int{401}},
	// 3.1.2 invalid messages
	{"badinv01", false, []int{400}, []int{400, 0}},
	{"clerr", false, []int{400}, nil},
	{"ncl", false, []int{400}, []int{400, 0}},
	{"scalar02", false, []int{400}, []int{400, 0}},
	{"scalarlg", false, []int{0}, []int{0}},
	{"quotbal", false, []int{400}, []int{400, 0}},
	{"ltgtruri", false, []int{400}, []int{400, 0}},
	{"lwsruri", false, []int{400}, []int{400, 0}},
	{"lwsstart", false, []int{400}, []int{400, 0}},
	{"trws", false, []int{400}, []int{400, 0}},
	{"escruri", false, []int{400}, []int{400}},
	{"baddate", false, []int{400, 407}, []int{400, 407}}, // an element that ignores Date may process it
	{"regbadct", false, []int{400}, []int{400, 401}},
	{"badaspec", false, []int{400}, []int{400, 0}},
	{"baddn", false, []int{400}, nil},
	{"badvers", false, []int{505}, []int{505, 0}},
	{"mismk1", false, []int{400}, []int{400}},
	{"mismk2", false, []int{400}, []int{400}},
	{"bigcode", false, []int{0}, []int{0}},
	// 3.3 application-layer semantics
	{"insuf", false, []int{400}, []int{400}},
	{"unkscm", false, []int{416}, []int{416}},
	{"novelsc", false, []int{416}, []int{416, 0}},
	{"bext01", false, []int{420}, []int{420}},
	{"invut", false, []int{415, 407}, []int{415, 407}},
	{"multi01", false, []int{400}, []int{400}},
	{"mcl01", false, []int{400}, []int{400, 0}},
	{"bcast", false, []int{0}, []int{0}},
}

// loadTorture reads a torture message: LF line ends become CRLF (the files keep the RFC's
// layout readable) and {{CL}} becomes the body's real length.
func loadTorture(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", "torture", name+".sip"))
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		b = bytes.Replace(b, []byte("{{CL}}"), []byte(strconv.Itoa(len(b)-i-4)), 1)
	}
	return b
}

// forTest adapts the top Via of a torture message to the test and leaves the rest as the RFC
// wrote it: with rport the UDP response comes back to the test's ephemeral port rather than to
// the Via's sent-by port (RFC 3261 18.2.2), and tag goes after a branch's magic cookie so that
// messages sharing a branch (many of RFC 4475's do) are not retransmissions of one another.
func forTest(msg []byte, tag string, rport bool) []byte {
	end := bytes.Index(msg, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(msg)
	}
	i := bytes.Index(msg, []byte("\r\n"))
	for i >= 0 && i < end {
		lineEnd := i + 2 + bytes.Index(msg[i+2:], []byte("\r\n"))
		if lineEnd < i+2 {
			return msg
		}
		name, _, ok := bytes.Cut(msg[i+2:lineEnd], []byte(":"))
		if n := strings.ToLower(strings.TrimSpace(string(name))); ok && (n == "via" || n == "v") {
			// The value runs over continuation lines (starting with SP/HT).
			for lineEnd+2 < len(msg) && (msg[lineEnd+2] == ' ' || msg[lineEnd+2] == '\t') {
				lineEnd = lineEnd + 2 + bytes.Index(msg[lineEnd+2:], []byte("\r\n"))
			}
			if b := bytes.Index(msg[i+2:lineEnd], []byte("branch=z9hG4bK")); b >= 0 {
				at := i + 2 + b + len("branch=z9hG4bK")
				if at < lineEnd && msg[at] != ';' && msg[at] != ',' && msg[at] != '\r' {
					msg = slices.Concat(msg[:at], []byte(tag+"-"), msg[at:])
					lineEnd += len(tag) + 1
				}
			}
			if !rport {
				return msg
			}
			at := lineEnd
			if semi := bytes.IndexByte(msg[i+2:lineEnd], ';'); semi >= 0 {
				at = i + 2 + semi
			}
			return slices.Concat(msg[:at], []byte(";rport"), msg[at:])
		}
		i = lineEnd
	}
	return msg
}

// statusCode returns a response's code, 0 for "" or a request.
func statusCode(res string) int {
	if !strings.HasPrefix(res, "SIP/2.0 ") || len(res) < 11 {
		return 0
	}
	n, _ := strconv.Atoi(res[8:11])
	return n
}

// udpExchange sends msg from a fresh socket and returns the first final response's code (0 none).
func udpExchange(t testing.TB, dst netip.AddrPort, msg []byte, wait time.Duration) (int, string) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.WriteToUDPAddrPort(msg, dst); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65536)
	deadline := time.Now().Add(wait)
	for {
		c.SetReadDeadline(deadline)
		n, _, err := c.ReadFromUDP(buf)
		if err != nil {
			return 0, ""
		}
		res := string(buf[:n])
		if code := statusCode(res); code >= 200 {
			return code, res
		}
	}
}

// tcpExchange sends msg on a fresh TCP connection and returns the first final response's code.
func tcpExchange(t testing.TB, dst netip.AddrPort, msg []byte, wait time.Duration) (int, string) {
	c, err := net.DialTimeout("tcp", dst.String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(msg); err != nil {
		return 0, ""
	}
	c.SetReadDeadline(time.Now().Add(wait))
	r := bufio.NewReader(c)
	for {
		var sb strings.Builder
		cl := 0
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return 0, sb.String()
			}
			sb.WriteString(line)
			l := strings.TrimRight(line, "\r\n")
			if l == "" {
				break
			}
			if k, v, ok := strings.Cut(l, ":"); ok {
				if k = strings.ToLower(strings.TrimSpace(k)); k == "content-length" || k == "l" {
					cl, _ = strconv.Atoi(strings.TrimSpace(v))
				}
			}
		}
		if cl > 0 {
			body := make([]byte, cl)
			if _, err := io.ReadFull(r, body); err != nil {
				return 0, sb.String()
			}
		}
		if code := statusCode(sb.String()); code >= 200 {
			return code, sb.String()
		}
	}
}

// TestTortureMessages sends every RFC 4475 message over UDP (and TCP where a stream can carry
// it) and checks the answer, then that the profile still answers OPTIONS and its goroutines
// settle. Each transport gets its own host: a message sent twice would otherwise be a
// retransmission of the first one's transaction.
func TestTortureMessages(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			env := newEnv(t, envOpt{})
			dst := env.addr(t, "internal")
			p, _ := env.ep.Profile("internal")
			base := runtime.NumGoroutine()
			t.Run("msg", func(t *testing.T) {
				for _, tc := range tortureCases {
					if transport == "tcp" && tc.tcp == nil {
						continue
					}
					t.Run(tc.name, func(t *testing.T) {
						t.Parallel()
						wait := 2 * time.Second
						if slices.Contains(tc.want, 0) || transport == "tcp" && slices.Contains(tc.tcp, 0) {
							wait = 400 * time.Millisecond
						}
						var code int
						var res string
						if transport == "udp" {
							code, res = udpExchange(t, dst, forTest(loadTorture(t, tc.name), tc.name, true), wait)
						} else {
							code, res = tcpExchange(t, dst, forTest(loadTorture(t, tc.name), tc.name, false), wait)
						}
						want := tc.want
						if transport == "tcp" {
							want = tc.tcp
						}
						if !slices.Contains(want, code) {
							t.Errorf("%s over %s: got %d, want one of %v\n%s", tc.name, transport, code, want, tail(res, 600))
						}
						if !tc.valid && code >= 100 && code < 300 {
							t.Errorf("%s over %s: an invalid message got %d", tc.name, transport, code)
						}
					})
				}
			})
			u := newRawUA(t, dst)
			big := strings.Repeat("a=x-padding:0123456789\n", 1000)
			msg := []byte(strings.ReplaceAll(u.request("OPTIONS", "sip:9196@"+dst.String(), "torture-big", 1, "", big), "\n", "\r\n"))
			exchange := udpExchange
			if transport == "tcp" {
				exchange = tcpExchange
			}
			if code, res := exchange(t, dst, msg, 2*time.Second); code != 513 {
				t.Errorf("oversize over %s: %d %q", transport, code, tail(res, 300))
			}
			assertAlive(t, dst)
			waitFor(t, "goroutines back near baseline", 10*time.Second, func() bool { return runtime.NumGoroutine() <= base+10 })
			out, _ := env.h.APIOutput(t.Context(), "sofia", "status profile internal")
			if n := p.dropped.Load(); n == 0 || !strings.Contains(out, "DROPPED-MSGS     \t"+strconv.FormatUint(n, 10)+"\n") {
				t.Errorf("dropped counter %d not in sofia status profile:\n%s", n, out)
			}
		})
	}
}

// assertAlive checks that the profile still answers an OPTIONS with 200 over UDP and TCP.
func assertAlive(t testing.TB, dst netip.AddrPort) {
	t.Helper()
	msg := func(id string) []byte {
		return []byte("OPTIONS sip:alive@" + dst.String() + " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK" + id + "\r\n" +
			"From: <sip:probe@127.0.0.1>;tag=p1\r\nTo: <sip:alive@127.0.0.1>\r\nCall-ID: " + id + "\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
	}
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	if code, res := udpExchange(t, dst, msg("alive-u"+id), 2*time.Second); code != 200 {
		t.Fatalf("OPTIONS over udp after torture: %d %q", code, res)
	}
	if code, res := tcpExchange(t, dst, msg("alive-t"+id), 2*time.Second); code != 200 {
		t.Fatalf("OPTIONS over tcp after torture: %d %q", code, res)
	}
}
