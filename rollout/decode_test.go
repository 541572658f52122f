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
	return Observe(context.Background(), c, bake, only)
}

// What Prometheus' answers, as its HTTP API writes them, say of a host.
func TestObserveDecodesHostFacts(t *testing.T) {
	tests := []struct {
		name    string
		answers answers
		want    *HostFacts // of tester-07; nil: Prometheus says nothing of it
	}{
		{name: "scraped, healthy, baked",
			answers: onCommit("tester-07", commitC, "90.5", true, true),
			want:    &HostFacts{Commit: commitC, State: "ok", Since: 90500 * time.Millisecond, Scraped: true, Healthy: true, Baked: true}},
		{name: "the newest applied commit wins, whatever the order of the series",
			answers: with(onCommit("tester-07", commitC, "30", true, true), qApplied,
				ser("tester-07", "1000", "commit", commitC, "state", "waiting"), ser("tester-07", "700", "commit", commitA, "state", "ok")),
			want: &HostFacts{Commit: commitC, State: "waiting", Since: 30 * time.Second, Scraped: true, Healthy: true, Baked: true}},
		{name: "up 0: its last health is not current",
			answers: with(onCommit("tester-07", commitC, "30", true, true), qUp, ser("tester-07", "0")),
			want:    &HostFacts{Commit: commitC, State: "ok", Since: 30 * time.Second, Healthy: true, Baked: true}},
		{name: "no up series: not scraped",
			answers: with(onCommit("tester-07", commitC, "30", true, true), qUp),
			want:    &HostFacts{Commit: commitC, State: "ok", Since: 30 * time.Second, Healthy: true, Baked: true}},
		{name: "unhealthy now and over the bake, a binary and an app problem of the last scrape",
			answers: onCommit("tester-07", commitC, "30", false, false).add(answers{qProblems: {
				ser("tester-07", "1000", "app", "books", "binary", "books_web", "state", "crashloop"),
				ser("tester-07", "1000", "app", "notes", "state", "quarantined"),
				ser("tester-07", "999", "app", "voice", "state", "failed"), // an older scrape's
			}}),
			want: &HostFacts{Commit: commitC, State: "ok", Since: 30 * time.Second, Scraped: true, Problems: []string{"books_web crashloop", "notes quarantined"}}},
		{name: "problems of a host without a health sample are not told",
			answers: answers{qProblems: {ser("tester-07", "1000", "app", "books", "state", "quarantined")}},
			want:    nil},
		{name: "only up: nothing known of it", answers: answers{qUp: {ser("tester-07", "1")}}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newFakeProm(t, tt.answers, "")
			obs, err := observe(t, p.URL, 5*time.Minute, []string{"tester-07"})
			if err != nil {
				t.Fatal(err)
			}
			if obs.Bake != 5*time.Minute {
				t.Errorf("bake %s, want 5m", obs.Bake)
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
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
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
	tests := []struct {
		name    string
		answers [][]promapi.Sample
		want    map[string]string // host: "commit scraped healthy baked"
	}{
		{name: "no answer at all", answers: nil, want: map[string]string{}},
		{name: "only up and the applied commit", answers: [][]promapi.Sample{{sample("t1", 1)}, {sample("t1", 5, "commit", commitC, "state", "ok")}},
			want: map[string]string{"t1": "5d6e7f8 false false false"}},
		{name: "two hosts' answers joined", answers: [][]promapi.Sample{
			{sample("t1", 1), sample("t2", 1)},
			{sample("t1", 5, "commit", commitC), sample("t2", 5, "commit", commitA)},
			{sample("t1", 60), sample("t2", 60)},
			{sample("t1", 1), sample("t2", 0)},
			{sample("t1", 5), sample("t2", 5)},
			{sample("t1", 1), sample("t2", 0)},
		}, want: map[string]string{"t1": "5d6e7f8 true true true", "t2": "1a2b3c4 true false false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := Decode(time.Minute, tt.answers)
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
