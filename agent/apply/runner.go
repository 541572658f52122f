package apply

import (
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/herofleet/herofleet/agent/supervise"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/source"
)

// State is what the transaction reads and changes of the host's state: what runs, what a person stopped, and
// the fleet being run. The agent's host state is one; every method is safe for concurrent use, and one that
// changes what survives a restart has saved it when it returns.
type State interface {
	Installed(app string) *Installed // the app's running revision; nil when none
	Switch(inst *Installed) error    // inst is the app's revision from here on (its quarantine ends)
	Forget(app string) error         // the app was removed: nothing runs, nothing is held back
	Quarantine(app, rev, key, reason string) error
	Stopped(binary string) bool // a person stopped the binary: it is not started
	Address() string            // the host's address: the fleet being run's, or the configured one before any
	Pins() map[string]string    // the fleet being run's plugins: name -> sha256
}

// Progress is told how an apply goes, for the status, the app's job and the metrics.
type Progress interface {
	SetPhase(app string, phase api.Phase) // healthy ends the app's work well, failed badly
	SetReason(app string, r api.Reason)   // why the app is not fine; its work ends
	Output(app string) io.Writer          // where a build's or a fetch's output goes besides its log
	BuildDone(app string, start time.Time, err error)
	ApplyDone(app string, start time.Time, failed bool)
}

// Config is what the transaction reads of the agent's config.
type Config struct {
	Dir           string                  // the agent's dir: builds, data, home, run and logs are under it
	Host          string                  // the host's name, told to hooks
	SecretsDir    string                  // ${secrets}, told to hooks
	Path          string                  // PATH of builds and binaries
	Lang          string                  // LANG of builds and binaries
	BuildEnv      map[string]string       // extra variables for builds only
	HealthTimeout time.Duration           // how long a new revision has to become healthy
	Rewrite       func(url string) string // the URL rewrites; nil rewrites nothing
	DriftReadRate int64                   // bytes a second the drift check's hashing may read; 0 for no bound
}

// Options is everything a Runner works with, given once.
type Options struct {
	Config     Config
	Log        *slog.Logger
	Supervisor *supervise.Supervisor
	Hooks      HookRunner // may be nil: an app with hooks then fails to apply, with a reason
	Sources    *source.Cache
	Lanes      *Lanes // shared with whatever else changes an app's processes (a person's controls)
	State      State
	Progress   Progress
}

// Runner carries out apply transactions and removals for one host.
type Runner struct {
	cfg      Config
	log      *slog.Logger
	sup      *supervise.Supervisor
	hooks    HookRunner
	sources  *source.Cache
	lanes    *Lanes
	state    State
	progress Progress
	drift    driftMemo
}

// New makes a Runner; it starts nothing.
func New(o Options) *Runner {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Config.Rewrite == nil {
		o.Config.Rewrite = func(u string) string { return u }
	}
	return &Runner{
		cfg: o.Config, log: o.Log, sup: o.Supervisor, hooks: o.Hooks, sources: o.Sources, lanes: o.Lanes,
		state: o.State, progress: o.Progress,
	}
}

// The layout of <dir> the transaction writes (see the agent's package doc).

func (r *Runner) dataDir(app string) string { return filepath.Join(r.cfg.Dir, "data", app) }
func (r *Runner) homeDir(app string) string { return filepath.Join(r.cfg.Dir, "home", app) }
func (r *Runner) buildsDir(app string) string {
	return filepath.Join(r.cfg.Dir, "builds", app)
}
func (r *Runner) socketsDir() string { return filepath.Join(r.cfg.Dir, "run") }

// LogPath is the log file of a binary (rotated part: LogPath + ".1").
func (r *Runner) LogPath(binary string) string {
	return filepath.Join(r.cfg.Dir, "logs", binary+".log")
}
