package rollout

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
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/browsertest"
)

// simAgent is an agent's /metrics as Prometheus scrapes it, with switches: its host, the commit it applied and
// when (by its own clock), whether it is healthy, and whether its scrapes fail.
type simAgent struct {
	*httptest.Server
	mu        sync.Mutex
	host      string
	commit    string
	healthy   bool
	appliedAt time.Time // by the agent's clock
	failing   bool      // scrapes answer 503
	failed    int       // scrapes answered 503
	started   time.Time // the agent process's start
}

func newSimAgent(t *testing.T, host, commit string) *simAgent {
	t.Helper()
	a := &simAgent{host: host, commit: commit, healthy: true, appliedAt: time.Now().Add(-time.Hour), started: time.Now().Add(-time.Hour)}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.failing {
			a.failed++
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		healthy := 0
		if a.healthy {
			healthy = 1
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, "%s{%s=%q,%s=\"tester\"} 1\n", api.SeriesHostInfo, api.LabelHost, a.host, api.LabelRole)
		fmt.Fprintf(w, "%s{%s=%q,%s=\"ok\"} 1\n", api.SeriesFleetApplied, api.LabelCommit, a.commit, api.LabelState)
		fmt.Fprintf(w, "%s %.3f\n", api.SeriesFleetAppliedAt, float64(a.appliedAt.UnixMilli())/1000)
		fmt.Fprintf(w, "%s %d\n", api.SeriesHostHealthy, healthy)
		fmt.Fprintf(w, "%s{%s=%q} %d\n", api.SeriesHealthyOn, api.LabelCommit, a.commit, healthy)
		fmt.Fprintf(w, "%s %d\n", api.ProcessStart, a.started.Unix())
	}))
	t.Cleanup(a.Close)
	return a
}

// set changes the agent under its lock.
func (a *simAgent) set(f func(a *simAgent)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f(a)
}

// addr is the agent's address, as a static target names it.
func (a *simAgent) addr() string { return strings.TrimPrefix(a.URL, "http://") }

// startProm runs Debian's prometheus on the configuration text until the test ends and returns its URL, once it
// is ready.
func startProm(t *testing.T, config string) string {
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
	eventually(t, 30*time.Second, "prometheus ready", func() bool {
		resp, err := http.Get(url + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return url
}

// eventually polls cond until it holds, failing the test at the deadline.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// testersConfig is a hand-written Prometheus configuration: static targets by address in a job named testers,
// no relabelling (the instance label is the address), scraped every second.
func testersConfig(agents ...*simAgent) string {
	var targets []string
	for _, a := range agents {
		targets = append(targets, fmt.Sprintf("%q", a.addr()))
	}
	return `global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: testers
    static_configs:
      - targets: [` + strings.Join(targets, ", ") + `]
`
}

// canaryFleet is a fleet of two waves, the canary one host, the bake given, its health read from prom.
func canaryFleet(canary, prom string, bake time.Duration) *fleet.Fleet {
	f := &fleet.Fleet{Hosts: map[string]*fleet.Host{canary: {Role: "tester"}, "tester-01": {Role: "tester"}}, Commit: commitC}
	f.Meta.Rollout.Waves = []fleet.Wave{{Name: "canary", Hosts: []string{canary}}, {Name: "rest"}}
	f.Meta.Rollout.Bake = fleet.Duration{Duration: bake}
	f.Meta.Rollout.Health.Prometheus = prom
	return f
}

// A host is known by its own name: with a hand-written scrape configuration (static targets by address, a job
// named testers, no relabelling), the gate finds the canary by the host label of its herofleet_host_info, opens
// once it is healthy on the commit for the bake, and holds, saying exactly what is missing, for a canary no agent
// reports.
func TestGateFindsHostsByTheirOwnNameInAnyScrapeConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus")
	}
	canary, other := newSimAgent(t, "tester-07", commitC), newSimAgent(t, "tester-01", commitA)
	prom := startProm(t, testersConfig(canary, other))
	f := canaryFleet("tester-07", prom, 2*time.Second)
	var v Verdict
	eventually(t, 30*time.Second, "the gate opens on a healthy canary", func() bool {
		v = Gate(context.Background(), f, 1)
		return !v.Hold
	})
	absent := canaryFleet("tester-08", prom, 2*time.Second)
	v = Gate(context.Background(), absent, 1)
	if want := "wave canary: Prometheus has no herofleet agent reporting host tester-08"; !v.Hold || v.Reason != want {
		t.Errorf("gate with an absent canary = %+v, want held: %q", v, want)
	}
}

// The bake is timed by Prometheus, on the commit: with a canary whose applied_at is an hour behind (its clock is
// skewed) and that was healthy on the previous commit all along, the gate opens no sooner than a bake of
// Prometheus' own samples on the new commit; a canary whose scrapes fail for part of the bake holds the wave
// until a whole bake has passed again after them; a restart of its agent starts the bake again.
func TestGateBakeIsTimedByPrometheusOnTheCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus")
	}
	const bake = 6 * time.Second // at one scrape a second
	canary := newSimAgent(t, "tester-07", commitA)
	prom := startProm(t, testersConfig(canary))
	onA, onC := canaryFleet("tester-07", prom, bake), canaryFleet("tester-07", prom, bake)
	onA.Commit = commitA
	eventually(t, 30*time.Second, "the canary baked on the previous commit", func() bool { return !Gate(context.Background(), onA, 1).Hold })

	// The canary applies C; its clock says it did so an hour ago.
	canary.set(func(a *simAgent) { a.commit, a.appliedAt = commitC, time.Now().Add(-time.Hour) })
	var seen time.Time // when Prometheus first had the canary on C
	var v Verdict
	eventually(t, 30*time.Second, "the gate opens on C", func() bool {
		v = Gate(context.Background(), onC, 1)
		if seen.IsZero() && !strings.Contains(v.Reason, "has not applied") {
			seen = time.Now()
		}
		return !v.Hold
	})
	if waited := time.Since(seen); waited < bake-2*time.Second {
		t.Errorf("the gate opened %s after Prometheus saw the canary on C, want about the %s bake: an agent's clock or the previous commit's samples counted", waited, bake)
	}

	// Its scrapes fail for three seconds: held while they fail, and for a bake after.
	canary.set(func(a *simAgent) { a.failing = true })
	eventually(t, 10*time.Second, "the gate holds while the canary's scrapes fail", func() bool { return Gate(context.Background(), onC, 1).Hold })
	eventually(t, 10*time.Second, "three failed scrapes", func() bool {
		n := 0
		canary.set(func(a *simAgent) { n = a.failed })
		return n >= 3
	})
	canary.set(func(a *simAgent) { a.failing = false })
	back := time.Now()
	eventually(t, 30*time.Second, "the gate opens again after a whole bake", func() bool {
		v = Gate(context.Background(), onC, 1)
		return !v.Hold
	})
	if waited := time.Since(back); waited < bake-2*time.Second {
		t.Errorf("the gate opened %s after the canary's scrapes came back, want a whole %s bake after the gap", waited, bake)
	}

	// Its agent restarts (a new start time): the bake starts again.
	canary.set(func(a *simAgent) { a.started = time.Now() })
	eventually(t, 10*time.Second, "the gate holds after the canary's agent restarted", func() bool {
		v = Gate(context.Background(), onC, 1)
		return v.Hold && strings.Contains(v.Reason, "its agent restarted")
	})
}
