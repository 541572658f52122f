package agent

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
)

// A commit installs the host's apps in needs order; a new commit on an app's branch upgrades it; a change of args
// restarts without a rebuild; an app leaving the role is stopped and its data kept.
func TestInstallUpgradeRemove(t *testing.T) {
	h := newHarness(t)
	h.commitApp("books")
	h.commitApp("memory")
	const fleet = `
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server, target/release/books_web], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], env: {APP_DATA: "${data}"}, listen: "unix://${sockets}/books_server.sock", health: /health}
  - {name: books_web, kind: server, path: target/release/books_web, args: [--listen, "unix://${sockets}/books_web.sock"], env: {APP_DATA: "${data}"}, listen: "unix://${sockets}/books_web.sock", health: /health}
needs: [memory]
-- apps/memory.yaml --
source: {repo: https://forge.test/apps/memory.git, ref: main}
build: {command: [{{testapp}}, build, target/release/memory_server], timeout: 1m}
binaries:
  - {name: memory_server, kind: server, path: target/release/memory_server, args: [--listen, "unix://${sockets}/memory_server.sock"], env: {APP_DATA: "${data}"}, listen: "unix://${sockets}/memory_server.sock", health: /health}
`
	h.commitFleet(fleet)
	a := h.newAgent(nil)
	mustSync(t, a)

	st := a.Status()
	for _, name := range []string{"memory", "books"} {
		if app := appOf(st, name); app.State != api.AppInstalled {
			t.Fatalf("%s: %+v", name, app)
		}
	}
	if st.Apps[0].Name != "memory" {
		t.Fatalf("needs order: memory first, got %s", st.Apps[0].Name)
	}
	for _, bin := range []string{"books_server", "books_web", "memory_server"} {
		body, err := agenttest.GetUnix(h.sock(bin), "/")
		if err != nil {
			t.Fatalf("%s: %v", bin, err)
		}
		if !strings.Contains(body, "binary="+bin) || !strings.Contains(body, "APP_DATA="+h.dir) {
			t.Fatalf("%s answered %q", bin, body)
		}
		if strings.Contains(body, "GOPATH") || strings.Contains(body, "HF_TEST") {
			t.Fatalf("%s inherited the agent's environment: %q", bin, body)
		}
	}
	if st.Fleet.Commit == "" || st.Fleet.State != "ok" {
		t.Fatalf("fleet %+v", st.Fleet)
	}
	oldRev := appOf(st, "books").Rev
	oldPID := appOf(st, "books").Binaries[0].PID

	// a new commit on the app's branch upgrades the whole bundle
	newRev := h.commitApp("books")
	mustSync(t, a)
	books := appOf(a.Status(), "books")
	if books.Rev != newRev || books.Rev == oldRev || books.Binaries[0].PID == oldPID {
		t.Fatalf("not upgraded: %+v", books)
	}

	// new args: restarted, not rebuilt
	buildDir := a.host.installed("books").BuildDir
	buildLog, _ := os.Stat(buildDir + ".log")
	const flavoured = fleet + `
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server, target/release/books_web], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock", --flavour, two], env: {APP_DATA: "${data}"}, listen: "unix://${sockets}/books_server.sock", health: /health}
  - {name: books_web, kind: server, path: target/release/books_web, args: [--listen, "unix://${sockets}/books_web.sock", --flavour, two], env: {APP_DATA: "${data}"}, listen: "unix://${sockets}/books_web.sock", health: /health}
needs: [memory]
`
	h.commitFleet(flavoured)
	mustSync(t, a)
	if body, _ := agenttest.GetUnix(h.sock("books_web"), "/"); !strings.Contains(body, "--flavour two") {
		t.Fatalf("new args not applied: %q", body)
	}
	again, _ := os.Stat(buildDir + ".log")
	if a.host.installed("books").BuildDir != buildDir || !again.ModTime().Equal(buildLog.ModTime()) {
		t.Fatalf("an args change rebuilt")
	}
	// only the running build and the one before it are kept
	if dirs, _ := filepath.Glob(filepath.Join(h.dir, "builds", "books", "*.log")); len(dirs) > 2 {
		t.Fatalf("old builds not pruned: %v", dirs)
	}

	// books leaves the role: stopped, data kept; memory leaves with it
	os.WriteFile(filepath.Join(h.dir, "data", "books", "keep"), []byte("x"), 0o644)
	h.commitFleet(flavoured + `
-- roles/tester.yaml --
preinstalled: [memory]
`)
	mustSync(t, a)
	if _, err := agenttest.GetUnix(h.sock("books_web"), "/health"); err == nil {
		t.Fatal("books still answers after it left the host")
	}
	if _, err := os.Stat(filepath.Join(h.dir, "data", "books", "keep")); err != nil {
		t.Fatal("removal lost the app's data")
	}
	if got := slices.Sorted(maps.Keys(agenttest.MarkedProcs(h.dir))); strings.Join(got, ",") != "memory_server" {
		t.Fatalf("processes after removal: %v", got)
	}
}

// A broken build leaves the running revision alone, quarantines that spec and does not hold back other apps; a
// fix lifts the quarantine.
func TestBrokenBuildRollsBackAndQuarantines(t *testing.T) {
	h := newHarness(t)
	h.commitApp("books")
	good := h.commitApp("voice")
	h.commitFleet(`
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books, voice]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
-- apps/voice.yaml --
source: {repo: https://forge.test/apps/voice.git, ref: main}
build: {command: [{{testapp}}, build, target/release/voice_server], timeout: 1m}
binaries:
  - {name: voice_server, kind: server, path: target/release/voice_server, args: [--listen, "unix://${sockets}/voice_server.sock"], listen: "unix://${sockets}/voice_server.sock", health: /health}
`)
	a := h.newAgent(nil)
	mustSync(t, a)
	voicePID := appOf(a.Status(), "voice").Binaries[0].PID

	bad := h.commitApp("voice", "FAIL_BUILD")
	h.commitApp("books") // books moves too: it must still upgrade
	mustSync(t, a)
	st := a.Status()
	voice := appOf(st, "voice")
	if voice.Rev != good || voice.Binaries[0].PID != voicePID || voice.Binaries[0].State != api.BinRunning {
		t.Fatalf("the running revision was disturbed: %+v", voice)
	}
	if len(st.Quarantined) != 1 || st.Quarantined[0].App != "voice" || st.Quarantined[0].Rev != bad ||
		!strings.Contains(st.Quarantined[0].Reason, "build failed") {
		t.Fatalf("quarantine %+v", st.Quarantined)
	}
	if !strings.Contains(voice.Reason, "build failed") {
		t.Fatalf("reason %q", voice.Reason)
	}
	if b := appOf(st, "books"); b.Rev == "" || b.Reason != "" {
		t.Fatalf("books held back: %+v", b)
	}
	// the same spec is not retried
	mustSync(t, a)
	if r := appOf(a.Status(), "voice").Reason; !strings.Contains(r, "quarantined: build failed") {
		t.Fatalf("reason %q", r)
	}
	logs, _ := filepath.Glob(filepath.Join(h.dir, "builds", "voice", "*.log"))
	if len(logs) != 2 {
		t.Fatalf("build logs %v: the quarantined spec was built again or its log lost", logs)
	}
	fixed := h.commitApp("voice")
	mustSync(t, a)
	st = a.Status()
	if v := appOf(st, "voice"); v.Rev != fixed || len(st.Quarantined) != 0 {
		t.Fatalf("fix not applied: %+v %+v", v, st.Quarantined)
	}
}

// A new revision that never becomes healthy is stopped and the previous revision runs again.
func TestFailingHealthRollsBack(t *testing.T) {
	if testing.Short() {
		t.Skip("seconds of waiting: not in -short")
	}
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
build: {command: [{{testapp}}, build, target/release/books_server, target/release/books_web], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
  - {name: books_web, kind: server, path: target/release/books_web, args: [--listen, "unix://${sockets}/books_web.sock"], listen: "unix://${sockets}/books_web.sock", health: /health}
`
	h.commitFleet(fleet)
	cfg := h.config()
	cfg.HealthTimeout.Duration = time.Second // the wait for a health that never comes is all this test costs
	a, err := New(cfg, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Shutdown)
	mustSync(t, a)
	before := appOf(a.Status(), "books")

	h.commitFleet(fleet + `
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server, target/release/books_web], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock", --health-fail], listen: "unix://${sockets}/books_server.sock", health: /health}
  - {name: books_web, kind: server, path: target/release/books_web, args: [--listen, "unix://${sockets}/books_web.sock", --health-fail], listen: "unix://${sockets}/books_web.sock", health: /health}
`)
	mustSync(t, a)
	st := a.Status()
	after := appOf(st, "books")
	if after.Rev != before.Rev || len(st.Quarantined) != 1 || !strings.Contains(st.Quarantined[0].Reason, "not healthy") {
		t.Fatalf("after %+v quarantine %+v", after, st.Quarantined)
	}
	for _, bin := range []string{"books_server", "books_web"} {
		body, err := agenttest.GetUnix(h.sock(bin), "/")
		if err != nil || strings.Contains(body, "--health-fail") {
			t.Fatalf("%s after rollback: %q %v", bin, body, err)
		}
	}
	if n := agenttest.MarkedProcs(h.dir); n["books_server"] != 1 || n["books_web"] != 1 {
		t.Fatalf("instances after rollback: %v", n)
	}
}

// A new app that fails is removed entirely: never a half-app.
func TestNewAppFailingIsRemovedWhole(t *testing.T) {
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
build: {command: [{{testapp}}, build, target/release/books_server, target/release/books_web], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
  - {name: books_web, kind: server, path: target/release/missing, args: [--listen, "unix://${sockets}/books_web.sock"], listen: "unix://${sockets}/books_web.sock", health: /health}
`
	h.commitFleet(fleet)
	a := h.newAgent(nil)
	mustSync(t, a)
	books := appOf(a.Status(), "books")
	if books.State != api.AppFailed || !strings.Contains(books.Reason, "was not built") {
		t.Fatalf("%+v", books)
	}
	if n := agenttest.MarkedProcs(h.dir); len(n) != 0 {
		t.Fatalf("half-app left running: %v", n)
	}
	// the app leaves the host: its quarantine goes with it
	h.commitFleet(fleet + `
-- roles/tester.yaml --
preinstalled: []
`)
	mustSync(t, a)
	if q := a.Status().Quarantined; len(q) != 0 {
		t.Fatalf("quarantine of an app that left: %+v", q)
	}
}

// A source clone broken by a kill during a fetch is thrown away and cloned again.
func TestBrokenSourceCloneIsRecloned(t *testing.T) {
	h := newHarness(t)
	h.commitApp("books")
	h.commitFleet(`
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
`)
	a := h.newAgent(nil)
	mustSync(t, a)
	packs, _ := filepath.Glob(filepath.Join(h.dir, "sources", "books-*", "objects", "pack", "*.pack"))
	loose, _ := filepath.Glob(filepath.Join(h.dir, "sources", "books-*", "objects", "??", "*"))
	for _, p := range append(packs, loose...) {
		os.WriteFile(p, []byte("garbage"), 0o644)
	}
	if len(packs)+len(loose) == 0 {
		t.Fatal("no objects found to break")
	}
	mustSync(t, a) // nothing new: resolving the ref reads the broken clone
	if b := appOf(a.Status(), "books"); b.Reason != "" || b.Binaries[0].State != api.BinRunning {
		t.Fatalf("books after a sync with a broken clone: %+v", b)
	}
	after, _ := filepath.Glob(filepath.Join(h.dir, "sources", "books-*", "objects", "*", "*"))
	for _, p := range after {
		if b, _ := os.ReadFile(p); string(b) == "garbage" {
			t.Fatalf("broken object %s kept", p)
		}
	}
	rev := h.commitApp("books")
	mustSync(t, a)
	if b := appOf(a.Status(), "books"); b.Rev != rev {
		t.Fatalf("not upgraded after a broken clone: %+v", b)
	}
}

// An app whose need failed to install waits, with a reason; unrelated apps go ahead.
func TestNeedsFailureHoldsOnlyDependents(t *testing.T) {
	h := newHarness(t)
	h.commitApp("memory", "FAIL_BUILD")
	h.commitApp("books")
	h.commitApp("voice")
	h.commitFleet(`
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books, voice]
-- apps/memory.yaml --
source: {repo: https://forge.test/apps/memory.git, ref: main}
build: {command: [{{testapp}}, build, target/release/memory_server], timeout: 1m}
binaries:
  - {name: memory_server, kind: server, path: target/release/memory_server, args: [--listen, "unix://${sockets}/memory_server.sock"], listen: "unix://${sockets}/memory_server.sock", health: /health}
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
needs: [memory]
-- apps/voice.yaml --
source: {repo: https://forge.test/apps/voice.git, ref: main}
build: {command: [{{testapp}}, build, target/release/voice_server], timeout: 1m}
binaries:
  - {name: voice_server, kind: server, path: target/release/voice_server, args: [--listen, "unix://${sockets}/voice_server.sock"], listen: "unix://${sockets}/voice_server.sock", health: /health}
`)
	a := h.newAgent(nil)
	mustSync(t, a)
	st := a.Status()
	if m := appOf(st, "memory"); m.State != api.AppFailed {
		t.Fatalf("memory %+v", m)
	}
	if b := appOf(st, "books"); b.State == api.AppInstalled || !strings.Contains(b.Reason, "needs memory") {
		t.Fatalf("books %+v", b)
	}
	if v := appOf(st, "voice"); v.State != api.AppInstalled {
		t.Fatalf("voice held back by another app's failure: %+v", v)
	}
	h.commitApp("memory")
	mustSync(t, a)
	if b := appOf(a.Status(), "books"); b.State != api.AppInstalled {
		t.Fatalf("books after memory was fixed: %+v", b)
	}
}

// A build that overruns its timeout is killed with its process group; the app fails with the reason.
func TestBuildTimeout(t *testing.T) {
	h := newHarness(t)
	h.commitApp("books")
	h.commitFleet(`
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 500ms}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
`)
	cfg, err := ParseConfig([]byte(h.configText() + "build_env: {SLOW_BUILD: 60s}\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Shutdown)
	mustSync(t, a)
	if b := appOf(a.Status(), "books"); b.State != api.AppFailed || !strings.Contains(b.Reason, "build timed out after 500ms") {
		t.Fatalf("%+v", b)
	}
	agenttest.WaitUntil(t, 10*time.Second, "the build's processes gone", func() bool { return len(agenttest.MarkedProcs(h.dir)) == 0 })
}
