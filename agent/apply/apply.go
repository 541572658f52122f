package apply

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/herofleet/herofleet/agent/build"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
)

// Apply moves one app to its target revision as a transaction, alone in the app's lane: build, check, hooks,
// stop old, start new, health, hooks, switch. On any failure after the old revision was stopped, the old revision
// starts again (or the new app is removed) and the app is quarantined for this spec. The zero api.Reason is
// success.
func (r *Runner) Apply(ctx context.Context, t *Target) (failed api.Reason) {
	name := t.app.Name
	leave, err := r.lanes.Enter(ctx, name)
	if err != nil {
		return api.ReasonOf(api.ReasonInterrupted, err)
	}
	defer leave()
	prev := r.state.Installed(name)
	r.log.Info("apply", "app", name, "rev", fleet.ShortRev(t.rev), "upgrade", prev != nil)
	defer func(start time.Time) { r.progress.ApplyDone(name, start, !failed.IsZero()) }(time.Now())
	next, err := r.prepare(ctx, t)
	if err == nil {
		err = r.recordManifest(t, next, prev)
	}
	if err != nil {
		return r.fail(ctx, t, err)
	}
	r.progress.SetPhase(name, api.PhaseStarting)
	if prev != nil {
		r.stopApp(ctx, prev)
	}
	if err := r.switchOn(ctx, t, next); err != nil {
		r.stopApp(ctx, next)
		r.rollback(ctx, prev)
		return r.fail(ctx, t, err)
	}
	next.InstalledAt = time.Now().UTC()
	if err := r.state.Switch(next); err != nil {
		r.log.Error("the new revision runs but the state could not record it", "app", name, "err", err)
	}
	r.pruneBuilds(name, next.BuildDir, prevBuildDir(prev))
	r.progress.SetPhase(name, api.PhaseHealthy)
	r.log.Info("applied", "app", name, "rev", fleet.ShortRev(t.rev))
	return api.Reason{}
}

// prepare does everything that leaves the running revision alone: build, check the binaries, pre-start hooks.
func (r *Runner) prepare(ctx context.Context, t *Target) (*Installed, error) {
	if r.hooks == nil {
		for _, h := range t.app.Hooks {
			if h.On != "pre-remove" {
				return nil, fmt.Errorf("%s hook %s: %w", h.On, h.Plugin, errNoRunner)
			}
		}
	}
	if !builtFor(t) {
		phase := api.PhaseBuilding
		if t.app.Artifact != nil {
			phase = api.PhaseFetching
		}
		r.progress.SetPhase(t.app.Name, phase)
		if err := r.makeTree(ctx, t); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(r.dataDir(t.app.Name), 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	env, err := r.runHooks(ctx, "pre-start", t, t.app.Hooks)
	if err != nil {
		return nil, err
	}
	procs, err := r.procs(t, env)
	if err != nil {
		return nil, err
	}
	return &Installed{App: t.app.Name, Rev: t.rev, Key: t.key, BuildDir: t.buildDir, Binaries: procs, Hooks: t.app.Hooks}, nil
}

// makeTree makes the target's tree in its build dir as an install does: the pre-build hooks, the build (or the
// artifact's fetch), the post-build hooks.
func (r *Runner) makeTree(ctx context.Context, t *Target) error {
	if _, err := r.runHooks(ctx, "pre-build", t, t.app.Hooks); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(t.buildDir), 0o755); err != nil {
		return err
	}
	if err := r.buildOrFetch(ctx, t); err != nil {
		return err
	}
	_, err := r.runHooks(ctx, "post-build", t, t.app.Hooks)
	return err
}

// buildOrFetch makes the revision's tree: built from source, or unpacked from the app's artifact. Its output goes
// to the app's job too.
func (r *Runner) buildOrFetch(ctx context.Context, t *Target) error {
	progress := r.progress.Output(t.app.Name)
	var err error
	if t.app.Artifact != nil {
		err = r.fetchArtifact(ctx, t, progress)
	} else {
		err = r.buildTree(ctx, t, progress)
	}
	if err != nil && ctx.Err() == nil {
		err = r.failedTree(t, err)
	}
	return err
}

// switchOn starts the new revision, waits for its health and runs the post-start hooks.
func (r *Runner) switchOn(ctx context.Context, t *Target, next *Installed) error {
	if err := r.Start(ctx, next); err != nil {
		return err
	}
	if err := r.wait(ctx, next); err != nil {
		return err
	}
	if _, err := r.runHooks(ctx, "post-start", t, t.app.Hooks); err != nil {
		return err
	}
	return nil
}

// rollback starts the previous revision again; nil means the app was new and stays removed.
func (r *Runner) rollback(ctx context.Context, prev *Installed) {
	if prev == nil {
		return
	}
	r.log.Warn("rolling back", "app", prev.App, "rev", fleet.ShortRev(prev.Rev))
	if err := r.Start(ctx, prev); err != nil {
		r.log.Error("rollback start failed", "app", prev.App, "err", err)
		return
	}
	if err := r.wait(ctx, prev); err != nil {
		r.log.Error("rollback not healthy", "app", prev.App, "err", err)
	}
}

// fail quarantines the app's spec and says why. An apply cut short by the agent's own stop, or failed by the host
// (hostFault), is not the spec's fault: it is not quarantined, and the next start or sync tries it again.
func (r *Runner) fail(ctx context.Context, t *Target, err error) api.Reason {
	if ctx.Err() != nil {
		r.log.Warn("apply interrupted by the agent's stop; not quarantined", "app", t.app.Name, "err", err)
		return api.ReasonOf(api.ReasonInterrupted, err)
	}
	if code, ok := hostFault(err); ok { // the host's fault, not the spec's: tried again at the next sync
		reason := api.ReasonOf(code, err)
		r.progress.SetReason(t.app.Name, reason)
		r.progress.SetPhase(t.app.Name, api.PhaseFailed)
		r.log.Error("apply failed on the host's fault; not quarantined", "app", t.app.Name, "rev", fleet.ShortRev(t.rev), "code", code, "err", err)
		return reason
	}
	reason := api.ReasonOf(api.ReasonApplyFailed, err)
	r.progress.SetReason(t.app.Name, reason) // first: it ends the app's job with the reason, not just "failed"
	r.progress.SetPhase(t.app.Name, api.PhaseFailed)
	if serr := r.state.Quarantine(t.app.Name, t.rev, t.QuarantineKey(), err.Error()); serr != nil {
		reason.Detail = errors.Join(err, serr).Error()
	}
	r.log.Error("apply failed; quarantined", "app", t.app.Name, "rev", fleet.ShortRev(t.rev), "err", err)
	return reason
}

// hostFault says whether an apply failed because of the host rather than the app's spec, and with which reason: a
// full disk, or a build tool the host lacks. Such a failure is not quarantined: fixing the host (freeing space,
// installing make) fixes it at the next sync, with no fleet change.
func hostFault(err error) (api.ReasonCode, bool) {
	var missing *build.ToolMissingError
	switch {
	case errors.Is(err, errDiskFull):
		return api.ReasonDiskFull, true
	case errors.As(err, &missing):
		return api.ReasonBuildToolMissing, true
	}
	return "", false
}

// Remove stops an app that left the host's set, in its lane; its data stays. A failing pre-remove hook is noted
// and the app removed anyway.
func (r *Runner) Remove(ctx context.Context, inst *Installed) api.Reason {
	leave, err := r.lanes.Enter(ctx, inst.App)
	if err != nil {
		return api.ReasonOf(api.ReasonInterrupted, err)
	}
	defer leave()
	r.log.Info("remove", "app", inst.App, "rev", fleet.ShortRev(inst.Rev))
	t := &Target{rev: inst.Rev, vars: r.varsFor(inst), pins: r.state.Pins()}
	for _, p := range inst.Binaries {
		t.binaryNames = append(t.binaryNames, p.Name)
	}
	if _, err := r.runHooks(ctx, "pre-remove", t, inst.Hooks); err != nil {
		r.log.Warn("pre-remove hook failed; removing anyway", "app", inst.App, "err", err)
		r.progress.SetReason(inst.App, api.ReasonOf(api.ReasonPreRemoveFailed, err))
	}
	r.stopApp(ctx, inst)
	_ = r.state.Forget(inst.App)
	return api.Reason{}
}

// recordManifest records in next what it runs (makeManifest); the manifest of prev is kept for the files of the
// same build dir.
func (r *Runner) recordManifest(t *Target, next, prev *Installed) error {
	var known []ManifestEntry
	if prev != nil && prev.BuildDir == next.BuildDir {
		known = prev.Manifest
	}
	m, capped, err := makeManifest(next.BuildDir, next.Binaries, t.app.Artifact != nil, known)
	if errors.Is(err, syscall.ENOSPC) { // the pristine copies: the disk's fault, the built tree is kept for the next try
		return fmt.Errorf("%w: %w", errDiskFull, err)
	}
	if err != nil {
		return err
	}
	next.Manifest, next.ManifestCapped = m, capped
	if capped {
		r.log.Warn("the drift check covers only part of the app: more files than the manifest holds", "app", next.App, "files", MaxManifestFiles)
	}
	return nil
}

func prevBuildDir(prev *Installed) string {
	if prev == nil {
		return ""
	}
	return prev.BuildDir
}

// pruneBuilds deletes an app's build directories (and logs) other than the running one and the one before it,
// which a rollback may need. A failed build's log is kept until the next successful apply.
func (r *Runner) pruneBuilds(app string, keep ...string) {
	entries, err := os.ReadDir(r.buildsDir(app))
	if err != nil {
		return
	}
	for _, e := range entries {
		p := filepath.Join(r.buildsDir(app), e.Name())
		base := strings.TrimSuffix(strings.TrimSuffix(p, ".1"), ".log")
		if slices.Contains(keep, base) {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			r.log.Warn("prune build", "path", p, "err", err)
		}
	}
}
