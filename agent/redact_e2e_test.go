package agent

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// Credentials in the fleet, source and artifact URLs reach neither the status (read without a token) nor the log.
func TestCredentialsInURLsNeverShow(t *testing.T) {
	h := newHarness(t)
	h.commitFleet(`
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books, notes]
-- apps/books.yaml --
source: {repo: "https://tok:s3cret@127.0.0.1:9/apps/books.git", ref: main}
binaries:
  - {name: books_server, kind: server, path: books_server, listen: "unix://${sockets}/books_server.sock", health: /health}
-- apps/notes.yaml --
artifact: {url: "https://tok:s3cret@127.0.0.1:9/notes.tar.gz", sha256: "0000000000000000000000000000000000000000000000000000000000000001"}
binaries:
  - {name: notes_server, kind: server, path: notes_server, listen: "unix://${sockets}/notes_server.sock", health: /health}
`)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := New(h.config(), log, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Shutdown)
	_ = a.SyncNow(t.Context())
	st, _ := json.Marshal(a.Status())
	if b := appOf(a.Status(), "books"); b.Reason == "" || appOf(a.Status(), "notes").Reason == "" {
		t.Fatalf("no reasons to check: %s", st)
	}

	// the fleet's own URL
	cfg := h.config()
	cfg.Fleet.Repo = "https://tok:s3cret@127.0.0.1:9/ops/fleet.git"
	cfg.Dir = t.TempDir()
	b, err := New(cfg, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Shutdown)
	_ = b.SyncNow(t.Context())
	st2, _ := json.Marshal(b.Status())
	if b.Status().Fleet.Error == "" {
		t.Fatalf("no fleet error to check: %s", st2)
	}
	for what, text := range map[string]string{"status": string(st), "fleet status": string(st2), "log": logs.String()} {
		if strings.Contains(text, "s3cret") {
			t.Errorf("the %s shows the credentials:\n%s", what, text)
		}
	}
}
