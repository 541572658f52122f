package faults

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent/selfup"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
	"github.com/herofleet/herofleet/packaging"
)

// The agent replacing itself (fleet.yaml agent:), killed with SIGKILL at each step. The herofleet under test is
// the old version ("dev"); v2 is built once, for these rows only, and packed as a release archive.

const selfupV2 = "v2.0.0"

var (
	selfupOnce    sync.Once
	selfupArchive []byte
	selfupSum     string
	selfupErr     error
)

func releaseV2(t *testing.T) ([]byte, string) {
	t.Helper()
	selfupOnce.Do(func() {
		dir := filepath.Join(filepath.Dir(herofleet), "v2")
		bin := filepath.Join(dir, "herofleet")
		if out, err := exec.Command("go", "build", "-o", bin, "-ldflags", "-X main.version="+selfupV2, "../cmd/herofleet").CombinedOutput(); err != nil {
			selfupErr = fmt.Errorf("build v2: %v\n%s", err, out)
			return
		}
		p := filepath.Join(dir, "release.tar.gz")
		if selfupErr = packaging.WriteArchive(p, selfupV2, packaging.Target{OS: runtime.GOOS, Arch: runtime.GOARCH}, map[string]string{"herofleet": bin}, time.Unix(0, 0)); selfupErr != nil {
			return
		}
		selfupArchive, selfupErr = os.ReadFile(p)
		h := sha256.Sum256(selfupArchive)
		selfupSum = hex.EncodeToString(h[:])
	})
	if selfupErr != nil {
		t.Fatal(selfupErr)
	}
	return selfupArchive, selfupSum
}

const selfupListen = "unix://${sockets}/books_server.sock"

// withRelease is oneApp naming v2 at url.
func withRelease(url, sum string) string {
	return oneApp(selfupListen, "") + fmt.Sprintf(`-- fleet.yaml --
name: faults
sync: {schedule: "@every 1h"}
agent:
  version: %s
  artifacts: {%s/%s: {url: %q, sha256: %s}}
  confirm: 1m
`, selfupV2, runtime.GOOS, runtime.GOARCH, url, sum)
}

func (p *proc) agentOn(version string, state api.AgentState) bool {
	st, err := p.status()
	return err == nil && st.AgentVersion == version && st.Agent != nil && st.Agent.State == state
}

func booksStarts(dir string) int {
	data, _ := os.ReadFile(filepath.Join(dir, "logs", "books_server.log"))
	return strings.Count(string(data), " start ")
}

// kill -9 while the new version downloads: nothing was switched, the partial download is cleared at the next
// try, and the restarted agent (the old version) prepares and switches again.
func TestSelfUpgradeKilledDuringDownload(t *testing.T) {
	archive, sum := releaseV2(t)
	var hold atomic.Bool
	hold.Store(true)
	entered := make(chan struct{}, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hold.Load() {
			w.Write(archive[:len(archive)/2])
			w.(http.Flusher).Flush()
			entered <- struct{}{}
			<-r.Context().Done() // the rest never comes: the agent is killed meanwhile
			return
		}
		w.Write(archive)
	}))
	t.Cleanup(srv.Close)
	p := startAgent(t, oneApp(selfupListen, ""), "", "books")
	books := p.waitRunning("books", "books_server", 60*time.Second)
	starts := booksStarts(p.dir)
	p.forge.CommitFleet(withRelease(srv.URL+"/v2.tar.gz", sum))
	p.sync()
	select {
	case <-entered:
	case <-time.After(60 * time.Second):
		t.Fatal("the agent never downloaded v2")
	}
	time.Sleep(300 * time.Millisecond) // the half written to disk
	partial, _ := filepath.Glob(filepath.Join(p.dir, "agent", ".download-*"))
	p.kill9()
	if rec, _ := selfup.Load(p.dir); rec != nil {
		t.Fatalf("a record after a kill during the download: %+v", rec)
	}
	hold.Store(false)
	begin := time.Now()
	p.start()
	agenttest.WaitUntil(t, 90*time.Second, "v2 confirmed", func() bool { return p.agentOn(selfupV2, api.AgentConfirmed) })
	took := time.Since(begin)
	left, _ := filepath.Glob(filepath.Join(p.dir, "agent", ".download-*"))
	b := p.binary("books", "books_server")
	if b.PID != books.PID || booksStarts(p.dir) != starts || len(left) != 0 {
		t.Fatalf("books_server %+v (was pid %d), %d starts (was %d), leftovers %v", b, books.PID, booksStarts(p.dir), starts, left)
	}
	record(Row{
		Fault:    "`kill -9` of the agent while it downloads a new version of itself",
		Injected: "a commit naming agent " + selfupV2 + "; the release server sent half the archive and held; `kill -9` of the agent; started again",
		Did:      "nothing had switched (no record); the agent started again as the old version, cleared the partial download, downloaded, checked, selftested and exec'd " + selfupV2 + ", which confirmed; books adopted throughout",
		Figure:   fmt.Sprintf("%d partial download(s) on disk at the kill, 0 after; %s from the restart to %s confirmed; books_server the same pid, 0 starts", len(partial), took.Round(time.Millisecond), selfupV2),
		Lost:     "nothing",
	})
}

// kill -9 of the new version while it is on trial (before its first converge ends): the restarted agent (the
// packaged old binary) execs the version on trial again, counting its start, and that one confirms.
func TestSelfUpgradeKilledOnTrial(t *testing.T) {
	archive, sum := releaseV2(t)
	t.Setenv("HEROFLEET_TEST_FAULT", selfupV2+":slow") // v2's first converge takes 3s: the window of the kill
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(archive) }))
	t.Cleanup(srv.Close)
	p := startAgent(t, oneApp(selfupListen, ""), "", "books")
	books := p.waitRunning("books", "books_server", 60*time.Second)
	starts := booksStarts(p.dir)
	p.forge.CommitFleet(withRelease(srv.URL+"/v2.tar.gz", sum))
	p.sync()
	agenttest.WaitUntil(t, 60*time.Second, "v2 on trial", func() bool { return p.agentOn(selfupV2, api.AgentTrial) })
	p.kill9()
	rec, _ := selfup.Load(p.dir)
	if rec == nil || rec.Confirmed || rec.Current.Version != selfupV2 || rec.Starts != 1 {
		t.Fatalf("record after the kill: %+v", rec)
	}
	begin := time.Now()
	p.start()
	agenttest.WaitUntil(t, 60*time.Second, "v2 confirmed", func() bool { return p.agentOn(selfupV2, api.AgentConfirmed) })
	took := time.Since(begin)
	b := p.binary("books", "books_server")
	if b.PID != books.PID || booksStarts(p.dir) != starts {
		t.Fatalf("books_server %+v (was pid %d), %d starts (was %d)", b, books.PID, booksStarts(p.dir), starts)
	}
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.cmd.Process.Pid))
	if want := filepath.Join(p.dir, "agent", selfupV2, "herofleet"); exe != want {
		t.Fatalf("the restarted agent runs %s, want %s", exe, want)
	}
	record(Row{
		Fault:    "`kill -9` of a new agent version on trial",
		Injected: "agent " + selfupV2 + " exec'd in place by a commit; `kill -9` before its first converge ended (unconfirmed); the packaged binary started again",
		Did:      "the packaged binary found " + selfupV2 + " current and on trial and exec'd it (start 2 of " + fmt.Sprint(selfup.MaxStarts) + "), which finished a healthy converge and confirmed itself; books adopted throughout",
		Figure:   fmt.Sprintf("%s from the restart to %s confirmed; books_server the same pid, 0 starts", took.Round(time.Millisecond), selfupV2),
		Lost:     "nothing",
	})
}

// kill -9 of the old agent between the record of the switch and the exec: the restarted packaged binary finds the
// new version current and on trial, execs it, and it confirms.
func TestSelfUpgradeKilledAtTheSwitch(t *testing.T) {
	archive, sum := releaseV2(t)
	t.Setenv("HEROFLEET_TEST_FAULT", "dev:switch") // the version under test dies once it recorded the switch
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(archive) }))
	t.Cleanup(srv.Close)
	p := startAgent(t, oneApp(selfupListen, ""), "", "books")
	books := p.waitRunning("books", "books_server", 60*time.Second)
	starts := booksStarts(p.dir)
	p.forge.CommitFleet(withRelease(srv.URL+"/v2.tar.gz", sum))
	p.sync()
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		t.Fatal("the agent did not die at the switch")
	}
	rec, _ := selfup.Load(p.dir)
	if rec == nil || rec.Confirmed || rec.Current.Version != selfupV2 || rec.Starts != 0 {
		t.Fatalf("record after the kill: %+v", rec)
	}
	begin := time.Now()
	p.start()
	agenttest.WaitUntil(t, 60*time.Second, "v2 confirmed", func() bool { return p.agentOn(selfupV2, api.AgentConfirmed) })
	took := time.Since(begin)
	b := p.binary("books", "books_server")
	if b.PID != books.PID || booksStarts(p.dir) != starts {
		t.Fatalf("books_server %+v (was pid %d), %d starts (was %d)", b, books.PID, booksStarts(p.dir), starts)
	}
	record(Row{
		Fault:    "`kill -9` of the agent at the switch to a new version of itself",
		Injected: "a commit naming agent " + selfupV2 + "; the old agent killed (SIGKILL) after it recorded " + selfupV2 + " as current, before its exec; the packaged binary started again",
		Did:      "the packaged binary found " + selfupV2 + " current and on trial (0 starts) and exec'd it, which confirmed itself; books adopted throughout",
		Figure:   fmt.Sprintf("%s from the restart to %s confirmed; books_server the same pid, 0 starts", took.Round(time.Millisecond), selfupV2),
		Lost:     "nothing",
	})
}
