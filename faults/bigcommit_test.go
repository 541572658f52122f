package faults

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
	"github.com/herofleet/herofleet/internal/gitserver"
)

// A fleet commit of 20,000 host files that all name one blob of almost 1 MiB (20 GiB of YAML from a repo of one
// blob) reaches a running agent: it refuses the commit whole and quickly, in bounded memory, keeps running the last
// good commit, and the status says why (a refused commit is reported in `refused` and fleet.state "refused", not
// in fleet.error, which is for syncs that failed).
func TestBigSharedBlobCommit(t *testing.T) {
	p, before, good := sharedBlobAgent(t)
	bad, took, st := pushSharedBlob(t, p, 1<<20-100)
	if st.Fleet.State != api.SyncRefused || len(st.Refused) == 0 {
		t.Fatalf("fleet %+v, refused %+v", st.Fleet, st.Refused)
	}
	r := st.Refused[len(st.Refused)-1]
	if r.Commit != bad || !strings.Contains(r.Reason, "at most 64 MiB") {
		t.Fatalf("refused: %+v", r)
	}
	p.keptRunning(t, st, good, before)
	if took > 10*time.Second || p.peakKB() > 256<<10 {
		t.Fatalf("refused after %s, peak RSS %s", took, p.peakRSS())
	}
	rss := p.peakRSS()
	t.Logf("refused in %s, peak RSS %s: %s", took, rss, r.Reason)
	record(Row{
		Fault:    "a fleet commit of 20,000 entries sharing one blob",
		Injected: "a commit whose 20,000 host files all name one blob of almost 1 MiB (20 GiB of YAML from one blob); a sync asked for",
		Did:      "refused the commit whole (a fleet's files are capped at 64 MiB together, a shared blob counted per entry, read once); kept running the last good commit; `refused` names the commit and why",
		Figure:   fmt.Sprintf("refused %s after the sync was asked for; peak RSS %s", took.Round(time.Millisecond), rss),
		Lost:     "nothing",
	})
}

// The same 20,000 entries sharing one blob of 3 KB (58 MB together, inside the budget) are a fleet like any other:
// the agent applies it, in bounded time and memory.
func TestBigSharedBlobCommitWithinBudget(t *testing.T) {
	p, before, _ := sharedBlobAgent(t)
	next, took, st := pushSharedBlob(t, p, 3000)
	if st.Fleet.State != api.SyncOK {
		t.Fatalf("fleet %+v, refused %+v", st.Fleet, st.Refused)
	}
	p.keptRunning(t, st, next, before)
	if took > 30*time.Second || p.peakKB() > 512<<10 {
		t.Fatalf("applied after %s, peak RSS %s", took, p.peakRSS())
	}
	rss := p.peakRSS()
	t.Logf("applied in %s, peak RSS %s", took, rss)
	record(Row{
		Fault:    "a fleet commit of 20,000 entries sharing a small blob",
		Injected: "a commit whose 20,000 host files all name one 3 KB blob (58 MB of YAML, inside the 64 MiB budget); a sync asked for",
		Did:      "applied it (20,000 hosts decoded and validated); books kept running untouched",
		Figure:   fmt.Sprintf("applied %s after the sync was asked for; peak RSS %s", took.Round(time.Millisecond), rss),
		Lost:     "nothing",
	})
}

// sharedBlobAgent is an agent running books on its first fleet commit.
func sharedBlobAgent(t *testing.T) (*proc, agent.BinaryStatus, string) {
	p := startAgent(t, oneApp("unix://${sockets}/books_server.sock", ""), "", "books")
	before := p.waitRunning("books", "books_server", 60*time.Second)
	good := p.forgeHead(t)
	agenttest.WaitUntil(t, 30*time.Second, "the fleet applied", func() bool { st, _ := p.status(); return st.Fleet.Commit == good })
	return p, before, good
}

// pushSharedBlob commits the agent's fleet plus 20,000 host files naming one blob of about size bytes, asks for a
// sync and waits for its end: the commit, how long the agent took, and the status then.
func pushSharedBlob(t *testing.T, p *proc, size int) (string, time.Duration, agent.Status) {
	files, err := agenttest.FleetFiles(oneApp("unix://${sockets}/books_server.sock", ""), agenttest.Vars{"testapp": testapp})
	if err != nil {
		t.Fatal(err)
	}
	blob := []byte("role: tester\n" + strings.Repeat("# padding padding padding padding padding padding padding padding\n", size/66))
	for i := range 20_000 {
		files["hosts/h"+strconv.Itoa(i)+".yaml"] = gitserver.File{Data: blob}
	}
	commit, err := p.forge.Commit(agenttest.FleetRepo, "main", "20,000 entries, one blob", files)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	p.post(t, "/api/v1/sync")
	var st agent.Status
	agenttest.WaitUntil(t, 2*time.Minute, "the sync of the 20,000-entry commit", func() bool {
		st, _ = p.status()
		return st.Fleet.Head == commit && st.Fleet.State != api.SyncSyncing
	})
	return commit, time.Since(start), st
}

// keptRunning fails unless commit is the applied one and books_server still runs as before, never restarted.
func (p *proc) keptRunning(t *testing.T, st agent.Status, commit string, before agent.BinaryStatus) {
	t.Helper()
	if st.Fleet.Commit != commit {
		t.Fatalf("applied %s, want %s", st.Fleet.Commit, commit)
	}
	b := p.binary("books", "books_server")
	if b.PID != before.PID || b.State != api.BinRunning || b.Restarts != 0 || syscall.Kill(before.PID, 0) != nil {
		t.Fatalf("books disturbed: %+v (was %+v)", b, before)
	}
}

// forgeHead is the fleet repo's main on the forge.
func (p *proc) forgeHead(t *testing.T) string {
	t.Helper()
	r, err := p.forge.Init(agenttest.FleetRepo)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := r.Reference("refs/heads/main", true)
	if err != nil {
		t.Fatal(err)
	}
	return ref.Hash().String()
}

// post sends an authorized POST to the agent's API and wants 2xx.
func (p *proc) post(t *testing.T, path string) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+p.api+path, nil)
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %s", path, resp.Status)
	}
}
