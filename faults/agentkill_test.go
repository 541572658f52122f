package faults

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
)

// killPhase is one apply phase the agent is killed in: arm closes its gate and asks for an upgrade, reach waits
// until the agent is in the phase, held there by the gate.
type killPhase struct {
	name, injected string
	arm, reach     func(g *gated)
}

var killPhases = []killPhase{{
	name:     "fetch",
	injected: "an upgrade's fetch of the app's source, held by the forge after half of its pack",
	arm: func(g *gated) {
		g.held.hold("apps/books")
		g.commitApp()
	},
	reach: func(g *gated) { g.held.waitHeld(60 * time.Second) },
}, {
	name:     "build",
	injected: "an upgrade's build, held by a gate file",
	arm: func(g *gated) {
		g.close("build")
		g.commitApp()
	},
	reach: func(g *gated) {
		agenttest.WaitUntil(g.t, 60*time.Second, "the build held", func() bool {
			return g.app("books").Phase == api.PhaseBuilding && agenttest.MarkedProcs(g.dir)["testapp"] == 1
		})
	},
}, {
	name:     "hook",
	injected: "an upgrade's pre-start hook (seed-git cloning a new library, held by the forge after half of its pack)",
	arm: func(g *gated) {
		g.held.hold("libs/guide")
		g.commitApp()
		g.forge.CommitFleet(g.fleet(`        - {name: guide, url: "https://forge.test/libs/guide.git", ref: main}` + "\n"))
	},
	reach: func(g *gated) { g.held.waitHeld(60 * time.Second) },
}, {
	name:     "start",
	injected: "an upgrade's switch-over: the old revision's binaries hold the SIGTERM that stops them",
	arm: func(g *gated) {
		g.close("stop")
		g.commitApp()
	},
	reach: func(g *gated) {
		g.waitTerms()
		if ph := g.app("books").Phase; ph != api.PhaseStarting {
			g.t.Fatalf("phase %q while the old revision stops", ph)
		}
	},
}, {
	name:     "health wait",
	injected: "an upgrade's health wait: the new books_web answers 503 while a gate file exists",
	arm: func(g *gated) {
		g.close("health")
		g.commitApp()
	},
	reach: (*gated).waitHealthHeld,
}}

// kill -9 of the agent in each apply phase of an upgrade, then a restart on the same dir: the old revision runs
// whole until the new one does, nothing of the killed agent runs on, nothing is left on disk, and the app
// converges to the wanted revision.
func TestKillAgentInEachApplyPhase(t *testing.T) {
	for _, ph := range killPhases {
		t.Run(strings.ReplaceAll(ph.name, " ", "_"), func(t *testing.T) { killInPhase(t, ph) })
	}
}

func killInPhase(t *testing.T, ph killPhase) {
	g := startGated(t, "preinstalled: [books]")
	agenttest.WaitUntil(t, 20*time.Second, "books installed", func() bool { return runsExactly(g.dir, g.state().Apps["books"]) })
	old := g.state().Apps["books"]
	ph.arm(g)
	g.sync()
	ph.reach(g)
	seen := g.app("books") // what the status showed when the agent was killed
	survivors := agenttest.Processes(g.dir)
	plugin := filepath.Join(filepath.Dir(herofleet), "herofleet-plugin-seed-git")
	hooks := len(pidsOf(plugin))
	if ph.name == "hook" && hooks != 1 {
		t.Fatalf("%d seed-git plugins run during the hook", hooks)
	}
	g.kill9()

	if onDisk := g.state().Apps["books"]; onDisk == nil || onDisk.Rev != old.Rev || !whole(onDisk) {
		t.Fatalf("killed in the %s phase, the state records %+v, not the old revision whole", ph.name, onDisk)
	}
	var left []string
	for _, p := range survivors {
		if p.StillRunning() {
			left = append(left, filepath.Base(p.Argv[0]))
		}
	}
	agenttest.WaitUntil(t, 5*time.Second, "the killed agent's plugin gone", func() bool { return len(pidsOf(plugin)) == 0 })
	serving := 0 // what a user of books noticed while no agent ran
	for _, b := range booksBinaries {
		if _, err := agenttest.GetUnix(filepath.Join(g.dir, "run", b+".sock"), "/health"); err == nil {
			serving++
		}
	}

	w := watchBooks(t, g.dir)
	g.openGates()
	start := time.Now()
	g.start()
	want := g.want
	var st agent.AppStatus
	agenttest.WaitUntil(t, 60*time.Second, "books converged on the new revision", func() bool {
		st = g.app("books")
		inst := g.state().Apps["books"]
		return st.State == api.AppInstalled && st.Phase == "" && st.Reason == "" && st.Rev == want &&
			st.Last != nil && st.Last.Action == "upgrade" && inst != nil && inst.Rev == want && runsExactly(g.dir, inst)
	})
	took := time.Since(start)
	w.stop()
	if err := w.err(); err != nil {
		t.Fatal(err)
	}
	for _, p := range survivors {
		if p.StillRunning() {
			t.Fatalf("%s (pid %d) of the killed agent still runs", p.Argv[0], p.PID)
		}
	}
	inst := g.state().Apps["books"]
	if ran := w.builds(); len(ran) < 2 || !slices.Equal(ran[len(ran)-2:], []string{old.BuildDir, inst.BuildDir}) {
		t.Fatalf("after the restart books ran from %v, want the old build %s whole, then the new one %s", ran, old.BuildDir, inst.BuildDir)
	}
	for _, b := range booksBinaries {
		if _, err := agenttest.GetUnix(filepath.Join(g.dir, "run", b+".sock"), "/health"); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
	}
	if leaks := leftovers(g.dir, inst.BuildDir, old.BuildDir); len(leaks) > 0 {
		t.Fatalf("left on disk after the converge: %v", leaks)
	}
	restarts := 0
	for _, b := range st.Binaries {
		restarts += b.Restarts
	}
	if st.Last.Error != "" {
		t.Fatalf("last action %+v", st.Last)
	}
	record(Row{
		Fault: "`kill -9` of the agent in the " + ph.name + " phase",
		Injected: fmt.Sprintf("%s; `kill -9` of the agent (the status showed books %s, phase %s, %s); the agent started again on the same dir",
			ph.injected, seen.State, orNone(string(seen.Phase)), binaryStates(seen)),
		Did: "the state still recorded the old revision whole; the new agent adopted the old revision's binaries that still ran as started, " +
			"killed whatever else the old one left, started the rest of the old revision, redid the upgrade and switched to the new revision; " +
			"the row says installed, last action upgrade",
		Figure: fmt.Sprintf("converged %s after the restart; %d processes of the killed agent ran on until the restart (%s; %d of 2 binaries answered /health meanwhile)%s, 0 after it; %d crash restarts; %d samples, never a binary twice or two revisions",
			took.Round(time.Millisecond), len(left), strings.Join(left, ", "), serving, map[bool]string{true: ", its seed-git plugin died with it", false: ""}[hooks > 0], restarts, w.samples.Load()),
		Lost: "nothing: no half-app, no leftover build, temp dir or process",
	})
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// leftovers lists what a converge should not leave in dir: build dirs or logs of books other than the running
// build and the one before it, half-seeded libraries, go-git's temporary files in the fleet and source clones.
func leftovers(dir string, keep ...string) []string {
	var out []string
	builds, _ := os.ReadDir(filepath.Join(dir, "builds", "books"))
	for _, e := range builds {
		p := filepath.Join(dir, "builds", "books", e.Name())
		if !slices.Contains(keep, strings.TrimSuffix(strings.TrimSuffix(p, ".1"), ".log")) {
			out = append(out, p)
		}
	}
	libs, _ := os.ReadDir(filepath.Join(dir, "data", "books", "libraries"))
	for _, e := range libs {
		if strings.HasPrefix(e.Name(), ".") {
			out = append(out, filepath.Join(dir, "data", "books", "libraries", e.Name()))
		}
	}
	for _, clones := range []string{"sources", "fleet.git"} {
		_ = filepath.WalkDir(filepath.Join(dir, clones), func(p string, d os.DirEntry, err error) error {
			if err == nil && (strings.HasPrefix(d.Name(), "tmp_") || strings.HasPrefix(d.Name(), "._packed-refs")) {
				out = append(out, p)
			}
			return nil
		})
	}
	return out
}
