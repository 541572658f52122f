// Package promtest stands up Debian's prometheus and simulated agents for tests: a real Prometheus scraping
// /metrics pages whose answers a test switches (the commit, health, failing scrapes, a restart).
package promtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/browsertest"
)

// SimAgent is an agent's /metrics as Prometheus scrapes it, with switches: its host, the commit it applied and
// when (by its own clock), whether it is healthy, and whether its scrapes fail.
type SimAgent struct {
	*httptest.Server
	mu        sync.Mutex
	Host      string
	Commit    string
	Healthy   bool
	AppliedAt time.Time // by the agent's clock
	Failing   bool      // scrapes answer 503
	Failed    int       // scrapes answered 503
	Served    int       // scrapes answered with the metrics
	Started   time.Time // the agent process's start
	// Clock is the agent's clock (nil: the machine's): it dates the last sync it reports, as a real agent's Clock
	// does. A test skews it, and dates AppliedAt by it.
	Clock func() time.Time
	// HealthyOnValue, when set, is the text of the healthy-on-commit sample's value ("NaN", "+Inf", "2") instead of
	// 1 or 0 from Healthy.
	HealthyOnValue string
	// HealthyOnStamps, when set, gives at each scrape explicit timestamps (by whatever clock the test chose) to
	// write on the healthy-on-commit series, one sample per stamp, instead of one sample Prometheus stamps (a zero
	// stamp writes one that Prometheus stamps, in its place among the others).
	HealthyOnStamps func() []time.Time
}

// NewSimAgent serves a host healthy on commit, applied an hour ago, its agent started an hour ago.
func NewSimAgent(t testing.TB, host, commit string) *SimAgent {
	t.Helper()
	a := &SimAgent{Host: host, Commit: commit, Healthy: true, AppliedAt: time.Now().Add(-time.Hour), Started: time.Now().Add(-time.Hour)}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.Failing {
			a.Failed++
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		a.Served++
		healthy := 0
		if a.Healthy {
			healthy = 1
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, "%s{%s=%q,%s=\"tester\"} 1\n", api.SeriesHostInfo, api.LabelHost, a.Host, api.LabelRole)
		fmt.Fprintf(w, "%s{%s=%q,%s=%q} 1\n", api.SeriesFleetApplied, api.LabelCommit, a.Commit, api.LabelState, api.SyncOK)
		fmt.Fprintf(w, "%s %.3f\n", api.SeriesFleetAppliedAt, float64(a.AppliedAt.UnixMilli())/1000)
		fmt.Fprintf(w, "%s %d\n", api.SeriesHostHealthy, healthy)
		on := strconv.Itoa(healthy)
		if a.HealthyOnValue != "" {
			on = a.HealthyOnValue
		}
		if a.HealthyOnStamps == nil {
			fmt.Fprintf(w, "%s{%s=%q} %s\n", api.SeriesHealthyOn, api.LabelCommit, a.Commit, on)
		} else {
			for _, at := range a.HealthyOnStamps() {
				if at.IsZero() {
					fmt.Fprintf(w, "%s{%s=%q} %s\n", api.SeriesHealthyOn, api.LabelCommit, a.Commit, on)
					continue
				}
				fmt.Fprintf(w, "%s{%s=%q} %s %d\n", api.SeriesHealthyOn, api.LabelCommit, a.Commit, on, at.UnixMilli())
			}
		}
		fmt.Fprintf(w, "%s %d\n", api.ProcessStart, a.Started.Unix())
		now := time.Now
		if a.Clock != nil {
			now = a.Clock
		}
		fmt.Fprintf(w, "%s %.3f\n", api.SeriesFleetLastSync, float64(now().UnixMilli())/1000)
		fmt.Fprintf(w, "%s 60\n%s 1\n%s %d\n", api.SeriesSyncPeriod, api.SeriesAppsExpected, api.SeriesAppsRunning, healthy)
	}))
	t.Cleanup(a.Close)
	return a
}

// Set changes the agent under its lock.
func (a *SimAgent) Set(f func(a *SimAgent)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f(a)
}

// Addr is the agent's address, as a static target names it.
func (a *SimAgent) Addr() string { return strings.TrimPrefix(a.URL, "http://") }

// Start runs Debian's prometheus on the configuration text until the test ends and returns its URL, once it
// is ready.
func Start(t testing.TB, config string) string {
	t.Helper()
	return StartProm(t, config).URL
}

// Prom is a Prometheus a test runs: its URL, and switches to restart it on the same data or reload another
// configuration.
type Prom struct {
	URL     string
	Started time.Time // when its current process was started
	t       testing.TB
	bin     string
	dir     string
	listen  string
	mu      sync.Mutex
	cmd     *exec.Cmd
	cancel  context.CancelFunc
	logs    *strings.Builder
}

// StartProm is Start, returning the Prometheus itself.
func StartProm(t testing.TB, config string) *Prom {
	t.Helper()
	p := &Prom{t: t, bin: browsertest.Tool(t, "prometheus", "prometheus"), dir: t.TempDir(), logs: &strings.Builder{}}
	if err := os.WriteFile(filepath.Join(p.dir, "prometheus.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.listen = ln.Addr().String()
	ln.Close()
	p.URL = "http://" + p.listen
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("prometheus:\n%s", p.logs.String())
		}
	})
	p.start()
	return p
}

func (p *Prom) start() {
	p.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, p.bin, "--config.file="+filepath.Join(p.dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(p.dir, "data"), "--web.listen-address="+p.listen, "--log.level=warn")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	p.mu.Lock()
	p.Started = time.Now()
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		cancel()
		p.t.Fatal(err)
	}
	p.cmd, p.cancel = cmd, cancel
	p.mu.Unlock()
	Eventually(p.t, 30*time.Second, "prometheus ready", func() bool {
		resp, err := http.Get(p.URL + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// stop ends the process with SIGTERM (Prometheus writes its data and exits), SIGKILL after 10 s.
func (p *Prom) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cancel()
		<-done
	}
	p.cancel()
	p.cmd = nil
}

// Restart stops Prometheus and starts it again on the same data, address and configuration, once it is ready.
func (p *Prom) Restart() {
	p.t.Helper()
	p.stop()
	p.start()
}

// Reload replaces the configuration and has Prometheus reload it (SIGHUP), once it serves the new one.
func (p *Prom) Reload(config string) {
	p.t.Helper()
	if err := os.WriteFile(filepath.Join(p.dir, "prometheus.yml"), []byte(config), 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	err := p.cmd.Process.Signal(syscall.SIGHUP)
	p.mu.Unlock()
	if err != nil {
		p.t.Fatal(err)
	}
	Eventually(p.t, 30*time.Second, "prometheus reloaded", func() bool {
		resp, err := http.Get(p.URL + "/api/v1/status/config")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var body struct {
			Data struct {
				YAML string `json:"yaml"`
			} `json:"data"`
		}
		return json.NewDecoder(resp.Body).Decode(&body) == nil && sameJobs(body.Data.YAML, config)
	})
}

// sameJobs reports whether the loaded configuration (as Prometheus writes it back) names the jobs of config.
func sameJobs(loaded, config string) bool {
	for _, line := range strings.Split(config, "\n") {
		if _, job, ok := strings.Cut(line, "job_name:"); ok && !strings.Contains(loaded, "job_name: "+strings.TrimSpace(job)+"\n") {
			return false
		}
	}
	return true
}

// Eventually polls cond until it holds, failing the test at the deadline.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// StaticConfig is a hand-written Prometheus configuration: the agents as static targets by address in one job,
// no relabelling (the instance label is the address), scraped every second.
func StaticConfig(job string, agents ...*SimAgent) string {
	var targets []string
	for _, a := range agents {
		targets = append(targets, fmt.Sprintf("%q", a.Addr()))
	}
	return `global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: ` + job + `
    static_configs:
      - targets: [` + strings.Join(targets, ", ") + `]
`
}
