package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/agent/cockpit"
	"github.com/herofleet/herofleet/api"
)

// `herofleet status` prints what the agent answers; none of it reaches the terminal as a control character.
func TestPrintStatusHasNoControlCharacters(t *testing.T) {
	esc := "\x1b]52;c;cm0gLXJmIH4=\x07\u009b2J\u202e"
	fl := agent.FleetStatus{Commit: "1a2b3c4d5e6f" + esc, Head: "5d6e7f" + esc, State: api.SyncState("ok" + esc), Error: "boom" + esc,
		Rollout: &agent.RolloutStatus{Wave: "canary" + esc, Waiting: "abc" + esc, Reason: "held" + esc}}
	restarts := 3
	apps := cockpit.Apps{Host: "tester-01" + esc, Role: "tester" + esc, Fleet: fl, Rows: []cockpit.Row{
		{Type: cockpit.RowBundle, App: "cards" + esc, Binaries: []string{"cards_server" + esc}, Job: "j" + esc, State: api.RowState("failed" + esc), Reason: "r" + esc},
		{Type: "binary", App: "books" + esc, Binary: "books_web" + esc, State: api.RowState("crashloop" + esc), URL: "http://x/" + esc, Reason: "exited\n1" + esc, Restarts: &restarts},
	}}
	st := agent.Status{Fleet: fl, Refused: []agent.Refused{{Commit: "9f8e" + esc, Reason: "unsigned" + esc}},
		Quarantined: []agent.Quarantine{{App: "books" + esc, Rev: "1234" + esc, Reason: "health" + esc}}}
	var b bytes.Buffer
	printStatus(&b, apps, st)
	out := b.String()
	for i, c := range out {
		if c != '\n' && c != ' ' && (c < 0x20 || c >= 0x7f && c <= 0x9f || c >= 0x202a && c <= 0x202e) {
			t.Fatalf("output holds %U at %d:\n%q", c, i, out)
		}
	}
	for _, want := range []string{"host tester-01\ufffd]52;c;", "refused 9f8e", "quarantined books"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
