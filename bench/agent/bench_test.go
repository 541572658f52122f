package agentbench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/agent/cockpit"
	"github.com/herofleet/herofleet/agent/supervise"
	"github.com/herofleet/herofleet/internal/gitserver"
	"github.com/herofleet/herofleet/plugins"
)

var testapp string

func TestMain(m *testing.M) {
	if cfg := os.Getenv("HF_BENCH_AGENT_CONFIG"); cfg != "" {
		os.Exit(childAgent(cfg))
	}
	dir, _ := os.MkdirTemp("/tmp", "hfb")
	testapp = filepath.Join(dir, "testapp")
	if out, err := exec.Command("go", "build", "-o", testapp, "../../agent/testdata/testapp").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build testapp: %v\n%s", err, out)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// childAgent is an agent in a process of its own, for the RSS figure.
func childAgent(path string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	cfg, err := agent.LoadConfig(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	// the example fleet's apps have hooks (seed-git, config-file): the plugins the benchmark built into <dir>/plugins
	runner := &plugins.Runner{Dirs: plugins.Dirs(cfg.PluginsDir, cfg.Dir), Logger: slog.New(slog.DiscardHandler)}
	a, err := agent.New(cfg, slog.New(slog.DiscardHandler), runner)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	go cockpit.NewAPI(a, "").Serve(ctx, ln)
	if err := a.Run(ctx); err != nil {
		return 1
	}
	return 0
}

// setup is a git server with one app of two binaries (on unix sockets) and an in-process agent that applied it.
type setup struct {
	git   *gitserver.Server
	dir   string
	a     *agent.Agent
	books string // the app's commit
}

func fleetFiles(args string) gitserver.Files {
	app := fmt.Sprintf(`source: {repo: https://forge.test/apps/books.git}
build: {command: [%q, build, target/release/books_server, target/release/books_web]}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/s.sock", --flavour, %q], listen: "unix://${sockets}/s.sock", health: /health}
  - {name: books_web, kind: web, path: target/release/books_web, args: [--listen, "unix://${sockets}/w.sock", --flavour, %q], listen: "unix://${sockets}/w.sock", health: /health}
`, testapp, args, args)
	return gitserver.Text(map[string]string{
		"fleet.yaml":        "name: bench\n",
		"roles/tester.yaml": "preinstalled: [books]\n",
		"apps/books.yaml":   app,
	})
}

func newSetup(tb testing.TB) *setup { return newSetupOf(tb, fleetFiles("v0")) }

// newSetupOf is newSetup with the fleet's first commit of files.
func newSetupOf(tb testing.TB, files gitserver.Files) *setup {
	g, err := gitserver.Start(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(g.Stop)
	dir, _ := os.MkdirTemp("/tmp", "hfb")
	tb.Cleanup(func() { supervise.KillMarked(supervise.Marker(dir)); os.RemoveAll(dir) })
	books, err := g.Commit("apps/books", "main", "books", gitserver.Text(map[string]string{"README": "books"}))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := g.Commit("ops/fleet", "main", "fleet", files); err != nil {
		tb.Fatal(err)
	}
	cfg, err := agent.ParseConfig([]byte(fmt.Sprintf("fleet: {repo: %q}\nhost: b\nrole: tester\ndir: %s\nrewrite: {\"https://forge.test/\": %q}\nschedule: \"@every 1h\"\nstop_grace: 2s\n",
		g.RepoURL("ops/fleet"), dir, g.URL())))
	if err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("HF_BENCH_LOG") != "" { // HF_BENCH_LOG=1: the agent's log with timestamps, to see where time goes
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	a, err := agent.New(cfg, log, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := a.SyncNow(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return &setup{git: g, dir: dir, a: a, books: books}
}

func getUnix(sock string) (string, error) {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
	resp, err := c.Get("http://x/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// BenchmarkArgsChangeConverge: commit new args to the fleet repo, trigger a sync (as POST /api/v1/sync does), and
// wait until both binaries answer with the new args. No rebuild is involved.
func BenchmarkArgsChangeConverge(b *testing.B) {
	s := newSetup(b)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.a.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	var times []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		flavour := fmt.Sprintf("v%d", i+1)
		start := time.Now()
		if _, err := s.git.Commit("ops/fleet", "main", "args "+flavour, fleetFiles(flavour)); err != nil {
			b.Fatal(err)
		}
		s.a.Sync()
		deadline := start.Add(30 * time.Second)
		for {
			w, _ := getUnix(filepath.Join(s.dir, "run", "w.sock"))
			v, _ := getUnix(filepath.Join(s.dir, "run", "s.sock"))
			if strings.Contains(w, "--flavour "+flavour) && strings.Contains(v, "--flavour "+flavour) {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("not converged on %s", flavour)
			}
			time.Sleep(2 * time.Millisecond)
		}
		times = append(times, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Milliseconds()), "median-ms")
	b.ReportMetric(float64(times[len(times)-1].Milliseconds()), "max-ms")
}

// BenchmarkNoopPoll: one sync that finds nothing new (ls-remote of the fleet repo and of the app repo, nothing
// fetched, nothing restarted). cpu-ms/op is the agent process's own user+sys time; git-ms/op is the git
// http-backend processes serving it (the forge's cost, not the agent's).
func BenchmarkNoopPoll(b *testing.B) {
	s := newSetup(b)
	defer s.a.SyncNow(context.Background())
	noopPolls(b, s)
}

// BenchmarkNoopPollLocked is BenchmarkNoopPoll with fleet.lock in the fleet: the app is resolved at its locked
// commit, so the poll asks the forge one ref list, not two. requests/op is counted at the forge.
func BenchmarkNoopPollLocked(b *testing.B) {
	s := newSetup(b)
	files := fleetFiles("v0")
	files["fleet.lock"] = gitserver.File{Data: []byte("books main " + s.books + "\n")}
	if _, err := s.git.Commit("ops/fleet", "main", "lock", files); err != nil {
		b.Fatal(err)
	}
	if err := s.a.SyncNow(context.Background()); err != nil {
		b.Fatal(err)
	}
	noopPolls(b, s)
}

// noopPolls times b.N idle polls: the agent's CPU, the forge's git processes' CPU and the forge's requests.
func noopPolls(b *testing.B, s *setup) {
	s.git.ResetRequests()
	self0, kids0 := rusage(syscall.RUSAGE_SELF), rusage(syscall.RUSAGE_CHILDREN)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.a.SyncNow(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	self, kids := rusage(syscall.RUSAGE_SELF)-self0, rusage(syscall.RUSAGE_CHILDREN)-kids0
	b.ReportMetric(float64(self.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(kids.Microseconds())/1000/float64(b.N), "git-ms/op")
	b.ReportMetric(float64(len(s.git.Requests()))/float64(b.N), "requests/op")
}

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(who, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
