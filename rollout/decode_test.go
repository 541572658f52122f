package rollout

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/internal/promapi"
)

func observe(t *testing.T, url string, bake time.Duration, only []string) (Observation, error) {
	t.Helper()
	c, err := promapi.New(url, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return Observe(context.Background(), c, bake, commitC, only)
}

// What Prometheus' answers, as its HTTP API writes them, say of a host.
func TestObserveDecodesHostFacts(t *testing.T) {
	tests := []struct {
		name    string
		answers answers
		want    *HostFacts // of tester-07; nil: Prometheus says nothing of it
	}{
		{name: "scraped, healthy on it at every scrape of the bake: baked",
			answers: onCommit("tester-07", commitC, "600", true, true),
			want:    &HostFacts{Commit: commitC, State: "ok", Since: 10 * time.Minute, Scraped: true, Healthy: true, Baked: true}},
		{name: "the newest applied commit wins, whatever the order of the series",
			answers: with(onCommit("tester-07", commitC, "600", true, true), kApplied,
				ser("tester-07", "1000", "commit", commitC, "state", "waiting"), ser("tester-07", "700", "commit", commitA, "state", "ok")),
			want: &HostFacts{Commit: commitC, State: "waiting", Since: 10 * time.Minute, Scraped: true, Healthy: true, Baked: true}},
		{name: "no current health sample: not scraped, its bake not judged",
			answers: with(onCommit("tester-07", commitC, "600", true, true), kHealthy),
			want:    &HostFacts{Commit: commitC, State: "ok"}},
		{name: "baking: healthy on it at the last 16 scrapes",
			answers: onCommit("tester-07", commitC, "240", true, true),
			want:    &HostFacts{Commit: commitC, State: "ok", Since: 4 * time.Minute, Scraped: true, Healthy: true}},
		{name: "unhealthy now, a binary and an app problem of the last scrape",
			answers: onCommit("tester-07", commitC, "600", false, false).add(answers{kProblems: {
				ser("tester-07", "1000", "app", "books", "binary", "books_web", "state", "crashloop"),
				ser("tester-07", "1000", "app", "notes", "state", "quarantined"),
				ser("tester-07", "1000", "app", "memory", "state", "installed", "code", "not-on-commit"),
				ser("tester-07", "999", "app", "voice", "state", "failed"), // an older scrape's
			}}),
			want: &HostFacts{Commit: commitC, State: "ok", Since: 592500 * time.Millisecond, Scraped: true,
				BakeWhy:  "not healthy on it, or not scraped, at 1 of Prometheus' 41 scrapes of the last 10m0s",
				Problems: []string{"books_web crashloop", "notes quarantined", "memory not-on-commit"}}},
		{name: "a failed scrape in the bake (up 0, no sample on the commit)",
			answers: with(onCommit("tester-07", commitC, "600", true, true), kScrapes, ser("tester-07", "42")),
			want: &HostFacts{Commit: commitC, State: "ok", Since: 592500 * time.Millisecond, Scraped: true, Healthy: true,
				BakeWhy: "not healthy on it, or not scraped, at 1 of Prometheus' 42 scrapes of the last 10m0s"}},
		{name: "a gap: fewer scrapes than the bake holds",
			answers: with(with(onCommit("tester-07", commitC, "600", true, true), kScrapes, ser("tester-07", "30")), kOnCommit, ser("tester-07", "30")),
			want: &HostFacts{Commit: commitC, State: "ok", Since: 450 * time.Second, Scraped: true, Healthy: true,
				BakeWhy: "Prometheus has 30 scrapes of it in the last 10m0s, want 39 at one every 15s: a gap starts the bake again"}},
		{name: "its agent restarted in the bake",
			answers: with(onCommit("tester-07", commitC, "600", true, true), kRestarts, ser("tester-07", "1")),
			want: &HostFacts{Commit: commitC, State: "ok", Scraped: true, Healthy: true,
				BakeWhy: "its agent restarted in the last 10m0s: the bake starts again"}},
		{name: "its target stamped samples of the bake itself: none counts",
			answers: with(onCommit("tester-07", commitC, "600", true, true), kOnCommit, ser("tester-07", "-1")),
			want: &HostFacts{Commit: commitC, State: "ok", Scraped: true, Healthy: true,
				BakeWhy: "its target wrote times of its own on samples of herofleet_host_healthy_on_commit in the last 10m0s " +
					"(Prometheus honours them unless honor_timestamps: false): none counts, only samples Prometheus stamps do"}},
		{name: "problems of a host without a health sample are not told",
			answers: answers{kProblems: {ser("tester-07", "1000", "app", "books", "state", "quarantined")}},
			want:    nil},
		{name: "only its scrapes: nothing known of it", answers: answers{kScrapes: {ser("tester-07", "41")}}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newFakeProm(t, tt.answers, "")
			obs, err := observe(t, p.URL, 10*time.Minute, []string{"tester-07"})
			if err != nil {
				t.Fatal(err)
			}
			if obs.Bake != 10*time.Minute {
				t.Errorf("bake %s, want 10m", obs.Bake)
			}
			got := obs.Hosts["tester-07"]
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", tt.want) {
				t.Errorf("facts %+v\nwant  %+v", got, tt.want)
			}
		})
	}
}

// Any answer that is not an instant vector fails the observation, and the gate holds on it.
func TestObserveFailsOnAnyBadAnswer(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"a proxy's error page", http.StatusBadGateway, "<html>bad gateway</html>", "not a Prometheus answer"},
		{"a Prometheus error", http.StatusBadRequest, `{"status":"error","errorType":"bad_data","error":"parse error at char 3"}`, "parse error at char 3"},
		{"a range answer", http.StatusOK, `{"status":"success","data":{"resultType":"matrix","result":[]}}`, "want an instant vector"},
		{"a value that is not a number", http.StatusOK,
			`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"instance":"t"},"value":[1000,"many"]}]}}`, "invalid syntax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/api/v1/status/config":
					fmt.Fprint(w, fakeConfig)
					return
				case "/api/v1/status/runtimeinfo":
					fmt.Fprint(w, fakeRuntime)
					return
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			defer srv.Close()
			_, err := observe(t, srv.URL, time.Minute, nil)
			if err == nil || !strings.HasPrefix(err.Error(), "no answer from Prometheus: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want no answer with %q", err, tt.want)
			}
		})
	}
}

// Decode takes fewer answers than seven (a missing one says nothing) and joins answers narrowed to some hosts.
func TestDecodeMissingAndJoinedAnswers(t *testing.T) {
	every := promapi.Scrapes{Global: 15 * time.Second}
	tests := []struct {
		name    string
		answers [][]promapi.Sample
		want    map[string]string // host: "commit scraped healthy baked"
	}{
		{name: "no answer at all", answers: nil, want: map[string]string{}},
		{name: "only the targets and the applied commit", answers: [][]promapi.Sample{{sample("t1", 5)}, {sample("t1", 5, "commit", commitC, "state", "ok")}},
			want: map[string]string{"t1": "5d6e7f8 false false false"}},
		{name: "two hosts' answers joined", answers: [][]promapi.Sample{
			{sample("t1", 5), sample("t2", 5)},
			{sample("t1", 5, "commit", commitC), sample("t2", 5, "commit", commitA)},
			{sample("t1", 1), sample("t2", 0)},
			{},
			{sample("t1", 5)}, // healthy on the commit at each of its 5 scrapes of the minute
			{sample("t1", 5), sample("t2", 5)},
		}, want: map[string]string{"t1": "5d6e7f8 true true true", "t2": "1a2b3c4 true false false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := Decode(time.Minute, every, tt.answers)
			got := map[string]string{}
			for h, f := range obs.Hosts {
				got[h] = fmt.Sprintf("%.7s %v %v %v", f.Commit, f.Scraped, f.Healthy, f.Baked)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("facts %v, want %v", got, tt.want)
			}
		})
	}
}

// A Prometheus that does not say how it scrapes (its configuration or runtime unreadable) is no answer: the bake
// cannot be counted without the scrape interval and its start.
func TestObserveFailsWithoutScrapeStatus(t *testing.T) {
	for _, path := range []string{"/api/v1/status/config", "/api/v1/status/runtimeinfo"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case path:
				http.Error(w, "forbidden", http.StatusForbidden)
			case "/api/v1/status/config":
				fmt.Fprint(w, fakeConfig)
			case "/api/v1/status/runtimeinfo":
				fmt.Fprint(w, fakeRuntime)
			default:
				fmt.Fprint(w, vectorJSON(nil))
			}
		}))
		_, err := observe(t, srv.URL, time.Minute, nil)
		srv.Close()
		if err == nil || !strings.HasPrefix(err.Error(), "no answer from Prometheus: ") || !strings.Contains(err.Error(), path) {
			t.Errorf("%s refused: err = %v, want no answer naming it", path, err)
		}
	}
}
