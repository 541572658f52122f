package fleetview

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/promapi"
)

// The fixed queries of FromPrometheus: five, whatever the number of hosts.
var (
	jobSelector   = `{job="` + Job + `"}`
	queryUp       = `up` + jobSelector
	queryHostInfo = api.SeriesHostInfo + jobSelector
	queryApplied  = api.SeriesFleetApplied + jobSelector
	queryGauges   = `{job="` + Job + `",__name__=~"` + namesMatching(gaugeSeries) + `"}`
	queryProblems = api.SeriesProblem + jobSelector
)

// gaugeSeries are the gauges queryGauges asks for, all in one query.
var gaugeSeries = []string{api.SeriesAppsExpected, api.SeriesAppsRunning, api.SeriesHostHealthy, api.SeriesFleetLastSync, api.SeriesSyncPeriod}

// namesMatching is a regular expression that matches the series names and no other: herofleet_(a|b|c).
func namesMatching(names []string) string {
	short := make([]string, len(names))
	for i, n := range names {
		short[i] = regexp.QuoteMeta(strings.TrimPrefix(n, api.SeriesPrefix))
	}
	return api.SeriesPrefix + "(" + strings.Join(short, "|") + ")"
}

// FromPrometheus reads every host from Prometheus: the fleet's host files and every instance Prometheus scrapes
// in the herofleet job. A host Prometheus does not scrape, or cannot (up 0), is stale; so is one whose last sync is
// older than three of its sync periods. Any query that fails fails the report: no answer is not a fine fleet.
func FromPrometheus(ctx context.Context, c *promapi.Client, source string, f *fleet.Fleet, head string, period time.Duration) (Report, error) {
	ask := func(q string) ([]promapi.Sample, error) { return c.Query(ctx, q, time.Time{}) }
	var answers [5][]promapi.Sample
	for i, q := range []string{queryUp, queryHostInfo, queryApplied, queryGauges, queryProblems} {
		s, err := ask(q)
		if err != nil {
			return Report{}, err
		}
		answers[i] = s
	}
	up, info, applied, gauges, problems := answers[0], answers[1], answers[2], answers[3], answers[4]

	rows := map[string]*HostRow{} // by instance, the host's name in the configuration Config writes
	row := func(instance string) *HostRow {
		if r := rows[instance]; r != nil {
			return r
		}
		r := &HostRow{Host: instance, Problems: []agent.Problem{}}
		if h := f.Hosts[instance]; h != nil {
			r.Role = h.Role
		}
		rows[instance] = r
		return r
	}
	for name := range f.Hosts {
		row(name).Stale = "Prometheus does not scrape it"
	}
	upOf := map[string]bool{}
	for _, s := range up {
		r := row(s.Labels["instance"])
		upOf[s.Labels["instance"]] = s.Value == 1
		r.Stale = ""
		if s.Value != 1 {
			r.Stale = "Prometheus cannot scrape its agent"
		}
	}
	for _, s := range info {
		r := row(s.Labels["instance"])
		r.Host, r.Role = s.Labels[api.LabelHost], s.Labels[api.LabelRole]
	}
	for _, s := range applied {
		r := row(s.Labels["instance"])
		r.Commit, r.State = s.Labels[api.LabelCommit], s.Labels[api.LabelState]
		r.OnHead = r.Commit == head && head != ""
	}
	periods := map[string]time.Duration{}
	for _, s := range gauges {
		r := row(s.Labels["instance"])
		switch s.Labels["__name__"] {
		case api.SeriesAppsExpected:
			r.Expected = int(s.Value)
		case api.SeriesAppsRunning:
			r.Running = int(s.Value)
		case api.SeriesHostHealthy:
			r.Healthy = s.Value == 1
		case api.SeriesFleetLastSync:
			r.LastSync = time.UnixMilli(int64(s.Value * 1000)).UTC()
		case api.SeriesSyncPeriod:
			periods[s.Labels["instance"]] = time.Duration(s.Value * float64(time.Second))
		}
	}
	for _, s := range problems {
		r := row(s.Labels["instance"])
		r.Problems = append(r.Problems, agent.Problem{App: s.Labels[api.LabelApp], Binary: s.Labels[api.LabelBinary],
			State: api.ProblemState(s.Labels[api.LabelState]), Code: api.ReasonCode(s.Labels[api.LabelCode]), Reason: s.Labels[api.LabelCode]})
	}
	now := time.Now()
	out := make([]HostRow, 0, len(rows))
	for instance, r := range rows {
		p := periods[instance]
		if p <= 0 {
			p = period
		}
		if r.Stale == "" && upOf[instance] {
			r.markStale(now, p)
		}
		if r.Stale != "" {
			r.State, r.Healthy = StateStale, false
		}
		out = append(out, *r)
	}
	sortRows(out)
	return Report{Fleet: f.Meta.Name, Head: head, Source: source, At: now.UTC(), Hosts: out}, nil
}
