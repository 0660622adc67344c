package store

import (
	"context"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMigrateWriteReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	mig := []string{`CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)`}
	if err := db.Migrate("kv", mig...); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate("kv", mig...); err != nil { // idempotent
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		if err := db.Write(`INSERT OR REPLACE INTO kv(k, v) VALUES(?, ?)`, i%10, i); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM kv`).Scan(&n); err != nil || n != 10 {
		t.Fatalf("rows %d err %v", n, err)
	}
	if err := db.Exec(context.Background(), `INSERT INTO nope VALUES(1)`); err == nil {
		t.Fatal("expected error")
	}
	if err := db.Exec(context.Background(), `INSERT INTO kv(k, v) VALUES('a','b')`); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkWrite(b *testing.B) {
	db, err := Open(filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.Migrate("kv", `CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT)`)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		db.Write(`INSERT OR REPLACE INTO kv(k, v) VALUES(?, ?)`, i%1000, "x")
	}
	db.Flush(context.Background())
}
