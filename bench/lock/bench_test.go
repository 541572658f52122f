package lockbench

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/herofleet/herofleet/demo"
	"github.com/herofleet/herofleet/examples"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/gitserver"
	"github.com/herofleet/herofleet/internal/source"
)

func TestMain(m *testing.M) {
	if root := os.Getenv("HF_BENCH_FORGE_ROOT"); root != "" {
		os.Exit(serveForge(root))
	}
	os.Exit(m.Run())
}

// serveForge is the forge process: it prints its URL, then answers "count" on stdin with the number of requests
// served since the last count, until stdin closes.
func serveForge(root string) int {
	g, err := gitserver.Start(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer g.Stop()
	fmt.Println(g.URL())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		n := len(g.Requests())
		g.ResetRequests()
		fmt.Println(n)
	}
	return 0
}

// forge is the forge process seen from the benchmark.
type forge struct {
	cmd *exec.Cmd
	url string
	in  *os.File
	out *bufio.Scanner
}

func startForge(tb testing.TB, root string) *forge {
	tb.Helper()
	self, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), "HF_BENCH_FORGE_ROOT="+root)
	cmd.Stderr = os.Stderr
	inR, inW, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdin = inR
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	inR.Close()
	f := &forge{cmd: cmd, in: inW, out: bufio.NewScanner(stdout)}
	if !f.out.Scan() {
		tb.Fatal("forge: no URL")
	}
	f.url = f.out.Text()
	tb.Cleanup(func() { inW.Close(); _ = cmd.Wait() })
	return f
}

// requests is how many requests the forge served since the last call.
func (f *forge) requests(tb testing.TB) int {
	fmt.Fprintln(f.in, "count")
	if !f.out.Scan() {
		tb.Fatal("forge: no count")
	}
	n, err := strconv.Atoi(f.out.Text())
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// cpu is the forge's CPU so far: its own and its waited-for children's (every git http-backend), from
// /proc/<pid>/stat.
func (f *forge) cpu(tb testing.TB) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", f.cmd.Process.Pid))
	if err != nil {
		tb.Fatal(err)
	}
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	var ticks int64
	for _, i := range []int{11, 12, 13, 14} { // utime stime cutime cstime (fields 14-17, 1-based, after the name)
		v, _ := strconv.ParseInt(fields[i], 10, 64)
		ticks += v
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// world is the published example fleet (with its fleet.lock), the forge serving it and a primed clone cache.
type world struct {
	forge    *forge
	fleetURL string
	apps     []fleet.Resolved // the tester role's apps, with their locked commits
	cacheDir string           // every app cloned once: an idle agent has its sources already
	fleetDir string           // the fleet repo cloned once
	rewrite  func(string) string
}

func newWorld(tb testing.TB) *world {
	tb.Helper()
	root := tb.TempDir()
	if _, err := demo.Publish(&gitserver.Server{Root: root}, examples.Hero()); err != nil {
		tb.Fatal(err)
	}
	f, err := fleet.LoadFS(examples.Hero())
	if err != nil {
		tb.Fatal(err)
	}
	d, err := f.ForRole("tester")
	if err != nil {
		tb.Fatal(err)
	}
	w := &world{forge: startForge(tb, root), apps: d.Apps, cacheDir: tb.TempDir(), fleetDir: filepath.Join(tb.TempDir(), "fleet.git")}
	w.fleetURL = w.forge.url + "ops/hero-fleet.git"
	w.rewrite = source.Rewrites{demo.Forge: w.forge.url}.Apply
	ctx := context.Background()
	prime := &source.Cache{Dir: w.cacheDir, Rewrite: w.rewrite}
	for _, app := range w.apps {
		if _, _, err := prime.Resolve(ctx, app.Source.Repo, app.Ref); err != nil {
			tb.Fatal(err)
		}
	}
	repo, err := source.OpenBare(w.fleetDir)
	if err != nil {
		tb.Fatal(err)
	}
	if err := source.Fetch(ctx, repo, w.fleetURL, "+refs/heads/main:refs/heads/main"); err != nil {
		tb.Fatal(err)
	}
	w.forge.requests(tb)
	return w
}

// agent is one simulated idle agent: its own source cache (the listing memo of a round is per agent), the clones
// shared on disk (an idle poll only reads them).
type agent struct {
	w      *world
	locked bool
	cache  *source.Cache
}

// poll is an idle poll: the fleet repo's head against the local clone (no fetch: nothing moved), then every app
// resolved as the agent's resolveStep does.
func (a *agent) poll(ctx context.Context) error {
	refs, err := source.LsRemote(ctx, a.w.fleetURL)
	if err != nil {
		return err
	}
	remote := source.FindRef(refs, "main")
	repo, err := source.OpenBare(a.w.fleetDir)
	if err != nil {
		return err
	}
	local, err := repo.Reference(remote.Name(), true)
	if err != nil || local.Hash() != remote.Hash() {
		return fmt.Errorf("fleet repo moved: an idle poll expected")
	}
	a.cache.NewRound()
	for _, app := range a.w.apps {
		ref := app.Ref
		if a.locked {
			ref = app.Locked
		}
		if _, _, err := a.cache.Resolve(ctx, app.Source.Repo, ref); err != nil {
			return err
		}
	}
	return nil
}

// round has every agent poll once, parallel polls at most; it returns the forge CPU, the agents' CPU and the
// requests the forge served.
func (w *world) round(tb testing.TB, agents []*agent, parallel int) (forgeCPU, agentCPU time.Duration, requests int) {
	tb.Helper()
	f0, a0 := w.forge.cpu(tb), rusageSelf()
	work := make(chan *agent)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range parallel {
		wg.Go(func() {
			for a := range work {
				if err := a.poll(context.Background()); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		})
	}
	for _, a := range agents {
		work <- a
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		tb.Fatal(firstErr)
	}
	return w.forge.cpu(tb) - f0, rusageSelf() - a0, w.forge.requests(tb)
}

func rusageSelf() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestIdlePollCost is the benchmark (a test, for its table): for 10, 100 and 1,000 agents, with and without the
// lock, side by side in one run, the cost of one idle poll at the forge and in the agent. Run it with
// HF_BENCH=1 go test -run IdlePollCost -v -timeout 30m ./bench/lock
func TestIdlePollCost(t *testing.T) {
	if os.Getenv("HF_BENCH") == "" {
		t.Skip("a benchmark: HF_BENCH=1 to run it (minutes of CPU)")
	}
	w := newWorld(t)
	counts := []int{10, 100, 1000}
	if s := os.Getenv("HF_BENCH_AGENTS"); s != "" {
		counts = nil
		for _, f := range strings.Split(s, ",") {
			n, _ := strconv.Atoi(f)
			counts = append(counts, n)
		}
	}
	t.Logf("%-8s %-8s %10s %14s %14s %20s %s", "agents", "lock", "req/poll", "forge ms/poll", "agent ms/poll", "testers/forge core", "wall")
	ratio := map[int][2]float64{}
	for _, n := range counts {
		for _, locked := range []bool{false, true} {
			agents := make([]*agent, n)
			for i := range agents {
				agents[i] = &agent{w: w, locked: locked, cache: &source.Cache{Dir: w.cacheDir, Rewrite: w.rewrite}}
			}
			start := time.Now()
			forgeCPU, agentCPU, req := w.round(t, agents, 4)
			wall := time.Since(start)
			perPoll := forgeCPU.Seconds() * 1000 / float64(n)
			testers := 60 / (forgeCPU.Seconds() / float64(n)) // one poll a minute per tester
			lock := "no"
			if locked {
				lock = "yes"
			}
			r := ratio[n]
			r[map[bool]int{false: 0, true: 1}[locked]] = perPoll
			ratio[n] = r
			t.Logf("%-8d %-8s %10.2f %14.2f %14.2f %20.0f %s", n, lock, float64(req)/float64(n), perPoll,
				agentCPU.Seconds()*1000/float64(n), testers, wall.Round(time.Millisecond))
		}
		t.Logf("%d agents: forge CPU per idle poll without / with the lock = %.1f", n, ratio[n][0]/ratio[n][1])
	}
}

// TestPollSpread: how one minute's polls of 10,000 agents spread with the example fleet's schedule (@every 1m)
// and jitter (20s), drawn as the agent draws its next wait (agent/schedule.go: the schedule's next time, plus a
// uniform jitter in [0, jitter)), agents started at random over the first minute. Then the same for a fleet that
// polls on the minute ("* * * * *"). It reports the busiest second against the average.
func TestPollSpread(t *testing.T) {
	if os.Getenv("HF_BENCH") == "" {
		t.Skip("a benchmark: HF_BENCH=1 to run it")
	}
	f, err := fleet.LoadFS(examples.Hero())
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range []string{f.Meta.Sync.Schedule, "* * * * *"} {
		sched, err := fleet.ParseSchedule(spec)
		if err != nil {
			t.Fatal(err)
		}
		jitter := f.Meta.Sync.Jitter.Duration
		const agents, hour = 10_000, time.Hour
		t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
		perSecond := make([]int, int(hour/time.Second))
		polls := 0
		for range agents {
			now := t0.Add(rand.N(time.Minute))
			for {
				now = sched.Next(now).Add(rand.N(jitter))
				s := int(now.Sub(t0) / time.Second)
				if s >= len(perSecond) {
					break
				}
				perSecond[s]++
				polls++
			}
		}
		// Skip the first ten minutes: agents' starts, not the schedule, shape them.
		busiest, sum, n := 0, 0, 0
		for _, c := range perSecond[600:] {
			busiest = max(busiest, c)
			sum += c
			n++
		}
		avg := float64(sum) / float64(n)
		t.Logf("schedule %-12q jitter %s: %d agents poll %.0f times a second on average, %d in the busiest second (%.1fx); one poll every %.1f s per agent",
			spec, jitter, agents, avg, busiest, float64(busiest)/avg, float64(agents)/avg)
	}
}
