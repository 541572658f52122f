package agent

import (
	"strings"
	"testing"

	"github.com/herofleet/herofleet/api"
)

// The verdict fleet tools give a host: what counts as expected and running, and each problem once.
func TestVerdict(t *testing.T) {
	running := func(name string) BinaryStatus { return BinaryStatus{Name: name, State: api.BinRunning} }
	st := Status{
		Fleet:       FleetStatus{State: api.SyncOK},
		Quarantined: []Quarantine{{App: "books", Reason: "health: timeout"}, {App: "gone", Reason: "build failed"}},
		Apps: []AppStatus{
			{Name: "cockpit", Why: "preinstalled by role tester", State: api.AppInstalled, Binaries: []BinaryStatus{running("cockpit_web")}},
			// quarantined while its previous revision runs: one problem, the quarantine
			{Name: "books", Why: "preinstalled by role tester", State: api.AppInstalled, Binaries: []BinaryStatus{running("books_server")}},
			{Name: "memory", Why: "needed by books", State: api.AppInstalled, Binaries: []BinaryStatus{running("memory_server"),
				{Name: "memory_admin", State: api.BinCrashloop, Reason: "exited 1"}}},
			{Name: "voice", Why: "preinstalled by role tester", State: api.AppInstalled, Binaries: []BinaryStatus{
				{Name: "voice_web", State: api.BinWaiting, Reason: "upgrade waits for the window"}}},
			{Name: "agent", Why: "preinstalled by role tester", State: api.AppFailed, Code: api.ReasonApplyFailed, Reason: "build failed"},
			{Name: "foundry", Offered: true, State: api.AppNotInstalled},                                                   // offered: not expected
			{Name: "notes", Offered: true, Clicked: true, State: api.AppInstalled, Binaries: []BinaryStatus{running("n")}}, // clicked
		},
	}
	v := st.Verdict()
	if v.Expected != 6 || v.Running != 4 {
		t.Errorf("expected %d running %d, want 6 and 4 (cockpit, books, voice waiting, notes)", v.Expected, v.Running)
	}
	want := []Problem{
		{App: "books", State: api.ProblemQuarantined, Code: api.ReasonQuarantined, Reason: "health: timeout"},
		{App: "memory", Binary: "memory_admin", State: "crashloop", Reason: "exited 1"},
		{App: "voice", Binary: "voice_web", State: "waiting", Reason: "upgrade waits for the window"},
		{App: "agent", State: "failed", Code: api.ReasonApplyFailed, Reason: "build failed"},
		{App: "gone", State: api.ProblemQuarantined, Code: api.ReasonQuarantined, Reason: "build failed"},
	}
	if len(v.Problems) != len(want) {
		t.Fatalf("problems %+v, want %+v", v.Problems, want)
	}
	for i := range want {
		if v.Problems[i] != want[i] {
			t.Errorf("problem %d: %+v, want %+v", i, v.Problems[i], want[i])
		}
	}
	if st.Healthy() {
		t.Error("a host with problems is not healthy")
	}
	fine := Status{Fleet: FleetStatus{State: api.SyncSuspended}, Apps: st.Apps[:1]}
	if !fine.Healthy() {
		t.Error("a suspended host running all it should is healthy")
	}
	fine.Fleet.State = api.SyncRefused
	if fine.Healthy() {
		t.Error("a host that refused its newest commit is not healthy")
	}
	fine.Fleet.State = api.SyncWaiting
	if !fine.Healthy() {
		t.Error("a host holding a commit for the earlier rollout waves, running all it should, is healthy")
	}
	// A canary whose change waits for its maintenance window has not run the commit yet: not healthy, so the later
	// waves wait for its window too (windows and waves compose).
	inWindow := Status{Fleet: FleetStatus{State: api.SyncOK}, Apps: []AppStatus{st.Apps[3]}}
	if inWindow.Healthy() {
		t.Error("a host whose change waits for its window is not healthy on the commit")
	}
}

// Healthy on a commit: every expected app runs exactly what the applied commit asks for, with no reason. Old
// binaries running beside an unresolved revision, a build rolled back on a full disk, or a key that is not the
// wanted one make the host unhealthy with one not-on-commit problem for the app; a host waiting or suspended that
// runs its applied commit fully is healthy on it.
func TestVerdictHealthyOnCommit(t *testing.T) {
	running := []BinaryStatus{{Name: "books_server", State: api.BinRunning}}
	books := func(mod func(*AppStatus)) AppStatus {
		a := AppStatus{Name: "books", Why: "preinstalled by role tester", State: api.AppInstalled, Rev: "1111111111111111", Binaries: running}
		mod(&a)
		return a
	}
	for _, c := range []struct {
		name    string
		state   api.SyncState
		app     AppStatus
		healthy bool
		reason  string // a part of the not-on-commit problem's reason
	}{
		{name: "on its commit", state: api.SyncOK, app: books(func(*AppStatus) {}), healthy: true},
		{name: "waiting, on its commit", state: api.SyncWaiting, app: books(func(*AppStatus) {}), healthy: true},
		{name: "suspended, on its commit", state: api.SyncSuspended, app: books(func(*AppStatus) {}), healthy: true},
		{name: "unresolved beside old binaries", state: api.SyncOK, app: books(func(a *AppStatus) {
			a.Code, a.Reason = api.ReasonUnresolved, "fetch: no commit 5d6e7f8 in books.git"
			a.OffCommit = "runs 111111111111: the revision 9abcdef asks for could not be resolved"
		}), reason: "could not be resolved: fetch: no commit 5d6e7f8"},
		{name: "rolled back on a full disk", state: api.SyncOK, app: books(func(a *AppStatus) {
			a.Code, a.Reason = api.ReasonDiskFull, "build: no space left on device (not quarantined: the next sync tries again)"
			a.OffCommit = "runs 111111111111, 9abcdef asks for 222222222222"
		}), reason: "asks for 222222222222: build: no space left"},
		{name: "another key, no reason", state: api.SyncWaiting, app: books(func(a *AppStatus) {
			a.OffCommit = "runs 111111111111 with another spec (binaries, args, hooks or secrets) than 9abcdef asks for"
		}), reason: "another spec"},
		{name: "a reason on its key", state: api.SyncOK, app: books(func(a *AppStatus) {
			a.Code, a.Reason = api.ReasonInterrupted, "interrupted: hook cut short"
		}), reason: "interrupted: hook cut short"},
	} {
		st := Status{Fleet: FleetStatus{Commit: "9abcdef0", State: c.state}, Quarantined: []Quarantine{}, Apps: []AppStatus{c.app}}
		v := st.Verdict()
		if got := st.Healthy(); got != c.healthy {
			t.Errorf("%s: healthy %v, want %v (problems %+v)", c.name, got, c.healthy, v.Problems)
		}
		if c.healthy {
			if len(v.Problems) != 0 {
				t.Errorf("%s: problems %+v, want none", c.name, v.Problems)
			}
			continue
		}
		if len(v.Problems) != 1 || v.Problems[0].Code != api.ReasonNotOnCommit || v.Problems[0].App != "books" ||
			!strings.Contains(v.Problems[0].Reason, c.reason) {
			t.Errorf("%s: problems %+v, want one not-on-commit problem of books saying %q", c.name, v.Problems, c.reason)
		}
		if v.Running != 1 || v.Expected != 1 {
			t.Errorf("%s: running %d of %d, want 1 of 1 (its old binaries run)", c.name, v.Running, v.Expected)
		}
	}
	// A quarantined app (rolled back and quarantined) is told once, as the quarantine.
	st := Status{Fleet: FleetStatus{State: api.SyncOK}, Quarantined: []Quarantine{{App: "books", Reason: "health: timeout"}},
		Apps: []AppStatus{books(func(a *AppStatus) {
			a.Code, a.Reason, a.OffCommit = api.ReasonQuarantined, "quarantined: health: timeout", "runs 1111"
		})}}
	if v := st.Verdict(); len(v.Problems) != 1 || v.Problems[0].Code != api.ReasonQuarantined {
		t.Errorf("quarantined: problems %+v, want the quarantine alone", v.Problems)
	}
}

// The agent version the applied commit names was refused or rolled back on the host: not healthy on the commit
// (the host's own problem, no app), so later rollout waves hold; on trial or confirmed without a reason, healthy.
func TestVerdictAgentVersion(t *testing.T) {
	books := AppStatus{Name: "books", Why: "preinstalled by role tester", State: api.AppInstalled, Rev: "1111",
		Binaries: []BinaryStatus{{Name: "books_server", State: api.BinRunning}}}
	for _, c := range []struct {
		agent   *AgentStatus
		healthy bool
	}{
		{nil, true},
		{&AgentStatus{Version: "v2", State: api.AgentTrial}, true},
		{&AgentStatus{Version: "v1", State: api.AgentConfirmed, Code: api.ReasonAgentRollback, Reason: "agent v2 rolled back: crashed"}, false},
		{&AgentStatus{Version: "v1", State: api.AgentConfirmed, Code: api.ReasonAgentRefused, Reason: "agent v2 refused: sha256 mismatch"}, false},
	} {
		st := Status{Fleet: FleetStatus{Commit: "9abcdef0", State: api.SyncOK}, Quarantined: []Quarantine{}, Apps: []AppStatus{books}, Agent: c.agent}
		v := st.Verdict()
		if st.Healthy() != c.healthy {
			t.Errorf("%+v: healthy %v, want %v (problems %+v)", c.agent, st.Healthy(), c.healthy, v.Problems)
		}
		if !c.healthy && (len(v.Problems) != 1 || v.Problems[0].App != "" || v.Problems[0].State != api.ProblemAgentVersion || v.Problems[0].Code != c.agent.Code) {
			t.Errorf("%+v: problems %+v", c.agent, v.Problems)
		}
	}
}
