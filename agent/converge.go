package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/fleet"
)

// A converge is one pass over the host, a short list of named steps run in order by converge. Each step reads
// what the steps before it found in the pass, adds what it finds, and may end the pass: done when there is
// nothing more to do (a refused commit keeps the last good one running; the status says why), an error when the
// sync failed (whatever runs keeps running; the next try backs off).
type pass struct {
	head      string                  // sync: where the followed ref points
	fresh     bool                    // sync: head is a commit this host has not judged yet
	fleet     *fleet.Fleet            // load: the commit to converge on: head when good, else the last good one
	desired   *fleet.Desired          // resolve: what the fleet wants here, clicked apps included
	targets   map[string]*target      // resolve: each desired app's revision, as this host runs it
	wanted    map[string]fleet.Wanted // resolve: the same, as Decide reads it (or why it is not known)
	gate      fleet.Gate              // decide: whether disruptive changes may happen now
	decisions []fleet.Decision        // decide: one per app, in the order they are carried out
}

type step struct {
	name string
	run  func(context.Context, *pass) (done bool, err error)
}

// converge runs one pass: sync, verify, load, rollout, secrets, resolve, decide, apply, record.
func (a *Agent) converge(ctx context.Context) error {
	steps := []step{
		{"sync", a.syncStep},       // where the followed ref points; fetched only when it moved
		{"verify", a.verifyStep},   // a new commit is signed as the config asks and does not rewind
		{"load", a.loadStep},       // a new commit loads and validates, or is refused whole
		{"rollout", a.rolloutStep}, // a new commit waits for the earlier rollout waves, per Prometheus; the applied one runs meanwhile
		{"secrets", a.secretsStep}, // the host's secrets decrypted into secrets_dir before any hook, or the commit refused whole
		{"resolve", a.resolveStep}, // the host's apps, each resolved to a revision
		{"decide", a.decideStep},   // one decision per app, with its reason, and no side effects
		{"apply", a.applyStep},     // each decision carried out, an app at a time in its lane
		{"record", a.recordStep},   // the applied commit, and nothing held for apps that left
	}
	p := &pass{}
	for _, s := range steps {
		done, err := s.run(ctx, p)
		if err != nil {
			state := api.SyncError
			if s.name == "sync" && a.host.isSuspended() {
				state = api.SyncSuspended // the fetch failed; nothing new would have been applied anyway
			}
			a.host.setSync(state, err)
			a.log.Warn("sync failed; running apps untouched", "step", s.name, "err", err)
			return err
		}
		if done || ctx.Err() != nil {
			return nil
		}
	}
	return nil
}

// syncStep asks the remote where the followed ref points and fetches only when it moved. While suspended, the
// newest commit is fetched (the status shows it) and the applied one converged again: a click-install proceeds,
// every other change waits for a resume.
func (a *Agent) syncStep(ctx context.Context, p *pass) (bool, error) {
	suspended := a.host.isSuspended()
	a.host.beginSync(suspended)
	h, err := a.fleet.head(ctx)
	if err != nil {
		_ = a.host.recordHead("", err)
		return true, err
	}
	p.head = h.String()
	_ = a.host.recordHead(p.head, nil)
	good := a.host.goodFleet()
	switch {
	case suspended, good != nil && good.Commit == p.head:
		p.fleet = good
	case a.host.isRefused(p.head):
		a.host.setSync(api.SyncRefused, nil)
		p.fleet = good
	default:
		p.fresh = true
	}
	return false, nil
}

// verifyStep checks a new commit against the trust policy; an untrusted one is refused whole.
func (a *Agent) verifyStep(ctx context.Context, p *pass) (bool, error) {
	if !p.fresh {
		return p.fleet == nil, nil
	}
	reason, err := a.checkTrust(p.head)
	if err != nil {
		return true, fmt.Errorf("verify fleet commit %s: %w", short(p.head), err)
	}
	if reason != "" {
		a.refuse(p.head, reason)
		p.fresh, p.fleet = false, a.host.goodFleet()
		return p.fleet == nil, nil
	}
	return false, nil
}

// loadStep loads and validates a new commit; a bad one is refused whole and the last good one converged again.
func (a *Agent) loadStep(ctx context.Context, p *pass) (bool, error) {
	if p.fresh {
		f := a.host.heldFleet(p.head) // held back for the earlier rollout waves: loaded and validated when the hold began
		var err error
		if f == nil {
			f, err = a.fleet.load(p.head)
		}
		var ferrs fleet.Errors
		switch {
		case errors.As(err, &ferrs):
			a.refuse(p.head, ferrs.Error())
			p.fresh, p.fleet = false, a.host.goodFleet()
		case err != nil:
			return true, err
		default:
			p.fleet = f // accepted by secretsStep, once its secrets are in place
		}
	}
	if p.fleet == nil {
		return true, nil // no good commit yet: the status says why
	}
	a.sources.NewRound()
	return false, nil
}

// secretsStep decrypts this host's secrets of the commit into the secrets dir, before any hook can read them. A
// new commit carrying a file this host cannot decrypt is refused whole, naming the file; the last good commit's
// secrets stay in place.
func (a *Agent) secretsStep(ctx context.Context, p *pass) (bool, error) {
	if !p.fresh && a.secrets.holds(p.fleet.Commit) {
		return false, nil
	}
	err := a.secrets.write(p.fleet)
	var bad *undecryptable
	if p.fresh && errors.As(err, &bad) {
		a.refuse(p.head, "secret "+bad.Error())
		p.fresh, p.fleet = false, a.host.goodFleet()
		if p.fleet == nil {
			return true, nil
		}
		return a.secretsStep(ctx, p)
	}
	if err != nil {
		return true, fmt.Errorf("secrets of fleet commit %s: %w", short(p.fleet.Commit), err)
	}
	if p.fresh {
		_ = a.host.accept(p.fleet) // a failed save is logged; the commit applies, and the next save records it
		a.log.Info("fleet commit accepted", "commit", short(p.head))
	}
	return false, nil
}

// refuse records a fleet commit that does not validate or is not trusted; the last good one keeps running.
func (a *Agent) refuse(commit, reason string) {
	a.log.Error("fleet commit refused; keeping the last good one", "commit", short(commit), "reason", reason)
	_ = a.host.refuse(commit, reason)
}

// resolveStep works out the host's apps (the fleet's and the clicked ones) and each one's revision: a source
// fetched when the ref moved, or an artifact's sha256. An app that cannot be resolved keeps what it runs.
func (a *Agent) resolveStep(ctx context.Context, p *pass) (bool, error) {
	base, d, err := a.desiredSet(p.fleet)
	if err != nil {
		return true, err
	}
	a.host.setDesired(base, d)
	p.desired = d
	p.targets = map[string]*target{}
	p.wanted = map[string]fleet.Wanted{}
	for _, app := range d.Apps {
		if ctx.Err() != nil {
			return true, nil
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
	return false, nil
}

// desiredSet is what f wants on this host, on its own (base) and with the apps installed on click (those no
// longer offered are dropped).
func (a *Agent) desiredSet(f *fleet.Fleet) (base, d *fleet.Desired, err error) {
	base, err = f.Resolve(fleet.Target{Host: a.cfg.Host, Role: a.cfg.Role, Address: a.cfg.Address})
	if err != nil {
		return nil, nil, fmt.Errorf("resolve host: %w", err)
	}
	var keep []string
	for _, c := range a.host.clicked() {
		if slices.Contains(base.Catalog, c) || slices.Contains(base.Names(), c) {
			keep = append(keep, c)
		} else {
			a.log.Warn("clicked app is no longer in the catalog; dropping it", "app", c)
		}
	}
	d, err = f.With(base, keep)
	return base, d, err
}

// decideStep decides what happens to each app: fleet.Decide, the code `herofleet plan` decides with, fed with
// what the host runs, its quarantines and its gate.
func (a *Agent) decideStep(ctx context.Context, p *pass) (bool, error) {
	p.gate = a.gate(p.fleet)
	p.decisions = fleet.Decide(p.desired, p.wanted, a.host.decideInput(p.gate))
	return false, nil
}

// applyStep carries the decisions out in order. One app's failure does not hold back the others; an app whose
// needs are not installed waits.
func (a *Agent) applyStep(ctx context.Context, p *pass) (bool, error) {
	for _, dec := range p.decisions {
		if ctx.Err() != nil {
			return true, nil
		}
		a.carryOut(ctx, p, dec)
	}
	return false, nil
}

// recordStep records the commit the host now runs.
func (a *Agent) recordStep(ctx context.Context, p *pass) (bool, error) {
	_ = a.host.recordApplied(p.fleet.Commit, p.desired) // a failed save is logged; the next pass saves again
	return true, nil
}
