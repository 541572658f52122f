package agent

import (
	"fmt"
	"time"

	"github.com/herofleet/herofleet/fleet"
)

// LastAction is the last thing the agent did to an app, and why: "why did it restart?" always has an answer, in
// the status, in the state file (it survives a restart) and in the log.
type LastAction struct {
	Action  fleet.Action `json:"action"` // install | upgrade | restart | remove
	Reasons []string     `json:"reasons"`
	Commit  string       `json:"commit"` // the fleet commit it applied
	At      time.Time    `json:"at"`
	Error   string       `json:"error,omitempty"` // the action failed (rolled back, quarantined)
}

// maxActions bounds the last actions kept: one per app, removed apps included, oldest dropped first.
const maxActions = 200

// changeOf says what applying t does to the app and why: the fleet diff between the spec it runs and the new
// one, plus a moved source branch, which the fleet files do not show.
func (a *Agent) changeOf(prev *Installed, t *target) fleet.Change {
	name := t.app.Name
	if prev == nil {
		why := t.app.Why
		if why == "" {
			why = "wanted on this host"
		}
		return fleet.Change{App: name, Action: fleet.Install, Reasons: []string{why}}
	}
	ch := fleet.Change{App: name, Action: fleet.Restart}
	a.mu.Lock()
	old, known := a.specs[name]
	a.mu.Unlock()
	if known {
		if d := fleet.Diff(&fleet.Desired{Apps: []fleet.Resolved{old}}, &fleet.Desired{Apps: []fleet.Resolved{t.app}}); len(d) == 1 {
			ch = d[0]
		}
	}
	if prev.Rev != t.rev {
		ch.Action = fleet.Upgrade
		ch.Reasons = append(ch.Reasons, fmt.Sprintf("source %s: %s -> %s", t.app.Ref, short(prev.Rev), short(t.rev)))
	}
	if len(ch.Reasons) == 0 {
		ch.Reasons = []string{"its resolved spec changed (build, binaries, hooks or host address)"}
	}
	return ch
}

// removalOf says why an installed app leaves the host.
func (a *Agent) removalOf(inst *Installed) fleet.Change {
	a.mu.Lock()
	old, known := a.specs[inst.App]
	a.mu.Unlock()
	reason := "no longer wanted on this host"
	if known && old.Why != "" {
		reason = "no longer " + old.Why
	}
	return fleet.Change{App: inst.App, Action: fleet.Remove, Reasons: []string{reason}}
}

// recordAction keeps ch as the app's last action, saved with the state, and logs it with its reasons.
func (a *Agent) recordAction(ch fleet.Change, commit string, err error) {
	la := LastAction{Action: ch.Action, Reasons: ch.Reasons, Commit: commit, At: a.now().UTC()}
	if err != nil {
		la.Error = err.Error()
		a.log.Warn("action failed", "app", ch.App, "action", ch.Action, "reasons", ch.Reasons, "commit", short(commit), "err", err)
	} else {
		a.log.Info("action done", "app", ch.App, "action", ch.Action, "reasons", ch.Reasons, "commit", short(commit))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state.Actions == nil {
		a.state.Actions = map[string]LastAction{}
	}
	a.state.Actions[ch.App] = la
	for len(a.state.Actions) > maxActions {
		oldest := ""
		for app, x := range a.state.Actions {
			if oldest == "" || x.At.Before(a.state.Actions[oldest].At) {
				oldest = app
			}
		}
		delete(a.state.Actions, oldest)
	}
	if err := a.saveLocked(); err != nil {
		a.log.Error("save state", "err", err)
	}
}
