package agent

import (
	"context"
	"time"

	"github.com/herofleet/herofleet/rollout"
)

// RolloutStatus is where the host stands in the fleet's rollout waves: the cockpit contract's fleet.rollout,
// present when the fleet has waves.
type RolloutStatus struct {
	Wave    string    `json:"wave"`              // the host's wave, in the newest commit it judged
	Waiting string    `json:"waiting,omitempty"` // the newer commit it holds back
	Reason  string    `json:"reason,omitempty"`  // which earlier wave it waits for, and what that wave lacks
	Since   time.Time `json:"since,omitzero"`    // when it began to hold that commit back
	Left    string    `json:"bake_left,omitempty"`
}

// rolloutStep holds a new commit back while the fleet's earlier waves are not done with it, as Prometheus reports:
// the host keeps the commit it runs and converges it as before (a click-install, or an app of it that is missing,
// still installs). A host's first commit and the first wave never wait; a host that is suspended or whose newest
// commit was refused has nothing to gate.
func (a *Agent) rolloutStep(ctx context.Context, p *pass) outcome {
	if !p.fresh {
		if p.fleet != nil && !a.host.placedIn(p.fleet.Commit) {
			_, wave := p.fleet.WaveOf(a.cfg.Host)
			a.host.setRollout(RolloutStatus{Wave: wave}, p.fleet.Commit, nil)
		}
		return proceed()
	}
	k, wave := p.fleet.WaveOf(a.cfg.Host)
	good := a.host.goodFleet()
	if k == 0 || good == nil {
		a.host.setRollout(RolloutStatus{Wave: wave}, p.head, nil)
		return proceed()
	}
	v := rollout.Gate(ctx, p.fleet, k)
	if !v.Hold {
		if a.host.setRollout(RolloutStatus{Wave: wave}, p.head, nil) {
			a.log.Info("earlier rollout waves are done with the commit; applying it", "wave", wave, "commit", short(p.head))
		}
		return proceed()
	}
	r := RolloutStatus{Wave: wave, Waiting: p.head, Reason: v.Reason}
	if v.Left > 0 {
		r.Left = v.Left.Round(time.Second).String()
	}
	if a.host.setRollout(r, p.head, p.fleet) {
		a.log.Info("fleet commit waits for the earlier rollout waves; the applied one keeps running",
			"wave", wave, "commit", short(p.head), "reason", v.Reason)
	}
	return holdCommit()
}
