package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herofleet/herofleet/api"
)

// A build whose command's executable is not on the host's PATH (a machine without make) is the host's fault, as a
// full disk is: the app is not quarantined, its running revision keeps running, the status says which tool is
// missing, and once the tool is installed the next sync installs the new revision with no fleet change.
func TestBuildToolMissingNotQuarantined(t *testing.T) {
	h := newHarness(t)
	books1 := h.commitApp("books")
	const fleet = `
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [%s, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
`
	tools := t.TempDir() // on the agent's PATH: the host's tools
	cfg := h.config()
	cfg.Path = tools + ":" + DefaultPath
	a, err := New(cfg, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Shutdown)
	h.commitFleet(strings.Replace(fleet, "%s", "{{testapp}}", 1))
	mustSync(t, a)
	old := appOf(a.Status(), "books")
	if old.Rev != books1 || len(old.Binaries) != 1 || old.Binaries[0].State != api.BinRunning {
		t.Fatalf("books %+v, want %s running", old, books1)
	}

	// A new revision built with hf-make, which this host does not have.
	books2 := h.commitApp("books")
	h.commitFleet(strings.Replace(fleet, "%s", "hf-make", 1))
	mustSync(t, a)
	st := a.Status()
	books := appOf(st, "books")
	want := `build needs "hf-make", which is not on this host's PATH (` + cfg.Path + `)`
	if books.Code != api.ReasonBuildToolMissing || !strings.Contains(books.Reason, want) || len(st.Quarantined) != 0 {
		t.Fatalf("books %+v, quarantined %+v; want %s (%q), not quarantined", books, st.Quarantined, api.ReasonBuildToolMissing, want)
	}
	if books.Rev != books1 || len(books.Binaries) != 1 || books.Binaries[0].State != api.BinRunning || books.Binaries[0].PID != old.Binaries[0].PID {
		t.Fatalf("books %+v; want %s still running as pid %d", books, books1, old.Binaries[0].PID)
	}
	mustSync(t, a) // still missing: tried again, still not quarantined
	if st := a.Status(); appOf(st, "books").Code != api.ReasonBuildToolMissing || len(st.Quarantined) != 0 {
		t.Fatalf("second sync: books %+v, quarantined %+v", appOf(st, "books"), st.Quarantined)
	}

	// make is installed: the next sync builds and installs the new revision, with no fleet change.
	if err := os.Symlink(testapp, filepath.Join(tools, "hf-make")); err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	st = a.Status()
	books = appOf(st, "books")
	if books.Rev != books2 || books.Code != "" || len(st.Quarantined) != 0 || len(books.Binaries) != 1 || books.Binaries[0].State != api.BinRunning {
		t.Fatalf("books %+v, quarantined %+v; want %s running, no reason", books, st.Quarantined, books2)
	}
}
