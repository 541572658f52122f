package faults

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
	"github.com/herofleet/herofleet/internal/gitserver"
)

// gatedFleet is Hero Books as the kill and control rows run it: two binaries and the seed-git hook, every gate of
// the test app wired to a file under {{gates}} (a test creates the file to hold the app there, removes it to let
// it go on). {{libs}} adds libraries to seed.
const gatedFleet = `
-- fleet.yaml --
name: faults
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
{{role}}
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server, target/release/books_web], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock", --stop-gate, "{{gates}}/stop"], listen: "unix://${sockets}/books_server.sock", health: /health}
  - {name: books_web, kind: web, path: target/release/books_web, args: [--listen, "unix://${sockets}/books_web.sock", --stop-gate, "{{gates}}/stop", --health-gate, "{{gates}}/health"], listen: "unix://${sockets}/books_web.sock", health: /health}
hooks:
  - plugin: seed-git
    on: pre-start
    with:
      into: "${data}/libraries"
      repos:
        - {name: manual, url: "https://forge.test/libs/manual.git", ref: main}
{{libs}}`

// gated is an agent process running gatedFleet behind a held forge, with the gates' folder.
type gated struct {
	*proc
	held  *heldForge // between the agent and its forge
	gates string
	role  string
	want  string // the revision of books the agent should end on
}

var booksBinaries = []string{"books_server", "books_web"}

// startGated starts an agent on gatedFleet with role (the lines of roles/tester.yaml), long enough timeouts for
// a gate to hold (health_timeout and stop_grace 1m), and the build gate in build_env.
func startGated(t *testing.T, role string) *gated {
	g := &gated{gates: t.TempDir(), role: role}
	g.proc = startAgentEdited(t, g.fleet(""), func(p *proc, cfg string) string {
		for _, lib := range []string{"manual", "guide"} {
			if _, err := p.forge.Commit("libs/"+lib, "main", "the "+lib, gitserver.Text(map[string]string{"README.md": lib})); err != nil {
				t.Fatal(err)
			}
		}
		g.held = startHeldForge(t, p.forge.URL())
		cfg = strings.Replace(cfg, p.forge.URL(), g.held.URL(), 1)
		cfg = strings.Replace(cfg, "health_timeout: 5s", "health_timeout: 1m", 1)
		cfg = strings.Replace(cfg, "stop_grace: 2s", "stop_grace: 1m", 1)
		return cfg + fmt.Sprintf("build_env: {BUILD_GATE: %q}\n", filepath.Join(g.gates, "build"))
	}, "books")
	t.Cleanup(func() {
		g.openGates() // before the agent's orderly stop, which would wait for a held SIGTERM
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(g.dir, "agent.log"))
			t.Logf("agent log (last 6000 bytes):\n%s\nstatus: %+v", log[max(0, len(log)-6000):], g.app("books"))
		}
	})
	return g
}

func (g *gated) fleet(libs string) string {
	return strings.NewReplacer("{{gates}}", g.gates, "{{libs}}", libs, "{{role}}", g.role).Replace(gatedFleet)
}

// close creates a gate: the build, a SIGTERM or books_web's /health held while it exists.
func (g *gated) close(gate string) {
	if err := os.WriteFile(filepath.Join(g.gates, gate), nil, 0o644); err != nil {
		g.t.Fatal(err)
	}
}

// openGates removes every gate and releases the forge.
func (g *gated) openGates() {
	for _, gate := range []string{"build", "stop", "health"} {
		os.Remove(filepath.Join(g.gates, gate))
	}
	g.held.release()
}

// sync asks the agent for a sync through its API.
func (p *proc) sync() {
	p.t.Helper()
	if code, body := p.call("POST", "/api/v1/sync"); code != 202 {
		p.t.Fatalf("sync: %d %s", code, body)
	}
}

// kill9 kills the agent process as the OOM killer would, and reaps it.
func (p *proc) kill9() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatal(err)
	}
	_ = p.cmd.Wait()
}

// state reads the agent's state.json as it is on disk (empty before the agent wrote one).
func (p *proc) state() *agent.State {
	var st agent.State
	_ = readJSON(filepath.Join(p.dir, "state.json"), &st)
	return &st
}

// whole reports whether inst records every binary of books in one build that is complete on disk.
func whole(inst *agent.Installed) bool {
	if inst == nil || len(inst.Binaries) != len(booksBinaries) {
		return false
	}
	if _, err := os.Stat(filepath.Join(inst.BuildDir, ".herofleet-built")); err != nil {
		return false
	}
	for i, b := range inst.Binaries {
		if b.Name != booksBinaries[i] || buildOf(b.Path) != inst.BuildDir {
			return false
		}
	}
	return true
}

// runsExactly reports whether the processes of dir are exactly the binaries inst records, one each, with the argv
// it records: no half-app, no binary twice, no process the state does not know.
func runsExactly(dir string, inst *agent.Installed) bool {
	procs := agenttest.Processes(dir)
	if inst == nil || len(procs) != len(inst.Binaries) {
		return false
	}
	for _, b := range inst.Binaries {
		want := append([]string{b.Path}, b.Args...)
		if !slices.ContainsFunc(procs, func(p agenttest.Process) bool { return slices.Equal(p.Argv, want) }) {
			return false
		}
	}
	return true
}

// waitTerms waits until both binaries hold the SIGTERM that stops them.
func (g *gated) waitTerms() {
	g.t.Helper()
	agenttest.WaitUntil(g.t, 60*time.Second, "both binaries holding their SIGTERM", func() bool {
		for _, b := range booksBinaries {
			if _, err := os.Stat(filepath.Join(g.gates, "stop."+b+".term")); err != nil {
				return false
			}
		}
		return true
	})
}

// waitHealthHeld waits until the new revision of books runs, both binaries started, and the agent waits for
// books_web's health (held by the health gate).
func (g *gated) waitHealthHeld() {
	g.t.Helper()
	old := g.state().Apps["books"]
	agenttest.WaitUntil(g.t, 60*time.Second, "the new revision waiting for books_web's health", func() bool {
		n := 0
		for _, p := range agenttest.Processes(g.dir) {
			if (old == nil || !strings.HasPrefix(p.Argv[0], old.BuildDir+"/")) && slices.Contains(booksBinaries, filepath.Base(p.Argv[0])) {
				n++
			}
		}
		return n == 2 && g.app("books").Phase == api.PhaseStarting
	})
}

// commitApp commits a new revision of books: the one the agent should end on.
func (g *gated) commitApp() { g.want = g.forge.CommitApp("books") }

// call sends a request to the agent's API with its token and returns the answer's code and body.
func (p *proc) call(method, path string) (int, string) {
	req, _ := http.NewRequest(method, "http://"+p.api+path, nil)
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// pidsOf lists the live processes whose program is exe.
func pidsOf(exe string) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || zombie(pid) {
			continue
		}
		if b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil {
			if argv0, _, _ := strings.Cut(string(b), "\x00"); argv0 == exe {
				out = append(out, pid)
			}
		}
	}
	return out
}

// answer is one control's answer.
type answer struct {
	control string
	code    int
	body    string
}

func (a answer) String() string { return fmt.Sprintf("%s: %d %s", a.control, a.code, a.body) }

// controls sends a person's controls at once ("restart books_server") and returns their answers.
func (p *proc) controls(cs ...string) []answer {
	out := make([]answer, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		verb, bin, _ := strings.Cut(c, " ")
		wg.Go(func() {
			code, body := p.call("POST", "/api/v1/binaries/"+bin+"/"+verb)
			out[i] = answer{c, code, body}
		})
	}
	wg.Wait()
	return out
}

// queued checks that every control was answered 202 and queued behind the work that held the app's lane.
func queued(t *testing.T, answers []answer) {
	t.Helper()
	for _, a := range answers {
		if a.code != http.StatusAccepted || !strings.Contains(a.body, "queued") {
			t.Fatalf("a control during the apply: %v, want 202 queued", a)
		}
	}
}
