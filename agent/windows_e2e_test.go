package agent

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
)

// testClock is the agent's clock in a test: it moves only when the test says so.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func binOf(t *testing.T, st Status, app string) BinaryStatus {
	t.Helper()
	as := appOf(st, app)
	if len(as.Binaries) == 0 {
		t.Fatalf("%s has no binaries: %+v", app, as)
	}
	return as.Binaries[0]
}

// A fleet with a maintenance window (02:00 UTC for 1h) holds a restart and a removal until the window opens,
// driven by the agent's clock: the app keeps running meanwhile and says what waits and until when; installing a
// missing app does not wait; the agent plans to wake up when the window opens; the applied action says why.
func TestMaintenanceWindowHoldsDisruptiveChanges(t *testing.T) {
	h := newHarness(t)
	clock := &testClock{t: time.Date(2026, 3, 10, 1, 30, 0, 0, time.UTC)}
	h.commitApp("books")
	h.commitApp("memo")
	// Every commit of this test has this fleet.yaml.
	const window = `
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
maintenance: [{schedule: "0 2 * * *", duration: 1h}]
`
	h.commitFleet(window + `
-- roles/tester.yaml --
preinstalled: [books]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
`)
	a := h.newAgent(nil)
	a.now = clock.Now
	mustSync(t, a)
	pid := binOf(t, a.Status(), "books").PID

	// outside the window: books' args change (a restart) waits, the new app memo is installed at once
	change := h.commitFleet(window + `
-- roles/tester.yaml --
preinstalled: [books, memo]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock", --greeting, hello], listen: "unix://${sockets}/books_server.sock", health: /health}
-- apps/memo.yaml --
source: {repo: https://forge.test/apps/memo.git, ref: main}
build: {command: [{{testapp}}, build, target/release/memo_server], timeout: 1m}
binaries:
  - {name: memo_server, kind: server, path: target/release/memo_server, args: [--listen, "unix://${sockets}/memo_server.sock"], listen: "unix://${sockets}/memo_server.sock", health: /health}
`)
	mustSync(t, a)
	st := a.Status()
	opens := time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
	b := binOf(t, st, "books")
	if b.State != api.BinWaiting || !b.Until.Equal(opens) || b.PID != pid || !strings.Contains(b.Reason, "restart") ||
		!strings.Contains(b.Reason, "binary books_server: args changed") {
		t.Fatalf("books during the closed window: %+v", b)
	}
	if w := appOf(st, "memo"); w.State != api.AppInstalled || binOf(t, st, "memo").State != api.BinRunning {
		t.Fatalf("installing memo waited for the window: %+v", w)
	}
	if got := a.nextWait(nil); got > 30*time.Minute {
		t.Fatalf("the agent sleeps %s past the window's opening (30m away)", got)
	}

	// the window opens: the restart applies, and says why
	clock.Set(opens.Add(5 * time.Minute))
	mustSync(t, a)
	st = a.Status()
	b = binOf(t, st, "books")
	if b.State != api.BinRunning || b.PID == pid || !b.Until.IsZero() {
		t.Fatalf("books in the window: %+v", b)
	}
	last := appOf(st, "books").Last
	if last == nil || last.Action != fleet.Restart || last.Commit != change || !strings.Contains(strings.Join(last.Reasons, ";"), "args changed") {
		t.Fatalf("books' last action: %+v", last)
	}

	// the window closed again: removing memo waits for the next day's window
	clock.Set(opens.Add(90 * time.Minute))
	h.commitFleet(window + `
-- roles/tester.yaml --
preinstalled: [books]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock", --greeting, hello], listen: "unix://${sockets}/books_server.sock", health: /health}
`)
	mustSync(t, a)
	m := binOf(t, a.Status(), "memo")
	if m.State != api.BinWaiting || !m.Until.Equal(opens.Add(24*time.Hour)) || !strings.Contains(m.Reason, "remove") {
		t.Fatalf("memo's removal outside the window: %+v", m)
	}
	// suspended during the pending removal: the window opens and nothing happens until resume
	if err := a.Suspend(); err != nil {
		t.Fatal(err)
	}
	clock.Set(opens.Add(24*time.Hour + time.Minute))
	mustSync(t, a)
	st = a.Status()
	if m := binOf(t, st, "memo"); st.Fleet.State != "suspended" || m.State != api.BinWaiting || !strings.Contains(m.Reason, "suspended") {
		t.Fatalf("memo's removal while suspended in the window: %+v, fleet %+v", m, st.Fleet)
	}
	if err := a.Resume(); err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	st = a.Status()
	if appOf(st, "memo").State == api.AppInstalled {
		t.Fatalf("memo still installed in the window: %+v", appOf(st, "memo"))
	}

	// the last actions survive a restart: they are in the state file
	var saved State
	data, err := os.ReadFile(filepath.Join(h.dir, "state.json"))
	if err == nil {
		err = json.Unmarshal(data, &saved)
	}
	if err != nil {
		t.Fatal(err)
	}
	if saved.Actions["memo"].Action != fleet.Remove || saved.Actions["books"].Action != fleet.Restart {
		t.Fatalf("saved actions: %+v", saved.Actions)
	}
}
