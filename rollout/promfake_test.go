package rollout

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// The kinds of the gate's seven queries, told apart by how each begins (see Queries).
const (
	qUp       = "up"
	qApplied  = "applied"
	qSince    = "since"
	qHealthy  = "healthy"
	qScraped  = "scraped"
	qBaked    = "baked"
	qProblems = "problems"
)

func kindOf(q string) string {
	for _, k := range []struct{ prefix, kind string }{
		{"up *", qUp}, {"timestamp(herofleet_fleet_applied_info)", qApplied}, {"(time() - herofleet_fleet_applied_timestamp_seconds)", qSince},
		{"herofleet_host_healthy *", qHealthy}, {"timestamp(herofleet_host_healthy)", qScraped}, {"min_over_time(herofleet_host_healthy[", qBaked},
		{"timestamp(herofleet_problem_info)", qProblems},
	} {
		if strings.HasPrefix(q, k.prefix) && strings.Contains(q, " * on(instance, job) group_left(host) herofleet_host_info") {
			return k.kind
		}
	}
	return ""
}

// series is one sample of an instant vector: its labels (instance first, then pairs) and its value as Prometheus
// writes it, a string.
type series struct {
	labels map[string]string
	value  string
}

func ser(instance, value string, labels ...string) series {
	l := map[string]string{"job": "testers", "instance": "127.0.0.1:7072", "host": instance} // joined to its host_info
	for i := 0; i+1 < len(labels); i += 2 {
		l[labels[i]] = labels[i+1]
	}
	return series{l, value}
}

// answers are a fake Prometheus' series by query kind.
type answers map[string][]series

// add joins more series.
func (a answers) add(more answers) answers {
	for k, s := range more {
		a[k] = append(a[k], s...)
	}
	return a
}

// with is a with the series of one query kind replaced.
func with(a answers, kind string, s ...series) answers {
	a[kind] = s
	return a
}

// onCommit is a host as Prometheus sees it at time 1000: scraped (up), on commit in state ok since sinceSec
// seconds, its current health healthy and its health over the bake baked, with problems (app, state) pairs.
func onCommit(host, commit, sinceSec string, healthy, baked bool, problems ...string) answers {
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	a := answers{
		qUp:      {ser(host, "1")},
		qApplied: {ser(host, "1000", "commit", commit, "state", "ok")},
		qSince:   {ser(host, sinceSec)},
		qHealthy: {ser(host, b(healthy))},
		qScraped: {ser(host, "1000")},
		qBaked:   {ser(host, b(baked))},
	}
	for i := 0; i+1 < len(problems); i += 2 {
		a[qProblems] = append(a[qProblems], ser(host, "1000", "app", problems[i], "state", problems[i+1]))
	}
	return a
}

// vectorJSON is a successful /api/v1/query answer of an instant vector.
func vectorJSON(ss []series) string {
	type result struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	}
	rs := []result{}
	for _, s := range ss {
		rs = append(rs, result{s.labels, [2]any{1000.0, s.value}})
	}
	b, _ := json.Marshal(map[string]any{"status": "success", "data": map[string]any{"resultType": "vector", "result": rs}})
	return string(b)
}

// fakeProm is a Prometheus HTTP API answering each query kind from a, and failing the query kind fail (if any)
// with a Prometheus error. It records the queries asked.
type fakeProm struct {
	*httptest.Server
	mu      sync.Mutex
	queries []string
}

func newFakeProm(t *testing.T, a answers, fail string) *fakeProm {
	t.Helper()
	p := &fakeProm{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.FormValue("query")
		p.mu.Lock()
		p.queries = append(p.queries, q)
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/api/v1/query" || kindOf(q) == "" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":"unexpected query %q at %s"}`, q, r.URL.Path)
			return
		}
		if kindOf(q) == fail {
			w.WriteHeader(http.StatusUnprocessableEntity)
			fmt.Fprint(w, `{"status":"error","errorType":"execution","error":"query timed out in expression evaluation"}`)
			return
		}
		fmt.Fprint(w, vectorJSON(a[kindOf(q)]))
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *fakeProm) asked() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.queries...)
}
