package rollout

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/promtest"
)

// canaryFleet is a fleet of two waves, the canary one host, the bake given, its health read from prom.
func canaryFleet(canary, prom string, bake time.Duration) *fleet.Fleet {
	f := &fleet.Fleet{Hosts: map[string]*fleet.Host{canary: {Role: "tester"}, "tester-01": {Role: "tester"}}, Commit: commitC}
	f.Meta.Rollout.Waves = []fleet.Wave{{Name: "canary", Hosts: []string{canary}}, {Name: "rest"}}
	f.Meta.Rollout.Bake = fleet.Duration{Duration: bake}
	f.Meta.Rollout.Health.Prometheus = prom
	return f
}

// A host is known by its own name: with a hand-written scrape configuration (static targets by address, a job
// named testers, no relabelling), the gate finds the canary by the host label of its herofleet_host_info, opens
// once it is healthy on the commit for the bake, and holds, saying exactly what is missing, for a canary no agent
// reports.
func TestGateFindsHostsByTheirOwnNameInAnyScrapeConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus")
	}
	canary, other := promtest.NewSimAgent(t, "tester-07", commitC), promtest.NewSimAgent(t, "tester-01", commitA)
	prom := promtest.Start(t, promtest.StaticConfig("testers", canary, other))
	f := canaryFleet("tester-07", prom, 2*time.Second)
	var v Verdict
	promtest.Eventually(t, 30*time.Second, "the gate opens on a healthy canary", func() bool {
		v = Gate(context.Background(), f, 1)
		return !v.Hold
	})
	absent := canaryFleet("tester-08", prom, 2*time.Second)
	v = Gate(context.Background(), absent, 1)
	if want := "wave canary: Prometheus has no herofleet agent reporting host tester-08"; !v.Hold || v.Reason != want {
		t.Errorf("gate with an absent canary = %+v, want held: %q", v, want)
	}
}

// The bake is timed by Prometheus, on the commit: with a canary whose applied_at is an hour behind (its clock is
// skewed) and that was healthy on the previous commit all along, the gate opens no sooner than a bake of
// Prometheus' own samples on the new commit; a canary whose scrapes fail for part of the bake holds the wave
// until a whole bake has passed again after them; a restart of its agent starts the bake again.
func TestGateBakeIsTimedByPrometheusOnTheCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus")
	}
	const bake = 6 * time.Second // at one scrape a second
	canary := promtest.NewSimAgent(t, "tester-07", commitA)
	prom := promtest.Start(t, promtest.StaticConfig("testers", canary))
	onA, onC := canaryFleet("tester-07", prom, bake), canaryFleet("tester-07", prom, bake)
	onA.Commit = commitA
	promtest.Eventually(t, 30*time.Second, "the canary baked on the previous commit", func() bool { return !Gate(context.Background(), onA, 1).Hold })

	// The canary applies C; its clock says it did so an hour ago.
	canary.Set(func(a *promtest.SimAgent) { a.Commit, a.AppliedAt = commitC, time.Now().Add(-time.Hour) })
	var seen time.Time // when Prometheus first had the canary on C
	var v Verdict
	promtest.Eventually(t, 30*time.Second, "the gate opens on C", func() bool {
		v = Gate(context.Background(), onC, 1)
		if seen.IsZero() && !strings.Contains(v.Reason, "has not applied") {
			seen = time.Now()
		}
		return !v.Hold
	})
	if waited := time.Since(seen); waited < bake-2*time.Second {
		t.Errorf("the gate opened %s after Prometheus saw the canary on C, want about the %s bake: an agent's clock or the previous commit's samples counted", waited, bake)
	}

	// Its scrapes fail for three seconds: held while they fail, and for a bake after.
	canary.Set(func(a *promtest.SimAgent) { a.Failing = true })
	promtest.Eventually(t, 10*time.Second, "the gate holds while the canary's scrapes fail", func() bool { return Gate(context.Background(), onC, 1).Hold })
	promtest.Eventually(t, 10*time.Second, "three failed scrapes", func() bool {
		n := 0
		canary.Set(func(a *promtest.SimAgent) { n = a.Failed })
		return n >= 3
	})
	canary.Set(func(a *promtest.SimAgent) { a.Failing = false })
	back := time.Now()
	promtest.Eventually(t, 30*time.Second, "the gate opens again after a whole bake", func() bool {
		v = Gate(context.Background(), onC, 1)
		return !v.Hold
	})
	if waited := time.Since(back); waited < bake-2*time.Second {
		t.Errorf("the gate opened %s after the canary's scrapes came back, want a whole %s bake after the gap", waited, bake)
	}

	// Its agent restarts (a new start time): the bake starts again.
	canary.Set(func(a *promtest.SimAgent) { a.Started = time.Now() })
	promtest.Eventually(t, 10*time.Second, "the gate holds after the canary's agent restarted", func() bool {
		v = Gate(context.Background(), onC, 1)
		return v.Hold && strings.Contains(v.Reason, "its agent restarted")
	})
}
