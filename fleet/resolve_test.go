package fleet

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

func loadTxtar(t *testing.T, src string) *Fleet {
	t.Helper()
	f, err := LoadDir(writeTree(t, txtar.Parse([]byte(src))))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return f
}

const chainFleet = `
-- fleet.yaml --
name: t
-- apps/zeta.yaml --
source: {repo: https://f.example/z.git}
binaries: [{name: zeta, kind: server, path: z}]
needs: [db, cache]
-- apps/alpha.yaml --
source: {repo: https://f.example/a.git}
binaries: [{name: alpha, kind: web, path: a}]
-- apps/db.yaml --
source: {repo: https://f.example/db.git, ref: v1}
binaries: [{name: db, kind: server, path: d}]
-- apps/cache.yaml --
source: {repo: https://f.example/c.git}
binaries: [{name: cache, kind: server, path: c}]
needs: [db]
-- apps/extra.yaml --
source: {repo: https://f.example/e.git}
binaries: [{name: extra, kind: admin, path: e}]
needs: [cache]
-- roles/tester.yaml --
preinstalled: [zeta, alpha]
catalog: [extra]
-- hosts/t1.yaml --
role: tester
add: [extra]
pin: {db: v2}
`

func TestResolveOrdersNeedsFirstThenName(t *testing.T) {
	f := loadTxtar(t, chainFleet)
	d, err := f.ForRole("tester")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.Names(), []string{"alpha", "db", "cache", "zeta"}; !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
	if !slices.Equal(d.Catalog, []string{"extra"}) {
		t.Errorf("catalog = %v", d.Catalog)
	}
	if a, _ := d.App("db"); a.Why != "needed by zeta" || a.Ref != "v1" {
		t.Errorf("db: why %q ref %q", a.Why, a.Ref)
	}
	if a, _ := d.App("alpha"); a.Ref != DefaultRef {
		t.Errorf("alpha ref %q, want the default %q", a.Ref, DefaultRef)
	}
}

func TestResolveHostAddsAndPins(t *testing.T) {
	f := loadTxtar(t, chainFleet)
	d, err := f.ForHost("t1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.Names(), []string{"alpha", "db", "cache", "extra", "zeta"}; !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
	if len(d.Catalog) != 0 {
		t.Errorf("catalog = %v: extra is installed already", d.Catalog)
	}
	if a, _ := d.App("db"); a.Ref != "v2" || !a.Pinned {
		t.Errorf("db ref %q pinned %v, want the host's pin v2", a.Ref, a.Pinned)
	}
	if d.Address != "t1" {
		t.Errorf("address %q: a host without one is reached by its name", d.Address)
	}
}

func TestWithInstallsFromCatalogOnly(t *testing.T) {
	f := loadTxtar(t, chainFleet)
	d, _ := f.ForRole("tester")
	grown, err := f.With(d, []string{"extra"})
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := grown.App("extra"); !ok || a.Why != "installed on click" {
		t.Errorf("extra not installed on click: %+v", a)
	}
	if _, err := f.With(d, []string{"db"}); err != nil {
		t.Errorf("an app already installed is fine to name: %v", err)
	}
	if _, err := f.With(d, []string{"ghost"}); err == nil || !strings.Contains(err.Error(), "not in the catalog") {
		t.Errorf("ghost: %v", err)
	}
}

func TestDiff(t *testing.T) {
	before := loadTxtar(t, chainFleet)
	after := loadTxtar(t, strings.NewReplacer(
		"binaries: [{name: alpha, kind: web, path: a}]", "binaries: [{name: alpha, kind: web, path: a, args: [--v]}]",
		"pin: {db: v2}", "pin: {db: v3}",
		"preinstalled: [zeta, alpha]", "preinstalled: [alpha]",
	).Replace(chainFleet))
	p := PlanTarget(before, after, Target{Host: "t1"})
	got := map[string]string{}
	for _, c := range p.Changes {
		got[c.App] = string(c.Action) + ": " + strings.Join(c.Reasons, "; ")
	}
	want := map[string]string{
		"alpha": "restart: binary alpha: args changed",
		"db":    "upgrade: source.ref v2 -> v3",
		"zeta":  "remove: no longer preinstalled by role tester",
	}
	for app, w := range want {
		if got[app] != w {
			t.Errorf("%s: got %q, want %q", app, got[app], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("changes %v, want only %v", got, want)
	}
}

func TestPlanAllCoversRemovedTargets(t *testing.T) {
	before := loadTxtar(t, chainFleet)
	after := loadTxtar(t, strings.Replace(chainFleet, "-- hosts/t1.yaml --\nrole: tester\nadd: [extra]\npin: {db: v2}\n", "", 1))
	var gone *Plan
	plans := PlanAll(before, after)
	for i := range plans {
		if plans[i].Host == "t1" {
			gone = &plans[i]
		}
	}
	if gone == nil || len(gone.Changes) != 5 || gone.Changes[0].Action != Remove {
		t.Fatalf("a host file removed plans every app's removal, got %+v", gone)
	}
}
