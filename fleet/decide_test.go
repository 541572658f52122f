package fleet

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// decideFleet: web needs db; cache stands alone.
const decideFleet = `
-- fleet.yaml --
name: t
-- roles/tester.yaml --
preinstalled: [web, cache]
-- apps/db.yaml --
source: {repo: https://forge.test/db.git, ref: main}
binaries: [{name: db, kind: server, path: db}]
-- apps/web.yaml --
source: {repo: https://forge.test/web.git, ref: main}
binaries: [{name: web, kind: web, path: web, args: [--v1]}]
needs: [db]
-- apps/cache.yaml --
source: {repo: https://forge.test/cache.git, ref: main}
binaries: [{name: cache, kind: server, path: cache}]
`

// TestDecide: what converging a host does to each app, from what it runs, what it wants, its quarantines and its
// gate, with no side effects.
func TestDecide(t *testing.T) {
	f := loadTxtar(t, decideFleet)
	d, err := f.ForRole("tester")
	if err != nil {
		t.Fatal(err)
	}
	spec := func(name string) *Resolved { r, _ := d.App(name); return &r }
	runningAll := func() map[string]Running {
		return map[string]Running{
			"db":    {Spec: spec("db"), Rev: "aaaa", Key: "kdb"},
			"web":   {Spec: spec("web"), Rev: "bbbb", Key: "kweb"},
			"cache": {Spec: spec("cache"), Rev: "cccc", Key: "kcache"},
		}
	}
	wantedAll := func() map[string]Wanted {
		return map[string]Wanted{
			"db": {Rev: "aaaa", Key: "kdb"}, "web": {Rev: "bbbb", Key: "kweb"}, "cache": {Rev: "cccc", Key: "kcache"},
		}
	}
	window := Gate{WindowClosed: true, Until: time.Date(2026, 12, 4, 2, 0, 0, 0, time.UTC)}
	cases := []struct {
		name    string
		running func(map[string]Running)
		wanted  func(map[string]Wanted)
		quar    map[string]string
		gate    Gate
		drift   DriftMode
		want    []string // "app verb[: reasons]", in order
	}{
		{name: "nothing changed", want: []string{"cache keep", "db keep", "web keep"}},
		{
			name:    "a fresh host installs everything, needs first",
			running: func(r map[string]Running) { clear(r) },
			want: []string{
				"cache install: preinstalled by role tester", "db install: needed by web", "web install: preinstalled by role tester",
			},
		},
		{
			name:   "a moved branch is an upgrade naming the commits",
			wanted: func(w map[string]Wanted) { w["cache"] = Wanted{Rev: "dddd", Key: "kcache2"} },
			want:   []string{"cache upgrade: source main: cccc -> dddd", "db keep", "web keep"},
		},
		{
			name:    "a new key with the same revision and spec is a restart",
			running: func(r map[string]Running) { r["web"] = Running{Spec: spec("web"), Rev: "bbbb", Key: "old"} },
			want:    []string{"cache keep", "db keep", "web restart: its resolved spec changed (build, binaries, hooks, host address or the secrets it reads)"},
		},
		{
			name: "a changed spec says which field",
			running: func(r map[string]Running) {
				old := *spec("web")
				app := *old.App
				app.Binaries = []Binary{{Name: "web", Kind: "web", Path: "web", Args: []string{"--v0"}}}
				old.App = &app
				r["web"] = Running{Spec: &old, Rev: "bbbb", Key: "old"}
			},
			want: []string{"cache keep", "db keep", "web restart: binary web: args changed"},
		},
		{
			name:   "a closed window holds a change, never an install",
			wanted: func(w map[string]Wanted) { w["cache"] = Wanted{Rev: "dddd", Key: "k2"} },
			running: func(r map[string]Running) {
				delete(r, "db")
			},
			gate: window,
			want: []string{"cache hold-window: source main: cccc -> dddd", "db install: needed by web", "web keep"},
		},
		{
			name:   "suspended holds a change",
			wanted: func(w map[string]Wanted) { w["cache"] = Wanted{Rev: "dddd", Key: "k2"} },
			gate:   Gate{Suspended: true},
			want:   []string{"cache hold-suspended: source main: cccc -> dddd", "db keep", "web keep"},
		},
		{
			name:   "the spec that failed stays quarantined, window or not",
			wanted: func(w map[string]Wanted) { w["cache"] = Wanted{Rev: "dddd", Key: "k2", HoldKey: "h2"} },
			quar:   map[string]string{"cache": "h2"},
			gate:   window,
			want:   []string{"cache quarantined: source main: cccc -> dddd", "db keep", "web keep"},
		},
		{
			name:   "a different spec than the one that failed is tried",
			wanted: func(w map[string]Wanted) { w["cache"] = Wanted{Rev: "eeee", Key: "k3", HoldKey: "h3"} },
			quar:   map[string]string{"cache": "h2"},
			want:   []string{"cache upgrade: source main: cccc -> eeee", "db keep", "web keep"},
		},
		{
			name:    "a quarantined new app is not installed",
			running: func(r map[string]Running) { delete(r, "cache") },
			quar:    map[string]string{"cache": "kcache"},
			want:    []string{"cache quarantined: preinstalled by role tester", "db keep", "web keep"},
		},
		{
			name:   "an app that cannot be resolved keeps what it runs",
			wanted: func(w map[string]Wanted) { w["web"] = Wanted{Err: errors.New("forge down")} },
			want:   []string{"cache keep", "db keep", "web unresolved: forge down"},
		},
		{
			name: "apps that leave go dependents first",
			running: func(r map[string]Running) {
				api := *spec("web")
				app := *api.App
				app.Name, app.Needs = "api", []string{"store"}
				api.App, api.Why = &app, "preinstalled by role old"
				store := *spec("db")
				sapp := *store.App
				sapp.Name = "store"
				store.App, store.Why = &sapp, "needed by api"
				r["api"] = Running{Spec: &api, Rev: "1", Key: "k"}
				r["store"] = Running{Spec: &store, Rev: "2", Key: "k"}
				r["zeta"] = Running{Rev: "3", Key: "k"}
			},
			want: []string{
				"cache keep", "db keep", "web keep",
				"api remove: no longer preinstalled by role old", "store remove: no longer needed by api",
				"zeta remove: no longer wanted on this host",
			},
		},
		{
			name:    "an app waits while a need it lacks cannot be resolved",
			running: func(r map[string]Running) { clear(r) },
			wanted:  func(w map[string]Wanted) { w["db"] = Wanted{Err: errors.New("forge down")} },
			want: []string{
				"cache install: preinstalled by role tester", "db unresolved: forge down",
				"web wait-needs db: preinstalled by role tester",
			},
		},
		{
			name:    "an installed app waits, window or not, while its need is quarantined and gone",
			running: func(r map[string]Running) { delete(r, "db") },
			quar:    map[string]string{"db": "kdb"},
			gate:    window,
			want:    []string{"cache keep", "db quarantined: needed by web", "web wait-needs db"},
		},
		{
			name:    "a need installed earlier in the same pass satisfies it",
			running: func(r map[string]Running) { delete(r, "db") },
			want:    []string{"cache keep", "db install: needed by web", "web keep"},
		},
		{
			name: "a drifted app is healed",
			running: func(r map[string]Running) {
				c := r["cache"]
				c.Drift = []string{"cache: executable changed on this host since install"}
				r["cache"] = c
			},
			want: []string{"cache heal: cache: executable changed on this host since install", "db keep", "web keep"},
		},
		{
			name: "a heal waits for the window like a restart",
			running: func(r map[string]Running) {
				c := r["cache"]
				c.Drift = []string{"cache: executable changed on this host since install"}
				r["cache"] = c
			},
			gate: window,
			want: []string{"cache hold-window: cache: executable changed on this host since install", "db keep", "web keep"},
		},
		{
			name: "drift: report only says it",
			running: func(r map[string]Running) {
				c := r["cache"]
				c.Drift = []string{"cache: executable changed on this host since install"}
				r["cache"] = c
			},
			drift: DriftReport,
			want:  []string{"cache keep: cache: executable changed on this host since install", "db keep", "web keep"},
		},
		{
			name: "a drifted app that upgrades is upgraded",
			running: func(r map[string]Running) {
				c := r["cache"]
				c.Drift = []string{"cache: executable changed on this host since install"}
				r["cache"] = c
			},
			wanted: func(w map[string]Wanted) { w["cache"] = Wanted{Rev: "dddd", Key: "kcache2"} },
			want:   []string{"cache upgrade: source main: cccc -> dddd", "db keep", "web keep"},
		},
		{
			name:    "a closed window holds a removal",
			running: func(r map[string]Running) { r["zeta"] = Running{Rev: "3", Key: "k"} },
			gate:    window,
			want:    []string{"cache keep", "db keep", "web keep", "zeta hold-window: no longer wanted on this host"},
		},
	}
	seen := map[Verb]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			running, wanted := runningAll(), wantedAll()
			if c.running != nil {
				c.running(running)
			}
			if c.wanted != nil {
				c.wanted(wanted)
			}
			var got []string
			for _, dec := range Decide(d, wanted, HostState{Running: running, Quarantine: c.quar, Gate: c.gate, Drift: c.drift}) {
				seen[dec.Verb] = true
				s := fmt.Sprintf("%s %s", dec.App, dec.Verb)
				if dec.Need != "" {
					s += " " + dec.Need
				}
				if dec.Verb == VerbHoldWindow && !dec.Until.Equal(window.Until) {
					t.Errorf("%s: held until %s, want the window's %s", dec.App, dec.Until, window.Until)
				}
				if dec.Err != nil {
					s += ": " + dec.Err.Error()
				} else if len(dec.Reasons) > 0 {
					s += ": " + strings.Join(dec.Reasons, "; ")
				}
				got = append(got, s)
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(c.want, "\n  "))
			}
		})
	}
	for _, v := range []Verb{VerbInstall, VerbUpgrade, VerbRestart, VerbHeal, VerbRemove, VerbKeep, VerbHoldWindow,
		VerbHoldSuspended, VerbQuarantined, VerbUnresolved, VerbWaitNeeds} {
		if !seen[v] {
			t.Errorf("no case decides %s: every verb has a case in this table", v)
		}
	}
}

// TestDecideAppOnTheHostAsItIs: the agent decides one app at a time on the host as the apps before it left it, so
// an app whose need failed to install in this pass waits for it, and a suspend asked for mid-pass holds it.
func TestDecideAppOnTheHostAsItIs(t *testing.T) {
	f := loadTxtar(t, decideFleet)
	d, err := f.ForRole("tester")
	if err != nil {
		t.Fatal(err)
	}
	web, _ := d.App("web")
	db, _ := d.App("db")
	cases := []struct {
		name string
		h    HostState
		want string
	}{
		{"the need failed to install", HostState{}, "wait-needs db"},
		{"the need is installed", HostState{Running: map[string]Running{"db": {Spec: &db}}}, "install"},
		{"suspended since the gate was read", HostState{
			Running: map[string]Running{"db": {Spec: &db}, "web": {Spec: &web, Rev: "a", Key: "old"}},
			Gate:    Gate{Suspended: true},
		}, "hold-suspended"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dec := DecideApp(web, Wanted{Rev: "a", Key: "new"}, c.h)
			got := string(dec.Verb)
			if dec.Need != "" {
				got += " " + dec.Need
			}
			if got != c.want {
				t.Errorf("DecideApp = %q, want %q", got, c.want)
			}
		})
	}
}

// TestDiffIsDecide: a plan's changes are the agent's decisions from the fleet alone.
func TestDiffIsDecide(t *testing.T) {
	before := loadTxtar(t, decideFleet)
	after := loadTxtar(t, strings.Replace(decideFleet, "args: [--v1]", "args: [--v2]", 1))
	b, _ := before.ForRole("tester")
	a, _ := after.ForRole("tester")
	got := Diff(b, a)
	if len(got) != 1 || got[0].App != "web" || got[0].Action != Restart || got[0].Reasons[0] != "binary web: args changed" {
		t.Fatalf("diff %+v", got)
	}
	if same := Diff(a, a); len(same) != 0 {
		t.Fatalf("no change should plan nothing: %+v", same)
	}
}

// TestPlanOnHost: a plan made on a host decides from what its agent says it runs, as the agent does: a drifted
// app is healed (drift: heal) or only said (drift: report), with the drift's words; an app it lacks is installed,
// one the fleet no longer wants removed; an app installed on click stays.
func TestPlanOnHost(t *testing.T) {
	const said = "cache: executable changed on this host since install (sha256 3f2a1c9e… ≠ installed 9b0d4e11…, modified 14:02:11)"
	fl := decideFleet + "-- hosts/h1.yaml --\nrole: tester\n"
	fl = strings.Replace(fl, "preinstalled: [web, cache]", "preinstalled: [web, cache]\ncatalog: [extra]", 1) +
		"-- apps/extra.yaml --\nsource: {repo: https://forge.test/extra.git, ref: main}\nbinaries: [{name: extra, kind: server, path: extra}]\n"
	on := HostFacts{Running: map[string]Running{
		"cache": {Drift: []string{said}}, "web": {}, "extra": {}, "gone": {},
	}, Clicked: []string{"extra"}}
	for _, c := range []struct{ drift, want string }{
		{"", "heal cache: " + said + "|install db: needed by web|remove gone: no longer wanted on this host"},
		{"drift: report\n", "report cache: " + said + "|install db: needed by web|remove gone: no longer wanted on this host"},
	} {
		f := loadTxtar(t, strings.Replace(fl, "name: t\n", "name: t\n"+c.drift, 1))
		p := PlanOnHost(nil, f, Target{Host: "h1"}, on)
		var got []string
		for _, ch := range p.Changes {
			got = append(got, fmt.Sprintf("%s %s: %s", ch.Action, ch.App, strings.Join(ch.Reasons, "; ")))
		}
		if strings.Join(got, "|") != c.want || !p.OnHost || p.Error != "" {
			t.Errorf("%q: plan %+v\ngot  %s\nwant %s", c.drift, p, strings.Join(got, "|"), c.want)
		}
	}
}
