package agent

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/herofleet/herofleet/fleet"
)

// applyFleet converges the host on f: every desired app in needs order, then removals. One app's failure does
// not hold back the others; an app whose needs are not installed waits.
func (a *Agent) applyFleet(ctx context.Context, f *fleet.Fleet) {
	d, err := a.desiredSet(f)
	if err != nil {
		a.setSync("error", err)
		return
	}
	a.mu.Lock()
	a.desired = d
	a.mu.Unlock()
	g := a.gateFor(f)
	for _, app := range d.Apps {
		if ctx.Err() != nil {
			return
		}
		a.convergeApp(ctx, f, d, app, g)
	}
	leaving := a.leaving(d)
	for _, inst := range leaving {
		ch := a.removalOf(inst)
		if !g.open {
			a.hold(ch, g)
			continue
		}
		a.unhold(inst.App)
		a.removeApp(ctx, inst)
		a.recordAction(ch, f.Commit, nil)
		a.mu.Lock()
		delete(a.specs, inst.App)
		a.mu.Unlock()
	}
	a.mu.Lock()
	for app := range a.waiting {
		_, wanted := d.App(app)
		if !wanted && a.state.Apps[app] == nil {
			delete(a.waiting, app) // gone: nothing waits for it
		}
	}
	dirty := false
	for app := range a.state.Quarantine {
		if _, ok := d.App(app); !ok {
			delete(a.state.Quarantine, app) // it left the host: nothing is held back any more
			dirty = true
		}
	}
	if a.state.Fleet.Commit != f.Commit {
		a.state.Fleet.Commit = f.Commit
		a.state.Fleet.AppliedAt = time.Now().UTC()
		dirty = true
	}
	if dirty {
		if err := a.saveLocked(); err != nil {
			a.log.Error("save state", "err", err)
		}
	}
	a.mu.Unlock()
}

// convergeApp brings one app to its target, recording the outcome for the status and any job. A change to an
// installed app waits while g is closed; installing a missing app never does.
func (a *Agent) convergeApp(ctx context.Context, f *fleet.Fleet, d *fleet.Desired, app fleet.Resolved, g gate) {
	for _, need := range app.Needs {
		if a.installed(need) == nil {
			a.noteAppReason(app.Name, fmt.Sprintf("waiting: needs %s, which is not installed", need))
			return
		}
	}
	if a.installed(app.Name) == nil {
		a.setPhase(app.Name, PhaseFetching)
	}
	t, err := a.resolveTarget(ctx, f, d, app)
	if err != nil {
		// the source is unreachable or the ref is gone: whatever runs keeps running
		a.noteAppReason(app.Name, "fetch: "+err.Error())
		return
	}
	var ch fleet.Change
	if prev := a.installed(app.Name); prev == nil || prev.Key != t.key {
		ch = a.changeOf(prev, t)
		if q, ok := a.quarantined(app.Name); prev != nil && !g.open && (!ok || q.Key != t.quarantineKey()) {
			a.hold(ch, g) // it keeps running its current revision meanwhile
			return
		}
	}
	a.unhold(app.Name)
	changed, err := a.applyApp(ctx, t)
	if changed {
		a.recordAction(ch, f.Commit, err)
	}
	if err == nil {
		a.setSpec(app)
	}
	if err != nil { // a failed apply, or a spec still quarantined
		a.noteAppReason(app.Name, err.Error())
	} else {
		a.setPhase(app.Name, PhaseHealthy)
	}
}

// desiredSet is what f wants on this host plus the apps installed on click (those no longer offered are dropped).
func (a *Agent) desiredSet(f *fleet.Fleet) (*fleet.Desired, error) {
	d, err := f.Resolve(fleet.Target{Host: a.cfg.Host, Role: a.cfg.Role, Address: a.cfg.Address})
	if err != nil {
		return nil, fmt.Errorf("resolve host: %w", err)
	}
	a.mu.Lock()
	clicked := slices.Clone(a.state.Clicked)
	a.mu.Unlock()
	var keep []string
	for _, c := range clicked {
		if slices.Contains(d.Catalog, c) || slices.Contains(d.Names(), c) {
			keep = append(keep, c)
		} else {
			a.log.Warn("clicked app is no longer in the catalog; dropping it", "app", c)
		}
	}
	return f.With(d, keep)
}

// leaving lists installed apps that are no longer desired, dependents first.
func (a *Agent) leaving(d *fleet.Desired) []*Installed {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []*Installed
	for name, inst := range a.state.Apps {
		if _, ok := d.App(name); !ok {
			out = append(out, inst)
		}
	}
	slices.SortFunc(out, func(x, y *Installed) int {
		switch {
		case x.App < y.App:
			return -1
		case x.App > y.App:
			return 1
		}
		return 0
	})
	return out
}
