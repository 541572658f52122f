package rollout

import (
	"fmt"
	"strings"
	"time"

	"github.com/herofleet/herofleet/fleet"
)

// Verdict is whether a wave's hosts may apply a commit now.
type Verdict struct {
	Wave     int    // the wave judged
	WaveName string // its name
	Hold     bool
	Reason   string        // when held: the earlier wave and what it waits for, for a person
	Left     time.Duration // when held only by the bake: how long until it is done
}

// Check is one host of an earlier wave that is not done with a commit, and why.
type Check struct {
	Host string
	Why  string
	rank int           // how bad: a failing host is told before one that is still baking
	left time.Duration // baking: the bake left
}

// Checks lists what keeps each host of hosts from being done with commit: healthy on it for the bake.
func Checks(hosts []string, commit string, obs Observation) []Check {
	var out []Check
	short := fleet.ShortCommit(commit)
	for _, h := range hosts {
		f := obs.Hosts[h]
		switch {
		case f == nil:
			out = append(out, Check{Host: h, rank: 1, Why: "Prometheus has no herofleet agent reporting host " + h})
		case !f.Scraped:
			out = append(out, Check{Host: h, rank: 1, Why: fmt.Sprintf("%s: Prometheus has no current health of it (not scraped, or its agent is down)", h)})
		case f.Commit != commit:
			why := fmt.Sprintf("%s has not applied %s yet", h, short)
			if f.Commit != "" {
				why = fmt.Sprintf("%s has not applied %s yet (it runs %s, fleet state %s)", h, short, fleet.ShortCommit(f.Commit), f.State)
			}
			out = append(out, Check{Host: h, rank: 2, Why: why})
		case !f.Healthy || len(f.Problems) > 0:
			why := fmt.Sprintf("%s not healthy on %s", h, short)
			if len(f.Problems) > 0 {
				why += ": " + strings.Join(f.Problems, ", ")
			}
			out = append(out, Check{Host: h, rank: 0, Why: why})
		case f.Since < obs.Bake:
			left := obs.Bake - f.Since
			why := fmt.Sprintf("%s healthy on %s for %s of the %s bake", h, short, f.Since.Round(time.Second), obs.Bake)
			if f.BakeWhy != "" {
				why += ": " + f.BakeWhy
			}
			out = append(out, Check{Host: h, rank: 3, left: left, Why: why})
		case !f.Baked:
			why := fmt.Sprintf("%s was not healthy at every sample of the last %s on %s", h, obs.Bake, short)
			if f.BakeWhy != "" {
				why = fmt.Sprintf("%s on %s: %s", h, short, f.BakeWhy)
			}
			out = append(out, Check{Host: h, rank: 0, Why: why})
		}
	}
	return out
}

// JudgeWave says whether the hosts of wave k of f may apply commit: wave 0 at once, a later one once every host
// of every earlier wave is done with it. The reason names the first earlier wave not done and its worst host.
func JudgeWave(f *fleet.Fleet, k int, commit string, obs Observation) Verdict {
	waves := f.Waves()
	v := Verdict{Wave: k, WaveName: waves[k].Name}
	for _, w := range waves[:k] {
		if len(w.Hosts) == 0 {
			// An empty wave proves nothing: no host of it was ever healthy on the commit (validate refuses such
			// waves; a fleet that slipped past it still holds here rather than skip a wave).
			v.Hold = true
			v.Reason = fmt.Sprintf("wave %s: it places no host, so nothing shows %s healthy (name its hosts, or add their host files)",
				w.Name, fleet.ShortCommit(commit))
			return v
		}
		checks := Checks(w.Hosts, commit, obs)
		if len(checks) == 0 {
			continue
		}
		worst := checks[0]
		var left time.Duration
		baking := true
		for _, c := range checks {
			if c.rank < worst.rank {
				worst = c
			}
			baking = baking && c.rank == 3
			left = max(left, c.left)
		}
		v.Hold = true
		v.Reason = "wave " + w.Name + ": " + worst.Why
		if n := len(checks) - 1; n > 0 {
			v.Reason += fmt.Sprintf(" (and %d more of its %d hosts)", n, len(w.Hosts))
		}
		if baking {
			v.Left = left
		}
		return v
	}
	return v
}

// Judge is JudgeWave for one host: its wave from the fleet alone.
func Judge(f *fleet.Fleet, host, commit string, obs Observation) Verdict {
	k, _ := f.WaveOf(host)
	return JudgeWave(f, k, commit, obs)
}
