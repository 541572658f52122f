package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/herofleet/herofleet/api"
)

// applyApp moves one app to its target revision as a transaction, alone in the app's lane: build, check, hooks,
// stop old, start new, health, hooks, switch. On any failure after the old revision was stopped, the old revision
// starts again (or the new app is removed) and the app is quarantined for this spec. The zero api.Reason is success.
func (a *Agent) applyApp(ctx context.Context, t *target) (failed api.Reason) {
	name := t.app.Name
	leave, err := a.lanes.enter(ctx, name)
	if err != nil {
		return api.ReasonOf(api.ReasonInterrupted, err)
	}
	defer leave()
	prev := a.host.installed(name)
	a.log.Info("apply", "app", name, "rev", short(t.rev), "upgrade", prev != nil)
	defer func(start time.Time) { a.metrics.applyDone(name, start, !failed.IsZero()) }(time.Now())
	next, err := a.prepareApp(ctx, t)
	if err != nil {
		return a.failApp(ctx, t, err)
	}
	a.host.setPhase(name, api.PhaseStarting)
	if prev != nil {
		a.stopApp(ctx, prev)
	}
	if err := a.switchOn(ctx, t, next); err != nil {
		a.stopApp(ctx, next)
		a.rollback(ctx, prev)
		return a.failApp(ctx, t, err)
	}
	next.InstalledAt = time.Now().UTC()
	if err := a.host.recordInstalled(next); err != nil {
		a.log.Error("the new revision runs but the state could not record it", "app", name, "err", err)
	}
	a.pruneBuilds(name, next.BuildDir, prevBuildDir(prev))
	a.host.setPhase(name, api.PhaseHealthy)
	a.log.Info("applied", "app", name, "rev", short(t.rev))
	return api.Reason{}
}

// prepareApp does everything that leaves the running revision alone: build, check the binaries, pre-start hooks.
func (a *Agent) prepareApp(ctx context.Context, t *target) (*Installed, error) {
	if a.hooks == nil {
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
		a.host.setPhase(t.app.Name, phase)
		if _, err := a.runHooks(ctx, "pre-build", t, t.app.Hooks); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(t.buildDir), 0o755); err != nil {
			return nil, err
		}
		if err := a.buildOrFetch(ctx, t, a.host.jobOutput(t.app.Name)); err != nil {
			return nil, err
		}
		if _, err := a.runHooks(ctx, "post-build", t, t.app.Hooks); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(a.dataDir(t.app.Name), 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	env, err := a.runHooks(ctx, "pre-start", t, t.app.Hooks)
	if err != nil {
		return nil, err
	}
	procs, err := a.procs(t, env)
	if err != nil {
		return nil, err
	}
	return &Installed{App: t.app.Name, Rev: t.rev, Key: t.key, BuildDir: t.buildDir, Binaries: procs, Hooks: t.app.Hooks}, nil
}

// buildOrFetch makes the revision's tree: built from source, or unpacked from the app's artifact.
func (a *Agent) buildOrFetch(ctx context.Context, t *target, progress io.Writer) error {
	var err error
	if t.app.Artifact != nil {
		err = a.fetchArtifact(ctx, t, progress)
	} else {
		err = a.buildTree(ctx, t, progress)
	}
	if err != nil && ctx.Err() == nil {
		err = a.failedTree(t, err)
	}
	return err
}

// switchOn starts the new revision, waits for its health and runs the post-start hooks.
func (a *Agent) switchOn(ctx context.Context, t *target, next *Installed) error {
	if err := a.startApp(ctx, next); err != nil {
		return err
	}
	if err := a.waitApp(ctx, next); err != nil {
		return err
	}
	if _, err := a.runHooks(ctx, "post-start", t, t.app.Hooks); err != nil {
		return err
	}
	return nil
}

// rollback starts the previous revision again; nil means the app was new and stays removed.
func (a *Agent) rollback(ctx context.Context, prev *Installed) {
	if prev == nil {
		return
	}
	a.log.Warn("rolling back", "app", prev.App, "rev", short(prev.Rev))
	if err := a.startApp(ctx, prev); err != nil {
		a.log.Error("rollback start failed", "app", prev.App, "err", err)
		return
	}
	if err := a.waitApp(ctx, prev); err != nil {
		a.log.Error("rollback not healthy", "app", prev.App, "err", err)
	}
}

// failApp quarantines the app's spec and says why. An apply cut short by the agent's own stop is not the spec's
// fault: it is not quarantined, and the next start tries it again.
func (a *Agent) failApp(ctx context.Context, t *target, err error) api.Reason {
	if ctx.Err() != nil {
		a.log.Warn("apply interrupted by the agent's stop; not quarantined", "app", t.app.Name, "err", err)
		return api.ReasonOf(api.ReasonInterrupted, err)
	}
	if errors.Is(err, errDiskFull) { // the host's fault, not the spec's: tried again at the next sync
		r := api.ReasonOf(api.ReasonDiskFull, err)
		a.host.setReason(t.app.Name, r)
		a.host.setPhase(t.app.Name, api.PhaseFailed)
		a.log.Error("apply failed on a full disk; not quarantined", "app", t.app.Name, "rev", short(t.rev), "err", err)
		return r
	}
	r := api.ReasonOf(api.ReasonApplyFailed, err)
	a.host.setReason(t.app.Name, r) // first: it ends the app's job with the reason, not just "failed"
	a.host.setPhase(t.app.Name, api.PhaseFailed)
	q := Quarantine{App: t.app.Name, Rev: t.rev, Key: t.quarantineKey(), Reason: err.Error(), Since: time.Now().UTC()}
	if serr := a.host.quarantine(q); serr != nil {
		r.Detail = errors.Join(err, serr).Error()
	}
	a.log.Error("apply failed; quarantined", "app", t.app.Name, "rev", short(t.rev), "err", err)
	return r
}

// removeApp stops an app that left the host's set, in its lane; its data stays. A failing pre-remove hook is
// noted and the app removed anyway.
func (a *Agent) removeApp(ctx context.Context, inst *Installed) api.Reason {
	leave, err := a.lanes.enter(ctx, inst.App)
	if err != nil {
		return api.ReasonOf(api.ReasonInterrupted, err)
	}
	defer leave()
	a.log.Info("remove", "app", inst.App, "rev", short(inst.Rev))
	t := &target{rev: inst.Rev, vars: a.varsFor(inst)}
	if good := a.host.goodFleet(); good != nil {
		t.pins = good.Meta.Plugins
	}
	for _, p := range inst.Binaries {
		t.binaryNames = append(t.binaryNames, p.Name)
	}
	if _, err := a.runHooks(ctx, "pre-remove", t, inst.Hooks); err != nil {
		a.log.Warn("pre-remove hook failed; removing anyway", "app", inst.App, "err", err)
		a.host.setReason(inst.App, api.ReasonOf(api.ReasonPreRemoveFailed, err))
	}
	a.stopApp(ctx, inst)
	_ = a.host.forget(inst.App)
	return api.Reason{}
}

func prevBuildDir(prev *Installed) string {
	if prev == nil {
		return ""
	}
	return prev.BuildDir
}

// pruneBuilds deletes an app's build directories (and logs) other than the running one and the one before it,
// which a rollback may need. A failed build's log is kept until the next successful apply.
func (a *Agent) pruneBuilds(app string, keep ...string) {
	entries, err := os.ReadDir(filepath.Join(a.cfg.Dir, "builds", app))
	if err != nil {
		return
	}
	for _, e := range entries {
		p := filepath.Join(a.cfg.Dir, "builds", app, e.Name())
		base := strings.TrimSuffix(strings.TrimSuffix(p, ".1"), ".log")
		if slices.Contains(keep, base) {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			a.log.Warn("prune build", "path", p, "err", err)
		}
	}
}
