package agent

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
)

// scrape is the agent's /metrics, as Prometheus reads it.
func scrape(t *testing.T, a *Agent) string {
	t.Helper()
	rec := httptest.NewRecorder()
	a.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Result().Body)
	return string(b)
}

// Healthy on a commit, on a real agent: the lock moves books to a commit its repo lacks; the old binaries keep
// running, but the host is not healthy on the commit it applied (herofleet_host_healthy 0, a not-on-commit problem
// naming books) until the lock moves to a revision that resolves. The same for a build rolled back on a full disk.
func TestHealthyOnCommitUnresolvedLock(t *testing.T) {
	h := newHarness(t)
	books1, memory1 := h.commitApp("books"), h.commitApp("memory")
	h.commitFleet(lockFleet+lockFile, agenttest.Vars{"books": books1, "memory": memory1})
	a := h.newAgent(nil)
	mustSync(t, a)
	healthy := api.SeriesHostHealthy + " 1\n"
	if m := scrape(t, a); !strings.Contains(m, healthy) {
		t.Fatalf("on its commit: no %q in\n%s", healthy, grepLines(m, api.SeriesPrefix+"(host_healthy|problem_info)"))
	}

	missing := strings.Repeat("0badc0de", 5) // a commit books' repo lacks
	commit := h.commitFleet(lockFleet+lockFile, agenttest.Vars{"books": missing, "memory": memory1})
	mustSync(t, a)
	st := a.Status()
	books := appOf(st, "books")
	if st.Fleet.Commit != commit || books.Rev != books1 || books.Code != api.ReasonUnresolved {
		t.Fatalf("fleet %s, books %+v; want commit %s applied, books still at %s, unresolved", st.Fleet.Commit, books, commit, books1)
	}
	if b := appOf(st, "books").Binaries; len(b) != 1 || b[0].State != api.BinRunning {
		t.Fatalf("books' old binaries: %+v, want running", b)
	}
	v := st.Verdict()
	if st.Healthy() || len(v.Problems) != 1 || v.Problems[0].App != "books" || v.Problems[0].Code != api.ReasonNotOnCommit ||
		!strings.Contains(v.Problems[0].Reason, "could not be resolved") {
		t.Fatalf("healthy %v, problems %+v; want one not-on-commit problem of books", st.Healthy(), v.Problems)
	}
	m := scrape(t, a)
	if !strings.Contains(m, api.SeriesHostHealthy+" 0\n") {
		t.Errorf("unresolved: want %s 0 in\n%s", api.SeriesHostHealthy, grepLines(m, api.SeriesPrefix+"(host_healthy|problem_info)"))
	}
	if !strings.Contains(m, `app="books"`) || !strings.Contains(m, `code="`+string(api.ReasonNotOnCommit)+`"`) {
		t.Errorf("unresolved: no not-on-commit problem of books in\n%s", grepLines(m, api.SeriesProblem))
	}

	// The lock moves to a revision that resolves: healthy on the new commit.
	books2 := h.commitApp("books")
	h.commitFleet(lockFleet+lockFile, agenttest.Vars{"books": books2, "memory": memory1})
	mustSync(t, a)
	if m := scrape(t, a); !strings.Contains(m, healthy) {
		t.Fatalf("resolved again: no %q in\n%s", healthy, grepLines(m, api.SeriesPrefix+"(host_healthy|problem_info)"))
	}

	// books' build fails on a full disk: rolled back (not quarantined), the old binaries run, not on the commit.
	full := strings.Replace(lockFleet, "build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}",
		`build: {command: [/bin/sh, -c, "echo 'ld: write out: No space left on device'; exit 1"], timeout: 1m}`, 1)
	h.commitFleet(full+lockFile, agenttest.Vars{"books": books2, "memory": memory1})
	mustSync(t, a)
	st = a.Status()
	if b := appOf(st, "books"); b.Code != api.ReasonDiskFull || b.Rev != books2 || len(st.Quarantined) != 0 {
		t.Fatalf("books %+v, quarantined %+v; want disk-full, still at %s, not quarantined", b, st.Quarantined, books2)
	}
	if v := st.Verdict(); st.Healthy() || len(v.Problems) != 1 || v.Problems[0].Code != api.ReasonNotOnCommit {
		t.Fatalf("disk full: healthy %v, problems %+v; want one not-on-commit problem", st.Healthy(), v.Problems)
	}
	if m := scrape(t, a); !strings.Contains(m, api.SeriesHostHealthy+" 0\n") {
		t.Errorf("disk full: want %s 0", api.SeriesHostHealthy)
	}
}

// grepLines is the lines of text that contain sub, for a failure message.
func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) || strings.Contains(l, strings.SplitN(sub, "(", 2)[0]) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
