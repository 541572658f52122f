package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/pprof"
	"slices"
	"syscall"
	"time"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/promapi"
	"github.com/herofleet/herofleet/rollout"
)

// pollResult is what one -poll child reports: the cost of its polls, and the last verdict.
type pollResult struct {
	Mode    string          `json:"mode"`
	Host    string          `json:"host"`
	Wave    string          `json:"wave"`
	Polls   int             `json:"polls"`
	Queries int             `json:"queries_per_poll"`
	Walls   []time.Duration `json:"walls"`
	CPU     time.Duration   `json:"cpu"` // user+system of the polls
	Hold    bool            `json:"hold"`
	Reason  string          `json:"reason"`
	WaveOf  time.Duration   `json:"wave_of"` // one Fleet.WaveOf
}

// runPolls is the child: it loads the fleet at HEAD of dir once (an agent has it loaded), then polls as a host of
// the last wave holding HEAD would, in one of these modes:
//
//	gate        the agent's own rollout step: WaveOf, and rollout.Gate's seven queries about the earlier waves' hosts
//	gate-early  the same, as a host of the second wave (asking about the canary alone)
//	whole       the same seven queries about every host of the fleet (what rollout status asks)
//	per-host    the seven queries asked of each host of the earlier waves in turn
func runPolls(dir, mode string, polls int, profile string) error {
	f, err := fleet.LoadRevision(dir, "HEAD")
	if err != nil {
		return err
	}
	waves := f.Waves()
	asker := waves[len(waves)-1]
	if mode == "gate-early" {
		asker = waves[1]
	}
	res := pollResult{Mode: mode, Host: asker.Hosts[0], Wave: asker.Name, Polls: polls, Queries: 7}
	poll := func() rollout.Verdict {
		k, _ := f.WaveOf(res.Host)
		var v rollout.Verdict
		var err error
		switch mode {
		case "gate", "gate-early":
			return rollout.Gate(context.Background(), f, k)
		case "whole":
			v, err = ask(f, k, [][]string{nil})
		default:
			var each [][]string
			for _, w := range f.Waves()[:k] {
				for _, h := range w.Hosts {
					each = append(each, []string{h})
				}
			}
			res.Queries = 7 * len(each)
			v, err = ask(f, k, each)
		}
		if err != nil {
			return rollout.Verdict{Hold: true, Reason: err.Error()}
		}
		return v
	}
	poll() // warm: connections, the first allocation of maps
	if profile != "" {
		out, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			return err
		}
	}
	before := cpuNow()
	var v rollout.Verdict
	for range polls {
		start := time.Now()
		v = poll()
		res.Walls = append(res.Walls, time.Since(start))
	}
	res.CPU = cpuNow() - before
	pprof.StopCPUProfile()
	res.Hold, res.Reason = v.Hold, v.Reason
	slices.Sort(res.Walls)
	return json.NewEncoder(os.Stdout).Encode(res)
}

// ask asks the gate's seven queries once for each host set of sets (nil: every host), joins the answers and
// judges them as the gate does.
func ask(f *fleet.Fleet, k int, sets [][]string) (rollout.Verdict, error) {
	bake := f.Meta.Rollout.BakeOrDefault()
	c, err := promapi.New(f.Meta.Rollout.Health.Prometheus, rollout.ObserveTimeout)
	if err != nil {
		return rollout.Verdict{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), rollout.ObserveTimeout)
	defer cancel()
	scrapes, err := c.Scrapes(ctx)
	if err != nil {
		return rollout.Verdict{}, fmt.Errorf("no answer from Prometheus: %w", err)
	}
	answers := make([][]promapi.Sample, 7)
	for _, only := range sets {
		got, err := rollout.Ask(ctx, c, bake, f.Commit, only)
		if err != nil {
			return rollout.Verdict{}, err
		}
		for i := range got {
			answers[i] = append(answers[i], got[i]...)
		}
	}
	return rollout.JudgeWave(f, k, f.Commit, rollout.Decode(bake, scrapes, answers)), nil
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
