package agent

import (
	"fmt"
	"strings"
	"time"

	"github.com/herofleet/herofleet/agent/apply"
	"github.com/herofleet/herofleet/agent/window"
	"github.com/herofleet/herofleet/fleet"
)

// gate says whether disruptive changes (upgrade, restart, remove) may happen now: inside a maintenance window of
// the fleet, and not while a person suspended the agent. Installs of missing apps never ask it.
func (a *Agent) gate(f *fleet.Fleet) fleet.Gate {
	if a.host.isSuspended() {
		return fleet.Gate{Suspended: true}
	}
	ws, err := window.Parse(f.Meta.Maintenance)
	if err != nil {
		a.log.Warn("maintenance windows unreadable; changes are not held", "err", err)
		return fleet.Gate{}
	}
	open, until := ws.At(a.now())
	if open {
		return fleet.Gate{}
	}
	return fleet.Gate{WindowClosed: true, Until: until}
}

// Waiting is a disruptive change held back until a window opens (or the agent is resumed).
type Waiting struct {
	Action  fleet.Action        `json:"action"`
	Reasons []string            `json:"reasons"`
	Until   time.Time           `json:"until,omitzero"`
	Reason  string              `json:"reason"` // for a person: what waits, for what, and why it is pending
	drift   []apply.DriftedFile // a held heal: the drift it puts back, whose words (Reasons) change with the day
}

// same reports the same held change: the same words, or a heal of the same drift (apply.SameDrift) until the same
// time, however that drift is worded now.
func (w *Waiting) same(o *Waiting) bool {
	if w.Action == fleet.Heal && o.Action == fleet.Heal {
		return w.Until.Equal(o.Until) && apply.SameDrift(w.drift, o.drift)
	}
	return w.Reason == o.Reason
}

// hold records that a held decision's change waits (for its window, or a resume); the app keeps running what it
// runs.
func (a *Agent) hold(dec fleet.Decision) {
	ch := dec.Change
	why := "waits for the maintenance window at " + dec.Until.Format(time.RFC3339)
	if dec.Verb == fleet.VerbHoldSuspended {
		why = "the agent is suspended (herofleet resume applies it)"
	}
	w := &Waiting{Action: ch.Action, Reasons: ch.Reasons, Until: dec.Until,
		Reason: fmt.Sprintf("%s %s: %s", ch.Action, why, strings.Join(ch.Reasons, "; "))}
	if ch.Action == fleet.Heal {
		w.drift = a.host.drifted(ch.App)
	}
	if a.host.hold(ch.App, w) {
		a.log.Info("change held", "app", ch.App, "action", ch.Action, "reasons", ch.Reasons, "until", w.Until)
	}
}

// untilWake shortens d to the time left to the next held change's window, if that comes first. A window that
// opened already was converged at when it opened: it wakes nothing any more.
func (a *Agent) untilWake(d time.Duration) time.Duration {
	wake := a.host.nextWake()
	if wake.IsZero() || !wake.After(a.now()) {
		return d
	}
	return min(d, wake.Sub(a.now()))
}
