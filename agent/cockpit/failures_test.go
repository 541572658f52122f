package cockpit

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
)

// A click on an app whose build fails: the job ends failed with the build log's tail, the bundle row says failed
// and why, and offers uninstall, after which the app can be installed again.
func TestCockpitFailedInstall(t *testing.T) {
	h := newHarness(t)
	h.commitApp("books")
	h.commitApp("broken", "FAIL_BUILD")
	h.commitFleet(`
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books]
catalog: [broken]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
-- apps/broken.yaml --
source: {repo: https://forge.test/apps/broken.git, ref: main}
build: {command: [{{testapp}}, build, target/release/broken_server], timeout: 1m}
binaries:
  - {name: broken_server, kind: server, path: target/release/broken_server, args: [--listen, "unix://${sockets}/broken_server.sock"], listen: "unix://${sockets}/broken_server.sock", health: /health}
`)
	c := h.startCockpit()
	agenttest.WaitUntil(t, 30*time.Second, "first sync applied", func() bool { return c.apps().Fleet.Commit != "" })

	code, body := c.do("POST", "/api/v1/apps/broken/install", true)
	if code != 202 {
		t.Fatalf("install: %d %s", code, body)
	}
	var accepted struct{ Job string }
	_ = json.Unmarshal([]byte(body), &accepted)
	var job agent.Job
	agenttest.WaitUntil(t, 60*time.Second, "install job done", func() bool {
		_, jb := c.do("GET", "/api/v1/jobs/"+accepted.Job, true)
		_ = json.Unmarshal([]byte(jb), &job)
		return job.Phase == api.PhaseHealthy || job.Phase == api.PhaseFailed
	})
	if job.Phase != api.PhaseFailed || job.Error == "" || !strings.Contains(job.LogTail, "FAIL_BUILD present") {
		t.Fatalf("job %+v", job)
	}
	var row []Row
	agenttest.WaitUntil(t, 5*time.Second, "failed bundle row", func() bool {
		row = rowsOf(c.apps(), "broken")
		return len(row) == 1 && row[0].State == api.RowState(api.AppFailed)
	})
	if row[0].Type != RowBundle || row[0].Reason == "" || strings.Join(row[0].Actions, ",") != ActionUninstall {
		t.Fatalf("failed row %+v", row[0])
	}
	// the status says the same, and what is quarantined and why
	_, sb := c.do("GET", "/api/v1/status", false)
	var st StatusAnswer
	if err := json.Unmarshal([]byte(sb), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Quarantined) != 1 || st.Quarantined[0].App != "broken" || !strings.Contains(st.Quarantined[0].Reason, "build failed") ||
		st.Fleet.Commit == "" || st.Fleet.LastSync.IsZero() || len(rowsOf(Apps{Rows: st.Rows}, "broken")) != 1 {
		t.Fatalf("status %s", sb)
	}
	if code, _ := c.do("DELETE", "/api/v1/apps/broken", true); code != 202 {
		t.Fatalf("uninstall of the failed app: %d", code)
	}
	agenttest.WaitUntil(t, 30*time.Second, "broken offered again", func() bool {
		row = rowsOf(c.apps(), "broken")
		return len(row) == 1 && strings.Join(row[0].Actions, ",") == ActionInstall
	})
	if row[0].Reason == "" {
		t.Fatalf("the offered row forgot why broken failed: %+v", row[0])
	}
	// uninstalling lifted the quarantine: a second click tries again, and fails again with the build's reason
	code, body = c.do("POST", "/api/v1/apps/broken/install", true)
	if code != 202 {
		t.Fatalf("second install: %d %s", code, body)
	}
	_ = json.Unmarshal([]byte(body), &accepted)
	agenttest.WaitUntil(t, 60*time.Second, "second install job done", func() bool {
		_, jb := c.do("GET", "/api/v1/jobs/"+accepted.Job, false)
		_ = json.Unmarshal([]byte(jb), &job)
		return job.Phase == api.PhaseHealthy || job.Phase == api.PhaseFailed
	})
	if job.Phase != api.PhaseFailed || !strings.Contains(job.Error, "build failed") {
		t.Fatalf("second job %+v", job)
	}
}

// A binary a person stopped stays stopped through an upgrade of its app, while its siblings are upgraded.
func TestStoppedBinarySurvivesUpgrade(t *testing.T) {
	h := newHarness(t)
	h.commitApp("books")
	h.commitFleet(`
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server, target/release/books_web], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
  - {name: books_web, kind: server, path: target/release/books_web, args: [--listen, "unix://${sockets}/books_web.sock"], listen: "unix://${sockets}/books_web.sock", health: /health}
`)
	a := h.newAgent()
	srv := httptest.NewServer(NewAPI(a, testToken).Mux)
	defer srv.Close()
	c := &cockpit{t: t, a: a, srv: srv}
	mustSync(t, a)
	if code, _ := c.do("POST", "/api/v1/binaries/books_web/stop", true); code != 202 {
		t.Fatalf("stop: %d", code)
	}
	before := appOf(a.Status(), "books")
	h.commitApp("books") // a new revision on the followed branch
	mustSync(t, a)
	after := appOf(a.Status(), "books")
	if after.Rev == before.Rev {
		t.Fatalf("books was not upgraded (rev %s)", after.Rev)
	}
	if b := after.Binaries[1]; b.Name != "books_web" || b.State != api.BinStopped || b.Reason != "stopped by a person" {
		t.Fatalf("books_web after the upgrade: %+v", b)
	}
	if b := after.Binaries[0]; b.State != api.BinRunning || b.PID == before.Binaries[0].PID {
		t.Fatalf("books_server after the upgrade: %+v (pid before %d)", b, before.Binaries[0].PID)
	}
}

// logs?follow=1 first sends the tail, then what the binary writes next.
func TestLogsFollow(t *testing.T) {
	h := newHarness(t)
	h.commitApp("books")
	h.commitFleet(`
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
`)
	a := h.newAgent()
	srv := httptest.NewServer(NewAPI(a, testToken).Mux)
	defer srv.Close()
	mustSync(t, a)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/binaries/books_server/logs?tail=10&follow=1", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	seen := 0
	for seen < 2 && lines.Scan() {
		if strings.Contains(lines.Text(), "books_server listening on") {
			seen++
			if seen == 1 { // the tail is there: a restart writes the line again
				if err := a.RestartBinary(ctx, "books_server"); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if seen != 2 {
		t.Fatalf("followed the log to %d start lines (err %v)", seen, lines.Err())
	}
}
