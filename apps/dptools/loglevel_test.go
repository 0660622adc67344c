package dptools_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/goswitch/goswitch/apps/dptools"
	"github.com/goswitch/goswitch/core/logging"
)

// TestLogAppLevels: the log application's level word prints as FreeSWITCH prints it: CRIT as
// [CRIT], ALERT as [ALERT], not folded into [ERR].
func TestLogAppLevels(t *testing.T) {
	var buf bytes.Buffer
	lv := new(slog.LevelVar)
	lv.Set(slog.LevelDebug)
	h, err := logging.New(logging.Options{Writer: &buf, Level: lv, Color: "off"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	log := slog.New(h)
	for word, want := range map[string]string{
		"CRIT": "[CRIT]", "crit": "[CRIT]", "ALERT": "[ALERT]", "ERR": "[ERR]", "error": "[ERR]",
		"WARNING": "[WARNING]", "NOTICE": "[NOTICE]", "INFO": "[INFO]", "DEBUG": "[DEBUG]",
		"debug3": "[DEBUG]", "CONSOLE": "[CONSOLE]", "2": "[CRIT]",
	} {
		buf.Reset()
		level, ok := dptools.LogLevel(word)
		if !ok {
			t.Errorf("%s: not a level", word)
			continue
		}
		log.Log(context.Background(), level, "Open vars.xml and change the default_password.")
		if got := buf.String(); !strings.Contains(got, want+" ") {
			t.Errorf("log %s printed %q, want %s", word, strings.TrimSpace(got), want)
		}
	}
	if _, ok := dptools.LogLevel("Open"); ok {
		t.Error("a message word taken as a level")
	}
}
