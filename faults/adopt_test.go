package faults

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
)

// kill -9 of the agent while books runs, then a start on the same dir: the apps keep running through it, and the
// new agent adopts them (the same pids, no start, their start times kept in its status) instead of restarting
// them.
func TestKillAgentAppsKeepRunning(t *testing.T) {
	g := startGated(t, "preinstalled: [books]")
	agenttest.WaitUntil(t, 20*time.Second, "books installed", func() bool { return runsExactly(g.dir, g.state().Apps["books"]) })
	before := map[string]agent.BinaryStatus{}
	for _, b := range booksBinaries {
		before[b] = g.waitRunning("books", b, 10*time.Second)
	}
	starts := func() int {
		n := 0
		for _, b := range booksBinaries {
			data, _ := os.ReadFile(filepath.Join(g.dir, "logs", b+".log"))
			n += strings.Count(string(data), " start ")
		}
		return n
	}
	startsBefore := starts()
	g.kill9()
	serving := 0
	for _, b := range booksBinaries {
		if _, err := agenttest.GetUnix(filepath.Join(g.dir, "run", b+".sock"), "/health"); err == nil {
			serving++
		}
	}
	start := time.Now()
	g.start()
	took := time.Since(start)
	for _, b := range booksBinaries {
		was, now := before[b], g.waitRunning("books", b, 10*time.Second)
		if now.PID != was.PID || now.Restarts != 0 || now.State != api.BinRunning || now.Since.Sub(was.Since).Abs() > 1500*time.Millisecond {
			t.Fatalf("%s after the restart: %+v; was %+v: want it adopted, running since its start", b, now, was)
		}
	}
	if n := starts(); n != startsBefore {
		t.Fatalf("%d starts in the binaries' logs after the restart, %d before", n, startsBefore)
	}
	if !runsExactly(g.dir, g.state().Apps["books"]) {
		t.Fatalf("want one of each binary: %v", agenttest.Processes(g.dir))
	}
	record(Row{
		Fault:    "`kill -9` of the agent while its apps run",
		Injected: "`kill -9` of the agent with books running (2 binaries); the agent started again on the same dir",
		Did:      "the binaries ran on without an agent, writing their own logs; the new agent adopted each (pid, start time, boot and executable as recorded, same spec) and watches it through a pidfd",
		Figure:   fmt.Sprintf("%d of 2 binaries answered /health while no agent ran; API up %s after the restart; 0 starts, 0 restarts, the same pids", serving, took.Round(time.Millisecond)),
		Lost:     "nothing: no binary restarted",
	})
}
