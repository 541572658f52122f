package fleetview

import (
	"context"
	"testing"
	"time"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/promapi"
	"github.com/herofleet/herofleet/internal/promtest"
)

// fleet status --prometheus knows a host by its own name: a real Prometheus with a hand-written scrape
// configuration (static targets by address, a job named testers, no relabelling) shows each scraped host under
// its name, on HEAD and healthy, and a host of the fleet no agent reports as stale, saying so.
func TestFromPrometheusAnyScrapeConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus")
	}
	t07, t01 := promtest.NewSimAgent(t, "tester-07", headC), promtest.NewSimAgent(t, "tester-01", headC)
	url := promtest.Start(t, promtest.StaticConfig("testers", t07, t01))
	c, err := promapi.New(url, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	f := &fleet.Fleet{Hosts: map[string]*fleet.Host{"tester-07": {Role: "tester"}, "tester-01": {Role: "tester"}, "tester-09": {Role: "tester"}}}
	var rows map[string]HostRow
	promtest.Eventually(t, 30*time.Second, "both agents' hosts on HEAD and healthy", func() bool {
		r, err := FromPrometheus(context.Background(), c, url, f, headC, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		rows = map[string]HostRow{}
		for _, h := range r.Hosts {
			rows[h.Host] = h
		}
		return rows["tester-07"].Healthy && rows["tester-07"].OnHead && rows["tester-01"].Healthy && rows["tester-01"].OnHead
	})
	if len(rows) != 3 || rows["tester-09"].Stale != "Prometheus has no herofleet agent reporting it" || rows["tester-07"].Stale != "" {
		t.Errorf("rows %+v: want tester-07 and tester-01 fine, tester-09 stale for no agent reports it", rows)
	}
}
