package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/herofleet/herofleet/fleet"
)

// hostState is the one owner of what the agent knows about its host: what survives a restart (state.json and the
// suspended flag, written only by save and setSuspended) and what lives in memory (the sync, each app's progress
// and reason, held changes, install jobs, the fleet being run). Every change goes through its methods, under its
// one lock; a method that changes what survives a restart has saved it when it returns.
type hostState struct {
	path          string // <dir>/state.json
	suspendedPath string // <dir>/suspended: its presence is the whole flag
	log           *slog.Logger
	now           func() time.Time

	mu        sync.Mutex
	st        *State
	suspended bool
	sync      syncStatus
	progress  map[string]*appProgress
	specs     map[string]fleet.Resolved // the spec each installed app runs, to explain its next change
	waiting   map[string]*Waiting       // disruptive changes held for a maintenance window or a resume
	good      *fleet.Fleet              // the last good fleet commit
	desired   *fleet.Desired            // what the good fleet wants here, clicked apps included
	jobs      jobBook
}

// syncStatus is how the last sync went.
type syncStatus struct {
	state    SyncState
	err      string
	lastSync time.Time
	failures int // in a row, for backoff
}

// appProgress is what the last converge said about one app: the phase of an apply under way, or why it is not
// fine. A phase is set only while the work runs.
type appProgress struct {
	phase  Phase
	reason Reason
	failed bool
}

func openHostState(dir string, log *slog.Logger, now func() time.Time) (*hostState, error) {
	h := &hostState{
		path: filepath.Join(dir, "state.json"), suspendedPath: filepath.Join(dir, "suspended"), log: log, now: now,
		sync:     syncStatus{state: SyncOK},
		progress: map[string]*appProgress{},
		specs:    map[string]fleet.Resolved{},
		waiting:  map[string]*Waiting{},
		jobs:     jobBook{jobs: map[string]*job{}},
	}
	st, err := loadState(h.path)
	if err != nil {
		return nil, err
	}
	h.st = st
	_, err = os.Stat(h.suspendedPath)
	h.suspended = err == nil
	return h, nil
}

// save writes state.json: the one place that does. h.mu is held.
func (h *hostState) save() error {
	if err := h.st.save(h.path); err != nil {
		h.log.Error("save state", "err", err)
		return err
	}
	return nil
}

// --- what is installed

func (h *hostState) installed(app string) *Installed {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.st.Apps[app]
}

// installedApps lists the installed apps by name.
func (h *hostState) installedApps() []*Installed {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*Installed, 0, len(h.st.Apps))
	for _, inst := range h.st.Apps {
		out = append(out, inst)
	}
	slices.SortFunc(out, func(x, y *Installed) int { return strings.Compare(x.App, y.App) })
	return out
}

// binary finds an installed binary and its app.
func (h *hostState) binary(name string) (*Installed, Proc, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, inst := range h.st.Apps {
		for _, p := range inst.Binaries {
			if p.Name == name {
				return inst, p, true
			}
		}
	}
	return nil, Proc{}, false
}

// recordInstalled switches an app to a new revision: from here on, a restarted agent starts it.
func (h *hostState) recordInstalled(inst *Installed) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.st.Apps[inst.App] = inst
	delete(h.st.Quarantine, inst.App)
	return h.save()
}

// forget drops an app that was removed, or could not be started again after a restart.
func (h *hostState) forget(app string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.st.Apps, app)
	delete(h.st.Quarantine, app)
	delete(h.specs, app)
	return h.save()
}

// --- quarantine

func (h *hostState) quarantine(q Quarantine) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.st.Quarantine[q.App] = q
	return h.save()
}

func (h *hostState) quarantined(app string) (Quarantine, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	q, ok := h.st.Quarantine[app]
	return q, ok
}

// liftQuarantine ends an app's quarantine: the spec it holds back is no longer wanted.
func (h *hostState) liftQuarantine(app string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.st.Quarantine[app]; !ok {
		return nil
	}
	delete(h.st.Quarantine, app)
	return h.save()
}

// decideInput is what Decide needs of the host: what runs, with the spec it was applied from, and quarantines.
func (h *hostState) decideInput(gate fleet.Gate) fleet.HostState {
	h.mu.Lock()
	defer h.mu.Unlock()
	in := fleet.HostState{Running: map[string]fleet.Running{}, Quarantine: map[string]string{}, Gate: gate}
	for name, inst := range h.st.Apps {
		r := fleet.Running{Rev: inst.Rev, Key: inst.Key}
		if s, ok := h.specs[name]; ok {
			r.Spec = &s
		}
		in.Running[name] = r
	}
	for name, q := range h.st.Quarantine {
		in.Quarantine[name] = q.Key
	}
	return in
}

// --- the fleet commits

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
func (h *hostState) restoreGood(f *fleet.Fleet, d *fleet.Desired) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.good = f
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
	h.st.Refused = append(h.st.Refused, Refused{Commit: commit, Reason: reason})
	if n := len(h.st.Refused); n > 10 {
		h.st.Refused = h.st.Refused[n-10:]
	}
	h.sync.state, h.sync.err = SyncRefused, ""
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
	h.sync.lastSync = h.now().UTC()
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

// setDesired records what the fleet being converged wants here.
func (h *hostState) setDesired(d *fleet.Desired) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.desired = d
}

// recordApplied closes a converge of commit on d: the applied commit, nothing held or quarantined for apps that
// left the host, and the sync ended well (in the same snapshot: the status never shows the commit applied while
// still syncing).
func (h *hostState) recordApplied(commit string, d *fleet.Desired) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sync.state == SyncSyncing {
		h.sync.state, h.sync.err = SyncOK, ""
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
		h.st.Fleet.Commit, h.st.Fleet.AppliedAt = commit, h.now().UTC()
		dirty = true
	}
	if !dirty {
		return nil
	}
	return h.save()
}

// --- the sync state

func (h *hostState) setSync(state SyncState, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sync.state, h.sync.err = state, ""
	if err != nil {
		h.sync.err = err.Error()
	}
}

// --- what a person asked for

// click remembers an app installed from the catalog, and opens the job that follows it.
func (h *hostState) click(app string) (Job, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.desired
	if d == nil {
		return Job{}, ErrNoFleet
	}
	// Clicked covers a click whose install has not started yet: a second click is a 409, not a second job.
	if _, ok := d.App(app); ok || h.st.Apps[app] != nil || slices.Contains(h.st.Clicked, app) {
		return Job{}, fmt.Errorf("%s: %w", app, ErrInstalled)
	}
	if !slices.Contains(d.Catalog, app) {
		return Job{}, fmt.Errorf("%s: %w", app, ErrNotInCatalog)
	}
	h.st.Clicked = append(h.st.Clicked, app)
	if err := h.save(); err != nil {
		h.st.Clicked = slices.DeleteFunc(h.st.Clicked, func(s string) bool { return s == app })
		return Job{}, err
	}
	return h.jobs.open(app), nil
}

// unclick forgets a click; the next converge removes the app.
func (h *hostState) unclick(app string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !slices.Contains(h.st.Clicked, app) {
		return fmt.Errorf("%s: %w", app, ErrNotClicked)
	}
	h.st.Clicked = slices.DeleteFunc(h.st.Clicked, func(s string) bool { return s == app })
	return h.save()
}

func (h *hostState) clicked() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.st.Clicked)
}

// setStopped remembers that a person stopped a binary (or started it again).
func (h *hostState) setStopped(binary string, stopped bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.st.isStopped(binary) == stopped {
		return nil
	}
	h.st.setStopped(binary, stopped)
	return h.save()
}

func (h *hostState) isStopped(binary string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.st.isStopped(binary)
}

// setSuspended holds new fleet commits (or lets them through again); remembered across restarts.
func (h *hostState) setSuspended(on bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if on {
		if err := writeAtomic(h.suspendedPath, []byte("suspended by a person\n"), 0o600); err != nil {
			return err
		}
		h.suspended, h.sync.state, h.sync.err = true, SyncSuspended, ""
		return nil
	}
	if err := os.Remove(h.suspendedPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	h.suspended = false
	if h.sync.state == SyncSuspended {
		h.sync.state = SyncOK
	}
	return nil
}

func (h *hostState) isSuspended() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.suspended
}

// --- what the last converge did to each app

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
func (h *hostState) setPhase(app string, phase Phase) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.progressOf(app)
	switch phase {
	case PhaseHealthy:
		p.phase, p.reason, p.failed = "", Reason{}, false
	case PhaseFailed:
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
func (h *hostState) setReason(app string, r Reason) {
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
	return prev == nil || prev.Reason != w.Reason
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

func (h *hostState) desiredSet() *fleet.Desired {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.desired
}
