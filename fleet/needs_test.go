package fleet

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

func TestNeedsCycles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		needs map[string][]string
		want  [][]string
	}{
		{"empty", map[string][]string{}, nil},
		{"no needs", map[string][]string{"a": nil, "b": nil}, nil},
		{"chain", map[string][]string{"a": {"b"}, "b": {"c"}, "c": nil}, nil},
		{"diamond is no cycle", map[string][]string{"a": {"b", "c"}, "b": {"d"}, "c": {"d"}, "d": nil}, nil},
		{"self-need", map[string][]string{"a": {"a"}}, [][]string{{"a"}}},
		{"2-cycle", map[string][]string{"a": {"b"}, "b": {"a"}}, [][]string{{"a", "b"}}},
		{"3-cycle starts at its smallest name", map[string][]string{"web": {"api"}, "api": {"db"}, "db": {"web"}},
			[][]string{{"api", "db", "web"}}},
		{"3-cycle keeps needs order", map[string][]string{"a": {"c"}, "c": {"b"}, "b": {"a"}},
			[][]string{{"a", "c", "b"}}},
		{"two disjoint cycles, each once", map[string][]string{"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}},
			[][]string{{"a", "b"}, {"c", "d", "e"}}},
		{"cycle with an acyclic tail on both sides", map[string][]string{
			"app": {"z"}, "z": {"y"}, "y": {"z", "lib"}, "lib": nil, "other": {"lib"},
		}, [][]string{{"y", "z"}}},
		{"cycle entered from a smaller name", map[string][]string{"a": {"m"}, "m": {"n"}, "n": {"o"}, "o": {"m"}},
			[][]string{{"m", "n", "o"}}},
		{"two cycles through one app", map[string][]string{"a": {"b", "c"}, "b": {"a"}, "c": {"a"}},
			[][]string{{"a", "b"}, {"a", "c"}}},
		{"cycles come sorted, not as found", map[string][]string{"a": {"c", "b"}, "b": {"a"}, "c": {"a"}},
			[][]string{{"a", "b"}, {"a", "c"}}},
		{"unknown needs are left out", map[string][]string{"a": {"ghost"}, "b": {"ghost", "a"}}, nil},
		{"unknown need beside a cycle", map[string][]string{"a": {"ghost", "b"}, "b": {"a"}}, [][]string{{"a", "b"}}},
		{"a need named twice closes its cycle once", map[string][]string{"a": {"b", "b"}, "b": {"a", "a"}},
			[][]string{{"a", "b"}}},
		{"self-need beside a 2-cycle", map[string][]string{"a": {"a", "b"}, "b": {"a"}}, [][]string{{"a"}, {"a", "b"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := needsCycles(tc.needs); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("needsCycles(%v) = %v, want %v", tc.needs, got, tc.want)
			}
		})
	}
}

// TestNeedsCyclesRandomGraphs checks needsCycles against its promise on many random graphs: it finds a cycle
// exactly when the graph cannot be put in order, every cycle it gives is one (each app needs the next, the last
// the first), starts at its smallest name, and comes once, and every app on a cycle shares a group of apps that
// need each other with an app of a listed cycle.
func TestNeedsCyclesRandomGraphs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		n := 1 + r.IntN(7)
		needs := map[string][]string{}
		for a := range n {
			name := string(rune('a' + a))
			needs[name] = nil
			for range r.IntN(3) {
				needs[name] = append(needs[name], string(rune('a'+r.IntN(n+1)))) // one past n: an unknown app
			}
		}
		cycles := needsCycles(needs)
		if got, want := len(cycles) > 0, !orderable(needs); got != want {
			t.Fatalf("graph %d %v: found cycles %v, but orderable is %v", i, needs, cycles, !want)
		}
		seen := map[string]bool{}
		onListed := map[string]bool{}
		for _, c := range cycles {
			key := strings.Join(c, " ")
			if seen[key] {
				t.Fatalf("graph %v: cycle %v listed twice", needs, c)
			}
			seen[key] = true
			if c[0] != slices.Min(c) {
				t.Fatalf("graph %v: cycle %v does not start at its smallest name", needs, c)
			}
			for j, app := range c {
				onListed[app] = true
				if next := c[(j+1)%len(c)]; !slices.Contains(needs[app], next) {
					t.Fatalf("graph %v: cycle %v, but %s does not need %s", needs, c, app, next)
				}
			}
		}
		for app := range needs {
			if !reaches(needs, app, app) {
				continue
			}
			grouped := false
			for o := range onListed {
				grouped = grouped || reaches(needs, app, o) && reaches(needs, o, app)
			}
			if !grouped {
				t.Fatalf("graph %v: %s is on a cycle, but no listed cycle %v is in its group", needs, app, cycles)
			}
		}
	}
}

// orderable says whether every app of needs can be placed after the (known) apps it needs.
func orderable(needs map[string][]string) bool {
	placed := map[string]bool{}
	for progress := true; progress; {
		progress = false
		for app, deps := range needs {
			if placed[app] {
				continue
			}
			if !slices.ContainsFunc(deps, func(d string) bool { _, known := needs[d]; return known && !placed[d] }) {
				placed[app], progress = true, true
			}
		}
	}
	return len(placed) == len(needs)
}

// reaches says whether from needs to, in one step or more.
func reaches(needs map[string][]string, from, to string) bool {
	seen := map[string]bool{}
	queue := slices.Clone(needs[from])
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if n == to {
			return true
		}
		if !seen[n] {
			seen[n] = true
			queue = append(queue, needs[n]...)
		}
	}
	return false
}

// cycleFleet has a needs cycle (atlas, tiles) that role maps runs and role plain does not.
func cycleFleet() *Fleet {
	app := func(name string, needs ...string) *App {
		return &App{Name: name, File: "apps/" + name + ".yaml", Needs: needs,
			Binaries: []Binary{{Name: name, Kind: "server", Path: name}}}
	}
	return &Fleet{
		Apps: map[string]*App{
			"atlas": app("atlas", "tiles"), "tiles": app("tiles", "atlas"), "web": app("web"),
			"viewer": app("viewer", "web", "atlas"), "loop": app("loop", "loop"),
		},
		Roles: map[string]*Role{
			"maps":  {Name: "maps", Preinstalled: []string{"viewer"}},
			"plain": {Name: "plain", Preinstalled: []string{"web"}, Catalog: []string{"atlas"}},
		},
		Hosts: map[string]*Host{"h1": {Name: "h1", Role: "plain", Add: []string{"tiles"}}},
	}
}

// TestResolveRefusesNeedsCycle: a fleet that skipped validation still resolves without looping or panicking, and
// the error names the cycle as validation does.
func TestResolveRefusesNeedsCycle(t *testing.T) {
	f := cycleFleet()
	for _, tc := range []struct {
		name    string
		resolve func() error
		want    string
	}{
		{"role", func() error { _, err := f.ForRole("maps"); return err }, "needs cycle: atlas -> tiles -> atlas"},
		{"host add", func() error { _, err := f.ForHost("h1"); return err }, "needs cycle: atlas -> tiles -> atlas"},
		{"bundle", func() error { _, err := f.Bundle("tiles"); return err }, "needs cycle: atlas -> tiles -> atlas"},
		{"self-need", func() error { _, err := f.Bundle("loop"); return err }, "needs cycle: loop -> loop"},
		{"click", func() error {
			d, err := f.ForRole("plain")
			if err != nil {
				return fmt.Errorf("plain has no cycle: %v", err)
			}
			_, err = f.With(d, []string{"atlas"})
			return err
		}, "needs cycle: atlas -> tiles -> atlas"},
		{"two cycles", func() error {
			g := cycleFleet()
			g.Apps["web"].Needs = []string{"loop", "atlas"}
			_, err := g.ForRole("plain")
			return err
		}, "needs cycles: atlas -> tiles -> atlas; loop -> loop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.resolve()
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got error %v, want %q", err, tc.want)
			}
			if _, ok := errors.AsType[*needsCycleError](err); !ok {
				t.Errorf("error is a %T, want a *needsCycleError", err)
			}
		})
	}
	d, err := f.ForRole("plain")
	if err != nil || !slices.Equal(d.Names(), []string{"web"}) || !slices.Equal(d.Catalog, []string{"atlas"}) {
		t.Errorf("a role clear of the cycle resolves: %v, %v", d, err)
	}
}

func TestValidationReportsNeedsCycles(t *testing.T) {
	const head = "-- fleet.yaml --\nname: t\n"
	app := func(name, needs string) string {
		return fmt.Sprintf("-- apps/%s.yaml --\nsource: {repo: https://f.example/%s.git}\nbinaries: [{name: %s, kind: server, path: x}]\nneeds: %s\n",
			name, name, name, needs)
	}
	for _, tc := range []struct {
		name  string
		fleet string
		want  []string
	}{
		{"self-need is said once, plainly", app("a", "[a]"),
			[]string{"apps/a.yaml:3:9: needs names the app itself"}},
		{"2-cycle at the need that closes it", app("a", "[b]") + app("b", "[a]"),
			[]string{"apps/b.yaml:3:9: needs cycle: a -> b -> a"}},
		{"the closing need, not the first", app("a", "[b]") + app("b", "[c, a]") + app("c", "[]"),
			[]string{"apps/b.yaml:3:12: needs cycle: a -> b -> a"}},
		{"two disjoint cycles, each once", app("a", "[b]") + app("b", "[a]") + app("c", "[e]") + app("d", "[c]") + app("e", "[d]"),
			[]string{"apps/b.yaml:3:9: needs cycle: a -> b -> a", "apps/d.yaml:3:9: needs cycle: c -> e -> d -> c"}},
		{"a need named twice, one cycle", app("a", "[b]") + app("b", "[a, a]"),
			[]string{"apps/b.yaml:3:12: needs names \"a\" twice", "apps/b.yaml:3:9: needs cycle: a -> b -> a"}},
		{"cycle with a tail", app("a", "[z]") + app("y", "[z]") + app("z", "[y]"),
			[]string{"apps/z.yaml:3:9: needs cycle: y -> z -> y"}},
		{"a bad pin on a host clear of the cycle is still reported",
			app("a", "[b]") + app("b", "[a]") + app("c", "[]") + app("d", "[]") +
				"-- roles/r.yaml --\npreinstalled: [c]\n-- hosts/h.yaml --\nrole: r\npin: {d: v1}\n",
			[]string{"apps/b.yaml:3:9: needs cycle: a -> b -> a", "hosts/h.yaml:2:7: pin: \"d\" is not installed on this host nor in its catalog"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadDir(writeTree(t, txtar.Parse([]byte(head+tc.fleet))))
			var got []string
			if fe, ok := err.(Errors); ok {
				for _, e := range fe {
					got = append(got, e.Error())
				}
			} else if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tc.want))
			if !slices.Equal(got, want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
