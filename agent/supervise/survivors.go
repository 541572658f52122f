package supervise

import (
	"bytes"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"syscall"
	"time"
)

// MarkerVar is the environment variable set in every process the supervisor (or a build) starts. Its value names
// the agent's directory, so two agents on one machine never touch each other's processes.
const MarkerVar = "HEROFLEET_AGENT_DIR"

// Marker is the KEY=VALUE entry for an agent's directory.
func Marker(dir string) string { return MarkerVar + "=" + dir }

// KillMarked sends SIGKILL to the process group of every process (other than this one) whose environment carries
// marker, waits until they are gone, and returns the pids it found. It reads /proc; processes of other users are
// skipped, and so is every process of the process groups keep (the binaries a restarted agent adopted).
func KillMarked(marker string, keep ...int) []int {
	found := findMarked(marker, keep)
	signalMarked(found, syscall.SIGKILL)
	// SIGKILL is not instant: wait until each is gone (or a zombie, which holds no port) so that replacements
	// started next never race them for a port or a socket.
	for _, pid := range found {
		if !waitGone(func() bool { return !exited(pid) }, 5*time.Second) {
			slog.Warn("a killed process is still running after 5s", "pid", pid)
		}
	}
	return found
}

// StopMarked stops every process (other than this one) whose environment carries marker, as the supervisor stops a
// binary: SIGTERM to its process group, grace for all of them to exit, then SIGKILL to what is left. It returns the
// pids it found. It is how the apps of an agent that no longer runs are stopped on purpose (`herofleet agent
// stop-apps`): the agent leaves them running when it exits.
func StopMarked(marker string, grace time.Duration) []int {
	found := findMarked(marker, nil)
	if len(found) == 0 {
		return nil
	}
	signalMarked(found, syscall.SIGTERM)
	allGone := func() bool {
		for _, pid := range found {
			if !exited(pid) {
				return false
			}
		}
		return true
	}
	if !waitGone(func() bool { return !allGone() }, grace) {
		var left []int
		for _, pid := range found {
			if !exited(pid) {
				left = append(left, pid)
			}
		}
		slog.Warn("processes ignored SIGTERM; killing", "pids", left, "grace", grace)
		signalMarked(left, syscall.SIGKILL)
		if !waitGone(func() bool { return !allGone() }, 5*time.Second) {
			slog.Warn("killed processes are still running after 5s", "pids", left)
		}
	}
	return found
}

// findMarked lists the processes (other than this one, and out of the process groups keep) whose environment
// carries marker.
func findMarked(marker string, keep []int) []int {
	want := []byte(marker)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var found []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		if pgid, _, ok := procStat(pid); ok && slices.Contains(keep, pgid) {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if bytes.Equal(kv, want) {
				found = append(found, pid)
				break
			}
		}
	}
	return found
}

// signalMarked sends sig to each pid, and to its process group when it leads one.
func signalMarked(pids []int, sig syscall.Signal) {
	for _, pid := range pids {
		if pgid, err := syscall.Getpgid(pid); err == nil && pgid == pid {
			_ = syscall.Kill(-pgid, sig)
		}
		_ = syscall.Kill(pid, sig)
	}
}
