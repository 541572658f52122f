package agent

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/herofleet/herofleet/fleet"
	"github.com/herofleet/herofleet/internal/source"
)

// fleetRepo is the local bare clone of the fleet repo, <dir>/fleet.git.
type fleetRepo struct {
	dir, url, ref string
	repo          *git.Repository
}

func (r *fleetRepo) open() (*git.Repository, error) {
	if r.repo != nil {
		return r.repo, nil
	}
	repo, err := source.OpenBare(r.dir)
	if err != nil {
		return nil, err
	}
	r.repo = repo
	return repo, nil
}

// head asks the remote where ref points (ls-remote) and fetches only when that moved. A local clone that cannot
// be read is thrown away and fetched again, once.
func (r *fleetRepo) head(ctx context.Context) (plumbing.Hash, error) {
	h, err := r.headOnce(ctx)
	var remote *source.RemoteError
	if err == nil || errors.As(err, &remote) || ctx.Err() != nil {
		return h, err
	}
	r.repo = nil
	if rerr := os.RemoveAll(r.dir); rerr != nil {
		return h, err
	}
	return r.headOnce(ctx)
}

func (r *fleetRepo) headOnce(ctx context.Context) (plumbing.Hash, error) {
	repo, err := r.open()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if source.IsCommit(r.ref) {
		h := plumbing.NewHash(r.ref)
		if _, err := repo.CommitObject(h); err != nil {
			if err := source.FetchAll(ctx, repo, r.url); err != nil {
				return plumbing.ZeroHash, err
			}
		}
		return h, nil
	}
	refs, err := source.LsRemote(ctx, r.url)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	remote := source.FindRef(refs, r.ref)
	if remote == nil {
		return plumbing.ZeroHash, fmt.Errorf("fleet repo %s has no branch or tag %q", r.url, r.ref)
	}
	if local, err := repo.Reference(remote.Name(), true); err != nil || local.Hash() != remote.Hash() {
		spec := config.RefSpec(fmt.Sprintf("+%s:%s", remote.Name(), remote.Name()))
		if err := source.Fetch(ctx, repo, r.url, spec); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("fleet repo: %w", err)
		}
	}
	return source.PeelToCommit(repo, remote.Name())
}

func (r *fleetRepo) load(commit string) (*fleet.Fleet, error) {
	repo, err := r.open()
	if err != nil {
		return nil, err
	}
	return fleet.LoadCommit(repo, plumbing.NewHash(commit))
}

// SyncNow runs one sync and converge at once and returns when it is done. Run calls it on its schedule.
func (a *Agent) SyncNow(ctx context.Context) (err error) {
	a.runMu.Lock()
	defer a.runMu.Unlock()
	if a.Suspended() {
		return a.syncSuspended(ctx)
	}
	defer func() { a.metrics.syncDone(err) }()
	a.setSync("syncing", nil)
	f, err := a.syncFleet(ctx)
	if err != nil {
		a.setSync("error", err)
		a.log.Warn("sync failed; running apps untouched", "err", err)
		return err
	}
	if f == nil {
		return nil // no good commit yet: refused, status says why
	}
	a.sources.NewRound()
	a.applyFleet(ctx, f)
	a.mu.Lock()
	if a.sync.state == "syncing" {
		a.sync.state, a.sync.err = "ok", ""
	}
	a.mu.Unlock()
	return nil
}

// syncSuspended fetches the fleet repo, so that the status shows the newest commit next to the applied one, and
// applies nothing new: the applied commit is converged again, which lets a click-install from the catalog proceed
// (it is not a new commit) while upgrades, restarts and removals are held until a resume.
func (a *Agent) syncSuspended(ctx context.Context) error {
	if _, err := a.fetchHead(ctx); err != nil {
		a.setSync("suspended", err)
		a.log.Warn("sync failed while suspended", "err", err)
		return err
	}
	a.setSync("suspended", nil)
	a.mu.Lock()
	good := a.good
	a.mu.Unlock()
	if good == nil {
		return nil
	}
	a.sources.NewRound()
	a.applyFleet(ctx, good)
	return nil
}

// fetchHead brings the fleet repo up to date and records its head.
func (a *Agent) fetchHead(ctx context.Context) (string, error) {
	h, err := a.fleet.head(ctx)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sync.lastSync = time.Now().UTC()
	if err != nil {
		a.sync.failures++
		return "", err
	}
	a.sync.failures = 0
	a.state.Fleet.Head = h.String()
	return h.String(), nil
}

// syncFleet brings the fleet repo up to date and returns the fleet to apply: the remote head when it is good,
// else the last good one (nil when there is none).
func (a *Agent) syncFleet(ctx context.Context) (*fleet.Fleet, error) {
	head, err := a.fetchHead(ctx)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	good := a.good
	refused := false
	for _, r := range a.state.Refused {
		refused = refused || r.Commit == head
	}
	a.mu.Unlock()
	if good != nil && good.Commit == head || refused {
		if refused {
			a.setSync("refused", nil)
		}
		return good, nil
	}
	if reason, err := a.checkTrust(head); err != nil {
		return nil, fmt.Errorf("verify fleet commit %s: %w", short(head), err)
	} else if reason != "" {
		a.refuse(head, reason)
		return good, nil
	}
	f, err := a.fleet.load(head)
	var ferrs fleet.Errors
	if errors.As(err, &ferrs) {
		a.refuse(head, ferrs.Error())
		return good, nil
	}
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.good = f
	a.state.Refused = nil // a newer good commit clears the refusals
	a.mu.Unlock()
	a.log.Info("fleet commit accepted", "commit", short(head))
	return f, nil
}

// refuse records a fleet commit that does not validate or is not trusted; the last good one keeps running.
func (a *Agent) refuse(commit, reason string) {
	a.log.Error("fleet commit refused; keeping the last good one", "commit", short(commit), "reason", reason)
	a.mu.Lock()
	a.state.Refused = append(a.state.Refused, Refused{Commit: commit, Reason: reason})
	if n := len(a.state.Refused); n > 10 {
		a.state.Refused = a.state.Refused[n-10:]
	}
	_ = a.saveLocked()
	a.mu.Unlock()
	a.setSync("refused", nil)
}

func (a *Agent) setSync(state string, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sync.state, a.sync.err = state, ""
	if err != nil {
		a.sync.err = err.Error()
	}
}

// nextWait is the time to the next scheduled sync (plus jitter), or the backoff after failures.
func (a *Agent) nextWait(err error) time.Duration {
	a.mu.Lock()
	failures := a.sync.failures
	var meta fleet.Meta
	if a.good != nil {
		meta = a.good.Meta
	}
	a.mu.Unlock()
	if err != nil && failures > 0 {
		limit := a.cfg.BackoffMax.Duration
		if limit <= 0 {
			limit = 5 * time.Minute
		}
		d := time.Second << min(failures-1, 16)
		if d > limit {
			d = limit
		}
		return d/2 + rand.N(d/2+1)
	}
	spec := a.cfg.Schedule
	if spec == "" {
		spec = meta.Sync.Schedule
	}
	if spec == "" {
		spec = fleet.DefaultSchedule
	}
	sched, perr := fleet.ParseSchedule(spec)
	if perr != nil {
		sched, _ = fleet.ParseSchedule(fleet.DefaultSchedule)
	}
	now := time.Now()
	d := sched.Next(now).Sub(now)
	if j := meta.Sync.Jitter.Duration; j > 0 && a.cfg.Schedule == "" {
		d += rand.N(j)
	}
	return a.untilWake(max(d, 0)) // a held change applies when its window opens, not at the next poll
}
