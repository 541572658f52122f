package rollout

import (
	"context"
	"time"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/promapi"
)

// ObserveTimeout bounds one observation (its seven queries and two status reads): a Prometheus that does not answer in time is no answer.
const ObserveTimeout = 20 * time.Second

// Gate says whether the hosts of wave k of f may apply f's commit now, asking the fleet's Prometheus about the
// hosts of the earlier waves. Wave 0 and a fleet without waves never ask. No answer holds: the reason names the
// wave waited for and what went wrong.
func Gate(ctx context.Context, f *fleet.Fleet, k int) Verdict {
	waves := f.Waves()
	if k == 0 {
		return Verdict{WaveName: waves[0].Name}
	}
	earlier := []string{}
	for _, w := range waves[:k] {
		earlier = append(earlier, w.Hosts...)
	}
	obs, err := ObserveFleet(ctx, f, earlier)
	if err != nil {
		return Verdict{Wave: k, WaveName: waves[k].Name, Hold: true, Reason: "wave " + waves[k-1].Name + ": " + err.Error()}
	}
	return JudgeWave(f, k, f.Commit, obs)
}

// ObserveFleet observes the hosts (every host of the fleet's scrape job when only is nil, or only those) through
// the Prometheus f's rollout names, within ObserveTimeout.
func ObserveFleet(ctx context.Context, f *fleet.Fleet, only []string) (Observation, error) {
	r := f.Meta.Rollout
	c, err := promapi.New(r.Health.Prometheus, ObserveTimeout)
	if err != nil {
		return Observation{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, ObserveTimeout)
	defer cancel()
	return Observe(ctx, c, r.BakeOrDefault(), f.Commit, only)
}
