package supervise_test

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent/supervise"
)

// The test binary doubles as the supervised program: SUPERVISE_CHILD picks its behaviour.
func TestMain(m *testing.M) {
	switch os.Getenv("SUPERVISE_CHILD") {
	case "":
		os.Exit(m.Run())
	case "serve":
		os.Stdout.WriteString("hello from child\n")
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM)
		<-c
		os.Exit(0)
	case "ignoreterm":
		signal.Ignore(syscall.SIGTERM)
		os.Stdout.WriteString("ignoring SIGTERM\n")
		for {
			time.Sleep(time.Hour) // not select{}: with nothing else to run, Go ends that with a deadlock error
		}
	case "exit":
		os.Stderr.WriteString("boom\n")
		os.Exit(3)
	case "chatty": // a line every 10ms until SIGTERM
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM)
		for i := 0; ; i++ {
			select {
			case <-c:
				os.Exit(0)
			case <-time.After(10 * time.Millisecond):
				os.Stdout.WriteString("chatty line " + strconv.Itoa(i) + "\n")
			}
		}
	case "agent":
		previousAgent()
	default:
		childMode(os.Getenv("SUPERVISE_CHILD"))
		os.Exit(99)
	}
}

func spec(t *testing.T, name, mode string) supervise.Spec {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	return supervise.Spec{Name: name, Path: exe, Dir: dir, Log: filepath.Join(dir, name+".log"),
		Env: supervise.Env("/usr/bin:/bin", dir, "C.UTF-8", map[string]string{"SUPERVISE_CHILD": mode})}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func TestStartStopLogsAndEnv(t *testing.T) {
	s := supervise.New(supervise.Options{Marker: supervise.Marker("/tmp/x-test")})
	sp := spec(t, "web", "serve")
	if err := s.Start(sp); err != nil {
		t.Fatal(err)
	}
	st, _ := s.Status("web")
	if st.State != supervise.Running || st.PID == 0 {
		t.Fatalf("status %+v", st)
	}
	waitFor(t, "log line", func() bool { b, _ := os.ReadFile(sp.Log); return strings.Contains(string(b), "hello from child") })
	env, _ := os.ReadFile("/proc/" + itoa(st.PID) + "/environ")
	if strings.Contains(string(env), "GOPATH=") || !strings.Contains(string(env), "HEROFLEET_AGENT_DIR=/tmp/x-test") {
		t.Fatalf("environment is not minimal + marker: %q", env)
	}
	if err := s.Start(sp); err == nil {
		t.Fatal("a second start of one name must fail")
	}
	if err := s.Stop(context.Background(), "web"); err != nil {
		t.Fatal(err)
	}
	if alive(st.PID) {
		t.Fatal("still alive after Stop")
	}
	if len(s.Names()) != 0 {
		t.Fatal("stopped binary still supervised")
	}
}

func TestStopEscalatesToSIGKILL(t *testing.T) {
	s := supervise.New(supervise.Options{Grace: 200 * time.Millisecond})
	sp := spec(t, "stubborn", "ignoreterm")
	if err := s.Start(sp); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "child ready", func() bool { b, _ := os.ReadFile(sp.Log); return strings.Contains(string(b), "ignoring") })
	st, _ := s.Status("stubborn")
	if !alive(st.PID) || st.Restarts != 0 {
		t.Fatalf("the child that ignores SIGTERM is not running before the stop: %+v", st)
	}
	start := time.Now()
	s.StopAll(context.Background())
	if alive(st.PID) {
		t.Fatal("alive after SIGKILL")
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("stopped in %s: the grace period was skipped", d)
	}
}

func TestCrashloop(t *testing.T) {
	s := supervise.New(supervise.Options{BackoffMin: 5 * time.Millisecond, BackoffMax: 40 * time.Millisecond, CrashloopAt: 3})
	defer s.StopAll(context.Background())
	if err := s.Start(spec(t, "crashy", "exit")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "crashloop", func() bool { st, _ := s.Status("crashy"); return st.State == supervise.Crashloop })
	st, _ := s.Status("crashy")
	if st.Restarts < 2 || !strings.Contains(st.Reason, "fast exits") {
		t.Fatalf("status %+v", st)
	}
	// restarts keep coming, at the capped delay
	waitFor(t, "more restarts", func() bool { n, _ := s.Status("crashy"); return n.Restarts >= st.Restarts+2 })
}

func TestKillMarked(t *testing.T) {
	marker := supervise.Marker("/tmp/killmarked-" + itoa(os.Getpid()))
	s := supervise.New(supervise.Options{Marker: marker})
	if err := s.Start(spec(t, "orphan", "ignoreterm")); err != nil {
		t.Fatal(err)
	}
	st, _ := s.Status("orphan")
	found := supervise.KillMarked(marker)
	if len(found) != 1 || found[0] != st.PID {
		t.Fatalf("found %v, want [%d]", found, st.PID)
	}
	waitFor(t, "orphan gone", func() bool { st2, _ := s.Status("orphan"); return st2.Restarts > 0 || !alive(st.PID) })
	s.StopAll(context.Background())
}

func TestLogRotationAndTail(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.log")
	l, err := supervise.OpenLog(p, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		l.Write([]byte("line " + itoa(i) + "\n"))
	}
	l.Close()
	st, _ := os.Stat(p)
	if st.Size() > 100 {
		t.Fatalf("log is %d bytes, cap 100", st.Size())
	}
	tail, err := supervise.Tail(p, 3)
	if err != nil {
		t.Fatal(err)
	}
	if tail != "line 47\nline 48\nline 49\n" {
		t.Fatalf("tail %q", tail)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
