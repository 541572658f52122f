package cockpit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
)

// stressFleet: alpha (two binaries) is preinstalled, beta (needs alpha) installs on click. Every fleet commit
// moves {{gen}} in every binary's args, which restarts both bundles; a commit to alpha's repo upgrades it. The
// binaries take 150ms to become healthy, so that controls land during health waits.
const stressFleet = `
-- fleet.yaml --
name: stress
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [alpha]
catalog: [beta]
-- apps/alpha.yaml --
source: {repo: https://forge.test/apps/alpha.git, ref: main}
build: {command: [{{testapp}}, build, target/release/a1, target/release/a2], timeout: 1m}
binaries:
  - name: a1
    kind: server
    path: target/release/a1
    args: [--listen, "unix://${sockets}/a1.sock", --health-delay, 150ms, --gen, "{{gen}}"]
    listen: unix://${sockets}/a1.sock
    health: /health
  - name: a2
    kind: web
    path: target/release/a2
    args: [--listen, "unix://${sockets}/a2.sock", --health-delay, 150ms, --gen, "{{gen}}"]
    listen: unix://${sockets}/a2.sock
    health: /health
-- apps/beta.yaml --
source: {repo: https://forge.test/apps/beta.git, ref: main}
build: {command: [{{testapp}}, build, target/release/b1], timeout: 1m}
binaries:
  - name: b1
    kind: server
    path: target/release/b1
    args: [--listen, "unix://${sockets}/b1.sock", --health-delay, 150ms, --gen, "{{gen}}"]
    listen: unix://${sockets}/b1.sock
    health: /health
needs: [alpha]
`

// TestCommandsDuringAppliesNeverMixRevisions drives install, uninstall, stop, start, restart, sync and fleet
// commits at the same time through the cockpit API of a running agent (30s; 5s with -short), as several people and
// the forge would. Throughout, a watcher samples the processes: the running binaries of one app always belong to
// one revision (same build, same fleet generation), and no binary ever runs twice. At the end, with the commands
// stopped, the agent converges on the last commit with every binary of every installed app running that revision
// exactly as the state records it: no half-app. -race watches for data races all along.
func TestCommandsDuringAppliesNeverMixRevisions(t *testing.T) {
	length := 30 * time.Second
	if testing.Short() {
		length = 5 * time.Second
	}
	h := newHarness(t)
	h.commitApp("alpha")
	h.commitApp("beta")
	var gen atomic.Int64
	commit := func() string {
		return h.commitFleet(stressFleet, agenttest.Vars{"gen": strconv.FormatInt(gen.Add(1), 10)})
	}
	commit()
	c := h.startCockpit()
	a := c.a
	agenttest.WaitUntil(t, 30*time.Second, "alpha installed", func() bool { return appOf(a.Status(), "alpha").State == api.AppInstalled })

	w := watchRevisions(t, h.dir, map[string]string{"a1": "alpha", "a2": "alpha", "b1": "beta"})
	load, stopLoad := context.WithTimeout(context.Background(), length)
	defer stopLoad()
	client := &http.Client{Timeout: time.Minute}
	call := func(method, path string, ok ...int) {
		req, _ := http.NewRequest(method, c.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", method, path, err)
			return
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if !slices.Contains(ok, resp.StatusCode) {
			t.Errorf("%s %s: %d %s", method, path, resp.StatusCode, body)
		}
	}
	var wg sync.WaitGroup
	var counts sync.Map // what each driver did, for the log
	drive := func(name string, pause time.Duration, do func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for load.Err() == nil {
				do()
				n, _ := counts.LoadOrStore(name, new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
				select { // pacing of the load, not synchronisation
				case <-load.Done():
				case <-time.After(pause/2 + rand.N(pause)):
				}
			}
		}()
	}
	drive("fleet commit", 500*time.Millisecond, func() {
		if rand.N(3) == 0 {
			h.commitApp("alpha") // an upgrade: a new build
		}
		commit()
		call("POST", "/api/v1/sync", 202)
	})
	drive("install", 400*time.Millisecond, func() { call("POST", "/api/v1/apps/beta/install", 202, 409) })
	drive("uninstall", 400*time.Millisecond, func() { call("DELETE", "/api/v1/apps/beta", 202, 404, 409) })
	control := func(verb string) func() {
		return func() {
			bin := []string{"a1", "a2", "b1"}[rand.N(3)]
			call("POST", "/api/v1/binaries/"+bin+"/"+verb, 202, 404)
		}
	}
	drive("restart", 200*time.Millisecond, control("restart"))
	drive("stop", 300*time.Millisecond, control("stop"))
	drive("start", 250*time.Millisecond, control("start"))
	drive("sync", 400*time.Millisecond, func() { call("POST", "/api/v1/sync", 202) })
	drive("rows", 200*time.Millisecond, func() { call("GET", "/api/v1/apps?fresh=1", 200) })
	drive("status", 200*time.Millisecond, func() { call("GET", "/api/v1/status", 200) })
	wg.Wait()
	counts.Range(func(k, v any) bool { t.Logf("%s: %d", k, v.(*atomic.Int64).Load()); return true })

	// at rest: beta wanted, one last commit, every binary started again
	call("POST", "/api/v1/apps/beta/install", 202, 409)
	last := commit()
	call("POST", "/api/v1/sync", 202)
	waitStatus(t, a, 60*time.Second, "the last commit applied with beta installed", func(st agent.Status) bool {
		return st.Fleet.Commit == last && st.Fleet.State == api.SyncOK && appOf(st, "beta").State == api.AppInstalled
	})
	for _, bin := range []string{"a1", "a2", "b1"} {
		call("POST", "/api/v1/binaries/"+bin+"/start", 202)
	}
	call("POST", "/api/v1/sync", 202)
	waitStatus(t, a, 60*time.Second, "every binary running the last generation", func(st agent.Status) bool {
		for _, app := range []string{"alpha", "beta"} {
			as := appOf(st, app)
			if as.State != api.AppInstalled || as.Reason != "" {
				return false
			}
			for _, b := range as.Binaries {
				if b.State != api.BinRunning {
					return false
				}
			}
		}
		return st.Fleet.Commit == last
	})
	w.stop()
	if w.samples.Load() < 100 {
		t.Fatalf("the watcher took only %d samples", w.samples.Load())
	}
	t.Logf("watcher: %d samples of the processes", w.samples.Load())
	if err := w.err(); err != nil {
		t.Fatal(err)
	}
	// no half-app, no mixed revision: the processes are exactly what the state records, one each
	procs := agenttest.Processes(h.dir)
	for _, app := range []string{"alpha", "beta"} {
		for _, p := range a.Installed(app) {
			var found []agenttest.Process
			for _, pr := range procs {
				if filepath.Base(pr.Argv[0]) == p.Name {
					found = append(found, pr)
				}
			}
			want := append([]string{p.Path}, p.Args...)
			if len(found) != 1 || !slices.Equal(found[0].Argv, want) {
				t.Errorf("%s: running %v, the state records %q", p.Name, found, want)
			}
			if !slices.Contains(p.Args, strconv.FormatInt(gen.Load(), 10)) {
				t.Errorf("%s runs generation args %q, the last commit is generation %d", p.Name, p.Args, gen.Load())
			}
		}
	}
}

// waitStatus waits until cond holds for the agent's status, and shows the status when it never does.
func waitStatus(t *testing.T, a *agent.Agent, timeout time.Duration, what string, cond func(agent.Status) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := a.Status()
		if cond(st) {
			return
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(st, "", "  ")
			t.Fatalf("timed out after %s waiting for %s; status:\n%s", timeout, what, b)
		}
		time.Sleep(agenttest.PollInterval)
	}
}

// revisionWatcher samples an agent's processes until stopped and keeps the first violation it sees.
type revisionWatcher struct {
	samples atomic.Int64
	done    chan struct{}
	ended   chan struct{}
	mu      sync.Mutex
	bad     error
}

// watchRevisions starts sampling. apps maps each binary to its app. A sample counts only when every process in
// it is still the same process once the sample is taken: they were then all alive together.
func watchRevisions(t *testing.T, dir string, apps map[string]string) *revisionWatcher {
	w := &revisionWatcher{done: make(chan struct{}), ended: make(chan struct{})}
	go func() {
		defer close(w.ended)
		for {
			select {
			case <-w.done:
				return
			case <-time.After(50 * time.Millisecond):
			}
			procs := agenttest.Processes(dir)
			alive := true
			for _, p := range procs {
				alive = alive && p.StillRunning()
			}
			if !alive {
				continue // something started or ended while sampling: not a moment in time
			}
			w.samples.Add(1)
			if err := checkSample(procs, apps); err != nil {
				w.mu.Lock()
				if w.bad == nil {
					w.bad = err
				}
				w.mu.Unlock()
			}
		}
	}()
	t.Cleanup(w.stop)
	return w
}

// checkSample: no binary runs twice, and the running binaries of one app share one revision: one build directory
// and one fleet generation.
func checkSample(procs []agenttest.Process, apps map[string]string) error {
	seen := map[string]int{}
	revs := map[string]map[string]bool{}
	for _, p := range procs {
		bin := filepath.Base(p.Argv[0])
		app, ok := apps[bin]
		if !ok {
			continue // a build
		}
		if seen[bin]++; seen[bin] > 1 {
			return fmt.Errorf("%s runs twice: %v", bin, procs)
		}
		g := ""
		if i := slices.Index(p.Argv, "--gen"); i >= 0 && i+1 < len(p.Argv) {
			g = p.Argv[i+1]
		}
		rev := filepath.Dir(p.Argv[0]) + " gen " + g
		if revs[app] == nil {
			revs[app] = map[string]bool{}
		}
		revs[app][rev] = true
		if len(revs[app]) > 1 {
			return fmt.Errorf("%s runs two revisions at once: %v", app, procs)
		}
	}
	return nil
}

func (w *revisionWatcher) stop() {
	select {
	case <-w.done:
	default:
		close(w.done)
	}
	<-w.ended
}

func (w *revisionWatcher) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.bad
}
