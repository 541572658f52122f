package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/runbook"
	"github.com/herofleet/herofleet/sitegen"
)

// TestCorpusBuilds keeps the benchmark honest: a small corpus is a valid fleet whose runbook builds (every helper,
// link and anchor resolves) in both layouts, and the Hugo project is complete.
func TestCorpusBuilds(t *testing.T) {
	for _, sections := range []int{1, 4} {
		dir := t.TempDir()
		fleetDir, hugo := filepath.Join(dir, "fleet"), filepath.Join(dir, "hugo")
		if err := (corpus{pages: 60, sections: sections}).write(fleetDir, hugo); err != nil {
			t.Fatal(err)
		}
		f, err := fleet.LoadDir(fleetDir)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Runbook) != 60 {
			t.Fatalf("fleet has %d runbook pages, want 60", len(f.Runbook))
		}
		site, err := runbook.Site(f, runbook.Options{})
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "out")
		if err := sitegen.Build(context.Background(), site, out); err != nil {
			t.Fatal(err)
		}
		page, err := os.ReadFile(filepath.Join(out, "runbook", "page-0059", "index.html"))
		if err != nil {
			t.Fatal(err)
		}
		if sections > 1 && !strings.Contains(string(page), `<div class="nav-title">Section 03</div>`) {
			t.Errorf("page of the last section is not in its section's navigation")
		}
		want := "content/runbook/page-0059.md"
		if sections > 1 {
			want = "content/sec-03/page-0059.md"
		}
		for _, f := range []string{"config.toml", "layouts/_default/baseof.html", want} {
			if _, err := os.Stat(filepath.Join(hugo, f)); err != nil {
				t.Error(err)
			}
		}
	}
}
