package demo

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/herofleet/herofleet/examples"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/gitserver"
	"github.com/herofleet/herofleet/internal/source"
)

var updateLock = flag.Bool("update-lock", false, "rewrite examples/hero/fleet.lock from what the demo publishes")

// The example fleet ships a fleet.lock, and `herofleet demo` installs exactly the commits it names: the demo's app
// repos are generated with a fixed commit time, so the same templates give the same commits on every run. This
// test locks the fleet against a freshly published demo forge, as `herofleet lock --update` would, and wants the
// shipped lock byte for byte. After changing an app's binaries or the app templates, rerun it with -update-lock.
func TestExampleLock(t *testing.T) {
	g, err := gitserver.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	f, err := fleet.LoadFS(examples.Hero())
	if err != nil && !(*updateLock && onlyLockProblems(err)) {
		t.Fatal(err)
	}
	if f.Lock == nil {
		t.Fatal("the example fleet has no fleet.lock")
	}
	if _, err := publish(g, examples.Hero(), f); err != nil {
		t.Fatal(err)
	}
	cache := &source.Cache{Dir: t.TempDir(), Rewrite: source.Rewrites{Forge: g.URL()}.Apply}
	lock, moves, err := cache.Lock(context.Background(), f, func(string) bool { return true }, true)
	if err != nil {
		t.Fatal(err)
	}
	const path = "../examples/hero/fleet.lock"
	if *updateLock {
		if err := os.WriteFile(filepath.FromSlash(path), lock.Format(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if len(moves) > 0 {
		t.Errorf("the demo publishes other commits than examples/hero/fleet.lock names: %v; run go test ./demo -run TestExampleLock -update-lock", moves)
	}
	shipped, err := os.ReadFile(filepath.FromSlash(path))
	if err != nil {
		t.Fatal(err)
	}
	if string(shipped) != string(lock.Format()) {
		t.Errorf("examples/hero/fleet.lock is not what herofleet lock writes:\n%s\nwant\n%s", shipped, lock.Format())
	}
}

// onlyLockProblems: a fleet whose only problems are its lock's, which -update-lock rewrites.
func onlyLockProblems(err error) bool {
	var fe fleet.Errors
	if !errors.As(err, &fe) {
		return false
	}
	for _, e := range fe {
		if e.File != fleet.LockFile {
			return false
		}
	}
	return true
}
