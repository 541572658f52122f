// Command fleetview benchmarks `herofleet fleet status` on a fleet of simulated testers (default 1,000), each an
// HTTP server on a loopback port of its own answering /api/v1/status and /metrics as an agent's metrics_listen does
// (the example tester's apps; one host in ten with a crashlooping binary). It runs the herofleet binary as a user
// would, in direct mode (every agent asked) and through Debian's Prometheus scraping every simulated host, and
// reports wall time and peak RSS of each, side by side. See bench/README.md.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	hosts := flag.Int("hosts", 1000, "simulated hosts")
	runs := flag.Int("runs", 5, "runs of each mode")
	bin := flag.String("herofleet", "bin/herofleet", "the herofleet binary")
	flag.Parse()
	if err := run(*hosts, *runs, *bin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(n, runs int, bin string) error {
	work, err := os.MkdirTemp("", "fleetview-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	commit := strings.Repeat("5d", 20)
	sims := make([]*simHost, n)
	for i := range sims {
		if sims[i], err = newSimHost(i, commit); err != nil {
			return err
		}
		sims[i].serve()
	}
	dir := filepath.Join(work, "fleet")
	head, err := writeFleet(dir, sims)
	if err != nil {
		return err
	}
	// the simulated hosts run the fleet's HEAD
	for _, s := range sims {
		s.status = bytes.ReplaceAll(s.status, []byte(commit), []byte(head))
		s.expo = bytes.ReplaceAll(s.expo, []byte(commit), []byte(head))
	}
	promURL, stop, err := startPrometheus(bin, work, dir, n)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Printf("%d simulated hosts; load average %s\n", n, loadavg())
	fmt.Printf("%-28s %10s %10s %10s %12s %6s\n", "mode", "min", "median", "max", "peak RSS", "exit")
	var medians []time.Duration
	for _, mode := range []struct {
		name string
		args []string
	}{
		{"direct (32 at once)", nil},
		{"--prometheus (5 queries)", []string{"--prometheus", promURL}},
	} {
		var times []time.Duration
		var rss int64
		code := 0
		for range runs {
			d, r, c, err := timeCommand(bin, append([]string{"fleet", "status", dir, "--format", "json"}, mode.args...)...)
			if err != nil {
				return err
			}
			times, rss, code = append(times, d), max(rss, r), c
		}
		slices.Sort(times)
		medians = append(medians, times[len(times)/2])
		fmt.Printf("%-28s %10s %10s %10s %9.1f MiB %6d\n", mode.name, times[0].Round(time.Millisecond),
			times[len(times)/2].Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond), float64(rss)/1024, code)
	}
	fmt.Printf("ratio direct / prometheus (median wall): %.2f; load average %s\n", float64(medians[0])/float64(medians[1]), loadavg())
	return nil
}

// timeCommand runs herofleet and returns its wall time, peak RSS in KiB and exit code (1 is expected: one host
// in ten is not healthy).
func timeCommand(bin string, args ...string) (time.Duration, int64, int, error) {
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	code := cmd.ProcessState.ExitCode()
	if err != nil && code != 1 {
		return 0, 0, 0, fmt.Errorf("herofleet %v: %v\n%s", args, err, out.String())
	}
	var rep struct{ Hosts []json.RawMessage }
	if json.Unmarshal(out.Bytes(), &rep) != nil {
		return 0, 0, 0, fmt.Errorf("herofleet %v: not a report:\n%.2000s", args, out.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return d, ru.Maxrss, code, nil
}

// writeFleet writes a fleet whose host files point at the simulated agents, commits it and returns HEAD.
func writeFleet(dir string, sims []*simHost) (string, error) {
	files := map[string]string{
		"fleet.yaml":        "name: bench\n",
		"roles/tester.yaml": "preinstalled: []\n",
	}
	for _, s := range sims {
		files["hosts/"+s.name+".yaml"] = fmt.Sprintf("role: tester\naddress: 127.0.0.1\nagent: http://127.0.0.1:%d\n", s.port())
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			return "", err
		}
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "bench"}} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			return "", fmt.Errorf("git %v: %v\n%s", args, err, out)
		}
	}
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	return strings.TrimSpace(string(out)), err
}

// startPrometheus runs Debian's prometheus on `herofleet prometheus config|targets|rules` of the fleet (5s
// scrapes) and waits until it has scraped every host.
func startPrometheus(bin, work, dir string, n int) (string, func(), error) {
	pdir := filepath.Join(work, "prometheus")
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		return "", nil, err
	}
	targets, rules := filepath.Join(pdir, "targets.json"), filepath.Join(pdir, "rules.yml")
	for file, args := range map[string][]string{
		filepath.Join(pdir, "prometheus.yml"): {"prometheus", "config", dir, "--targets-file", targets, "--rules-file", rules, "--scrape-interval", "5s"},
		targets:                               {"prometheus", "targets", dir},
		rules:                                 {"prometheus", "rules"},
	} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			return "", nil, fmt.Errorf("herofleet %v: %w", args, err)
		}
		if err := os.WriteFile(file, out, 0o644); err != nil {
			return "", nil, err
		}
	}
	listen := "127.0.0.1:19091"
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "prometheus", "--config.file="+filepath.Join(pdir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(pdir, "data"), "--web.listen-address="+listen, "--log.level=warn")
	if err := cmd.Start(); err != nil {
		cancel()
		return "", nil, err
	}
	stop := func() { cancel(); _ = cmd.Wait() }
	base := "http://" + listen
	deadline := time.Now().Add(3 * time.Minute)
	for {
		resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(`count(herofleet_host_info)`))
		if err == nil {
			var a struct {
				Data struct{ Result []struct{ Value [2]any } }
			}
			_ = json.NewDecoder(resp.Body).Decode(&a)
			resp.Body.Close()
			if len(a.Data.Result) == 1 && a.Data.Result[0].Value[1] == fmt.Sprint(n) {
				return base, stop, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("prometheus never scraped all %d hosts", n)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
