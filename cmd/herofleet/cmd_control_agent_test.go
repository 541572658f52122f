package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/demo"
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

// TestCLIAgainstRealAgent drives a real agent with the CLI, as an operator on the VM would: status, install with
// progress, stop (and it stays stopped), logs, start, uninstall.
func TestCLIAgainstRealAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two apps")
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
	dir, err := os.MkdirTemp("/tmp", "hfcli") // unix socket paths stay short
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	tokenFile := filepath.Join(dir, "token")
	os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600)
	raw, err := yaml.Marshal(&agent.Config{
		Fleet: agent.FleetRepo{Repo: fleetURL, Ref: "main"}, Host: "t1", Role: "tester", Dir: dir, Listen: addr,
		TokenFile: tokenFile, Rewrite: map[string]string{demo.Forge: g.URL()}, Path: demo.BuildPath(),
		BuildEnv: demo.GoBuildEnv(dir), Schedule: "@every 1h",
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := agent.ParseConfig(raw)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runAgent(ctx, cfg, slog.New(slog.DiscardHandler)) }()
	defer func() {
		cancel()
		<-done
	}()
	base := "http://" + addr
	// rowState is the state of a row of GET /api/v1/apps: a binary's row, or an app's bundle row.
	rowState := func(name string) string {
		resp, err := http.Get(base + "/api/v1/apps")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		var body struct {
			Rows []struct{ Type, App, Binary, State string } `json:"rows"`
		}
		json.NewDecoder(resp.Body).Decode(&body)
		for _, r := range body.Rows {
			if r.Binary == name || (r.Type == "bundle" && r.App == name) {
				return r.State
			}
		}
		return ""
	}
	waitFor := func(name, state string) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Minute)
		for rowState(name) != state {
			if time.Now().After(deadline) {
				t.Fatalf("%s never became %s (is %q)", name, state, rowState(name))
			}
			time.Sleep(100 * time.Millisecond) // polling a real agent with a deadline
		}
	}
	waitFor("notes_server", "running")
	cli := func(wantCode int, args ...string) string {
		t.Helper()
		code, out := runCLI(t, append([]string{"--agent", base, "--token-file", tokenFile}, args...)...)
		if code != wantCode {
			t.Fatalf("herofleet %s: exit %d, want %d\n%s", strings.Join(args, " "), code, wantCode, out)
		}
		return out
	}
	must := func(out string, wants ...string) {
		t.Helper()
		for _, w := range wants {
			if !strings.Contains(out, w) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
	}
	must(cli(0, "status"), "notes_server", "running", "wiki", "not-installed")
	must(cli(0, "install", "wiki"), "wiki: healthy")
	if rowState("wiki_web") != "running" {
		t.Errorf("after install, wiki_web is %q", rowState("wiki_web"))
	}
	cli(1, "install", "wiki") // already installed: 409
	cli(0, "stop", "notes_server")
	waitFor("notes_server", "stopped")
	must(cli(0, "status"), "stopped")
	must(cli(0, "logs", "notes_server"), "notes_server serving on unix://")
	cli(0, "start", "notes_server")
	waitFor("notes_server", "running")
	cli(0, "uninstall", "wiki")
	waitFor("wiki", "not-installed")
	if code, out := runCLI(t, "--agent", base, "--token-file", filepath.Join(dir, "nope"), "stop", "notes_server"); code == 0 {
		t.Errorf("stop without a readable token succeeded:\n%s", out)
	}
}
