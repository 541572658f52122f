package agent

import (
	"testing"

	"github.com/herofleet/herofleet/api"
)

// A drifted app runs, but not what was installed: it counts as running and is a problem with code drift, so the
// host is not healthy on its commit.
func TestVerdictDrift(t *testing.T) {
	const said = "books_server: executable changed on this host since install (sha256 3f2a1c9e… ≠ installed 9b0d4e11…, modified 14:02:11)"
	st := Status{Fleet: FleetStatus{State: api.SyncOK}, Apps: []AppStatus{{
		Name: "books", Why: "preinstalled by role tester", State: api.AppInstalled, Code: api.ReasonDrift, Reason: said,
		Binaries: []BinaryStatus{{Name: "books_server", State: api.BinRunning, Code: api.ReasonDrift, Reason: said}},
	}}}
	v := st.Verdict()
	want := Problem{App: "books", State: api.ProblemState(api.AppInstalled), Code: api.ReasonDrift, Reason: said}
	if v.Expected != 1 || v.Running != 1 || len(v.Problems) != 1 || v.Problems[0] != want || st.Healthy() {
		t.Fatalf("verdict %+v healthy %v", v, st.Healthy())
	}
}
