package rollout

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/internal/promapi"
)

func sample(host string, v float64, labels ...string) promapi.Sample {
	l := map[string]string{"instance": host + ".lab:7072", "job": "testers", "host": host}
	for i := 0; i+1 < len(labels); i += 2 {
		l[labels[i]] = labels[i+1]
	}
	return promapi.Sample{Labels: l, Value: v}
}

// Prometheus keeps a series of before a change for its lookback, beside the new one: the answers carry both, and
// only the newest scrape's may count. A host without a current health sample is not scraped, whatever it said
// before.
func TestDecodeReadsTheNewestScrape(t *testing.T) {
	obs := Decode(time.Minute, promapi.Scrapes{Global: 15 * time.Second}, [][]promapi.Sample{
		{sample("t1", 160), sample("t2", 150), sample("t3", 150)}, // their targets, at their last scrape
		{sample("t1", 100, "commit", commitA, "state", "ok"), sample("t1", 160, "commit", commitC, "state", "ok"), sample("t2", 150, "commit", commitC, "state", "ok")},
		{sample("t1", 1), sample("t9", 1)}, // healthy; t2 has no current sample; t9 is not one of the hosts' targets
		{sample("t1", 100, "app", "books", "state", "quarantined"), sample("t1", 160, "app", "notes", "binary", "notes_server", "state", "crashloop")},
		{sample("t1", 2), sample("t2", 5)}, // healthy on the commit at 2 scrapes
		{sample("t1", 5), sample("t2", 5)},
		{sample("t1", 0), sample("t2", 0)},
	})
	if obs.Hosts["t9"] != nil || obs.Hosts["t3"] != nil {
		t.Errorf("facts of t9 (no target) or t3 (nothing but its target): %+v", obs.Hosts)
	}
	t1, t2 := obs.Hosts["t1"], obs.Hosts["t2"]
	if t1 == nil || t1.Commit != commitC || !t1.Scraped || !t1.Healthy || t1.Since != 30*time.Second || t1.Baked {
		t.Errorf("t1 = %+v, want on %s (the newer sample), scraped, healthy for 30s (2 scrapes of 15s), not baked", t1, commitC[:7])
	}
	if !slices.Equal(t1.Problems, []string{"notes_server crashloop"}) {
		t.Errorf("t1's problems = %q, want only the newest scrape's", t1.Problems)
	}
	if t2 == nil || t2.Scraped || t2.Baked {
		t.Errorf("t2 = %+v: its agent is down, so Prometheus has no current health of it", t2)
	}
}

// The gate asks seven queries whatever the number of hosts: the hosts' own herofleet_host_info, each named exactly
// (a dot in a name is not a wildcard), then six narrowed to the scrape targets it named.
func TestQueriesAreFixedAndNarrow(t *testing.T) {
	many := make([]promapi.Sample, 1000)
	for i := range many {
		many[i] = sample("tester-"+strings.Repeat("x", i%7)+".lab", 1)
	}
	for _, targets := range [][]promapi.Sample{many[:1], many} {
		if n := len(Queries(time.Minute, commitC, targets)) + 1; n != 7 {
			t.Errorf("%d queries for %d hosts, want 7", n, len(targets))
		}
	}
	if q := TargetsQuery([]string{"a.lab", "b"}); q != `timestamp(herofleet_host_info{host=~"a\\.lab|b"})` {
		t.Errorf("targets query %s does not select exactly a.lab and b", q)
	}
	if q := TargetsQuery(nil); q != "timestamp(herofleet_host_info)" {
		t.Errorf("targets query about every host %s", q)
	}
	for _, q := range Queries(10*time.Minute, commitC, []promapi.Sample{sample("a.lab", 1), sample("b", 1)}) {
		if !strings.Contains(q, `instance=~"a\\.lab\\.lab:7072|b\\.lab:7072",job=~"testers"`) {
			t.Errorf("query %s does not select exactly the targets of a.lab and b", q)
		}
	}
}

// A Prometheus that started less than a bake ago (by its own clock: its start and its answers' time) has not seen
// the whole bake: the bake counts from its start.
func TestDecodeAfterPrometheusRestart(t *testing.T) {
	now := float64(time.Now().UnixMilli()) / 1000
	at := func(s promapi.Sample) promapi.Sample { s.At = now; return s }
	answers := [][]promapi.Sample{
		{sample("t1", now)},
		{sample("t1", now, "commit", commitC, "state", "ok")},
		{at(sample("t1", 1))},
		{},
		{sample("t1", 41)},
		{sample("t1", 41)},
		{sample("t1", 0)},
	}
	started := time.UnixMilli(int64(now*1000) - 90_000)
	obs := Decode(10*time.Minute, promapi.Scrapes{Global: 15 * time.Second, Started: started}, answers)
	if f := obs.Hosts["t1"]; f.Baked || f.Since != 90*time.Second || f.BakeWhy != "Prometheus started 1m30s ago: the bake counts from then" {
		t.Errorf("after a restart of Prometheus: %+v, want not baked, 1m30s since its start", f)
	}
	obs = Decode(10*time.Minute, promapi.Scrapes{Global: 15 * time.Second, Started: started.Add(-time.Hour)}, answers)
	if f := obs.Hosts["t1"]; !f.Baked {
		t.Errorf("Prometheus up for an hour: %+v, want baked", f)
	}
}
