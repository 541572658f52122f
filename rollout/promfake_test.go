package rollout

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// The kinds of the gate's seven queries, told apart by how each begins (see Queries).
const (
	kTargets  = "targets"
	kApplied  = "applied"
	kHealthy  = "healthy"
	kProblems = "problems"
	kOnCommit = "on-commit"
	kScrapes  = "scrapes"
	kRestarts = "restarts"
)

func kindOf(q string) string {
	for _, k := range []struct{ prefix, kind string }{
		{"timestamp(herofleet_host_info{", kTargets}, {"timestamp(herofleet_host_info)", kTargets},
		{"timestamp(herofleet_fleet_applied_info{instance=~", kApplied}, {"herofleet_host_healthy{instance=~", kHealthy},
		{"timestamp(herofleet_problem_info{instance=~", kProblems},
		{"((count_over_time(herofleet_host_healthy_on_commit{commit=", kOnCommit}, {"count_over_time(up{instance=~", kScrapes},
		{"changes(process_start_time_seconds{instance=~", kRestarts},
	} {
		if strings.HasPrefix(q, k.prefix) {
			return k.kind
		}
	}
	return ""
}

// targets is the answer to the targets query: the explicit one, or a target for each host the answers name.
func targets(a answers) []series {
	if t, ok := a[kTargets]; ok {
		return t
	}
	var out []series
	seen := map[string]bool{}
	for _, k := range []string{kApplied, kHealthy, kProblems, kOnCommit, kScrapes, kRestarts} {
		for _, s := range a[k] {
			if h := s.labels["host"]; !seen[h] {
				seen[h] = true
				out = append(out, ser(h, "1000"))
			}
		}
	}
	return out
}

// fakeConfig is the fake Prometheus' configuration: every job scraped every 15 s.
const fakeConfig = `{"status":"success","data":{"yaml":"global:\n  scrape_interval: 15s\nscrape_configs:\n- job_name: testers\n"}}`

// fakeRuntime: the fake Prometheus started a day ago.
var fakeRuntime = `{"status":"success","data":{"startTime":"` + time.Now().Add(-24*time.Hour).UTC().Format(time.RFC3339Nano) + `"}}`

// series is one sample of an instant vector: its labels (instance first, then pairs) and its value as Prometheus
// writes it, a string.
type series struct {
	labels map[string]string
	value  string
}

func ser(instance, value string, labels ...string) series {
	l := map[string]string{"job": "testers", "instance": instance + ".lab:7072", "host": instance} // its target, and its host_info's host
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

// onCommit is a host as Prometheus sees it, scraped every 15 s over a 10m bake (41 scrapes): on commit in state ok,
// healthy on it for the last sinceSec seconds (all 41 scrapes from 600 on), its current health healthy and, when
// not baked, one scrape of the bake not healthy on it; with problems (app, state) pairs.
func onCommit(host, commit, sinceSec string, healthy, baked bool, problems ...string) answers {
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	var since int
	fmt.Sscan(sinceSec, &since)
	on := min(41, since/15)
	if since >= 600 {
		on = 41 // every scrape of the bake
	}
	if !baked {
		on = min(on, 40)
	}
	a := answers{
		kApplied:  {ser(host, "1000", "commit", commit, "state", "ok")},
		kHealthy:  {ser(host, b(healthy))},
		kOnCommit: {ser(host, fmt.Sprint(on))},
		kScrapes:  {ser(host, "41")},
		kRestarts: {ser(host, "0")},
	}
	for i := 0; i+1 < len(problems); i += 2 {
		a[kProblems] = append(a[kProblems], ser(host, "1000", "app", problems[i], "state", problems[i+1]))
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
		rs = append(rs, result{s.labels, [2]any{float64(time.Now().UnixMilli()) / 1000, s.value}})
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
		switch r.URL.Path {
		case "/api/v1/status/config":
			fmt.Fprint(w, fakeConfig)
			return
		case "/api/v1/status/runtimeinfo":
			fmt.Fprint(w, fakeRuntime)
			return
		}
		q := r.FormValue("query")
		if r.FormValue("time") != "" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":"the gate sent its own time= %s"}`, r.FormValue("time"))
			return
		}
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
		if kindOf(q) == kTargets {
			fmt.Fprint(w, vectorJSON(targets(a)))
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
