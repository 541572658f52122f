package agent

import (
	"context"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
)

// carryOut does what one decision says. Everything that touches the app's processes happens inside its lane. Only
// a hold leaves a change waiting: every other outcome drops what waited for the app, so a held change whose
// window has passed never wakes the loop again.
func (a *Agent) carryOut(ctx context.Context, p *pass, dec fleet.Decision) {
	name := dec.App
	app, desired := p.desired.App(name)
	if !desired {
		a.carryOutRemoval(ctx, p, dec)
		return
	}
	for _, need := range app.Needs {
		if a.host.installed(need) == nil {
			a.host.unhold(name)
			a.host.setReason(name, api.Reason{Code: api.ReasonNeedsMissing, Subject: need})
			return
		}
	}
	switch dec.Verb {
	case fleet.VerbHoldWindow, fleet.VerbHoldSuspended:
		a.hold(dec.Change, p.gate)
		return
	case fleet.VerbInstall, fleet.VerbUpgrade, fleet.VerbRestart:
		if dec.Verb != fleet.VerbInstall && a.host.isSuspended() {
			a.hold(dec.Change, fleet.Gate{Suspended: true}) // suspended while this pass ran
			return
		}
	}
	a.host.unhold(name)
	switch dec.Verb {
	case fleet.VerbUnresolved:
		a.host.setReason(name, api.ReasonOf(api.ReasonUnresolved, dec.Err)) // whatever runs keeps running
	case fleet.VerbKeep:
		_ = a.host.liftQuarantine(name) // the spec that failed is no longer wanted
		a.host.setSpec(app)
		a.host.setPhase(name, api.PhaseHealthy)
	case fleet.VerbQuarantined:
		q, _ := a.host.quarantined(name)
		a.host.setReason(name, api.Reason{Code: api.ReasonQuarantined, Detail: q.Reason})
	case fleet.VerbInstall, fleet.VerbUpgrade, fleet.VerbRestart:
		r := a.tx.Apply(ctx, p.targets[name])
		if r.Code == api.ReasonInterrupted && ctx.Err() != nil {
			return // the agent stops: nothing was decided about the spec, the next start tries again
		}
		a.recordAction(dec.Change, p.fleet.Commit, r)
		if !r.IsZero() {
			a.host.setReason(name, r)
			return
		}
		a.host.setSpec(app)
		a.host.setPhase(name, api.PhaseHealthy)
	}
}

// carryOutRemoval removes an app that left the host, or holds its removal behind the gate.
func (a *Agent) carryOutRemoval(ctx context.Context, p *pass, dec fleet.Decision) {
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
	r := a.tx.Remove(ctx, inst)
	if r.Code == api.ReasonInterrupted && ctx.Err() != nil {
		return
	}
	a.recordAction(dec.Change, p.fleet.Commit, r)
}
