package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herofleet/herofleet/agent/apply"
	"github.com/herofleet/herofleet/api"
)

// A build printing 64 MiB without a newline installs, and its log on disk stays under the cap.
func TestNoisyBuildLogIsCapped(t *testing.T) {
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
	cfg, err := ParseConfig([]byte(h.configText() + "build_env: {NOISY_BUILD: \"67108864\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Shutdown)
	mustSync(t, a)
	if b := appOf(a.Status(), "books"); b.State != api.AppInstalled {
		t.Fatalf("%+v", b)
	}
	logs, _ := filepath.Glob(filepath.Join(h.dir, "builds", "books", "*.log*"))
	var total int64
	for _, l := range logs {
		st, err := os.Stat(l)
		if err != nil {
			t.Fatal(err)
		}
		total += st.Size()
	}
	if len(logs) == 0 || total > 2*apply.BuildLogMax {
		t.Fatalf("build logs %v hold %d bytes, cap 2×%d", logs, total, apply.BuildLogMax)
	}
	b, _ := os.ReadFile(logs[len(logs)-1])
	if len(logs) == 1 && !strings.Contains(string(b), "build ended") {
		t.Fatal("the build log lost its end")
	}
}
