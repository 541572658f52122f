package faults

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
)

// A person's start, stop and restart while an upgrade waits for books_web's health (the defect of issue 13 item
// 3): they are queued behind the upgrade and carried out on the new revision; the app never runs two revisions and
// ends whole.
func TestControlsDuringAnUpgrade(t *testing.T) {
	slow(t) // a queued control is answered after laneWait (10s)
	g := startGated(t, "preinstalled: [books]")
	agenttest.WaitUntil(t, 60*time.Second, "books installed", func() bool { return runsExactly(g.dir, g.state().Apps["books"]) })
	w := watchBooks(t, g.dir)
	g.close("health")
	g.commitApp()
	g.sync()
	g.waitHealthHeld()
	start := time.Now()
	answers := g.controls("restart books_server", "stop books_web", "start books_web")
	queued(t, answers)
	g.openGates()
	// a start sent now is queued behind them: once it is answered, every earlier control was carried out
	after := g.controls("start books_web")
	after = append(after, g.controls("start books_server")...)
	for _, a := range after {
		if a.code != http.StatusAccepted || !strings.Contains(a.body, "started") {
			t.Fatalf("%v", a)
		}
	}
	inst := g.state().Apps["books"]
	if inst == nil || inst.Rev != g.want || !whole(inst) || !runsExactly(g.dir, inst) {
		t.Fatalf("after the controls the state records %+v and runs %v", inst, agenttest.Processes(g.dir))
	}
	st, _ := g.status()
	if a := g.app("books"); a.Reason != "" || len(st.Quarantined) != 0 || a.Last == nil || a.Last.Error != "" {
		t.Fatalf("books %+v, quarantined %v", a, st.Quarantined)
	}
	took := time.Since(start)
	w.stop()
	if err := w.err(); err != nil {
		t.Fatal(err)
	}
	record(Row{
		Fault:    "a person's start, stop and restart during an upgrade",
		Injected: "restart books_server, stop books_web and start books_web at once (the API, with the token) while the upgrade waits for the new books_web's health",
		Did:      "answered each 202 \"queued behind the app's apply\" after 10s; the upgrade finished, then the controls ran on the new revision in their turn; nothing quarantined",
		Figure:   fmt.Sprintf("new revision whole %s after the controls; %d samples of the processes, never a binary twice or two revisions", took.Round(time.Millisecond), w.samples.Load()),
		Lost:     "nothing",
	})
}

// A person's controls while books, installed on click, is being removed (held in the SIGTERM of its binaries):
// queued behind the removal, they find nothing to start; no process is left that no state knows.
func TestControlsDuringARemoval(t *testing.T) {
	slow(t) // a queued control is answered after laneWait (10s)
	g := startGated(t, "catalog: [books]")
	agenttest.WaitUntil(t, 30*time.Second, "the fleet applied", func() bool { st, _ := g.status(); return st.Fleet.Commit != "" })
	if code, body := g.call("POST", "/api/v1/apps/books/install"); code != http.StatusAccepted {
		t.Fatalf("install: %d %s", code, body)
	}
	agenttest.WaitUntil(t, 60*time.Second, "books installed", func() bool { return runsExactly(g.dir, g.state().Apps["books"]) })
	w := watchBooks(t, g.dir)
	g.close("stop")
	if code, body := g.call("DELETE", "/api/v1/apps/books"); code != http.StatusAccepted {
		t.Fatalf("uninstall: %d %s", code, body)
	}
	g.waitTerms() // both binaries hold the SIGTERM of the removal
	during := g.app("books")
	start := time.Now()
	answers := g.controls("start books_server", "restart books_web", "stop books_server")
	queued(t, answers)
	g.openGates()
	agenttest.WaitUntil(t, 30*time.Second, "books removed", func() bool {
		return g.state().Apps["books"] == nil && g.app("books").State == api.AppNotInstalled && len(agenttest.Processes(g.dir)) == 0
	})
	took := time.Since(start)
	// installed again on click: its apply is queued behind the controls, so once it is done they all were
	if code, body := g.call("POST", "/api/v1/apps/books/install"); code != http.StatusAccepted {
		t.Fatalf("install again: %d %s", code, body)
	}
	agenttest.WaitUntil(t, 60*time.Second, "books installed again", func() bool {
		return g.app("books").State == api.AppInstalled && runsExactly(g.dir, g.state().Apps["books"])
	})
	late := g.controls("start books_server")
	w.stop()
	if err := w.err(); err != nil {
		t.Fatal(err)
	}
	if !runsExactly(g.dir, g.state().Apps["books"]) || late[0].code != http.StatusAccepted {
		t.Fatalf("after the install: %v; %v", agenttest.Processes(g.dir), late)
	}
	record(Row{
		Fault:    "a person's start, stop and restart during a removal",
		Injected: "start books_server, restart books_web and stop books_server at once while the uninstall of books (installed on click) waits for its binaries' SIGTERM",
		Did:      "answered each 202 \"queued\" after 10s; the removal finished whole, then the queued controls found no installed binary and started nothing; installed again on click, books ran exactly its recorded binaries",
		Figure: fmt.Sprintf("removed whole %s after the controls, 0 processes left; %d samples, never a binary twice or two revisions; while it stopped, the status showed books %s, binaries %s",
			took.Round(time.Millisecond), w.samples.Load(), during.State, binaryStates(during)),
		Lost: "nothing (the app's data stays, by design)",
	})
}

// A person's controls while books is being installed on click (held in its health wait): the binaries are not
// installed yet, so each control is refused with a clear 404 at once; the install ends whole.
func TestControlsDuringAClickInstall(t *testing.T) {
	g := startGated(t, "catalog: [books]")
	agenttest.WaitUntil(t, 30*time.Second, "the fleet applied", func() bool { st, _ := g.status(); return st.Fleet.Commit != "" })
	w := watchBooks(t, g.dir)
	g.close("health")
	if code, body := g.call("POST", "/api/v1/apps/books/install"); code != http.StatusAccepted {
		t.Fatalf("install: %d %s", code, body)
	}
	g.waitHealthHeld()
	start := time.Now()
	answers := g.controls("stop books_server", "restart books_web", "start books_web")
	for _, a := range answers {
		if a.code != http.StatusNotFound || !strings.Contains(a.body, "no installed binary") {
			t.Fatalf("a control during the install: %v, want 404 no installed binary", a)
		}
	}
	answered := time.Since(start)
	g.openGates()
	agenttest.WaitUntil(t, 60*time.Second, "books installed whole", func() bool {
		return g.app("books").State == api.AppInstalled && runsExactly(g.dir, g.state().Apps["books"])
	})
	took := time.Since(start)
	w.stop()
	if err := w.err(); err != nil {
		t.Fatal(err)
	}
	if s := g.state(); len(s.Stopped) != 0 || !whole(s.Apps["books"]) {
		t.Fatalf("state after the install: %+v", s)
	}
	record(Row{
		Fault:    "a person's start, stop and restart during a click-install",
		Injected: "stop books_server, restart books_web and start books_web at once while the click-install of books waits for books_web's health",
		Did:      "answered each 404 \"no installed binary of that name\" at once (nothing of the app is installed until it is healthy); the install finished whole",
		Figure:   fmt.Sprintf("answered in %s; installed whole %s after the controls; %d samples, never a binary twice or two revisions", answered.Round(time.Millisecond), took.Round(time.Millisecond), w.samples.Load()),
		Lost:     "nothing",
	})
}

// binaryStates is how the status shows an app's binaries: "books_server failed (not running), …".
func binaryStates(a agent.AppStatus) string {
	var out []string
	for _, b := range a.Binaries {
		s := b.Name + " " + string(b.State)
		if b.Reason != "" {
			s += " (" + b.Reason + ")"
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}
