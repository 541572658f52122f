package fleetview

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
)

// manyApps is a status whose apps list holds n copies of app (JSON), each with binaries copies of bin (or no
// binaries list when bin is "").
func manyApps(n int, app string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"host":"x","role":"tester","fleet":{"commit":%q,"last_sync":%q,"state":"ok"},"apps":[`, headC, time.Now().UTC().Format(time.RFC3339))
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(app)
	}
	b.WriteString("]}")
	return b.String()
}

// controlBytes lists the control characters in s other than newline (the only one a report writes itself without
// colour).
func controlBytes(s string) []string {
	var found []string
	for i, r := range s {
		if r != '\n' && (r < 0x20 || r >= 0x7f && r <= 0x9f || r >= 0x202a && r <= 0x202e) {
			found = append(found, fmt.Sprintf("%U at %d", r, i))
		}
	}
	return found
}

// Agents are not trusted: one that answers too much, too many apps or binaries, or a redirect gets a stale row
// saying why, and nothing it says reaches the terminal as an escape sequence.
func TestDirectHostileAgents(t *testing.T) {
	escapes := "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\u009b31m\u202e"
	binaries := strings.Repeat(`{"name":"b","kind":"server","state":"running"},`, 65)
	tests := []struct {
		name  string
		body  string // answered with 200
		stale string // a part of the row's reason; "" for a row that is not stale
	}{
		{name: "a body over 1 MiB", body: manyApps(1, `{"name":"books","why":"`+strings.Repeat("x", 1<<20)+`"}`),
			stale: "agent answered too much: a status over 1048576 bytes"},
		{name: "too many apps, in a small body", body: manyApps(513, "{}"), stale: "agent answered too much: more than 512 apps"},
		{name: "too many binaries in one app", body: manyApps(1, `{"name":"books","binaries":[`+strings.TrimSuffix(binaries, ",")+`]}`),
			stale: "agent answered too much: more than 64 binaries in one app"},
		{name: "too many catalog entries", body: `{"fleet":{"state":"ok"},"catalog":[` + strings.TrimSuffix(strings.Repeat(`"a",`, 513), ",") + `]}`,
			stale: "agent answered too much: more than 512 catalog apps"},
		{name: "a list that is not a list", body: `{"fleet":{"state":"ok"},"apps":{"name":"books"}}`, stale: "unreadable status"},
		{name: "512 apps are fine", body: manyApps(512, `{"name":"books","state":"installed","why":"role","binaries":[{"name":"b","kind":"server","state":"running"}]}`)},
		{name: "escape sequences in every field", body: fmt.Sprintf(`{"host":"x","role":"tester%[1]s","fleet":{"commit":"%[1]s%[2]s","last_sync":%[3]q,"state":"ok%[1]s"},
"quarantined":[{"app":"books%[1]s","reason":"held%[1]s"}],
"apps":[{"name":"books%[1]s","state":"installed","why":"role","binaries":[{"name":"web%[1]s","kind":"web","state":"crash%[1]sloop","reason":"exited%[1]s"}]},
{"name":"cards%[1]s","state":"failed%[1]s","reason_code":"x%[1]s","why":"role","reason":"boom%[1]s"}]}`,
			strings.ReplaceAll(strings.ReplaceAll(escapes, "\x1b", `\u001b`), "\x07", `\u0007`), headC, time.Now().UTC().Format(time.RFC3339))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(answer(tt.body))
			defer srv.Close()
			f := &fleet.Fleet{Hosts: map[string]*fleet.Host{"tester-01": {Role: "tester", Agent: srv.URL}}}
			r := Direct(context.Background(), f, headC, DirectOptions{Timeout: 5 * time.Second, SyncPeriod: time.Minute})
			h := r.Hosts[0]
			if tt.stale == "" && h.Stale != "" || !strings.Contains(h.Stale, tt.stale) {
				t.Errorf("stale %q, want %q", h.Stale, tt.stale)
			}
			for _, colour := range []bool{false, true} {
				var b bytes.Buffer
				if err := WriteText(&b, r, colour); err != nil {
					t.Fatal(err)
				}
				out := b.String()
				if colour { // the report's own colours are the only escapes it writes
					for _, c := range []string{red, yellow, green, bold, reset} {
						out = strings.ReplaceAll(out, c, "")
					}
				}
				if bad := controlBytes(out); len(bad) > 0 {
					t.Errorf("text (colour %v) holds control characters %v:\n%q", colour, bad, out)
				}
			}
			var b bytes.Buffer
			if err := WriteJSON(&b, r); err != nil {
				t.Fatal(err)
			}
			if bad := controlBytes(b.String()); len(bad) > 0 {
				t.Errorf("JSON holds control characters %v", bad)
			}
		})
	}
}

// A redirect is not followed: the agent is named by the fleet repo, not by what it answers.
func TestDirectDoesNotFollowRedirects(t *testing.T) {
	var followed atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		followed.Add(1)
		answer(agentStatus("tester", headC, "ok", time.Now(), "running"))(w, r)
	}))
	defer elsewhere.Close()
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/api/v1/status", http.StatusFound)
	}))
	defer agent.Close()
	f := &fleet.Fleet{Hosts: map[string]*fleet.Host{"tester-01": {Role: "tester", Agent: agent.URL}}}
	for _, client := range []*http.Client{nil, {}} { // its own client, and one given to it
		r := Direct(context.Background(), f, headC, DirectOptions{Timeout: 5 * time.Second, SyncPeriod: time.Minute, Client: client})
		if h := r.Hosts[0]; h.State != StateStale || !strings.Contains(h.Stale, "no answer") || !strings.Contains(h.Stale, "302") {
			t.Errorf("row %+v, want stale: no answer, a 302 not followed", h)
		}
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
}

// An oversized answer costs the CLI a bounded amount of memory: about the body, not thirty times it.
func TestFetchStatusBoundsMemory(t *testing.T) {
	body := manyApps((1<<20-200)/3, "{}") // just under 1 MiB of empty apps
	srv := httptest.NewServer(answer(body))
	defer srv.Close()
	client := &http.Client{}
	defer client.CloseIdleConnections()
	_, _ = fetchStatus(context.Background(), client, srv.URL, 5*time.Second) // warm up the connection
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := fetchStatus(context.Background(), client, srv.URL, 5*time.Second)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "agent answered too much") {
		t.Errorf("err %v, want: agent answered too much", err)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("a %d-byte answer allocated %.1f MiB", len(body), float64(allocated)/(1<<20))
	if allocated > 16<<20 {
		t.Errorf("a %d-byte answer allocated %d MiB, want at most 16 MiB", len(body), allocated>>20)
	}
}

// With --prometheus, rows come from labels, which any scraped target sets: they are cleaned the same way.
func TestWriteTextCleansPrometheusLabels(t *testing.T) {
	esc := "\x1b]0;owned\x07"
	r := Report{Fleet: "hero", Head: headC, Source: "http://prometheus:9090", At: time.Now(), Hosts: []HostRow{{
		Host: "tester-01" + esc, Role: "tester" + esc, Commit: esc + headC, State: "ok" + esc, Stale: "x" + esc,
		Problems: []agent.Problem{{App: "books" + esc, Binary: "web" + esc, State: api.ProblemState("crashloop" + esc), Code: api.ReasonCode("exit" + esc), Reason: "exit" + esc}},
	}}}
	var b bytes.Buffer
	if err := WriteText(&b, r, false); err != nil {
		t.Fatal(err)
	}
	if bad := controlBytes(b.String()); len(bad) > 0 {
		t.Errorf("text holds control characters %v:\n%q", bad, b.String())
	}
	if !strings.Contains(b.String(), "tester-01\ufffd]0;owned\ufffd") {
		t.Errorf("the host's name should stay readable, its controls replaced:\n%s", b.String())
	}
	if r.Hosts[0].Host != "tester-01"+esc {
		t.Error("WriteText changed the report it was given")
	}
}
