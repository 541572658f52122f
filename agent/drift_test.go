package agent

import (
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent/apply"
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

// setDrift says a drift changed when its facts do (another file, another hash), not when only its words do: they
// give the modification time relative to today, so the same drift reads otherwise the next day.
func TestSetDriftComparesFacts(t *testing.T) {
	h := &hostState{drift: map[string][]apply.DriftedFile{}}
	now := time.Now()
	f := apply.DriftedFile{Path: "bin/books", Exec: true, Binaries: []string{"books_server"}, Want: "9b0d4e11", Got: "3f2a1c9e", WantMode: 0o755, GotMode: 0o755, ModTime: now}
	if !h.setDrift("books", []apply.DriftedFile{f}) {
		t.Fatal("a new drift is news")
	}
	yesterday := f
	yesterday.ModTime = now.Add(-30 * time.Hour)
	if f.String() == yesterday.String() {
		t.Fatal("the words should differ")
	}
	if h.setDrift("books", []apply.DriftedFile{yesterday}) {
		t.Fatal("the same drift in other words is news")
	}
	if h.drifted("books")[0].String() != yesterday.String() {
		t.Fatal("the newest words are not kept")
	}
	other := f
	other.Got = "77aa0000"
	if !h.setDrift("books", []apply.DriftedFile{other}) || !h.setDrift("books", nil) {
		t.Fatal("another hash, or the drift gone, is news")
	}
}
