package esl_test

import (
	"bufio"
	"errors"
	"flag"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden ESL transcripts in testdata/transcripts")

// TestTranscripts replays testdata/transcripts/*.txt against a fresh server. A transcript is a
// list of `> "<bytes sent>"` and `< "<frame received>"` lines (Go-quoted); frames are compared
// byte for byte after normalising what changes between runs (uuids, dates, sequence numbers and
// the Content-Length of events that carry them). `go test -run TestTranscripts -update`
// rewrites the files from what the server says.
func TestTranscripts(t *testing.T) {
	files, _ := filepath.Glob("testdata/transcripts/*.txt")
	if len(files) == 0 {
		t.Fatal("no transcripts")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			e := newEnv(t)
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			nc, err := net.Dial("tcp", e.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			r := &raw{t: t, nc: nc, r: bufio.NewReader(nc)}
			var out []string
			lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
			for i, l := range lines {
				if l == "" || strings.HasPrefix(l, "#") {
					out = append(out, l)
					continue
				}
				dir, q, _ := strings.Cut(l, " ")
				text, err := strconv.Unquote(q)
				if err != nil {
					t.Fatalf("%s:%d: %v", file, i+1, err)
				}
				switch dir {
				case ">":
					out = append(out, l)
					r.send(text)
					if *update {
						for _, f := range readAll(r) {
							out = append(out, "< "+strconv.Quote(f))
						}
					}
				case "<":
					if *update {
						continue
					}
					_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
					if got := normalise(r.frame()); got != text {
						t.Fatalf("%s:%d:\n got %q\nwant %q", file, i+1, got, text)
					}
				}
			}
			if *update {
				if err := os.WriteFile(file, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// readAll reads frames until the server has been quiet for 300 ms.
func readAll(r *raw) []string {
	var out []string
	for {
		_ = r.nc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if _, err := r.r.Peek(1); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return out
			}
			return out
		}
		_ = r.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		out = append(out, normalise(r.frame()))
	}
}

var (
	reUUID  = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	reVary  = regexp.MustCompile(`(?m)^(Event-Date-Local|Event-Date-GMT|Event-Date-Timestamp|Event-Sequence|Event-Calling-Line-Number|Event-Calling-File|Event-Calling-Function): .*$`)
	reVaryJ = regexp.MustCompile(`"(Event-Date-Local|Event-Date-GMT|Event-Date-Timestamp|Event-Sequence|Event-Calling-Line-Number|Event-Calling-File|Event-Calling-Function)":"[^"]*"`)
	reVaryX = regexp.MustCompile(`<(Event-Date-Local|Event-Date-GMT|Event-Date-Timestamp|Event-Sequence|Event-Calling-Line-Number|Event-Calling-File|Event-Calling-Function)>[^<]*<`)
	reEvLen = regexp.MustCompile(`^Content-Length: \d+\nContent-Type: text/event-`)
)

func normalise(f string) string {
	f = reUUID.ReplaceAllString(f, "00000000-0000-0000-0000-000000000000")
	f = reVary.ReplaceAllString(f, "$1: *")
	f = reVaryJ.ReplaceAllString(f, `"$1":"*"`)
	f = reVaryX.ReplaceAllString(f, "<$1>*<")
	if reEvLen.MatchString(f) {
		f = "Content-Length: *" + f[strings.IndexByte(f, '\n'):]
	}
	return f
}
