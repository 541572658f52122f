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
	sample(&b, api.SeriesHostInfo, 1, api.LabelHost, st.Host, api.LabelRole, st.Role)
	sample(&b, api.SeriesFleetHead, 1, api.LabelCommit, st.Fleet.Head)
	sample(&b, api.SeriesFleetApplied, 1, api.LabelCommit, st.Fleet.Commit, api.LabelState, string(st.Fleet.State))
	sample(&b, api.SeriesFleetAppliedAt, st.Fleet.AppliedAt.Unix())
	sample(&b, api.SeriesFleetLastSync, time.Now().Unix()-20)
	sample(&b, api.SeriesSyncPeriod, 60)
	sample(&b, api.SeriesAppsExpected, int64(v.Expected))
	sample(&b, api.SeriesAppsRunning, int64(v.Running))
	sample(&b, api.SeriesHostHealthy, int64(healthy))
	sample(&b, api.SeriesHealthyOn, int64(healthy), api.LabelCommit, st.Fleet.Commit)
	sample(&b, api.ProcessStart, st.Fleet.AppliedAt.Unix())
	for _, a := range st.Apps {
		sample(&b, api.SeriesAppInfo, 1, api.LabelApp, a.Name, api.LabelRev, a.Rev, api.LabelState, string(a.State))
		for _, bs := range a.Binaries {
			sample(&b, api.SeriesBinaryState, 1, api.LabelApp, a.Name, api.LabelBinary, bs.Name, api.LabelState, string(bs.State))
		}
	}
	for _, p := range v.Problems {
		sample(&b, api.SeriesProblem, 1, api.LabelApp, p.App, api.LabelBinary, p.Binary, api.LabelState, string(p.State), api.LabelCode, string(p.State))
	}
	return []byte(b.String())
}

// sample writes one sample in Prometheus' text format: series{label="value",...} value.
func sample(b *strings.Builder, series string, value int64, labels ...string) {
	b.WriteString(series)
	for i := 0; i+1 < len(labels); i += 2 {
		sep := ","
		if i == 0 {
			sep = "{"
		}
		fmt.Fprintf(b, "%s%s=%q", sep, labels[i], labels[i+1])
	}
	if len(labels) > 0 {
		b.WriteByte('}')
	}
	fmt.Fprintf(b, " %d\n", value)
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
