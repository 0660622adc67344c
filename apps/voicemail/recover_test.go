package voicemail_test

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/goswitch/goswitch/apps/playback/playtest"
	"github.com/goswitch/goswitch/apps/voicemail"
	"github.com/goswitch/goswitch/core/event"
	"github.com/goswitch/goswitch/core/store"
)

// crashWav writes what a recording cut by kill -9 leaves: a header whose sizes lag the data.
func crashWav(t *testing.T, path string, secs float64, headerSecs int) {
	t.Helper()
	data := int(secs * 16000)
	b := make([]byte, 44+data)
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+headerSecs*16000))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1)
	binary.LittleEndian.PutUint16(b[22:], 1)
	binary.LittleEndian.PutUint32(b[24:], 8000)
	binary.LittleEndian.PutUint32(b[28:], 16000)
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(headerSecs*16000))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRecoverInProgressMessage: a message whose recording was cut (its voicemail_partial row
// and a WAV with a stale header are left) is delivered when mod_voicemail starts: indexed,
// header fixed, MESSAGE_WAITING sent; a too-short one is discarded.
func TestRecoverInProgressMessage(t *testing.T) {
	t.Parallel()
	h := playtest.NewHost(t, playtest.Conf(vmConf))
	m := voicemail.Of(h)
	if got := boxcount(t, h, "1000@example.com"); got != "0" { // opens and migrates the database
		t.Fatalf("vm_boxcount = %q", got)
	}
	ctx := context.Background()
	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(h.Dirs.Storage, "voicemail", "default", "example.com", "1000")
	long, short := filepath.Join(dir, "msg_long.wav"), filepath.Join(dir, "msg_short.wav")
	crashWav(t, long, 4.5, 4)
	crashWav(t, short, 0.4, 0)
	db, err := store.Open(filepath.Join(h.Dirs.DB, "voicemail_default.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range [][]any{
		{"long", time.Now().Unix(), "1000", "example.com", "Alice", "5551234", long},
		{"short", time.Now().Unix(), "1000", "example.com", "Bob", "5550000", short},
		{"gone", time.Now().Unix(), "1000", "example.com", "Carol", "5551111", filepath.Join(dir, "msg_gone.wav")},
	} {
		if err := db.Exec(ctx, `INSERT INTO voicemail_partial (uuid, created_epoch, username, domain, cid_name,
			cid_number, file_path) VALUES (?, ?, ?, ?, ?, ?, ?)`, r...); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	sub := h.Bus.Subscribe(func(e *event.Event) bool { return e.Name == event.MessageWaiting }, 16)
	defer sub.Close()
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := boxcount(t, h, "1000@example.com"); got != "1" {
		t.Fatalf("vm_boxcount after recovery = %q, want 1", got)
	}
	msgs, err := m.Messages("default", "1000", "example.com", false, false)
	if err != nil || len(msgs) != 1 || msgs[0].UUID != "long" || msgs[0].Len != 4 || msgs[0].CIDNumber != "5551234" {
		t.Fatalf("messages %+v, %v", msgs, err)
	}
	b, _ := os.ReadFile(long)
	if d := binary.LittleEndian.Uint32(b[40:]); d != 4.5*16000 {
		t.Errorf("recovered header data %d, want 72000", d)
	}
	if _, err := os.Stat(short); !os.IsNotExist(err) {
		t.Errorf("too-short recording kept: %v", err)
	}
	select {
	case e := <-sub.C():
		if e.Get("MWI-Messages-Waiting") != "yes" || e.Get("MWI-Message-Account") != "1000@example.com" {
			t.Errorf("MWI %s", e.Plain())
		}
	case <-time.After(5 * time.Second):
		t.Error("no MESSAGE_WAITING for the recovered message")
	}
	var left int
	mdb, err := m.DB("default")
	if err != nil {
		t.Fatal(err)
	}
	if err := mdb.SQL().QueryRow(`SELECT count(*) FROM voicemail_partial`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d in-progress markers left, %v", left, err)
	}
}
