package agent

import (
	"io"
	"time"

	"github.com/herofleet/herofleet/agent/apply"
	"github.com/herofleet/herofleet/api"
)

// HookRunner runs one hook call; the plugins package provides the real one.
type HookRunner = apply.HookRunner

// target is one app as this host should run it: what the resolve step finds and the apply step applies.
type target = apply.Target

// newApplyRunner makes the agent's apply transaction runner: its config values, its logger, supervisor, hook
// runner, sources and lanes, and the host as the transaction sees it.
func (a *Agent) newApplyRunner(hooks HookRunner) *apply.Runner {
	ah := &applyHost{h: a.host, m: a.metrics, address: a.cfg.Address}
	return apply.New(apply.Options{
		Config: apply.Config{
			Dir: a.cfg.Dir, Host: a.cfg.Host, SecretsDir: a.cfg.SecretsDir, Path: a.cfg.Path, Lang: a.cfg.Lang,
			BuildEnv: a.cfg.BuildEnv, HealthTimeout: a.cfg.HealthTimeout.Duration, Rewrite: a.cfg.RewriteURL,
			DriftReadRate: a.cfg.DriftReadMBPerS << 20,
		},
		Log: a.log, Supervisor: a.sup, Hooks: hooks, Sources: a.sources, Lanes: &a.lanes,
		State: ah, Progress: ah,
	})
}

// applyHost is the host as the apply transaction sees it (apply.State and apply.Progress): hostState for what
// runs, what a person stopped, the fleet being run and each app's progress; the metrics for the durations.
type applyHost struct {
	h       *hostState
	m       *metrics
	address string // the configured address, until a fleet gives one
}

func (x *applyHost) Installed(app string) *Installed  { return x.h.installed(app) }
func (x *applyHost) Switch(inst *Installed) error     { return x.h.recordInstalled(inst) }
func (x *applyHost) Forget(app string) error          { return x.h.forget(app) }
func (x *applyHost) Stopped(binary string) bool       { return x.h.isStopped(binary) }
func (x *applyHost) SetPhase(app string, p api.Phase) { x.h.setPhase(app, p) }
func (x *applyHost) SetReason(app string, r api.Reason) {
	x.h.setReason(app, r)
}
func (x *applyHost) Output(app string) io.Writer { return x.h.jobOutput(app) }

func (x *applyHost) Quarantine(app, rev, key, reason string) error {
	return x.h.quarantine(Quarantine{App: app, Rev: rev, Key: key, Reason: reason, Since: time.Now().UTC()})
}

func (x *applyHost) Address() string {
	if d := x.h.desiredSet(); d != nil {
		return d.Address
	}
	return x.address
}

func (x *applyHost) Pins() map[string]string {
	if good := x.h.goodFleet(); good != nil {
		return good.Meta.Plugins
	}
	return nil
}

func (x *applyHost) BuildDone(app string, start time.Time, err error) { x.m.buildDone(app, start, err) }
func (x *applyHost) ApplyDone(app string, start time.Time, failed bool) {
	x.m.applyDone(app, start, failed)
}
