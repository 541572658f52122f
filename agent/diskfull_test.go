package agent

import (
	"os"
	"strings"
	"testing"

	"github.com/herofleet/herofleet/api"
)

// A build that fails saying the disk is full (as a compiler does after it removed its partial output, so the disk
// looks fine by the time the agent looks) is not quarantined: the reason says why and the next sync tries again;
// a build failing for its own reasons is quarantined as before. The partial tree of a failed build is removed.
func TestBuildOnFullDiskNotQuarantined(t *testing.T) {
	h := newHarness(t)
	h.commitApp("books")
	const fleet = `
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [/bin/sh, -c, "echo partial > out; echo 'ld: write out: %s'; exit 1"], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
`
	h.commitFleet(strings.Replace(fleet, "%s", "No space left on device", 1))
	a := h.newAgent(nil)
	mustSync(t, a)
	st := a.Status()
	books := appOf(st, "books")
	if books.Code != api.ReasonDiskFull || !strings.Contains(books.Reason, "no space left on device") || len(st.Quarantined) != 0 {
		t.Fatalf("books %+v, quarantined %+v", books, st.Quarantined)
	}
	trees, _ := os.ReadDir(h.dir + "/builds/books")
	for _, e := range trees {
		if e.IsDir() {
			t.Fatalf("the failed build's tree %s was left", e.Name())
		}
	}

	h.commitFleet(strings.Replace(fleet, "%s", "undefined reference to main", 1))
	mustSync(t, a)
	st = a.Status()
	if books := appOf(st, "books"); books.Code != api.ReasonApplyFailed || len(st.Quarantined) != 1 {
		t.Fatalf("a build failing on its own: books %+v, quarantined %+v", books, st.Quarantined)
	}
}
