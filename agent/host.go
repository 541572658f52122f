package agent

import (
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/herofleet/herofleet/agent/apply"
	"github.com/herofleet/herofleet/agent/supervise"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/redact"
)

// hostState is the one owner of what the agent knows about its host: what survives a restart (state.json and the
// suspended flag, written only by save and setSuspended) and what lives in memory (the sync, each app's progress
// and reason, held changes, install jobs, the fleet being run). Every change goes through its methods, under its
// one lock; a method that changes what survives a restart has saved it when it returns.
type hostState struct {
	path          string // <dir>/state.json
	suspendedPath string // <dir>/suspended: its presence is the whole flag
	log           *slog.Logger

	mu         sync.Mutex
	st         *State
	sync       syncStatus
	progress   map[string]*appProgress
	specs      map[string]fleet.Resolved // the spec each installed app runs, to explain its next change
	waiting    map[string]*Waiting       // disruptive changes held for a maintenance window or a resume
	good       *fleet.Fleet              // the last good fleet commit
	valid      *fleet.Fleet              // the newest commit verified, loaded and its secrets decrypted: its secrets apply
	desired    *fleet.Desired            // what the good fleet wants here, clicked apps included
	fleetWants *fleet.Desired            // the same without the clicked apps
	jobs       jobBook
	rollout    RolloutStatus // the host's wave, and the newer commit it holds back for the earlier waves
	waveOf     string        // the fleet commit rollout.Wave was placed in
	held       *fleet.Fleet  // the commit rollout.Waiting, loaded and validated once
	wantedOf   wantedSet     // what the applied commit wants of each app, as the last pass on it resolved it

	drift map[string][]apply.DriftedFile // what each installed app runs that drifted since install (drift.go)
}

// wantedSet is what one fleet commit wants of each app of the host: the key each should run (or why its revision
// could not be resolved).
type wantedSet struct {
	commit string
	apps   map[string]fleet.Wanted
}

// syncStatus is how the last sync went.
type syncStatus struct {
	state    api.SyncState
	err      string
	lastSync time.Time
	failures int // in a row, for backoff
}

// appProgress is what the last converge said about one app: the phase of an apply under way, or why it is not
// fine. A phase is set only while the work runs.
type appProgress struct {
	phase  api.Phase
	reason api.Reason
	failed bool
}

func openHostState(dir string, log *slog.Logger) (*hostState, error) {
	h := &hostState{
		path: filepath.Join(dir, "state.json"), suspendedPath: filepath.Join(dir, "suspended"), log: log,
		sync:     syncStatus{state: api.SyncOK},
		progress: map[string]*appProgress{},
		specs:    map[string]fleet.Resolved{},
		waiting:  map[string]*Waiting{},
		drift:    map[string][]apply.DriftedFile{},
		jobs:     jobBook{jobs: map[string]*job{}},
	}
	st, err := loadState(h.path)
	if err != nil {
		return nil, err
	}
	h.st = st
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

// What is installed.

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
	if prev := h.st.Apps[inst.App]; prev != nil { // a binary the new revision no longer has is not adopted again
		for _, p := range prev.Binaries {
			if !slices.ContainsFunc(inst.Binaries, func(q Proc) bool { return q.Name == p.Name }) {
				delete(h.st.Runs, p.Name)
			}
		}
	}
	h.st.Apps[inst.App] = inst
	delete(h.st.Quarantine, inst.App)
	return h.save()
}

// dropInstalled forgets that an app runs (it could not be started again after a restart): the next converge
// installs it again, unless its quarantine holds that spec back.
func (h *hostState) dropInstalled(app string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.forgetRuns(app)
	delete(h.st.Apps, app)
	delete(h.specs, app)
	return h.save()
}

// forget drops an app that was removed: nothing runs, nothing is held back.
func (h *hostState) forget(app string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.forgetRuns(app)
	delete(h.st.Apps, app)
	delete(h.st.Quarantine, app)
	delete(h.specs, app)
	delete(h.drift, app)
	return h.save()
}

// The processes started, for a restarted agent to adopt.

// recordRun records the process just started for a binary (the supervisor's OnRun).
func (h *hostState) recordRun(binary string, run supervise.Run) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.st.Runs == nil {
		h.st.Runs = map[string]supervise.Run{}
	}
	h.st.Runs[binary] = run
	_ = h.save() // logged; without the record a restarted agent starts the binary afresh
}

// flush saves the state as it is (the agent's stop: the run records a failed save missed).
func (h *hostState) flush() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.save()
}

// runs is what recordRun recorded, a copy.
func (h *hostState) runs() map[string]supervise.Run {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.st.Runs)
}

// forgetRuns drops the records of an app's binaries, which no longer run; h.mu is held.
func (h *hostState) forgetRuns(app string) {
	if inst := h.st.Apps[app]; inst != nil {
		for _, p := range inst.Binaries {
			delete(h.st.Runs, p.Name)
		}
	}
}

// Quarantines.

// quarantine records q. Its reason is a failed step's error, which may quote a URL's credentials (an artifact's
// https://TOKEN@host/...): it is kept, saved and shown redacted, as every reason is.
func (h *hostState) quarantine(q Quarantine) error {
	q.Reason = redact.Text(q.Reason)
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
		r := fleet.Running{Rev: inst.Rev, Key: inst.Key, Drift: h.driftOf(name)}
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

func (h *hostState) desiredSet() *fleet.Desired {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.desired
}
