package agent

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/herofleet/herofleet/internal/agenttest"
	"github.com/herofleet/herofleet/internal/browsertest"
)

// tcpAppYAML is an app with one web binary on a TCP port, whose URL a browser can open.
func tcpAppYAML(app, binary string, port int) string {
	return fmt.Sprintf(`title: %[1]s app
source: {repo: https://forge.test/apps/%[1]s.git, ref: main}
build: {command: [%[4]q, build, target/release/%[2]s], timeout: 1m}
binaries:
  - name: %[2]s
    kind: web
    path: target/release/%[2]s
    args: [--listen, "tcp://127.0.0.1:%[3]d"]
    listen: tcp://127.0.0.1:%[3]d
    health: /health
    url: "http://${host}:%[3]d/"
`, app, binary, port, testapp)
}

// A tester opens the cockpit in a real browser: the preinstalled app runs, the catalog app is one Install row.
// Clicking Install asks for the token once, shows the install's progress, then the app's binary row with its
// link, which opens the running app. A stop button then stops a binary, with the token kept for the session.
func TestCockpitPageInBrowser(t *testing.T) {
	browsertest.Tool(t, "chromium", "chromium") // skip (or fail under CI) before the harness builds apps
	h := newHarness(t)
	h.commitApp("books")
	h.commitApp("notes")
	h.commitFleetOf([]string{"books"}, []string{"notes"}, map[string]string{
		"books": appYAML("books", []string{"books_server"}, nil),
		"notes": tcpAppYAML("notes", "notes_web", agenttest.FreePort(t)),
	})
	c := h.startCockpit(func(cfg *Config) { cfg.BuildEnv = map[string]string{"SLOW_BUILD": "1500ms"} })
	agenttest.WaitUntil(t, 30*time.Second, "books running", func() bool { return rowOf(c.apps(), "books_server").State == BinRunning })

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
