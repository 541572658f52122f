package agent

import "time"

// What hostState knows of the fleet's rollout waves (in memory: a restarted agent judges again on its first pass).

// setRollout records the host's wave and, when it holds a newer commit back, which and why; holding the same
// commit keeps its since. It reports whether the hold began, ended or changed its reason (worth a log line).
func (h *hostState) setRollout(r RolloutStatus) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.rollout
	if r.Waiting != "" {
		r.Since = time.Now().UTC()
		if old.Waiting == r.Waiting {
			r.Since = old.Since
		}
	}
	h.rollout = r
	if r.Waiting == "" && h.sync.state == SyncWaiting {
		h.sync.state = SyncSyncing // the hold ended: this pass applies the commit
	}
	return old.Waiting != r.Waiting || old.Reason != r.Reason
}

// rolloutStatus is fleet.rollout: nil when the fleet has no waves and nothing is held. h.mu is held.
func (h *hostState) rolloutStatus() *RolloutStatus {
	if h.rollout.Wave == "" && h.rollout.Waiting == "" {
		return nil
	}
	r := h.rollout
	return &r
}
