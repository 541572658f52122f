package rolloutsafety

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/promtest"
)

// long runs the case unless -short, and only in `make rollout-safety` (ROLLOUT_SAFETY=all) unless fast: each
// starts a Prometheus and waits through bakes, and the whole suite takes two minutes on a shared machine.
func long(t *testing.T, fast ...bool) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs Prometheus through bakes")
	}
	if os.Getenv("ROLLOUT_SAFETY") != "all" && len(fast) == 0 {
		t.Skip("a slow case: run by make rollout-safety (ROLLOUT_SAFETY=all)")
	}
	t.Parallel()
}

// The control: a canary healthy on C, scraped every second, opens the later wave after the bake, not before.
func TestControlHealthyCanaryOpensAfterTheBake(t *testing.T) {
	long(t, true)
	s := newScene(t, nil)
	s.apply()
	after := s.opens()
	record(Row{order: 1, Case: "control: a healthy canary",
		Injected: "nothing: the canary applies C and stays healthy on it, scraped every second",
		Did:      "held while it baked (" + s.reasons() + "), then applied C",
		Figure:   "applied " + secs(after) + " after the canary applied C"})
}

// No series: the canary wave names a host of the fleet no agent in Prometheus reports.
func TestNoSeries(t *testing.T) {
	long(t)
	s := newScene(t, nil)
	s.f.Hosts["tester-08"] = &fleet.Host{Role: "tester"}
	s.f.Meta.Rollout.Waves[0].Hosts = []string{"tester-08"}
	s.apply()
	s.mark(false) // tester-08 is never seen
	s.holds(bake + 3*time.Second)
	record(Row{order: 2, Case: "no series",
		Injected: "the canary wave names tester-08, a host of the fleet no agent in Prometheus reports (tester-07's agent is healthy on C)",
		Did:      "held all along: " + s.reasons(),
		Figure:   fmt.Sprintf("held for %s, %d gate calls", bake+3*time.Second, s.calls())})
}

// A gap: the canary's scrapes fail (503) for three scrapes in the middle of its bake.
func TestScrapeGap(t *testing.T) {
	long(t)
	s := newScene(t, nil)
	s.apply()
	s.watch(2*time.Second, false)
	s.set(false, func(a *promtest.SimAgent) { a.Failing, a.Failed = true, 0 })
	promtest.Eventually(t, 15*time.Second, "three failed scrapes", func() bool {
		s.ask()
		n := 0
		s.agent.Set(func(a *promtest.SimAgent) { n = a.Failed })
		return n >= 3
	})
	s.set(true, func(a *promtest.SimAgent) { a.Failing = false })
	after := s.opens()
	record(Row{order: 3, Case: "a gap",
		Injected: "the canary's scrapes answer 503 (the switch on the simulated agent) for 3 scrapes, 2 s into its bake on C",
		Did:      "held (" + s.reasons() + "); applied C only a whole bake after the scrapes came back",
		Figure:   "applied " + secs(after) + " after the scrapes came back (" + secs(bake) + " bake)"})
}

// A canary whose agent is down for good: every scrape fails.
func TestTargetDown(t *testing.T) {
	long(t)
	s := newScene(t, nil)
	s.apply()
	s.set(false, func(a *promtest.SimAgent) { a.Failing = true })
	s.holds(bake + 3*time.Second)
	record(Row{order: 4, Case: "a canary down",
		Injected: "the canary applies C, then every scrape of it fails (503)",
		Did:      "held all along: " + s.reasons(),
		Figure:   fmt.Sprintf("held for %s, %d gate calls", bake+3*time.Second, s.calls())})
}

// Skewed clocks: the canary's clock (the agent's Clock, which dates its applied_at and last sync) is an hour behind
// or ahead. Prometheus' samples time the bake, never the agent's clock.
func TestSkewedClocks(t *testing.T) {
	for i, skew := range []time.Duration{-time.Hour, time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			long(t)
			s := newScene(t, nil)
			clock := func() time.Time { return time.Now().Add(skew) }
			s.set(true, func(a *promtest.SimAgent) { a.Commit, a.Clock, a.AppliedAt = commitC, clock, clock() })
			after := s.opens()
			side := "behind"
			if skew > 0 {
				side = "ahead"
			}
			record(Row{order: 5 + i, Case: "a skewed clock, " + side,
				Injected: "the canary's clock is " + strings.TrimPrefix(skew.String(), "-") + " " + side + ": its applied_at and last sync say it applied C an hour " + map[bool]string{true: "from now", false: "ago"}[skew > 0],
				Did:      "held while it baked (" + s.reasons() + "), then applied C",
				Figure:   "applied " + secs(after) + " after the canary applied C"})
		})
	}
}

// Samples the agent stamps itself: the canary writes explicit timestamps on its healthy-on-C series. Backfilled, a
// whole bake of samples in its first scrape on C; frozen, the same stamp at every scrape (a stale series that
// never moves); or stamped by its clock an hour behind.
func TestAgentStampedSamples(t *testing.T) {
	cases := []struct {
		name, injected string
		clean          bool // the canary is healthy on C, its samples stamped in time
		stamps         func(switched time.Time) func() []time.Time
	}{
		{"backfilled", "the canary's first scrape on C carries its healthy-on-C series with " + fmt.Sprint(int(bake/interval)+1) + " samples it stamped itself, one a second back a whole bake; each later scrape one more, stamped now", true,
			func(time.Time) func() []time.Time {
				return func() []time.Time {
					now := time.Now()
					var at []time.Time
					for i := int(bake / interval); i >= 0; i-- {
						at = append(at, now.Add(-time.Duration(i)*interval))
					}
					return at
				}
			}},
		{"crowded", "each scrape of the canary on C carries, before the healthy-on-C sample Prometheus stamps, " + fmt.Sprint(int(bake/interval)) + " more it stamped itself in the 70 ms before the scrape reached it: more samples than scrapes, in gaps too short for a subquery's steps to fall in", true,
			func(time.Time) func() []time.Time {
				return func() []time.Time {
					now := time.Now()
					var at []time.Time
					for i := int(bake / interval); i >= 1; i-- {
						at = append(at, now.Add(-time.Duration(i)*10*time.Millisecond-10*time.Millisecond))
					}
					return append(at, time.Time{})
				}
			}},
		{"frozen", "a stale series: the canary's healthy-on-C sample carries the same timestamp (its switch to C) at every scrape", false,
			func(switched time.Time) func() []time.Time {
				return func() []time.Time { return []time.Time{switched} }
			}},
		{"an hour behind", "the canary stamps its healthy-on-C samples by its clock, an hour behind", false,
			func(time.Time) func() []time.Time {
				return func() []time.Time { return []time.Time{time.Now().Add(-time.Hour)} }
			}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			long(t)
			s := newScene(t, nil)
			s.known(t.Name())
			switched := time.Now()
			s.set(c.clean, func(a *promtest.SimAgent) {
				a.Commit, a.AppliedAt, a.HealthyOnStamps = commitC, switched, c.stamps(switched)
			})
			s.watch(bake+4*time.Second, true)
			did := "held all along: " + s.reasons()
			figure := fmt.Sprintf("held for %s, %d gate calls", bake+4*time.Second, s.calls())
			if after, ok := s.openedAfter(); ok {
				did = "held (" + s.reasons() + "), then applied C"
				figure = "applied " + secs(after) + " after the canary applied C"
			}
			record(Row{order: 7 + i, Case: "samples stamped by the agent: " + c.name, Injected: c.injected, Did: s.holeRow(did), Figure: figure})
		})
	}
}

// A restarted Prometheus: on the same data, after the canary had baked on C. The bake counts from its start.
func TestPrometheusRestarted(t *testing.T) {
	long(t)
	s := newScene(t, nil)
	s.apply()
	first := s.opens()
	s.reset()
	s.mark(false)
	s.prom.Restart()
	s.mu.Lock()
	s.dirty, s.clean, s.opened = s.prom.Started, true, time.Time{}
	s.mu.Unlock()
	after := s.opens()
	record(Row{order: 11, Case: "a restarted Prometheus",
		Injected: "Prometheus stopped and started again on the same data, after the canary had baked on C (the later wave had opened " + secs(first) + " after C)",
		Did:      "held from the restart (" + s.reasons() + "), then applied C a bake after Prometheus' start",
		Figure:   "applied " + secs(after) + " after Prometheus was started again"})
}

// A stale series: the canary's target is dropped from the scrape configuration after it baked on C. Prometheus
// marks its series stale.
func TestTargetDropped(t *testing.T) {
	long(t)
	other := promtest.NewSimAgent(t, "tester-01", commitA)
	s := newScene(t, nil)
	s.apply()
	s.opens()
	s.reset()
	s.prom.Reload(promtest.StaticConfig("others", other))
	promtest.Eventually(t, 5*time.Second, "the gate holds once the canary's target is dropped", func() bool { return s.ask().Hold })
	s.mark(false)
	s.holds(bake + 3*time.Second)
	record(Row{order: 12, Case: "a stale series: the target dropped",
		Injected: "after the canary baked on C, the configuration is reloaded without its target (its series are marked stale, its samples of the bake stay in the TSDB)",
		Did:      "held from the reload on: " + s.reasons(),
		Figure:   fmt.Sprintf("held for %s after the reload", bake+3*time.Second)})
}

// Values that are not 1: NaN, ±Inf, 2 and 0.5 on the canary's healthy-on-C series (its health otherwise 1).
func TestOddValues(t *testing.T) {
	for i, v := range []string{"NaN", "+Inf", "-Inf", "2", "6", "0.5"} {
		t.Run(v, func(t *testing.T) {
			long(t)
			s := newScene(t, nil)
			s.known(t.Name())
			s.set(false, func(a *promtest.SimAgent) { a.Commit, a.AppliedAt, a.HealthyOnValue = commitC, time.Now(), v })
			s.watch(bake+4*time.Second, false)
			did := "held all along: " + s.reasons()
			figure := fmt.Sprintf("held for %s, %d gate calls", bake+4*time.Second, s.calls())
			if after, ok := s.openedAfter(); ok {
				did = "held (" + s.reasons() + "), then applied C"
				figure = "applied " + secs(after) + " after the canary applied C"
			}
			record(Row{order: 13 + i, Case: "a healthy-on-C value of " + v,
				Injected: "the canary's " + "healthy-on-C sample is " + v + " at every scrape (its health and everything else 1)",
				Did:      s.holeRow(did), Figure: figure})
		})
	}
}

// An empty wave between the canary and the later one: it places no host (it names only the canary's host, which
// the canary wave took). The wave after it holds though the canary baked on C.
func TestEmptyWave(t *testing.T) {
	long(t, true)
	s := newScene(t, nil)
	s.f.Meta.Rollout.Waves = []fleet.Wave{{Name: "canary", Hosts: []string{canary}}, {Name: "pilot", Hosts: []string{canary}}, {Name: "rest"}}
	if n := len(s.f.Waves()[1].Hosts); n != 0 {
		t.Fatalf("the pilot wave places %d hosts, want none", n)
	}
	s.apply()
	s.opens() // wave 1 asks: the canary baked
	s.wave = 2
	s.reset()
	s.mark(false) // the pilot wave has no host healthy on C
	s.holds(3 * time.Second)
	record(Row{order: 19, Case: "an empty wave",
		Injected: "waves canary (tester-07), pilot (names only tester-07, which the canary wave took: no host), rest; the canary baked on C",
		Did:      "the pilot wave's gate opened after the bake; the rest wave held: " + s.reasons(),
		Figure:   fmt.Sprintf("the rest wave held for %s after the canary had baked", 3*time.Second)})
}

// An unresolved canary: the canary wave names a host the fleet has no host file for; an agent reporting that very
// name is healthy on C in Prometheus.
func TestUnresolvedCanary(t *testing.T) {
	long(t)
	s := newScene(t, nil)
	delete(s.f.Hosts, canary)
	s.apply()
	s.mark(false) // no host of the fleet is in the canary wave
	s.holds(bake + 3*time.Second)
	record(Row{order: 20, Case: "an unresolved canary",
		Injected: "the canary wave names tester-07, which has no host file in the fleet; an agent reporting host tester-07 is healthy on C in Prometheus for the bake",
		Did:      "held all along: " + s.reasons(),
		Figure:   fmt.Sprintf("held for %s", bake+3*time.Second)})
}

// A restarted agent: the canary's process starts again (a new process_start_time_seconds) after it baked on C.
func TestAgentRestarted(t *testing.T) {
	long(t)
	s := newScene(t, nil)
	s.apply()
	s.opens()
	s.reset()
	s.set(true, func(a *promtest.SimAgent) { a.Started = time.Now() })
	after := s.opens()
	record(Row{order: 21, Case: "a restarted agent",
		Injected: "after the canary baked on C, its agent's process starts again (process_start_time_seconds moves); still healthy on C",
		Did:      "held (" + s.reasons() + "), then applied C a bake after the restart",
		Figure:   "applied " + secs(after) + " after the restart"})
}

// An unhealthy canary on C, healthy again later; and a canary that goes back to A mid-bake, then to C again.
func TestUnhealthyAndFlipBack(t *testing.T) {
	t.Run("unhealthy", func(t *testing.T) {
		long(t)
		s := newScene(t, nil)
		s.set(false, func(a *promtest.SimAgent) { a.Commit, a.AppliedAt, a.Healthy = commitC, time.Now(), false })
		s.watch(bake+2*time.Second, false)
		s.set(true, func(a *promtest.SimAgent) { a.Healthy = true })
		after := s.opens()
		record(Row{order: 22, Case: "an unhealthy canary",
			Injected: fmt.Sprintf("the canary applies C unhealthy for %s, then turns healthy", bake+2*time.Second),
			Did:      "held (" + s.reasons() + "), then applied C a bake after it turned healthy",
			Figure:   "applied " + secs(after) + " after it turned healthy"})
	})
	t.Run("flip back", func(t *testing.T) {
		long(t)
		s := newScene(t, nil)
		s.apply()
		s.watch(bake-2*time.Second, false)
		served := 0
		s.set(false, func(a *promtest.SimAgent) { a.Commit, served = commitA, a.Served })
		// back on A until Prometheus has scraped it there twice (1.5 s at least): on a loaded machine a scrape can
		// come late, and a period Prometheus never saw is not one the gate can be asked to see
		start := time.Now()
		promtest.Eventually(t, 20*time.Second, "two scrapes of the canary back on A", func() bool {
			s.ask()
			n := 0
			s.agent.Set(func(a *promtest.SimAgent) { n = a.Served - served })
			return n >= 2 && time.Since(start) >= 1500*time.Millisecond
		})
		s.apply()
		after := s.opens()
		record(Row{order: 23, Case: "a canary back on A mid-bake",
			Injected: fmt.Sprintf("the canary applies C, goes back to A %s into its bake for two of Prometheus' scrapes (1.5 s at least), then applies C again (its earlier samples on C stay in the window)", bake-2*time.Second),
			Did:      "held (" + s.reasons() + "), then applied C a bake after its return to C",
			Figure:   "applied " + secs(after) + " after it applied C again"})
	})
}

// Foreign scrape configurations: a hand-written job with its own name, its own interval and a relabelled instance;
// the same agent scraped by two jobs; and a second target claiming the canary's host name, healthy on C all along,
// while the canary itself never applies C.
func TestForeignScrapeConfigs(t *testing.T) {
	t.Run("relabelled", func(t *testing.T) {
		long(t)
		s := newScene(t, func(a *promtest.SimAgent) string {
			return `scrape_configs:
  - job_name: node-and-friends
    scrape_interval: 2s
    static_configs:
      - targets: ["` + a.Addr() + `"]
    relabel_configs:
      - target_label: instance
        replacement: canary-box
`
		})
		s.resolution = 4 * time.Second // two of this job's scrape intervals
		s.apply()
		after := s.opens()
		record(Row{order: 24, Case: "a foreign scrape configuration",
			Injected: "a hand-written configuration: job node-and-friends, scraped every 2 s (no global interval: Prometheus' 1m default), the instance relabelled to canary-box",
			Did:      "found the canary by its host label; held while it baked (" + s.reasons() + "), then applied C",
			Figure:   "applied " + secs(after) + " after the canary applied C"})
	})
	t.Run("two jobs", func(t *testing.T) {
		long(t)
		s := newScene(t, func(a *promtest.SimAgent) string {
			return promtest.StaticConfig("testers", a) + `  - job_name: again
    static_configs:
      - targets: ["` + a.Addr() + `"]
`
		})
		s.apply()
		after := s.opens()
		record(Row{order: 25, Case: "the canary scraped by two jobs",
			Injected: "the canary's agent is a target of two jobs (its samples counted twice)",
			Did:      "held while it baked (" + s.reasons() + "), then applied C",
			Figure:   "applied " + secs(after) + " after the canary applied C"})
	})
	t.Run("impostor", func(t *testing.T) {
		long(t)
		impostor := promtest.NewSimAgent(t, canary, commitC)
		s := startScene(t, func(a *promtest.SimAgent) string {
			return promtest.StaticConfig("testers", a) + `  - job_name: impostors
    static_configs:
      - targets: ["` + impostor.Addr() + `"]
`
		})
		s.mark(false) // the canary never applies C
		s.holds(bake + 6*time.Second)
		record(Row{order: 26, Case: "an impostor",
			Injected: "a second target, in another job, reports host tester-07 healthy on C since Prometheus started; the canary itself stays on A",
			Did:      "held all along: " + s.reasons(),
			Figure:   fmt.Sprintf("held for %s from Prometheus' start", bake+6*time.Second)})
	})
}
