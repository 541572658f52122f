package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/herofleet/herofleet/bench/internal/simfleet"
)

func main() {
	hosts := flag.Int("hosts", 1000, "simulated hosts")
	polls := flag.Int("polls", 40, "polls of gate, whole and gate-early")
	perHostPolls := flag.Int("per-host-polls", 4, "polls of per-host (each asks 7 queries per host of the earlier waves)")
	runs := flag.Int("runs", 5, "runs of herofleet rollout status")
	bin := flag.String("herofleet", "bin/herofleet", "the herofleet binary")
	pollDir := flag.String("poll", "", "(child) poll as a host of the last wave of the fleet repo in this directory")
	mode := flag.String("mode", "gate", "(child) gate, whole, per-host or gate-early")
	profile := flag.String("cpuprofile", "", "write a CPU profile of each mode's polls to `FILE`.MODE")
	settle := flag.Duration("settle", 0, "let Prometheus scrape this long before measuring (a whole bake: the gate reads the bake's samples)")
	flag.Parse()
	var err error
	if *pollDir != "" {
		err = runPolls(*pollDir, *mode, *polls, *profile)
	} else {
		err = run(*hosts, map[string]int{"gate": *polls, "whole": *polls, "per-host": *perHostPolls, "gate-early": *polls}, *runs, *bin, *profile, *settle)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

const listen = "127.0.0.1:19092"

// fleetYAML rolls out in the product's three waves: one canary, a quarter of the rest, then every host left.
const fleetYAML = `name: bench
rollout:
  waves:
    - {name: canary, hosts: [tester-0007]}
    - {name: early, percent: 25}
    - {name: rest}
  bake: 10m
  health: {prometheus: "http://` + listen + `"}
`

func run(n int, polls map[string]int, runs int, bin, profile string, settle time.Duration) error {
	work, err := os.MkdirTemp("", "rollout-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	commit := strings.Repeat("5d", 20)
	sims := make([]*simfleet.Host, n)
	for i := range sims {
		if sims[i], err = simfleet.NewHost(i, commit, false); err != nil {
			return err
		}
	}
	dir := filepath.Join(work, "fleet")
	head, err := simfleet.WriteFleet(dir, map[string]string{"fleet.yaml": fleetYAML, "roles/tester.yaml": "preinstalled: []\n"}, sims)
	if err != nil {
		return err
	}
	for _, s := range sims { // every host applied HEAD an hour ago and is healthy: the last wave may go
		s.SetCommit(commit, head)
		s.Serve()
	}
	prom, err := simfleet.StartPrometheus(bin, work, dir, listen, n, 15*time.Second)
	if err != nil {
		return err
	}
	defer prom.Stop()
	time.Sleep(settle) // a benchmark waiting for Prometheus to hold a whole bake of samples
	idle, err := promCPURate(prom, 30*time.Second)
	if err != nil {
		return err
	}
	fmt.Printf("%d simulated hosts, waves canary 1 / early 25%% / rest, 15s scrapes; Prometheus idle (scraping) %.1f ms CPU/s; load average %s\n",
		n, idle*1000, simfleet.Loadavg())
	fmt.Printf("%-10s %8s %10s %10s %10s %10s %12s %12s %12s  %s\n", "mode", "queries", "wall min", "median", "max",
		"CPU/poll", "prom bytes", "prom query", "prom CPU", "verdict")
	var medians, cpus []time.Duration
	for _, mode := range []string{"gate", "whole", "per-host", "gate-early"} {
		res, pm, err := measure(prom, dir, mode, polls[mode], idle, profile)
		if err != nil {
			return err
		}
		med := res.Walls[len(res.Walls)/2]
		medians, cpus = append(medians, med), append(cpus, res.CPU/time.Duration(res.Polls))
		verdict := "go"
		if res.Hold {
			verdict = "hold: " + res.Reason
		}
		fmt.Printf("%-10s %8d %10s %10s %10s %10s %10.0f B %9.1f ms %9.1f ms  %s (%s of wave %s)\n",
			mode, res.Queries, ms(res.Walls[0]), ms(med), ms(res.Walls[len(res.Walls)-1]), ms(res.CPU/time.Duration(res.Polls)),
			pm.bytes, pm.handler*1000, pm.cpu*1000, verdict, res.Host, res.Wave)
	}
	fmt.Printf("ratio to the gate: whole wall %.1f CPU %.1f, per-host wall %.1f CPU %.1f; load average %s\n",
		float64(medians[1])/float64(medians[0]), float64(cpus[1])/float64(cpus[0]),
		float64(medians[2])/float64(medians[0]), float64(cpus[2])/float64(cpus[0]), simfleet.Loadavg())
	return statusRuns(bin, dir, runs)
}

// promCost is what Prometheus spent on one poll: the bytes its query endpoint answered, the time its handler took
// (both from its own metrics), and its CPU beyond what it spends scraping when nobody asks (from /proc).
type promCost struct{ bytes, handler, cpu float64 }

// measure runs a -poll child and returns its report and Prometheus' cost per poll.
func measure(prom *simfleet.Prometheus, dir, mode string, polls int, idle float64, profile string) (pollResult, promCost, error) {
	self, err := os.Executable()
	if err != nil {
		return pollResult{}, promCost{}, err
	}
	b0, h0, err := promQueryTotals(prom)
	if err != nil {
		return pollResult{}, promCost{}, err
	}
	c0, start := procCPU(prom.Pid()), time.Now()
	args := []string{"-poll", dir, "-mode", mode, "-polls", fmt.Sprint(polls)}
	if profile != "" {
		args = append(args, "-cpuprofile", profile+"."+mode)
	}
	cmd := exec.Command(self, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return pollResult{}, promCost{}, fmt.Errorf("poll %s: %v\n%s", mode, err, errb.String())
	}
	c1, wall := procCPU(prom.Pid()), time.Since(start).Seconds()
	b1, h1, err := promQueryTotals(prom)
	if err != nil {
		return pollResult{}, promCost{}, err
	}
	var res pollResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return pollResult{}, promCost{}, fmt.Errorf("poll %s: %v\n%s", mode, err, out.String())
	}
	k := float64(polls + 1) // the warm-up poll asked too
	return res, promCost{bytes: (b1 - b0) / k, handler: (h1 - h0) / k, cpu: max(0, c1-c0-idle*wall) / k}, nil
}

// statusRuns times `herofleet rollout status DIR --format json` as a user runs it: wall and peak RSS.
func statusRuns(bin, dir string, runs int) error {
	var walls []time.Duration
	var rss int64
	code := 0
	for range runs {
		cmd := exec.Command(bin, "rollout", "status", dir, "--format", "json")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		err := cmd.Run()
		walls = append(walls, time.Since(start))
		code = cmd.ProcessState.ExitCode()
		if err != nil && code != 1 {
			return fmt.Errorf("herofleet rollout status: %v\n%s", err, out.String())
		}
		rss = max(rss, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)
	}
	sortDurations(walls)
	fmt.Printf("herofleet rollout status, %d runs: wall min %s median %s max %s, peak RSS %.1f MiB, exit %d; load average %s\n",
		runs, ms(walls[0]), ms(walls[len(walls)/2]), ms(walls[len(walls)-1]), float64(rss)/1024, code, simfleet.Loadavg())
	return nil
}
