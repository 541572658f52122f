package supervise

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// group is one run of a binary: its process group, led by the binary itself (Setpgid). The supervisor owns the
// whole group: when the leader exits, every process left in the group is killed before the leader is reaped, so
// the group's id is never reused while the supervisor may still signal it, and a crashed binary's children never
// outlive it.
type group struct {
	pgid int

	mu     sync.Mutex
	reaped bool // the leader has been reaped: the id may belong to someone else now
}

// signal sends sig to every process of the group, unless the leader has been reaped.
func (g *group) signal(sig syscall.Signal) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.reaped {
		_ = syscall.Kill(-g.pgid, sig)
	}
}

// end waits for the leader to exit, kills what is left of its group while the leader, a zombie, still holds the
// group's id, then lets reap collect the leader and waits (bounded) until no process of the group is left.
func (g *group) end(reap func() error) error {
	waitExited(g.pgid)
	g.signal(syscall.SIGKILL)
	g.mu.Lock()
	g.reaped = true
	g.mu.Unlock()
	err := reap()
	waitGone(func() bool { return syscall.Kill(-g.pgid, 0) == nil && !onlyZombies(g.pgid) }, 5*time.Second)
	return err
}

// waitExited blocks until pid has exited, without reaping it (waitid with WNOWAIT).
func waitExited(pid int) {
	const pPID, wEXITED, wNOWAIT = 1, 4, 0x1000000
	var siginfo [128]byte
	for {
		_, _, e := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid), uintptr(unsafe.Pointer(&siginfo[0])), wEXITED|wNOWAIT, 0, 0)
		if e != syscall.EINTR {
			return
		}
	}
}

// waitGone polls alive until it reports false or max has passed.
func waitGone(alive func() bool, max time.Duration) bool {
	deadline := time.Now().Add(max)
	for d := time.Millisecond; alive(); d = min(2*d, 50*time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(d)
	}
	return true
}

// onlyZombies reports whether every process of group pgid has exited (waiting only to be reaped by its parent):
// a zombie holds no port, socket or file.
func onlyZombies(pgid int) bool {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pg, state, ok := procStat(pid); ok && pg == pgid && state != 'Z' && state != 'X' {
			return false
		}
	}
	return true
}

// procStat reads a process's group and state from /proc/<pid>/stat.
func procStat(pid int) (pgid int, state byte, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	s := string(b)
	i := len(s) - 1
	for i >= 0 && s[i] != ')' {
		i--
	}
	// after "comm)": state ppid pgrp ...
	var ppid int
	if _, err := fmt.Sscanf(s[i+1:], " %c %d %d", &state, &ppid, &pgid); err != nil {
		return 0, 0, false
	}
	return pgid, state, true
}

// exited reports whether pid is gone or a zombie.
func exited(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return true
	}
	_, state, ok := procStat(pid)
	return !ok || state == 'Z' || state == 'X'
}

// clearSocket makes a unix socket's folder and removes a socket file left by a run that was killed. Anything at
// that path that is not a socket is left alone (the binary's bind then fails and says so).
func clearSocket(path string) error {
	if path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("socket folder: %w", err)
	}
	if st, err := os.Lstat(path); err == nil && st.Mode()&fs.ModeSocket != 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("stale socket: %w", err)
		}
	}
	return nil
}
