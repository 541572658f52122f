package rollout

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/fleet"
)

// `herofleet rollout status` as a person reads it: every wave, what holds it, each host's commit, health, bake
// and what it lacks.
func TestStatusText(t *testing.T) {
	f := threeWaves()
	f.Meta.Name = "hero"
	obs := Observation{Bake: 10 * time.Minute, Hosts: map[string]*HostFacts{
		"tester-07": good(commitC, time.Hour),
		"tester-01": good(commitC, 4*time.Minute),
		"tester-02": good(commitA, time.Hour),
	}}
	r := Status(f, commitC, "http://prom:9090", obs)
	var b bytes.Buffer
	if err := WriteText(&b, r); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"fleet hero: rolling out 5d6e7f8, bake 10m0s, health from http://prom:9090",
		"",
		"wave canary (1 host): applies at once",
		"  tester-07  5d6e7f8  on HEAD yes  ok  healthy yes  bake done  ",
		"",
		"wave early (1 host): the earlier waves are done; applies",
		"  tester-01  5d6e7f8  on HEAD yes  ok  healthy yes  bake 6m0s left  ",
		"",
		"wave rest (2 hosts): held by wave early: tester-01 healthy on 5d6e7f8 for 4m0s of the 10m0s bake",
		"  tester-02  1a2b3c4  on HEAD no  ok  healthy yes  bake -  tester-02 has not applied 5d6e7f8 yet (it runs 1a2b3c4, fleet state ok)",
		"  tester-03  -        on HEAD no  -   healthy no   bake -  Prometheus has no herofleet agent reporting host tester-03",
		"",
		"2/4 hosts on HEAD, 1 done (healthy on it for the bake)",
		"",
	}, "\n")
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	if r.Complete() {
		t.Error("a rollout with hosts not done is not complete")
	}
}

// Where the rollout stands, case by case: whether it is complete, what each wave's heading says, and the host rows.
func TestStatusCases(t *testing.T) {
	bake := 10 * time.Minute
	all := func(commit string, since time.Duration) map[string]*HostFacts {
		m := map[string]*HostFacts{}
		for _, h := range []string{"tester-01", "tester-02", "tester-03", "tester-07"} {
			m[h] = good(commit, since)
		}
		return m
	}
	noWaves := func() *fleet.Fleet { f := threeWaves(); f.Meta.Rollout.Waves = nil; return f }
	tests := []struct {
		name     string
		fleet    *fleet.Fleet
		hosts    map[string]*HostFacts
		complete bool
		want     []string
	}{
		{name: "every host done", fleet: threeWaves(), hosts: all(commitC, time.Hour), complete: true,
			want: []string{"wave rest (2 hosts): the earlier waves are done; applies", "4/4 hosts on HEAD, 4 done"}},
		{name: "no host has it: the canary applies, the rest wait for it", fleet: threeWaves(), hosts: all(commitA, time.Hour),
			want: []string{"wave canary (1 host): applies at once\n  tester-07  1a2b3c4  on HEAD no",
				"wave early (1 host): held by wave canary: tester-07 has not applied 5d6e7f8 yet",
				"wave rest (2 hosts): held by wave canary: tester-07 has not applied", "0/4 hosts on HEAD, 0 done"}},
		{name: "every host on HEAD, all still baking", fleet: threeWaves(), hosts: all(commitC, 90*time.Second),
			want: []string{"bake 8m30s left", "wave early (1 host): held by wave canary: tester-07 healthy on 5d6e7f8 for 1m30s",
				"4/4 hosts on HEAD, 0 done"}},
		{name: "a canary failing holds every later wave", fleet: threeWaves(),
			hosts: map[string]*HostFacts{"tester-07": {Commit: commitC, State: "ok", Since: time.Hour, Scraped: true, Problems: []string{"books quarantined"}}},
			want: []string{"healthy no  bake -  tester-07 not healthy on 5d6e7f8: books quarantined",
				"wave rest (2 hosts): held by wave canary: tester-07 not healthy on 5d6e7f8: books quarantined"}},
		{name: "a host on HEAD whose agent is down is not healthy", fleet: threeWaves(),
			hosts: map[string]*HostFacts{"tester-07": {Commit: commitC, State: "ok", Since: time.Hour, Healthy: true, Baked: true}},
			want:  []string{"tester-07  5d6e7f8  on HEAD yes  ok  healthy no  bake -  tester-07: Prometheus has no current health"}},
		{name: "no waves: one wave of every host", fleet: noWaves(), hosts: all(commitC, time.Hour), complete: true,
			want: []string{"wave (all hosts) (4 hosts): applies at once", "4/4 hosts on HEAD, 4 done"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fleet.Meta.Name = "hero"
			r := Status(tt.fleet, commitC, "http://prom:9090", Observation{Bake: bake, Hosts: tt.hosts})
			if r.Complete() != tt.complete {
				t.Errorf("Complete() = %v, want %v", r.Complete(), tt.complete)
			}
			var b bytes.Buffer
			if err := WriteText(&b, r); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("the text lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
}

// The JSON of rollout status: durations as Go writes them, the bake left only while baking, held_by only on a
// held wave, and a host Prometheus knows nothing of without commit or state.
func TestStatusJSON(t *testing.T) {
	f := threeWaves()
	f.Meta.Name = "hero"
	r := Status(f, commitC, "http://prom:9090", Observation{Bake: 10 * time.Minute, Hosts: map[string]*HostFacts{
		"tester-07": good(commitC, time.Hour), "tester-01": good(commitC, 4*time.Minute)}})
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Fleet, Commit, Bake, Prometheus string
		Waves                           []struct {
			Name  string
			Held  *string `json:"held_by"`
			Hosts []map[string]any
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Fleet != "hero" || doc.Commit != commitC || doc.Bake != "10m0s" || doc.Prometheus != "http://prom:9090" || len(doc.Waves) != 3 {
		t.Fatalf("report %+v", doc)
	}
	tests := []struct {
		wave    int
		held    bool
		host    map[string]any // the wave's first host: every key it has, with its value
		present []string
	}{
		{wave: 0, host: map[string]any{"host": "tester-07", "commit": commitC, "on_head": true, "state": "ok", "healthy": true, "done": true}},
		{wave: 1, host: map[string]any{"host": "tester-01", "commit": commitC, "on_head": true, "state": "ok", "healthy": true, "done": false,
			"bake_left": "6m0s", "why": "tester-01 healthy on 5d6e7f8 for 4m0s of the 10m0s bake"}},
		{wave: 2, held: true, host: map[string]any{"host": "tester-02", "on_head": false, "healthy": false, "done": false,
			"why": "Prometheus has no herofleet agent reporting host tester-02"}},
	}
	for _, tt := range tests {
		w := doc.Waves[tt.wave]
		t.Run(w.Name, func(t *testing.T) {
			if (w.Held != nil) != tt.held {
				t.Errorf("held_by %v, want present %v", w.Held, tt.held)
			}
			got, _ := json.Marshal(w.Hosts[0])
			want, _ := json.Marshal(tt.host)
			if string(got) != string(want) {
				t.Errorf("host %s\nwant %s", got, want)
			}
		})
	}
}
