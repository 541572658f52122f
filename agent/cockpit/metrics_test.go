package cockpit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
	"github.com/herofleet/herofleet/internal/browsertest"
)

// promQuery asks Prometheus' HTTP API for an instant vector and returns its samples' labels and values.
func promQuery(base, query string) ([]map[string]string, []string, error) {
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(base + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Status string
		Data   struct {
			Result []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return nil, nil, err
	}
	var labels []map[string]string
	var values []string
	for _, r := range out.Data.Result {
		labels = append(labels, r.Metric)
		values = append(values, fmt.Sprint(r.Value[1]))
	}
	return labels, values, nil
}

// A real Prometheus scrapes the agent's /metrics every second; the applied commit, the binary states and the
// counts of syncs and applies come back through Prometheus' own query API.
func TestMetricsScrapedByPrometheus(t *testing.T) {
	prom := browsertest.Tool(t, "prometheus", "prometheus")
	h := newHarness(t)
	h.commitApp("books")
	h.commitFleet(`
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
`)
	c := h.startCockpit()
	var commit string
	agenttest.WaitUntil(t, 30*time.Second, "books running and the fleet commit applied", func() bool {
		apps := c.apps()
		commit = apps.Fleet.Commit
		return rowOf(apps, "books_server").State == api.RowState(api.BinRunning) && commit != ""
	})

	// the exposition itself first: cheap to diagnose
	code, text := c.do("GET", "/metrics", false)
	for _, want := range []string{"herofleet_syncs_total", "herofleet_sync_failures_total", "herofleet_fleet_applied_info{commit=\"" + commit,
		`herofleet_binary_state{app="books",binary="books_server",state="running"} 1`, "herofleet_binary_restarts_total",
		"herofleet_build_duration_seconds_bucket", "herofleet_apply_duration_seconds_bucket", `herofleet_app_state{app="books",state="installed"} 1`} {
		if code != 200 || !strings.Contains(text, want) {
			t.Fatalf("/metrics (%d) lacks %q:\n%s", code, want, text)
		}
	}

	dir := t.TempDir()
	target := strings.TrimPrefix(c.srv.URL, "http://")
	config := fmt.Sprintf("global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n  - job_name: herofleet\n    static_configs: [{targets: [%q]}]\n", target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	listen := fmt.Sprintf("127.0.0.1:%d", agenttest.FreePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, prom, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+listen, "--log.level=warn")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // it dies with a test binary killed by a timeout
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	base := "http://" + listen

	var labels []map[string]string
	deadline := time.Now().Add(60 * time.Second)
	for {
		var err error
		labels, _, err = promQuery(base, `herofleet_fleet_applied_info{job="herofleet"}`)
		if err == nil && len(labels) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus never returned herofleet_fleet_applied_info (last err %v)\n%s", err, logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if labels[0]["commit"] != commit || labels[0]["state"] != "ok" {
		t.Fatalf("applied info through Prometheus: %v, want commit %s", labels[0], commit)
	}
	for query, want := range map[string]string{
		`herofleet_binary_state{binary="books_server",state="running"}`: "1",
		`herofleet_syncs_total`: "1",
		`sum(herofleet_apply_duration_seconds_count{app="books",result="ok"})`: "1",
		`sum(herofleet_build_duration_seconds_count{app="books",result="ok"})`: "1",
		`herofleet_binary_restarts_total{app="books",binary="books_server"}`:   "0",
		`count(herofleet_app_state{app="books",state="installed"})`:            "1",
		`herofleet_sync_failures_total`:                                        "0",
	} {
		_, values, err := promQuery(base, query)
		if err != nil || len(values) != 1 || values[0] != want {
			t.Errorf("%s through Prometheus: %v (err %v), want %s", query, values, err, want)
		}
	}
}
