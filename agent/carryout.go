package agent

import (
	"context"

	"github.com/herofleet/herofleet/fleet"
)

// carryOut does what one decision says. Everything that touches the app's processes happens inside its lane.
func (a *Agent) carryOut(ctx context.Context, p *pass, dec fleet.Decision) {
	name := dec.App
	if dec.Verb == fleet.VerbRemove || dec.Verb == fleet.VerbHoldWindow || dec.Verb == fleet.VerbHoldSuspended {
		a.carryOutHold(ctx, p, dec)
		return
	}
	app, _ := p.desired.App(name)
	for _, need := range app.Needs {
		if a.host.installed(need) == nil {
			a.host.setReason(name, Reason{Code: ReasonNeedsMissing, Subject: need})
			return
		}
	}
	switch dec.Verb {
	case fleet.VerbUnresolved:
		a.host.setReason(name, reasonOf(ReasonUnresolved, dec.Err)) // whatever runs keeps running
	case fleet.VerbKeep:
		a.host.unhold(name)
		_ = a.host.liftQuarantine(name) // the spec that failed is no longer wanted
		a.host.setSpec(app)
		a.host.setPhase(name, PhaseHealthy)
	case fleet.VerbQuarantined:
		a.host.unhold(name)
		q, _ := a.host.quarantined(name)
		a.host.setReason(name, Reason{Code: ReasonQuarantined, Detail: q.Reason})
	case fleet.VerbInstall, fleet.VerbUpgrade, fleet.VerbRestart:
		if dec.Verb != fleet.VerbInstall && a.host.isSuspended() {
			a.hold(dec.Change, fleet.Gate{Suspended: true}) // suspended while this pass ran
			return
		}
		a.host.unhold(name)
		r := a.applyApp(ctx, p.targets[name])
		a.recordAction(dec.Change, p.fleet.Commit, r)
		if !r.IsZero() {
			a.host.setReason(name, r)
			return
		}
		a.host.setSpec(app)
		a.host.setPhase(name, PhaseHealthy)
	}
}

// carryOutHold holds a change behind the gate, or removes an app that left the host.
func (a *Agent) carryOutHold(ctx context.Context, p *pass, dec fleet.Decision) {
	if dec.Verb != fleet.VerbRemove {
		a.hold(dec.Change, p.gate)
		return
	}
	if a.host.isSuspended() {
		a.hold(dec.Change, fleet.Gate{Suspended: true})
		return
	}
	a.host.unhold(dec.App)
	inst := a.host.installed(dec.App)
	if inst == nil {
		return
	}
	a.recordAction(dec.Change, p.fleet.Commit, a.removeApp(ctx, inst))
}
