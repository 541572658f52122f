package sitegen

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/herofleet/herofleet/internal/browsertest"
)

// TestBrowserFileURL opens the built site from file://, searches, follows a result and a content link, toggles dark
// mode, and checks a screenshot is not blank.
func TestBrowserFileURL(t *testing.T) {
	ctx := browsertest.New(t)
	out := t.TempDir()
	if err := Build(context.Background(), testSite(t), out); err != nil {
		t.Fatal(err)
	}
	step, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	home := "file://" + filepath.ToSlash(filepath.Join(out, "index.html"))
	// Colours of a keyword and of a plain name in the Go snippet.
	keyword := `[".kn", ".nx", ".p"].map(c => getComputedStyle(document.querySelector(".chroma " + c)).color).join(" ")`
	if err := chromedp.Do(step, chromedp.Navigate(home), chromedp.WaitVisible(chromedp.CSS("#search"))); err != nil {
		t.Fatal(err)
	}
	lightKeyword, err := chromedp.Run(step, chromedp.Evaluate[string](keyword))
	if err != nil {
		t.Fatal(err)
	}
	// Reading a page does not load the whole site's search index; using search does.
	indexLoaded := `document.querySelector('script[src$="search-index.js"]') !== null`
	if loaded, err := chromedp.Run(step, chromedp.Evaluate[bool](indexLoaded)); err != nil || loaded {
		t.Fatalf("search index loaded before search was used (%v)", err)
	}
	if err := chromedp.Do(step,
		chromedp.SendKeys(chromedp.CSS("#search"), "restart"),
		chromedp.WaitVisible(chromedp.CSS("#search-results a")),
	); err != nil {
		t.Fatalf("search: %v", err)
	}
	if loaded, err := chromedp.Run(step, chromedp.Evaluate[bool](indexLoaded)); err != nil || !loaded {
		t.Fatalf("search worked without loading the index? (%v)", err)
	}
	first, err := chromedp.Run(step, chromedp.Text(chromedp.CSS("#search-results li:first-child .r-title")))
	if err != nil {
		t.Fatal(err)
	}
	if first != "Restart an app" {
		t.Fatalf("first search result = %q, want %q", first, "Restart an app")
	}
	if err := chromedp.Do(step,
		chromedp.Click(chromedp.CSS("#search-results li:first-child a")),
		chromedp.WaitVisible(chromedp.CSS("#steps")),
	); err != nil {
		t.Fatalf("follow search result: %v", err)
	}
	loc, err := chromedp.Run(step, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(loc, "/ops/restart/index.html") {
		t.Fatalf("search result led to %s", loc)
	}

	// Follow a link in the content: a deep link to another page's heading.
	if err := chromedp.Do(step,
		chromedp.Click(chromedp.CSS(`article a[href$="books/index.html#health"]`)),
		chromedp.WaitVisible(chromedp.CSS("#health")),
	); err != nil {
		t.Fatalf("follow content link: %v", err)
	}
	loc, err = chromedp.Run(step, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(loc, "/apps/books/index.html#health") {
		t.Fatalf("content link led to %s", loc)
	}
	css, err := chromedp.Run(step, chromedp.Evaluate[int]("document.styleSheets.length"))
	if err != nil || css != 1 {
		t.Fatalf("stylesheet not loaded from file:// (sheets=%d, err=%v)", css, err)
	}

	light, err := chromedp.Run(step, chromedp.Evaluate[string]("getComputedStyle(document.body).backgroundColor"))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(step, chromedp.Click(chromedp.CSS("#theme-toggle"))); err != nil {
		t.Fatal(err)
	}
	dark, err := chromedp.Run(step, chromedp.Evaluate[string]("getComputedStyle(document.body).backgroundColor"))
	if err != nil {
		t.Fatal(err)
	}
	if light == dark {
		t.Fatalf("theme toggle did not change the background (%s)", light)
	}

	// The choice survives navigation, and code switches to the dark highlighting theme.
	if err := chromedp.Do(step, chromedp.Navigate(home), chromedp.WaitVisible(chromedp.CSS("#search"))); err != nil {
		t.Fatal(err)
	}
	theme, err := chromedp.Run(step, chromedp.Evaluate[string]("document.documentElement.dataset.theme || ''"))
	if err != nil || theme != "dark" {
		t.Fatalf("theme after navigation = %q (%v), want dark", theme, err)
	}
	darkKeyword, err := chromedp.Run(step, chromedp.Evaluate[string](keyword))
	if err != nil {
		t.Fatal(err)
	}
	for i, light := range strings.Fields(strings.ReplaceAll(lightKeyword, ", ", ",")) {
		dark := strings.Fields(strings.ReplaceAll(darkKeyword, ", ", ","))[i]
		if dark == light {
			t.Errorf("code token %d keeps colour %s in dark mode (light %s, dark %s)", i, light, lightKeyword, darkKeyword)
		}
	}

	shot, err := chromedp.Run(step, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	assertNotBlank(t, shot)
	if dst := os.Getenv("SITEGEN_SCREENSHOT"); dst != "" { // for a person to look at
		if err := os.WriteFile(dst, shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func assertNotBlank(t *testing.T, shot []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("decode screenshot: %v", err)
	}
	b := img.Bounds()
	colors := map[[3]uint32]int{}
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colors[[3]uint32{r >> 8, g >> 8, bl >> 8}]++
		}
	}
	if len(colors) < 8 {
		t.Fatalf("screenshot looks blank: %d distinct colours", len(colors))
	}
}

// TestBrowserPagedNavigation follows the sidebar of a site with a big section from file://: a group link leads to
// that group's first page, which is marked current; another section's title leads to its first page; search
// finds a page the sidebar does not list.
func TestBrowserPagedNavigation(t *testing.T) {
	ctx := browsertest.New(t)
	out := buildTo(t, bigSectionSite(120))
	step, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	start := "file://" + filepath.ToSlash(filepath.Join(out, "big", "p0000", "index.html"))
	if err := chromedp.Do(step,
		chromedp.Navigate(start),
		chromedp.Click(chromedp.CSS(`.sidebar .nav-group a[href$="big/p0050/index.html"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.sidebar a[aria-current="page"][href$="big/p0050/index.html"]`)),
	); err != nil {
		t.Fatalf("follow a group link: %v", err)
	}
	current, err := chromedp.Run(step, chromedp.Text(chromedp.CSS(`.sidebar a[aria-current="page"]`)))
	if err != nil || current != "Big page 50" {
		t.Fatalf("current page after the group link = %q (%v)", current, err)
	}
	if err := chromedp.Do(step,
		chromedp.Click(chromedp.CSS(`.sidebar a.nav-title`)),
		chromedp.WaitVisible(chromedp.CSS(`.sidebar a[aria-current="page"][href$="small/s0/index.html"]`)),
	); err != nil {
		t.Fatalf("follow a section title: %v", err)
	}
	if err := chromedp.Do(step,
		chromedp.SendKeys(chromedp.CSS("#search"), "119"),
		chromedp.WaitVisible(chromedp.CSS("#search-results a")),
	); err != nil {
		t.Fatalf("search: %v", err)
	}
	first, err := chromedp.Run(step, chromedp.Text(chromedp.CSS("#search-results li:first-child .r-title")))
	if err != nil || first != "Big page 119" {
		t.Fatalf("first search result = %q (%v), want Big page 119", first, err)
	}
}
