package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/agenttest"
	"github.com/herofleet/herofleet/internal/browsertest"
	"github.com/herofleet/herofleet/rollout"
)

// rolloutFleet is the lab fleet of the rollout test: t1 the canary, t2 and t3 the rest, a 3 s bake read from the
// Prometheus at {{prom}}, and the notes app on every tester with {{notesArgs}} as extra arguments.
const rolloutFleet = `
-- fleet.yaml --
name: lab
rollout:
  waves:
    - {name: canary, hosts: [t1]}
    - {name: rest}
  bake: 3s
  health: {prometheus: "http://{{prom}}"}
-- roles/tester.yaml --
preinstalled: [notes]
-- apps/notes.yaml --
source: {repo: https://forge.test/apps/notes.git, ref: main}
build: {command: [{{testapp}}, build, notes_server], timeout: 1m}
binaries:
  - {name: notes_server, kind: server, path: notes_server, args: [--listen, "unix://${sockets}/notes_server.sock"{{notesArgs}}], listen: "unix://${sockets}/notes_server.sock", health: /health}
-- hosts/t1.yaml --
role: tester
address: 127.0.0.1
agent: http://127.0.0.1:{{port1}}
-- hosts/t2.yaml --
role: tester
address: 127.0.0.1
agent: http://127.0.0.1:{{port2}}
-- hosts/t3.yaml --
role: tester
address: 127.0.0.1
agent: http://127.0.0.1:{{port3}}
`

// Three real agents and a real Prometheus: a good commit reaches the rest no sooner than the bake after the canary
// applied it; a commit failing health on the canary never reaches the rest, which say why; with Prometheus down the
// rest hold a new commit, and follow once it is back. `herofleet rollout status` tells the same story.
func TestRolloutWavesThreeAgentsAndPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three agents and Prometheus")
	}
	prom := browsertest.Tool(t, "prometheus", "prometheus")
	testapp, err := agenttest.BuildTestapp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	promAddr := freeAddr(t)
	vars := agenttest.Vars{"testapp": testapp, "prom": promAddr, "notesArgs": ""}
	for i := 1; i <= 3; i++ {
		_, vars[fmt.Sprintf("port%d", i)], _ = strings.Cut(freeAddr(t), ":")
	}
	forge := agenttest.StartForge(t, vars)
	forge.CommitApp("notes")
	commitA := forge.CommitFleet(rolloutFleet)

	root, token := labRoot(t)
	var agents [3]labAgent
	for i := range agents {
		agents[i] = startLabAgentEvery(t, root, fmt.Sprintf("t%d", i+1), vars[fmt.Sprintf("port%d", i+1)], token, forge.URL(), "@every 1s")
		defer agents[i].stop()
	}
	// status is agent i's status; the zero Status while its API does not answer yet.
	status := func(i int) agent.Status {
		var st agent.Status
		req, _ := http.NewRequest(http.MethodGet, agents[i].api+"/api/v1/status", nil)
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return st
		}
		defer resp.Body.Close()
		_ = json.NewDecoder(resp.Body).Decode(&st)
		return st
	}
	healthyOn := func(i int, commit string) func() bool {
		return func() bool { st := status(i); return st.Fleet.Commit == commit && st.Healthy() }
	}
	// A host's first commit is never held, whatever its wave (and Prometheus is not even up yet).
	for i := range agents {
		agenttest.WaitUntil(t, 60*time.Second, fmt.Sprintf("t%d healthy on its first commit", i+1), healthyOn(i, commitA))
	}
	if r := status(1).Fleet.Rollout; r == nil || r.Wave != "rest" || r.Waiting != "" {
		t.Errorf("t2's fleet.rollout = %+v, want wave rest, nothing held", r)
	}

	// Prometheus, set up as the runbook says, on the address the fleet names.
	dir := filepath.Join(t.TempDir(), "fleet")
	if _, err := git.PlainClone(dir, false, &git.CloneOptions{URL: forge.URL() + "ops/fleet.git"}); err != nil {
		t.Fatal(err)
	}
	pdir := prometheusFiles(t, dir)
	stopProm := runPrometheus(t, prom, pdir, promAddr)
	defer func() { stopProm() }()
	pull := func() {
		t.Helper()
		r, err := git.PlainOpen(dir)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := r.Worktree()
		if err := w.Pull(&git.PullOptions{}); err != nil && err != git.NoErrAlreadyUpToDate {
			t.Fatal(err)
		}
	}
	rolloutStatus := func() (int, rollout.Report, string) {
		t.Helper()
		pull()
		code, out := runCLI(t, "rollout", "status", dir, "--format", "json")
		var r rollout.Report
		if code != 2 {
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("rollout status: exit %d, not a JSON report: %v\n%s", code, err, out)
			}
		}
		return code, r, out
	}

	// A good commit (notes restarts with a greeting): the canary applies it at once, the rest after its bake.
	vars["notesArgs"] = `, --greeting, hello`
	commitB := forge.CommitFleet(rolloutFleet, vars)
	agenttest.WaitUntil(t, 60*time.Second, "t1 (canary) healthy on the good commit", healthyOn(0, commitB))
	agenttest.WaitUntil(t, 30*time.Second, "t2 holding the good commit for the canary", func() bool {
		st := status(1)
		return st.Fleet.State == api.SyncWaiting && st.Fleet.Rollout != nil && st.Fleet.Rollout.Waiting == commitB &&
			strings.HasPrefix(st.Fleet.Rollout.Reason, "wave canary: ") && strings.Contains(st.Fleet.Rollout.Reason, "t1") // "... reporting host t1" before Prometheus' first scrape
	})
	if st := status(1); st.Fleet.Commit != commitA || !st.Healthy() {
		t.Errorf("t2 while waiting: commit %s healthy %v, want its commit %s kept and healthy", fleet.ShortCommit(st.Fleet.Commit), st.Healthy(), fleet.ShortCommit(commitA))
	}
	_, text := runCLI(t, "rollout", "status", dir)
	t.Logf("herofleet rollout status, the canary on the good commit:\n%s", text)
	for _, i := range []int{1, 2} {
		agenttest.WaitUntil(t, 60*time.Second, fmt.Sprintf("t%d healthy on the good commit after the bake", i+1), healthyOn(i, commitB))
	}
	canary := status(0).Fleet.AppliedAt
	for _, i := range []int{1, 2} {
		st := status(i)
		if gap := st.Fleet.AppliedAt.Sub(canary); gap < 3*time.Second {
			t.Errorf("t%d applied the good commit %s after the canary: sooner than the 3s bake", i+1, gap)
		}
		if st.Fleet.State != api.SyncOK || st.Fleet.Rollout == nil || st.Fleet.Rollout.Waiting != "" {
			t.Errorf("t%d after applying: state %s, rollout %+v", i+1, st.Fleet.State, st.Fleet.Rollout)
		}
	}
	agenttest.WaitUntil(t, 30*time.Second, "rollout status: complete (exit 0)", func() bool { code, _, _ := rolloutStatus(); return code == 0 })

	// A commit that fails health on the canary: it rolls back, and the rest never apply it.
	vars["notesArgs"] = `, --health-fail`
	commitC := forge.CommitFleet(rolloutFleet, vars)
	agenttest.WaitUntil(t, 60*time.Second, "t1 (canary) quarantines notes on the bad commit", func() bool {
		st := status(0)
		return st.Fleet.Commit == commitC && len(st.Quarantined) == 1 && st.Quarantined[0].App == "notes"
	})
	failed := time.Now()
	wantReason := fmt.Sprintf("wave canary: t1 not healthy on %s: notes quarantined", commitC[:7])
	for _, i := range []int{1, 2} {
		agenttest.WaitUntil(t, 30*time.Second, fmt.Sprintf("t%d holding the bad commit, saying why", i+1), func() bool {
			r := status(i).Fleet.Rollout
			return r != nil && r.Waiting == commitC && r.Reason == wantReason
		})
	}
	// Long past the bake, after many polls: still held, on the good commit.
	agenttest.WaitUntil(t, 30*time.Second, "t2 polling for three bakes after the canary failed", func() bool {
		return status(1).Fleet.LastSync.After(failed.Add(9 * time.Second))
	})
	for _, i := range []int{1, 2} {
		if st := status(i); st.Fleet.Commit != commitB || st.Fleet.State != api.SyncWaiting || !st.Healthy() {
			t.Errorf("t%d three bakes after the canary failed: commit %s, state %s, healthy %v; want the good commit kept",
				i+1, fleet.ShortCommit(st.Fleet.Commit), st.Fleet.State, st.Healthy())
		}
	}
	if code, report, out := rolloutStatus(); code != 1 || report.Waves[1].Hold != wantReason || report.Waves[0].Hosts[0].Done {
		t.Errorf("rollout status with the canary failing: exit %d\n%s", code, out)
	}

	// Prometheus down, then a newer good commit: the canary applies it, the rest hold (no answer is a no) and say
	// so; once Prometheus is back they follow.
	stopProm()
	vars["notesArgs"] = `, --greeting, again`
	commitD := forge.CommitFleet(rolloutFleet, vars)
	agenttest.WaitUntil(t, 60*time.Second, "t1 (canary) healthy on the newer commit", healthyOn(0, commitD))
	for _, i := range []int{1, 2} {
		agenttest.WaitUntil(t, 30*time.Second, fmt.Sprintf("t%d holding the newer commit: no answer from Prometheus", i+1), func() bool {
			r := status(i).Fleet.Rollout
			return r != nil && r.Waiting == commitD && strings.HasPrefix(r.Reason, "wave canary: no answer from Prometheus")
		})
	}
	if code, _, out := rolloutStatus(); code != 2 {
		t.Errorf("rollout status with Prometheus down: exit %d, want 2\n%s", code, out)
	}
	down := time.Now()
	agenttest.WaitUntil(t, 30*time.Second, "t2 polling for two bakes with Prometheus down", func() bool {
		return status(1).Fleet.LastSync.After(down.Add(6 * time.Second))
	})
	if st := status(1); st.Fleet.Commit != commitB {
		t.Errorf("t2 with Prometheus down applied %s; want the good commit %s kept", fleet.ShortCommit(st.Fleet.Commit), fleet.ShortCommit(commitB))
	}
	stopProm = runPrometheus(t, prom, pdir, promAddr)
	for _, i := range []int{1, 2} {
		agenttest.WaitUntil(t, 60*time.Second, fmt.Sprintf("t%d on the newer commit once Prometheus is back", i+1), healthyOn(i, commitD))
	}
}
