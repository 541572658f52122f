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

// The fixed queries of FromPrometheus: six, whatever the number of hosts. A host is known by the host label of its
// own herofleet_host_info, joined to the other series of its scrape target (instance, job): any scrape
// configuration works (static targets by address, file_sd, relabelling, any job name).
var (
	queryUp       = promapi.OnHost("up", nil)
	queryHostInfo = api.SeriesHostInfo
	queryApplied  = promapi.OnHost(api.SeriesFleetApplied, nil)
	queryGauges   = `{__name__=~"` + namesMatching(gaugeSeries) + `"} and on(` + promapi.TargetLabels + `) ` + api.SeriesHostInfo
	queryProblems = promapi.OnHost(api.SeriesProblem, nil)
	queryVersion  = promapi.OnHost(api.SeriesAgentVersion, nil)
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

// FromPrometheus reads every host from Prometheus: the fleet's host files and every host whose agent Prometheus
// scrapes, in any job. A host no scraped agent reports, or whose agent Prometheus cannot scrape, is stale; so is one whose last sync is
// older than three of its sync periods. Any query that fails fails the report: no answer is not a fine fleet.
func FromPrometheus(ctx context.Context, c *promapi.Client, source string, f *fleet.Fleet, head string, period time.Duration) (Report, error) {
	ask := func(q string) ([]promapi.Sample, error) { return c.Query(ctx, q, time.Time{}) }
	var answers [6][]promapi.Sample
	for i, q := range []string{queryUp, queryHostInfo, queryApplied, queryGauges, queryProblems, queryVersion} {
		s, err := ask(q)
		if err != nil {
			return Report{}, err
		}
		answers[i] = s
	}
	up, info, applied, gauges, problems, versions := answers[0], answers[1], answers[2], answers[3], answers[4], answers[5]

	rows := map[string]*HostRow{} // by host name, the host label of its herofleet_host_info
	row := func(host string) *HostRow {
		if r := rows[host]; r != nil {
			return r
		}
		r := &HostRow{Host: host, Problems: []agent.Problem{}}
		if h := f.Hosts[host]; h != nil {
			r.Role = h.Role
		}
		rows[host] = r
		return r
	}
	for name := range f.Hosts {
		row(name).Stale = "Prometheus has no herofleet agent reporting it"
	}
	hostOf := map[promapi.Target]string{} // the host of each scrape target
	for _, s := range info {
		host := s.Labels[api.LabelHost]
		hostOf[promapi.TargetOf(s)] = host
		r := row(host)
		r.Role, r.Stale = s.Labels[api.LabelRole], ""
	}
	upOf := map[string]bool{}
	for _, s := range up {
		host := s.Labels[api.LabelHost]
		r := row(host)
		upOf[host] = s.Value == 1
		r.Stale = ""
		if s.Value != 1 {
			r.Stale = "Prometheus cannot scrape its agent"
		}
	}
	for _, s := range applied {
		r := row(s.Labels[api.LabelHost])
		r.Commit, r.State = s.Labels[api.LabelCommit], s.Labels[api.LabelState]
		r.OnHead = r.Commit == head && head != ""
	}
	periods := map[string]time.Duration{}
	for _, s := range gauges {
		host, ok := hostOf[promapi.TargetOf(s)]
		if !ok {
			continue // its target's host_info came and went between the two queries
		}
		r := row(host)
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
			periods[host] = time.Duration(s.Value * float64(time.Second))
		}
	}
	for _, s := range versions {
		row(s.Labels[api.LabelHost]).Version = s.Labels[api.LabelVersion]
	}
	for _, s := range problems {
		r := row(s.Labels[api.LabelHost])
		r.Problems = append(r.Problems, agent.Problem{App: s.Labels[api.LabelApp], Binary: s.Labels[api.LabelBinary],
			State: api.ProblemState(s.Labels[api.LabelState]), Code: api.ReasonCode(s.Labels[api.LabelCode]), Reason: s.Labels[api.LabelCode]})
	}
	now := time.Now()
	out := make([]HostRow, 0, len(rows))
	for host, r := range rows {
		p := periods[host]
		if p <= 0 {
			p = period
		}
		if r.Stale == "" && upOf[host] {
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
