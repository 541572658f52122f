package agent

import (
	"fmt"
	"strings"
	"time"

	"github.com/herofleet/herofleet/agent/window"
	"github.com/herofleet/herofleet/fleet"
)

// gate says whether disruptive changes (upgrade, restart, remove) may happen now: inside a maintenance window of
// the fleet, and not while a person suspended the agent. Installs of missing apps never ask it.
type gate struct {
	open   bool
	until  time.Time // closed: when the next window opens (zero when suspended)
	reason string    // closed: why
}

// gateFor is the gate for applying f at the agent's clock.
func (a *Agent) gateFor(f *fleet.Fleet) gate {
	if a.Suspended() {
		return gate{reason: "the agent is suspended (herofleet resume applies it)"}
	}
	ws, err := window.Parse(f.Meta.Maintenance)
	if err != nil {
		a.log.Warn("maintenance windows unreadable; changes are not held", "err", err)
		return gate{open: true}
	}
	open, until := ws.At(a.now())
	if open {
		return gate{open: true}
	}
	return gate{until: until, reason: "waits for the maintenance window at " + until.Format(time.RFC3339)}
}

// Waiting is a disruptive change held back until a window opens (or the agent is resumed).
type Waiting struct {
	Action  fleet.Action `json:"action"`
	Reasons []string     `json:"reasons"`
	Until   time.Time    `json:"until,omitzero"`
	Reason  string       `json:"reason"` // for a person: what waits, for what, and why it is pending
}

// hold records that ch waits behind g; the app keeps running what it runs.
func (a *Agent) hold(ch fleet.Change, g gate) {
	w := &Waiting{Action: ch.Action, Reasons: ch.Reasons, Until: g.until,
		Reason: fmt.Sprintf("%s %s: %s", ch.Action, g.reason, strings.Join(ch.Reasons, "; "))}
	a.mu.Lock()
	prev := a.waiting[ch.App]
	a.waiting[ch.App] = w
	a.mu.Unlock()
	if prev == nil || prev.Reason != w.Reason {
		a.log.Info("change held", "app", ch.App, "action", ch.Action, "reasons", ch.Reasons, "until", g.until)
	}
}

func (a *Agent) unhold(app string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.waiting, app)
}

// nextWake is when the first held change may apply: the agent converges then, not only at its next poll.
func (a *Agent) nextWake() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	var at time.Time
	for _, w := range a.waiting {
		if !w.Until.IsZero() && (at.IsZero() || w.Until.Before(at)) {
			at = w.Until
		}
	}
	return at
}

// untilWake shortens d to the time left to the next wake, if that comes first.
func (a *Agent) untilWake(d time.Duration) time.Duration {
	wake := a.nextWake()
	if wake.IsZero() {
		return d
	}
	return max(min(d, wake.Sub(a.now())), 0)
}
