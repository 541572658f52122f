package rollout

import (
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/fleet"
)

// A wide canary: the reason counts the other hosts not done, the bake left is the longest of the hosts still
// baking, and only while every host not done is merely baking.
func TestJudgeWaveOfManyHosts(t *testing.T) {
	f := &fleet.Fleet{Hosts: map[string]*fleet.Host{}}
	for _, h := range []string{"c1", "c2", "c3", "r1"} {
		f.Hosts[h] = &fleet.Host{Role: "tester"}
	}
	f.Meta.Rollout.Waves = []fleet.Wave{{Name: "canary", Hosts: []string{"c1", "c2", "c3"}}, {Name: "rest"}}
	down := &HostFacts{Commit: commitC, State: "ok", Since: time.Hour}
	tests := []struct {
		name   string
		hosts  map[string]*HostFacts
		hold   bool
		reason string
		left   time.Duration
	}{
		{name: "all done", hosts: map[string]*HostFacts{"c1": good(commitC, time.Hour), "c2": good(commitC, time.Hour), "c3": good(commitC, 10*time.Minute)}},
		{name: "two baking: the longest bake left", hold: true, left: 8 * time.Minute,
			hosts:  map[string]*HostFacts{"c1": good(commitC, 5*time.Minute), "c2": good(commitC, time.Hour), "c3": good(commitC, 2*time.Minute)},
			reason: "wave canary: c1 healthy on 5d6e7f8 for 5m0s of the 10m0s bake (and 1 more of its 3 hosts)"},
		{name: "one baking, one down: the down one is named, no bake left", hold: true,
			hosts:  map[string]*HostFacts{"c1": good(commitC, 5*time.Minute), "c2": good(commitC, time.Hour), "c3": down},
			reason: "wave canary: c3: Prometheus has no current health of it (not scraped, or its agent is down) (and 1 more of its 3 hosts)"},
		{name: "not applied is worse than baking, better than down", hold: true,
			hosts:  map[string]*HostFacts{"c1": good(commitC, 5*time.Minute), "c2": good(commitA, time.Hour), "c3": good(commitC, time.Hour)},
			reason: "wave canary: c2 has not applied 5d6e7f8 yet (it runs 1a2b3c4, fleet state ok) (and 1 more of its 3 hosts)"},
		{name: "nothing known of any: the first is named", hold: true, hosts: map[string]*HostFacts{},
			reason: "wave canary: Prometheus has no herofleet agent reporting host c1 (and 2 more of its 3 hosts)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := JudgeWave(f, 1, commitC, Observation{Bake: 10 * time.Minute, Hosts: tt.hosts})
			want := Verdict{Wave: 1, WaveName: "rest", Hold: tt.hold, Reason: tt.reason, Left: tt.left}
			if v != want {
				t.Errorf("JudgeWave = %+v\nwant        %+v", v, want)
			}
		})
	}
}

// An earlier wave that holds no host (its hosts have no host file, or its share of them is none) holds the later
// ones: nothing shows the commit healthy there. The gate never skips a wave.
func TestJudgeWaveEmptyEarlierWave(t *testing.T) {
	f := &fleet.Fleet{Hosts: map[string]*fleet.Host{"r1": {Role: "tester"}}}
	f.Meta.Rollout.Waves = []fleet.Wave{{Name: "canary", Hosts: []string{"gone-01"}}, {Name: "rest"}}
	v := JudgeWave(f, 1, commitC, Observation{Bake: time.Minute})
	want := Verdict{Wave: 1, WaveName: "rest", Hold: true,
		Reason: "wave canary: it places no host, so nothing shows 5d6e7f8 healthy (name its hosts, or add their host files)"}
	if v != want {
		t.Errorf("JudgeWave = %+v\nwant        %+v", v, want)
	}

	// A percent canary on a fleet of no host files: the same.
	f = &fleet.Fleet{Hosts: map[string]*fleet.Host{}}
	f.Meta.Rollout.Waves = []fleet.Wave{{Name: "canary", Percent: 10}, {Name: "rest"}}
	if k, _ := f.WaveOf("tester-01"); k != 1 {
		t.Fatalf("tester-01 without a host file is in wave %d, want rest", k)
	}
	if v := JudgeWave(f, 1, commitC, Observation{Bake: time.Minute}); !v.Hold || !strings.HasPrefix(v.Reason, "wave canary: it places no host") {
		t.Errorf("JudgeWave = %+v, want rest held on the empty canary", v)
	}
}
