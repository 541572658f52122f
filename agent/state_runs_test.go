package agent

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/herofleet/herofleet/agent/supervise"
)

// A state written before runs were recorded still loads (nothing to adopt: every binary starts afresh), and the
// runs recorded since survive a save and a load as they were.
func TestStateRunsLoadAndRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	old := `{"fleet": {"commit": "abc"}, "apps": {"books": {"app": "books", "rev": "r1", "key": "k1", "binaries": [{"name": "books_server", "path": "/x", "env": [], "dir": "/"}]}}}`
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := loadState(path)
	if err != nil || st.Apps["books"] == nil || len(st.Runs) != 0 {
		t.Fatalf("old state: %+v, %v", st, err)
	}
	run := supervise.Run{Identity: supervise.Identity{PID: 42, Start: 1234, Boot: "b", Exe: "/x", Dev: 1, Ino: 2}, Spec: "s"}
	st.Runs = map[string]supervise.Run{"books_server": run}
	if err := st.save(path); err != nil {
		t.Fatal(err)
	}
	again, err := loadState(path)
	if err != nil || again.Runs["books_server"] != run {
		t.Fatalf("runs after a save and a load: %+v, %v", again.Runs, err)
	}
}
