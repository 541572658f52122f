package fleet_test

import (
	"testing"

	"github.com/herofleet/herofleet/examples"
	"github.com/herofleet/herofleet/fleet"
)

// TestHeroExample: the fleet shipped in the binary is valid and splits the Hero deployment as hero.md says.
func TestHeroExample(t *testing.T) {
	f, err := fleet.LoadFS(examples.Hero())
	if err != nil {
		t.Fatalf("the example fleet is invalid:\n%v", err)
	}
	admin, err := f.ForRole("admin")
	if err != nil {
		t.Fatal(err)
	}
	tester, err := f.ForRole("tester")
	if err != nil {
		t.Fatal(err)
	}
	for _, app := range []string{"embedder", "voice"} {
		if _, ok := admin.App(app); !ok {
			t.Errorf("the admin VM must run the shared engine %q", app)
		}
		if _, ok := tester.App(app); ok {
			t.Errorf("engine %q must not run per tester", app)
		}
	}
	for _, app := range []string{"cockpit", "books", "memory", "agent", "voicebar"} {
		if _, ok := tester.App(app); !ok {
			t.Errorf("testers must have %q preinstalled", app)
		}
	}
	kinds := func(app string) map[string]bool {
		out := map[string]bool{}
		for _, b := range f.Apps[app].Binaries {
			out[b.Kind] = true
		}
		return out
	}
	if k := kinds("books"); !k["server"] || !k["web"] || !k["admin"] {
		t.Errorf("Hero Books is server + web + admin, got %v", k)
	}
	if k := kinds("agent"); !k["server"] || !k["admin"] {
		t.Errorf("Hero Agent is server + admin, got %v", k)
	}
	adminOnly := 0
	for _, app := range tester.Catalog {
		if k := kinds(app); len(k) == 1 && k["admin"] {
			adminOnly++
		}
	}
	if adminOnly == 0 {
		t.Error("the catalog should have apps whose bundle is a single admin binary")
	}
	for _, app := range []string{"books", "memory", "voicebar"} {
		if len(f.Apps[app].Uses) == 0 {
			t.Errorf("%s talks to a shared engine and must say so with uses", app)
		}
	}
}
