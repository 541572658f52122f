package plugins_test

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herofleet/herofleet/plugins"
)

// pluginDir holds the shipped plugins and the test plugin under every name it answers to, built once per run.
var pluginDir string

var testPluginNames = []string{"ok", "fail", "hang", "crash", "spawn", "badenv", "spam", "huge", "noisy", "noisy-nonl", "silent", "exit", "future"}

func TestMain(m *testing.M) {
	if dir := os.Getenv("HEROFLEET_TEST_AGENT_PLUGINS"); dir != "" {
		agentThatHangs(dir)
		return
	}
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run()) // no plugin processes: the tests that need them skip
	}
	dir, err := os.MkdirTemp("", "hfplugins-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := 2
	if err := buildPlugins(dir); err != nil {
		fmt.Fprintln(os.Stderr, "building test plugins:", err)
	} else {
		pluginDir = dir
		code = m.Run()
		if code == 0 {
			if left := waitNoChildren(5 * time.Second); len(left) > 0 {
				fmt.Fprintf(os.Stderr, "plugin processes outlived the tests: %v\n", left)
				code = 1
			}
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// agentThatHangs plays an agent for TestPluginDiesWithAgent: it runs the hang plugin, prints the plugin's pid and
// blocks until it is killed.
func agentThatHangs(dir string) {
	r := &plugins.Runner{Dirs: []string{dir}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	go r.Run(context.Background(), plugins.Call{Plugin: "hang", Event: "pre-start", App: "x", Timeout: time.Hour})
	for {
		if kids := children(); len(kids) > 0 {
			fmt.Println(strings.Fields(kids[0])[0])
			select {}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func buildPlugins(dir string) error {
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(gobin, "build", "-o", dir+string(filepath.Separator),
		"../cmd/herofleet-plugin-seed-git", "../cmd/herofleet-plugin-config-file", "./testdata/testplugin")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return err
	}
	for _, name := range testPluginNames {
		if err := os.Link(filepath.Join(dir, "testplugin"), filepath.Join(dir, plugins.ExecutablePrefix+name)); err != nil {
			return err
		}
	}
	return nil
}

// children lists the live processes whose parent is this test process, from /proc.
func children() []string {
	self := os.Getpid()
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces, so split after the last ')'.
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) < 2 {
			continue
		}
		if ppid, _ := strconv.Atoi(fields[1]); ppid == self {
			out = append(out, fmt.Sprintf("%d %s", pid, s[:strings.LastIndexByte(s, ')')+1]))
		}
	}
	return out
}

func waitNoChildren(d time.Duration) []string {
	deadline := time.Now().Add(d)
	for {
		left := children()
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// assertNoChildren fails the test if a plugin process is still alive shortly after the call returned.
func assertNoChildren(t *testing.T) {
	t.Helper()
	if left := waitNoChildren(3 * time.Second); len(left) > 0 {
		t.Fatalf("plugin processes left running: %v", left)
	}
}

// logBuffer is a concurrency-safe log sink for the agent's logger.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) lines(substr string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	for sc.Scan() {
		if strings.Contains(sc.Text(), substr) {
			out = append(out, sc.Text())
		}
	}
	return out
}

// needPlugins skips a test that runs plugin processes in -short mode.
func needPlugins(tb testing.TB) {
	tb.Helper()
	if pluginDir == "" {
		tb.Skip("-short: no plugin processes")
	}
}

func newRunner(t *testing.T) (*plugins.Runner, *logBuffer) {
	t.Helper()
	needPlugins(t)
	logs := &logBuffer{}
	r := &plugins.Runner{
		Dirs:         []string{filepath.Join(t.TempDir(), "missing"), pluginDir},
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		StartTimeout: 10 * time.Second,
		CallTimeout:  20 * time.Second,
	}
	return r, logs
}

func itoa(i int) string { return strconv.Itoa(i) }

func fmtSscan(s string, v *int) (int, error) { return fmt.Sscan(s, v) }
