package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/agent/supervise"
	"github.com/herofleet/herofleet/fleetview"
	"github.com/herofleet/herofleet/internal/browsertest"
	"github.com/herofleet/herofleet/internal/gitserver"
)

// fleetFiles is the test fleet: three testers whose agents answer on 127.0.0.1 at the ports given, the notes app
// on every one, and, with broken, an app whose build fails added to t2.
func fleetFiles(ports [3]string, broken bool) gitserver.Files {
	files := map[string]string{
		"fleet.yaml":        "name: lab\nsync: {schedule: \"@every 1h\"}\n",
		"roles/tester.yaml": "preinstalled: [notes]\n",
		"apps/notes.yaml": "source: {repo: https://forge.test/apps/notes.git, ref: main}\n" +
			"build: {command: [cp, /bin/sleep, notes_server], timeout: 1m}\n" +
			"binaries:\n  - {name: notes_server, kind: server, path: notes_server, args: [\"3600\"]}\n",
		"apps/broken.yaml": "source: {repo: https://forge.test/apps/notes.git, ref: main}\n" +
			"build: {command: [\"false\"], timeout: 1m}\n" +
			"binaries:\n  - {name: broken_server, kind: server, path: broken_server}\n",
	}
	for i, port := range ports {
		host := fmt.Sprintf("hosts/t%d.yaml", i+1)
		files[host] = fmt.Sprintf("role: tester\naddress: 127.0.0.1\nagent: http://127.0.0.1:%s\n", port)
		if broken && i == 1 {
			files[host] += "add: [broken]\n"
		}
	}
	return gitserver.Text(files)
}

// labAgent is one real agent (the agent command's serveAgent) with its listen and metrics_listen.
type labAgent struct {
	api  string // listen, with the token
	stop func()
}

// Three real agents and a real Prometheus configured by `herofleet prometheus config|targets|rules`: fleet status
// says when every host is on HEAD and healthy (exit 0), names hosts behind HEAD, the app failing on one host with
// its reason, and a stopped agent as stale, asking the agents directly and reading Prometheus.
func TestFleetStatusThreeAgentsAndPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three agents and Prometheus")
	}
	prom := browsertest.Tool(t, "prometheus", "prometheus")
	promtool := browsertest.Tool(t, "promtool", "prometheus")
	g, err := gitserver.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	if _, err := g.Commit("apps/notes", "main", "notes", gitserver.Text(map[string]string{"README": "notes"})); err != nil {
		t.Fatal(err)
	}
	var ports [3]string
	for i := range ports {
		_, ports[i], _ = strings.Cut(freeAddr(t), ":")
	}
	if _, err := g.Commit("ops/fleet", "main", "three testers", fleetFiles(ports, false)); err != nil {
		t.Fatal(err)
	}
	root, token := labRoot(t)
	var agents [3]labAgent
	for i := range agents {
		agents[i] = startLabAgent(t, root, fmt.Sprintf("t%d", i+1), ports[i], token, g.URL())
		defer agents[i].stop()
	}
	clone := func() string {
		dir := filepath.Join(t.TempDir(), "fleet")
		if _, err := git.PlainClone(dir, false, &git.CloneOptions{URL: g.URL() + "ops/fleet.git"}); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	dir := clone()
	statusOf := func(args ...string) (int, fleetview.Report, string) {
		t.Helper()
		code, out := runCLI(t, append([]string{"fleet", "status", dir, "--format", "json"}, args...)...)
		var r fleetview.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("fleet status %v: exit %d, not a JSON report: %v\n%s", args, code, err, out)
		}
		return code, r, out
	}
	waitFor := func(what string, args []string, cond func(int, fleetview.Report) bool) fleetview.Report {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			code, r, out := statusOf(args...)
			if cond(code, r) {
				return r
			}
			if time.Now().After(deadline) {
				t.Fatalf("fleet status %v never showed %s; last (exit %d):\n%s", args, what, code, out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitFor("every host on HEAD and healthy (exit 0)", nil, func(code int, r fleetview.Report) bool {
		return code == 0 && len(r.Hosts) == 3
	})
	if code, out := runCLI(t, "fleet", "status", dir); code != 0 || !strings.Contains(out, "3 hosts: 3 fine") || strings.Contains(out, "\x1b[") {
		t.Errorf("fleet status, text, not a terminal: exit %d\n%s", code, out)
	}

	// Prometheus, set up as the runbook says, from the fleet's own files.
	pdir := prometheusFiles(t, dir, "--sync-period", "1h")
	if out, err := exec.Command(promtool, "check", "config", filepath.Join(pdir, "prometheus.yml")).CombinedOutput(); err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
	promURL := startPrometheus(t, prom, pdir)
	withProm := []string{"--prometheus", promURL}
	waitFor("every host on HEAD and healthy through Prometheus", withProm, func(code int, r fleetview.Report) bool {
		return code == 0 && len(r.Hosts) == 3
	})

	// A new commit adds the broken app to t2: every host is behind HEAD until it syncs.
	if _, err := g.Commit("ops/fleet", "main", "t2 gets broken", fleetFiles(ports, true)); err != nil {
		t.Fatal(err)
	}
	dir = clone()
	if code, r, out := statusOf(); code != 1 || r.Hosts[0].OnHead || !strings.Contains(out, `"on_head": false`) {
		t.Fatalf("after a new commit, before any sync: exit %d\n%s", code, out)
	}
	for _, a := range agents {
		if code, out := runCLI(t, "--agent", a.api, "--token-file", token, "sync"); code != 0 {
			t.Fatalf("sync: exit %d\n%s", code, out)
		}
	}
	brokenOnT2 := func(code int, r fleetview.Report) bool {
		if code != 1 || len(r.Hosts) != 3 {
			return false
		}
		first := r.Hosts[0] // problems first
		return first.Host == "t2" && first.OnHead && !first.Healthy && len(first.Problems) == 1 &&
			first.Problems[0].App == "broken" && first.Problems[0].State == "failed" &&
			r.Hosts[1].Fine() && r.Hosts[2].Fine()
	}
	r := waitFor("broken failing on t2 only", nil, brokenOnT2)
	if reason := r.Hosts[0].Problems[0].Reason; !strings.Contains(reason, "build") {
		t.Errorf("the direct status names why broken failed: %q", reason)
	}
	waitFor("broken failing on t2 only, through Prometheus", withProm, brokenOnT2)
	code, out := runCLI(t, "fleet", "status", dir)
	if code != 1 || !regexpFind(`(?m)^t2 +tester +[0-9a-f]{12} +yes +ok +1/2 `, out) || !regexpFind(`(?m)^  t2 +broken +failed +.*build`, out) {
		t.Errorf("text: t2 first, 1 of 2 apps, broken failed with its reason; exit %d\n%s", code, out)
	}
	t.Logf("herofleet fleet status:\n%s", out)

	// t3's agent stops: stale, both ways.
	agents[2].stop()
	t3Stale := func(code int, r fleetview.Report) bool {
		return code == 1 && len(r.Hosts) == 3 && r.Hosts[0].Host == "t3" && r.Hosts[0].State == fleetview.StateStale &&
			r.Hosts[0].Stale != "" && r.Hosts[1].Host == "t2"
	}
	waitFor("t3 stale, asking the agents", nil, t3Stale)
	waitFor("t3 stale, through Prometheus", withProm, t3Stale)
	code, out = runCLI(t, "fleet", "status", dir, "--prometheus", promURL)
	if code != 1 || !regexpFind(`(?m)^t3 .* stale `, out) || !regexpFind(`(?m)^  t2 +broken +failed +apply-failed`, out) {
		t.Errorf("text through Prometheus: exit %d\n%s", code, out)
	}
	t.Logf("herofleet fleet status --prometheus:\n%s", out)
	// Prometheus gone: the status could not run (exit 2), it never says the fleet is fine.
	if code, out := runCLI(t, "fleet", "status", dir, "--prometheus", "http://127.0.0.1:1"); code != 2 {
		t.Errorf("Prometheus unreachable: exit %d, want 2\n%s", code, out)
	}
}

// labRoot is a short dir for the lab's agents (unix socket paths stay short) with the API token file.
func labRoot(t *testing.T) (root, token string) {
	t.Helper()
	root, err := os.MkdirTemp("/tmp", "hflab")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	token = filepath.Join(root, "token")
	if err := os.WriteFile(token, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return root, token
}

// prometheusFiles writes, in a new dir, Prometheus' configuration (scraping every second), targets and rules
// (herofleet prometheus rules with ruleArgs) for the fleet repo in dir, as the runbook says, and returns the dir.
func prometheusFiles(t *testing.T, dir string, ruleArgs ...string) string {
	t.Helper()
	pdir := t.TempDir()
	targets, rules := filepath.Join(pdir, "herofleet-targets.json"), filepath.Join(pdir, "herofleet.rules.yml")
	for file, args := range map[string][]string{
		filepath.Join(pdir, "prometheus.yml"): {"prometheus", "config", dir, "--targets-file", targets, "--rules-file", rules, "--scrape-interval", "1s"},
		targets:                               {"prometheus", "targets", dir},
		rules:                                 append([]string{"prometheus", "rules"}, ruleArgs...),
	} {
		code, out := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("herofleet %v: exit %d\n%s", args, code, out)
		}
		if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return pdir
}

func startLabAgent(t *testing.T, root, host, metricsPort, token, forge string) labAgent {
	t.Helper()
	return startLabAgentEvery(t, root, host, metricsPort, token, forge, "@every 1h")
}

// startLabAgentEvery is startLabAgent with the agent's sync schedule.
func startLabAgentEvery(t *testing.T, root, host, metricsPort, token, forge, schedule string) labAgent {
	t.Helper()
	dir := filepath.Join(root, host)
	addr := freeAddr(t)
	cfg, err := agent.ParseConfig([]byte(fmt.Sprintf(`fleet: {repo: "https://forge.test/ops/fleet.git", ref: main}
host: %s
role: tester
address: 127.0.0.1
dir: %s
listen: %s
metrics_listen: 127.0.0.1:%s
token_file: %s
rewrite: {"https://forge.test/": %q}
schedule: %q
stop_grace: 2s
health_timeout: 5s
`, host, dir, addr, metricsPort, token, forge, schedule)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	lg := slog.New(slog.DiscardHandler)
	if os.Getenv("HF_DEBUG_AGENT") != "" {
		lg = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("host", host)
	}
	go func() { done <- serveAgent(ctx, cfg, lg) }()
	stopped := false
	return labAgent{api: "http://" + addr, stop: func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent %s: %v", host, err)
		}
		supervise.KillMarked(supervise.Marker(dir))
	}}
}

// startPrometheus runs Debian's prometheus on the config in dir until the test ends and returns its URL.
func startPrometheus(t *testing.T, prom, dir string) string {
	t.Helper()
	listen := freeAddr(t)
	t.Cleanup(runPrometheus(t, prom, dir, listen))
	return "http://" + listen
}

// runPrometheus runs Debian's prometheus on the config and data in dir, listening on listen, and returns once it
// is ready; stop ends it (a second call does nothing). Run again on the same dir and address, it comes back with
// the series it had.
func runPrometheus(t *testing.T, prom, dir, listen string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, prom, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+listen, "--log.level=warn")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // it dies with a test binary killed by a timeout
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus:\n%s", logs.String())
		}
	}
	base := "http://" + listen
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return stop
			}
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("prometheus never became ready: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func regexpFind(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }
