package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/agent/supervise"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/gitserver"
)

var snippetRE = regexp.MustCompile(`(?m)^artifact: \{url: (\S+), sha256: ([0-9a-f]{64})\}$`)

// herofleet build makes the same archive from the same commit twice, and an agent installs and runs it as the
// app's artifact.
func TestBuildArtifactInstalledByAgent(t *testing.T) {
	g, err := gitserver.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	bin := t.TempDir()
	testapp := filepath.Join(bin, "testapp")
	if out, err := exec.Command("go", "build", "-o", testapp, "../../agent/testdata/testapp").CombinedOutput(); err != nil {
		t.Fatalf("build testapp: %v\n%s", err, out)
	}
	// the app's build is reproducible: it installs a launcher of testapp as the binary
	if _, err := g.Commit("apps/books", "main", "books", gitserver.Text(map[string]string{
		"serve.sh": "#!/bin/sh\nexec " + testapp + " \"$@\"\n", "README": "books",
	})); err != nil {
		t.Fatal(err)
	}
	binaries := `binaries:
  - name: books_server
    kind: server
    path: target/release/books_server
    args: [--listen, "unix://${sockets}/books.sock", --rev, "${rev}"]
    listen: unix://${sockets}/books.sock
    health: /health
`
	fleetDir := t.TempDir()
	writeFiles(t, fleetDir, map[string]string{
		"fleet.yaml":        "name: t\n",
		"roles/tester.yaml": "preinstalled: [books]\n",
		"apps/books.yaml": "source: {repo: https://forge.test/apps/books.git, ref: main}\n" +
			"build: {command: [install, -D, -m, \"0755\", serve.sh, target/release/books_server]}\n" + binaries,
		"apps/hostbound.yaml": "source: {repo: https://forge.test/apps/books.git}\n" +
			"build: {command: [make, \"DATA=${data}\"]}\nbinaries: [{name: hb, kind: server, path: hb}]\n",
	})
	build := func(wantCode int, args ...string) string {
		t.Helper()
		args = append([]string{"build"}, args...)
		code, out := runCLI(t, append(args, "--rewrite", "https://forge.test/="+g.URL(), "--url", "https://artifacts.test/")...)
		if code != wantCode {
			t.Fatalf("herofleet %s: exit %d, want %d\n%s", strings.Join(args, " "), code, wantCode, out)
		}
		return out
	}
	out1 := filepath.Join(t.TempDir(), "books.tar.gz")
	m := snippetRE.FindStringSubmatch(build(0, "books", fleetDir, "--out", out1, "--cache", t.TempDir()))
	if m == nil || m[1] != "https://artifacts.test/books.tar.gz" {
		t.Fatalf("no artifact: line for books.tar.gz: %q", m)
	}
	sum := m[2]
	data, err := os.ReadFile(out1)
	if err != nil {
		t.Fatal(err)
	}
	if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != sum {
		t.Fatalf("the printed sha256 is not the archive's")
	}
	if side, _ := os.ReadFile(out1 + ".sha256"); string(side) != sum+"  books.tar.gz\n" {
		t.Fatalf("books.tar.gz.sha256: %q", side)
	}
	// the same commit built again, from a fresh clone into another folder: the same bytes
	out2 := filepath.Join(t.TempDir(), "dist", "books.tar.gz") // dist/ does not exist yet
	if m := snippetRE.FindStringSubmatch(build(0, "books", fleetDir, "--out", out2, "--cache", t.TempDir())); m == nil || m[2] != sum {
		t.Fatalf("second build: %q, first %s", m, sum)
	}
	// refused: no --out, an unknown app, a build that names a host's own values
	build(exitInvalid, "books", fleetDir)
	build(exitInvalid, "nope", fleetDir, "--out", filepath.Join(t.TempDir(), "x.tar.gz"))
	if out := build(exitInvalid, "hostbound", fleetDir, "--out", filepath.Join(t.TempDir(), "x.tar.gz")); !strings.Contains(out, "${data}") {
		t.Fatalf("hostbound: %s", out)
	}

	// the fleet names the archive; an agent downloads it through its rewrites and runs it
	srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Dir(out1))))
	defer srv.Close()
	if _, err := g.Commit("ops/fleet", "main", "books as an artifact", gitserver.Text(map[string]string{
		"fleet.yaml":        "name: t\n",
		"roles/tester.yaml": "preinstalled: [books]\n",
		"apps/books.yaml":   fmt.Sprintf("artifact: {url: %s, sha256: %s}\n", m[1], sum) + binaries,
	})); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("/tmp", "hfbuild") // unix socket paths stay short
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	defer supervise.KillMarked(supervise.Marker(dir))
	cfg, err := agent.ParseConfig([]byte(fmt.Sprintf(`fleet: {repo: "https://forge.test/ops/fleet.git"}
role: tester
dir: %s
rewrite: {"https://forge.test/": %q, "https://artifacts.test/": %q}
health_timeout: 10s
schedule: "@every 1h"
`, dir, g.URL(), srv.URL+"/")))
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SyncNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	var books agent.AppStatus
	for _, app := range a.Status().Apps {
		if app.Name == "books" {
			books = app
		}
	}
	if books.State != api.AppInstalled || books.Rev != sum {
		t.Fatalf("books: %+v", books)
	}
	if body := unixGet(t, filepath.Join(dir, "run", "books.sock"), "/"); !strings.Contains(body, "--rev "+sum) {
		t.Fatalf("books answered %q", body)
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func unixGet(t *testing.T, sock, path string) string {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
	resp, err := c.Get("http://localhost" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
