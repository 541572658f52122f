package fleet

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// Verb is what converging a host does to one app now. Install, upgrade, restart, heal and remove change it; the
// others say why nothing happens to it this time.
type Verb string

// Verbs of a decision.
const (
	VerbInstall       Verb = "install"
	VerbUpgrade       Verb = "upgrade"
	VerbRestart       Verb = "restart"
	VerbRemove        Verb = "remove"
	VerbHeal          Verb = "heal"           // what it runs drifted from what was installed: put back, the binaries concerned restarted
	VerbKeep          Verb = "keep"           // it runs what it should
	VerbHoldWindow    Verb = "hold-window"    // a disruptive change waits for the next maintenance window
	VerbHoldSuspended Verb = "hold-suspended" // a disruptive change waits for a resume
	VerbQuarantined   Verb = "quarantined"    // the wanted spec failed before: not tried again until it changes
	VerbUnresolved    Verb = "unresolved"     // its revision could not be resolved: whatever runs keeps running
	VerbWaitNeeds     Verb = "wait-needs"     // an app it needs is not installed: nothing happens to it until it is
)

// Decision is what happens to one app, and why. Change carries the change behind every verb but keep and
// unresolved (a held, quarantined or waiting change still says what it would do); a keep carries the drift that
// the fleet's drift: report only says (action report).
type Decision struct {
	Verb Verb
	Change
	Err   error     // unresolved: why
	Need  string    // wait-needs: the app it needs that is not installed
	Until time.Time // hold-window: when the next maintenance window opens
}

// Running is what a host runs of one app.
type Running struct {
	Spec *Resolved // the spec it was applied from; nil when the host does not know it (yet)
	Rev  string    // the source commit or artifact sha256; empty when not known (a plan)
	Key  string    // identity of everything that was applied; empty when not known (a plan)
	// Drift says what the host found changed in what the app runs since it was installed, for people ("books_server:
	// executable changed on this host since install (…)"); empty when nothing did or the host does not know (a plan made off the host).
	Drift []string
}

// Wanted is the revision the fleet asks for one app, as the host resolved it.
type Wanted struct {
	Rev     string // empty when not resolved (a plan)
	Key     string // identity of what would be applied; equal keys mean nothing changes
	HoldKey string // what a quarantine is held against (Key when empty)
	Err     error  // the revision could not be resolved
}

// Gate is whether disruptive changes may happen now. Its zero value is open.
type Gate struct {
	Suspended    bool      // a person suspended the host
	WindowClosed bool      // the fleet has maintenance windows and none is open
	Until        time.Time // WindowClosed: when the next one opens
}

// Open reports whether disruptive changes may happen.
func (g Gate) Open() bool { return !g.Suspended && !g.WindowClosed }

// HostState is what Decide needs to know of a host besides the fleet.
type HostState struct {
	Running    map[string]Running // installed apps
	Quarantine map[string]string  // app -> the hold key of the spec that failed
	Gate       Gate
	Drift      DriftMode // the fleet's drift: what a drifted app's decision is (heal unless report)
}

// Decide says, with no side effects, what converging a host on d does to each app: the desired apps in apply
// order, then the apps that leave, dependents first. It is what a plan shows: each change it decides is taken to
// succeed, so an app whose needs are installed before it in the same pass does not wait for them. wanted has an
// entry per desired app; a missing one counts as resolved to the fleet's spec (what a plan compares).
//
// The agent decides the same way one app at a time (DecideApp, DecideRemoval), each time with the host as the
// apps before it left it: an app whose need failed to install waits for it.
func Decide(d *Desired, wanted map[string]Wanted, h HostState) []Decision {
	var out []Decision
	after := h
	after.Running = maps.Clone(h.Running)
	if after.Running == nil {
		after.Running = map[string]Running{}
	}
	for _, app := range d.Apps {
		dec := DecideApp(app, wanted[app.Name], after)
		switch dec.Verb {
		case VerbInstall, VerbUpgrade, VerbRestart, VerbHeal:
			after.Running[app.Name] = Running{Spec: &app}
		}
		out = append(out, dec)
	}
	for _, name := range Leaving(d, h.Running) {
		out = append(out, DecideRemoval(name, h))
	}
	return out
}

// DecideRemoval says what happens to an installed app that d no longer wants: removed, or held by the gate.
func DecideRemoval(name string, h HostState) Decision {
	ch := Change{App: name, Action: Remove, Reasons: []string{"no longer wanted on this host"}}
	if s := h.Running[name].Spec; s != nil && s.Why != "" {
		ch.Reasons = []string{"no longer " + s.Why}
	}
	return held(Decision{Verb: VerbRemove, Change: ch}, h.Gate)
}

// DecideApp says what happens to one desired app on a host that runs h: nothing while an app it needs is not
// installed; otherwise installed, upgraded, restarted, healed (it runs what it should, but what it runs drifted on
// the host, and the fleet's drift is heal) or kept, unless its revision is unknown or its spec failed before;
// upgrades, restarts and heals wait while the gate is closed, installs never do. A change of revision or spec goes
// first (an upgrade builds anew); a drift it leaves is healed at the next pass.
func DecideApp(app Resolved, w Wanted, h HostState) Decision {
	dec := decideApp(app, w, h)
	for _, need := range app.Needs {
		if _, ok := h.Running[need]; !ok {
			return Decision{Verb: VerbWaitNeeds, Change: dec.Change, Need: need}
		}
	}
	return dec
}

func decideApp(app Resolved, w Wanted, h HostState) Decision {
	if w.Err != nil {
		return Decision{Verb: VerbUnresolved, Change: Change{App: app.Name}, Err: w.Err}
	}
	hold := w.HoldKey
	if hold == "" {
		hold = w.Key
	}
	q, quarantined := h.Quarantine[app.Name]
	quarantined = quarantined && q == hold
	run, installed := h.Running[app.Name]
	if !installed {
		why := app.Why
		if why == "" {
			why = "wanted on this host"
		}
		ch := Change{App: app.Name, Action: Install, Reasons: []string{why}}
		if quarantined {
			return Decision{Verb: VerbQuarantined, Change: ch}
		}
		return Decision{Verb: VerbInstall, Change: ch}
	}
	ch, changed := changeOf(run, app, w)
	switch {
	case !changed && len(run.Drift) > 0 && h.Drift != DriftReport:
		// a heal restarts the binaries concerned: held by the gate like any restart
		return held(Decision{Verb: VerbHeal, Change: Change{App: app.Name, Action: Heal, Reasons: run.Drift}}, h.Gate)
	case !changed && len(run.Drift) > 0:
		return Decision{Verb: VerbKeep, Change: Change{App: app.Name, Action: Report, Reasons: run.Drift}}
	case !changed:
		return Decision{Verb: VerbKeep, Change: Change{App: app.Name}}
	case quarantined:
		return Decision{Verb: VerbQuarantined, Change: ch}
	}
	verb := VerbRestart
	if ch.Action == Upgrade {
		verb = VerbUpgrade
	}
	return held(Decision{Verb: verb, Change: ch}, h.Gate)
}

// held is dec, or the hold the gate puts on it.
func held(dec Decision, g Gate) Decision {
	switch {
	case g.Suspended:
		dec.Verb = VerbHoldSuspended
	case g.WindowClosed:
		dec.Verb, dec.Until = VerbHoldWindow, g.Until
	}
	return dec
}

// changeOf says what moving an installed app to its wanted revision does, and why: the fleet diff between the spec
// it runs and the new one, plus a moved revision, which the fleet files do not show. Equal non-empty keys change
// nothing; without keys (a plan) the diff alone decides.
func changeOf(run Running, app Resolved, w Wanted) (Change, bool) {
	if run.Key != "" && run.Key == w.Key {
		return Change{}, false
	}
	ch := Change{App: app.Name, Action: Restart}
	if run.Spec != nil {
		if c, ok := diffApp(*run.Spec, app); ok {
			ch = c
		}
	}
	if run.Rev != "" && w.Rev != "" && run.Rev != w.Rev {
		ch.Action = Upgrade
		why := fmt.Sprintf("source %s: %s -> %s", app.Ref, ShortRev(run.Rev), ShortRev(w.Rev))
		if app.Locked != "" && app.Artifact == nil {
			why = lockMove(app.Name, app.Ref, run.Rev, w.Rev)
		}
		if !slices.Contains(ch.Reasons, why) {
			ch.Reasons = append(ch.Reasons, why)
		}
	}
	if len(ch.Reasons) == 0 {
		if run.Key == "" && w.Key == "" {
			return Change{}, false // a plan: the fleet's spec did not change
		}
		ch.Reasons = []string{"its resolved spec changed (build, binaries, hooks, host address or the secrets it reads)"}
	}
	return ch, true
}

// Leaving lists the installed apps d no longer wants, dependents first (an app before the apps it needs), then
// by name.
func Leaving(d *Desired, running map[string]Running) []string {
	gone := map[string]bool{}
	for name := range running {
		if _, ok := d.App(name); !ok {
			gone[name] = true
		}
	}
	names := make([]string, 0, len(gone))
	for name := range gone {
		names = append(names, name)
	}
	slices.Sort(names)
	// needs first by depth-first search, then reversed: whatever needs an app leaves before it
	var order []string
	placed := map[string]bool{}
	var place func(name string, path []string)
	place = func(name string, path []string) {
		if placed[name] || slices.Contains(path, name) {
			return
		}
		if s := running[name].Spec; s != nil {
			needs := slices.Clone(s.Needs)
			slices.Sort(needs)
			for _, n := range needs {
				if gone[n] {
					place(n, append(path, name))
				}
			}
		}
		placed[name] = true
		order = append(order, name)
	}
	for i := len(names) - 1; i >= 0; i-- {
		place(names[i], nil)
	}
	slices.Reverse(order)
	return order
}

// lockMove is the reason a moved lock entry gives, in plan and agent alike: "fleet.lock: books main 1a2b3c4 -> 5d6e7f8".
func lockMove(app, ref, from, to string) string {
	return fmt.Sprintf("fleet.lock: %s %s %s -> %s", app, ref, ShortCommit(from), ShortCommit(to))
}
