package apply

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/herofleet/herofleet/agent/build"
	"github.com/herofleet/herofleet/fleet"
)

// Two artifacts whose sha256 share their first 12 hex digits are two trees, and a tree marked built for another
// revision is never reused.
func TestBuildTreeIsKeyedByTheWholeRevision(t *testing.T) {
	r := New(Options{Config: Config{Dir: t.TempDir()}})
	const one = "0123456789ab0000000000000000000000000000000000000000000000000001"
	const two = "0123456789ab0000000000000000000000000000000000000000000000000002"
	app := func(sum string) fleet.Resolved {
		return fleet.Resolved{App: &fleet.App{Name: "books", Artifact: &fleet.Artifact{URL: "http://x/a.tar.gz", SHA256: sum}}}
	}
	d := &fleet.Desired{}
	t1, t2 := r.artifactTarget(&fleet.Fleet{}, d, app(one)), r.artifactTarget(&fleet.Fleet{}, d, app(two))
	if t1.buildDir == t2.buildDir {
		t.Fatalf("artifacts %s and %s share the tree %s", one, two, t1.buildDir)
	}
	if err := os.MkdirAll(t2.buildDir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(t2.buildDir, build.DoneMarker), []byte(one+"\n"), 0o644)
	if builtFor(t2) {
		t.Fatalf("a tree marked built for %s is taken for %s", one, two)
	}
	os.WriteFile(filepath.Join(t2.buildDir, build.DoneMarker), []byte(two+"\n"), 0o644)
	if !builtFor(t2) {
		t.Fatal("a tree marked built for its own revision is not reused")
	}
}
