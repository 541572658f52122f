package agent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herofleet/herofleet/api"
)

// The fleet of the rollout tests: host t1 (the harness's agent) in wave rest, behind canary t0, with the health of
// the waves read from a Prometheus nobody listens on: every gate question gets no answer. {{memo}} adds to
// books' args, to make a new commit that restarts it.
const rolloutHoldFleet = `
-- fleet.yaml --
name: test
rollout:
  waves:
    - {name: canary, hosts: [t0]}
    - {name: rest}
  bake: 1m
  health: {prometheus: "http://127.0.0.1:1"}
-- hosts/t0.yaml --
role: tester
-- roles/tester.yaml --
preinstalled: [books]
catalog: [memo]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: books_server, args: [--listen, "unix://${sockets}/books_server.sock"{{args}}], listen: "unix://${sockets}/books_server.sock", health: /health}
-- apps/memo.yaml --
source: {repo: https://forge.test/apps/memo.git, ref: main}
build: {command: [{{testapp}}, build, memo_server], timeout: 1m}
binaries:
  - {name: memo_server, kind: server, path: memo_server, args: [--listen, "unix://${sockets}/memo_server.sock"], listen: "unix://${sockets}/memo_server.sock", health: /health}
`

// A host of a later wave: its first commit is not held; a newer one is, when Prometheus does not answer (no answer
// is a no): the host keeps its commit and its running apps, shows waiting with the reason, and a click-install
// still proceeds. Suspend takes over (nothing is judged while suspended) and resume judges again.
func TestRolloutHoldsANewCommitWithoutAnAnswer(t *testing.T) {
	h := newHarness(t)
	h.commitApp("books")
	h.commitApp("memo")
	first := h.commitFleet(rolloutHoldFleet, map[string]string{"args": ""})
	a := h.newAgent(nil)
	mustSync(t, a)
	st := a.Status()
	if st.Fleet.Commit != first || st.Fleet.State != api.SyncOK || appOf(st, "books").State != api.AppInstalled {
		t.Fatalf("the first commit is never held: commit %s state %s books %s", short(st.Fleet.Commit), st.Fleet.State, appOf(st, "books").State)
	}
	if r := st.Fleet.Rollout; r == nil || r.Wave != "rest" || r.Waiting != "" {
		t.Fatalf("fleet.rollout = %+v, want wave rest and nothing held", r)
	}
	pid := binOf(t, st, "books").PID

	second := h.commitFleet(rolloutHoldFleet, map[string]string{"args": `, --greeting, hi`})
	mustSync(t, a)
	st = a.Status()
	r := st.Fleet.Rollout
	if st.Fleet.Commit != first || st.Fleet.Head != second || st.Fleet.State != api.SyncWaiting || r == nil || r.Waiting != second {
		t.Fatalf("a newer commit without an answer: commit %s head %s state %s rollout %+v; want the first kept, waiting",
			short(st.Fleet.Commit), short(st.Fleet.Head), st.Fleet.State, r)
	}
	if !strings.HasPrefix(r.Reason, "wave canary: no answer from Prometheus") || r.Since.IsZero() {
		t.Errorf("reason %q since %v: want the wave waited for and no answer from Prometheus", r.Reason, r.Since)
	}
	if b := binOf(t, st, "books"); b.PID != pid || b.State != api.BinRunning {
		t.Errorf("books while held: pid %d state %s, want %d still running", b.PID, b.State, pid)
	}
	if !st.Healthy() {
		t.Errorf("a host holding a commit for the earlier waves runs its own fine: healthy, got %+v", st.Verdict())
	}
	since := r.Since
	mustSync(t, a) // asked again: still held, since unchanged
	if r := a.Status().Fleet.Rollout; r.Since != since || r.Waiting != second {
		t.Errorf("held again: rollout %+v, want since %v kept", r, since)
	}

	// A click-install is not held: memo comes from the commit the host runs.
	if _, err := a.Install("memo"); err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	if st := a.Status(); appOf(st, "memo").State != api.AppInstalled || st.Fleet.Commit != first {
		t.Errorf("click-install while held: memo %s, commit %s", appOf(st, "memo").State, short(st.Fleet.Commit))
	}

	// Suspended: nothing is judged, the hold is not shown as current; resumed: judged again.
	if err := a.Suspend(); err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	if st := a.Status(); st.Fleet.State != api.SyncSuspended || st.Fleet.Rollout.Waiting != "" {
		t.Errorf("suspended: state %s rollout %+v", st.Fleet.State, st.Fleet.Rollout)
	}
	if err := a.Resume(); err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	if st := a.Status(); st.Fleet.State != api.SyncWaiting || st.Fleet.Rollout.Waiting != second || st.Fleet.Commit != first {
		t.Errorf("resumed: state %s rollout %+v commit %s", st.Fleet.State, st.Fleet.Rollout, short(st.Fleet.Commit))
	}
}

// The first wave never asks: a canary applies a new commit at once, even with no Prometheus to answer.
func TestRolloutFirstWaveAppliesAtOnce(t *testing.T) {
	h := newHarness(t)
	h.commitApp("books")
	h.commitApp("memo")
	canary := strings.Replace(rolloutHoldFleet, "hosts: [t0]}", "hosts: [t1]}", 1) + "-- hosts/t1.yaml --\nrole: tester\naddress: 127.0.0.1\n"
	h.commitFleet(canary, map[string]string{"args": ""})
	a := h.newAgent(nil)
	mustSync(t, a)
	second := h.commitFleet(canary, map[string]string{"args": `, --greeting, hi`})
	mustSync(t, a)
	st := a.Status()
	if st.Fleet.Commit != second || st.Fleet.State != api.SyncOK || st.Fleet.Rollout == nil || st.Fleet.Rollout.Wave != "canary" {
		t.Errorf("canary: commit %s state %s rollout %+v; want the new commit applied at once", short(st.Fleet.Commit), st.Fleet.State, st.Fleet.Rollout)
	}
}

// restartAgent stops a, does meanwhile what the test asks, and starts a new agent on the same dir as Run does:
// survivors killed, the recorded apps started again from state.json, the applied commit reloaded when it can be.
func (h *harness) restartAgent(a *Agent, meanwhile func()) *Agent {
	h.t.Helper()
	a.Shutdown()
	meanwhile()
	b := h.newAgent(nil)
	b.restore(context.Background())
	return b
}

// A restarted agent never takes a held commit for its first: whether a commit is the host's first is state.json's
// applied commit. With its fleet clone lost, the sync fetches it again and the host holds as before; with an
// applied commit that no longer loads (a stricter validation: here an ancestor that never validated), it holds and
// says why. Either way its apps keep running what state.json records.
func TestRolloutRestartedAgentStillHolds(t *testing.T) {
	h := newHarness(t)
	h.commitApp("books")
	h.commitApp("memo")
	broken := h.commitFleet("-- fleet.yaml --\nname: [broken\n")
	first := h.commitFleet(rolloutHoldFleet, map[string]string{"args": ""})
	a := h.newAgent(nil)
	mustSync(t, a)
	second := h.commitFleet(rolloutHoldFleet, map[string]string{"args": `, --greeting, hi`})
	mustSync(t, a)
	if st := a.Status(); st.Fleet.Commit != first || st.Fleet.State != api.SyncWaiting {
		t.Fatalf("before the restart: commit %s state %s, want %s held", short(st.Fleet.Commit), st.Fleet.State, short(first))
	}

	held := func(a *Agent, what, reason string) {
		t.Helper()
		mustSync(t, a)
		st := a.Status()
		r := st.Fleet.Rollout
		if st.Fleet.Commit != first || st.Fleet.State != api.SyncWaiting || r == nil || r.Waiting != second || !strings.HasPrefix(r.Reason, reason) {
			t.Fatalf("%s: commit %s state %s rollout %+v; want %s kept, %s held: %q", what, short(st.Fleet.Commit), st.Fleet.State, r,
				short(first), short(second), reason)
		}
		if h.stateOnDisk().Fleet.Commit != first {
			t.Fatalf("%s: state.json records %s applied", what, short(h.stateOnDisk().Fleet.Commit))
		}
		if b := binOf(t, st, "books"); b.State != api.BinRunning {
			t.Fatalf("%s: books %+v, want it running", what, b)
		}
	}

	// The fleet clone is lost: fetched again, the applied commit loads again, the gate is asked as before.
	b := h.restartAgent(a, func() {
		if err := os.RemoveAll(filepath.Join(h.dir, "fleet.git")); err != nil {
			t.Fatal(err)
		}
	})
	if b.host.goodFleet() != nil {
		t.Fatal("the applied commit loaded from a clone that is gone")
	}
	held(b, "clone lost", "wave canary: no answer from Prometheus")

	// The applied commit no longer loads: held, and the reason says why.
	d := h.restartAgent(b, func() {
		st := h.stateOnDisk()
		st.Fleet.Commit = broken
		if err := st.save(filepath.Join(h.dir, "state.json")); err != nil {
			t.Fatal(err)
		}
	})
	first = broken // what state.json records is what the host says it runs
	held(d, "applied commit does not load",
		"wave rest: the applied commit "+short(broken)+" cannot be loaded (fleet.yaml:1:1: invalid YAML")
	if r := d.Status().Fleet.Rollout.Reason; !strings.Contains(r, "holding "+short(second)+" until the earlier waves are known to be done; wave canary: no answer from Prometheus") {
		t.Errorf("reason %q: want the held commit and the earlier wave named", r)
	}
}
