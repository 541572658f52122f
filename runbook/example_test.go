package runbook

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/herofleet/herofleet/examples"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/sitegen"
)

// TestExampleFleetBuilds renders the Hero example fleet: every generated link and anchor must resolve.
func TestExampleFleetBuilds(t *testing.T) {
	f, err := fleet.LoadFS(examples.Hero())
	if err != nil {
		t.Fatal(err)
	}
	site, err := Site(f, Options{FleetURL: "https://forge.ourworld.tf/ops/hero-fleet.git"})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if dst := os.Getenv("RUNBOOK_OUT"); dst != "" { // to look at the site by hand
		out = dst
	}
	if err := sitegen.Build(context.Background(), site, out); err != nil {
		t.Fatal(err)
	}
}

// TestHeroRunbookPages renders the hand-written runbook pages proposed for the Hero example fleet
// (testdata/hero-runbook) against that fleet: every helper names something real and every link resolves.
func TestHeroRunbookPages(t *testing.T) {
	fsys := fstest.MapFS{}
	err := fs.WalkDir(examples.Hero(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(examples.Hero(), p)
		fsys[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := filepath.Glob(filepath.Join("testdata", "hero-runbook", "*.md"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no pages: %v", err)
	}
	for _, p := range pages {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fsys["runbook/"+filepath.Base(p)] = &fstest.MapFile{Data: data}
	}
	f, err := fleet.LoadFS(fsys)
	if err != nil {
		t.Fatal(err)
	}
	// The changelog page the on-call guide links to exists only with history: give it an empty one.
	site, err := Site(f, Options{History: &History{}})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if dst := os.Getenv("RUNBOOK_OUT"); dst != "" {
		out = dst
	}
	if err := sitegen.Build(context.Background(), site, out); err != nil {
		t.Fatal(err)
	}
}
