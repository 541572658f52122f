package fleetview

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
)

var at = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// The table as a person reads it: each case wants some lines, or parts of lines, in the text, and some text absent.
func TestWriteTextCases(t *testing.T) {
	fine := HostRow{Host: "tester-01", Role: "tester", Commit: headC, OnHead: true, State: "ok", Healthy: true, Expected: 2, Running: 2,
		LastSync: at.Add(-5 * time.Second), Problems: []agent.Problem{}}
	tests := []struct {
		name   string
		report Report
		want   []string // each must appear
		absent []string // none may appear
	}{
		{name: "every host fine: no list of problems, a count",
			report: Report{Fleet: "hero", Head: headC, Source: "agents", At: at, Hosts: []HostRow{fine, withHost(fine, "tester-02")}},
			want: []string{"fleet hero at HEAD 5d6e7f8a9b0c, from agents\n", "tester-01  tester  5d6e7f8a9b0c  yes      ok     2/2   5s",
				"\n2 hosts: 2 fine\n"},
			absent: []string{"not fine:", headC, "\x1b["}},
		{name: "no HEAD known, no role, a short commit kept whole",
			report: Report{Fleet: "hero", Source: "http://prom:9090", At: at, Hosts: []HostRow{{Host: "x", Commit: "abc123", State: "ok", Healthy: true, LastSync: at}}},
			want:   []string{"fleet hero at HEAD -, from http://prom:9090", "x     -     abc123  no       ok     0/0   0s", "1 hosts: 1 behind HEAD"}},
		{name: "an app problem without a binary, its multi-line reason on one line",
			report: Report{Fleet: "hero", Head: headC, At: at, Hosts: []HostRow{{Host: "tester-03", Role: "tester", Commit: headC, OnHead: true,
				State: "ok", Expected: 1, LastSync: at.Add(-90 * time.Minute),
				Problems: []agent.Problem{{App: "notes", State: "quarantined", Reason: "build failed:\n  main.go:3: undefined: x\n"}}}}},
			want: []string{"1h ", "\nnot fine:\n", "  tester-03  notes  quarantined  build failed: main.go:3: undefined: x\n", "1 hosts: 1 not healthy"}},
		{name: "a long reason is cut at 160 characters",
			report: Report{Hosts: []HostRow{{Host: "h", Problems: []agent.Problem{{App: "a", State: "failed", Reason: strings.Repeat("y", 300)}}}}},
			want:   []string{"failed  " + strings.Repeat("y", 157) + "...\n"},
			absent: []string{strings.Repeat("y", 158)}},
		{name: "a stale host: no apps count, its reason as the agent's problem, before app problems of others",
			report: Report{At: at, Hosts: []HostRow{
				{Host: "tester-09", State: StateStale, Stale: "Prometheus cannot scrape its agent", Expected: 4, Running: 4, LastSync: at.Add(-72 * time.Hour)},
				{Host: "tester-03", OnHead: true, State: "ok", Problems: []agent.Problem{{App: "books", Binary: "books_web", State: "crashloop"}}},
			}},
			want: []string{"stale  -     3d", "  tester-09  (agent)          stale      Prometheus cannot scrape its agent\n  tester-03  books/books_web  crashloop",
				"2 hosts: 1 not healthy, 1 stale"},
			absent: []string{"4/4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteText(&b, tt.report, false); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("the text lacks %q:\n%s", w, b.String())
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(b.String(), a) {
					t.Errorf("the text has %q:\n%s", a, b.String())
				}
			}
		})
	}
}

func withHost(h HostRow, name string) HostRow { h.Host = name; return h }

// Each row is coloured by its verdict: red stale or not healthy, yellow behind HEAD, green fine.
func TestWriteTextColours(t *testing.T) {
	tests := []struct {
		row    HostRow
		colour string
	}{
		{HostRow{Host: "stale", Stale: "x", OnHead: true, Healthy: true}, "\x1b[31m"},
		{HostRow{Host: "sick", OnHead: true}, "\x1b[31m"},
		{HostRow{Host: "behind", Healthy: true}, "\x1b[33m"},
		{HostRow{Host: "fine", OnHead: true, Healthy: true}, "\x1b[32m"},
	}
	for _, tt := range tests {
		t.Run(tt.row.Host, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteText(&b, Report{At: at, Hosts: []HostRow{tt.row}}, true); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(b.String(), "\n")
			if !strings.HasPrefix(lines[3], tt.colour+tt.row.Host+" ") || !strings.HasSuffix(lines[3], "\x1b[0m") {
				t.Errorf("row %q, want it wholly in %q", lines[3], tt.colour)
			}
		})
	}
}

// How long ago, at a glance.
func TestAge(t *testing.T) {
	tests := []struct {
		ago  time.Duration
		want string
	}{
		{0, "0s"}, {59 * time.Second, "59s"}, {time.Minute, "1m"}, {59*time.Minute + 59*time.Second, "59m"}, {time.Hour, "1h"},
		{47 * time.Hour, "47h"}, {48 * time.Hour, "2d"}, {10 * 24 * time.Hour, "10d"}, {-time.Minute, "0s"}, // a clock ahead is now
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := age(at, at.Add(-tt.ago)); got != tt.want {
				t.Errorf("age of %s ago = %q, want %q", tt.ago, got, tt.want)
			}
		})
	}
	if got := age(at, time.Time{}); got != "-" {
		t.Errorf("age of never = %q, want -", got)
	}
}

// The JSON for machines: its keys and their types, problems always a list, optional fields left out.
func TestWriteJSONShape(t *testing.T) {
	r := Report{Fleet: "hero", Head: headC, Source: "agents", At: at, Hosts: []HostRow{
		{Host: "tester-07", Role: "tester", Agent: "http://10.0.0.7:7072", Commit: headC, OnHead: true, State: "ok", Expected: 2, Running: 1,
			LastSync: at.Add(-time.Minute), Problems: []agent.Problem{{App: "books", Binary: "books_web", State: "crashloop", Reason: "exited 1"}}},
		{Host: "tester-10", Role: "tester", State: StateStale, Stale: "no answer", Problems: []agent.Problem{}},
	}}
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "{\n  \"fleet\": \"hero\",\n") || !strings.HasSuffix(b.String(), "}\n") {
		t.Errorf("not indented JSON ending with a newline:\n%s", b.String())
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if got := keys(doc); !slices.Equal(got, []string{"at", "fleet", "head", "hosts", "source"}) {
		t.Errorf("report keys %v", got)
	}
	if doc["at"] != "2026-12-03T12:00:00Z" || doc["head"] != headC {
		t.Errorf("at %v, head %v", doc["at"], doc["head"])
	}
	hosts := doc["hosts"].([]any)
	tests := []struct {
		name string
		host map[string]any
		keys []string
	}{
		{"a host that answered", hosts[0].(map[string]any), []string{"agent", "apps_expected", "apps_running", "commit", "healthy", "host",
			"last_sync", "on_head", "problems", "role", "state"}},
		{"a stale host that never synced", hosts[1].(map[string]any), []string{"apps_expected", "apps_running", "commit", "healthy", "host",
			"on_head", "problems", "role", "stale", "state"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keys(tt.host); !slices.Equal(got, tt.keys) {
				t.Errorf("keys %v, want %v", got, tt.keys)
			}
			if _, ok := tt.host["problems"].([]any); !ok {
				t.Errorf("problems %v is not a list", tt.host["problems"])
			}
		})
	}
	h := hosts[0].(map[string]any)
	if h["on_head"] != true || h["healthy"] != false || h["apps_expected"] != 2.0 || h["last_sync"] != "2026-12-03T11:59:00Z" {
		t.Errorf("host %v", h)
	}
	p := h["problems"].([]any)[0].(map[string]any)
	if got := keys(p); !slices.Equal(got, []string{"app", "binary", "reason", "state"}) || p["state"] != "crashloop" {
		t.Errorf("problem %v", p)
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
