package selfup_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/agent/selfup"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
)

// The agent replaces itself through the fleet, tested against real herofleet processes: two herofleet binaries
// built once (v1, the packaged one every test starts, and v2, packed as a release archive), an agent process of
// v1 on a forge with one app, and the release served over HTTP on loopback.

const (
	v1 = "v1.0.0"
	v2 = "v2.0.0"
)

var (
	testapp string
	bins    = map[string]string{} // version -> herofleet built with it
	archive []byte                // v2's release archive for this platform
	sum     string                // its sha256
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("/tmp", "hfselfup")
	if err != nil {
		panic(err)
	}
	testapp, err = agenttest.BuildTestapp(dir)
	if err == nil {
		var rel agenttest.AgentRelease
		rel, err = agenttest.BuildAgentRelease(dir, "../../cmd/herofleet", []string{v1, v2}, v2)
		bins, archive, sum = rel.Bins, rel.Archive, rel.SHA256
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const fleetText = `
-- fleet.yaml --
name: selfup
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books.sock"], listen: "unix://${sockets}/books.sock", health: /health}
`

// withAgent is fleetText naming an agent release at url with sha (and a confirm window).
func withAgent(version, url, sha, confirm string) string {
	return fleetText + fmt.Sprintf(`-- fleet.yaml --
name: selfup
sync: {schedule: "@every 1h"}
agent:
  version: %s
  artifacts:
    %s/%s: {url: %q, sha256: %s}
  confirm: %s
`, version, runtime.GOOS, runtime.GOARCH, url, sha, confirm)
}

// releases serves files by path on loopback and counts the requests of each.
type releases struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string]http.HandlerFunc
	hits  map[string]int
}

func serveReleases(t *testing.T) *releases {
	r := &releases{files: map[string]http.HandlerFunc{}, hits: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		h := r.files[req.URL.Path]
		r.hits[req.URL.Path]++
		r.mu.Unlock()
		if h == nil {
			http.NotFound(w, req)
			return
		}
		h(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

// add serves body at path and returns its URL.
func (r *releases) add(path string, h http.HandlerFunc) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.files[path] = h
	return r.URL + path
}

func (r *releases) count(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hits[path]
}

func bytesOf(b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { w.Write(b) }
}

// proc is `herofleet agent` of v1 on a forge, kept running by a restarter as systemd's Restart=always would: a
// process that exits is started again (as v1, the packaged binary) after 200ms.
type proc struct {
	t        *testing.T
	forge    *agenttest.Forge
	dir, api string
	token    string
	env      []string
	rel      *releases

	mu       sync.Mutex
	cmd      *exec.Cmd
	exits    atomic.Int32 // exits the restarter saw
	stopping atomic.Bool
}

func startAgent(t *testing.T, fault string) *proc {
	t.Helper()
	forge := agenttest.StartForge(t, agenttest.Vars{"testapp": testapp})
	forge.CommitApp("books")
	forge.CommitFleet(fleetText)
	p := &proc{t: t, forge: forge, dir: agenttest.AgentDir(t), token: "selfup-token"}
	p.api = "127.0.0.1:" + strconv.Itoa(agenttest.FreePort(t))
	os.WriteFile(filepath.Join(p.dir, "token"), []byte(p.token+"\n"), 0o600)
	cfg := agenttest.AgentConfig(p.dir, forge) + fmt.Sprintf("listen: %s\ntoken_file: %s\n", p.api, filepath.Join(p.dir, "token"))
	os.WriteFile(filepath.Join(p.dir, "agent.yaml"), []byte(cfg), 0o600)
	p.env = append(os.Environ(), "HEROFLEET_TEST_FAULT="+fault)
	p.start()
	t.Cleanup(func() {
		p.stopping.Store(true)
		p.mu.Lock()
		cmd := p.cmd
		p.mu.Unlock()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		time.Sleep(3 * time.Second)
		_ = cmd.Process.Kill()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(p.dir, "agent.log"))
			t.Logf("agent log (last 8000 bytes):\n%s", log[max(0, len(log)-8000):])
		}
	})
	agenttest.WaitUntil(t, 30*time.Second, "the agent's API", func() bool { _, err := p.status(); return err == nil })
	return p
}

func (p *proc) start() {
	cmd := exec.Command(bins[v1], "agent", "--config", filepath.Join(p.dir, "agent.yaml"))
	logf, _ := os.OpenFile(filepath.Join(p.dir, "agent.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	cmd.Stdout, cmd.Stderr, cmd.Env = logf, logf, p.env
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.cmd = cmd
	p.mu.Unlock()
	go func() {
		_ = cmd.Wait()
		logf.Close()
		if p.stopping.Load() {
			return
		}
		p.exits.Add(1)
		time.Sleep(200 * time.Millisecond)
		p.start()
	}()
}

func (p *proc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.Process.Pid
}

func (p *proc) status() (agent.Status, error) {
	var st agent.Status
	resp, err := http.Get("http://" + p.api + "/api/v1/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

func (p *proc) st() agent.Status { st, _ := p.status(); return st }

func (p *proc) post(path string) {
	req, _ := http.NewRequest(http.MethodPost, "http://"+p.api+path, nil)
	req.Header.Set("Authorization", "Bearer "+p.token)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

// commit commits fleet and has the agent sync until it applied it (or, held, saw it).
func (p *proc) commit(fleet string) string {
	p.t.Helper()
	c := p.forge.CommitFleet(fleet)
	agenttest.WaitUntil(p.t, 60*time.Second, "the agent sees "+c[:7], func() bool {
		p.post("/api/v1/sync")
		time.Sleep(200 * time.Millisecond)
		return p.st().Fleet.Head == c
	})
	return c
}

func (p *proc) books() agent.BinaryStatus {
	for _, a := range p.st().Apps {
		for _, b := range a.Binaries {
			if b.Name == "books_server" {
				return b
			}
		}
	}
	return agent.BinaryStatus{}
}

func (p *proc) waitBooks() agent.BinaryStatus {
	p.t.Helper()
	var b agent.BinaryStatus
	agenttest.WaitUntil(p.t, 60*time.Second, "books_server running", func() bool {
		b = p.books()
		return b.State == api.BinRunning && b.PID != 0
	})
	return b
}

// starts counts the starts of books_server in its log.
func (p *proc) starts() int {
	data, _ := os.ReadFile(filepath.Join(p.dir, "logs", "books_server.log"))
	return strings.Count(string(data), " start ")
}

func (p *proc) metrics() string {
	resp, err := http.Get("http://" + p.api + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func versionSeries(v string) string {
	return api.SeriesAgentVersion + `{` + api.LabelVersion + `="` + v + `"} 1`
}

// unchanged fails the test unless the agent is still v1 in the same process and books still runs as before.
func (p *proc) unchanged(pid int, books agent.BinaryStatus, starts int) {
	p.t.Helper()
	st := p.st()
	if st.AgentVersion != v1 || p.pid() != pid || p.exits.Load() != 0 {
		p.t.Fatalf("agent %q pid %d (%d exits); want %s pid %d, never exited", st.AgentVersion, p.pid(), p.exits.Load(), v1, pid)
	}
	if b := p.books(); b.PID != books.PID || b.State != api.BinRunning || p.starts() != starts {
		p.t.Fatalf("books_server %+v (%d starts); want pid %d running, %d starts", b, p.starts(), books.PID, starts)
	}
	if rec, _ := selfup.Load(p.dir); rec != nil && rec.Current.Version != v1 {
		p.t.Fatalf("record names %s current", rec.Current.Version)
	}
}

// A commit naming v2: the agent execs it in place (same pid), v2 shows in the status and the metrics and is
// confirmed, and the app runs on untouched (same pid, no start). Before that, a commit held by a suspend does not
// upgrade the agent: the version is part of the commit.
func TestUpgradeInPlace(t *testing.T) {
	p := startAgent(t, "")
	books := p.waitBooks()
	pid, starts := p.pid(), p.starts()
	if st := p.st(); st.AgentVersion != v1 || !strings.Contains(p.metrics(), versionSeries(v1)) {
		t.Fatalf("agent_version %q; metrics without %s", st.AgentVersion, versionSeries(v1))
	}
	url := p.forgeRelease(t)

	p.post("/api/v1/suspend")
	held := p.commit(withAgent(v2, url, sum, "1m"))
	p.post("/api/v1/sync")
	time.Sleep(2 * time.Second)
	if st := p.st(); st.Fleet.Commit == held || st.AgentVersion != v1 || p.rel.count("/v2.tar.gz") != 0 {
		t.Fatalf("held commit: applied %s, agent %s, %d downloads: want the agent untouched", st.Fleet.Commit, st.AgentVersion, p.rel.count("/v2.tar.gz"))
	}
	p.unchanged(pid, books, starts)

	begin := time.Now()
	p.post("/api/v1/resume")
	p.post("/api/v1/sync")
	var st agent.Status
	agenttest.WaitUntil(t, 90*time.Second, "agent v2 confirmed", func() bool {
		st = p.st()
		return st.AgentVersion == v2 && st.Agent != nil && st.Agent.State == api.AgentConfirmed
	})
	took := time.Since(begin)
	if p.pid() != pid || p.exits.Load() != 0 {
		t.Fatalf("agent pid %d (%d exits); want %d: an exec in place", p.pid(), p.exits.Load(), pid)
	}
	if b := p.books(); b.PID != books.PID || p.starts() != starts || b.Restarts != 0 {
		t.Fatalf("books_server %+v, %d starts; want pid %d adopted, %d starts", b, p.starts(), books.PID, starts)
	}
	if m := p.metrics(); !strings.Contains(m, versionSeries(v2)) || strings.Contains(m, versionSeries(v1)) {
		t.Fatalf("metrics: want %s only", versionSeries(v2))
	}
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if want := filepath.Join(p.dir, "agent", v2, "herofleet"); exe != want {
		t.Fatalf("agent runs %s; want %s", exe, want)
	}
	var rec *selfup.Record
	agenttest.WaitUntil(t, 10*time.Second, "the record naming v2 confirmed, v1 previous", func() bool {
		rec, _ = selfup.Load(p.dir)
		return rec != nil && rec.Current.Version == v2 && rec.Confirmed && rec.Previous != nil && rec.Previous.Version == v1
	})
	t.Logf("switched and confirmed %s after the resume; same pid %d, books_server pid %d kept, 0 starts", took.Round(time.Millisecond), pid, books.PID)
}

// forgeRelease serves v2's archive and returns its URL.
func (p *proc) forgeRelease(t *testing.T) string {
	p.rel = serveReleases(t)
	return p.rel.add("/v2.tar.gz", bytesOf(archive))
}

// Each way a new version can fail before the switch is refused with agent-refused, saying why, and nothing
// changes: the same agent process on v1, the app untouched. A refused commit is not tried again; the next
// commit naming a version is.
func TestRefused(t *testing.T) {
	p := startAgent(t, v2+":selftest") // v2's selftest fails; v1 is not affected
	books := p.waitBooks()
	pid, starts := p.pid(), p.starts()
	p.rel = serveReleases(t)
	big := p.rel.add("/big.tar.gz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.FormatInt(8<<30, 10))
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("x"))
	})
	junk := []byte("this is not a gzipped tar")
	junkSum := sha256.Sum256(junk)
	cases := []struct {
		name, url, sha, want string
	}{
		{"sha256 mismatch", p.rel.add("/v2.tar.gz", bytesOf(archive)), strings.Repeat("0", 64), "sha256 mismatch"},
		{"not an archive", p.rel.add("/junk.tar.gz", bytesOf(junk)), hex.EncodeToString(junkSum[:]), "not a release archive"},
		{"too big", big, strings.Repeat("1", 64), "too big"},
		{"unreachable", "http://127.0.0.1:9/v2.tar.gz", sum, "connection refused"},
		{"server error", p.rel.add("/down.tar.gz", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) }), sum, "503"},
		{"selftest failed", p.rel.URL + "/v2.tar.gz", sum, "selftest of " + v2 + " failed"},
	}
	for _, c := range cases {
		path := strings.TrimPrefix(c.url, p.rel.URL)
		before := p.rel.count(path)
		commit := p.commit(withAgent(v2, c.url, c.sha, "1m"))
		var st agent.Status
		agenttest.WaitUntil(t, 60*time.Second, c.name+": agent-refused", func() bool {
			st = p.st()
			return st.Fleet.Commit == commit && st.Agent != nil && st.Agent.Code == api.ReasonAgentRefused && strings.Contains(st.Agent.Reason, c.want)
		})
		t.Logf("%s: %s", c.name, st.Agent.Reason)
		p.unchanged(pid, books, starts)
		if probs := st.Verdict().Problems; st.Healthy() || len(probs) != 1 || probs[0].State != api.ProblemAgentVersion {
			t.Fatalf("%s: healthy %v, problems %+v: want the host not healthy on the commit (the waves hold)", c.name, st.Healthy(), st.Verdict().Problems)
		}
		tried := p.rel.count(path)
		p.post("/api/v1/sync")
		time.Sleep(time.Second)
		n := p.rel.count(path)
		switch c.name {
		case "server error": // on the way: the next sync tries again
			if n <= tried {
				t.Fatalf("%s: %d downloads after the refusal, %d after another sync: want another try", c.name, tried, n)
			}
		case "unreachable":
		default:
			if n != tried || (path != "/v2.tar.gz" && tried != before+1) {
				t.Fatalf("%s: %d downloads before, %d after the refusal, %d after another sync: want exactly one", c.name, before, tried, n)
			}
		}
		if entries, _ := os.ReadDir(filepath.Join(p.dir, "agent")); len(entries) != 1 { // the record only
			t.Fatalf("%s: left in %s/agent: %v", c.name, p.dir, entries)
		}
	}
	if !strings.Contains(p.metrics(), versionSeries(v1)) {
		t.Fatal("metrics do not say v1")
	}
}

// A new version that exits at once (a crash at every start): the restarter (systemd, zinit, a shell) starts the
// packaged v1, which execs v2 again while it is on trial; after selfup.MaxStarts starts it rolls back by itself,
// reason agent-rollback, and v2 is not tried again. The app, orphaned by every crash, is adopted each time.
func TestRollbackCrashing(t *testing.T) {
	p := startAgent(t, v2+":exit")
	books := p.waitBooks()
	starts := p.starts()
	url := p.forgeRelease(t)
	begin := time.Now()
	p.commit(withAgent(v2, url, sum, "1m"))
	var st agent.Status
	agenttest.WaitUntil(t, 90*time.Second, "back on v1 with agent-rollback", func() bool {
		st = p.st()
		return p.exits.Load() > 0 && st.AgentVersion == v1 && st.Agent != nil && st.Agent.Code == api.ReasonAgentRollback
	})
	took, exits := time.Since(begin), p.exits.Load()
	if exits != selfup.MaxStarts {
		t.Fatalf("%d exits; want %d (one per start of v2)", exits, selfup.MaxStarts)
	}
	p.post("/api/v1/sync")
	time.Sleep(2 * time.Second)
	if st := p.st(); p.exits.Load() != exits || st.AgentVersion != v1 || p.rel.count("/v2.tar.gz") != 1 {
		t.Fatalf("after another sync: %d exits, agent %s, %d downloads: want v2 not tried again", p.exits.Load(), st.AgentVersion, p.rel.count("/v2.tar.gz"))
	}
	if b := p.books(); b.PID != books.PID || p.starts() != starts {
		t.Fatalf("books_server %+v, %d starts; want pid %d adopted through every crash, %d starts", b, p.starts(), books.PID, starts)
	}
	rec, _ := selfup.Load(p.dir)
	if rec == nil || rec.Current.Version != v1 || !rec.HasFailed(v2) {
		t.Fatalf("record %+v", rec)
	}
	if _, err := os.Stat(filepath.Join(p.dir, "agent", v2)); err == nil {
		t.Fatal("the failed version is still on disk: two versions are kept, the current and the previous")
	}
	t.Logf("rolled back %s after the commit, %d crashes; %s", took.Round(time.Millisecond), exits, st.Agent.Reason)
}

// A new version that runs but never finishes a healthy converge: at its confirm deadline it execs the previous
// version by itself (the same pid), reason agent-rollback, and that version is not tried again.
func TestRollbackUnhealthy(t *testing.T) {
	p := startAgent(t, v2+":unhealthy")
	books := p.waitBooks()
	pid, starts := p.pid(), p.starts()
	url := p.forgeRelease(t)
	begin := time.Now()
	p.commit(withAgent(v2, url, sum, "5s"))
	agenttest.WaitUntil(t, 30*time.Second, "v2 on trial", func() bool {
		st := p.st()
		return st.AgentVersion == v2 && st.Agent != nil && st.Agent.State == api.AgentTrial
	})
	var st agent.Status
	agenttest.WaitUntil(t, 60*time.Second, "back on v1 with agent-rollback", func() bool {
		st = p.st()
		return st.AgentVersion == v1 && st.Agent != nil && st.Agent.Code == api.ReasonAgentRollback
	})
	took := time.Since(begin)
	if p.pid() != pid || p.exits.Load() != 0 {
		t.Fatalf("agent pid %d, %d exits; want pid %d: the rollback is an exec in place too", p.pid(), p.exits.Load(), pid)
	}
	if st.Healthy() || !strings.Contains(p.metrics(), api.SeriesHostHealthy+" 0") {
		t.Fatalf("healthy after the rollback: want the host not healthy on the commit that named v2, so later waves hold")
	}
	p.post("/api/v1/sync")
	time.Sleep(2 * time.Second)
	if st := p.st(); st.AgentVersion != v1 || p.rel.count("/v2.tar.gz") != 1 {
		t.Fatalf("after another sync: agent %s, %d downloads: want v2 not tried again", st.AgentVersion, p.rel.count("/v2.tar.gz"))
	}
	if b := p.books(); b.PID != books.PID || p.starts() != starts {
		t.Fatalf("books_server %+v, %d starts; want pid %d kept, %d starts", b, p.starts(), books.PID, starts)
	}
	t.Logf("rolled back %s after the commit (confirm 5s); same pid; %s", took.Round(time.Millisecond), st.Agent.Reason)

	// a newer commit naming v1, the version it runs: the host is healthy on it again, the rollback no longer its
	// problem, and v2 may be tried again when a commit names it
	p.commit(withAgent(v1, url, sum, "5s"))
	agenttest.WaitUntil(t, 30*time.Second, "healthy on the newer commit", func() bool {
		st := p.st()
		return st.Healthy() && st.Agent != nil && st.Agent.Code == "" && st.AgentVersion == v1
	})
	// The record is written by the same pass, just after the status is: wait for it, bounded.
	agenttest.WaitUntil(t, 10*time.Second, "v2's failure forgotten once a commit named another version", func() bool {
		rec, _ := selfup.Load(p.dir)
		return rec != nil && !rec.HasFailed(v2)
	})
}

// A new version that hangs in its first converge (holding it, so no pass ever ends): at the deadline its own
// timer rolls back anyway, once the wait for the converge (bounded) is over.
func TestRollbackHung(t *testing.T) {
	p := startAgent(t, v2+":hang")
	books := p.waitBooks()
	pid := p.pid()
	url := p.forgeRelease(t)
	begin := time.Now()
	p.commit(withAgent(v2, url, sum, "3s"))
	var st agent.Status
	agenttest.WaitUntil(t, 60*time.Second, "back on v1 with agent-rollback", func() bool {
		st = p.st()
		return st.AgentVersion == v1 && st.Agent != nil && st.Agent.Code == api.ReasonAgentRollback
	})
	if p.pid() != pid || p.exits.Load() != 0 {
		t.Fatalf("agent pid %d, %d exits; want pid %d", p.pid(), p.exits.Load(), pid)
	}
	if b := p.books(); b.PID != books.PID {
		t.Fatalf("books_server %+v; want pid %d kept", b, books.PID)
	}
	t.Logf("rolled back %s after the commit (confirm 3s, then up to 10s for the hung converge); %s", time.Since(begin).Round(time.Millisecond), st.Agent.Reason)
}
