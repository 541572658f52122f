package cockpit

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/agenttest"
	"github.com/herofleet/herofleet/internal/browsertest"
)

// A host holding a commit for the earlier rollout waves says so in the cockpit's header, in a real browser: its
// state, its wave, since when and what it waits for.
func TestCockpitPageShowsRolloutWait(t *testing.T) {
	browsertest.Tool(t, "chromium", "chromium")
	h := newHarness(t)
	h.commitApp("books")
	fleet := `
-- fleet.yaml --
name: test
sync: {schedule: "@every 1h"}
rollout:
  waves:
    - {name: canary, hosts: [t0]}
    - {name: rest}
  health: {prometheus: "http://127.0.0.1:1"}
-- hosts/t0.yaml --
role: tester
-- roles/tester.yaml --
preinstalled: [books]
-- apps/books.yaml --
source: {repo: https://forge.test/apps/books.git, ref: main}
build: {command: [{{testapp}}, build, books_server], timeout: 1m}
binaries:
  - {name: books_server, kind: server, path: books_server, args: [--listen, "unix://${sockets}/books_server.sock"{{args}}], listen: "unix://${sockets}/books_server.sock", health: /health}
`
	h.commitFleet(fleet, agenttest.Vars{"args": ""})
	c := h.startCockpit()
	agenttest.WaitUntil(t, 30*time.Second, "books running", func() bool { return rowOf(c.apps(), "books_server").State == api.RowState(api.BinRunning) })
	h.commitFleet(fleet, agenttest.Vars{"args": `, --greeting, hi`})
	c.a.Sync()
	agenttest.WaitUntil(t, 30*time.Second, "the new commit held", func() bool { return c.a.Status().Fleet.State == api.SyncWaiting })

	ctx := browsertest.New(t)
	step, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(step,
		chromedp.Navigate(c.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#fleet.state-waiting`)),
		chromedp.WaitVisible(chromedp.CSS(`tr.binary.state-running[data-binary="books_server"]`)), // rendered by the script
	); err != nil {
		t.Fatal(err)
	}
	header, err := chromedp.Run(step, chromedp.Text(chromedp.CSS(`#fleet`)))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"· waiting", "· newest ", "· wave rest", "· waits since ", "wave canary: no answer from Prometheus"} {
		if !strings.Contains(header, want) {
			t.Errorf("the header %q does not say %q", header, want)
		}
	}
}
