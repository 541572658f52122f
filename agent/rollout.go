package agent

import (
	"context"
	"fmt"
	"strings"
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
// still installs). A host's first commit (state.json records none applied) and the first wave never wait; a host
// that is suspended or whose newest commit was refused has nothing to gate. A restarted agent that cannot load its
// applied commit (a lost clone, a stricter validation) is not a new host: it asks the gate like any other, keeps
// running what state.json records, and its reason says why it has no fleet commit to converge.
func (a *Agent) rolloutStep(ctx context.Context, p *pass) outcome {
	if p.fresh && p.suspended {
		// judged while suspended for its secrets only (in place now): it waits for a resume, and nothing is
		// judged of the waves meanwhile; the host shows its wave in the commit it runs
		if good := a.host.goodFleet(); good != nil && !a.host.placedIn(good.Commit) {
			_, wave := good.WaveOf(a.cfg.Host)
			a.host.setRollout(RolloutStatus{Wave: wave}, good.Commit, nil)
		}
		return holdCommit()
	}
	if !p.fresh {
		if p.fleet != nil && !a.host.placedIn(p.fleet.Commit) {
			_, wave := p.fleet.WaveOf(a.cfg.Host)
			a.host.setRollout(RolloutStatus{Wave: wave}, p.fleet.Commit, nil)
		}
		return proceed()
	}
	k, wave := p.fleet.WaveOf(a.cfg.Host)
	applied := a.host.appliedCommit() // state.json's, not the fleet loaded: a restarted agent is not a new host
	if k == 0 || applied == "" {
		a.host.setRollout(RolloutStatus{Wave: wave}, p.head, nil)
		return proceed()
	}
	var lost error // the applied commit cannot be loaded: the host still runs it (restore), the gate still holds
	if a.host.goodFleet() == nil {
		lost = a.restoreGoodFleet() // the sync may have fetched it again into a lost clone
	}
	v := rollout.Gate(ctx, p.fleet, k)
	if v.Hold && lost != nil {
		v.Reason = fmt.Sprintf("wave %s: the applied commit %s cannot be loaded (%s): holding %s until the earlier waves are known to be done; %s",
			wave, short(applied), firstLine(lost.Error()), short(p.head), v.Reason)
	}
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

// firstLine is the first line of a (possibly multi-line) error text, marked when more follows.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
