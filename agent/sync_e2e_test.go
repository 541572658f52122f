package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
	"github.com/herofleet/herofleet/plugins"
)

// A bad fleet commit is refused whole: the last good commit keeps running and the status names the bad commit and
// its errors until a newer commit arrives.
func TestBadFleetCommitRefused(t *testing.T) {
	h := newHarness(t)
	h.commitApp("books")
	const fleet = `
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books]
-- apps/books.yaml --
title: books app
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
`
	good := h.commitFleet(fleet)
	a := h.newAgent(nil)
	mustSync(t, a)
	pid := appOf(a.Status(), "books").Binaries[0].PID

	bad := h.commitFleet(fleet + `
-- apps/books.yaml --
titel: books app
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
`)
	mustSync(t, a)
	st := a.Status()
	if st.Fleet.Commit != good || st.Fleet.Head != bad || st.Fleet.State != "refused" {
		t.Fatalf("fleet %+v", st.Fleet)
	}
	if len(st.Refused) != 1 || st.Refused[0].Commit != bad || !strings.Contains(st.Refused[0].Reason, "apps/books.yaml:1:1") {
		t.Fatalf("refused %+v", st.Refused)
	}
	if b := appOf(st, "books"); b.Binaries[0].PID != pid || b.Binaries[0].State != api.BinRunning {
		t.Fatalf("books disturbed by a refused commit: %+v", b)
	}
	mustSync(t, a) // still refused, not re-reported
	if st := a.Status(); len(st.Refused) != 1 || st.Fleet.State != "refused" {
		t.Fatalf("second sync: %+v %+v", st.Fleet, st.Refused)
	}

	newer := h.commitFleet(fleet)
	mustSync(t, a)
	st = a.Status()
	if st.Fleet.Commit != newer || len(st.Refused) != 0 || st.Fleet.State != "ok" {
		t.Fatalf("after a good commit: %+v %+v", st.Fleet, st.Refused)
	}
}

// With the git server down, running apps are untouched and retries back off up to the cap.
func TestGitServerDown(t *testing.T) {
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
	pid := appOf(a.Status(), "books").Binaries[0].PID

	h.forge.Stop()
	var waits []time.Duration
	for i := 0; i < 4; i++ {
		err := a.SyncNow(context.Background())
		if err == nil {
			t.Fatal("sync against a stopped server succeeded")
		}
		waits = append(waits, a.nextWait(err))
	}
	st := a.Status()
	if st.Fleet.State != "error" || st.Fleet.Error == "" {
		t.Fatalf("fleet %+v", st.Fleet)
	}
	if b := appOf(st, "books"); b.Binaries[0].PID != pid || b.Binaries[0].State != api.BinRunning {
		t.Fatalf("books disturbed while the server is down: %+v", b)
	}
	// backoff: 1s, 2s, 4s... (each with up to half of jitter), capped by backoff_max (400ms here)
	for _, w := range waits {
		if w > 400*time.Millisecond || w < 200*time.Millisecond {
			t.Fatalf("waits %v not within the 400ms cap", waits)
		}
	}
	if err := h.forge.Start(); err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	if st := a.Status(); st.Fleet.State != "ok" {
		t.Fatalf("after the server came back: %+v", st.Fleet)
	}
	if w := a.nextWait(nil); w < 30*time.Minute {
		t.Fatalf("after recovery the schedule (@every 1h) applies again, got %s", w)
	}
}

func TestBackoffGrows(t *testing.T) {
	a := &Agent{cfg: &Config{BackoffMax: Duration{time.Minute}}, host: &hostState{}, now: time.Now}
	var prev time.Duration
	for f := 1; f <= 10; f++ {
		a.host.sync.failures = f
		w := a.nextWait(errors.New("down"))
		hi := time.Second << (f - 1)
		if hi > time.Minute {
			hi = time.Minute
		}
		if w < hi/2 || w > hi {
			t.Fatalf("failure %d: wait %s outside [%s, %s]", f, w, hi/2, hi)
		}
		prev = w
	}
	_ = prev
}

// A host whose forge was down a long while catches up within one poll of its schedule once the forge answers:
// the backoff never waits longer than the schedule would (the lab's tester cut off for two minutes waited 34 s).
func TestBackoffNeverOutwaitsTheSchedule(t *testing.T) {
	a := &Agent{cfg: &Config{BackoffMax: Duration{5 * time.Minute}, Schedule: "@every 5s"}, host: &hostState{}, now: time.Now}
	for f := 1; f <= 12; f++ {
		a.host.sync.failures = f
		if w := a.nextWait(errors.New("down")); w > 5*time.Second {
			t.Fatalf("failure %d: wait %s, longer than the 5s poll", f, w)
		}
	}
	a.host.sync.failures = 2
	if w := a.nextWait(errors.New("down")); w > 2*time.Second {
		t.Fatalf("the second failure waits %s: the backoff's 1-2s, not the schedule", w)
	}
}

// A binary that keeps exiting is restarted with backoff and shown as crash-looping.
func TestCrashloopingBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("seconds of waiting: not in -short")
	}
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
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock", --exit-after, 1ms]}
`)
	a := h.newAgent(nil)
	mustSync(t, a)
	agenttest.WaitUntil(t, 15*time.Second, "crashloop", func() bool {
		b := appOf(a.Status(), "books")
		return len(b.Binaries) == 1 && b.Binaries[0].State == api.BinCrashloop
	})
	b := appOf(a.Status(), "books").Binaries[0]
	if b.Restarts < 4 || !strings.Contains(b.Reason, "fast exits") {
		t.Fatalf("%+v", b)
	}
}

// An app from the role's catalog installs on click with a job, is remembered, and uninstalls.
func TestInstallOnClick(t *testing.T) {
	h := newHarness(t)
	for _, n := range []string{"books", "foundry", "osis"} {
		h.commitApp(n)
	}
	h.commitFleet(`
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books]
catalog: [foundry]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
-- apps/foundry.yaml --
source: {repo: https://forge.test/apps/foundry.git, ref: main}
build: {command: [{{testapp}}, build, target/release/foundry_server], timeout: 1m}
binaries:
  - {name: foundry_server, kind: server, path: target/release/foundry_server, args: [--listen, "unix://${sockets}/foundry_server.sock"], listen: "unix://${sockets}/foundry_server.sock", health: /health}
needs: [osis]
-- apps/osis.yaml --
source: {repo: https://forge.test/apps/osis.git, ref: main}
build: {command: [{{testapp}}, build, target/release/osis_server], timeout: 1m}
binaries:
  - {name: osis_server, kind: server, path: target/release/osis_server, args: [--listen, "unix://${sockets}/osis_server.sock"], listen: "unix://${sockets}/osis_server.sock", health: /health}
`)
	a := h.newAgent(nil)
	mustSync(t, a)
	if st := a.Status(); strings.Join(st.Catalog, ",") != "foundry" || appOf(st, "foundry").State != api.AppNotInstalled {
		t.Fatalf("catalog %v", st.Catalog)
	}
	if _, err := a.Install("books"); !errors.Is(err, ErrInstalled) {
		t.Fatalf("install of an installed app: %v", err)
	}
	if _, err := a.Install("osis"); !errors.Is(err, ErrNotInCatalog) {
		t.Fatalf("install outside the catalog: %v", err)
	}
	job, err := a.Install("foundry")
	if err != nil {
		t.Fatal(err)
	}
	if job.Phase != api.PhaseFetching {
		t.Fatalf("job %+v", job)
	}
	if _, err := a.Install("foundry"); !errors.Is(err, ErrInstalled) {
		t.Fatalf("a second click before the install started: %v, want ErrInstalled (409), not a second job", err)
	}
	mustSync(t, a)
	j, _ := a.JobStatus(job.ID)
	if j.Phase != api.PhaseHealthy || !strings.Contains(j.LogTail, "testapp: building") {
		t.Fatalf("job %+v", j)
	}
	st := a.Status()
	if f := appOf(st, "foundry"); f.State != api.AppInstalled || !f.Clicked || appOf(st, "osis").State != api.AppInstalled {
		t.Fatalf("foundry %+v osis %+v", f, appOf(st, "osis"))
	}
	// remembered across a restart of the agent
	b := h.newAgent(nil)
	if got := b.host.clicked(); len(got) != 1 || got[0] != "foundry" {
		t.Fatalf("clicked after restart: %v", got)
	}
	if err := a.Uninstall("books"); !errors.Is(err, ErrNotClicked) {
		t.Fatalf("uninstall of a role app: %v", err)
	}
	if err := a.Uninstall("foundry"); err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	if n := agenttest.MarkedProcs(h.dir); n["foundry_server"] != 0 || n["osis_server"] != 0 || n["books_server"] != 1 {
		t.Fatalf("after uninstall: %v", n)
	}
}

// recordingRunner is a fake hook runner.
type recordingRunner struct {
	calls []plugins.Call
	fail  string // event that fails
}

func (r *recordingRunner) Run(ctx context.Context, c plugins.Call) (*plugins.Result, error) {
	r.calls = append(r.calls, c)
	if c.Event == r.fail {
		return nil, fmt.Errorf("plugin %s said no", c.Plugin)
	}
	return &plugins.Result{Messages: []string{"seeded"}, Env: map[string]string{"FROM_HOOK": "yes"}}, nil
}

func TestHooks(t *testing.T) {
	h := newHarness(t)
	const fleet = `
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
hooks:
  - {plugin: seed-git, on: post-start, with: {into: "${data}/libraries", repos: [{name: a, url: "https://forge.test/lib/a.git"}]}}
  - {plugin: seed-git, on: pre-start}
  - {plugin: seed-git, on: pre-build}
  - {plugin: seed-git, on: pre-remove}
`
	h.commitApp("books")
	h.commitFleet(fleet)

	// no runner: the app fails with a clear reason
	a := h.newAgent(nil)
	mustSync(t, a)
	if b := appOf(a.Status(), "books"); b.State != api.AppFailed || !strings.Contains(b.Reason, "no hook runner") || b.Phase != "" {
		t.Fatalf("%+v (an idle agent shows no phase)", b)
	}
	a.Shutdown()

	h2 := newHarness(t)
	h2.commitApp("books")
	h2.commitFleet(fleet)
	r := &recordingRunner{}
	a = h2.newAgent(r)
	mustSync(t, a)
	var events []string
	for _, c := range r.calls {
		events = append(events, c.Event)
	}
	if strings.Join(events, ",") != "pre-build,pre-start,post-start" {
		t.Fatalf("events %v", events)
	}
	post := r.calls[2]
	repos := post.With["repos"].([]any)[0].(map[string]any)
	if post.With["into"] != h2.dir+"/data/books/libraries" || repos["url"] != h2.forge.URL()+"lib/a.git" || post.Rev == "" {
		t.Fatalf("post-start call %+v", post)
	}
	if body, _ := agenttest.GetUnix(h2.sock("books_server"), "/"); !strings.Contains(body, "FROM_HOOK=yes") {
		t.Fatalf("hook env not passed to the binary: %q", body)
	}
	// pre-remove failing is reported, not fatal
	r.fail = "pre-remove"
	h2.commitFleet(fleet + `
-- roles/tester.yaml --
preinstalled: []
`)
	mustSync(t, a)
	if n := agenttest.MarkedProcs(h2.dir); n["books_server"] != 0 {
		t.Fatalf("app not removed after a failing pre-remove: %v", n)
	}

	// a failing post-start rolls back
	h3 := newHarness(t)
	h3.commitApp("books")
	h3.commitFleet(fleet)
	r3 := &recordingRunner{fail: "post-start"}
	a = h3.newAgent(r3)
	mustSync(t, a)
	if b := appOf(a.Status(), "books"); b.State != api.AppFailed || !strings.Contains(b.Reason, "said no") {
		t.Fatalf("%+v", b)
	}
	if n := agenttest.MarkedProcs(h3.dir); len(n) != 0 {
		t.Fatalf("left running after a failing post-start: %v", n)
	}
}

// A forge cut off mid-connection answers nothing at all (a link down, a firewall dropping packets): the sync gives
// up after sync_timeout and says why, the apps untouched, instead of showing "syncing" for as long as TCP retries.
func TestForgeThatNeverAnswers(t *testing.T) {
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
	cfg := h.config()
	cfg.SyncTimeout.Duration = 500 * time.Millisecond
	a, err := New(cfg, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Shutdown)
	mustSync(t, a)
	pid := appOf(a.Status(), "books").Binaries[0].PID

	// The forge's address now accepts connections and never says a word.
	addr := strings.TrimSuffix(strings.TrimPrefix(h.forge.URL(), "http://"), "/")
	h.forge.Stop()
	var ln net.Listener
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if ln, err = net.Listen("tcp", addr); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, unanswered, until the test ends
		}
	}()
	start := time.Now()
	err = a.SyncNow(context.Background())
	took := time.Since(start)
	if err == nil {
		t.Fatal("a sync against a forge that never answers succeeded")
	}
	if took > 5*time.Second {
		t.Fatalf("the sync waited %s on a silent forge (sync_timeout 500ms)", took)
	}
	st := a.Status()
	if st.Fleet.State != api.SyncError || !strings.Contains(st.Fleet.Error, "did not answer within 500ms") {
		t.Fatalf("fleet %+v: want an error saying the forge did not answer", st.Fleet)
	}
	if b := appOf(st, "books"); b.Binaries[0].PID != pid || b.Binaries[0].State != api.BinRunning {
		t.Fatalf("books disturbed while the forge was silent: %+v", b)
	}
}
