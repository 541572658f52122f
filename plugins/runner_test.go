package plugins_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herofleet/herofleet/plugins"
)

func call(plugin string) plugins.Call {
	return plugins.Call{
		Plugin: plugin, Event: "post-start", App: "books", Rev: "0123456789abcdef0123456789abcdef01234567",
		Binaries: []string{"hero_books_server"}, Host: "tester-07", Address: "[4a5::7]",
		DataDir: "/var/lib/herofleet/data/books", Sockets: "/var/lib/herofleet/run",
		Uses: map[string]string{"voice": "http://[4a5::1]:9300/"},
		With: map[string]any{"libraries": []string{"a", "b"}, "count": 4},
	}
}

func TestRunSuccess(t *testing.T) {
	r, logs := newRunner(t)
	res, err := r.Run(context.Background(), call("ok"))
	if err != nil {
		t.Fatal(err)
	}
	want := "post-start books /var/lib/herofleet/data/books with=map[count:4 libraries:[a b]] uses=map[voice:http://[4a5::1]:9300/]"
	if len(res.Messages) != 1 || res.Messages[0] != want {
		t.Errorf("messages = %q, want [%q]", res.Messages, want)
	}
	if res.Env["GREETING"] != "hello books" {
		t.Errorf("env = %v", res.Env)
	}
	// The connection is mutually authenticated TLS, on protocol version 1 over gRPC.
	for _, s := range []string{"configuring client automatic mTLS", "protocol=1"} {
		if len(logs.lines(s)) == 0 {
			t.Errorf("log has no %q line:\n%s", s, logs)
		}
	}
	// The plugin's structured log and its raw stderr land in the agent's log under its name.
	for _, s := range []string{"running", "a raw stderr line"} {
		if l := logs.lines(s); len(l) == 0 || !strings.Contains(l[0], "plugin=ok") {
			t.Errorf("log has no %q line under plugin=ok:\n%s", s, logs)
		}
	}
	assertNoChildren(t)
}

func TestRunFailures(t *testing.T) {
	tests := []struct {
		plugin  string
		event   string
		timeout time.Duration
		kind    error
		msg     string
		within  time.Duration
	}{
		{plugin: "fail", kind: plugins.ErrHookFailed, msg: "the library server said no"},
		{plugin: "hang", timeout: 700 * time.Millisecond, kind: plugins.ErrTimeout, msg: "did not answer within 700ms", within: 5 * time.Second},
		{plugin: "crash", kind: plugins.ErrCrashed, msg: "run"},
		{plugin: "badenv", kind: plugins.ErrBadAnswer, msg: "LD_PRELOAD is reserved"},
		{plugin: "huge", kind: plugins.ErrBadAnswer, msg: "run answer larger than 1048576 bytes"},
		{plugin: "ok", event: "pre-remove", kind: plugins.ErrUnsupported, msg: "not pre-remove"},
		{plugin: "noisy", kind: plugins.ErrHandshake, msg: "wrote to stdout before its handshake: \"hello from a plugin", within: 5 * time.Second},
		{plugin: "noisy-nonl", kind: plugins.ErrHandshake, msg: "wrote to stdout before its handshake", within: 5 * time.Second},
		{plugin: "silent", kind: plugins.ErrTimeout, msg: "did not complete its handshake within 1s", within: 5 * time.Second},
		{plugin: "exit", kind: plugins.ErrHandshake, msg: "exited or closed its stdout before its handshake"},
		{plugin: "future", kind: plugins.ErrHandshake, msg: "speaks another protocol version"},
		{plugin: "nosuch", kind: plugins.ErrNotFound, msg: "no executable herofleet-plugin-nosuch in"},
	}
	for _, tt := range tests {
		t.Run(tt.plugin+tt.event, func(t *testing.T) {
			r, _ := newRunner(t)
			r.StartTimeout = time.Second
			c := call(tt.plugin)
			c.Timeout = tt.timeout
			if tt.event != "" {
				c.Event = tt.event
			}
			began := time.Now()
			_, err := r.Run(context.Background(), c)
			took := time.Since(began)
			if !errors.Is(err, tt.kind) {
				t.Fatalf("err = %v, want kind %v", err, tt.kind)
			}
			var he *plugins.Error
			if !errors.As(err, &he) || he.Plugin != tt.plugin {
				t.Errorf("err %v is not a *plugins.Error for %s", err, tt.plugin)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %q, want it to contain %q", err, tt.msg)
			}
			if tt.within > 0 && took > tt.within {
				t.Errorf("took %s, want under %s", took, tt.within)
			}
			assertNoChildren(t)
		})
	}
}

func TestRunLogsStderrOfFailedStart(t *testing.T) {
	r, logs := newRunner(t)
	r.Logger = slog.New(slog.NewTextHandler(logs, nil)) // info level, as an agent runs
	if _, err := r.Run(context.Background(), call("exit")); err == nil {
		t.Fatal("no error")
	}
	if l := logs.lines("giving up before the handshake"); len(l) != 1 || !strings.Contains(l[0], "plugin=exit") {
		t.Errorf("stderr of a plugin that failed to start is not in the info log:\n%s", logs)
	}
}

func TestRunFailureKeepsMessages(t *testing.T) {
	r, logs := newRunner(t)
	res, err := r.Run(context.Background(), call("fail"))
	if err == nil || res == nil || len(res.Messages) != 1 || res.Messages[0] != "tried" {
		t.Fatalf("res = %+v, err = %v; want the plugin's message kept with the error", res, err)
	}
	want := "hook fail (post-start) of app books: hook failed: the library server said no"
	if err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	if l := logs.lines("msg=tried"); len(l) != 1 || !strings.Contains(l[0], "level=INFO") {
		t.Errorf("the failed hook's message is not logged at info:\n%s", logs)
	}
}

func TestRunBoundsMessages(t *testing.T) {
	r, _ := newRunner(t)
	res, err := r.Run(context.Background(), call("spam"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Messages) != plugins.MaxMessages+1 {
		t.Fatalf("%d messages, want %d", len(res.Messages), plugins.MaxMessages+1)
	}
	for _, m := range res.Messages {
		if len(m) > plugins.MaxMessageLen+len("…") || strings.ContainsAny(m, "\n\x1b") {
			t.Fatalf("message not bounded or cleaned: %q…", m[:40])
		}
	}
	if last := res.Messages[plugins.MaxMessages]; last != "(900 more messages dropped)" {
		t.Errorf("last message = %q", last)
	}
}

func TestRunPins(t *testing.T) {
	needPlugins(t)
	sum := fileSHA256(t, filepath.Join(pluginDir, plugins.ExecutablePrefix+"ok"))
	r, _ := newRunner(t)

	c := call("ok")
	c.SHA256 = sum
	if _, err := r.Run(context.Background(), c); err != nil {
		t.Fatalf("matching pin: %v", err)
	}

	c.SHA256 = strings.Repeat("0", 64)
	_, err := r.Run(context.Background(), c)
	if !errors.Is(err, plugins.ErrPinMismatch) || !strings.Contains(err.Error(), "rebuild or re-pin") {
		t.Fatalf("wrong pin: err = %v, want ErrPinMismatch", err)
	}

	c.SHA256 = "not-a-sum"
	if _, err := r.Run(context.Background(), c); !errors.Is(err, plugins.ErrPinMismatch) {
		t.Fatalf("malformed pin: err = %v, want ErrPinMismatch", err)
	}
	assertNoChildren(t)
}

func TestRunKillsProcessGroup(t *testing.T) {
	r, _ := newRunner(t)
	res, err := r.Run(context.Background(), call("spawn"))
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmtSscan(strings.TrimPrefix(res.Messages[0], "spawned "), &pid); err != nil || pid == 0 {
		t.Fatalf("no pid in %q", res.Messages)
	}
	deadline := time.Now().Add(3 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("grandchild %d outlived its plugin", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRunCancelled(t *testing.T) {
	r, _ := newRunner(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := r.Run(ctx, call("hang"))
		done <- err
	}()
	// Cancel once the plugin is up: poll for the child process rather than sleeping.
	deadline := time.Now().Add(10 * time.Second)
	for len(children()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
	assertNoChildren(t)
}

func TestInfo(t *testing.T) {
	r, _ := newRunner(t)
	info, err := r.Info(context.Background(), "seed-git", "")
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "seed-git" || len(info.Events) == 0 || filepath.Dir(info.Path) != pluginDir {
		t.Errorf("info = %+v", info)
	}
	assertNoChildren(t)
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func alive(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", itoa(pid), "stat"))
	if err != nil {
		return false
	}
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] != "Z"
}

// TestPluginDiesWithAgent kills an agent with SIGKILL in the middle of a hook: its plugin must not survive it.
func TestPluginDiesWithAgent(t *testing.T) {
	needPlugins(t)
	agent := exec.Command(os.Args[0], "-test.run=^$")
	agent.Env = append(os.Environ(), "HEROFLEET_TEST_AGENT_PLUGINS="+pluginDir)
	out, err := agent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(io.LimitReader(out, 1024))
		sc.Scan()
		line <- sc.Text()
	}()
	var pid int
	select {
	case l := <-line:
		pid, err = strconv.Atoi(l)
		if err != nil {
			agent.Process.Kill()
			t.Fatalf("agent printed %q, not a pid", l)
		}
	case <-time.After(20 * time.Second):
		agent.Process.Kill()
		t.Fatal("the agent did not start its plugin")
	}
	if !alive(pid) {
		t.Fatalf("plugin %d is not running before the agent is killed", pid)
	}
	if err := agent.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = agent.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("plugin %d outlived its agent", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRunConcurrent(t *testing.T) {
	r, _ := newRunner(t)
	errs := make(chan error, 4)
	for i := range 4 {
		go func() {
			c := call("ok")
			c.App = "app" + strconv.Itoa(i)
			res, err := r.Run(context.Background(), c)
			if err == nil && res.Env["GREETING"] != "hello "+c.App {
				err = errors.New("answer for the wrong call: " + res.Env["GREETING"])
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	assertNoChildren(t)
}

// BenchmarkRun measures one whole hook call: find, start, handshake (AutoMTLS), Info, Run, kill.
func BenchmarkRun(b *testing.B) {
	needPlugins(b)
	r := &plugins.Runner{Dirs: []string{pluginDir}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for b.Loop() {
		if _, err := r.Run(context.Background(), call("ok")); err != nil {
			b.Fatal(err)
		}
	}
}
