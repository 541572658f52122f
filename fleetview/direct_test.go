package fleetview

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/fleet"
)

// agentStatus is an agent's GET /api/v1/status answer: one desired app with one binary in binState.
func agentStatus(role, commit, state string, lastSync time.Time, binState string) string {
	last := "null"
	if !lastSync.IsZero() {
		last = `"` + lastSync.UTC().Format(time.RFC3339) + `"`
	}
	return fmt.Sprintf(`{"host":"x","role":%q,"fleet":{"commit":%q,"head":%q,"applied_at":null,"last_sync":%s,"state":%q,"error":""},
"refused":[],"quarantined":[],"catalog":[],
"apps":[{"name":"books","state":"installed","why":"role tester","binaries":[{"name":"books_web","kind":"web","state":%q,"reason":"exited 1","restarts":3}]}]}`,
		role, commit, commit, last, state, binState)
}

// The fleet status asked of each agent: a host is judged from its own status, and one that does not answer, or
// answers something else than a status, is stale with the reason.
func TestDirectJudgesEachAgent(t *testing.T) {
	recent := time.Now().Add(-10 * time.Second)
	tests := []struct {
		name    string
		handler http.HandlerFunc // nil: nothing listens
		want    HostRow          // the fields compared: Role, Commit, OnHead, State, Healthy, Expected, Running
		stale   string           // a part of the reason, "" for none
		problem string           // the first problem's "app/binary state"
	}{
		{name: "on HEAD and healthy", handler: answer(agentStatus("tester", headC, "ok", recent, "running")),
			want: HostRow{Role: "tester", Commit: headC, OnHead: true, State: "ok", Healthy: true, Expected: 1, Running: 1}},
		{name: "the agent's role wins over the host file's", handler: answer(agentStatus("admin", headC, "ok", recent, "running")),
			want: HostRow{Role: "admin", Commit: headC, OnHead: true, State: "ok", Healthy: true, Expected: 1, Running: 1}},
		{name: "behind HEAD, healthy", handler: answer(agentStatus("tester", "1a2b3c4d5e6f7a8b", "waiting", recent, "running")),
			want: HostRow{Role: "tester", Commit: "1a2b3c4d5e6f7a8b", State: "waiting", Healthy: true, Expected: 1, Running: 1}},
		{name: "a crashlooping binary", handler: answer(agentStatus("tester", headC, "ok", recent, "crashloop")),
			want:    HostRow{Role: "tester", Commit: headC, OnHead: true, State: "ok", Expected: 1},
			problem: "books/books_web crashloop"},
		{name: "a refused commit is not healthy", handler: answer(agentStatus("tester", headC, "refused", recent, "running")),
			want: HostRow{Role: "tester", Commit: headC, OnHead: true, State: "refused", Expected: 1, Running: 1}},
		{name: "last sync older than three periods", handler: answer(agentStatus("tester", headC, "ok", time.Now().Add(-4*time.Minute), "running")),
			want:  HostRow{Role: "tester", Commit: headC, OnHead: true, State: "stale", Healthy: true, Expected: 1, Running: 1},
			stale: "older than 3m0s"},
		{name: "never synced", handler: answer(agentStatus("tester", "", "syncing", time.Time{}, "running")),
			want:  HostRow{Role: "tester", State: "stale", Healthy: true, Expected: 1, Running: 1},
			stale: "it has never synced"},
		{name: "not answering", want: HostRow{Role: "tester", State: "stale"}, stale: "no answer"},
		{name: "answers 503", handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) },
			want: HostRow{Role: "tester", State: "stale"}, stale: "no status: 503 Service Unavailable"},
		{name: "answers something else than a status", handler: answer("<html>login</html>"),
			want: HostRow{Role: "tester", State: "stale"}, stale: "unreadable status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := "http://127.0.0.1:1" // nothing listens on port 1
			if tt.handler != nil {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path != "/api/v1/status" {
						http.NotFound(w, r)
						return
					}
					tt.handler(w, r)
				}))
				defer srv.Close()
				url = srv.URL
			}
			f := &fleet.Fleet{Hosts: map[string]*fleet.Host{"tester-01": {Role: "tester", Agent: url + "/"}}}
			f.Meta.Name = "hero"
			r := Direct(context.Background(), f, headC, DirectOptions{Timeout: 2 * time.Second, SyncPeriod: time.Minute})
			if r.Fleet != "hero" || r.Source != "agents" || r.Head != headC || len(r.Hosts) != 1 {
				t.Fatalf("report %+v", r)
			}
			h := r.Hosts[0]
			if h.Host != "tester-01" || h.Agent != url {
				t.Errorf("row of %s at %s, want tester-01 at %s (the host file's agent, without its slash)", h.Host, h.Agent, url)
			}
			got := HostRow{Role: h.Role, Commit: h.Commit, OnHead: h.OnHead, State: h.State, Healthy: h.Healthy, Expected: h.Expected, Running: h.Running}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("row %+v\nwant %+v", got, tt.want)
			}
			if tt.stale == "" && h.Stale != "" || !strings.Contains(h.Stale, tt.stale) {
				t.Errorf("stale %q, want %q", h.Stale, tt.stale)
			}
			var problem string
			if len(h.Problems) > 0 {
				problem = h.Problems[0].App + "/" + h.Problems[0].Binary + " " + string(h.Problems[0].State)
			}
			if problem != tt.problem {
				t.Errorf("problem %q, want %q", problem, tt.problem)
			}
			if h.Problems == nil {
				t.Error("problems is nil: JSON would say null, not []")
			}
			if fine := tt.want.OnHead && tt.want.Healthy && tt.stale == ""; r.OK() != fine {
				t.Errorf("OK() = %v, want %v", r.OK(), fine)
			}
		})
	}
}

func answer(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}
}

// Many hosts asked a few at once: every host gets its row, problems first, then by name.
func TestDirectManyHostsSorted(t *testing.T) {
	fine := httptest.NewServer(answer(agentStatus("tester", headC, "ok", time.Now(), "running")))
	defer fine.Close()
	sick := httptest.NewServer(answer(agentStatus("tester", headC, "ok", time.Now(), "crashloop")))
	defer sick.Close()
	f := &fleet.Fleet{Hosts: map[string]*fleet.Host{}}
	for i := range 20 {
		f.Hosts[fmt.Sprintf("tester-%02d", i)] = &fleet.Host{Role: "tester", Agent: fine.URL}
	}
	f.Hosts["tester-13"].Agent = sick.URL
	f.Hosts["tester-17"].Agent = "http://127.0.0.1:1"
	r := Direct(context.Background(), f, headC, DirectOptions{Concurrency: 3, Timeout: 2 * time.Second, SyncPeriod: time.Minute})
	if len(r.Hosts) != 20 {
		t.Fatalf("%d rows, want 20", len(r.Hosts))
	}
	if r.Hosts[0].Host != "tester-17" || r.Hosts[1].Host != "tester-13" || r.Hosts[2].Host != "tester-00" || r.Hosts[19].Host != "tester-19" {
		t.Errorf("order %s %s %s … %s, want the stale tester-17, the unhealthy tester-13, then tester-00 … tester-19",
			r.Hosts[0].Host, r.Hosts[1].Host, r.Hosts[2].Host, r.Hosts[19].Host)
	}
}
