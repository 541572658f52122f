package agent

import (
	"slices"
	"time"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/redact"
)

// What hostState knows of the fleet: the good commit, refusals, the sync and what the fleet wants here.

func (h *hostState) goodFleet() *fleet.Fleet {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.good
}

func (h *hostState) appliedCommit() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.st.Fleet.Commit
}

// validFleet is the newest commit that passed verify, load and the decryption of its secrets (nil when none since
// the agent started), when its commit is commit or commit is empty.
func (h *hostState) validFleet(commit string) *fleet.Fleet {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.valid == nil || commit != "" && h.valid.Commit != commit {
		return nil
	}
	return h.valid
}

// setValid records f as the newest commit that passed verify, load and the decryption of its secrets: the one whose
// secrets are applied, whatever holds it back.
func (h *hostState) setValid(f *fleet.Fleet) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.valid = f
}

// accept makes f the good fleet commit; a newer good commit clears the refusals.
func (h *hostState) accept(f *fleet.Fleet) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.good = f
	if len(h.st.Refused) == 0 {
		return nil
	}
	h.st.Refused = nil
	return h.save()
}

// restoreGood sets the fleet an agent applied before it restarted, and the specs its installed apps run.
func (h *hostState) restoreGood(f *fleet.Fleet, base, d *fleet.Desired) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.good = f
	h.fleetWants, h.desired = base, d
	if d == nil {
		return
	}
	for _, app := range d.Apps {
		if h.st.Apps[app.Name] != nil {
			h.specs[app.Name] = app
		}
	}
}

// refuse records a fleet commit that does not validate or is not trusted; the last ten are kept.
func (h *hostState) refuse(commit, reason string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.st.Refused = append(h.st.Refused, Refused{Commit: commit, Reason: redact.Text(reason)}) // a reason can quote a URL
	if n := len(h.st.Refused); n > 10 {
		h.st.Refused = h.st.Refused[n-10:]
	}
	if h.sync.state != api.SyncSuspended { // judged for its secrets while suspended: the suspend is what shows
		h.sync.state, h.sync.err = api.SyncRefused, ""
	}
	return h.save()
}

func (h *hostState) isRefused(commit string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.ContainsFunc(h.st.Refused, func(r Refused) bool { return r.Commit == commit })
}

// recordHead notes a sync's answer: the newest commit of the followed ref, or a failure (for the backoff).
func (h *hostState) recordHead(head string, err error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sync.lastSync = time.Now().UTC()
	if err != nil {
		h.sync.failures++
		return nil
	}
	h.sync.failures = 0
	if h.st.Fleet.Head == head {
		return nil
	}
	h.st.Fleet.Head = head
	return h.save()
}

func (h *hostState) syncFailures() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sync.failures
}

// setDesired records what the fleet being converged wants here: fleetWants on its own, d with the clicked apps.
func (h *hostState) setDesired(fleetWants, d *fleet.Desired) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fleetWants, h.desired = fleetWants, d
}

// recordApplied closes a converge of commit on d: the applied commit, nothing held or quarantined for apps that
// left the host, and the sync ended well (in the same snapshot: the status never shows the commit applied while
// still syncing).
func (h *hostState) recordApplied(commit string, d *fleet.Desired) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sync.state == api.SyncSyncing || h.sync.state == api.SyncWaiting {
		h.sync.state, h.sync.err = api.SyncOK, ""
		if h.rollout.Waiting != "" {
			h.sync.state = api.SyncWaiting
		}
	}
	for app := range h.waiting {
		if _, wanted := d.App(app); !wanted && h.st.Apps[app] == nil {
			delete(h.waiting, app)
		}
	}
	dirty := false
	for app := range h.st.Quarantine {
		if _, ok := d.App(app); !ok {
			delete(h.st.Quarantine, app)
			dirty = true
		}
	}
	if h.st.Fleet.Commit != commit {
		h.st.Fleet.Commit, h.st.Fleet.AppliedAt = commit, time.Now().UTC()
		dirty = true
	}
	if !dirty {
		return nil
	}
	return h.save()
}

// beginSync marks a pass under way: suspended, or syncing; a host holding a commit for the earlier rollout waves
// keeps showing waiting (it asks again every pass) until the hold ends.
func (h *hostState) beginSync(suspended bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case suspended:
		h.sync.state, h.sync.err = api.SyncSuspended, ""
	case h.rollout.Waiting != "" && h.sync.state == api.SyncWaiting:
	default:
		h.sync.state, h.sync.err = api.SyncSyncing, ""
	}
}

func (h *hostState) setSync(state api.SyncState, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sync.state, h.sync.err = state, ""
	if err != nil {
		h.sync.err = redact.Text(err.Error())
	}
}
