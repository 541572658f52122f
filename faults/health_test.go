package faults

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
)

// A new app whose health endpoint accepts and never answers: no answer is a no; the app is removed whole and the
// status says why.
func TestHealthThatNeverAnswers(t *testing.T) {
	start := time.Now()
	p := startAgent(t, oneApp("unix://${sockets}/books_server.sock", ", --health-hang"), "", "books")
	var a agent.AppStatus
	agenttest.WaitUntil(t, 60*time.Second, "books failed", func() bool {
		a = p.app("books")
		return a.State == api.AppFailed
	})
	took := time.Since(start)
	if a.Reason == "" || len(agenttest.MarkedPIDs(p.dir)) != 0 {
		t.Fatalf("%+v; processes left %v", a, agenttest.MarkedPIDs(p.dir))
	}
	record(Row{
		Fault:    "a health endpoint that accepts and never answers",
		Injected: "books_server's /health accepts the request and never writes a byte",
		Did:      "took no answer as a no: removed the new app whole at health_timeout (5s), quarantined it; the status says why",
		Figure:   fmt.Sprintf("failed %s after the agent started; 0 processes left; reason %q", took.Round(time.Millisecond), trim(a.Reason, 90)),
		Lost:     "nothing (the app was new)",
	})
}

// Credentials in the fleet, source and artifact URLs reach neither the unauthenticated status nor the log.
func TestCredentialsInURLs(t *testing.T) {
	const fleet = `
-- fleet.yaml --
name: faults
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books, notes]
-- apps/books.yaml --
source: {repo: "https://tok:s3cret@127.0.0.1:9/apps/books.git", ref: main}
binaries:
  - {name: books_server, kind: server, path: books_server, listen: "unix://${sockets}/books_server.sock", health: /health}
-- apps/notes.yaml --
artifact: {url: "https://tok:s3cret@127.0.0.1:9/notes.tar.gz", sha256: "0000000000000000000000000000000000000000000000000000000000000001"}
binaries:
  - {name: notes_server, kind: server, path: notes_server, listen: "unix://${sockets}/notes_server.sock", health: /health}
`
	p := startAgent(t, fleet, "")
	agenttest.WaitUntil(t, 60*time.Second, "both apps failed", func() bool {
		return p.app("books").Reason != "" && p.app("notes").Reason != ""
	})
	st, _ := p.status()
	apps, _ := json.Marshal(st)
	// the fleet's own URL: the agent restarted on a fleet URL with a token
	cfgPath := filepath.Join(p.dir, "agent.yaml")
	cfg, _ := os.ReadFile(cfgPath)
	os.WriteFile(cfgPath, []byte(strings.Replace(string(cfg), `"https://forge.test/ops/fleet.git"`, `"https://tok:s3cret@127.0.0.1:9/ops/fleet.git"`, 1)), 0o600)
	p.cmd.Process.Signal(os.Interrupt)
	p.cmd.Wait()
	p.start()
	agenttest.WaitUntil(t, 60*time.Second, "the fleet error", func() bool { st, _ := p.status(); return st.Fleet.Error != "" })
	st2, _ := p.status()
	fleetSt, _ := json.Marshal(st2)
	log, _ := os.ReadFile(filepath.Join(p.dir, "agent.log"))
	found := 0
	for what, text := range map[string]string{"status": string(apps), "fleet status": string(fleetSt), "log": string(log)} {
		if strings.Contains(text, "s3cret") {
			t.Errorf("the %s shows the credentials", what)
		}
		found += strings.Count(text, "tok:xxxxx@")
	}
	if found == 0 {
		t.Fatal("no masked URL anywhere: the reasons do not name the URLs")
	}
	record(Row{
		Fault:    "credentials in the fleet, source and artifact URLs",
		Injected: "`https://tok:s3cret@…` as the fleet repo, an app's source and an artifact's URL (all unreachable)",
		Did:      "the apps fail and the sync fails with reasons that name each URL with its password masked (one redaction: internal/redact)",
		Figure:   fmt.Sprintf("0 occurrences of the secret in the status (read without a token) and the agent's log; %d masked URLs", found),
		Lost:     "nothing",
	})
}

func trim(s string, n int) string {
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
