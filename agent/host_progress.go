package agent

import (
	"fmt"
	"maps"
	"time"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
)

// What the converges did to each app: last actions, phases, reasons and held changes.

// recordAction keeps an app's last action, saved with the state; the oldest beyond maxActions are dropped.
func (h *hostState) recordAction(app string, la LastAction) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.st.Actions == nil {
		h.st.Actions = map[string]LastAction{}
	}
	h.st.Actions[app] = la
	for len(h.st.Actions) > maxActions {
		oldest := ""
		for name, x := range h.st.Actions {
			if oldest == "" || x.At.Before(h.st.Actions[oldest].At) {
				oldest = name
			}
		}
		delete(h.st.Actions, oldest)
	}
	return h.save()
}

func (h *hostState) progressOf(app string) *appProgress {
	p := h.progress[app]
	if p == nil {
		p = &appProgress{}
		h.progress[app] = p
	}
	return p
}

// setPhase records where an app's apply is, for the status and its job. Healthy ends it well, failed badly.
func (h *hostState) setPhase(app string, phase api.Phase) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.progressOf(app)
	switch phase {
	case api.PhaseHealthy:
		p.phase, p.reason, p.failed = "", api.Reason{}, false
	case api.PhaseFailed:
		p.phase, p.failed = "", true
	default:
		p.phase = phase
	}
	if j := h.jobs.active(app); j != nil {
		j.setPhase(phase)
	}
}

// setReason records why an app is not fine; no work runs for it any more (its phase ends), and its job fails
// with the reason.
func (h *hostState) setReason(app string, r api.Reason) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.progressOf(app)
	p.phase, p.reason, p.failed = "", r, true
	if j := h.jobs.active(app); j != nil {
		j.fail(r.String())
	}
}

func (h *hostState) setSpec(app fleet.Resolved) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.specs[app.Name] = app
}

// hold records that a change waits; it reports whether that is news (for the log).
func (h *hostState) hold(app string, w *Waiting) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	prev := h.waiting[app]
	h.waiting[app] = w
	return prev == nil || !prev.same(w)
}

func (h *hostState) unhold(app string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.waiting, app)
}

// nextWake is when the first held change may apply: the agent converges then, not only at its next poll.
func (h *hostState) nextWake() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	var at time.Time
	for _, w := range h.waiting {
		if !w.Until.IsZero() && (at.IsZero() || w.Until.Before(at)) {
			at = w.Until
		}
	}
	return at
}

// recordWanted keeps what commit wants of each app, as a pass on it resolved it: the status judges each installed
// app against the applied commit's wanted key.
func (h *hostState) recordWanted(commit string, wanted map[string]fleet.Wanted) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.wantedOf = wantedSet{commit: commit, apps: maps.Clone(wanted)}
}

// offCommit says what keeps an installed app from running exactly what the applied commit asks for (its installed
// key is not the wanted key), or "" when it does or the commit does not want it; h.mu is held.
func (h *hostState) offCommit(app string, inst *Installed) string {
	commit := h.st.Fleet.Commit
	if commit == "" {
		return ""
	}
	if h.wantedOf.commit != commit {
		return fmt.Sprintf("runs %s, not yet checked against %s", fleet.ShortRev(inst.Rev), fleet.ShortCommit(commit))
	}
	w, ok := h.wantedOf.apps[app]
	switch {
	case !ok:
		return ""
	case w.Err != nil:
		return fmt.Sprintf("runs %s: the revision %s asks for could not be resolved", fleet.ShortRev(inst.Rev), fleet.ShortCommit(commit))
	case w.Key == inst.Key:
		return ""
	case w.Rev != inst.Rev:
		return fmt.Sprintf("runs %s, %s asks for %s", fleet.ShortRev(inst.Rev), fleet.ShortCommit(commit), fleet.ShortRev(w.Rev))
	}
	return fmt.Sprintf("runs %s with another spec (binaries, args, hooks or secrets) than %s asks for", fleet.ShortRev(inst.Rev), fleet.ShortCommit(commit))
}
