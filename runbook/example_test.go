package runbook

import (
	"context"
	"os"
	"testing"

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

// TestHeroRunbookPages: the example fleet ships hand-written pages (examples/hero/runbook): every helper in them
// names something real and every link resolves, with and without history.
func TestHeroRunbookPages(t *testing.T) {
	f, err := fleet.LoadFS(examples.Hero())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Runbook) < 2 {
		t.Fatalf("the example fleet ships %d runbook pages", len(f.Runbook))
	}
	site, err := Site(f, Options{History: &History{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sitegen.Build(context.Background(), site, t.TempDir()); err != nil {
		t.Fatal(err)
	}
}
