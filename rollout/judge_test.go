package rollout

import (
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/fleet"
)

const (
	commitA = "1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d5e6f1a2b"
	commitC = "5d6e7f8a9b0c5d6e7f8a9b0c5d6e7f8a9b0c5d6e"
)

// threeWaves: canary tester-07; early tester-01; rest tester-02 and tester-03.
func threeWaves() *fleet.Fleet {
	f := &fleet.Fleet{Hosts: map[string]*fleet.Host{}}
	for _, h := range []string{"tester-01", "tester-02", "tester-03", "tester-07"} {
		f.Hosts[h] = &fleet.Host{Role: "tester"}
	}
	f.Meta.Rollout.Waves = []fleet.Wave{{Name: "canary", Hosts: []string{"tester-07"}}, {Name: "early", Hosts: []string{"tester-01"}}, {Name: "rest"}}
	return f
}

func good(commit string, since time.Duration) *HostFacts {
	return &HostFacts{Commit: commit, State: "ok", Since: since, Scraped: true, Healthy: true, Baked: true}
}

func TestJudge(t *testing.T) {
	bake := 10 * time.Minute
	cases := []struct {
		name   string
		host   string
		hosts  map[string]*HostFacts
		hold   bool
		reason string // a part of the reason
		left   time.Duration
	}{
		{name: "the first wave applies at once", host: "tester-07", hosts: map[string]*HostFacts{}},
		{name: "the canary baked: the next wave goes", host: "tester-01",
			hosts: map[string]*HostFacts{"tester-07": good(commitC, 11*time.Minute)}},
		{name: "the canary still bakes", host: "tester-01", hold: true, left: 4 * time.Minute,
			hosts:  map[string]*HostFacts{"tester-07": good(commitC, 6*time.Minute)},
			reason: "wave canary: tester-07 healthy on 5d6e7f8 for 6m0s of the 10m0s bake"},
		{name: "the canary failed on the commit", host: "tester-02", hold: true,
			hosts: map[string]*HostFacts{"tester-07": {Commit: commitC, State: "ok", Since: time.Hour, Scraped: true, Healthy: false,
				Problems: []string{"books quarantined"}}, "tester-01": good(commitC, time.Hour)},
			reason: "wave canary: tester-07 not healthy on 5d6e7f8: books quarantined"},
		{name: "the canary has not applied it", host: "tester-01", hold: true,
			hosts:  map[string]*HostFacts{"tester-07": good(commitA, time.Hour)},
			reason: "tester-07 has not applied 5d6e7f8 yet (it runs 1a2b3c4, fleet state ok)"},
		{name: "no series of the canary is a no", host: "tester-01", hold: true, hosts: map[string]*HostFacts{},
			reason: "wave canary: Prometheus has no herofleet agent reporting host tester-07"},
		{name: "healthy now but not throughout the bake", host: "tester-01", hold: true,
			hosts:  map[string]*HostFacts{"tester-07": {Commit: commitC, Since: time.Hour, Scraped: true, Healthy: true, Baked: false}},
			reason: "was not healthy at every sample of the last 10m0s"},
		{name: "every earlier wave counts, not only the one before", host: "tester-03", hold: true,
			hosts:  map[string]*HostFacts{"tester-07": good(commitA, time.Hour), "tester-01": good(commitC, time.Hour)},
			reason: "wave canary: tester-07 has not applied"},
		{name: "both earlier waves done", host: "tester-03",
			hosts: map[string]*HostFacts{"tester-07": good(commitC, time.Hour), "tester-01": good(commitC, time.Hour)}},
		{name: "a host with no host file is in the catch-all", host: "tester-99", hold: true,
			hosts: map[string]*HostFacts{"tester-07": good(commitC, time.Hour)}, reason: "wave early: Prometheus has no herofleet agent reporting host tester-01"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := Judge(threeWaves(), c.host, commitC, Observation{Bake: bake, Hosts: c.hosts})
			if v.Hold != c.hold || !strings.Contains(v.Reason, c.reason) || v.Left != c.left {
				t.Errorf("Judge = %+v\nwant hold %v, a reason with %q, left %s", v, c.hold, c.reason, c.left)
			}
		})
	}
}

// The worst host of a wave is named first: a failing host before one still baking, whatever the order.
func TestJudgeNamesTheWorstHost(t *testing.T) {
	f := threeWaves()
	f.Meta.Rollout.Waves = []fleet.Wave{{Name: "canary", Hosts: []string{"tester-01", "tester-07"}}, {Name: "rest"}}
	obs := Observation{Bake: time.Minute, Hosts: map[string]*HostFacts{
		"tester-01": good(commitC, 10*time.Second),
		"tester-07": {Commit: commitC, Scraped: true, Healthy: false, Problems: []string{"books_server crashloop"}},
	}}
	v := Judge(f, "tester-02", commitC, obs)
	want := "wave canary: tester-07 not healthy on 5d6e7f8: books_server crashloop (and 1 more of its 2 hosts)"
	if !v.Hold || v.Reason != want || v.Left != 0 {
		t.Errorf("Judge = %+v, want the reason %q and no bake left (a failure is not a bake)", v, want)
	}
}
