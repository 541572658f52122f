package simfleet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/agent/cockpit"
	"github.com/herofleet/herofleet/api"
)

// Host is one simulated tester: the example tester's apps (cockpit, books, memory, agent, voicebar, proc: eleven
// binaries), served on a port of its own as an agent's metrics_listen would.
type Host struct {
	Name   string
	ln     net.Listener
	status []byte // GET /api/v1/status
	expo   []byte // GET /metrics
}

var testerApps = []struct {
	app      string
	binaries []string
}{
	{"cockpit", []string{"hero_cockpit_server", "hero_cockpit_web"}},
	{"books", []string{"hero_books_server", "hero_books_web", "hero_books_admin"}},
	{"memory", []string{"hero_memory_server", "hero_memory_admin"}},
	{"agent", []string{"hero_agent_server", "hero_agent_admin"}},
	{"voicebar", []string{"hero_voicebar_web"}},
	{"proc", []string{"hero_proc_server"}},
}

// NewHost is tester-NNNN (NNNN is i) that applied commit an hour ago; a broken one has books' web binary
// crashlooping.
func NewHost(i int, commit string, broken bool) (*Host, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("tester-%04d", i)
	now := time.Now().UTC()
	st := agent.Status{Host: name, Role: "tester", Address: "127.0.0.1",
		Fleet:   agent.FleetStatus{Commit: commit, Head: commit, AppliedAt: now.Add(-time.Hour), LastSync: now.Add(-20 * time.Second), State: api.SyncOK},
		Refused: []agent.Refused{}, Quarantined: []agent.Quarantine{}, Catalog: []string{"foundry", "osis"}}
	for _, a := range testerApps {
		as := agent.AppStatus{Name: a.app, State: api.AppInstalled, Rev: strings.Repeat("ab", 20), Why: "preinstalled by role tester"}
		for _, b := range a.binaries {
			bs := agent.BinaryStatus{Name: b, Kind: "server", State: api.BinRunning, PID: 1000 + i, Since: now.Add(-time.Hour)}
			if broken && a.app == "books" && b == "hero_books_web" {
				bs.State, bs.Reason, bs.Restarts = api.BinCrashloop, "exited 1 five times in 60s", 5
			}
			as.Binaries = append(as.Binaries, bs)
		}
		st.Apps = append(st.Apps, as)
	}
	status, err := json.Marshal(cockpit.StatusOf(st))
	if err != nil {
		return nil, err
	}
	return &Host{Name: name, ln: ln, status: status, expo: exposition(st)}, nil
}

// exposition is what the agent's fleet-view and state series say for st, in Prometheus' text format.
func exposition(st agent.Status) []byte {
	var b strings.Builder
	v := st.Verdict()
	healthy := 0
	if st.Healthy() {
		healthy = 1
	}
	fmt.Fprintf(&b, "herofleet_host_info{host=%q,role=%q} 1\n", st.Host, st.Role)
	fmt.Fprintf(&b, "herofleet_fleet_head_info{commit=%q} 1\n", st.Fleet.Head)
	fmt.Fprintf(&b, "herofleet_fleet_applied_info{commit=%q,state=%q} 1\n", st.Fleet.Commit, st.Fleet.State)
	fmt.Fprintf(&b, "herofleet_fleet_applied_timestamp_seconds %d\n", st.Fleet.AppliedAt.Unix())
	fmt.Fprintf(&b, "herofleet_fleet_last_sync_timestamp_seconds %d\n", time.Now().Unix()-20)
	fmt.Fprintf(&b, "herofleet_sync_period_seconds 60\nherofleet_apps_expected %d\nherofleet_apps_running %d\nherofleet_host_healthy %d\n", v.Expected, v.Running, healthy)
	for _, a := range st.Apps {
		fmt.Fprintf(&b, "herofleet_app_info{app=%q,rev=%q,state=%q} 1\n", a.Name, a.Rev, a.State)
		for _, bs := range a.Binaries {
			fmt.Fprintf(&b, "herofleet_binary_state{app=%q,binary=%q,state=%q} 1\n", a.Name, bs.Name, bs.State)
		}
	}
	for _, p := range v.Problems {
		fmt.Fprintf(&b, "herofleet_problem_info{app=%q,binary=%q,state=%q,code=%q} 1\n", p.App, p.Binary, p.State, p.State)
	}
	return []byte(b.String())
}

// SetCommit has the host say it applied commit where it said old (before it serves).
func (h *Host) SetCommit(old, commit string) {
	h.status = bytes.ReplaceAll(h.status, []byte(old), []byte(commit))
	h.expo = bytes.ReplaceAll(h.expo, []byte(old), []byte(commit))
}

// Serve answers GET /api/v1/status and GET /metrics on the host's port until the process ends.
func (h *Host) Serve() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(h.status)
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write(h.expo)
	})
	go func() { _ = http.Serve(h.ln, mux) }()
}

// Port is the loopback port the host listens on.
func (h *Host) Port() int { return h.ln.Addr().(*net.TCPAddr).Port }
