package supervise_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent/supervise"
)

// previousAgent is a supervisor in a process of its own (SUPERVISE_CHILD=agent): it starts the spec in SPEC and
// writes what OnRun tells of it to RUNFILE, then runs until it is killed.
func previousAgent() {
	var sp supervise.Spec
	if err := json.Unmarshal([]byte(os.Getenv("SPEC")), &sp); err != nil {
		os.Exit(2)
	}
	s := supervise.New(supervise.Options{Marker: os.Getenv("MARKER"), OnRun: func(name string, run supervise.Run) {
		b, _ := json.Marshal(run)
		os.WriteFile(os.Getenv("RUNFILE")+".tmp", b, 0o644)
		os.Rename(os.Getenv("RUNFILE")+".tmp", os.Getenv("RUNFILE"))
	}})
	if err := s.Start(sp); err != nil {
		os.Exit(3)
	}
	for {
		time.Sleep(time.Hour)
	}
}

// leftBy starts sp under a supervisor in another process, kills that process with SIGKILL as soon as sp runs,
// and returns what it recorded of sp's run: sp runs on, orphaned, as a binary does after its agent was killed.
func leftBy(t *testing.T, sp supervise.Spec, marker string) supervise.Run {
	t.Helper()
	exe, _ := os.Executable()
	runFile := filepath.Join(t.TempDir(), "run.json")
	b, _ := json.Marshal(sp)
	agent := exec.Command(exe)
	agent.Env = append(os.Environ(), "SUPERVISE_CHILD=agent", "SPEC="+string(b), "RUNFILE="+runFile, "MARKER="+marker)
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	var run supervise.Run
	waitFor(t, "the previous agent's record", func() bool {
		b, err := os.ReadFile(runFile)
		return err == nil && json.Unmarshal(b, &run) == nil
	})
	agent.Process.Kill()
	agent.Wait()
	t.Cleanup(func() { syscall.Kill(-run.PID, syscall.SIGKILL) })
	if !alive(run.PID) {
		t.Fatalf("pid %d died with its agent", run.PID)
	}
	return run
}

func logText(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A binary left by a killed agent is adopted: same pid, its start time kept, no start, its output still in its
// log; a stop through the adopting supervisor stops it.
func TestAdoptKeepsTheProcess(t *testing.T) {
	sp := spec(t, "web", "chatty")
	t0 := time.Now()
	run := leftBy(t, sp, "")
	lines := func() int { return strings.Count(logText(t, sp.Log), "chatty line") }
	waitFor(t, "the orphan's output", func() bool { return lines() > 0 })
	before := lines()
	waitFor(t, "the orphan writing on without any agent", func() bool { return lines() > before+3 })
	time.Sleep(time.Until(t0.Add(1500 * time.Millisecond))) // the start time, read to the second of boot, is then clearly not the adoption's
	s := supervise.New(supervise.Options{})
	if err := s.Adopt(sp, run); err != nil {
		t.Fatal(err)
	}
	st, _ := s.Status("web")
	if st.State != supervise.Running || st.PID != run.PID || st.Restarts != 0 || st.Since.Sub(t0).Abs() > 1100*time.Millisecond {
		t.Fatalf("adopted: %+v (pid %d started at %s)", st, run.PID, t0)
	}
	if n := strings.Count(logText(t, sp.Log), "herofleet: "); n != 2 || !strings.Contains(logText(t, sp.Log), "adopted pid "+strconv.Itoa(run.PID)) {
		t.Fatalf("log of an adopted binary: want its one start and the adoption:\n%s", logText(t, sp.Log))
	}
	if err := s.Adopt(sp, run); err == nil {
		t.Fatal("a second adoption of one name must fail")
	}
	if err := s.Stop(context.Background(), "web"); err != nil {
		t.Fatal(err)
	}
	if alive(run.PID) && !zombie(run.PID) {
		t.Fatalf("adopted pid %d still runs after Stop", run.PID)
	}
	if !strings.HasSuffix(logText(t, sp.Log), " stopped on request\n") {
		t.Fatalf("log after the stop:\n%s", logText(t, sp.Log))
	}
}

// An adopted binary that dies is noticed through its pidfd and started again, as a crash of a started one.
func TestAdoptedCrashIsRestarted(t *testing.T) {
	sp := spec(t, "web", "serve")
	run := leftBy(t, sp, "")
	s := supervise.New(supervise.Options{BackoffMin: 10 * time.Millisecond})
	defer s.StopAll(context.Background())
	if err := s.Adopt(sp, run); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(run.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the restart", func() bool {
		st, _ := s.Status("web")
		return st.Restarts == 1 && st.State == supervise.Running && st.PID != run.PID && st.PID != 0
	})
	if !strings.Contains(logText(t, sp.Log), "exit status is unknown") {
		t.Fatalf("log after the crash:\n%s", logText(t, sp.Log))
	}
	// and a restart (stop, start) of it works as of any binary
	st, _ := s.Status("web")
	if err := s.Stop(context.Background(), "web"); err != nil || alive(st.PID) {
		t.Fatalf("stop: %v, pid %d alive %v", err, st.PID, alive(st.PID))
	}
	if err := s.Start(sp); err != nil {
		t.Fatal(err)
	}
}

// A recorded pid that another process has now is never adopted nor signalled; nor is a process started from
// another spec.
func TestAdoptRefusesAnotherProcess(t *testing.T) {
	sp := spec(t, "web", "serve")
	run := leftBy(t, sp, "")
	syscall.Kill(run.PID, syscall.SIGKILL)
	sleep := exec.Command("sleep", "300")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleep.Process.Kill(); sleep.Wait() }()
	reused := run
	reused.PID = sleep.Process.Pid // the pid now names an unrelated process
	s := supervise.New(supervise.Options{})
	defer s.StopAll(context.Background())
	if err := s.Adopt(sp, reused); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Fatalf("adopting an unrelated process: %v", err)
	}
	// the very process, but not of this spec
	id, err := supervise.Identify(sleep.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Adopt(sp, supervise.Run{Identity: id, Spec: "other"}); err == nil {
		t.Fatal("a process of another spec was adopted")
	}
	// the same process as recorded in another boot (a reboot)
	other := id
	other.Boot = "another boot"
	if err := s.Adopt(sp, supervise.Run{Identity: other, Spec: supervise.SpecHash(sp)}); err == nil {
		t.Fatal("a process recorded in another boot was adopted")
	}
	// the same executable and pid, another start time (the pid reused by another run of the same program)
	id.Start++
	if err := s.Adopt(sp, supervise.Run{Identity: id, Spec: supervise.SpecHash(sp)}); err == nil {
		t.Fatal("a process with another start time was adopted")
	}
	if len(s.Names()) != 0 || !alive(sleep.Process.Pid) || zombie(sleep.Process.Pid) {
		t.Fatalf("supervised %v; sleep alive %v", s.Names(), alive(sleep.Process.Pid))
	}
	time.Sleep(50 * time.Millisecond)
	if sleep.ProcessState != nil || zombie(sleep.Process.Pid) {
		t.Fatal("the unrelated process was signalled")
	}
	// a process that died is not adopted either
	if err := s.Adopt(sp, run); err == nil {
		t.Fatal("a dead process was adopted")
	}
}

// KillMarked spares the process groups it is told to keep.
func TestKillMarkedKeepsAdopted(t *testing.T) {
	marker := supervise.Marker("/tmp/killmarked-keep-" + strconv.Itoa(os.Getpid()))
	kept := leftBy(t, spec(t, "kept", "serve"), marker)
	gone := leftBy(t, spec(t, "gone", "serve"), marker)
	found := supervise.KillMarked(marker, kept.PID)
	if len(found) != 1 || found[0] != gone.PID {
		t.Fatalf("found %v, want [%d]", found, gone.PID)
	}
	if !alive(kept.PID) || zombie(kept.PID) {
		t.Fatal("a kept process was killed")
	}
}

// A binary writes its log itself; the supervisor keeps it near LogMax by copy-then-truncate, and Tail still reads
// the newest lines across both parts.
func TestBinaryLogIsCapped(t *testing.T) {
	s := supervise.New(supervise.Options{LogMax: 2000, LogEvery: 20 * time.Millisecond})
	defer s.StopAll(context.Background())
	sp := spec(t, "chatty", "chatty")
	if err := s.Start(sp); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a rotation", func() bool { _, err := os.Stat(sp.Log + ".1"); return err == nil })
	for range 20 {
		time.Sleep(20 * time.Millisecond)
		for _, p := range []string{sp.Log, sp.Log + ".1"} {
			if st, err := os.Stat(p); err == nil && st.Size() > 4000 {
				t.Fatalf("%s is %d bytes, cap 2000 checked every 20ms", p, st.Size())
			}
		}
	}
	tail, err := supervise.Tail(sp.Log, 3)
	if err != nil || strings.Count(tail, "chatty line") != 3 {
		t.Fatalf("tail %q: %v", tail, err)
	}
	if b, _ := os.ReadFile(sp.Log); len(b) > 0 && b[0] == 0 {
		t.Fatal("the log has a hole at its start: the binary does not append")
	}
}

// A stop of an adopted binary stops its whole process group: the binary through its pidfd, its workers by pid.
func TestAdoptedGroupStopsWhole(t *testing.T) {
	children := t.TempDir()
	sp := spec(t, "forky", "forkserve")
	sp.Env = append(sp.Env, "CHILDREN="+children)
	run := leftBy(t, sp, "")
	var worker int
	waitFor(t, "the worker", func() bool {
		ents, _ := os.ReadDir(children)
		if len(ents) == 1 {
			worker, _ = strconv.Atoi(ents[0].Name())
		}
		return worker != 0
	})
	s := supervise.New(supervise.Options{})
	if err := s.Adopt(sp, run); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(context.Background(), "forky"); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{run.PID, worker} {
		if alive(pid) && !zombie(pid) {
			t.Errorf("pid %d of the adopted group still runs after Stop", pid)
		}
	}
}

// Release leaves every process running, unsignalled, and says so in its log; a new supervisor adopts it as a
// previous agent's. StopMarked then stops the processes of a marker on purpose: SIGTERM, and SIGKILL after the
// grace for one that ignores it.
func TestReleaseLeavesRunningAndStopMarkedStops(t *testing.T) {
	marker := supervise.Marker(t.TempDir())
	var recs = map[string]supervise.Run{}
	s := supervise.New(supervise.Options{Marker: marker, OnRun: func(name string, run supervise.Run) { recs[name] = run }})
	web, stubborn := spec(t, "web", "chatty"), spec(t, "stubborn", "ignoreterm")
	for _, sp := range []supervise.Spec{web, stubborn} {
		if err := s.Start(sp); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the binaries' output", func() bool {
		return strings.Contains(logText(t, web.Log), "chatty line") && strings.Contains(logText(t, stubborn.Log), "ignoring SIGTERM")
	})
	if names := s.Release(); len(names) != 2 || names[0] != "stubborn" || names[1] != "web" {
		t.Fatalf("released %v", names)
	}
	if names := s.Names(); len(names) != 0 {
		t.Fatalf("still supervised after Release: %v", names)
	}
	for _, sp := range []supervise.Spec{web, stubborn} {
		pid := recs[sp.Name].PID
		if !alive(pid) || zombie(pid) {
			t.Fatalf("%s (pid %d) did not outlive Release", sp.Name, pid)
		}
		if !strings.Contains(logText(t, sp.Log), "left running as pid "+strconv.Itoa(pid)) {
			t.Fatalf("%s's log:\n%s", sp.Name, logText(t, sp.Log))
		}
	}
	lines := strings.Count(logText(t, web.Log), "chatty line")
	waitFor(t, "web writing on, released", func() bool { return strings.Count(logText(t, web.Log), "chatty line") > lines+3 })

	n := supervise.New(supervise.Options{Marker: marker})
	if err := n.Adopt(web, recs["web"]); err != nil {
		t.Fatal(err)
	}
	if st, _ := n.Status("web"); st.PID != recs["web"].PID || st.State != supervise.Running {
		t.Fatalf("adopted after Release: %+v", st)
	}
	n.Release()

	start := time.Now()
	pids := supervise.StopMarked(marker, 300*time.Millisecond)
	if len(pids) != 2 {
		t.Fatalf("StopMarked found %v, want the 2 binaries", pids)
	}
	for _, sp := range []supervise.Spec{web, stubborn} {
		if pid := recs[sp.Name].PID; alive(pid) && !zombie(pid) {
			t.Fatalf("%s (pid %d) runs after StopMarked", sp.Name, pid)
		}
	}
	if took := time.Since(start); took < 300*time.Millisecond || took > 5*time.Second {
		t.Fatalf("StopMarked took %s; want the grace (300ms) for the one ignoring SIGTERM, then SIGKILL", took)
	}
	if pids := supervise.StopMarked(marker, time.Second); len(pids) != 0 {
		t.Fatalf("a second StopMarked found %v", pids)
	}
}
