package cockpit

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
)

const testToken = "s3cret-token"

// cockpit is a running agent (its sync loop included) behind its HTTP API.
type cockpit struct {
	t    *testing.T
	a    *agent.Agent
	srv  *httptest.Server
	stop func() // stops the agent (every binary stopped) and its API server
}

// startCockpit runs a new agent on this harness, changed by tweak, behind its API, until the test ends.
func (h *harness) startCockpit(tweak ...func(*agent.Config)) *cockpit {
	h.t.Helper()
	a := h.newAgent(tweak...)
	srv := httptest.NewServer(NewAPI(a, testToken).Mux)
	stopAgent := h.run(a)
	c := &cockpit{t: h.t, a: a, srv: srv}
	c.stop = func() { stopAgent(); srv.Close() }
	h.t.Cleanup(c.stop)
	return c
}

// do sends a request, with the token when token is true, and returns the status and body.
func (c *cockpit) do(method, path string, token bool) (int, string) {
	c.t.Helper()
	return c.doAuth(method, path, map[bool]string{true: "Bearer " + testToken}[token])
}

func (c *cockpit) doAuth(method, path, auth string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.srv.URL+path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b)
}

func (c *cockpit) apps() Apps {
	c.t.Helper()
	code, body := c.do("GET", "/api/v1/apps", false)
	if code != 200 {
		c.t.Fatalf("GET /api/v1/apps: %d %s", code, body)
	}
	var out Apps
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		c.t.Fatal(err)
	}
	return out
}

func rowsOf(apps Apps, app string) []Row {
	var out []Row
	for _, r := range apps.Rows {
		if r.App == app {
			out = append(out, r)
		}
	}
	return out
}

func rowOf(apps Apps, binary string) Row {
	for _, r := range apps.Rows {
		if r.Binary == binary {
			return r
		}
	}
	return Row{}
}

// The agreed rows, one-click install with needs and job progress, token checks, controls that survive an agent
// restart, and uninstall that keeps the data.
func TestCockpitInstallControlsUninstall(t *testing.T) {
	h := newHarness(t)
	for _, app := range []string{"books", "chat", "memory"} {
		h.commitApp(app)
	}
	h.commitFleet(`
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books]
catalog: [chat, memory]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server, target/release/books_web], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
  - {name: books_web, kind: server, path: target/release/books_web, args: [--listen, "unix://${sockets}/books_web.sock"], listen: "unix://${sockets}/books_web.sock", health: /health}
-- apps/chat.yaml --
source: {repo: https://forge.test/apps/chat.git, ref: main}
build: {command: [{{testapp}}, build, target/release/chat_server], timeout: 1m}
binaries:
  - {name: chat_server, kind: server, path: target/release/chat_server, args: [--listen, "unix://${sockets}/chat_server.sock"], listen: "unix://${sockets}/chat_server.sock", health: /health}
needs: [memory]
-- apps/memory.yaml --
source: {repo: https://forge.test/apps/memory.git, ref: main}
build: {command: [{{testapp}}, build, target/release/memory_server], timeout: 1m}
binaries:
  - {name: memory_server, kind: server, path: target/release/memory_server, args: [--listen, "unix://${sockets}/memory_server.sock"], listen: "unix://${sockets}/memory_server.sock", health: /health}
`)
	c := h.startCockpit()
	agenttest.WaitUntil(t, 30*time.Second, "books running and the fleet commit applied", func() bool {
		apps := c.apps()
		return rowOf(apps, "books_web").State == api.RowState(api.BinRunning) && apps.Fleet.Commit != ""
	})

	got := c.apps()
	if got.Host != "t1" || got.Role != "tester" || got.Fleet.Commit == "" || got.Fleet.State != "ok" {
		t.Fatalf("header %+v %+v", got.Host, got.Fleet)
	}
	if rows := rowsOf(got, "books"); len(rows) != 2 || rows[0].Type != RowBinary || rows[0].PID == 0 ||
		rows[0].Restarts == nil || rows[0].Since.IsZero() || strings.Join(rows[0].Actions, ",") != "stop,restart,logs" {
		t.Fatalf("books rows %+v", rows)
	}
	chat := rowsOf(got, "chat")
	if len(chat) != 1 || chat[0].Type != RowBundle || chat[0].State != api.RowState(api.AppNotInstalled) ||
		strings.Join(chat[0].Actions, ",") != "install" || strings.Join(chat[0].Binaries, ",") != "chat_server" {
		t.Fatalf("chat bundle row %+v", chat)
	}

	// auth: every mutating call, and logs, need the token
	for _, call := range [][2]string{{"POST", "/api/v1/apps/chat/install"}, {"DELETE", "/api/v1/apps/chat"},
		{"POST", "/api/v1/binaries/books_web/stop"}, {"GET", "/api/v1/binaries/books_web/logs"}, {"POST", "/api/v1/sync"},
		{"POST", "/api/v1/suspend"}, {"POST", "/api/v1/resume"}} {
		if code, _ := c.doAuth(call[0], call[1], ""); code != 401 {
			t.Errorf("%s %s without a token: %d", call[0], call[1], code)
		}
		if code, _ := c.doAuth(call[0], call[1], "Bearer wrong"); code != 401 {
			t.Errorf("%s %s with a wrong token: %d", call[0], call[1], code)
		}
	}
	if code, body := c.do("POST", "/api/v1/apps/nope/install", true); code != 404 || !strings.Contains(body, "not in this host's catalog") {
		t.Fatalf("install outside the catalog: %d %s", code, body)
	}
	if code, _ := c.do("POST", "/api/v1/apps/books/install", true); code != 409 {
		t.Fatalf("install of an installed app: %d", code)
	}

	// one click installs chat with its needs, and the job follows it to healthy
	code, body := c.do("POST", "/api/v1/apps/chat/install", true)
	if code != 202 {
		t.Fatalf("install: %d %s", code, body)
	}
	var accepted struct{ Job string }
	_ = json.Unmarshal([]byte(body), &accepted)
	var job agent.Job
	phases := map[api.Phase]bool{}
	agenttest.WaitUntil(t, 60*time.Second, "install job done", func() bool {
		_, jb := c.do("GET", "/api/v1/jobs/"+accepted.Job, false)
		_ = json.Unmarshal([]byte(jb), &job)
		phases[job.Phase] = true
		return job.Phase == api.PhaseHealthy || job.Phase == api.PhaseFailed
	})
	// phase and error are open; the build's output (which can hold secrets) needs the token
	if job.Phase != api.PhaseHealthy || job.App != "chat" || job.LogTail != "" {
		t.Fatalf("job without the token %+v (phases seen %v)", job, phases)
	}
	_, jb := c.do("GET", "/api/v1/jobs/"+accepted.Job, true)
	if err := json.Unmarshal([]byte(jb), &job); err != nil || !strings.Contains(job.LogTail, "testapp: building") {
		t.Fatalf("job with the token %s", jb)
	}
	// the rows may be up to rowsTTL old: the agent changed them by itself
	agenttest.WaitUntil(t, rowsTTL+5*time.Second, "chat and memory rows running", func() bool {
		got = c.apps()
		return rowOf(got, "chat_server").State == api.RowState(api.BinRunning) && rowOf(got, "memory_server").State == api.RowState(api.BinRunning)
	})
	for _, bin := range []string{"chat_server", "memory_server"} {
		if r := rowOf(got, bin); r.Type != RowBinary || r.State != api.RowState(api.BinRunning) {
			t.Fatalf("%s after install: %+v", bin, r)
		}
	}
	if !rowOf(got, "chat_server").Clicked {
		t.Fatal("chat_server row does not say chat was installed on click")
	}
	if code, _ := c.do("GET", "/api/v1/jobs/nope", false); code != 404 {
		t.Fatalf("unknown job: %d", code)
	}

	// a person stops books_web: it says so, and stays stopped across an agent restart
	if code, body := c.do("POST", "/api/v1/binaries/books_web/stop", true); code != 202 {
		t.Fatalf("stop: %d %s", code, body)
	}
	r := rowOf(c.apps(), "books_web")
	if r.State != api.RowState(api.BinStopped) || r.Reason != "stopped by a person" || strings.Join(r.Actions, ",") != "start,logs" {
		t.Fatalf("stopped row %+v", r)
	}
	if code, _ := c.do("POST", "/api/v1/binaries/nope/stop", true); code != 404 {
		t.Fatalf("stop of an unknown binary: %d", code)
	}
	code, logs := c.do("GET", "/api/v1/binaries/books_server/logs?tail=5", true)
	if code != 200 || !strings.Contains(logs, "books_server listening on") {
		t.Fatalf("logs: %d %q", code, logs)
	}
	serverPID := rowOf(c.apps(), "books_server").PID
	if code, _ := c.do("POST", "/api/v1/binaries/books_server/restart", true); code != 202 {
		t.Fatalf("restart: %d", code)
	}
	if r := rowOf(c.apps(), "books_server"); r.PID == serverPID || r.PID == 0 {
		t.Fatalf("restart kept pid %d: %+v", serverPID, r)
	}

	c.stop()
	c = h.startCockpit()
	agenttest.WaitUntil(t, 30*time.Second, "chat running after an agent restart", func() bool {
		return rowOf(c.apps(), "chat_server").State == api.RowState(api.BinRunning)
	})
	if r := rowOf(c.apps(), "books_web"); r.State != api.RowState(api.BinStopped) {
		t.Fatalf("books_web after an agent restart: %+v", r)
	}
	if code, _ := c.do("POST", "/api/v1/binaries/books_web/start", true); code != 202 {
		t.Fatalf("start: %d", code)
	}
	agenttest.WaitUntil(t, 10*time.Second, "books_web running again", func() bool {
		return rowOf(c.apps(), "books_web").State == api.RowState(api.BinRunning)
	})

	// uninstall: preinstalled apps refuse, a clicked one goes back to one install row and keeps its data
	if code, _ := c.do("DELETE", "/api/v1/apps/books", true); code != 409 {
		t.Fatalf("uninstall of a preinstalled app: %d", code)
	}
	marker := filepath.Join(h.dir, "data", "chat", "kept")
	if err := os.WriteFile(marker, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, body := c.do("DELETE", "/api/v1/apps/chat", true); code != 202 {
		t.Fatalf("uninstall: %d %s", code, body)
	}
	agenttest.WaitUntil(t, 30*time.Second, "chat back to an install row", func() bool {
		rows := rowsOf(c.apps(), "chat")
		return len(rows) == 1 && rows[0].Type == RowBundle && rows[0].State == api.RowState(api.AppNotInstalled)
	})
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("chat's data after uninstall: %v", err)
	}
}

// Suspend stops applying new commits (and says so) until resume; both survive nothing but a person. Before a first
// commit is applied there is nothing to install from; a click-install at the applied commit while suspended is
// covered by TestSuspendHoldsNewCommits.
func TestCockpitSuspendResume(t *testing.T) {
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
	c := &cockpit{t: t, a: a, srv: srv}
	if code, _ := c.do("POST", "/api/v1/suspend", true); code != 202 {
		t.Fatalf("suspend: %d", code)
	}
	mustSync(t, a)
	if st := a.Status(); st.Fleet.State != "suspended" || st.Fleet.Commit != "" || appOf(st, "books").State == api.AppInstalled {
		t.Fatalf("suspended agent synced: %+v", st.Fleet)
	}
	if code, body := c.do("POST", "/api/v1/apps/books/install", true); code != 503 || !strings.Contains(body, "no fleet applied yet") {
		t.Fatalf("install while suspended: %d %s", code, body)
	}
	if code, _ := c.do("POST", "/api/v1/resume", true); code != 202 {
		t.Fatalf("resume: %d", code)
	}
	mustSync(t, a)
	if st := a.Status(); st.Fleet.State != "ok" || appOf(st, "books").State != api.AppInstalled {
		t.Fatalf("resumed agent: %+v %+v", st.Fleet, appOf(st, "books"))
	}
}
