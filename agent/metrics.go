package agent

import (
	"net/http"
	"time"

	"github.com/herofleet/herofleet/api"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the agent's Prometheus instruments, in a registry of its own (never the global one: two agents in
// one test process must not share series). Events (syncs, builds, applies) are counted as they happen; states are
// read from a status snapshot at scrape time, so they can never drift from what the API says.
type metrics struct {
	reg          *prometheus.Registry
	syncs        prometheus.Counter
	syncFailures prometheus.Counter
	syncAsked    prometheus.Counter
	builds       *prometheus.HistogramVec
	applies      *prometheus.HistogramVec
}

// durationBuckets span a cached no-op (10ms) to a long release build (30m).
var durationBuckets = []float64{0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800}

func newMetrics(a *Agent) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		syncs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: api.SeriesSyncs, Help: "Syncs of the fleet repo, successful or not.",
		}),
		syncFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: api.SeriesSyncFailures, Help: "Syncs that failed (remote unreachable, fetch error, host not resolvable).",
		}),
		syncAsked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: api.SeriesSyncRequests, Help: "Syncs asked for out of schedule (API, webhook, install on click, resume).",
		}),
		builds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: api.SeriesBuildDuration, Help: "Time to check out and build one app revision.", Buckets: durationBuckets,
		}, []string{api.LabelApp, api.LabelResult}),
		applies: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: api.SeriesApplyDuration, Help: "Time to apply one app revision: build, hooks, start, health (or roll back).", Buckets: durationBuckets,
		}, []string{api.LabelApp, api.LabelResult}),
	}
	m.reg.MustRegister(m.syncs, m.syncFailures, m.syncAsked, m.builds, m.applies,
		&stateCollector{a: a},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func result(err error) string {
	if err != nil {
		return api.ResultFailed
	}
	return api.ResultOK
}

// syncDone counts one sync. A nil *metrics (an Agent not made by New) counts nothing.
func (m *metrics) syncDone(err error) {
	if m == nil {
		return
	}
	m.syncs.Inc()
	if err != nil {
		m.syncFailures.Inc()
	}
}

// syncRequested counts one sync asked for out of schedule.
func (m *metrics) syncRequested() {
	if m != nil {
		m.syncAsked.Inc()
	}
}

func (m *metrics) buildDone(app string, start time.Time, err error) {
	if m != nil {
		m.builds.WithLabelValues(app, result(err)).Observe(time.Since(start).Seconds())
	}
}

func (m *metrics) applyDone(app string, start time.Time, failed bool) {
	if m == nil {
		return
	}
	res := api.ResultOK
	if failed {
		res = api.ResultFailed
	}
	m.applies.WithLabelValues(app, res).Observe(time.Since(start).Seconds())
}

// MetricsHandler serves the agent's /metrics.
func (a *Agent) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(a.metrics.reg, promhttp.HandlerOpts{Registry: a.metrics.reg})
}

// stateCollector turns a status snapshot into gauges at scrape time.
type stateCollector struct{ a *Agent }

var (
	descFleetInfo = prometheus.NewDesc(api.SeriesFleetApplied,
		"The fleet commit applied on this host (value 1; the commit is a label).", []string{api.LabelCommit, api.LabelState}, nil)
	descLastSync = prometheus.NewDesc(api.SeriesFleetLastSync,
		"When the fleet repo was last synced (Unix time).", nil, nil)
	descRefused = prometheus.NewDesc(api.SeriesFleetRefused,
		"Fleet commits refused since the last good one.", nil, nil)
	descQuarantined = prometheus.NewDesc(api.SeriesAppQuarantined,
		"1 when an app is quarantined until its spec changes.", []string{api.LabelApp}, nil)
	descAppState = prometheus.NewDesc(api.SeriesAppState,
		"1 for the state each app of this host is in (not-installed, installing, failed, installed).", []string{api.LabelApp, api.LabelState}, nil)
	descBinaryState = prometheus.NewDesc(api.SeriesBinaryState,
		"1 for the state each installed binary is in (starting, running, stopped, crashloop, failed).", []string{api.LabelApp, api.LabelBinary, api.LabelState}, nil)
	descDrift = prometheus.NewDesc(api.SeriesAppDrift,
		"1 while what an installed app runs drifted from what was installed (a hand-copied executable, a chmod, a deleted file), else 0.", []string{api.LabelApp}, nil)
	descRestarts = prometheus.NewDesc(api.SeriesBinaryRestarts,
		"Restarts of a binary by the supervisor since it was last started by the agent.", []string{api.LabelApp, api.LabelBinary}, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descFleetInfo, descLastSync, descRefused, descQuarantined, descAppState, descBinaryState, descRestarts, descDrift} {
		ch <- d
	}
	describeFleetView(ch)
}

// Collect takes one snapshot per scrape, for every series.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.a.Status()
	collectFleetView(ch, st, c.a.syncPeriod())
	ch <- prometheus.MustNewConstMetric(descFleetInfo, prometheus.GaugeValue, 1, st.Fleet.Commit, string(st.Fleet.State))
	if !st.Fleet.LastSync.IsZero() {
		ch <- prometheus.MustNewConstMetric(descLastSync, prometheus.GaugeValue, float64(st.Fleet.LastSync.UnixMilli())/1000)
	}
	ch <- prometheus.MustNewConstMetric(descRefused, prometheus.GaugeValue, float64(len(st.Refused)))
	for _, q := range st.Quarantined {
		ch <- prometheus.MustNewConstMetric(descQuarantined, prometheus.GaugeValue, 1, q.App)
	}
	for _, app := range st.Apps {
		ch <- prometheus.MustNewConstMetric(descAppState, prometheus.GaugeValue, 1, app.Name, string(app.State))
		if app.State != api.AppInstalled {
			continue
		}
		drift := 0.0
		if app.Code == api.ReasonDrift {
			drift = 1
		}
		ch <- prometheus.MustNewConstMetric(descDrift, prometheus.GaugeValue, drift, app.Name)
		for _, b := range app.Binaries {
			ch <- prometheus.MustNewConstMetric(descBinaryState, prometheus.GaugeValue, 1, app.Name, b.Name, string(b.State))
			ch <- prometheus.MustNewConstMetric(descRestarts, prometheus.CounterValue, float64(b.Restarts), app.Name, b.Name)
		}
	}
}
