package cockpit

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
)

// Suspended, the agent still fetches (the status shows the newest commit next to the applied one) but applies
// nothing new; a click-install from the catalog at the applied commit proceeds. Resume applies the pending change.
func TestSuspendHoldsNewCommits(t *testing.T) {
	h := newHarness(t)
	h.commitApp("books")
	h.commitApp("chat")
	const fleet = `
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books]
catalog: [chat]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
-- apps/chat.yaml --
source: {repo: https://forge.test/apps/chat.git, ref: main}
build: {command: [{{testapp}}, build, target/release/chat_server], timeout: 1m}
binaries:
  - {name: chat_server, kind: server, path: target/release/chat_server, args: [--listen, "unix://${sockets}/chat_server.sock"], listen: "unix://${sockets}/chat_server.sock", health: /health}
`
	applied := h.commitFleet(fleet)
	a := h.newAgent()
	mustSync(t, a)
	pid := binOf(t, a.Status(), "books").PID

	if err := a.Suspend(); err != nil {
		t.Fatal(err)
	}
	pending := h.commitFleet(fleet + `
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock", --greeting, hello], listen: "unix://${sockets}/books_server.sock", health: /health}
`)
	mustSync(t, a)
	st := a.Status()
	if st.Fleet.State != "suspended" || st.Fleet.Commit != applied || st.Fleet.Head != pending {
		t.Fatalf("suspended: fleet %+v", st.Fleet)
	}
	if b := binOf(t, st, "books"); b.PID != pid {
		t.Fatalf("books restarted while suspended: %+v", b)
	}
	// The cockpit page says which newer commit is held.
	page := httptest.NewServer(NewAPI(a, "tok").Mux)
	resp, err := http.Get(page.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page.Close()
	if want := "newest " + pending[:12] + " (held while suspended)"; !strings.Contains(string(body), want) {
		t.Errorf("the cockpit page lacks %q", want)
	}
	if _, err := a.Install("chat"); err != nil {
		t.Fatalf("click-install while suspended: %v", err)
	}
	mustSync(t, a)
	st = a.Status()
	if appOf(st, "chat").State != api.AppInstalled || st.Fleet.Commit != applied {
		t.Fatalf("chat while suspended: %+v, fleet %+v", appOf(st, "chat"), st.Fleet)
	}

	if err := a.Resume(); err != nil {
		t.Fatal(err)
	}
	mustSync(t, a)
	st = a.Status()
	if st.Fleet.State != "ok" || st.Fleet.Commit != pending || binOf(t, st, "books").PID == pid {
		t.Fatalf("after resume: fleet %+v, books %+v", st.Fleet, binOf(t, st, "books"))
	}
}

func TestAPI(t *testing.T) {
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- NewAPI(a, "s3cret").Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	h.run(a)
	base := "http://" + ln.Addr().String()
	post := func(token string) int {
		req, _ := http.NewRequest("POST", base+"/api/v1/sync", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := post(""); c != 401 {
		t.Fatalf("no token: %d", c)
	}
	if c := post("wrong"); c != 401 {
		t.Fatalf("wrong token: %d", c)
	}
	agenttest.WaitUntil(t, 20*time.Second, "first converge", func() bool { return appOf(a.Status(), "books").State == api.AppInstalled })
	h.commitApp("books")
	if c := post("s3cret"); c != 202 {
		t.Fatalf("sync: %d", c)
	}
	rev := appOf(a.Status(), "books").Rev
	agenttest.WaitUntil(t, 20*time.Second, "triggered upgrade", func() bool { return appOf(a.Status(), "books").Rev != rev })
	resp, err := http.Get(base + "/api/v1/status")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("status: %v %v", resp, err)
	}
	resp.Body.Close()
	if resp, err := http.Get(base + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v", err)
	}
}
