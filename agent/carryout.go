package agent

import (
	"context"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
)

// carryOut does what one decision says; every decision was taken by fleet.DecideApp or fleet.DecideRemoval.
// Everything that touches the app's processes happens inside its lane. Only a hold leaves a change waiting: every
// other outcome drops what waited for the app, so a held change whose window has passed never wakes the loop
// again.
func (a *Agent) carryOut(ctx context.Context, p *pass, dec fleet.Decision) {
	name := dec.App
	app, _ := p.desired.App(name) // the zero Resolved for an app that leaves
	switch dec.Verb {
	case fleet.VerbHoldWindow, fleet.VerbHoldSuspended:
		a.hold(dec)
		return
	}
	a.host.unhold(name)
	switch dec.Verb {
	case fleet.VerbWaitNeeds:
		a.host.setReason(name, api.Reason{Code: api.ReasonNeedsMissing, Subject: dec.Need})
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
	case fleet.VerbHeal:
		a.heal(ctx, p, dec)
	case fleet.VerbRemove:
		inst := a.host.installed(name)
		if inst == nil {
			return
		}
		r := a.tx.Remove(ctx, inst)
		if r.Code == api.ReasonInterrupted && ctx.Err() != nil {
			return
		}
		a.recordAction(dec.Change, p.fleet.Commit, r)
	}
}
