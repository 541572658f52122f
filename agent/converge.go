package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
)

// A converge is one pass over the host, a short list of named steps run in order by converge. Each step reads
// what the steps before it found in the pass, adds what it finds, and answers with an outcome whose kind tells the
// loop what to do next (see outcome): go on, end the pass, fall back to the last good commit, or fail the sync.
type pass struct {
	head      string                  // sync: where the followed ref points
	fresh     bool                    // sync: head is a commit this host has not judged yet
	suspended bool                    // sync: a person suspended the host: a fresh head is judged for its secrets only
	fleet     *fleet.Fleet            // load: the commit to converge on: head when good, else the last good one
	desired   *fleet.Desired          // resolve: what the fleet wants here, clicked apps included
	targets   map[string]*target      // resolve: each desired app's revision, as this host runs it
	wanted    map[string]fleet.Wanted // resolve: the same, as Decide reads it (or why it is not known)
	gate      fleet.Gate              // gate: whether disruptive changes may happen now
}

// fallBack gives up the new commit for this pass: the host converges its last good one (nil when it has none).
func (p *pass) fallBack(good *fleet.Fleet) {
	p.fresh, p.fleet = false, good
}

// outcomeKind tells the converge loop how to react to a step, as Flux's reconcilers answer with a typed result.
type outcomeKind int

const (
	next     outcomeKind = iota // go on with the next step
	finished                    // the pass is over: nothing more to do, or the agent stops
	refused                     // the new commit is refused whole (reason); the pass goes on with the last good one
	held                        // the new commit waits (the rollout); the pass goes on with the last good one
	failed                      // the sync failed (err): whatever runs keeps running, the next try backs off
)

// outcome is what a step answers.
type outcome struct {
	kind   outcomeKind
	reason string        // refused: why, for the status
	err    error         // failed: what went wrong
	state  api.SyncState // failed: the fleet state the status shows (error unless the step says otherwise)
}

func proceed() outcome                { return outcome{kind: next} }
func finish() outcome                 { return outcome{kind: finished} }
func refuseCommit(why string) outcome { return outcome{kind: refused, reason: why} }
func holdCommit() outcome             { return outcome{kind: held} }
func fail(err error) outcome          { return outcome{kind: failed, err: err, state: api.SyncError} }
func failAs(state api.SyncState, err error) outcome {
	return outcome{kind: failed, err: err, state: state}
}

type step struct {
	name string
	run  func(context.Context, *pass) outcome
}

// converge runs one pass: sync, verify, load, secrets, rollout, accept, resolve, gate, apply, record.
func (a *Agent) converge(ctx context.Context) error {
	steps := []step{
		{"sync", a.syncStep},       // where the followed ref points; fetched only when it moved
		{"verify", a.verifyStep},   // a new commit is signed as the config asks and does not rewind
		{"load", a.loadStep},       // a new commit loads and validates, or is refused whole
		{"secrets", a.secretsStep}, // the newest verified valid commit's secrets in secrets_dir, whatever holds it back; or the commit refused whole
		{"rollout", a.rolloutStep}, // a new commit waits for the earlier rollout waves, per Prometheus (or a resume); the applied one runs meanwhile
		{"accept", a.acceptStep},   // a new commit that passed every check is the good one
		{"resolve", a.resolveStep}, // the host's apps, each resolved to a revision
		{"gate", a.gateStep},       // whether disruptive changes may happen now: maintenance windows, suspend
		{"apply", a.applyStep},     // each app decided by fleet.Decide's rules and carried out, one at a time in its lane
		{"record", a.recordStep},   // the applied commit, and nothing held for apps that left
		{"self", a.selfStep},       // the agent version the commit names: switched to (exec in place), or confirmed after a switch
	}
	if a.self != nil && a.self.Fault != nil {
		if err := a.self.Fault(); err != nil {
			a.host.setSync(api.SyncError, err)
			return err
		}
	}
	p := &pass{}
	for i := 0; i < len(steps); i++ {
		r := steps[i].run(ctx, p)
		if r.kind == failed && p.suspended && p.fresh {
			// suspended, the new commit is judged only for its secrets: a failure to judge it (the disk, the clone)
			// holds it as the suspend does, and the applied commit is converged as before
			a.log.Warn("new fleet commit not judged while suspended; it waits for a resume", "step", steps[i].name, "err", r.err)
			r = holdCommit()
		}
		switch r.kind {
		case failed:
			a.host.setSync(r.state, r.err)
			a.log.Warn("sync failed; running apps untouched", "step", steps[i].name, "err", r.err)
			return r.err
		case finished:
			return nil
		case refused, held:
			if r.kind == refused {
				a.refuse(p.head, r.reason)
			}
			p.fallBack(a.host.goodFleet())
			if p.fleet == nil {
				if r.kind == held && !p.suspended {
					a.host.setSync(api.SyncWaiting, nil) // a restarted agent without its applied commit: the rollout says why
				}
				return nil // no good commit yet: the status says why
			}
			if r.kind == refused {
				i-- // the same step again, on the last good commit
			}
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	return nil
}

// syncStep asks the remote where the followed ref points and fetches only when it moved. While suspended, the
// newest commit is fetched (the status shows it) and the applied one converged again: a click-install proceeds,
// every other change waits for a resume. A newer commit is still verified and loaded while suspended, for its
// secrets alone: a revocation must not wait for a person to resume the host (secretsStep writes them, rolloutStep
// then holds the commit for the resume, and no converge step sees it).
func (a *Agent) syncStep(ctx context.Context, p *pass) outcome {
	suspended := a.host.isSuspended()
	a.host.beginSync(suspended)
	hctx, cancel := context.WithTimeout(ctx, a.cfg.SyncTimeout.Duration)
	h, err := a.fleet.head(hctx)
	cancel()
	if err != nil && ctx.Err() == nil && errors.Is(hctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("the fleet repo's forge did not answer within %s (down, or this host cut off from it): %w", a.cfg.SyncTimeout.Duration, err)
	}
	if err != nil {
		_ = a.host.recordHead("", err)
		if suspended {
			return failAs(api.SyncSuspended, err) // nothing new would have been applied anyway
		}
		return fail(err)
	}
	p.head = h.String()
	_ = a.host.recordHead(p.head, nil)
	good := a.host.goodFleet()
	p.suspended = suspended
	switch {
	case good != nil && good.Commit == p.head:
		p.fleet = good
	case a.host.isRefused(p.head):
		if !suspended {
			a.host.setSync(api.SyncRefused, nil)
		}
		p.fleet = good
	default:
		p.fresh = true
	}
	return proceed()
}

// verifyStep checks a new commit against the trust policy; an untrusted one is refused whole.
func (a *Agent) verifyStep(ctx context.Context, p *pass) outcome {
	if !p.fresh {
		return onGood(p)
	}
	reason, err := a.checkTrust(p.head)
	if err != nil {
		return fail(fmt.Errorf("verify fleet commit %s: %w", short(p.head), err))
	}
	if reason != "" {
		return refuseCommit(reason)
	}
	return proceed()
}

// onGood goes on with the commit the host already judged good, or ends the pass when it has none yet.
func onGood(p *pass) outcome {
	if p.fleet == nil {
		return finish() // no good commit yet: the status says why
	}
	return proceed()
}

// loadStep loads and validates a new commit; a bad one is refused whole and the last good one converged again.
func (a *Agent) loadStep(ctx context.Context, p *pass) outcome {
	if p.fresh {
		f := a.host.heldFleet(p.head) // held back for the earlier rollout waves: loaded and validated when the hold began
		if f == nil {
			f = a.host.validFleet(p.head) // judged already for its secrets (while suspended)
		}
		var err error
		if f == nil {
			f, err = a.fleet.load(p.head)
		}
		var ferrs fleet.Errors
		switch {
		case errors.As(err, &ferrs):
			return refuseCommit(ferrs.Error())
		case err != nil:
			return fail(err)
		}
		p.fleet = f // accepted by acceptStep, once its secrets are in place and the rollout lets it through
	}
	if r := onGood(p); r.kind != next {
		return r
	}
	a.sources.NewRound()
	return proceed()
}

// secretsStep decrypts this host's secrets of the newest verified and valid commit into the secrets dir, before any
// hook can read them and before the rollout step can hold that commit back: secrets are not rolled out in waves,
// and neither a maintenance window nor a suspend holds them (a revocation takes effect in one poll). That commit
// is a new one (fresh: it passed verify and load), else the newest one that did (a held commit's secrets stay in
// place while the host converges the one it runs; a newer head refused since does not bring an older commit's
// secrets back), else the commit converged. A new commit carrying a file this host cannot decrypt is refused
// whole, naming the file; the secrets in place stay.
func (a *Agent) secretsStep(ctx context.Context, p *pass) outcome {
	f := p.fleet
	if v := a.host.validFleet(""); !p.fresh && v != nil {
		f = v
	}
	if !a.secrets.holds(f.Commit) {
		err := a.secrets.write(f, p.fresh)
		var bad *undecryptable
		if p.fresh && errors.As(err, &bad) {
			return refuseCommit("secret " + bad.Error())
		}
		if err != nil {
			return fail(fmt.Errorf("secrets of fleet commit %s: %w", short(f.Commit), err))
		}
	}
	if p.fresh {
		a.host.setValid(f)
	}
	return proceed()
}

// acceptStep makes a new commit that passed every check (signed, valid, its secrets decrypted, let through by the
// rollout) the good one: the commit this pass converges.
func (a *Agent) acceptStep(ctx context.Context, p *pass) outcome {
	if p.fresh {
		_ = a.host.accept(p.fleet) // a failed save is logged; the commit applies, and the next save records it
		a.log.Info("fleet commit accepted", "commit", short(p.head))
	}
	return proceed()
}

// refuse records a fleet commit that does not validate or is not trusted; the last good one keeps running.
func (a *Agent) refuse(commit, reason string) {
	a.log.Error("fleet commit refused; keeping the last good one", "commit", short(commit), "reason", reason)
	_ = a.host.refuse(commit, reason)
}

// resolveStep works out the host's apps (the fleet's and the clicked ones) and each one's revision: a source
// fetched when the ref moved, or an artifact's sha256. An app that cannot be resolved keeps what it runs.
func (a *Agent) resolveStep(ctx context.Context, p *pass) outcome {
	base, d, err := a.desiredSet(p.fleet)
	if err != nil {
		return fail(err)
	}
	a.host.setDesired(base, d)
	p.desired = d
	p.targets = map[string]*target{}
	p.wanted = map[string]fleet.Wanted{}
	for _, app := range d.Apps {
		if ctx.Err() != nil {
			return finish()
		}
		if a.host.installed(app.Name) == nil {
			a.host.setPhase(app.Name, api.PhaseFetching)
		}
		t, err := a.tx.Resolve(ctx, p.fleet, d, app)
		if err != nil {
			p.wanted[app.Name] = fleet.Wanted{Err: err}
			continue
		}
		p.targets[app.Name] = t
		p.wanted[app.Name] = fleet.Wanted{Rev: t.Rev(), Key: t.Key(), HoldKey: t.QuarantineKey()}
	}
	return proceed()
}

// desiredSet is what f wants on this host, on its own (base) and with the apps installed on click (those no
// longer offered are dropped).
func (a *Agent) desiredSet(f *fleet.Fleet) (base, d *fleet.Desired, err error) {
	base, err = f.Resolve(fleet.Target{Host: a.cfg.Host, Role: a.cfg.Role, Address: a.cfg.Address})
	if err != nil {
		return nil, nil, fmt.Errorf("resolve host: %w", err)
	}
	keep, dropped := base.Offered(a.host.clicked())
	for _, c := range dropped {
		a.log.Warn("clicked app is no longer in the catalog; dropping it", "app", c)
	}
	d, err = f.With(base, keep)
	return base, d, err
}

// gateStep works out whether disruptive changes may happen now: the maintenance windows at this moment, and
// whether a person suspended the host.
func (a *Agent) gateStep(ctx context.Context, p *pass) outcome {
	p.gate = a.gate(p.fleet)
	return proceed()
}

// applyStep decides what happens to each app and carries it out, in apply order, then removes the apps that left
// (dependents first). Each app is decided by fleet.DecideApp, the rules `herofleet plan` decides with, on the host
// as the apps before it left it: an app whose need failed to install waits for it, and a suspend asked for while
// the pass runs holds every change after it. One app's failure does not hold back the others.
func (a *Agent) applyStep(ctx context.Context, p *pass) outcome {
	for _, app := range p.desired.Apps {
		if ctx.Err() != nil {
			return finish()
		}
		a.checkDrift(app.Name)
		a.carryOut(ctx, p, fleet.DecideApp(app, p.wanted[app.Name], a.hostNow(p)))
	}
	for _, name := range fleet.Leaving(p.desired, a.hostNow(p).Running) {
		if ctx.Err() != nil {
			return finish()
		}
		a.carryOut(ctx, p, fleet.DecideRemoval(name, a.hostNow(p)))
	}
	return proceed()
}

// hostNow is what Decide reads of the host at this moment: what runs, its quarantines, and the pass's gate, closed
// by a suspend asked for since the gate step.
func (a *Agent) hostNow(p *pass) fleet.HostState {
	g := p.gate
	if a.host.isSuspended() {
		g = fleet.Gate{Suspended: true}
	}
	in := a.host.decideInput(g)
	in.Drift = p.fleet.Meta.Drift
	return in
}

// recordStep records the commit the host now runs.
func (a *Agent) recordStep(ctx context.Context, p *pass) outcome {
	_ = a.host.recordApplied(p.fleet.Commit, p.desired) // a failed save is logged; the next pass saves again
	a.host.recordWanted(p.fleet.Commit, p.wanted)
	return proceed()
}
