package agent

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/herofleet/herofleet/internal/agenttest"
)

// testapp is the test app binary, built once per test run (see agenttest.BuildTestapp). Fleets name it
// {{testapp}}.
var testapp string

func TestMain(m *testing.M) {
	if cfg := os.Getenv("HF_TEST_AGENT_CONFIG"); cfg != "" {
		os.Exit(runChildAgent(cfg))
	}
	dir, err := os.MkdirTemp("/tmp", "hfbin")
	if err != nil {
		panic(err)
	}
	testapp, err = agenttest.BuildTestapp(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
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

// harness is a forge holding the fleet repo and the app repos, and an agent dir.
type harness struct {
	t     *testing.T
	forge *agenttest.Forge
	dir   string // the agent's dir: short, for unix sockets
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	forge := agenttest.StartForge(t, agenttest.Vars{"testapp": testapp})
	return &harness{t: t, forge: forge, dir: agenttest.AgentDir(t)}
}

// commitFleet commits a txtar fleet (see agenttest.Forge.CommitFleet) and returns the commit.
func (h *harness) commitFleet(archive string, vars ...agenttest.Vars) string {
	h.t.Helper()
	return h.forge.CommitFleet(archive, vars...)
}

// commitApp commits a new revision of an app's repo; files such as FAIL_BUILD go into its tree.
func (h *harness) commitApp(app string, files ...string) string {
	h.t.Helper()
	return h.forge.CommitApp(app, files...)
}

// config is an agent config for host t1 of role tester on this harness.
func (h *harness) config() *Config {
	c, err := ParseConfig([]byte(h.configText()))
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

func (h *harness) configText() string { return agenttest.AgentConfig(h.dir, h.forge) }

// newAgent makes an in-process agent whose binaries are stopped at the end of the test.
func (h *harness) newAgent(hooks HookRunner) *Agent {
	h.t.Helper()
	a, err := New(h.config(), testLogger(h.t), hooks)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(a.Shutdown)
	return a
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// sock is the unix socket a binary of the test fleets listens on: unix://${sockets}/<binary>.sock.
func (h *harness) sock(bin string) string { return filepath.Join(h.dir, "run", bin+".sock") }

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
