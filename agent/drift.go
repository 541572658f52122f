package agent

import (
	"context"
	"slices"
	"time"

	"github.com/herofleet/herofleet/agent/apply"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
)

// Drift: each converge checks, before deciding an installed app, that what it runs is what was installed
// (apply.Runner.CheckDrift: the cheap check each poll, a full sha256 check every drift_full_check). What drifted
// is the app's reason drift, and each binary's it concerns, until it is put back; the fleet's drift (heal by
// default) makes fleet.DecideApp decide a heal, which waits for a window like any restart.

// driftClock is when each app's files were last hashed whole, and the drift a heal could not put back (by app:
// what it said), so that the same drift is not tried again each poll but at the next full check; only the
// converge loop uses it.
type driftClock struct {
	full   map[string]time.Time
	failed map[string]failedHeal
}

// failedHeal is a heal that could not put a drift back: the drift it was about, and the reason it ended with.
type failedHeal struct {
	drift  []apply.DriftedFile // the drift when the heal began
	reason api.Reason
}

// checkDrift checks an installed app and records what drifted; a drift that changed is logged, once.
func (a *Agent) checkDrift(name string) {
	inst := a.host.installed(name)
	if inst == nil || len(inst.Manifest) == 0 {
		a.host.setDrift(name, nil)
		return
	}
	now := a.now()
	if a.fullChecks.full == nil {
		a.fullChecks.full = map[string]time.Time{}
	}
	last, ok := a.fullChecks.full[name]
	if !ok || last.Before(inst.InstalledAt) {
		last = inst.InstalledAt // hashed whole at install
	}
	full := now.Sub(last) >= a.cfg.DriftFullCheck.Duration
	files := a.tx.CheckDrift(inst, full)
	if full {
		a.fullChecks.full[name] = now
		delete(a.fullChecks.failed, name) // a heal that failed is tried again on the full check's schedule
	}
	if a.host.setDrift(name, files) {
		if len(files) == 0 {
			a.log.Info("drift gone", "app", name)
		} else {
			a.log.Warn("drift: what the app runs changed on this host since install", "app", name, "reason", apply.DriftReason(files, "").String())
		}
	}
}

// heal carries out a heal decision: what drifted is put back and the binaries concerned restarted.
func (a *Agent) heal(ctx context.Context, p *pass, dec fleet.Decision) {
	name := dec.App
	inst := a.host.installed(name)
	files := a.host.drifted(name)
	if inst == nil || len(files) == 0 {
		return
	}
	if f, ok := a.fullChecks.failed[name]; ok && f.reason.Code == api.ReasonDrift && apply.SameDrift(f.drift, files) {
		a.host.setReason(name, f.reason) // the same drift that could not be put back: said, not tried again
		return
	}
	rebuilt, r := a.tx.Heal(ctx, inst, files, p.targets[name])
	if r.Code == api.ReasonInterrupted && ctx.Err() != nil {
		return
	}
	ch := dec.Change
	if rebuilt != "" {
		ch.Reasons = append(slices.Clone(ch.Reasons), rebuilt)
	}
	a.recordAction(ch, p.fleet.Commit, r)
	if !r.IsZero() {
		if a.fullChecks.failed == nil {
			a.fullChecks.failed = map[string]failedHeal{}
		}
		a.fullChecks.failed[name] = failedHeal{drift: files, reason: r}
		a.host.setReason(name, r)
		return
	}
	delete(a.fullChecks.failed, name)
	a.checkDrift(name) // said gone only once the files are what was installed
}

// setDrift records what drifted of an app (nil: nothing); it reports whether that changed: other files, or found
// changed another way (apply.SameDrift), not merely said in other words.
func (h *hostState) setDrift(app string, files []apply.DriftedFile) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	prev := h.drift[app]
	if len(files) == 0 {
		delete(h.drift, app)
	} else {
		h.drift[app] = files
	}
	return !apply.SameDrift(prev, files)
}

func (h *hostState) drifted(app string) []apply.DriftedFile {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.drift[app])
}

// driftOf says, for Decide, what drifted of an app; h.mu is held.
func (h *hostState) driftOf(app string) []string {
	var out []string
	for _, f := range h.drift[app] {
		out = append(out, f.String())
	}
	return out
}

// overlayDrift puts an app's drift on its status and on the status of each binary it concerns; h.mu is held.
func (h *hostState) overlayDrift(as *AppStatus) {
	files := h.drift[as.Name]
	if len(files) == 0 || as.State != api.AppInstalled {
		return
	}
	as.Drift = h.driftOf(as.Name)
	if as.Code == "" { // a failed heal said it already, with why
		r := apply.DriftReason(files, "")
		as.Reason, as.Code = r.String(), r.Code
	}
	for i := range as.Binaries {
		b := &as.Binaries[i]
		r := apply.DriftReason(files, b.Name)
		switch {
		case r.IsZero(), b.State == api.BinStopped:
		case b.State == api.BinWaiting: // its reason says the heal that waits, and until when
			b.Code = r.Code
		default:
			b.Reason, b.Code = r.String(), r.Code
		}
	}
}
