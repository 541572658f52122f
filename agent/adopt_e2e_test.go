package agent

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
)

// adoptFleet is books with four binaries, each logging its requests: after a kill -9 of the agent, two are
// adopted, one is killed while no agent runs and one's recorded pid is given to an unrelated process.
const adoptFleet = `
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server, target/release/books_api, target/release/books_web, target/release/books_admin], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock", --log-requests], listen: "unix://${sockets}/books_server.sock", health: /health}
  - {name: books_api, kind: server, path: target/release/books_api, args: [--listen, "unix://${sockets}/books_api.sock", --log-requests], listen: "unix://${sockets}/books_api.sock", health: /health}
  - {name: books_web, kind: server, path: target/release/books_web, args: [--listen, "unix://${sockets}/books_web.sock", --log-requests], listen: "unix://${sockets}/books_web.sock", health: /health}
  - {name: books_admin, kind: server, path: target/release/books_admin, args: [--listen, "unix://${sockets}/books_admin.sock", --log-requests], listen: "unix://${sockets}/books_admin.sock", health: /health}
`

var adoptBinaries = []string{"books_server", "books_api", "books_web", "books_admin"}

// binNamed is the status of one binary of app.
func binNamed(t *testing.T, st Status, app, name string) BinaryStatus {
	t.Helper()
	for _, b := range appOf(st, app).Binaries {
		if b.Name == name {
			return b
		}
	}
	t.Fatalf("%s has no binary %s: %+v", app, name, appOf(st, app))
	return BinaryStatus{}
}

// Apps keep running when the agent restarts: after a kill -9 of the agent, the next agent on the same dir adopts
// every binary that still runs as started (same pid, no start, its start time kept, its log still written), starts
// the one that died meanwhile, never adopts nor signals an unrelated process holding a recorded pid, and then
// supervises the adopted ones as its own: a restart through it works, and a crash is noticed and restarted.
func TestAgentAdoptsBinariesAfterKill9(t *testing.T) {
	h := newHarness(t)
	h.commitApp("books")
	h.commitFleet(adoptFleet)
	first := h.startChild("")
	agenttest.WaitUntil(t, 30*time.Second, "books running", func() bool {
		return h.converged(adoptBinaries...) && len(h.stateOnDisk().Runs) == len(adoptBinaries)
	})
	runs := h.stateOnDisk().Runs
	for _, b := range adoptBinaries {
		if _, err := agenttest.GetUnix(h.sock(b), "/health"); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
	}
	logOf := func(b string) string {
		data, _ := os.ReadFile(filepath.Join(h.dir, "logs", b+".log"))
		return string(data)
	}
	starts := func(b string) int { return strings.Count(logOf(b), " start ") }

	first.kill9(t)
	// While no agent runs: the binaries serve and write their logs; books_web dies; books_admin's recorded pid
	// now names an unrelated process.
	if _, err := agenttest.GetUnix(h.sock("books_server"), "/health"); err != nil {
		t.Fatalf("books_server without its agent: %v", err)
	}
	if !strings.Contains(logOf("books_server"), "books_server request /health") {
		t.Fatalf("books_server's log while no agent runs:\n%s", logOf("books_server"))
	}
	web := runs["books_web"].PID
	if err := syscall.Kill(web, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	agenttest.WaitUntil(t, 5*time.Second, "books_web gone", func() bool { return agenttest.MarkedProcs(h.dir)["books_web"] == 0 })
	sleep := exec.Command("sleep", "300")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleep.Process.Kill(); sleep.Wait() }()
	admin := runs["books_admin"].PID
	st := h.stateOnDisk()
	reused := st.Runs["books_admin"]
	reused.PID = sleep.Process.Pid
	st.Runs["books_admin"] = reused
	if err := st.save(filepath.Join(h.dir, "state.json")); err != nil {
		t.Fatal(err)
	}

	restarted := time.Now()
	b := h.newAgent(nil)
	b.restore(context.Background())
	mustSync(t, b)
	status := b.Status()
	for _, name := range []string{"books_server", "books_api"} {
		bs := binNamed(t, status, "books", name)
		if bs.State != api.BinRunning || bs.PID != runs[name].PID || bs.Restarts != 0 || !bs.Since.Before(restarted) {
			t.Errorf("%s after the restart: %+v; want pid %d adopted, running since before %s", name, bs, runs[name].PID, restarted.UTC())
		}
		if n := starts(name); n != 1 || !strings.Contains(logOf(name), "adopted pid "+strconv.Itoa(runs[name].PID)) {
			t.Errorf("%s: %d starts in its log, want 1 and the adoption:\n%s", name, n, logOf(name))
		}
		if got := b.host.runs()[name]; got != runs[name] {
			t.Errorf("%s: the record changed on adoption: %+v, was %+v", name, got, runs[name])
		}
	}
	if bs := binNamed(t, status, "books", "books_web"); bs.State != api.BinRunning || bs.PID == web || bs.PID == 0 {
		t.Errorf("books_web, killed while no agent ran: %+v; want it started again", bs)
	}
	if bs := binNamed(t, status, "books", "books_admin"); bs.State != api.BinRunning || bs.PID == admin || bs.PID == sleep.Process.Pid || bs.PID == 0 {
		t.Errorf("books_admin, its recorded pid another process's: %+v; want it started afresh (pid was %d, sleep is %d)", bs, admin, sleep.Process.Pid)
	}
	if syscall.Kill(admin, 0) == nil && !zombieProc(admin) {
		t.Errorf("books_admin's old process %d still runs: the agent left a marked process it did not adopt", admin)
	}
	if zombieProc(sleep.Process.Pid) || syscall.Kill(sleep.Process.Pid, 0) != nil {
		t.Error("the unrelated process holding a recorded pid was signalled")
	}
	if !h.converged(adoptBinaries...) {
		t.Errorf("want one of each binary, found %v", agenttest.MarkedProcs(h.dir))
	}
	if m := scrape(t, b); !strings.Contains(m, api.SeriesBinaryRestarts+`{app="books",binary="books_server"} 0`) {
		t.Errorf("metrics: want books_server with 0 restarts:\n%s", m)
	}
	// The adopted binary's output still reaches its log.
	before := strings.Count(logOf("books_server"), "request /health")
	if _, err := agenttest.GetUnix(h.sock("books_server"), "/health"); err != nil {
		t.Fatal(err)
	}
	agenttest.WaitUntil(t, 5*time.Second, "books_server's log line", func() bool {
		return strings.Count(logOf("books_server"), "request /health") > before
	})

	// A restart of an adopted binary through the agent: stopped through its pidfd, started again.
	if err := b.RestartBinary(context.Background(), "books_api"); err != nil {
		t.Fatal(err)
	}
	api1 := binNamed(t, b.Status(), "books", "books_api")
	if api1.PID == runs["books_api"].PID || api1.State != api.BinRunning || (syscall.Kill(runs["books_api"].PID, 0) == nil && !zombieProc(runs["books_api"].PID)) {
		t.Errorf("books_api after a restart: %+v; the adopted pid %d must be gone", api1, runs["books_api"].PID)
	}
	if b.host.runs()["books_api"].PID != api1.PID {
		t.Errorf("the restarted books_api is not recorded: %+v", b.host.runs()["books_api"])
	}
	agenttest.WaitUntil(t, 10*time.Second, "books_api healthy again", func() bool {
		_, err := agenttest.GetUnix(h.sock("books_api"), "/health")
		return err == nil
	})

	// A crash of an adopted binary: noticed through its pidfd, restarted after the backoff.
	if err := syscall.Kill(runs["books_server"].PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	agenttest.WaitUntil(t, 10*time.Second, "books_server restarted after its crash", func() bool {
		bs := binNamed(t, b.Status(), "books", "books_server")
		return bs.State == api.BinRunning && bs.Restarts == 1 && bs.PID != runs["books_server"].PID && bs.PID != 0
	})
	agenttest.WaitUntil(t, 10*time.Second, "books_server healthy again", func() bool {
		_, err := agenttest.GetUnix(h.sock("books_server"), "/health")
		return err == nil
	})
	if !strings.Contains(logOf("books_server"), "exit status is unknown") {
		t.Errorf("books_server's log says nothing of the adopted run's end:\n%s", logOf("books_server"))
	}
}

func zombieProc(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || len(b) < i+3 || b[i+2] == 'Z' || b[i+2] == 'X'
}

// The agent's stop leaves its binaries running when told to (LeaveBinariesRunning, what the agent command does on
// SIGTERM): Run returns at once, every binary runs on as recorded, and the next agent adopts them all (the same
// pids, no start). Without it (the demo, the tests, an embedded agent) the stop stops every binary.
func TestShutdownLeavesOrStopsBinaries(t *testing.T) {
	h := newHarness(t)
	h.commitApp("books")
	h.commitFleet(adoptFleet)
	a := h.newAgent(nil)
	a.LeaveBinariesRunning()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	agenttest.WaitUntil(t, 30*time.Second, "books running", func() bool {
		return h.converged(adoptBinaries...) && len(a.host.runs()) == len(adoptBinaries)
	})
	runs := a.host.runs()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of its context's end")
	}
	if names := a.sup.Names(); len(names) != 0 {
		t.Fatalf("the stopped agent still supervises %v", names)
	}
	onDisk := h.stateOnDisk().Runs
	for _, b := range adoptBinaries {
		if pid := runs[b].PID; syscall.Kill(pid, 0) != nil || zombieProc(pid) {
			t.Fatalf("%s (pid %d) did not outlive the agent's stop", b, pid)
		}
		if onDisk[b] != runs[b] {
			t.Fatalf("%s: recorded on disk %+v, ran as %+v", b, onDisk[b], runs[b])
		}
		if _, err := agenttest.GetUnix(h.sock(b), "/health"); err != nil {
			t.Fatalf("%s after the agent's stop: %v", b, err)
		}
		data, _ := os.ReadFile(filepath.Join(h.dir, "logs", b+".log"))
		if !strings.Contains(string(data), "left running as pid "+strconv.Itoa(runs[b].PID)) {
			t.Errorf("%s's log does not say it was left running:\n%s", b, data)
		}
	}

	b := h.newAgent(nil)
	b.restore(context.Background())
	mustSync(t, b)
	for _, name := range adoptBinaries {
		bs := binNamed(t, b.Status(), "books", name)
		if bs.State != api.BinRunning || bs.PID != runs[name].PID || bs.Restarts != 0 {
			t.Errorf("%s after the restart: %+v; want pid %d adopted", name, bs, runs[name].PID)
		}
		data, _ := os.ReadFile(filepath.Join(h.dir, "logs", name+".log"))
		if n := strings.Count(string(data), " start "); n != 1 {
			t.Errorf("%s: %d starts in its log, want 1", name, n)
		}
	}
	if !h.converged(adoptBinaries...) {
		t.Fatalf("want one of each binary, found %v", agenttest.MarkedProcs(h.dir))
	}

	// The default stop stops every binary, the adopted ones too.
	b.Shutdown()
	if n := agenttest.MarkedProcs(h.dir); len(n) != 0 {
		t.Fatalf("the default stop left %v running", n)
	}
}
