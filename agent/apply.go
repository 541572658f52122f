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
)

// Job phases, in order.
const (
	PhaseFetching = "fetching"
	PhaseBuilding = "building"
	PhaseStarting = "starting"
	PhaseHealthy  = "healthy"
	PhaseFailed   = "failed"
)

// errQuarantined: the app's spec is the one that failed last time.
var errQuarantined = errors.New("quarantined")

// applyApp moves one app to its target revision as a transaction: build, check, hooks, stop old, start new,
// health, hooks, switch. On any failure after the old revision was stopped, the old revision starts again (or the
// new app is removed), the app is quarantined for this spec, and the error says why.
func (a *Agent) applyApp(ctx context.Context, t *target) (changed bool, err error) {
	name := t.app.Name
	prev := a.installed(name)
	if prev != nil && prev.Key == t.key {
		return false, nil
	}
	if q, ok := a.quarantined(name); ok && q.Key == t.quarantineKey() {
		return false, fmt.Errorf("%w: %s", errQuarantined, q.Reason)
	}
	a.log.Info("apply", "app", name, "rev", t.rev[:12], "upgrade", prev != nil)
	defer func(start time.Time) { a.metrics.applyDone(name, start, err) }(time.Now())
	next, err := a.prepareApp(ctx, t)
	if err != nil {
		return true, a.failApp(ctx, t, err)
	}
	a.setPhase(name, PhaseStarting)
	if prev != nil {
		a.stopApp(ctx, prev)
	}
	if err := a.switchOn(ctx, t, next); err != nil {
		a.stopApp(ctx, next)
		a.rollback(ctx, prev)
		return true, a.failApp(ctx, t, err)
	}
	a.commitApp(next)
	a.pruneBuilds(name, next.BuildDir, prevBuildDir(prev))
	a.setPhase(name, PhaseHealthy)
	a.log.Info("applied", "app", name, "rev", t.rev[:12])
	return true, nil
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
	progress := a.progress(t.app.Name)
	built := fileExists(filepath.Join(t.buildDir, builtMarker))
	if !built {
		phase := PhaseBuilding
		if t.app.Artifact != nil {
			phase = PhaseFetching
		}
		a.setPhase(t.app.Name, phase)
		if _, err := a.runHooks(ctx, "pre-build", t, t.app.Hooks); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(t.buildDir), 0o755); err != nil {
			return nil, err
		}
		if err := a.buildOrFetch(ctx, t, progress); err != nil {
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
	if t.app.Artifact != nil {
		return a.fetchArtifact(ctx, t, progress)
	}
	return a.build(ctx, t, progress)
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

// failApp quarantines the app's spec and records the reason. An apply cut short by the agent's own stop is not
// the spec's fault: it is not quarantined, and the next start tries it again.
func (a *Agent) failApp(ctx context.Context, t *target, err error) error {
	if ctx.Err() != nil {
		a.log.Warn("apply interrupted by the agent's stop; not quarantined", "app", t.app.Name, "err", err)
		return fmt.Errorf("interrupted: %w", err)
	}
	a.noteAppReason(t.app.Name, err.Error()) // first: it ends the app's job with the reason, not just "failed"
	a.setPhase(t.app.Name, PhaseFailed)
	q := Quarantine{App: t.app.Name, Rev: t.rev, Key: t.quarantineKey(), Reason: err.Error(), Since: time.Now().UTC()}
	a.mu.Lock()
	a.state.Quarantine[t.app.Name] = q
	serr := a.saveLocked()
	a.mu.Unlock()
	a.log.Error("apply failed; quarantined", "app", t.app.Name, "rev", short(t.rev), "err", err)
	return errors.Join(err, serr)
}

// commitApp switches the state to the new revision: from here on, a restarted agent starts it.
func (a *Agent) commitApp(next *Installed) {
	next.InstalledAt = time.Now().UTC()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.state.Apps[next.App] = next
	delete(a.state.Quarantine, next.App)
	if err := a.saveLocked(); err != nil {
		a.log.Error("save state", "err", err)
	}
}

// removeApp stops an app that left the host's set; its data stays.
func (a *Agent) removeApp(ctx context.Context, inst *Installed) {
	a.log.Info("remove", "app", inst.App, "rev", short(inst.Rev))
	t := &target{rev: inst.Rev, vars: a.varsFor(inst)}
	a.mu.Lock()
	if a.good != nil {
		t.pins = a.good.Meta.Plugins
	}
	a.mu.Unlock()
	for _, p := range inst.Binaries {
		t.binaryNames = append(t.binaryNames, p.Name)
	}
	if _, err := a.runHooks(ctx, "pre-remove", t, inst.Hooks); err != nil {
		a.log.Warn("pre-remove hook failed; removing anyway", "app", inst.App, "err", err)
		a.noteAppReason(inst.App, "pre-remove hook failed: "+err.Error())
	}
	a.stopApp(ctx, inst)
	a.mu.Lock()
	delete(a.state.Apps, inst.App)
	delete(a.state.Quarantine, inst.App)
	if err := a.saveLocked(); err != nil {
		a.log.Error("save state", "err", err)
	}
	a.mu.Unlock()
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
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
		base := strings.TrimSuffix(p, ".log")
		if slices.Contains(keep, base) {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			a.log.Warn("prune build", "path", p, "err", err)
		}
	}
}
