package sitegen

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// bigSectionSite has a section "Big" of n pages and a section "Small" of two.
func bigSectionSite(n int) Site {
	site := Site{Title: "t", Pages: []Page{{Path: "", Markdown: []byte("# Home\n")}}}
	for i := range n {
		site.Pages = append(site.Pages, Page{Path: fmt.Sprintf("big/p%04d", i), Section: "Big", Weight: i,
			Markdown: []byte(fmt.Sprintf("# Big page %d\n\nText.\n", i))})
	}
	for i := range 2 {
		site.Pages = append(site.Pages, Page{Path: fmt.Sprintf("small/s%d", i), Section: "Small", Weight: 10000 + i,
			Markdown: []byte(fmt.Sprintf("# Small page %d\n", i))})
	}
	return site
}

func buildTo(t *testing.T, site Site) string {
	t.Helper()
	out := t.TempDir()
	if err := Build(context.Background(), site, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func readPage(t *testing.T, out, page string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(pageURL(page))))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestNavDoesNotGrowWithOtherSections: a page of a small section is the same bytes whether the other section has
// 60 pages or 600, and links that section once, by its title.
func TestNavDoesNotGrowWithOtherSections(t *testing.T) {
	small60 := readPage(t, buildTo(t, bigSectionSite(60)), "small/s1")
	small600 := readPage(t, buildTo(t, bigSectionSite(600)), "small/s1")
	if small60 != small600 {
		t.Fatalf("small page changed with the size of another section:\n%s\n---\n%s", small60, small600)
	}
	if n := strings.Count(small600, "big/p"); n != 1 {
		t.Fatalf("small page links %d big pages, want 1 (the section title):\n%s", n, small600)
	}
	if !strings.Contains(small600, `<a class="nav-title" href="../../big/p0000/index.html">Big</a>`) {
		t.Fatalf("section title does not link to the section's first page:\n%s", small600)
	}
	if !strings.Contains(small600, `<a href="../../small/s0/index.html">Small page 0</a>`) {
		t.Fatalf("own section's pages not listed:\n%s", small600)
	}
}

// TestNavPagesABigSection: a page of a 600-page section lists its own group of navGroupSize pages, marked current,
// and one link to the start of each other group.
func TestNavPagesABigSection(t *testing.T) {
	out := buildTo(t, bigSectionSite(600))
	page := readPage(t, out, "big/p0123")
	if n := strings.Count(page, `href="../../big/p`); n != navGroupSize+600/navGroupSize-1 {
		t.Fatalf("page links %d pages of its section, want its group of %d and %d group starts", n, navGroupSize, 600/navGroupSize-1)
	}
	for _, want := range []string{
		`<a href="../../big/p0123/index.html" aria-current="page">Big page 123</a>`,
		`<a href="../../big/p0100/index.html">Big page 100</a>`,
		`<a href="../../big/p0149/index.html">Big page 149</a>`,
		`<li class="nav-group"><a href="../../big/p0000/index.html">Pages 1–50 of 600</a></li>`,
		`<li class="nav-group"><a href="../../big/p0550/index.html">Pages 551–600 of 600</a></li>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, `href="../../big/p0150/index.html">Big page 150`) {
		t.Error("page lists a page of another group")
	}
}

// TestReadDirSectionsByFolder: pages in a folder are in its section unless their front matter names another.
func TestReadDirSectionsByFolder(t *testing.T) {
	dir := t.TempDir()
	for name, md := range map[string]string{
		"index.md":        "# Home\n",
		"ops/a.md":        "# A\n",
		"ops/b.md":        "---\nsection: Elsewhere\n---\n# B\n",
		"guide/deep/c.md": "# C\n",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(md), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pages, files, err := ReadDir(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	out := buildTo(t, Site{Title: "t", Pages: pages, Files: files})
	a := readPage(t, out, "ops/a")
	for _, want := range []string{`<div class="nav-title">ops</div>`, `>Elsewhere</a>`, `>guide</a>`} {
		if !strings.Contains(a, want) {
			t.Errorf("ops/a lacks %s", want)
		}
	}
	if strings.Contains(a, `>B</a>`) {
		t.Error("ops/b is listed in ops although its front matter names another section")
	}
}
