// Package promtest stands up Debian's prometheus and simulated agents for tests: a real Prometheus scraping
// /metrics pages whose answers a test switches (the commit, health, failing scrapes, a restart).
package promtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
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
	Started   time.Time // the agent process's start
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
		healthy := 0
		if a.Healthy {
			healthy = 1
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, "%s{%s=%q,%s=\"tester\"} 1\n", api.SeriesHostInfo, api.LabelHost, a.Host, api.LabelRole)
		fmt.Fprintf(w, "%s{%s=%q,%s=%q} 1\n", api.SeriesFleetApplied, api.LabelCommit, a.Commit, api.LabelState, api.SyncOK)
		fmt.Fprintf(w, "%s %.3f\n", api.SeriesFleetAppliedAt, float64(a.AppliedAt.UnixMilli())/1000)
		fmt.Fprintf(w, "%s %d\n", api.SeriesHostHealthy, healthy)
		fmt.Fprintf(w, "%s{%s=%q} %d\n", api.SeriesHealthyOn, api.LabelCommit, a.Commit, healthy)
		fmt.Fprintf(w, "%s %d\n", api.ProcessStart, a.Started.Unix())
		fmt.Fprintf(w, "%s %.3f\n", api.SeriesFleetLastSync, float64(time.Now().UnixMilli())/1000)
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
	prom := browsertest.Tool(t, "prometheus", "prometheus")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, prom, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+listen, "--log.level=warn")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus:\n%s", logs.String())
		}
	})
	url := "http://" + listen
	Eventually(t, 30*time.Second, "prometheus ready", func() bool {
		resp, err := http.Get(url + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return url
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
