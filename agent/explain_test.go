package agent

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
)

func explainAgent(t *testing.T) *Agent {
	t.Helper()
	cfg, err := ParseConfig([]byte(fmt.Sprintf("fleet: {repo: file:///nonexistent}\nrole: tester\ndir: %s\n", t.TempDir())))
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func resolvedBooks(args ...string) fleet.Resolved {
	return fleet.Resolved{Ref: "main", Why: "preinstalled by role tester", App: &fleet.App{
		Name: "books", Source: fleet.Source{Repo: "https://forge.test/apps/books.git", Ref: "main"},
		Binaries: []fleet.Binary{{Name: "books_server", Kind: "server", Path: "bin/books", Args: args}},
	}}
}

// The reasons of a change name the fleet fields that changed and a source branch that moved: the agent feeds
// fleet.Decide with what it runs (revision, key and the spec it was applied from).
func TestChangeReasons(t *testing.T) {
	a := explainAgent(t)
	oldRev, newRev := strings.Repeat("a", 40), strings.Repeat("b", 40)
	decide := func(app fleet.Resolved, w fleet.Wanted) fleet.Decision {
		t.Helper()
		d := &fleet.Desired{}
		if app.App != nil {
			d.Apps = []fleet.Resolved{app}
		}
		decs := fleet.Decide(d, map[string]fleet.Wanted{"books": w}, a.host.decideInput(fleet.Gate{}))
		if len(decs) != 1 {
			t.Fatalf("decisions %+v", decs)
		}
		return decs[0]
	}
	if dec := decide(resolvedBooks(), fleet.Wanted{Rev: oldRev, Key: "k1"}); dec.Action != fleet.Install || dec.Reasons[0] != "preinstalled by role tester" {
		t.Errorf("install: %+v", dec)
	}
	if err := a.host.recordInstalled(&Installed{App: "books", Rev: oldRev, Key: "k1"}); err != nil {
		t.Fatal(err)
	}
	a.host.setSpec(resolvedBooks())
	if dec := decide(resolvedBooks(), fleet.Wanted{Rev: oldRev, Key: "k1"}); dec.Verb != fleet.VerbKeep {
		t.Errorf("same key: %+v", dec)
	}
	dec := decide(resolvedBooks("--verbose"), fleet.Wanted{Rev: oldRev, Key: "k2"})
	if dec.Action != fleet.Restart || strings.Join(dec.Reasons, ";") != "binary books_server: args changed" {
		t.Errorf("restart: %+v", dec)
	}
	dec = decide(resolvedBooks(), fleet.Wanted{Rev: newRev, Key: "k3"})
	if dec.Action != fleet.Upgrade || strings.Join(dec.Reasons, ";") != "source main: aaaaaaaaaaaa -> bbbbbbbbbbbb" {
		t.Errorf("branch moved: %+v", dec)
	}
	if dec := decide(fleet.Resolved{}, fleet.Wanted{}); dec.Action != fleet.Remove || dec.Reasons[0] != "no longer preinstalled by role tester" {
		t.Errorf("remove: %+v", dec)
	}
}

// Last actions are kept one per app, at most maxActions, the oldest dropped first.
func TestLastActionsBounded(t *testing.T) {
	a := explainAgent(t)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a.now = func() time.Time { return at }
	for i := range maxActions + 5 {
		at = at.Add(time.Minute)
		a.recordAction(fleet.Change{App: fmt.Sprintf("app%03d", i), Action: fleet.Install, Reasons: []string{"test"}}, "c", api.Reason{})
	}
	a.host.mu.Lock()
	defer a.host.mu.Unlock()
	if len(a.host.st.Actions) != maxActions {
		t.Fatalf("%d actions kept", len(a.host.st.Actions))
	}
	if _, ok := a.host.st.Actions["app004"]; ok {
		t.Error("the oldest actions were kept")
	}
	if _, ok := a.host.st.Actions[fmt.Sprintf("app%03d", maxActions+4)]; !ok {
		t.Error("the newest action was dropped")
	}
}
