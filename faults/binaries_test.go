package faults

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
)

// oneApp is a fleet of one app with one server binary listening on listen, with extra args.
func oneApp(listen, args string) string {
	return fmt.Sprintf(`
-- fleet.yaml --
name: faults
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, %q%s], listen: %q, health: /health}
`, listen, args, listen)
}

func sigkillRow(t *testing.T, network, listen string) {
	p := startAgent(t, oneApp(listen, ""), "", "books")
	before := p.waitRunning("books", "books_server", 60*time.Second)
	start := time.Now()
	if err := syscall.Kill(before.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var after = before
	agenttest.WaitUntil(t, 30*time.Second, "books_server back", func() bool {
		after = p.binary("books", "books_server")
		return after.State == "running" && after.PID != 0 && after.PID != before.PID && answers(p, listen)
	})
	back := time.Since(start)
	record(Row{
		Fault:    "SIGKILL of a " + network + " binary",
		Injected: "`kill -9` of books_server (as the OOM killer does)",
		Did:      "restarted it" + map[bool]string{true: " after removing its stale socket", false: ""}[network == "unix socket"],
		Figure:   fmt.Sprintf("answering again after %s; %d restart", back.Round(time.Millisecond), after.Restarts),
		Lost:     "nothing",
	})
}

// answers reports whether the binary answers /health on listen.
func answers(p *proc, listen string) bool {
	network, addr, _ := strings.Cut(strings.ReplaceAll(listen, "${sockets}", filepath.Join(p.dir, "run")), "://")
	if network == "unix" {
		_, err := agenttest.GetUnix(addr, "/health")
		return err == nil
	}
	c, err := dial(addr)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func TestSIGKILLUnixSocketBinary(t *testing.T) {
	sigkillRow(t, "unix socket", "unix://${sockets}/books_server.sock")
}

func TestSIGKILLTCPBinary(t *testing.T) {
	port := agenttest.FreePort(t)
	sigkillRow(t, "TCP", "tcp://127.0.0.1:"+strconv.Itoa(port))
}

// A crashed binary's worker dies with it.
func TestCrashWithChildren(t *testing.T) {
	workers := t.TempDir()
	p := startAgent(t, oneApp("unix://${sockets}/books_server.sock", `, --fork-worker, `+strconv.Quote(filepath.Join(workers, "w"))), "", "books")
	before := p.waitRunning("books", "books_server", 60*time.Second)
	var worker int
	agenttest.WaitUntil(t, 10*time.Second, "the worker", func() bool {
		b, _ := os.ReadFile(filepath.Join(workers, "w"))
		worker, _ = strconv.Atoi(string(b))
		return worker != 0
	})
	start := time.Now()
	syscall.Kill(before.PID, syscall.SIGKILL)
	agenttest.WaitUntil(t, 30*time.Second, "books_server back", func() bool {
		a := p.binary("books", "books_server")
		return a.State == "running" && a.PID != before.PID
	})
	back := time.Since(start)
	if syscall.Kill(worker, 0) == nil && !zombie(worker) {
		t.Fatalf("the crashed run's worker %d still runs", worker)
	}
	record(Row{
		Fault:    "a crash with children",
		Injected: "`kill -9` of books_server, which had forked a worker into its process group",
		Did:      "killed the whole group (the worker too) before the relaunch",
		Figure:   fmt.Sprintf("back after %s; 0 workers of the crashed run left", back.Round(time.Millisecond)),
		Lost:     "nothing",
	})
}

func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || len(b) < i+3 || b[i+2] == 'Z'
}

// A binary that ignores SIGTERM is stopped by a person all the same: SIGKILL after the grace period.
func TestBinaryIgnoringSIGTERM(t *testing.T) {
	p := startAgent(t, oneApp("unix://${sockets}/books_server.sock", ", --ignore-term"), "", "books")
	before := p.waitRunning("books", "books_server", 60*time.Second)
	req, _ := http.NewRequest("POST", "http://"+p.api+"/api/v1/binaries/books_server/stop", nil)
	req.Header.Set("Authorization", "Bearer "+p.token)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("stop: %v %v", resp, err)
	}
	resp.Body.Close()
	agenttest.WaitUntil(t, 30*time.Second, "books_server gone", func() bool {
		return (syscall.Kill(before.PID, 0) != nil || zombie(before.PID)) && p.binary("books", "books_server").State == api.BinStopped
	})
	took := time.Since(start)
	if took < 1500*time.Millisecond {
		t.Fatalf("stopped in %s: the grace period (stop_grace 2s) was skipped", took)
	}
	record(Row{
		Fault:    "a binary that ignores SIGTERM",
		Injected: "books_server ignores SIGTERM; a person stops it (POST /api/v1/binaries/books_server/stop)",
		Did:      "SIGTERM to its process group, then SIGKILL after stop_grace (2s); the row says stopped by a person",
		Figure:   fmt.Sprintf("gone %s after the stop", took.Round(time.Millisecond)),
		Lost:     "nothing",
	})
}
