package agent

import (
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
