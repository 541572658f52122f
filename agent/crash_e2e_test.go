package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
)

// childAgent runs the agent as a separate process (this test binary, see TestMain) so it can be killed with -9.
type childAgent struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
}

func (h *harness) startChild(extraConfig string) *childAgent {
	h.t.Helper()
	cfg := filepath.Join(h.dir, "agent.yaml")
	text := h.configText() + extraConfig
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		h.t.Fatal(err)
	}
	c := &childAgent{cmd: exec.Command(os.Args[0])}
	c.cmd.Env = append(os.Environ(), "HF_TEST_AGENT_CONFIG="+cfg)
	c.cmd.Stderr = &c.stderr
	c.cmd.Stdout = &c.stderr
	if err := c.cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			_ = c.cmd.Process.Kill()
			_ = c.cmd.Wait()
		}
		if h.t.Failed() {
			h.t.Logf("child agent log:\n%s", c.stderr.String())
		}
	})
	return c
}

func (c *childAgent) kill9(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait()
}

func (c *childAgent) stop(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("orderly stop: %v\n%s", err, c.stderr.String())
	}
}

// stateOnDisk reads the child's state file.
func (h *harness) stateOnDisk() *State {
	st, err := loadState(filepath.Join(h.dir, "state.json"))
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

// converged: the state records books and exactly one instance of each of its binaries runs, nothing else.
func (h *harness) converged(want ...string) bool {
	st, err := loadState(filepath.Join(h.dir, "state.json"))
	if err != nil || st.Apps["books"] == nil {
		return false
	}
	n := agenttest.MarkedProcs(h.dir)
	if len(n) != len(want) {
		return false
	}
	for _, w := range want {
		if n[w] != 1 {
			return false
		}
	}
	return true
}

func TestKillDuringBuildConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("seconds of waiting: not in -short")
	}
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
build: {command: [{{testapp}}, build, target/release/books_server, target/release/books_web], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
  - {name: books_web, kind: server, path: target/release/books_web, args: [--listen, "unix://${sockets}/books_web.sock"], listen: "unix://${sockets}/books_web.sock", health: /health}
`)
	first := h.startChild("build_env: {SLOW_BUILD: 60s}\n")
	agenttest.WaitUntil(t, 20*time.Second, "the build to run", func() bool { return agenttest.MarkedProcs(h.dir)["testapp"] == 1 })
	first.kill9(t)
	t.Logf("after kill -9 during the build: %v", agenttest.MarkedProcs(h.dir))

	second := h.startChild("")
	agenttest.WaitUntil(t, 30*time.Second, "convergence after kill -9 during a build", func() bool {
		return h.converged("books_server", "books_web")
	})
	if _, err := agenttest.GetUnix(h.sock("books_web"), "/health"); err != nil {
		t.Fatal(err)
	}
	second.stop(t)
	if n := agenttest.MarkedProcs(h.dir); len(n) != 0 {
		t.Fatalf("an orderly stop left %v running", n)
	}
}

func TestKillDuringStartConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("seconds of waiting: not in -short")
	}
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
build: {command: [{{testapp}}, build, target/release/books_server, target/release/books_web], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock", --health-delay, 1500ms], listen: "unix://${sockets}/books_server.sock", health: /health}
  - {name: books_web, kind: server, path: target/release/books_web, args: [--listen, "unix://${sockets}/books_web.sock", --health-delay, 1500ms], listen: "unix://${sockets}/books_web.sock", health: /health}
`)
	first := h.startChild("")
	agenttest.WaitUntil(t, 20*time.Second, "binaries to start", func() bool { return agenttest.MarkedProcs(h.dir)["books_web"] == 1 })
	if h.stateOnDisk().Apps["books"] != nil {
		t.Fatal("killed too late: books was already switched")
	}
	first.kill9(t)

	second := h.startChild("")
	agenttest.WaitUntil(t, 30*time.Second, "convergence after kill -9 during a start", func() bool {
		return h.converged("books_server", "books_web")
	})
	before := h.stateOnDisk()
	oldPIDs := agenttest.MarkedPIDs(h.dir)

	// and once more, with everything running: the binaries are adopted, not replaced (the same pids), one of each
	second.kill9(t)
	third := h.startChild("")
	agenttest.WaitUntil(t, 30*time.Second, "convergence after kill -9 while running", func() bool {
		st := h.stateOnDisk()
		return h.converged("books_server", "books_web") && st.Apps["books"].Rev == before.Apps["books"].Rev
	})
	time.Sleep(500 * time.Millisecond) // the third agent's restore is done: anything it would replace is gone by now
	if pids := agenttest.MarkedPIDs(h.dir); !sameSet(pids, oldPIDs) || !h.converged("books_server", "books_web") {
		t.Fatalf("after kill -9 while running, pids %v, want the running ones adopted: %v", pids, oldPIDs)
	}
	// the state file is always whole JSON
	b, _ := os.ReadFile(filepath.Join(h.dir, "state.json"))
	if !json.Valid(b) {
		t.Fatal("state.json is not valid JSON")
	}
	third.stop(t)
	if n := agenttest.MarkedProcs(h.dir); len(n) != 0 {
		t.Fatalf("an orderly stop left %v running", n)
	}
}

// An orderly stop in the middle of a build stops everything and quarantines nothing: the next start tries again.
func TestStopDuringApplyDoesNotQuarantine(t *testing.T) {
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
	cfg, err := ParseConfig([]byte(h.configText() + "build_env: {SLOW_BUILD: 60s}\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	agenttest.WaitUntil(t, 20*time.Second, "the build to run", func() bool { return agenttest.MarkedProcs(h.dir)["testapp"] == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := h.stateOnDisk(); len(st.Quarantine) != 0 || st.Apps["books"] != nil {
		t.Fatalf("state after a stop during the build: %+v", st)
	}
	agenttest.WaitUntil(t, 10*time.Second, "the build to be killed", func() bool { return len(agenttest.MarkedProcs(h.dir)) == 0 })
	b := h.newAgent(nil)
	mustSync(t, b)
	if app := appOf(b.Status(), "books"); app.State != api.AppInstalled {
		t.Fatalf("after restart: %+v", app)
	}
}

// sameSet reports whether a and b hold the same pids.
func sameSet(a, b []int) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
