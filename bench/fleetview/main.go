package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/herofleet/herofleet/bench/internal/simfleet"
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
	sims := make([]*simfleet.Host, n)
	for i := range sims {
		if sims[i], err = simfleet.NewHost(i, commit, i%10 == 7); err != nil { // one host in ten not healthy
			return err
		}
	}
	dir := filepath.Join(work, "fleet")
	head, err := simfleet.WriteFleet(dir, map[string]string{"fleet.yaml": "name: bench\n", "roles/tester.yaml": "preinstalled: []\n"}, sims)
	if err != nil {
		return err
	}
	for _, s := range sims { // the simulated hosts run the fleet's HEAD
		s.SetCommit(commit, head)
		s.Serve()
	}
	prom, err := simfleet.StartPrometheus(bin, work, dir, "127.0.0.1:19091", n, 5*time.Second)
	if err != nil {
		return err
	}
	defer prom.Stop()
	promURL := prom.URL
	fmt.Printf("%d simulated hosts; load average %s\n", n, simfleet.Loadavg())
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
	fmt.Printf("ratio direct / prometheus (median wall): %.2f; load average %s\n", float64(medians[0])/float64(medians[1]), simfleet.Loadavg())
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
