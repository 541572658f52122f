package supervise_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent/supervise"
)

// childMode runs the fault-injection children of this file; it reports false for modes it does not know.
func childMode(mode string) bool {
	switch mode {
	case "unixserve":
		l, err := net.Listen("unix", os.Getenv("SOCKET"))
		if err != nil {
			os.Stderr.WriteString("listen: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("listening\n")
		for {
			c, err := l.Accept()
			if err != nil {
				os.Exit(1)
			}
			c.Write([]byte(strconv.Itoa(os.Getpid()) + "\n"))
			c.Close()
		}
	case "forkserve": // a worker in the binary's process group, then serve until SIGTERM
		w := exec.Command("sleep", "300")
		if err := w.Start(); err != nil {
			os.Exit(1)
		}
		os.WriteFile(os.Getenv("CHILDREN")+"/"+strconv.Itoa(w.Process.Pid), nil, 0o644)
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM)
		<-c
		os.Exit(0)
	case "forkthenexit":
		// a worker in the binary's process group, then the binary crashes after a moment
		w := exec.Command("sleep", "300")
		if err := w.Start(); err != nil {
			os.Exit(1)
		}
		os.WriteFile(os.Getenv("CHILDREN")+"/"+strconv.Itoa(w.Process.Pid), nil, 0o644)
		time.Sleep(300 * time.Millisecond)
		os.Exit(7)
	}
	return false
}

// A binary on a unix socket killed by SIGKILL (as the OOM killer does) leaves its socket file behind; the restart
// must still bind.
func TestUnixSocketBinaryComesBackAfterSIGKILL(t *testing.T) {
	s := supervise.New(supervise.Options{BackoffMin: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond})
	defer s.StopAll(context.Background())
	sp := spec(t, "sock", "unixserve")
	sock := filepath.Join(t.TempDir(), "run", "sock.sock")
	sp.Env = append(sp.Env, "SOCKET="+sock)
	sp.Socket = sock
	os.MkdirAll(filepath.Dir(sock), 0o750)
	if err := s.Start(sp); err != nil {
		t.Fatal(err)
	}
	first := answer(t, sock, 0)
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	second := answer(t, sock, first)
	if second == first {
		t.Fatalf("still pid %d", first)
	}
	st, _ := s.Status("sock")
	if st.State != supervise.Running || st.Restarts != 1 {
		t.Fatalf("status %+v", st)
	}
}

// answer dials sock until a process other than not answers with its pid.
func answer(t *testing.T, sock string, not int) int {
	t.Helper()
	var pid int
	waitFor(t, "an answer on "+sock, func() bool {
		c, err := net.Dial("unix", sock)
		if err != nil {
			return false
		}
		defer c.Close()
		b := make([]byte, 32)
		n, _ := c.Read(b)
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b[:n])))
		return pid != 0 && pid != not
	})
	return pid
}

// A crashed binary's children die with it, before it is started again.
func TestCrashedBinarysChildrenDieBeforeRelaunch(t *testing.T) {
	s := supervise.New(supervise.Options{BackoffMin: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond})
	children := t.TempDir()
	sp := spec(t, "forky", "forkthenexit")
	sp.Env = append(sp.Env, "CHILDREN="+children)
	if err := s.Start(sp); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two relaunches", func() bool { st, _ := s.Status("forky"); return st.Restarts >= 2 })
	s.StopAll(context.Background())
	ents, _ := os.ReadDir(children)
	if len(ents) < 2 {
		t.Fatalf("%d workers recorded", len(ents))
	}
	for _, e := range ents {
		pid, _ := strconv.Atoi(e.Name())
		if alive(pid) && !zombie(pid) {
			t.Errorf("worker %d of a crashed run is still running", pid)
		}
	}
}

func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || len(b) < i+3 || b[i+2] == 'Z' || b[i+2] == 'X'
}

// KillMarked returns only once the processes it killed are gone: a replacement started next finds their ports free.
func TestKillMarkedWaitsForTheKilled(t *testing.T) {
	marker := supervise.Marker("/tmp/killmarked-wait-" + strconv.Itoa(os.Getpid()))
	s := supervise.New(supervise.Options{Marker: marker, BackoffMin: time.Minute})
	defer s.StopAll(context.Background())
	for i := range 20 {
		if err := s.Start(spec(t, "orphan"+strconv.Itoa(i), "ignoreterm")); err != nil {
			t.Fatal(err)
		}
	}
	found := supervise.KillMarked(marker)
	if len(found) != 20 {
		t.Fatalf("found %d", len(found))
	}
	for _, pid := range found {
		if alive(pid) && !zombie(pid) {
			t.Errorf("pid %d still running when KillMarked returned", pid)
		}
	}
}
