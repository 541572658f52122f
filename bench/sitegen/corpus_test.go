package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/herofleet/herofleet/sitegen"
)

// TestCorpusBuilds keeps the benchmark honest: a small corpus must build with sitegen (every generated link and
// anchor resolves), and the Hugo project must be complete.
func TestCorpusBuilds(t *testing.T) {
	dir := t.TempDir()
	md, hugo := filepath.Join(dir, "md"), filepath.Join(dir, "hugo")
	if err := (corpus{pages: 60, sections: 4}).write(md, hugo); err != nil {
		t.Fatal(err)
	}
	pages, files, err := sitegen.ReadDir(os.DirFS(md))
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 61 {
		t.Fatalf("corpus has %d pages, want 61", len(pages))
	}
	if err := sitegen.Build(context.Background(), sitegen.Site{Title: "t", Pages: pages, Files: files}, filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"config.toml", "layouts/_default/single.html", "content/sec-03/page-0014.md"} {
		if _, err := os.Stat(filepath.Join(hugo, f)); err != nil {
			t.Error(err)
		}
	}
}
