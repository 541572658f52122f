package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/demo"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/gitserver"
)

// cliFleet: one preinstalled app and one on click, each a real program the agent builds from its git repo (the
// demo's app generator), listening on unix sockets so the test needs no fixed port.
var cliFleet = fstest.MapFS{
	"fleet.yaml": {Data: []byte("name: cli\n")},
	"apps/notes.yaml": {Data: []byte(`title: Notes
source: {repo: https://forge.ourworld.tf/lhumina_code/notes.git, ref: main}
build: {command: [make, build]}
binaries:
  - {name: notes_server, kind: server, path: target/release/notes_server, args: [--listen, "unix://${sockets}/notes.sock"], listen: "unix://${sockets}/notes.sock", health: /health}
`)},
	"apps/wiki.yaml": {Data: []byte(`title: Wiki
source: {repo: https://forge.ourworld.tf/lhumina_code/wiki.git, ref: main}
build: {command: [make, build]}
binaries:
  - {name: wiki_web, kind: web, path: target/release/wiki_web, args: [--listen, "unix://${sockets}/wiki.sock"], listen: "unix://${sockets}/wiki.sock", health: /health}
`)},
	"roles/tester.yaml": {Data: []byte("preinstalled: [notes]\ncatalog: [wiki]\n")},
}

// TestBootstrappedAgentConverges: a VM image bootstrapped with `herofleet bootstrap --root` runs an agent from
// exactly that config (its paths taken inside the root, as the VM would see them) and converges on the fleet; with
// --address it answers /metrics, without a token, on that address at the port fleet tools scrape.
func TestBootstrappedAgentConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an app")
	}
	g, err := gitserver.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	fleetURL, err := demo.Publish(g, cliFleet)
	if err != nil {
		t.Fatal(err)
	}
	root, err := os.MkdirTemp("/tmp", "hfb") // unix socket paths stay short
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(root)
	code, out := runCLI(t, "bootstrap", "--root", root, "--fleet", fleetURL, "--role", "tester", "--host", "tester-09",
		"--address", "127.0.0.1", "--rewrite", demo.Forge+"="+g.URL())
	if code != exitOK {
		t.Fatalf("bootstrap: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "\nmetrics: http://127.0.0.1:7072/metrics, read-only, no token:") {
		t.Errorf("bootstrap does not say where the fleet scrapes the agent:\n%s", out)
	}
	cfg, err := agent.LoadConfig(filepath.Join(root, "etc/herofleet/agent.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Role != "tester" || cfg.Host != "tester-09" || cfg.Fleet.Repo != fleetURL {
		t.Fatalf("bootstrapped config: %+v", cfg)
	}
	// The listener is where herofleet prometheus targets and fleet status look for a host file with this address.
	if want := fleet.AgentURL("tester-09", &fleet.Host{Address: "127.0.0.1"}); "http://"+cfg.MetricsListen != want {
		t.Fatalf("metrics_listen %q, fleet tools scrape %s", cfg.MetricsListen, want)
	}
	// The image's paths, inside the root; a free port; this machine's Go for the demo apps' builds.
	for _, p := range []*string{&cfg.Dir, &cfg.TokenFile, &cfg.SecretsDir, &cfg.PluginsDir} {
		*p = filepath.Join(root, *p)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen = ln.Addr().String()
	ln.Close()
	// The bootstrapped metrics address on a free port: 7072 may be taken on the test machine.
	metricsHost, _, err := net.SplitHostPort(cfg.MetricsListen)
	if err != nil {
		t.Fatal(err)
	}
	mln, err := net.Listen("tcp", net.JoinHostPort(metricsHost, "0"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MetricsListen = mln.Addr().String()
	mln.Close()
	cfg.Path, cfg.BuildEnv = demo.BuildPath(), demo.GoBuildEnv(cfg.Dir)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveAgent(ctx, cfg, slog.New(slog.DiscardHandler)) }()
	defer func() {
		cancel()
		<-done
	}()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		// The bootstrapped token authenticates the CLI.
		code, out := runCLI(t, "--agent", "http://"+cfg.Listen, "--token-file", cfg.TokenFile, "status")
		if code == exitOK && strings.Contains(out, "notes_server") && strings.Contains(out, "running") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bootstrapped agent did not converge:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond) // polling the agent with a deadline
	}
	// What the fleet's Prometheus scrapes: no token, the host's series.
	resp, err := http.Get("http://" + cfg.MetricsListen + "/metrics")
	if err != nil {
		t.Fatalf("the bootstrapped agent's metrics_listen: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `herofleet_host_info{host="tester-09",role="tester"} 1`) {
		t.Errorf("GET /metrics on metrics_listen: %s\n%s", resp.Status, body)
	}
}
