package fleetview

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/promapi"
)

// series is one sample of an instant vector as Prometheus' HTTP API writes it.
type series struct {
	labels map[string]string
	value  string
}

// ser is a sample of a scrape target: the instance given is the host's name, which its herofleet_host_info
// says (as the host label the joined queries carry); the target itself is an address in the job testers.
func ser(value string, labels ...string) series {
	l := map[string]string{"job": "testers"}
	for i := 0; i+1 < len(labels); i += 2 {
		l[labels[i]] = labels[i+1]
	}
	if h, ok := l["instance"]; ok {
		l["host"], l["instance"] = h, "10.0.0.1:7072/"+h
	}
	return series{l, value}
}

// vectorJSON is a successful /api/v1/query answer holding the samples.
func vectorJSON(ss []series) string {
	type result struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	}
	rs := []result{}
	for _, s := range ss {
		rs = append(rs, result{s.labels, [2]any{1764763200.0, s.value}})
	}
	b, _ := json.Marshal(map[string]any{"status": "success", "data": map[string]any{"resultType": "vector", "result": rs}})
	return string(b)
}

// fakeProm answers each query by the first key of answers it contains (a metric name); any other query is
// answered with an empty vector, and a query containing fail with a Prometheus error.
func fakeProm(t *testing.T, answers map[string][]series, fail string) *promapi.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.FormValue("query")
		w.Header().Set("Content-Type", "application/json")
		if fail != "" && strings.Contains(q, fail) {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"status":"error","errorType":"bad_data","error":"parse error"}`)
			return
		}
		if q == "herofleet_host_info" { // every target up reports its host, with its role
			info := answers["herofleet_host_info"]
			for _, u := range answers["up *"] {
				if !slices.ContainsFunc(info, func(i series) bool { return i.labels["host"] == u.labels["host"] }) {
					info = append(info, series{map[string]string{"job": u.labels["job"], "instance": u.labels["instance"],
						"host": u.labels["host"], "role": strings.Split(u.labels["host"], "-")[0]}, "1"})
				}
			}
			fmt.Fprint(w, vectorJSON(info))
			return
		}
		// the gauges query names several metrics: match the most specific key first
		for _, key := range []string{"__name__", "herofleet_fleet_applied_info", "herofleet_problem_info", "herofleet_agent_version_info", "up *"} {
			if strings.Contains(q, key) {
				if key != "__name__" && !strings.HasSuffix(q, " * on(instance, job) group_left(host) herofleet_host_info") {
					t.Errorf("query %s is not joined to its host", q)
				}
				answer := answers[key]
				if key == "__name__" { // the gauges keep their target's labels, not the host's
					answer = nil
					for _, g := range answers[key] {
						l := maps.Clone(g.labels)
						delete(l, "host")
						answer = append(answer, series{l, g.value})
					}
				}
				fmt.Fprint(w, vectorJSON(answer))
				return
			}
		}
		fmt.Fprint(w, vectorJSON(nil))
	}))
	t.Cleanup(srv.Close)
	c, err := promapi.New(srv.URL, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func twoHostFleet() *fleet.Fleet {
	f := &fleet.Fleet{Hosts: map[string]*fleet.Host{"tester-01": {Role: "tester"}, "admin-01": {Role: "admin"}}}
	f.Meta.Name = "hero"
	return f
}

// gauges is a healthy host's gauges: apps, health, a last sync ago before now and its sync period.
func gauges(host string, expected, running int, healthy bool, ago time.Duration, period string) []series {
	h := "0"
	if healthy {
		h = "1"
	}
	last := fmt.Sprintf("%.3f", float64(time.Now().Add(-ago).UnixMilli())/1000)
	out := []series{
		ser(fmt.Sprint(expected), "__name__", "herofleet_apps_expected", "instance", host),
		ser(fmt.Sprint(running), "__name__", "herofleet_apps_running", "instance", host),
		ser(h, "__name__", "herofleet_host_healthy", "instance", host),
		ser(last, "__name__", "herofleet_fleet_last_sync_timestamp_seconds", "instance", host),
	}
	if period != "" {
		out = append(out, ser(period, "__name__", "herofleet_sync_period_seconds", "instance", host))
	}
	return out
}

func TestFromPrometheusJudgesEachHost(t *testing.T) {
	type want struct {
		state, stale, commit string
		onHead, healthy      bool
		expected, running    int
		problems             int
	}
	tests := []struct {
		name    string
		answers map[string][]series
		host    string
		want    want
	}{
		{name: "scraped, on HEAD, healthy", host: "tester-01", answers: map[string][]series{
			"up *":                         {ser("1", "instance", "tester-01")},
			"herofleet_fleet_applied_info": {ser("1", "instance", "tester-01", "commit", headC, "state", "ok")},
			"__name__":                     gauges("tester-01", 3, 3, true, 10*time.Second, "60"),
		}, want: want{state: "ok", commit: headC, onHead: true, healthy: true, expected: 3, running: 3}},
		{name: "behind HEAD", host: "tester-01", answers: map[string][]series{
			"up *":                         {ser("1", "instance", "tester-01")},
			"herofleet_fleet_applied_info": {ser("1", "instance", "tester-01", "commit", "1a2b3c4d", "state", "waiting")},
			"__name__":                     gauges("tester-01", 3, 3, true, 10*time.Second, "60"),
		}, want: want{state: "waiting", commit: "1a2b3c4d", healthy: true, expected: 3, running: 3}},
		{name: "a problem is listed", host: "tester-01", answers: map[string][]series{
			"up *":                         {ser("1", "instance", "tester-01")},
			"herofleet_fleet_applied_info": {ser("1", "instance", "tester-01", "commit", headC, "state", "ok")},
			"__name__":                     gauges("tester-01", 3, 2, false, 10*time.Second, "60"),
			"herofleet_problem_info":       {ser("1", "instance", "tester-01", "app", "books", "state", "quarantined", "code", "apply-failed")},
		}, want: want{state: "ok", commit: headC, onHead: true, expected: 3, running: 2, problems: 1}},
		{name: "not scraped at all", host: "admin-01", answers: map[string][]series{},
			want: want{state: "stale", stale: "Prometheus has no herofleet agent reporting it"}},
		{name: "up 0: its agent does not answer Prometheus", host: "tester-01", answers: map[string][]series{
			"up *":                         {ser("0", "instance", "tester-01")},
			"herofleet_fleet_applied_info": {ser("1", "instance", "tester-01", "commit", headC, "state", "ok")},
			"__name__":                     gauges("tester-01", 3, 3, true, 10*time.Second, "60"),
		}, want: want{state: "stale", stale: "Prometheus cannot scrape its agent", commit: headC, onHead: true, expected: 3, running: 3}},
		{name: "last sync older than three of its own periods", host: "tester-01", answers: map[string][]series{
			"up *":                         {ser("1", "instance", "tester-01")},
			"herofleet_fleet_applied_info": {ser("1", "instance", "tester-01", "commit", headC, "state", "ok")},
			"__name__":                     gauges("tester-01", 3, 3, true, 4*time.Minute, "60"),
		}, want: want{state: "stale", stale: "older than 3m0s", commit: headC, onHead: true, expected: 3, running: 3}},
		{name: "its own sync period wins over the fleet's", host: "tester-01", answers: map[string][]series{
			"up *":                         {ser("1", "instance", "tester-01")},
			"herofleet_fleet_applied_info": {ser("1", "instance", "tester-01", "commit", headC, "state", "ok")},
			"__name__":                     gauges("tester-01", 3, 3, true, 20*time.Minute, "600"),
		}, want: want{state: "ok", commit: headC, onHead: true, healthy: true, expected: 3, running: 3}},
		{name: "no sync period series: the fleet's (1m) counts", host: "tester-01", answers: map[string][]series{
			"up *":                         {ser("1", "instance", "tester-01")},
			"herofleet_fleet_applied_info": {ser("1", "instance", "tester-01", "commit", headC, "state", "ok")},
			"__name__":                     gauges("tester-01", 3, 3, true, 4*time.Minute, ""),
		}, want: want{state: "stale", stale: "older than 3m0s", commit: headC, onHead: true, expected: 3, running: 3}},
		{name: "scraped but never synced", host: "tester-01", answers: map[string][]series{
			"up *": {ser("1", "instance", "tester-01")},
		}, want: want{state: "stale", stale: "it has never synced"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := FromPrometheus(context.Background(), fakeProm(t, tt.answers, ""), "http://prom:9090", twoHostFleet(), headC, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if r.Fleet != "hero" || r.Head != headC || r.Source != "http://prom:9090" || len(r.Hosts) != 2 {
				t.Fatalf("report %+v: want fleet hero at %s from the URL given, with both hosts", r, headC)
			}
			var row *HostRow
			for i := range r.Hosts {
				if r.Hosts[i].Host == tt.host {
					row = &r.Hosts[i]
				}
			}
			if row == nil {
				t.Fatalf("no row for %s in %+v", tt.host, r.Hosts)
			}
			w := tt.want
			got := want{state: row.State, commit: row.Commit, onHead: row.OnHead, healthy: row.Healthy, expected: row.Expected,
				running: row.Running, problems: len(row.Problems)}
			if w.stale == "" && row.Stale != "" || !strings.Contains(row.Stale, w.stale) {
				t.Errorf("stale %q, want %q", row.Stale, w.stale)
			}
			got.stale = w.stale
			if got != w {
				t.Errorf("row %+v\nwant %+v", got, w)
			}
			if r.OK() {
				t.Error("a fleet with a host not scraped is not OK")
			}
		})
	}
}

// Every scraped instance gets a row, even one without a host file, named and placed by its host info; problems
// carry their app, binary, state and code.
func TestFromPrometheusRowsAndProblems(t *testing.T) {
	c := fakeProm(t, map[string][]series{
		"up *":                {ser("1", "instance", "tester-01"), ser("1", "instance", "admin-01"), ser("1", "instance", "extra-09")},
		"herofleet_host_info": {ser("1", "instance", "extra-09", "host", "extra-09", "role", "spare")},
		"herofleet_fleet_applied_info": {ser("1", "instance", "tester-01", "commit", headC, "state", "ok"),
			ser("1", "instance", "admin-01", "commit", headC, "state", "ok"), ser("1", "instance", "extra-09", "commit", headC, "state", "ok")},
		"__name__": append(append(gauges("tester-01", 2, 1, false, time.Second, "60"), gauges("admin-01", 1, 1, true, time.Second, "60")...),
			gauges("extra-09", 0, 0, true, time.Second, "60")...),
		"herofleet_problem_info":       {ser("1", "instance", "tester-01", "app", "books", "binary", "books_web", "state", "crashloop", "code", "exited")},
		"herofleet_agent_version_info": {ser("1", "instance", "tester-01", "version", "v0.5.0"), ser("1", "instance", "admin-01", "version", "v0.4.1")},
	}, "")
	r, err := FromPrometheus(context.Background(), c, "p", twoHostFleet(), headC, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, h := range r.Hosts {
		order = append(order, h.Host+"/"+h.Role)
	}
	if got := strings.Join(order, " "); got != "tester-01/tester admin-01/admin extra-09/spare" {
		t.Errorf("rows %s, want the unhealthy tester-01 first, then admin-01 and the unlisted extra-09 with its role", got)
	}
	p := r.Hosts[0].Problems
	if len(p) != 1 || p[0].App != "books" || p[0].Binary != "books_web" || p[0].State != "crashloop" || string(p[0].Code) != "exited" {
		t.Errorf("problems %+v, want books/books_web crashloop (exited)", p)
	}
	if r.Hosts[1].Problems == nil {
		t.Error("a host without problems has an empty list (JSON []), not nil")
	}
	if r.Hosts[0].Version != "v0.5.0" || r.Hosts[1].Version != "v0.4.1" || r.Hosts[2].Version != "" {
		t.Errorf("agent versions %q %q %q, want each host's own", r.Hosts[0].Version, r.Hosts[1].Version, r.Hosts[2].Version)
	}
}

// Any failed query fails the report: no answer is not a fine fleet.
func TestFromPrometheusFailedQuery(t *testing.T) {
	for _, fail := range []string{"up *", "herofleet_host_info", "herofleet_fleet_applied_info", "__name__", "herofleet_problem_info"} {
		t.Run(fail, func(t *testing.T) {
			_, err := FromPrometheus(context.Background(), fakeProm(t, nil, fail), "p", twoHostFleet(), headC, time.Minute)
			if err == nil || !strings.Contains(err.Error(), "parse error") {
				t.Errorf("err = %v, want the failed query's error", err)
			}
		})
	}
}
