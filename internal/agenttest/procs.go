package agenttest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// markerVar is the variable the agent's supervisor (and a build) sets in every process it starts, its value the
// agent's dir: supervise.MarkerVar. agenttest does not import the agent's packages; TestTestappBinaryIsSeen starts
// a process with supervise.Marker and holds MarkedProcs to seeing it.
const markerVar = "HEROFLEET_AGENT_DIR"

// AgentDir makes a fresh agent dir under /tmp (short: unix socket paths are limited to 108 bytes). When the test
// ends, every process still carrying its marker is killed and the dir removed.
func AgentDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "hf")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		killMarked(dir)
		os.RemoveAll(dir)
	})
	return dir
}

// MarkedProcs counts the live processes carrying dir's marker (those an agent with that dir started), by the base
// name of their program: {"books_server": 1, "testapp": 1} while books_server runs and a build is under way.
func MarkedProcs(dir string) map[string]int {
	out := map[string]int{}
	for _, pid := range markedPIDs(dir, false) {
		cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		argv0, _, _ := strings.Cut(string(cmdline), "\x00")
		out[filepath.Base(argv0)]++
	}
	return out
}

// MarkedPIDs lists the pids of the processes carrying dir's marker, zombies included.
func MarkedPIDs(dir string) []int { return markedPIDs(dir, true) }

func markedPIDs(dir string, zombies bool) []int {
	want := markerVar + "=" + dir
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || !hasEntry(env, want) {
			continue
		}
		if !zombies {
			stat, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
			if strings.Contains(string(stat), ") Z ") {
				continue // a zombie is dead already
			}
		}
		out = append(out, pid)
	}
	return out
}

// killMarked sends SIGKILL to every live process carrying dir's marker (and to its process group when it leads
// one), as the agent does to the survivors of an earlier run, and waits up to 5s for each to be gone.
func killMarked(dir string) {
	self := os.Getpid()
	var found []int
	for _, pid := range markedPIDs(dir, false) {
		if pid == self {
			continue
		}
		found = append(found, pid)
		if pgid, err := syscall.Getpgid(pid); err == nil && pgid == pid {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	for _, pid := range found {
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if _, alive := processStart(pid); !alive {
				break
			}
		}
	}
}

// hasEntry reports whether a /proc environ (NUL-separated) holds the entry kv.
func hasEntry(environ []byte, kv string) bool {
	for _, e := range strings.Split(string(environ), "\x00") {
		if e == kv {
			return true
		}
	}
	return false
}

// Process is one live process carrying an agent's marker.
type Process struct {
	PID   int
	Start string // field 22 of /proc/<pid>/stat, its start time: with the pid, the process's identity
	Argv  []string
}

// Processes lists the live processes carrying dir's marker, with their command lines.
func Processes(dir string) []Process {
	var out []Process
	for _, pid := range markedPIDs(dir, false) {
		start, ok := processStart(pid)
		if !ok {
			continue
		}
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err != nil || len(b) == 0 {
			continue
		}
		out = append(out, Process{PID: pid, Start: start, Argv: strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")})
	}
	return out
}

// StillRunning reports whether p is still the same live process (not exited, its pid not reused).
func (p Process) StillRunning() bool {
	start, ok := processStart(p.PID)
	return ok && start == p.Start
}

// processStart reads a live process's start time; false when it is gone or a zombie.
func processStart(pid int) (string, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 || f[0] == "Z" {
		return "", false
	}
	return f[19], true
}
