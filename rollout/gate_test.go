package rollout

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/fleet"
)

// The gate of a wave, asked of a Prometheus that answers as its HTTP API does: each case is what Prometheus
// says of the earlier waves, and what the wave is told.
func TestGateVerdicts(t *testing.T) {
	tests := []struct {
		name    string
		wave    int
		answers answers
		fail    string   // the query kind Prometheus fails
		hold    bool     // the wave is held
		reason  []string // parts of the reason, in order
		left    time.Duration
		only    string // the instances the queries name ("" : no query is asked)
	}{
		{name: "the first wave never asks", wave: 0, answers: answers{}},
		{name: "the canary baked: early applies", wave: 1, only: "tester-07",
			answers: onCommit("tester-07", commitC, "660", true, true)},
		{name: "the canary still bakes", wave: 1, only: "tester-07", hold: true, left: 6 * time.Minute,
			answers: onCommit("tester-07", commitC, "240", true, true),
			reason:  []string{"wave canary: tester-07 healthy on 5d6e7f8 for 4m", " of the 10m", " bake"}},
		{name: "the canary is not healthy on the commit", wave: 1, only: "tester-07", hold: true,
			answers: onCommit("tester-07", commitC, "3600", false, false, "books", "quarantined"),
			reason:  []string{"wave canary: tester-07 not healthy on 5d6e7f8: books quarantined"}},
		{name: "the canary has not applied the commit", wave: 1, only: "tester-07", hold: true,
			answers: onCommit("tester-07", commitA, "3600", true, true),
			reason:  []string{"wave canary: tester-07 has not applied 5d6e7f8 yet (it runs 1a2b3c4, fleet state ok)"}},
		{name: "the canary scraped without an applied commit", wave: 1, only: "tester-07", hold: true,
			answers: answers{kHealthy: {ser("tester-07", "1")}},
			reason:  []string{"wave canary: tester-07 has not applied 5d6e7f8 yet"}},
		{name: "no series at all: no answer is a no", wave: 1, only: "tester-07", hold: true, answers: answers{},
			reason: []string{"wave canary: Prometheus has no herofleet agent reporting host tester-07"}},
		{name: "its agent is down (no current health: its series went stale)", wave: 1, only: "tester-07", hold: true,
			answers: with(onCommit("tester-07", commitC, "3600", true, true), kHealthy),
			reason:  []string{"wave canary: tester-07: Prometheus has no current health"}},
		{name: "healthy now, not at every scrape of the bake", wave: 1, only: "tester-07", hold: true, left: 7500 * time.Millisecond,
			answers: onCommit("tester-07", commitC, "3600", true, false),
			reason:  []string{"wave canary: tester-07 healthy on 5d6e7f8 for 9m53s of the 10m0s bake: not healthy on it, or not scraped, at 1 of Prometheus' 41 scrapes of the last 10m0s"}},
		{name: "a problem of an older scrape does not count", wave: 1, only: "tester-07",
			answers: onCommit("tester-07", commitC, "3600", true, true).add(answers{kProblems: {ser("tester-07", "940", "app", "books", "state", "quarantined")}})},
		{name: "a failed query holds", wave: 1, only: "tester-07", hold: true, fail: kOnCommit,
			answers: onCommit("tester-07", commitC, "3600", true, true),
			reason:  []string{"wave canary: no answer from Prometheus: ", "query timed out"}},
		{name: "the last wave asks of both earlier waves; the canary is done, early bakes", wave: 2, only: "tester-07|tester-01", hold: true,
			answers: onCommit("tester-07", commitC, "3600", true, true).add(onCommit("tester-01", commitC, "60", true, true)),
			reason:  []string{"wave early: tester-01 healthy on 5d6e7f8 for 1m"}, left: 9 * time.Minute},
		{name: "the last wave waits for a canary that failed, though early is done", wave: 2, only: "tester-07|tester-01", hold: true,
			answers: onCommit("tester-07", commitC, "3600", false, false, "notes_server", "crashloop").add(onCommit("tester-01", commitC, "3600", true, true)),
			reason:  []string{"wave canary: tester-07 not healthy on 5d6e7f8: notes_server crashloop"}},
		{name: "every earlier wave done: the last wave applies", wave: 2, only: "tester-07|tester-01",
			answers: onCommit("tester-07", commitC, "3600", true, true).add(onCommit("tester-01", commitC, "615", true, true))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newFakeProm(t, tt.answers, tt.fail)
			f := threeWaves()
			f.Commit = commitC
			f.Meta.Rollout.Health.Prometheus = p.URL
			v := Gate(context.Background(), f, tt.wave)
			if v.Hold != tt.hold || v.Left != tt.left || v.Wave != tt.wave || v.WaveName != f.Meta.Rollout.Waves[tt.wave].Name {
				t.Errorf("Gate = %+v, want wave %d held %v with %s left", v, tt.wave, tt.hold, tt.left)
			}
			if !inOrder(v.Reason, tt.reason) || (!tt.hold && v.Reason != "") {
				t.Errorf("reason %q, want %q", v.Reason, tt.reason)
			}
			asked := p.asked()
			if tt.only == "" {
				if len(asked) != 0 {
					t.Errorf("asked %q, want nothing", asked)
				}
				return
			}
			if n := len(asked); tt.fail == "" && n != 7 && (n != 1 || len(targets(tt.answers)) > 0) {
				t.Errorf("asked %d queries, want 7 (1 when no host reports itself): %q", len(asked), asked)
			}
			if want := `timestamp(herofleet_host_info{host=~"` + tt.only + `"})`; asked[0] != want {
				t.Errorf("first query %s, want %s", asked[0], want)
			}
			for _, q := range asked[1:] {
				if !strings.Contains(q, `instance=~"`) || !strings.Contains(q, `job=~"testers"`) {
					t.Errorf("query %s does not ask of the targets of %s", q, tt.only)
				}
			}
		})
	}
}

// inOrder: s has each part, one after the other.
func inOrder(s string, parts []string) bool {
	for _, p := range parts {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}

// The seven queries the gate asks: one of each kind, the bake as the health window.
func TestGateAsksSevenQueries(t *testing.T) {
	for _, bake := range []time.Duration{0, 90 * time.Second, time.Hour} {
		t.Run(bake.String(), func(t *testing.T) {
			p := newFakeProm(t, onCommit("tester-07", commitC, "600", true, true), "")
			f := threeWaves()
			f.Commit = commitC
			f.Meta.Rollout.Health.Prometheus = p.URL
			f.Meta.Rollout.Bake = fleet.Duration{Duration: bake}
			Gate(context.Background(), f, 1)
			var kinds []string
			for _, q := range p.asked() {
				kinds = append(kinds, kindOf(q))
			}
			if want := []string{kTargets, kApplied, kHealthy, kProblems, kOnCommit, kScrapes, kRestarts}; !slices.Equal(kinds, want) {
				t.Errorf("asked %v, want %v", kinds, want)
			}
			window := map[time.Duration]string{0: "[600s]", 90 * time.Second: "[90s]", time.Hour: "[3600s]"}[bake]
			if q := p.asked()[4]; !strings.Contains(q, " sum_over_time(") || !strings.Contains(q, window+")") || !strings.Contains(q, `{commit="`+commitC+`",`) {
				t.Errorf("the bake query %s does not look over %s", q, window)
			}
		})
	}
}

// No Prometheus to ask is no answer: the wave is held, with a reason naming the wave waited for.
func TestGateWithoutPrometheus(t *testing.T) {
	closed := newFakeProm(t, answers{}, "")
	closed.Close()
	tests := []struct{ name, url, reason string }{
		{"Prometheus down", closed.URL, "wave canary: no answer from Prometheus"},
		{"no Prometheus URL", "", "wave canary: prometheus URL"},
		{"a URL that is not http", "ftp://prom:9090", "wave canary: prometheus URL"},
		{"Prometheus down, its password not told", strings.Replace(closed.URL, "http://", "http://ops:s3cret@", 1), "wave canary: no answer from Prometheus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := threeWaves()
			f.Commit = commitC
			f.Meta.Rollout.Health.Prometheus = tt.url
			v := Gate(context.Background(), f, 1)
			if !v.Hold || !strings.HasPrefix(v.Reason, tt.reason) || v.WaveName != "early" || strings.Contains(v.Reason, "s3cret") {
				t.Errorf("Gate = %+v, want early held with a reason beginning %q", v, tt.reason)
			}
		})
	}
}
