package runbook

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/herofleet/herofleet/internal/browsertest"

	"github.com/herofleet/herofleet/examples"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/sitegen"
)

// TestExampleRunbookInBrowser opens the Hero runbook from file://, checks the topology picture loaded, searches for
// the shared embedder and follows the result to its page.
func TestExampleRunbookInBrowser(t *testing.T) {
	ctx := browsertest.New(t)
	f, err := fleet.LoadFS(examples.Hero())
	if err != nil {
		t.Fatal(err)
	}
	site, err := Site(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := sitegen.Build(context.Background(), site, out); err != nil {
		t.Fatal(err)
	}
	step, cancelStep := context.WithTimeout(ctx, 60*time.Second)
	defer cancelStep()

	if err := chromedp.Do(step,
		chromedp.Navigate("file://"+filepath.ToSlash(filepath.Join(out, "index.html"))),
		chromedp.WaitVisible(chromedp.CSS(`img[src="topology.svg"]`)),
	); err != nil {
		t.Fatal(err)
	}
	width, err := chromedp.Run(step, chromedp.Evaluate[int](`document.querySelector('img[src="topology.svg"]').naturalWidth`))
	if err != nil || width == 0 {
		t.Fatalf("topology picture did not load (width %d, err %v)", width, err)
	}
	if err := chromedp.Do(step,
		chromedp.SendKeys(chromedp.CSS("#search"), "embedding provider"),
		chromedp.WaitVisible(chromedp.CSS("#search-results a")),
	); err != nil {
		t.Fatal(err)
	}
	first, err := chromedp.Run(step, chromedp.Text(chromedp.CSS("#search-results li:first-child .r-title")))
	if err != nil {
		t.Fatal(err)
	}
	if first != "Hero Embedder" {
		t.Fatalf("first result for the embedding provider = %q", first)
	}
	if err := chromedp.Do(step,
		chromedp.Click(chromedp.CSS("#search-results li:first-child a")),
		chromedp.WaitVisible(chromedp.CSS("#hero-embedder-server")),
	); err != nil {
		t.Fatal(err)
	}
	loc, err := chromedp.Run(step, chromedp.Location())
	if err != nil || !strings.HasSuffix(loc, "/apps/embedder/index.html") {
		t.Fatalf("search result led to %s (%v)", loc, err)
	}
}
