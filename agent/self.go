package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/herofleet/herofleet/agent/selfup"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/redact"
)

// Self is the herofleet binary that runs the agent, as the agent replaces itself through the fleet (fleet.yaml
// agent:): its version and executable, the config it was started with, its argv (the same argv execs the next
// version), and the trial it runs on when it is a version not confirmed yet (selfup.Start found it).
type Self struct {
	Version    string
	Exe        string
	ConfigPath string
	Args       []string
	Trial      *selfup.Trial
	// Fault makes every converge fail with its error (nil: none). For tests of a new version that stays unhealthy;
	// no flag or config key sets it.
	Fault func() error
	// BeforeExec runs between the record of a switch and its exec (nil: nothing). For tests of a kill at that
	// moment; no flag or config key sets it.
	BeforeExec func()
}

// SetSelf tells the agent which binary runs it; without it the agent never replaces itself. Call it before Run.
func (a *Agent) SetSelf(s Self) {
	a.selfMu.Lock()
	defer a.selfMu.Unlock()
	a.self = &s
	a.trial = s.Trial
}

// AgentStatus is the agent's own version in the status.
type AgentStatus struct {
	Version  string         `json:"version"`
	Previous string         `json:"previous,omitempty"` // the version a rollback goes back to (while on trial)
	State    api.AgentState `json:"state"`
	Deadline time.Time      `json:"deadline,omitzero"` // trial: when it is rolled back unless confirmed
	// Code and Reason: the version the applied commit names was refused or rolled back here (the host is not
	// healthy on that commit); Commit is the commit that tried it.
	Code   api.ReasonCode `json:"reason_code,omitempty"`
	Reason string         `json:"reason,omitempty"`
	Commit string         `json:"commit,omitempty"`
}

// selfStatus is the agent part of the status (nil when the agent does not know its binary).
func (a *Agent) selfStatus() *AgentStatus {
	a.selfMu.Lock()
	defer a.selfMu.Unlock()
	if a.self == nil {
		return nil
	}
	as := &AgentStatus{Version: a.self.Version, State: api.AgentConfirmed}
	if a.trial != nil {
		as.State, as.Deadline = api.AgentTrial, a.trial.Deadline
	}
	rec, _ := selfup.Load(a.cfg.Dir)
	if rec == nil {
		return as
	}
	if a.trial != nil && rec.Previous != nil {
		as.Previous = rec.Previous.Version
	}
	// the newest of the last rollback and the last refusal, while the fleet's commit still names that version
	wanted := ""
	if f := a.host.goodFleet(); f != nil && f.Meta.Agent != nil {
		wanted = f.Meta.Agent.Version
	}
	var r api.Reason
	var at time.Time
	var commit string
	if e := rec.Rollback; e != nil && e.Version == wanted {
		r, at, commit = api.Reason{Code: api.ReasonAgentRollback, Subject: e.Version, Detail: e.Reason}, e.At, e.Commit
	}
	if e := rec.Refused; e != nil && e.At.After(at) && e.Version == wanted && e.Version != a.self.Version {
		r, commit = api.Reason{Code: api.ReasonAgentRefused, Subject: e.Version, Detail: e.Reason}, e.Commit
	}
	if !r.IsZero() {
		as.Code, as.Reason, as.Commit = r.Code, r.String(), commit
	}
	return as
}

// selfStep replaces the agent when the commit just converged names another herofleet version (fleet.yaml agent:):
// it is part of the commit, so a commit held by the rollout or refused never gets here. A version on trial is
// confirmed here once a converge ends healthy. A version that failed before is not tried again until a commit names
// another one; one that this commit could not prepare is not tried again on this commit; a suspended host does not
// switch.
func (a *Agent) selfStep(ctx context.Context, p *pass) outcome {
	a.selfMu.Lock()
	self, trial := a.self, a.trial
	a.selfMu.Unlock()
	if self == nil {
		return finish()
	}
	if trial != nil {
		a.confirmIfHealthy(p, trial)
		return finish()
	}
	rel := p.fleet.Meta.Agent
	if rel == nil || a.host.isSuspended() {
		return finish()
	}
	rec, err := selfup.Load(a.cfg.Dir)
	if err != nil {
		a.log.Error("agent version record unreadable; not replacing the agent", "err", err)
		return finish()
	}
	if rec != nil && len(rec.Failed) > 0 && !rec.HasFailed(rel.Version) {
		// a commit names another version than those that failed: they may be tried again when a commit names them
		rec.Failed = nil
		if err := selfup.Save(a.cfg.Dir, rec); err != nil {
			a.log.Error("agent version record not saved", "err", err)
		}
	}
	if rel.Version == self.Version {
		return finish()
	}
	if rec.HasFailed(rel.Version) {
		return finish() // rolled back before: the status says why
	}
	if r := rec.RefusedOn(p.fleet.Commit, rel.Version); r != nil && !r.Retry {
		return finish() // refused on this commit already
	}
	exe, err := a.prepareVersion(ctx, rel)
	if ctx.Err() != nil {
		return finish() // the agent stops: tried again at the next start
	}
	if rec == nil {
		rec = &selfup.Record{Current: selfup.Version{Version: self.Version, Exe: self.Exe}, Confirmed: true}
	}
	if err != nil {
		rec.Refused = &selfup.Event{Version: rel.Version, Commit: p.fleet.Commit, Reason: redact.Text(err.Error()), At: a.now().UTC(),
			Retry: selfup.Transient(err)}
		if serr := selfup.Save(a.cfg.Dir, rec); serr != nil {
			a.log.Error("agent version record not saved", "err", serr)
		}
		a.log.Error("new agent version refused; nothing changes", "version", rel.Version, "reason", err)
		return finish()
	}
	prev := selfup.Version{Version: self.Version, Exe: self.Exe}
	rec.Previous, rec.Current = &prev, selfup.Version{Version: rel.Version, Exe: exe}
	rec.Confirmed, rec.Starts, rec.Commit, rec.Refused = false, 0, p.fleet.Commit, nil
	rec.Deadline = a.now().Add(rel.ConfirmOrDefault()).UTC()
	rec.HealthyBefore = a.host.status(a.cfg, a.sup).Healthy() // the apps' health, not this version's own reasons
	if err := selfup.Save(a.cfg.Dir, rec); err != nil {
		a.log.Error("agent version record not saved; not switching", "err", err)
		return finish()
	}
	a.log.Info("switching to a new agent version", "from", self.Version, "to", rel.Version, "confirm", rel.ConfirmOrDefault(), "commit", short(p.fleet.Commit))
	if self.BeforeExec != nil {
		self.BeforeExec()
	}
	a.execVersion(exe, true) // returns only when the exec failed
	if rec.RollBack("exec failed", a.now()) {
		_ = selfup.Save(a.cfg.Dir, rec)
	}
	a.log.Error("exec of the new agent version failed; exiting for the service manager to start the agent again")
	os.Exit(1)
	return finish()
}

// prepareVersion fetches, checks and selftests the release rel names for this platform.
func (a *Agent) prepareVersion(ctx context.Context, rel *fleet.AgentRelease) (string, error) {
	plat := runtime.GOOS + "/" + runtime.GOARCH
	art, ok := rel.Artifacts[plat]
	if !ok {
		return "", fmt.Errorf("the fleet names no artifact for %s", plat)
	}
	if !fleet.ValidAgentVersion(rel.Version) {
		return "", fmt.Errorf("version %q cannot name a folder", rel.Version)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	a.log.Info("preparing a new agent version", "version", rel.Version, "url", art.URL)
	return selfup.Prepare(ctx, a.cfg.Dir, selfup.Release{Version: rel.Version, URL: a.cfg.RewriteURL(art.URL), SHA256: art.SHA256},
		a.self.ConfigPath, selfup.DefaultLimits)
}

// confirmIfHealthy confirms the version on trial once a converge of its commit ends healthy (or, when the host was
// not healthy before the switch, once a converge ends with the fleet state ok).
func (a *Agent) confirmIfHealthy(p *pass, trial *selfup.Trial) {
	st := a.host.status(a.cfg, a.sup)
	ok := st.Fleet.State != api.SyncError && st.Fleet.Commit == p.fleet.Commit // a converge of the commit went through
	if trial.HealthyBefore {
		ok = ok && st.Healthy()
	}
	if !ok {
		a.log.Warn("agent version on trial: converge not healthy yet", "version", trial.Version, "deadline", trial.Deadline)
		return
	}
	rec, err := selfup.Load(a.cfg.Dir)
	if err != nil || rec == nil {
		a.log.Error("agent version record unreadable; cannot confirm", "err", err)
		return
	}
	rec.Confirmed, rec.Deadline, rec.Starts, rec.HealthyBefore = true, time.Time{}, 0, false
	if err := selfup.Save(a.cfg.Dir, rec); err != nil {
		a.log.Error("agent version not confirmed: record not saved", "err", err)
		return
	}
	rec.Prune(a.cfg.Dir)
	a.selfMu.Lock()
	a.trial = nil
	a.selfMu.Unlock()
	a.log.Info("agent version confirmed", "version", trial.Version)
}

// watchTrial rolls the version on trial back at its deadline unless it was confirmed by then: whatever kept it
// (a hang, a converge that stays unhealthy), the previous version comes back, exec'd in place.
func (a *Agent) watchTrial(trial *selfup.Trial) {
	wait := time.Until(trial.Deadline)
	select {
	case <-a.life.Done():
		return
	case <-time.After(wait):
	}
	a.selfMu.Lock()
	still := a.trial == trial
	a.selfMu.Unlock()
	if !still {
		return
	}
	why := fmt.Sprintf("no healthy converge within its confirm window (deadline %s)", trial.Deadline.UTC().Format(time.RFC3339))
	if last := a.host.status(a.cfg, a.sup).Fleet.Error; last != "" {
		why += ": " + last
	}
	a.rollBack(why)
}

// rollBack makes the previous version current again, marks this one failed, and execs the previous one.
func (a *Agent) rollBack(why string) {
	rec, err := selfup.Load(a.cfg.Dir)
	if err != nil || rec == nil || !rec.RollBack(why, a.now()) {
		a.log.Error("agent version cannot be rolled back", "err", errors.Join(err, errors.New("no previous version recorded")))
		return
	}
	if err := selfup.Save(a.cfg.Dir, rec); err != nil {
		a.log.Error("agent version record not saved; not rolling back", "err", err)
		return
	}
	a.log.Error("agent version rolled back", "to", rec.Current.Version, "why", why)
	rec.Prune(a.cfg.Dir) // two versions on disk at most: the failed one goes
	a.execVersion(rec.Current.Exe, false)
	a.log.Error("exec of the previous agent version failed; exiting for the service manager to start the agent again")
	os.Exit(1)
}

// execWaitsForConverge is how long a rollback waits for a converge under way before it execs anyway (it hangs).
const execWaitsForConverge = 10 * time.Second

// execVersion replaces this process with exe (same pid, argv and environment): the apps keep running as its
// children, and the new agent adopts them. It waits (bounded) for the converge and every app's lane, so no apply
// or control is cut half-way, and returns only when the exec failed.
func (a *Agent) execVersion(exe string, holdsRun bool) {
	if !holdsRun { // a converge under way finishes first, unless it hangs
		for end := time.Now().Add(execWaitsForConverge); !a.runMu.TryLock() && time.Now().Before(end); {
			time.Sleep(100 * time.Millisecond)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), execWaitsForConverge)
	a.lanes.Close(ctx)
	cancel()
	err := selfup.Exec(exe, a.self.Args, selfup.ExecEnv())
	a.log.Error("exec failed", "exe", exe, "err", err)
}

// SelfTest is what `herofleet selftest` checks before an agent execs this binary in its place: the config was
// loaded (by the caller), the state of its dir loads, and the applied fleet commit loads from the local clone,
// validates and resolves for this host with this binary's rules. It changes nothing and says what it checked.
func SelfTest(cfg *Config) (string, error) {
	st, err := loadState(filepath.Join(cfg.Dir, "state.json"))
	if err != nil {
		return "", err
	}
	commit := st.Fleet.Commit
	if commit == "" {
		return fmt.Sprintf("state: %d apps installed; no applied fleet commit yet", len(st.Apps)), nil
	}
	r := &fleetRepo{dir: filepath.Join(cfg.Dir, "fleet.git"), url: cfg.RewriteURL(cfg.Fleet.Repo), ref: cfg.Fleet.Ref}
	f, err := r.load(commit)
	if err != nil {
		return "", fmt.Errorf("applied fleet commit %s: %w", short(commit), err)
	}
	d, err := f.Resolve(fleet.Target{Host: cfg.Host, Role: cfg.Role, Address: cfg.Address})
	if err != nil {
		return "", fmt.Errorf("applied fleet commit %s: resolve host: %w", short(commit), err)
	}
	return fmt.Sprintf("state: %d apps installed, %d run records; applied fleet commit %s loads and wants %d apps here",
		len(st.Apps), len(st.Runs), short(commit), len(d.Apps)), nil
}
