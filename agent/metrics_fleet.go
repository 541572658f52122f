package agent

import (
	"time"

	"github.com/herofleet/herofleet/api"
	"github.com/prometheus/client_golang/prometheus"
)

// The fleet view's series (collectFleetView) export what `herofleet fleet status --prometheus`, the alerting rules of `herofleet
// prometheus rules` and a rollout gate read: who the host is, which commit it runs and since when, how often it
// syncs, and its Verdict. Label values are current values only (an info series per host, app and problem), so the
// number of series stays bounded by the apps and binaries of the host, never by its history.

var (
	descHostInfo = prometheus.NewDesc(api.SeriesHostInfo,
		"The host's name and role (value 1).", []string{api.LabelHost, api.LabelRole}, nil)
	descHeadInfo = prometheus.NewDesc(api.SeriesFleetHead,
		"The newest fleet commit this host has seen (value 1; the commit is a label).", []string{api.LabelCommit}, nil)
	descAppliedAt = prometheus.NewDesc(api.SeriesFleetAppliedAt,
		"When the applied fleet commit was applied (Unix time).", nil, nil)
	descSyncPeriod = prometheus.NewDesc(api.SeriesSyncPeriod,
		"Time between two scheduled syncs; a host whose last sync is older than three is stale.", nil, nil)
	descAppInfo = prometheus.NewDesc(api.SeriesAppInfo,
		"Each app the host should run, its installed revision and state (not-installed, installing, failed, "+
			"quarantined, installed); value 1.", []string{api.LabelApp, api.LabelRev, api.LabelState}, nil)
	descAppsExpected = prometheus.NewDesc(api.SeriesAppsExpected,
		"Apps the host should run: its desired apps and those installed on click.", nil, nil)
	descAppsRunning = prometheus.NewDesc(api.SeriesAppsRunning,
		"Of the apps the host should run, those installed with every binary running.", nil, nil)
	descHealthy = prometheus.NewDesc(api.SeriesHostHealthy,
		"1 when the host is healthy on its applied commit: fleet state fine, every app it should run running exactly what "+
			"the commit asks for with every binary running, no app with a reason.", nil, nil)
	descHealthyOn = prometheus.NewDesc(api.SeriesHealthyOn,
		"1 when the host is healthy on its applied commit, the commit as a label: the rollout gate counts, by Prometheus' "+
			"own sample timestamps, the scrapes of the bake at which the host was healthy on the commit.", []string{api.LabelCommit}, nil)
	descWave = prometheus.NewDesc(api.SeriesRolloutWave,
		"The host's rollout wave in the newest fleet commit it judged (value 1), when the fleet has waves.", []string{api.LabelWave}, nil)
	descWaitingSince = prometheus.NewDesc(api.SeriesRolloutWaiting,
		"Since when the host holds a newer fleet commit back for the earlier rollout waves (Unix time); absent when it holds none.", []string{api.LabelCommit}, nil)
	descAgentVersion = prometheus.NewDesc(api.SeriesAgentVersion,
		"The herofleet version the agent runs (value 1; the version is a label).", []string{api.LabelVersion}, nil)
	descProblem = prometheus.NewDesc(api.SeriesProblem,
		"Each app or binary that is not fine (value 1): its state and reason code.", []string{api.LabelApp, api.LabelBinary, api.LabelState, api.LabelCode}, nil)
)

// describeFleetView sends the fleet view's descriptions.
func describeFleetView(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descHostInfo, descHeadInfo, descAppliedAt, descSyncPeriod, descAppInfo,
		descAppsExpected, descAppsRunning, descHealthy, descHealthyOn, descProblem, descWave, descWaitingSince, descAgentVersion} {
		ch <- d
	}
}

// collectFleetView sends the fleet view's series from st, the snapshot the scrape's other series come from.
func collectFleetView(ch chan<- prometheus.Metric, st Status, period time.Duration) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(descHostInfo, 1, st.Host, st.Role)
	if st.AgentVersion != "" {
		gauge(descAgentVersion, 1, st.AgentVersion)
	}
	if st.Fleet.Head != "" {
		gauge(descHeadInfo, 1, st.Fleet.Head)
	}
	if !st.Fleet.AppliedAt.IsZero() {
		gauge(descAppliedAt, float64(st.Fleet.AppliedAt.UnixMilli())/1000)
	}
	gauge(descSyncPeriod, period.Seconds())
	if r := st.Fleet.Rollout; r != nil {
		if r.Wave != "" {
			gauge(descWave, 1, r.Wave)
		}
		if r.Waiting != "" {
			gauge(descWaitingSince, float64(r.Since.UnixMilli())/1000, r.Waiting)
		}
	}
	quarantined := map[string]bool{}
	for _, q := range st.Quarantined {
		quarantined[q.App] = true
	}
	for _, app := range st.Apps {
		if !app.Expected() && !quarantined[app.Name] {
			continue
		}
		state := app.State
		if quarantined[app.Name] {
			state = api.AppQuarantined
		}
		gauge(descAppInfo, 1, app.Name, app.Rev, string(state))
	}
	v := st.Verdict()
	gauge(descAppsExpected, float64(v.Expected))
	gauge(descAppsRunning, float64(v.Running))
	healthy := 0.0
	if st.healthyWith(v) {
		healthy = 1
	}
	gauge(descHealthy, healthy)
	if st.Fleet.Commit != "" {
		gauge(descHealthyOn, healthy, st.Fleet.Commit)
	}
	seen := map[[4]string]bool{} // two problems of one binary in one state are one series
	for _, p := range v.Problems {
		code := string(p.Code)
		if code == "" {
			code = string(p.State)
		}
		key := [4]string{p.App, p.Binary, string(p.State), code}
		if !seen[key] {
			seen[key] = true
			gauge(descProblem, 1, key[:]...)
		}
	}
}
