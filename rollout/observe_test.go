package rollout

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/internal/promapi"
)

func sample(host string, v float64, labels ...string) promapi.Sample {
	l := map[string]string{"instance": "[4a5:1c2::7]:7072", "job": "testers", "host": host}
	for i := 0; i+1 < len(labels); i += 2 {
		l[labels[i]] = labels[i+1]
	}
	return promapi.Sample{Labels: l, Value: v}
}

// Prometheus keeps a series of before a change for its lookback, beside the new one: the answers carry both, and
// only the newest scrape's may count. A host that is down is not scraped, whatever its last health said.
func TestDecodeReadsTheNewestScrape(t *testing.T) {
	obs := Decode(time.Minute, [][]promapi.Sample{
		{sample("t1", 1), sample("t2", 0)}, // up
		{sample("t1", 100, "commit", commitA, "state", "ok"), sample("t1", 160, "commit", commitC, "state", "ok"), sample("t2", 150, "commit", commitC, "state", "ok")},
		{sample("t1", 90), sample("t2", 30)}, // seconds since applied
		{sample("t1", 1), sample("t2", 1)},   // healthy
		{sample("t1", 160), sample("t2", 150)},
		{sample("t1", 1), sample("t2", 1)},
		{sample("t1", 100, "app", "books", "state", "quarantined"), sample("t1", 160, "app", "notes", "binary", "notes_server", "state", "crashloop")},
	})
	t1, t2 := obs.Hosts["t1"], obs.Hosts["t2"]
	if t1 == nil || t1.Commit != commitC || !t1.Scraped || !t1.Healthy || t1.Since != 90*time.Second {
		t.Errorf("t1 = %+v, want on %s (the newer sample), scraped, healthy for 90s", t1, commitC[:7])
	}
	if !slices.Equal(t1.Problems, []string{"notes_server crashloop"}) {
		t.Errorf("t1's problems = %q, want only the newest scrape's", t1.Problems)
	}
	if t2 == nil || t2.Scraped {
		t.Errorf("t2 = %+v: its agent is down, so Prometheus has no current health of it", t2)
	}
}

// The gate asks seven queries whatever the number of hosts; narrowed to some hosts, it names each exactly (a dot in
// a name is not a wildcard) and nothing else.
func TestQueriesAreFixedAndNarrow(t *testing.T) {
	many := make([]string, 1000)
	for i := range many {
		many[i] = "tester-" + strings.Repeat("x", i%7) + ".lab"
	}
	for _, only := range [][]string{nil, {"t1"}, many} {
		if n := len(Queries(time.Minute, only)); n != 7 {
			t.Errorf("%d queries for %d hosts, want 7", n, len(only))
		}
	}
	for _, q := range Queries(10*time.Minute, []string{"a.lab", "b"}) {
		if !strings.HasSuffix(q, ` * on(instance, job) group_left(host) herofleet_host_info{host=~"a\\.lab|b"}`) {
			t.Errorf("query %s does not select exactly a.lab and b", q)
		}
	}
	for _, q := range Queries(10*time.Minute, nil) {
		if strings.Contains(q, "{") || strings.Contains(q, "job=") {
			t.Errorf("query %s about every host selects some", q)
		}
	}
}
