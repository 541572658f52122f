package agent

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/herofleet/herofleet/agent/supervise"
	"github.com/herofleet/herofleet/agent/trust"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/source"
)

// Agent converges one host on the fleet repo.
type Agent struct {
	cfg     *Config
	log     *slog.Logger
	hooks   HookRunner
	sup     *supervise.Supervisor
	sources *source.Cache
	fleet   *fleetRepo
	trigger chan struct{}
	runMu   sync.Mutex       // one converge at a time
	trust   *trust.Policy    // what a fleet commit must satisfy to be applied
	now     func() time.Time // the clock of maintenance windows; tests set their own before Run

	mu      sync.Mutex // guards everything below
	state   *State
	good    *fleet.Fleet   // the last good fleet, as applied
	desired *fleet.Desired // what the last good fleet wants here, clicked apps included
	sync    syncStatus
	apps    map[string]*appStatus
	specs   map[string]fleet.Resolved // the spec each installed app runs, to explain the next change to it
	waiting map[string]*Waiting       // disruptive changes held for a maintenance window or a resume
	jobs    map[string]*job
	jobSeq  int
	metrics *metrics // nil-safe: counts syncs, builds and applies
}

// syncStatus is how the last sync went.
type syncStatus struct {
	state    string // ok | syncing | refused | error
	err      string
	lastSync time.Time
	failures int // in a row, for backoff
}

// appStatus is what the last converge said about one app.
type appStatus struct {
	phase  string // a job phase while it is applied
	reason string // why it is not fine
	failed bool
}

// New makes an agent from its config. hooks may be nil: an app with hooks then fails to apply, with a reason.
// Nothing is started before Run.
func New(cfg *Config, log *slog.Logger, hooks HookRunner) (*Agent, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for _, d := range []string{cfg.Dir, filepath.Join(cfg.Dir, "sources"), filepath.Join(cfg.Dir, "builds"), filepath.Join(cfg.Dir, "logs")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("agent dir: %w", err)
		}
	}
	st, err := loadState(filepath.Join(cfg.Dir, "state.json"))
	if err != nil {
		return nil, err
	}
	policy, err := loadTrust(cfg)
	if err != nil {
		return nil, err
	}
	backoffMax := cfg.BackoffMax.Duration
	if backoffMax <= 0 {
		backoffMax = time.Minute
	}
	a := &Agent{
		cfg: cfg, log: log, hooks: hooks,
		sup: supervise.New(supervise.Options{
			Grace: cfg.StopGrace.Duration, LogMax: cfg.LogMaxBytes, BackoffMax: backoffMax,
			Marker: supervise.Marker(cfg.Dir), Logger: log,
		}),
		sources: &source.Cache{Dir: filepath.Join(cfg.Dir, "sources")},
		fleet:   &fleetRepo{dir: filepath.Join(cfg.Dir, "fleet.git"), url: cfg.RewriteURL(cfg.Fleet.Repo), ref: cfg.Fleet.Ref},
		trigger: make(chan struct{}, 1),
		trust:   policy,
		now:     time.Now,
		state:   st,
		sync:    syncStatus{state: "ok"},
		apps:    map[string]*appStatus{},
		specs:   map[string]fleet.Resolved{},
		waiting: map[string]*Waiting{},
		jobs:    map[string]*job{},
	}
	a.metrics = newMetrics(a)
	return a, nil
}

// Run converges until ctx ends, then stops every binary. It first kills whatever a previous agent on this dir
// left running and starts the recorded apps again (see the package doc: replace, not adopt).
func (a *Agent) Run(ctx context.Context) error {
	a.restore(ctx)
	defer a.shutdown()
	for {
		err := a.SyncNow(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := a.nextWait(err)
		a.log.Debug("next sync", "in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-a.trigger:
			t.Stop()
		case <-t.C:
		}
	}
}

// Sync asks for a sync as soon as possible; it never blocks.
func (a *Agent) Sync() {
	select {
	case a.trigger <- struct{}{}:
	default:
	}
}

// restore kills survivors of a previous run and starts every recorded app from its recorded build.
func (a *Agent) restore(ctx context.Context) {
	if len(a.sup.Names()) > 0 {
		return // this agent already runs binaries (SyncNow before Run): nothing was left by another process
	}
	if pids := supervise.KillMarked(supervise.Marker(a.cfg.Dir)); len(pids) > 0 {
		a.log.Warn("killed processes left by a previous agent", "pids", pids)
	}
	a.mu.Lock()
	apps := make([]*Installed, 0, len(a.state.Apps))
	for _, inst := range a.state.Apps {
		apps = append(apps, inst)
	}
	a.mu.Unlock()
	for _, inst := range apps {
		if err := a.startApp(ctx, inst); err != nil {
			a.log.Error("restart of a recorded app failed; it will be installed again", "app", inst.App, "err", err)
			a.mu.Lock()
			delete(a.state.Apps, inst.App)
			_ = a.saveLocked()
			a.mu.Unlock()
		}
	}
	a.loadGoodFleet()
}

// loadGoodFleet reloads the applied fleet commit from the local clone, so a restarted agent knows its fleet
// before the remote answers.
func (a *Agent) loadGoodFleet() {
	a.mu.Lock()
	commit := a.state.Fleet.Commit
	a.mu.Unlock()
	if commit == "" {
		return
	}
	f, err := a.fleet.load(commit)
	if err != nil {
		a.log.Warn("applied fleet commit not readable locally", "commit", short(commit), "err", err)
		return
	}
	a.mu.Lock()
	a.good = f
	a.mu.Unlock()
	if d, err := a.desiredSet(f); err == nil {
		for _, app := range d.Apps {
			if a.installed(app.Name) != nil {
				a.setSpec(app)
			}
		}
	}
}

func (a *Agent) setSpec(app fleet.Resolved) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.specs[app.Name] = app
}

// shutdown is the orderly stop: every binary is stopped.
func (a *Agent) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.StopGrace.Duration+5*time.Second)
	defer cancel()
	a.sup.StopAll(ctx)
	a.log.Info("agent stopped; every binary stopped")
}

func (a *Agent) saveLocked() error { return a.state.save(filepath.Join(a.cfg.Dir, "state.json")) }

func (a *Agent) installed(app string) *Installed {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state.Apps[app]
}

func (a *Agent) quarantined(app string) (Quarantine, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	q, ok := a.state.Quarantine[app]
	return q, ok
}

func (a *Agent) isStopped(binary string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state.isStopped(binary)
}

func (a *Agent) varsFor(inst *Installed) fleet.Vars {
	a.mu.Lock()
	addr := a.cfg.Address
	if a.desired != nil {
		addr = a.desired.Address
	}
	a.mu.Unlock()
	return fleet.Vars{App: inst.App, Data: a.dataDir(inst.App), Host: addr, Rev: inst.Rev, Sockets: a.socketsDir()}
}

func (a *Agent) appStatusLocked(app string) *appStatus {
	s := a.apps[app]
	if s == nil {
		s = &appStatus{}
		a.apps[app] = s
	}
	return s
}

// setPhase records where an app's apply is, for the status and for its job.
func (a *Agent) setPhase(app, phase string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.appStatusLocked(app)
	s.phase = phase
	switch phase {
	case PhaseHealthy:
		s.phase, s.reason, s.failed = "", "", false
	case PhaseFailed:
		s.phase, s.failed = "", true
	}
	if j := a.activeJobLocked(app); j != nil {
		j.setPhase(phase)
	}
}

// noteAppReason records why an app is not fine (failed == true) or clears it.
func (a *Agent) noteAppReason(app, reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.appStatusLocked(app)
	s.reason, s.failed = reason, reason != ""
	if reason != "" {
		if j := a.activeJobLocked(app); j != nil {
			j.fail(reason)
		}
	}
}
