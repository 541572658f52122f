package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/agent/cockpit"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
)

// planFleet writes a fleet whose tester runs web (which needs db); drift is fleet.yaml's drift line, if any.
func planFleet(t *testing.T, drift string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"fleet.yaml":        "name: t\n" + drift,
		"apps/web.yaml":     "source: {repo: https://forge.example/web.git}\nbinaries: [{name: web_server, kind: server, path: bin/web}]\nneeds: [db]\n",
		"apps/db.yaml":      "source: {repo: https://forge.example/db.git}\nbinaries: [{name: db_server, kind: server, path: bin/db}]\n",
		"roles/tester.yaml": "preinstalled: [web]\n",
		"hosts/t1.yaml":     "role: tester\n",
		"hosts/t2.yaml":     "role: tester\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// `herofleet plan --on-host` plans the agent's host from what the agent says it runs: an app it reports drifted
// is healed (drift: heal) or only said (drift: report), with the drift's words, in text and JSON alike: the verbs
// the agent itself decides with fleet.Decide.
func TestPlanOnHostShowsHeal(t *testing.T) {
	const said = "web_server: executable changed on this host since install (sha256 3f2a1c9e… ≠ installed 9b0d4e11…, modified 14:02:11)"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/status" {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(cockpit.StatusAnswer{Status: agent.Status{Host: "t1", Role: "tester", Address: "t1", Apps: []agent.AppStatus{
			{Name: "web", State: api.AppInstalled, Code: api.ReasonDrift, Reason: said, Drift: []string{said}},
			{Name: "db", State: api.AppInstalled},
		}}})
	}))
	defer srv.Close()

	for _, c := range []struct{ drift, action string }{{"", "heal"}, {"drift: report\n", "report"}} {
		dir := planFleet(t, c.drift)
		code, out := runCLI(t, "--agent", srv.URL, "plan", "--on-host", dir)
		if want := "  " + c.action + strings.Repeat(" ", 9-len(c.action)) + "web: " + said + "\n"; code != exitOK || !strings.Contains(out, want) ||
			!strings.HasPrefix(out, "host t1 (role tester, address t1)\n") || strings.Contains(out, "db:") {
			t.Fatalf("%q: exit %d, want the line %q:\n%s", c.drift, code, want, out)
		}
		code, out = runCLI(t, "--agent", srv.URL, "plan", "--on-host", "--format", "json", dir)
		var ans struct{ Plans []fleet.Plan }
		if err := json.Unmarshal([]byte(out), &ans); err != nil || code != exitOK {
			t.Fatalf("exit %d, %v:\n%s", code, err, out)
		}
		want := fleet.Change{App: "web", Action: fleet.Action(c.action), Reasons: []string{said}}
		if p := ans.Plans; len(p) != 1 || !p[0].OnHost || len(p[0].Changes) != 1 || p[0].Changes[0].App != want.App ||
			p[0].Changes[0].Action != want.Action || strings.Join(p[0].Changes[0].Reasons, "|") != said {
			t.Fatalf("%q: plans %+v, want the change %+v", c.drift, p, want)
		}
	}

	dir := planFleet(t, "")
	if code, out := runCLI(t, "--agent", srv.URL, "plan", "--on-host", "--host", "t2", dir); code != exitInvalid || !strings.Contains(out, "runs as host t1") {
		t.Fatalf("another host's plan from t1's agent: exit %d\n%s", code, out)
	}
	if code, out := runCLI(t, "--agent", srv.URL, "plan", dir); code != exitOK || strings.Contains(out, "heal") {
		t.Fatalf("a plan without --on-host asks no agent: exit %d\n%s", code, out)
	}
}
