package cockpit

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
	"github.com/herofleet/herofleet/internal/browsertest"
)

// A tester opens the cockpit in a real browser: the preinstalled app runs, the catalog app is one Install row.
// Clicking Install asks for the token once, shows the install's progress, then the app's binary row with its
// link, which opens the running app. A stop button then stops a binary, with the token kept for the session.
func TestCockpitPageInBrowser(t *testing.T) {
	browsertest.Tool(t, "chromium", "chromium") // skip (or fail under CI) before the harness builds apps
	h := newHarness(t)
	h.commitApp("books")
	h.commitApp("notes")
	// notes_web listens on TCP, with a URL a browser can open.
	h.commitFleet(`
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
-- roles/tester.yaml --
preinstalled: [books]
catalog: [notes]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, target/release/books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: target/release/books_server, args: [--listen, "unix://${sockets}/books_server.sock"], listen: "unix://${sockets}/books_server.sock", health: /health}
-- apps/notes.yaml --
source: {repo: https://forge.test/apps/notes.git, ref: main}
build: {command: [{{testapp}}, build, target/release/notes_web], timeout: 1m}
binaries:
  - {name: notes_web, kind: web, path: target/release/notes_web, args: [--listen, "tcp://127.0.0.1:{{port}}"], listen: "tcp://127.0.0.1:{{port}}", health: /health, url: "http://${host}:{{port}}/"}
`, agenttest.Vars{"port": strconv.Itoa(agenttest.FreePort(t))})
	c := h.startCockpit(func(cfg *agent.Config) { cfg.BuildEnv = map[string]string{"SLOW_BUILD": "1500ms"} })
	agenttest.WaitUntil(t, 30*time.Second, "books running", func() bool { return rowOf(c.apps(), "books_server").State == api.RowState(api.BinRunning) })

	ctx := browsertest.New(t)
	step, cancelStep := context.WithTimeout(ctx, 90*time.Second)
	defer cancelStep()

	install := `tr.bundle[data-app="notes"] button[data-action="install"]`
	if err := chromedp.Do(step,
		chromedp.Navigate(c.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`tr.binary.state-running[data-binary="books_server"]`)),
		chromedp.WaitVisible(chromedp.CSS(install)),
	); err != nil {
		t.Fatal(err)
	}
	collapsed, err := chromedp.Run(step, chromedp.Evaluate[bool](`!document.querySelector('tr.bundle[data-app="notes"] details').open`))
	if err != nil || !collapsed {
		t.Fatalf("the install row's binaries are not collapsed (%v)", err)
	}
	if err := chromedp.Do(step,
		chromedp.Click(chromedp.CSS(install)),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), testToken),
		chromedp.Click(chromedp.CSS(`#token-form button`)),
		// progress while it builds: the bundle row shows its job's phase
		chromedp.WaitVisible(chromedp.CSS(`tr.bundle.state-installing[data-app="notes"] .progress`)),
	); err != nil {
		t.Fatalf("install with progress: %v", err)
	}
	progress, _ := chromedp.Run(step, chromedp.Text(chromedp.CSS(`tr.bundle[data-app="notes"] .progress`)))
	if !strings.Contains(progress, "job ") {
		t.Fatalf("progress %q", progress)
	}
	link := `tr.binary.state-running[data-binary="notes_web"] a`
	if err := chromedp.Do(step, chromedp.WaitVisible(chromedp.CSS(link))); err != nil {
		t.Fatalf("notes_web row: %v", err)
	}
	href, err := chromedp.Run(step, chromedp.AttributeValue(chromedp.CSS(link), "href"))
	if err != nil || !href.Exists || !strings.HasPrefix(href.Value, "http://127.0.0.1:") {
		t.Fatalf("notes_web link %+v %v", href, err)
	}
	stored, _ := chromedp.Run(step, chromedp.Evaluate[string](`sessionStorage.getItem("herofleet-token")`))
	if stored != testToken {
		t.Fatalf("token in sessionStorage: %q", stored)
	}

	// controls: stop books_server without being asked for the token again
	if err := chromedp.Do(step,
		chromedp.Click(chromedp.CSS(`tr[data-binary="books_server"] button[data-action="stop"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr.binary.state-stopped[data-binary="books_server"] button[data-action="start"]`)),
	); err != nil {
		t.Fatalf("stop from the page: %v", err)
	}
	if reason, _ := chromedp.Run(step, chromedp.Text(chromedp.CSS(`tr[data-binary="books_server"] .reason`))); reason != "stopped by a person" {
		t.Fatalf("stopped row reason %q", reason)
	}

	// logs, with the token kept for the session
	if err := chromedp.Do(step,
		chromedp.Click(chromedp.CSS(`tr[data-binary="notes_web"] button[data-action="logs"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#log-panel`)),
	); err != nil {
		t.Fatalf("logs from the page: %v", err)
	}
	if text, _ := chromedp.Run(step, chromedp.Text(chromedp.CSS(`#log`))); !strings.Contains(text, "notes_web listening on") {
		t.Fatalf("log panel %q", text)
	}

	// the link opens the app itself
	if err := chromedp.Do(step, chromedp.Navigate(href.Value), chromedp.WaitReady(chromedp.CSS(`body`))); err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(step, chromedp.Text(chromedp.CSS(`body`)))
	if err != nil || !strings.Contains(body, "binary=notes_web") {
		t.Fatalf("the app at %s answered %q (%v)", href.Value, body, err)
	}
}
