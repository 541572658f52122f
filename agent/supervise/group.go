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

	"golang.org/x/sys/unix"
)

// group is one run of a binary: its process group, led by the binary itself (Setpgid). The supervisor owns the
// whole group: when the leader exits, every process left in the group is killed before the leader is reaped, so
// the group's id is never reused while the supervisor may still signal it, and a crashed binary's children never
// outlive it.
//
// An adopted group (see Supervisor.Adopt) was started by a previous agent: its leader is not this process's child,
// and whoever inherited it (init, a subreaper) reaps it the moment it exits. Its leader is held by a pidfd instead,
// which names that one process whatever becomes of its pid.
type group struct {
	pgid  int
	pidfd int // the adopted leader's pidfd; -1 for a child

	mu     sync.Mutex
	reaped bool // the leader has been reaped: the id may belong to someone else now
}

// signal sends sig to every process of the group, unless the leader has been reaped. An adopted leader gets it
// through its pidfd, which cannot name another process; the other processes of its group, found in /proc, get it
// by pid while the leader still runs (the leader's running pid is the group's id, which no other process can have).
// An adopted leader that has exited is reaped by its parent, not here: endAdopted sees to what is left of its group.
func (g *group) signal(sig syscall.Signal) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.reaped {
		return
	}
	if g.pidfd < 0 {
		_ = syscall.Kill(-g.pgid, sig)
		return
	}
	if unix.PidfdSendSignal(g.pidfd, sig, nil, 0) != nil || pidfdExited(g.pidfd, 0) {
		return
	}
	for _, pid := range members(g.pgid) {
		if pid != g.pgid {
			_ = syscall.Kill(pid, sig)
		}
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

// endAdopted is end for an adopted group: it waits on the leader's pidfd, kills what is left of the group while
// some of it still runs (a process left in the group keeps its id from being reused), and waits (bounded) until
// none is left. The leader's exit status went to whoever reaped it: errAdoptedExit says so.
func (g *group) endAdopted() error {
	pidfdExited(g.pidfd, -1)
	if !onlyZombies(g.pgid) {
		_ = syscall.Kill(-g.pgid, syscall.SIGKILL)
	}
	g.mu.Lock()
	g.reaped = true
	// Still this process's child when the agent replaced itself in place (exec, same pid): reaped here, or it
	// would stay a zombie. Anyone else's child was reaped by its parent already (ECHILD).
	var info unix.Siginfo
	_ = unix.Waitid(unix.P_PIDFD, g.pidfd, &info, unix.WEXITED|unix.WNOHANG, nil)
	_ = unix.Close(g.pidfd)
	g.mu.Unlock()
	waitGone(func() bool { return syscall.Kill(-g.pgid, 0) == nil && !onlyZombies(g.pgid) }, 5*time.Second)
	return errAdoptedExit
}

// errAdoptedExit is how an adopted process ended: its exit status is not this agent's to read.
var errAdoptedExit = errors.New("exited (adopted from a previous agent: its exit status is unknown)")

// pidfdExited reports whether the process of pidfd has exited, waiting at most timeout (-1: until it has).
func pidfdExited(pidfd int, timeout time.Duration) bool {
	ms := -1
	if timeout >= 0 {
		ms = int(timeout / time.Millisecond)
	}
	for {
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, ms)
		if err == unix.EINTR {
			continue
		}
		return err != nil || (n > 0 && fds[0].Revents != 0)
	}
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
func onlyZombies(pgid int) bool { return len(members(pgid)) == 0 }

// members lists the processes of group pgid that have not exited.
func members(pgid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pg, state, ok := procStat(pid); ok && pg == pgid && state != 'Z' && state != 'X' {
			out = append(out, pid)
		}
	}
	return out
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
