package fleet

import (
	"fmt"
	"slices"
	"testing"
)

// rolloutFleet is a fleet of n testers (tester-01 …) and an admin, with the given waves.
func rolloutFleet(n int, waves ...Wave) *Fleet {
	f := &Fleet{Hosts: map[string]*Host{"admin": {Role: "admin"}}}
	for i := 1; i <= n; i++ {
		f.Hosts[fmt.Sprintf("tester-%02d", i)] = &Host{Role: "tester"}
	}
	f.Meta.Rollout.Waves = waves
	return f
}

// The product's example: a named canary, a quarter of the rest by a stable hash, and the catch-all; every host in
// exactly one wave, the same placement whatever order the hosts were loaded in.
func TestWavesPlaceEveryHostOnce(t *testing.T) {
	f := rolloutFleet(12, Wave{Name: "canary", Hosts: []string{"tester-07"}}, Wave{Name: "early", Percent: 25}, Wave{Name: "rest"})
	ws := f.Waves()
	if len(ws) != 3 || ws[0].Name != "canary" || !slices.Equal(ws[0].Hosts, []string{"tester-07"}) {
		t.Fatalf("waves = %+v", ws)
	}
	// 12 hosts left after the canary (11 testers and the admin): a quarter, rounded up, is 3. Which three is a
	// contract between agents of different builds and `plan`: the order of the names' sha256, pinned here.
	if want := []string{"tester-03", "tester-06", "tester-12"}; !slices.Equal(ws[1].Hosts, want) || len(ws[2].Hosts) != 9 {
		t.Errorf("early %v, rest %v: want early %v and 9 hosts in the rest", ws[1].Hosts, ws[2].Hosts, want)
	}
	seen := map[string]int{}
	for _, w := range ws {
		for _, h := range w.Hosts {
			seen[h]++
			if i, name := f.WaveOf(h); i != w.Index || name != w.Name {
				t.Errorf("WaveOf(%s) = %d %s, want %d %s", h, i, name, w.Index, w.Name)
			}
		}
	}
	if len(seen) != 13 {
		t.Errorf("%d hosts placed, want 13", len(seen))
	}
	for h, n := range seen {
		if n != 1 {
			t.Errorf("%s placed %d times", h, n)
		}
	}
	for range 20 { // map order differs from call to call: the placement must not
		if again := f.Waves(); !slices.EqualFunc(again, ws, func(a, b WaveHosts) bool { return slices.Equal(a.Hosts, b.Hosts) }) {
			t.Fatalf("placement changed: %+v then %+v", ws, again)
		}
	}
}

// A percent wave draws from the hosts no wave names by a hash of the name: adding a host moves few others, and a
// host without a host file (the fleet cannot count it) is in the catch-all.
func TestWavesPercentIsStable(t *testing.T) {
	f := rolloutFleet(100, Wave{Name: "early", Percent: 10}, Wave{Name: "rest"})
	before := f.Waves()[0].Hosts
	if len(before) != 11 { // 101 hosts with the admin: 10% rounded up
		t.Fatalf("early holds %d hosts, want 11", len(before))
	}
	f.Hosts["tester-101"] = &Host{Role: "tester"}
	after := f.Waves()[0].Hosts
	moved := 0
	for _, h := range before {
		if !slices.Contains(after, h) {
			moved++
		}
	}
	if moved > 1 {
		t.Errorf("adding one host moved %d hosts out of the early wave (%v -> %v)", moved, before, after)
	}
	if i, name := f.WaveOf("tester-999"); i != 1 || name != "rest" {
		t.Errorf("a host with no host file is in wave %d %q, want the catch-all", i, name)
	}
}

// Without waves there is one wave of every host: nothing is ever held.
func TestNoWavesIsOneWave(t *testing.T) {
	f := rolloutFleet(3)
	if ws := f.Waves(); len(ws) != 1 || len(ws[0].Hosts) != 4 {
		t.Errorf("waves = %+v", ws)
	}
	if i, _ := f.WaveOf("anyone"); i != 0 {
		t.Errorf("WaveOf = %d, want 0", i)
	}
}

// Placing hosts hashes each name once, not once per comparison: on a 1,000-host fleet it runs on every pass of
// every agent of the fleet (go test -bench Waves ./fleet).
func BenchmarkWaves1000(b *testing.B) {
	f := rolloutFleet(1000, Wave{Name: "canary", Hosts: []string{"tester-07"}}, Wave{Name: "early", Percent: 25}, Wave{Name: "rest"})
	for b.Loop() {
		f.WaveOf("tester-999")
	}
}
