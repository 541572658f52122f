package agent

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herofleet/herofleet/agent/apply"
	"github.com/herofleet/herofleet/agent/selfup"
	"github.com/herofleet/herofleet/agent/supervise"
	"github.com/herofleet/herofleet/agent/trust"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/redact"
	"github.com/herofleet/herofleet/internal/source"
)

// Agent converges one host on the fleet repo.
type Agent struct {
	cfg     *Config
	log     *slog.Logger
	sup     *supervise.Supervisor
	sources *source.Cache
	fleet   *fleetRepo
	trust   *trust.Policy                        // what a fleet commit must satisfy to be applied
	now     func() time.Time                     // the clock of maintenance windows and schedules (see Clock)
	after   func(time.Duration) <-chan time.Time // the wait between two syncs (see Clock)
	metrics *metrics                             // nil-safe: counts syncs, builds and applies

	host    *hostState    // the one owner of the host's state
	secrets *secretsDir   // the one writer of the secrets dir
	lanes   apply.Lanes   // one app's applies and controls, one at a time
	tx      *apply.Runner // the apply transaction: resolve, build or fetch, hooks, start, health, switch
	runMu   sync.Mutex    // one converge at a time
	queued  atomic.Int32  // controls waiting for their lanes
	trigger chan struct{} // a sync asked for (API, webhook, install)

	life context.Context // ends when the agent shuts down: bounds work queued behind a lane
	end  context.CancelFunc

	selfMu sync.Mutex
	self   *Self         // the binary running the agent (SetSelf); nil: the agent never replaces itself
	trial  *selfup.Trial // the version it runs is on trial until confirmed (nil: confirmed)

	fullChecks driftClock // when each app's files were last hashed whole, heals that failed (drift.go); the converge loop's own

	leave bool // Shutdown leaves the binaries running for the next agent (LeaveBinariesRunning)
}

// New makes an agent from its config. hooks may be nil: an app with hooks then fails to apply, with a reason.
// Nothing is started before Run.
func New(cfg *Config, log *slog.Logger, hooks HookRunner) (*Agent, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = slog.New(redact.Handler(log.Handler())) // no credentials of a URL in the agent's log
	for _, d := range []string{cfg.Dir, filepath.Join(cfg.Dir, "sources"), filepath.Join(cfg.Dir, "builds"), filepath.Join(cfg.Dir, "logs")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("agent dir: %w", err)
		}
	}
	policy, err := loadTrust(cfg)
	if err != nil {
		return nil, err
	}
	backoffMax := cfg.BackoffMax.Duration
	if backoffMax <= 0 {
		backoffMax = time.Minute
	}
	var a *Agent
	a = &Agent{
		cfg: cfg, log: log,
		sup: supervise.New(supervise.Options{
			Grace: cfg.StopGrace.Duration, LogMax: cfg.LogMaxBytes, BackoffMax: backoffMax,
			Marker: supervise.Marker(cfg.Dir), Logger: log,
			OnRun: func(name string, run supervise.Run) { a.host.recordRun(name, run) },
		}),
		sources: &source.Cache{Dir: filepath.Join(cfg.Dir, "sources")},
		fleet:   &fleetRepo{dir: filepath.Join(cfg.Dir, "fleet.git"), url: cfg.RewriteURL(cfg.Fleet.Repo), ref: cfg.Fleet.Ref},
		trust:   policy,
		secrets: &secretsDir{dir: cfg.SecretsDir, identityFile: cfg.IdentityFile, host: cfg.Host, log: log},
		now:     time.Now,
		after:   time.After,
		trigger: make(chan struct{}, 1),
	}
	a.secrets.isAncestor = a.fleet.isAncestor
	a.host, err = openHostState(cfg.Dir, log)
	if err != nil {
		return nil, err
	}
	a.life, a.end = context.WithCancel(context.Background())
	a.metrics = newMetrics(a)
	a.tx = a.newApplyRunner(hooks)
	return a, nil
}

// Run converges until ctx ends, then stops every binary (or, after LeaveBinariesRunning, leaves them running for
// the next agent: see Shutdown). It first adopts the binaries a previous agent on this dir
// left running as recorded, kills whatever else it left, and starts the rest of the recorded apps (see restore).
func (a *Agent) Run(ctx context.Context) error {
	a.restore(ctx)
	defer a.Shutdown()
	a.selfMu.Lock()
	if a.trial != nil {
		go a.watchTrial(a.trial)
	}
	a.selfMu.Unlock()
	for {
		err := a.SyncNow(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := a.nextWait(err)
		a.log.Debug("next sync", "in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-a.trigger:
		case <-a.after(wait):
		}
	}
}

// Clock is the agent's time: Now dates maintenance windows and reads the sync schedule, After is the wait between
// two syncs (the schedule's, or the backoff after failures). An agent runs on the machine's clock; a simulation sets
// its own with SetClock before Run — the fault suite plays an hour without a git server in a second of real time.
// Nothing else sets it: there is no flag or config key for it.
type Clock struct {
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
}

// SetClock replaces the agent's clock (a nil field keeps the machine's). Call it before Run.
func (a *Agent) SetClock(c Clock) {
	if c.Now != nil {
		a.now = c.Now
	}
	if c.After != nil {
		a.after = c.After
	}
}

// SyncNow runs one converge at once and returns when it is done. Run calls it on its schedule.
func (a *Agent) SyncNow(ctx context.Context) (err error) {
	a.runMu.Lock()
	defer a.runMu.Unlock()
	defer func() { a.metrics.syncDone(err) }()
	return a.converge(ctx)
}

// restore takes the host over from a previous agent on this dir (one killed, crashed, restarted or replaced by
// an upgrade): each binary of a recorded app that still runs as the process the previous agent started, from the
// spec recorded, is adopted and keeps running; whatever else the previous agent left (a binary that does not
// match, a build, a hook) is killed; what it fetched half-way is cleared; and every recorded binary not adopted is
// started from its recorded build. After a reboot nothing matches and everything starts afresh.
func (a *Agent) restore(ctx context.Context) {
	if len(a.sup.Names()) > 0 {
		return // this agent already runs binaries (SyncNow before Run): nothing was left by another process
	}
	runs := a.host.runs()
	var keep []int
	for _, inst := range a.host.installedApps() {
		leave, err := a.lanes.Enter(ctx, inst.App)
		if err != nil {
			return
		}
		keep = append(keep, a.tx.Adopt(inst, runs)...)
		leave()
	}
	if pids := supervise.KillMarked(supervise.Marker(a.cfg.Dir), keep...); len(pids) > 0 {
		a.log.Warn("killed processes left by a previous agent", "pids", pids)
	}
	a.clearInterrupted()
	for _, inst := range a.host.installedApps() {
		leave, err := a.lanes.Enter(ctx, inst.App)
		if err != nil {
			return
		}
		if err := a.tx.Resume(ctx, inst); err != nil {
			a.log.Error("restart of a recorded app failed; it will be installed again", "app", inst.App, "err", err)
			_ = a.host.dropInstalled(inst.App)
		}
		leave()
	}
	_ = a.restoreGoodFleet() // logged; without it the rollout step holds a new commit and says why
}

// restoreGoodFleet reloads the applied fleet commit from the local clone, so a restarted agent knows its fleet
// (and the spec each app runs) before the remote answers. It says why when it cannot: the rollout step asks again
// after a sync (which fetches a lost clone again) and holds while it still cannot.
func (a *Agent) restoreGoodFleet() error {
	commit := a.host.appliedCommit()
	if commit == "" {
		return nil
	}
	f, err := a.fleet.load(commit)
	if err != nil {
		a.log.Warn("applied fleet commit not readable locally", "commit", short(commit), "err", err)
		return err
	}
	base, d, err := a.desiredSet(f)
	if err != nil {
		base, d = nil, nil
	}
	a.host.restoreGood(f, base, d)
	return nil
}

// LeaveBinariesRunning makes the agent's stop (Shutdown, the end of Run) leave every binary running, each with its
// run record saved, for the next agent on this dir to adopt: dockerd's live-restore. The agent command sets it, so
// that SIGTERM (`systemctl restart`, a package upgrade) restarts the agent alone, no app; the apps are stopped only
// on purpose (`herofleet agent stop-apps` once the agent is stopped, a package removal, or the machine's shutdown,
// which kills what is left). Without it (the demo, the tests, an agent embedded in another program) the stop
// stops every binary. Call it before Run.
func (a *Agent) LeaveBinariesRunning() { a.leave = true }

// Shutdown is the orderly stop, which Run does when its context ends (an agent driven by SyncNow alone calls it):
// queued controls are dropped, the ones under way finish, and then every binary is stopped (nothing can start one
// after that), or left running after LeaveBinariesRunning. Calling it again does nothing more.
//
// Leaving them running is safe whatever the agent was doing, as a kill -9 is: an apply cut short by the end of
// the context either had not touched the running revision yet (build, fetch, pre-start hooks) or stopped the new
// revision and started the previous one again (rollback) before returning, so the state's installed revision is
// the one that runs, and each binary running was recorded (OnRun) before its start returned. A binary that was
// waiting to be restarted after a crash stays down, and one whose restart was under way is recorded: the next
// agent adopts what matches its record and the installed spec, kills the rest (builds and hooks cut short
// included) and starts what is missing.
func (a *Agent) Shutdown() {
	a.end()
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.StopGrace.Duration+5*time.Second)
	defer cancel()
	a.lanes.Close(ctx)
	if a.leave {
		names := a.sup.Release()
		_ = a.host.flush() // logged; the records were saved as each binary started, this is a last try
		a.log.Info("agent stopped; every binary left running for the next agent to adopt", "binaries", names)
		return
	}
	a.sup.StopAll(ctx)
	a.log.Info("agent stopped; every binary stopped")
}

func short(rev string) string { return fleet.ShortRev(rev) }

// Config is the agent's own config.
func (a *Agent) Config() *Config { return a.cfg }

// Logger is the agent's logger, for the layers around it (the cockpit API).
func (a *Agent) Logger() *slog.Logger { return a.log }
