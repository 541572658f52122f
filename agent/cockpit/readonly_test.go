package cockpit

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// metrics_listen answers Prometheus and fleet tools without a token, and nothing else: no control, no page, no
// logs, and no credential that a fleet URL carried.
func TestReadOnlyListener(t *testing.T) {
	h := newHarness(t)
	h.commitApp("books")
	h.commitFleet(`
-- fleet.yaml --
name: test
-- roles/tester.yaml --
preinstalled: [books, private]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
-- apps/private.yaml --
source: {repo: "http://reader:s3cret-pass@127.0.0.1:1/apps/private.git", ref: main}
build: {command: [{{testapp}}, build, p], timeout: 1m}
binaries:
  - {name: private_server, kind: server, path: p}
`)
	a := h.newAgent()
	mustSync(t, a)
	srv := httptest.NewServer(NewAPI(a, testToken).ReadOnlyMux())
	defer srv.Close()
	get := func(method, path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+testToken) // a token opens nothing here
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, string(b)
	}

	code, status := get("GET", "/api/v1/status")
	if code != 200 || !strings.Contains(status, `"books_server"`) || !strings.Contains(status, `"state": "running"`) {
		t.Fatalf("GET /api/v1/status: %d\n%s", code, status)
	}
	if strings.Contains(status, "s3cret-pass") || !strings.Contains(status, "http://reader:xxxxx@127.0.0.1:1/apps/private.git") {
		t.Errorf("the status must name the private repo with its credentials redacted:\n%s", status)
	}
	code, metrics := get("GET", "/metrics")
	for _, want := range []string{`herofleet_host_info{host="t1",role="tester"} 1`, `herofleet_app_info{app="books",rev="`,
		`herofleet_apps_expected 2`, `herofleet_apps_running 1`, `herofleet_host_healthy 0`,
		`herofleet_problem_info{app="private",binary="",code="unresolved",state="failed"} 1`, `herofleet_sync_period_seconds 3600`} {
		if code != 200 || !strings.Contains(metrics, want) {
			t.Errorf("/metrics (%d) lacks %q", code, want)
		}
	}
	if strings.Contains(metrics, "s3cret") {
		t.Error("/metrics carries a credential")
	}
	if testing.Verbose() {
		t.Log(metrics)
	}
	if code, body := get("GET", "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("GET /healthz: %d %q", code, body)
	}
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"POST", "/api/v1/sync", 404}, {"POST", "/api/v1/suspend", 404}, {"POST", "/api/v1/apps/books/install", 404},
		{"DELETE", "/api/v1/apps/books", 404}, {"POST", "/api/v1/binaries/books_server/stop", 404},
		{"GET", "/api/v1/binaries/books_server/logs", 404}, {"GET", "/api/v1/apps", 404}, {"GET", "/", 404},
		{"POST", "/api/v1/webhook", 404}, {"POST", "/api/v1/status", 405}, {"DELETE", "/metrics", 405},
		{"PUT", "/healthz", 405},
	} {
		if code, _ := get(c.method, c.path); code != c.want {
			t.Errorf("%s %s on metrics_listen: %d, want %d", c.method, c.path, code, c.want)
		}
	}
	if got := a.Status().Apps; len(got) == 0 {
		t.Fatal("no apps")
	}
	if st := a.Status(); st.Fleet.State != "ok" || appOf(st, "books").State != "installed" {
		t.Errorf("a refused control must change nothing: %+v", st.Fleet)
	}
}

// The read-only status goes through the one redaction: a password is masked, a user name alone (a token) too,
// an ssh account is kept.
func TestRedactURLs(t *testing.T) {
	for in, want := range map[string]string{
		"clone https://u:tok@forge/x.git: refused":       "clone https://u:xxxxx@forge/x.git: refused",
		"https://TOKEN@forge/x and http://h/y":           "https://xxxxx@forge/x and http://h/y",
		"git@forge:ops/fleet.git (no scheme, no secret)": "git@forge:ops/fleet.git (no scheme, no secret)",
		"http://a:b@h1/ then https://c:d@h2/":            "http://a:xxxxx@h1/ then https://c:xxxxx@h2/",
	} {
		if got := redactAll(in); got != want {
			t.Errorf("redactAll(%q) = %q, want %q", in, got, want)
		}
	}
}
