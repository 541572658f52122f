package runbook

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herofleet/herofleet/examples"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/sitegen"
)

// A fleet URL with a token (the origin remote of a checkout made with one) never reaches the runbook: its
// bootstrap commands name the URL with the token masked.
func TestRunbookNeverShowsTheFleetURLsToken(t *testing.T) {
	f, err := fleet.LoadFS(examples.Hero())
	if err != nil {
		t.Fatal(err)
	}
	site, err := Site(f, Options{FleetURL: "https://ops:s3cret@forge.ourworld.tf/ops/hero-fleet.git"})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := sitegen.Build(context.Background(), site, out); err != nil {
		t.Fatal(err)
	}
	masked := false
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), "s3cret") {
			t.Errorf("%s shows the token", strings.TrimPrefix(p, out))
		}
		masked = masked || strings.Contains(string(b), "https://ops:xxxxx@forge.ourworld.tf/ops/hero-fleet.git")
		return nil
	})
	if !masked {
		t.Error("no page names the masked fleet URL")
	}
}
