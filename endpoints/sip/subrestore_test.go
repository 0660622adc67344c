package sip

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/store"
	"github.com/goswitch/goswitch/internal/pgtest"
)

// TestSubscriptionsRestoreOwnRows: two nodes write their subscriptions to one PostgreSQL; a
// node that restarts restores only its own (another node's dialogs are that node's to NOTIFY,
// and restoring them sent every NOTIFY twice). A SQLite file is one node's: everything in it is
// restored, rows of another name (a node without switchname) and from before the hostname
// column too.
func TestSubscriptionsRestoreOwnRows(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dsn := filepath.Join(t.TempDir(), "sofia_reg.db")
			if backend == "postgres" {
				dsn = pgtest.Start(t).DSN()
			}
			start := func(node string) *subscriptions {
				db, err := store.Open(dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				ss, err := newSubscriptions(&Endpoint{log: slog.Default()}, db, node)
				if err != nil {
					t.Fatal(err)
				}
				return ss
			}
			sub := func(callID string) *Subscription {
				return &Subscription{Profile: "internal", CallID: callID, LocalTag: "lt", RemoteTag: "rt", Event: "dialog",
					User: "1006", Host: "example.com", ToUser: "1001", ToHost: "example.com", Contact: "sip:1006@10.0.0.6",
					NetworkIP: "10.0.0.6", NetworkPort: 5060, Transport: "UDP", Expires: time.Now().Add(time.Hour)}
			}
			a, b := start("node-a"), start("node-b")
			a.put(sub("sub-a"))
			b.put(sub("sub-b"))
			for _, ss := range []*subscriptions{a, b} {
				if err := ss.db.Flush(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if backend == "sqlite" {
				// A row written before the hostname column existed.
				if err := a.db.Exec(context.Background(), `INSERT INTO sip_subscriptions (call_id, local_tag, remote_tag, profile_name,
					event, event_id, sip_user, sip_host, sub_to_user, sub_to_host, contact, record_route, network_ip, network_port,
					network_proto, nat, user_agent, accept, auth_user, expires, cseq, version)
					VALUES ('sub-old','lt','rt','internal','dialog','','1006','example.com','1001','example.com','sip:1006@10.0.0.6','',
					'10.0.0.6',5060,'UDP',0,'','','',?,1,0)`, time.Now().Add(time.Hour).Unix()); err != nil {
					t.Fatal(err)
				}
			}
			for node, want := range map[string]string{"node-a": "sub-a", "node-b": "sub-b"} {
				ss := start(node)
				got := ss.all()
				if backend == "sqlite" {
					if len(got) != 3 {
						t.Fatalf("%s restarted on SQLite with %d subscriptions, want all 3", node, len(got))
					}
					continue
				}
				if len(got) != 1 || ss.get(want, "lt") == nil {
					var ids []string
					for _, s := range got {
						ids = append(ids, s.CallID)
					}
					t.Fatalf("%s restarted with %v, want only its own %s", node, ids, want)
				}
			}
		})
	}
}
