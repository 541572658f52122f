package agentupgrade

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/agent/supervise"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/bench/internal/simfleet"
	"github.com/herofleet/herofleet/internal/agenttest"
)

// Two herofleet binaries built once per process, as agent/selfup/e2e_test.go does: v1, the one every iteration
// starts, and v2, packed as a release archive served on loopback.
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
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run()) // no benchmark asked for (make test): build nothing
	}
	dir, err := os.MkdirTemp("/tmp", "hfau")
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

// The fleet: one app whose binary listens on a TCP port of loopback, the URL the poller GETs.
const fleetText = `
-- fleet.yaml --
name: agentupgrade
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "tcp://127.0.0.1:{{port}}"], listen: "tcp://127.0.0.1:{{port}}", health: /health}
`

// withAgent is fleetText with an agent block naming v2 at url.
func withAgent(url string) string {
	return fleetText + fmt.Sprintf(`-- fleet.yaml --
name: agentupgrade
sync: {schedule: "@every 1h"}
agent:
  version: %s
  artifacts:
    %s/%s: {url: %q, sha256: %s}
  confirm: 1m
`, v2, runtime.GOOS, runtime.GOARCH, url, sum)
}

// host is one agent process of v1 on a fresh forge, its app installed and running.
type host struct {
	b      *testing.B
	forge  *agenttest.Forge
	dir    string
	config string
	api    string
	token  string
	port   int
	rel    *httptest.Server
	commit string // the fleet's applied commit

	mu  sync.Mutex
	cmd *exec.Cmd
}

func newHost(b *testing.B) *host {
	b.Helper()
	h := &host{b: b, port: agenttest.FreePort(b), token: "bench-token"}
	h.forge = agenttest.StartForge(b, agenttest.Vars{"testapp": testapp, "port": strconv.Itoa(h.port)})
	h.forge.CommitApp("books")
	h.commit = h.forge.CommitFleet(fleetText)
	h.rel = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(archive) }))
	h.dir = agenttest.AgentDir(b)
	h.api = "127.0.0.1:" + strconv.Itoa(agenttest.FreePort(b))
	os.WriteFile(filepath.Join(h.dir, "token"), []byte(h.token+"\n"), 0o600)
	h.config = filepath.Join(h.dir, "agent.yaml")
	cfg := agenttest.AgentConfig(h.dir, h.forge) + fmt.Sprintf("listen: %s\ntoken_file: %s\n", h.api, filepath.Join(h.dir, "token"))
	os.WriteFile(h.config, []byte(cfg), 0o600)
	h.start(v1)
	agenttest.WaitUntil(b, 60*time.Second, "v1 converged with books_server up", func() bool {
		return h.converged(v1) && get(h.url()) == nil
	})
	return h
}

// start runs `herofleet agent --config FILE` of version v.
func (h *host) start(v string) {
	cmd := exec.Command(bins[v], "agent", "--config", h.config)
	logf, _ := os.OpenFile(filepath.Join(h.dir, "agent.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		h.b.Fatal(err)
	}
	go func() { _ = cmd.Wait(); logf.Close() }()
	h.mu.Lock()
	h.cmd = cmd
	h.mu.Unlock()
}

// stop ends the agent (SIGTERM, which leaves its apps running) and waits until its process is gone.
func (h *host) stop() {
	h.mu.Lock()
	p := h.cmd.Process
	h.mu.Unlock()
	_ = p.Signal(syscall.SIGTERM)
	agenttest.WaitUntil(h.b, 30*time.Second, "the agent gone", func() bool { return syscall.Kill(p.Pid, 0) != nil })
}

// close ends the agent and everything it started.
func (h *host) close() {
	h.mu.Lock()
	p := h.cmd.Process
	h.mu.Unlock()
	_ = p.Kill()
	supervise.KillMarked(supervise.Marker(h.dir))
	h.rel.Close()
	if h.b.Failed() || os.Getenv("HF_BENCH_LOG") != "" { // HF_BENCH_LOG=1: the agent's log, to see where the time goes
		log, _ := os.ReadFile(filepath.Join(h.dir, "agent.log"))
		h.b.Logf("agent log (last 6000 bytes):\n%s", log[max(0, len(log)-6000):])
	}
}

func (h *host) url() string { return "http://127.0.0.1:" + strconv.Itoa(h.port) + "/" }

func (h *host) status() (agent.Status, error) {
	var st agent.Status
	resp, err := http.Get("http://" + h.api + "/api/v1/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

func (h *host) post(path string) {
	req, _ := http.NewRequest(http.MethodPost, "http://"+h.api+path, nil)
	req.Header.Set("Authorization", "Bearer "+h.token)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

// converged: the agent runs version v, confirmed, on the fleet's newest commit, with books_server running.
func (h *host) converged(v string) bool {
	st, err := h.status()
	if err != nil || st.AgentVersion != v || st.Agent == nil || st.Agent.State != api.AgentConfirmed || st.Fleet.Commit != h.commit {
		return false
	}
	for _, a := range st.Apps {
		for _, bin := range a.Binaries {
			if bin.Name == "books_server" {
				return bin.State == api.BinRunning && bin.PID != 0
			}
		}
	}
	return false
}

var client = &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// get GETs url; anything but a 200 is an error.
func get(url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s", resp.Status)
	}
	return nil
}

// poller GETs the app's URL every 50 ms and counts the failed requests and the longest failing stretch (from the
// first failed request to the next that succeeds).
type poller struct {
	mu               sync.Mutex
	requests, failed int
	longest          time.Duration
	failingSince     time.Time // zero while the app answers
	lastOK           time.Time // when the last successful request started
	done             chan struct{}
	exited           chan struct{}
}

func startPoller(url string) *poller {
	p := &poller{done: make(chan struct{}), exited: make(chan struct{})}
	go func() {
		defer close(p.exited)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			at := time.Now()
			err := get(url)
			p.mu.Lock()
			p.requests++
			switch {
			case err != nil:
				p.failed++
				if p.failingSince.IsZero() {
					p.failingSince = at
				}
			default:
				if !p.failingSince.IsZero() {
					p.longest = max(p.longest, at.Sub(p.failingSince))
					p.failingSince = time.Time{}
				}
				p.lastOK = at
			}
			p.mu.Unlock()
			select {
			case <-p.done:
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

// okSince reports whether a request started at or after t succeeded.
func (p *poller) okSince(t time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.lastOK.Before(t)
}

// stop ends the polling and returns the requests, the failed ones and the longest failing stretch (a stretch
// still failing counts up to now).
func (p *poller) stop() (requests, failed int, longest time.Duration) {
	close(p.done)
	<-p.exited
	if !p.failingSince.IsZero() {
		p.longest = max(p.longest, time.Since(p.failingSince))
	}
	return p.requests, p.failed, p.longest
}

// upgrade is one way to take a host from v1 to v2: it starts at begin's return and ends when converged(v2) holds.
type upgrade func(h *host)

// throughFleet commits fleet.yaml's agent block naming v2 and triggers a sync (the schedule is 1h, as in the
// tests; a real fleet's agent polls): the agent downloads v2, execs it in place and adopts books_server.
func throughFleet(h *host) {
	h.commit = h.forge.CommitFleet(withAgent(h.rel.URL + "/v2.tar.gz"))
	h.post("/api/v1/sync")
}

// stopAndStart is the upgrade before adoption: the agent stopped (SIGTERM), its apps stopped by `herofleet agent
// stop-apps --config FILE` (what the package's removal ran), and v2 started on the same dir, which starts every app
// afresh from its recorded build.
func stopAndStart(h *host) {
	h.stop()
	if out, err := exec.Command(bins[v1], "agent", "stop-apps", "--config", h.config).CombinedOutput(); err != nil {
		h.b.Fatalf("stop-apps: %v\n%s", err, out)
	}
	h.start(v2)
}

func run(b *testing.B, up upgrade) {
	var took, downs []time.Duration
	var fails []int
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		h := newHost(b)
		poll := startPoller(h.url())
		agenttest.WaitUntil(b, 10*time.Second, "the poller's first answer", func() bool { return poll.okSince(time.Time{}) })
		b.StartTimer()

		begin := time.Now()
		up(h)
		agenttest.WaitUntil(b, 120*time.Second, "v2 converged", func() bool { return h.converged(v2) })
		d := time.Since(begin)

		b.StopTimer()
		end := time.Now() // the poller goes on until a request started after the convergence succeeded
		agenttest.WaitUntil(b, 30*time.Second, "the app answering after the upgrade", func() bool { return poll.okSince(end) })
		n, failed, longest := poll.stop()
		h.close()
		took, downs, fails = append(took, d), append(downs, longest), append(fails, failed)
		b.Logf("iteration %d: %s to v2 converged, %d of %d requests failed, longest failing stretch %s",
			i, d.Round(time.Millisecond), failed, n, longest.Round(time.Millisecond))
	}
	b.ReportMetric(ms(mean(took)), "ms-to-confirmed")
	b.ReportMetric(float64(sumInts(fails))/float64(b.N), "failed-requests")
	b.ReportMetric(ms(slices.Max(downs)), "downtime-ms")
	b.Logf("N=%d load %s", b.N, simfleet.Loadavg())
}

// BenchmarkUpgradeThroughFleet: the commit of fleet.yaml's agent block to v2 confirmed (agent_version v2, state
// confirmed), books_server polled every 50 ms throughout.
func BenchmarkUpgradeThroughFleet(b *testing.B) { run(b, throughFleet) }

// BenchmarkUpgradeStopStart: the alternative, measured the same way from the SIGTERM to v2 converged.
func BenchmarkUpgradeStopStart(b *testing.B) { run(b, stopAndStart) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mean(ds []time.Duration) time.Duration {
	var s time.Duration
	for _, d := range ds {
		s += d
	}
	return s / time.Duration(len(ds))
}

func sumInts(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}
