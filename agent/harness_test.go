package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent/supervise"
	"github.com/herofleet/herofleet/internal/gitserver"
)

// testapp is the test app binary, built once per test run (see testdata/testapp).
var testapp string

func TestMain(m *testing.M) {
	if cfg := os.Getenv("HF_TEST_AGENT_CONFIG"); cfg != "" {
		os.Exit(runChildAgent(cfg))
	}
	dir, err := os.MkdirTemp("/tmp", "hfbin")
	if err != nil {
		panic(err)
	}
	testapp = filepath.Join(dir, "testapp")
	out, err := exec.Command("go", "build", "-o", testapp, "./testdata/testapp").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build testapp: %v\n%s", err, out)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runChildAgent is the agent as a separate process, for the kill -9 tests.
func runChildAgent(path string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	cfg, err := LoadConfig(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := New(cfg, log, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := a.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// harness is a git server with a fleet repo and app repos, and an agent dir.
type harness struct {
	t    *testing.T
	git  *gitserver.Server
	dir  string // the agent's dir: short, for unix sockets
	apps map[string]string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	g, err := gitserver.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Stop)
	dir, err := os.MkdirTemp("/tmp", "hf")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		supervise.KillMarked(supervise.Marker(dir))
		os.RemoveAll(dir)
	})
	return &harness{t: t, git: g, dir: dir}
}

// config is an agent config for role tester on this harness.
func (h *harness) config() *Config {
	c, err := ParseConfig([]byte(h.configText()))
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

func (h *harness) configText() string {
	return fmt.Sprintf(`
fleet: {repo: "https://forge.test/ops/fleet.git", ref: main}
host: t1
role: tester
address: 127.0.0.1
dir: %s
rewrite: {"https://forge.test/": %q}
health_timeout: 5s
stop_grace: 2s
backoff_max: 400ms
schedule: "@every 1h"
`, h.dir, h.git.URL())
}

// newAgent makes an in-process agent whose binaries are stopped at the end of the test.
func (h *harness) newAgent(hooks HookRunner) *Agent {
	h.t.Helper()
	a, err := New(h.config(), testLogger(h.t), hooks)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(a.shutdown)
	return a
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// commitApp commits an app repo whose build copies testapp to target/release/<binary> for each binary. extra
// files (FAIL_BUILD) go into the tree.
func (h *harness) commitApp(app string, binaries []string, extra ...string) string {
	h.t.Helper()
	files := gitserver.Text(map[string]string{"README": app + " " + time.Now().String()})
	for _, e := range extra {
		files[e] = gitserver.File{Data: []byte("x")}
	}
	rev, err := h.git.Commit("apps/"+app, "main", "update "+app, files)
	if err != nil {
		h.t.Fatal(err)
	}
	return rev
}

// appYAML is an app entry; each binary listens on a unix socket in ${sockets} with extra args.
func appYAML(app string, binaries []string, needs []string, args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "title: %s app\nsource: {repo: https://forge.test/apps/%s.git, ref: main}\n", app, app)
	fmt.Fprintf(&b, "build: {command: [%q, build", testapp)
	for _, bin := range binaries {
		fmt.Fprintf(&b, ", target/release/%s", bin)
	}
	b.WriteString("], timeout: 1m}\nbinaries:\n")
	for _, bin := range binaries {
		fmt.Fprintf(&b, "  - name: %s\n    kind: server\n    path: target/release/%s\n", bin, bin)
		fmt.Fprintf(&b, "    args: [--listen, \"unix://${sockets}/%s.sock\"", bin)
		for _, a := range args {
			fmt.Fprintf(&b, ", %q", a)
		}
		fmt.Fprintf(&b, "]\n    env: {APP_DATA: \"${data}\"}\n    listen: unix://${sockets}/%s.sock\n    health: /health\n", bin)
	}
	if len(needs) > 0 {
		fmt.Fprintf(&b, "needs: [%s]\n", strings.Join(needs, ", "))
	}
	return b.String()
}

// commitFleet commits the fleet repo: fleet.yaml, the role, and the apps given (name -> yaml).
func (h *harness) commitFleet(preinstalled, catalog []string, apps map[string]string) string {
	h.t.Helper()
	files := map[string]string{
		"fleet.yaml":        "name: test\nsync: {schedule: \"@every 1h\"}\n",
		"roles/tester.yaml": fmt.Sprintf("preinstalled: [%s]\ncatalog: [%s]\n", strings.Join(preinstalled, ", "), strings.Join(catalog, ", ")),
	}
	for name, y := range apps {
		files["apps/"+name+".yaml"] = y
	}
	rev, err := h.git.Commit("ops/fleet", "main", "fleet", gitserver.Text(files))
	if err != nil {
		h.t.Fatal(err)
	}
	return rev
}

func (h *harness) sock(bin string) string { return filepath.Join(h.dir, "run", bin+".sock") }

// get does a GET over a binary's unix socket.
func get(sock, path string) (string, error) {
	c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
	resp, err := c.Get("http://localhost" + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return string(b), fmt.Errorf("%s", resp.Status)
	}
	return string(b), nil
}

func mustSync(t *testing.T, a *Agent) {
	t.Helper()
	if err := a.SyncNow(context.Background()); err != nil {
		t.Fatalf("sync: %v", err)
	}
}

func appOf(st Status, name string) AppStatus {
	for _, a := range st.Apps {
		if a.Name == name {
			return a
		}
	}
	return AppStatus{Name: name}
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// markedProcs lists the binaries (by program base name) of processes carrying dir's marker, with their count.
func markedProcs(dir string) map[string]int {
	want := []byte(supervise.Marker(dir))
	out := map[string]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || !containsEntry(env, want) {
			continue
		}
		stat, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
		if strings.Contains(string(stat), ") Z ") {
			continue // a zombie is dead already
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		argv0, _, _ := strings.Cut(string(cmdline), "\x00")
		out[filepath.Base(argv0)]++
	}
	return out
}

func containsEntry(env, want []byte) bool {
	for _, kv := range strings.Split(string(env), "\x00") {
		if kv == string(want) {
			return true
		}
	}
	return false
}

func keys(m map[string]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
