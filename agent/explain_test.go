package agent

import (
	"fmt"
	"strings"
	"testing"
	"time"

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

// The reasons of a change name the fleet fields that changed and a source branch that moved.
func TestChangeReasons(t *testing.T) {
	a := explainAgent(t)
	oldRev, newRev := strings.Repeat("a", 40), strings.Repeat("b", 40)
	if ch := a.changeOf(nil, &target{app: resolvedBooks(), rev: oldRev}); ch.Action != fleet.Install || ch.Reasons[0] != "preinstalled by role tester" {
		t.Errorf("install: %+v", ch)
	}
	a.setSpec(resolvedBooks())
	prev := &Installed{App: "books", Rev: oldRev, Key: "k1"}
	ch := a.changeOf(prev, &target{app: resolvedBooks("--verbose"), rev: oldRev})
	if ch.Action != fleet.Restart || strings.Join(ch.Reasons, ";") != "binary books_server: args changed" {
		t.Errorf("restart: %+v", ch)
	}
	ch = a.changeOf(prev, &target{app: resolvedBooks(), rev: newRev})
	if ch.Action != fleet.Upgrade || strings.Join(ch.Reasons, ";") != "source main: aaaaaaaaaaaa -> bbbbbbbbbbbb" {
		t.Errorf("branch moved: %+v", ch)
	}
	if ch := a.removalOf(prev); ch.Action != fleet.Remove || ch.Reasons[0] != "no longer preinstalled by role tester" {
		t.Errorf("remove: %+v", ch)
	}
}

// Last actions are kept one per app, at most maxActions, the oldest dropped first.
func TestLastActionsBounded(t *testing.T) {
	a := explainAgent(t)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a.now = func() time.Time { return at }
	for i := range maxActions + 5 {
		at = at.Add(time.Minute)
		a.recordAction(fleet.Change{App: fmt.Sprintf("app%03d", i), Action: fleet.Install, Reasons: []string{"test"}}, "c", nil)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.state.Actions) != maxActions {
		t.Fatalf("%d actions kept", len(a.state.Actions))
	}
	if _, ok := a.state.Actions["app004"]; ok {
		t.Error("the oldest actions were kept")
	}
	if _, ok := a.state.Actions[fmt.Sprintf("app%03d", maxActions+4)]; !ok {
		t.Error("the newest action was dropped")
	}
}
