package agent

import (
	"time"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
)

// What hostState knows of the fleet's rollout waves (in memory: a restarted agent judges again on its first pass).

// setRollout records the host's wave in the fleet commit of, and, when it holds a newer commit back, which and
// why, with that commit loaded and validated (held: the next passes ask the gate again without loading it again);
// holding the same commit keeps its since. It reports whether the hold began, ended or changed its reason (worth a
// log line).
func (h *hostState) setRollout(r RolloutStatus, of string, held *fleet.Fleet) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.rollout
	if r.Waiting != "" {
		r.Since = time.Now().UTC()
		if old.Waiting == r.Waiting {
			r.Since = old.Since
		}
	} else {
		held = nil
	}
	h.rollout, h.waveOf, h.held = r, of, held
	if r.Waiting == "" && h.sync.state == api.SyncWaiting {
		h.sync.state = api.SyncSyncing // the hold ended: this pass applies the commit
	}
	return old.Waiting != r.Waiting || old.Reason != r.Reason
}

// placedIn reports whether the host's wave is known for fleet commit and nothing is held: a pass of that commit
// need not place the host again (on a fleet of thousands of hosts, placing takes a millisecond or more).
func (h *hostState) placedIn(commit string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.waveOf == commit && h.rollout.Waiting == ""
}

// heldFleet is the commit the host holds back, as loaded and validated when the hold began, if commit is it.
func (h *hostState) heldFleet(commit string) *fleet.Fleet {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held == nil || h.held.Commit != commit {
		return nil
	}
	return h.held
}

// rolloutStatus is fleet.rollout: nil when the fleet has no waves and nothing is held. h.mu is held.
func (h *hostState) rolloutStatus() *RolloutStatus {
	if h.rollout.Wave == "" && h.rollout.Waiting == "" {
		return nil
	}
	r := h.rollout
	return &r
}
