package cockpit

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/internal/agenttest"
)

// The cockpit's tests run a real agent, through its exported API only, on a loopback forge (internal/agenttest):
// what the cockpit shows is what that agent did.

// testapp is the test app binary, built once per test run (see agenttest.BuildTestapp). Fleets name it
// {{testapp}}.
var testapp string

func TestMain(m *testing.M) {
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

// harness is a forge holding the fleet repo and the app repos, an agent dir, and the agents of one test.
type harness struct {
	t     *testing.T
	forge *agenttest.Forge
	dir   string                  // the agent's dir: short, for unix sockets
	stops map[*agent.Agent]func() // how each agent of the test ends: every binary stopped
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	forge := agenttest.StartForge(t, agenttest.Vars{"testapp": testapp})
	return &harness{t: t, forge: forge, dir: agenttest.AgentDir(t), stops: map[*agent.Agent]func(){}}
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

// config is an agent config for host t1 of role tester on this harness (its own schedule: "@every 1h"), changed
// by tweak.
func (h *harness) config(tweak ...func(*agent.Config)) *agent.Config {
	h.t.Helper()
	c, err := agent.ParseConfig([]byte(agenttest.AgentConfig(h.dir, h.forge)))
	if err != nil {
		h.t.Fatal(err)
	}
	for _, f := range tweak {
		f(c)
	}
	return c
}

// newAgent makes an in-process agent that the test drives with SyncNow, unless it runs it (see run). When the
// test ends, the agent stops every binary (Shutdown, or Run's end).
func (h *harness) newAgent(tweak ...func(*agent.Config)) *agent.Agent {
	h.t.Helper()
	a, err := agent.New(h.config(tweak...), testLogger(h.t), nil)
	if err != nil {
		h.t.Fatal(err)
	}
	h.stops[a] = a.Shutdown
	h.t.Cleanup(func() { h.stops[a]() })
	return a
}

// run runs a's sync loop until stop is called or the test ends; stop returns once Run has returned, every binary
// stopped. It may be called more than once.
func (h *harness) run(a *agent.Agent) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.Run(ctx); close(done) }()
	stop = func() { cancel(); <-done }
	h.stops[a] = stop
	return stop
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// mustSync runs one converge and fails the test when the sync failed.
func mustSync(t *testing.T, a *agent.Agent) {
	t.Helper()
	if err := a.SyncNow(context.Background()); err != nil {
		t.Fatalf("sync: %v", err)
	}
}

// appOf is the named app of a snapshot; an app the snapshot lacks is a zero status of that name.
func appOf(st agent.Status, name string) agent.AppStatus {
	for _, a := range st.Apps {
		if a.Name == name {
			return a
		}
	}
	return agent.AppStatus{Name: name}
}

// binOf is the first binary of an app of a snapshot.
func binOf(t *testing.T, st agent.Status, app string) agent.BinaryStatus {
	t.Helper()
	as := appOf(st, app)
	if len(as.Binaries) == 0 {
		t.Fatalf("%s has no binaries: %+v", app, as)
	}
	return as.Binaries[0]
}
