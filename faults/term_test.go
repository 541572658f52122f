package faults

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
)

// term stops the agent process as systemd's `systemctl stop` or `restart` does (SIGTERM), waits for it and
// returns how long it took to exit; an exit other than 0 fails the test.
func (p *proc) term() time.Duration {
	p.t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		p.t.Fatalf("the agent's exit on SIGTERM: %v", err)
	}
	return time.Since(start)
}

// stopApps runs `herofleet agent stop-apps` on the agent's config and returns its output and error.
func (p *proc) stopApps() (string, error) {
	out, err := exec.Command(herofleet, "agent", "stop-apps", "--config", filepath.Join(p.dir, "agent.yaml")).CombinedOutput()
	return string(out), err
}

// starts counts the starts in the binaries' logs.
func starts(dir string) int {
	n := 0
	for _, b := range booksBinaries {
		data, _ := os.ReadFile(filepath.Join(dir, "logs", b+".log"))
		n += strings.Count(string(data), " start ")
	}
	return n
}

// SIGTERM of the agent (`systemctl restart`, a package upgrade's restart) while books runs: the agent exits 0 at
// once and leaves the binaries running, recorded; the next agent adopts them all (the same pids, no start). The
// apps go down only on purpose: `herofleet agent stop-apps` refuses while an agent runs, and stops every binary
// once it is stopped.
func TestTermAgentAppsKeepRunning(t *testing.T) {
	g := startGated(t, "preinstalled: [books]")
	agenttest.WaitUntil(t, 20*time.Second, "books installed", func() bool { return runsExactly(g.dir, g.state().Apps["books"]) })
	before := map[string]agent.BinaryStatus{}
	for _, b := range booksBinaries {
		before[b] = g.waitRunning("books", b, 10*time.Second)
	}
	procs := agenttest.Processes(g.dir)
	startsBefore := starts(g.dir)

	took := g.term()
	if took > 5*time.Second {
		t.Errorf("the agent took %s to exit on SIGTERM", took)
	}
	for _, p := range procs {
		if !p.StillRunning() {
			t.Fatalf("%s (pid %d) did not outlive the agent's SIGTERM", p.Argv[0], p.PID)
		}
	}
	runs := g.state().Runs
	serving := 0
	for _, b := range booksBinaries {
		if runs[b].PID != before[b].PID {
			t.Fatalf("%s: recorded pid %d, ran as %d", b, runs[b].PID, before[b].PID)
		}
		if _, err := agenttest.GetUnix(filepath.Join(g.dir, "run", b+".sock"), "/health"); err == nil {
			serving++
		}
	}
	if serving != len(booksBinaries) {
		t.Fatalf("%d of %d binaries answered /health after the agent's SIGTERM", serving, len(booksBinaries))
	}

	start := time.Now()
	g.start()
	adoptedIn := time.Since(start)
	for _, b := range booksBinaries {
		was, now := before[b], g.waitRunning("books", b, 10*time.Second)
		if now.PID != was.PID || now.Restarts != 0 || now.State != api.BinRunning {
			t.Fatalf("%s after the restart: %+v; was %+v: want it adopted", b, now, was)
		}
	}
	if n := starts(g.dir); n != startsBefore {
		t.Fatalf("%d starts in the binaries' logs after the restart, %d before", n, startsBefore)
	}
	if !runsExactly(g.dir, g.state().Apps["books"]) {
		t.Fatalf("want one of each binary: %v", agenttest.Processes(g.dir))
	}

	// stop-apps refuses while the agent runs (it would start them again), and stops them all once it is stopped.
	if out, err := g.stopApps(); err == nil || !strings.Contains(out, "stop it first") {
		t.Fatalf("stop-apps while the agent runs: %v\n%s", err, out)
	}
	for _, p := range procs {
		if !p.StillRunning() {
			t.Fatalf("stop-apps refused yet %s (pid %d) is gone", p.Argv[0], p.PID)
		}
	}
	g.term()
	out, err := g.stopApps()
	if err != nil {
		t.Fatalf("stop-apps: %v\n%s", err, out)
	}
	if left := agenttest.Processes(g.dir); len(left) != 0 {
		t.Fatalf("stop-apps left %v running:\n%s", left, out)
	}
	for _, b := range booksBinaries {
		if !strings.Contains(out, strconv.Itoa(before[b].PID)) {
			t.Errorf("stop-apps does not name %s's pid %d:\n%s", b, before[b].PID, out)
		}
	}
	record(Row{
		Fault:    "SIGTERM of the agent while its apps run (`systemctl restart`, a package upgrade)",
		Injected: "SIGTERM to `herofleet agent` with books running (2 binaries); the agent started again on the same dir; then SIGTERM again and `herofleet agent stop-apps`",
		Did:      "the agent exited 0 leaving every binary running, recorded in its state; the new agent adopted each (same pid, no start); stop-apps refused while the agent ran and, once it was stopped, stopped every binary (SIGTERM, grace, SIGKILL)",
		Figure:   fmt.Sprintf("exited %s after SIGTERM; %d of 2 binaries answered /health while no agent ran; API up %s after the restart; 0 starts, 0 restarts, the same pids", took.Round(time.Millisecond), serving, adoptedIn.Round(time.Millisecond)),
		Lost:     "nothing: no binary restarted",
	})
}

// SIGTERM of the agent in each apply phase of an upgrade: the agent abandons the apply as its context ends and
// exits 0 at once, leaving the old revision running whole and recorded (in the start and health phases it stops
// what it started of the new revision and starts the old one again); nothing else of it runs on. The next agent
// adopts every binary left, then redoes the upgrade.
func TestTermAgentInEachApplyPhase(t *testing.T) {
	for _, ph := range killPhases {
		t.Run(strings.ReplaceAll(ph.name, " ", "_"), func(t *testing.T) { termInPhase(t, ph) })
	}
}

func termInPhase(t *testing.T, ph killPhase) {
	g := startGated(t, "preinstalled: [books]")
	agenttest.WaitUntil(t, 20*time.Second, "books installed", func() bool { return runsExactly(g.dir, g.state().Apps["books"]) })
	old := g.state().Apps["books"]
	ph.arm(g)
	g.sync()
	ph.reach(g)
	seen := g.app("books")
	took := g.term()
	if took > 10*time.Second {
		t.Errorf("the agent took %s to exit on SIGTERM in the %s phase", took, ph.name)
	}
	onDisk := g.state()
	if inst := onDisk.Apps["books"]; inst == nil || inst.Rev != old.Rev || !whole(inst) {
		t.Fatalf("stopped in the %s phase, the state records %+v, not the old revision whole", ph.name, inst)
	}
	plugin := filepath.Join(filepath.Dir(herofleet), "herofleet-plugin-seed-git")
	agenttest.WaitUntil(t, 5*time.Second, "the stopped agent's plugin and build gone", func() bool {
		return len(pidsOf(plugin)) == 0 && agenttest.MarkedProcs(g.dir)["testapp"] == 0
	})
	// What runs is the old revision whole, each binary the process its record names.
	if !runsExactly(g.dir, old) {
		t.Fatalf("after SIGTERM in the %s phase, running %v; want the old revision %s whole", ph.name, agenttest.Processes(g.dir), old.BuildDir)
	}
	left := map[string]int{}
	for _, p := range agenttest.Processes(g.dir) {
		left[filepath.Base(p.Argv[0])] = p.PID
	}
	for _, b := range booksBinaries {
		if onDisk.Runs[b].PID != left[b] {
			t.Fatalf("%s runs as pid %d, recorded as %d", b, left[b], onDisk.Runs[b].PID)
		}
	}

	g.openGates()
	g.start()
	want := g.want
	agenttest.WaitUntil(t, 60*time.Second, "books converged on the new revision", func() bool {
		st := g.app("books")
		inst := g.state().Apps["books"]
		return st.State == api.AppInstalled && st.Phase == "" && st.Reason == "" && st.Rev == want &&
			inst != nil && inst.Rev == want && runsExactly(g.dir, inst)
	})
	for _, b := range booksBinaries {
		data, _ := os.ReadFile(filepath.Join(g.dir, "logs", b+".log"))
		if !strings.Contains(string(data), "adopted pid "+strconv.Itoa(left[b])) {
			t.Errorf("%s: the next agent did not adopt pid %d:\n%s", b, left[b], data)
		}
	}
	if st := g.app("books"); st.Last == nil || st.Last.Error != "" {
		t.Fatalf("last action %+v", st.Last)
	}
	if q := g.state().Quarantine; len(q) != 0 {
		t.Fatalf("quarantined after a SIGTERM: %+v", q)
	}
	record(Row{
		Fault:    "SIGTERM of the agent in the " + ph.name + " phase",
		Injected: fmt.Sprintf("%s; SIGTERM to the agent (the status showed books %s, phase %s, %s); the agent started again on the same dir", ph.injected, seen.State, orNone(string(seen.Phase)), binaryStates(seen)),
		Did:      "the agent abandoned the apply and exited 0 leaving the old revision running whole and recorded (what it had started of the new revision stopped, the old one started again); the new agent adopted every binary, then redid the upgrade",
		Figure:   fmt.Sprintf("exited %s after SIGTERM", took.Round(time.Millisecond)),
		Lost:     "nothing: nothing quarantined, no half-app",
	})
}
