package faults

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
)

// credsURL is the forge's URL with credentials in it: they must never show in the status.
func credsURL(forge *agenttest.Forge) string {
	return strings.Replace(forge.URL(), "http://", "http://tok:s3cret@", 1)
}

// downFleet is oneApp with an extra host file: a commit the agent can only learn of from the forge.
func downFleet(extra string) string {
	return oneApp("unix://${sockets}/books_server.sock", "") + extra
}

// The git server goes down while the agent syncs a new commit: the apps keep running, untouched; the status says
// the sync failed and names the fleet repo with its password masked; the sync after the server is back applies the
// commit.
func TestGitServerDownDuringSync(t *testing.T) {
	forge := agenttest.StartForge(t, agenttest.Vars{"testapp": testapp})
	forge.CommitApp("books")
	forge.CommitFleet(downFleet(""))
	p := &proc{t: t, forge: forge, dir: agenttest.AgentDir(t), token: "faults-token"}
	p.api = fmt.Sprintf("127.0.0.1:%d", agenttest.FreePort(t))
	os.WriteFile(filepath.Join(p.dir, "token"), []byte(p.token+"\n"), 0o600)
	cfg := strings.Replace(agenttest.AgentConfig(p.dir, forge), forge.URL(), credsURL(forge), 1) +
		fmt.Sprintf("listen: %s\ntoken_file: %s\n", p.api, filepath.Join(p.dir, "token"))
	os.WriteFile(filepath.Join(p.dir, "agent.yaml"), []byte(cfg), 0o600)
	p.start()
	before := p.waitRunning("books", "books_server", 60*time.Second)
	good := p.forgeHead(t)
	agenttest.WaitUntil(t, 30*time.Second, "the fleet applied", func() bool { st, _ := p.status(); return st.Fleet.Commit == good })

	next := forge.CommitFleet(downFleet("-- hosts/t2.yaml --\nrole: tester\n"))
	forge.ResetRequests()
	p.post(t, "/api/v1/sync")
	agenttest.WaitUntil(t, 10*time.Second, "the sync's first request", func() bool { return len(forge.Requests()) > 0 })
	forge.Stop() // the request under way is answered; every later one is refused
	stopped := time.Now()
	var st agent.Status
	agenttest.WaitUntil(t, 30*time.Second, "the failed sync in the status", func() bool {
		st, _ = p.status()
		return st.Fleet.State == api.SyncError
	})
	said := time.Since(stopped)
	if st.Fleet.Commit != good || !strings.Contains(st.Fleet.Error, "tok:xxxxx@127.0.0.1") || strings.Contains(st.Fleet.Error, "s3cret") {
		t.Fatalf("fleet while the server is down: %+v", st.Fleet)
	}
	down := st.Fleet.Error
	time.Sleep(2 * time.Second) // the server stays down for a while: several retries (backoff_max 400ms) fail
	p.keptRunning(t, mustStatus(t, p), good, before)

	if err := forge.Start(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	agenttest.WaitUntil(t, 30*time.Second, "the commit applied after the server is back", func() bool {
		st, _ = p.status()
		return st.Fleet.Commit == next && st.Fleet.State == api.SyncOK
	})
	recovered := time.Since(back)
	p.keptRunning(t, st, next, before)
	if st.Fleet.Error != "" {
		t.Fatalf("fleet.error after recovery: %q", st.Fleet.Error)
	}
	t.Logf("status said so %s after the stop: %s; recovered %s after the server was back", said, down, recovered)
	record(Row{
		Fault:    "the git server down during a sync",
		Injected: "the forge stops as the agent's sync of a new commit sends its first request, for 2 s; the fleet URL holds credentials",
		Did:      "kept every app running untouched; fleet.state `error`, fleet.error names the fleet repo with its password masked; retried with backoff; applied the new commit on the first poll after the server was back",
		Figure:   fmt.Sprintf("status `error` %s after the stop; 0 restarts, same pid; applied %s after the server was back (backoff_max 400ms)", said.Round(time.Millisecond), recovered.Round(time.Millisecond)),
		Lost:     "nothing",
	})
}

func mustStatus(t *testing.T, p *proc) agent.Status {
	t.Helper()
	st, err := p.status()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// simClock is an agent's clock in a simulation: time moves only when the test fires the wait the agent is in.
type simClock struct {
	mu    sync.Mutex
	now   time.Time
	waits chan simWait
}

type simWait struct {
	d    time.Duration
	fire chan time.Time
}

func newSimClock(start time.Time) *simClock {
	return &simClock{now: start, waits: make(chan simWait, 16)}
}

func (c *simClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *simClock) After(d time.Duration) <-chan time.Time {
	w := simWait{d: d, fire: make(chan time.Time, 1)}
	c.waits <- w
	return w.fire
}

// next is the wait the agent is in (after its last sync), within a real-time deadline.
func (c *simClock) next(t *testing.T) simWait {
	t.Helper()
	select {
	case w := <-c.waits:
		return w
	case <-time.After(60 * time.Second):
		t.Fatal("the agent never waited for its next sync")
		return simWait{}
	}
}

// elapse moves the clock to the end of w and ends the wait.
func (c *simClock) elapse(w simWait) {
	c.mu.Lock()
	c.now = c.now.Add(w.d)
	now := c.now
	c.mu.Unlock()
	w.fire <- now
}

// The git server is down for an hour, played on the agent's clock (the real agent code, in this process, against a
// stopped real git server): no app is restarted, the retries back off up to backoff_max (5m, the default), the
// status says why all along, and the first poll after the server is back applies what was committed meanwhile.
func TestGitServerDownForAnHour(t *testing.T) {
	forge := agenttest.StartForge(t, agenttest.Vars{"testapp": testapp})
	forge.CommitApp("books")
	forge.CommitFleet(downFleet(""))
	dir := agenttest.AgentDir(t)
	text := strings.Replace(agenttest.AgentConfig(dir, forge), forge.URL(), credsURL(forge), 1)
	text = strings.Replace(text, "backoff_max: 400ms", "backoff_max: 5m", 1)
	cfg, err := agent.ParseConfig([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := newSimClock(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
	a.SetClock(agent.Clock{Now: clock.Now, After: clock.After})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	scheduled := clock.next(t) // the first sync applied the fleet; the next one is the schedule's (@every 1h)
	st := a.Status()
	books := appBinary(st, "books")
	if st.Fleet.State != api.SyncOK || books.State != api.BinRunning {
		t.Fatalf("before the outage: %+v %+v", st.Fleet, books)
	}
	good := st.Fleet.Commit

	forge.Stop()
	next := forge.CommitFleet(downFleet("-- hosts/t2.yaml --\nrole: tester\n")) // committed while the server is down
	clock.elapse(scheduled)
	outage := clock.Now() // the scheduled poll finds the server down; it comes back an hour later
	var waits []time.Duration
	w := clock.next(t)
	for clock.Now().Add(w.d).Before(outage.Add(time.Hour)) {
		st = a.Status()
		if st.Fleet.State != api.SyncError || st.Fleet.Commit != good ||
			!strings.Contains(st.Fleet.Error, "tok:xxxxx@127.0.0.1") || strings.Contains(st.Fleet.Error, "s3cret") {
			t.Fatalf("fleet %s into the outage: %+v", clock.Now().Sub(outage), st.Fleet)
		}
		if b := appBinary(st, "books"); b.PID != books.PID || b.State != api.BinRunning || b.Restarts != 0 {
			t.Fatalf("books %s into the outage: %+v (was %+v)", clock.Now().Sub(outage), b, books)
		}
		waits = append(waits, w.d)
		clock.elapse(w)
		w = clock.next(t)
	}
	largest, capped := time.Duration(0), 0
	for i, d := range waits {
		if d > 5*time.Minute {
			t.Fatalf("wait %d is %s: more than backoff_max (5m)", i+1, d)
		}
		largest = max(largest, d)
		if i >= 9 { // 1s << 9 = 512s: from the tenth failure on the backoff is capped, drawn in [backoff_max/2, backoff_max]
			capped++
			if d < 150*time.Second {
				t.Fatalf("wait %d is %s: below half of backoff_max once capped (waits %v)", i+1, d, waits)
			}
		}
	}
	if capped == 0 {
		t.Fatalf("the backoff never reached its cap in an hour: %v", waits)
	}

	if err := forge.Start(); err != nil { // back at outage + 1h, during the agent's wait w
		t.Fatal(err)
	}
	recovery := clock.Now().Add(w.d).Sub(outage.Add(time.Hour))
	start := time.Now()
	clock.elapse(w)
	clock.next(t) // the sync after the server is back is done
	took := time.Since(start)
	st = a.Status()
	if st.Fleet.State != api.SyncOK || st.Fleet.Commit != next || st.Fleet.Error != "" {
		t.Fatalf("after the server came back: %+v", st.Fleet)
	}
	if b := appBinary(st, "books"); b.PID != books.PID || b.State != api.BinRunning || b.Restarts != 0 {
		t.Fatalf("books after the outage: %+v (was %+v)", b, books)
	}
	t.Logf("%d failed syncs in the hour, waits %v; largest %s; recovered %s after the server was back (+%s real)", len(waits)+1, waits, largest, recovery, took)
	record(Row{
		Fault:    "the git server down for an hour",
		Injected: "the forge stopped for an hour of the agent's clock (an in-process agent on a simulated clock, the real agent code and a real stopped git server); backoff_max 5m; a commit pushed meanwhile",
		Did:      "kept every app running untouched; retried with a doubling backoff capped at backoff_max (jittered in its upper half); fleet.state `error` and fleet.error naming the masked fleet URL all along; applied the waiting commit at the first poll after the server was back",
		Figure: fmt.Sprintf("%d sync attempts in the hour; largest wait %s (cap 5m reached at attempt 10, %d waits at the cap); 0 restarts; recovered %s (clock) after the server was back, sync %s (real)",
			len(waits)+1, largest.Round(time.Second), capped, recovery.Round(time.Second), took.Round(time.Millisecond)),
		Lost: "nothing",
	})
}

// appBinary is the first binary of app in st.
func appBinary(st agent.Status, app string) agent.BinaryStatus {
	for _, a := range st.Apps {
		if a.Name == app && len(a.Binaries) > 0 {
			return a.Binaries[0]
		}
	}
	return agent.BinaryStatus{}
}
