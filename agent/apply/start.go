package apply

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/herofleet/herofleet/agent/supervise"
	"github.com/herofleet/herofleet/fleet"
)

// Start starts every binary of inst that no person has stopped. If one cannot start, the ones already started
// are stopped again: an app runs whole or not at all. The caller holds the app's lane.
func (r *Runner) Start(ctx context.Context, inst *Installed) error {
	return r.start(ctx, inst, false)
}

// Resume is Start after the agent itself started: a binary of inst that the supervisor already runs (Adopt took it
// over from the previous agent) is left as it runs, the others are started. If one cannot start, every binary of
// the app is stopped, the adopted ones too. The caller holds the app's lane.
func (r *Runner) Resume(ctx context.Context, inst *Installed) error {
	return r.start(ctx, inst, true)
}

func (r *Runner) start(ctx context.Context, inst *Installed, resume bool) error {
	for _, dir := range []string{r.dataDir(inst.App), r.homeDir(inst.App), r.socketsDir(), filepath.Join(r.cfg.Dir, "logs")} {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("prepare %s: %w", dir, err)
		}
	}
	var started []string
	for _, p := range inst.Binaries {
		if r.state.Stopped(p.Name) {
			continue
		}
		if _, ok := r.sup.Status(p.Name); ok && resume {
			started = append(started, p.Name)
			continue
		}
		if err := r.StartProc(p); err != nil {
			r.stopNames(ctx, started)
			return err
		}
		started = append(started, p.Name)
	}
	return nil
}

// Adopt takes over each binary of inst that the previous agent on this dir started and that still runs as runs
// records it (the same process, started from the spec inst has for it; see supervise.Supervisor.Adopt), and
// returns the pids adopted. What is not adopted is said and left alone: the caller kills what is left of the
// previous agent (supervise.KillMarked, the adopted groups kept) and Resume starts the rest. The caller holds the
// app's lane.
func (r *Runner) Adopt(inst *Installed, runs map[string]supervise.Run) []int {
	var pids []int
	for _, p := range inst.Binaries {
		run, ok := runs[p.Name]
		if !ok || r.state.Stopped(p.Name) {
			continue
		}
		spec, err := r.specOf(p)
		if err == nil {
			err = r.sup.Adopt(spec, run)
		}
		if err != nil {
			r.log.Info("not adopted; started afresh", "binary", p.Name, "pid", run.PID, "why", err)
			continue
		}
		r.log.Info("adopted a binary of the previous agent", "app", inst.App, "binary", p.Name, "pid", run.PID)
		pids = append(pids, run.PID)
	}
	return pids
}

// wait waits until every started binary with a health path answers.
func (r *Runner) wait(ctx context.Context, inst *Installed) error {
	for _, p := range inst.Binaries {
		if r.state.Stopped(p.Name) {
			continue
		}
		exits := r.sup.Exits(p.Name)
		if exits == nil {
			return fmt.Errorf("%s is not running", p.Name)
		}
		if p.Health == "" || p.Listen == "" {
			continue
		}
		if err := waitHealthy(ctx, p, exits, r.cfg.HealthTimeout); err != nil {
			return err
		}
	}
	return nil
}

// stopApp stops every binary of inst.
func (r *Runner) stopApp(ctx context.Context, inst *Installed) {
	names := make([]string, len(inst.Binaries))
	for i, p := range inst.Binaries {
		names[i] = p.Name
	}
	r.stopNames(ctx, names)
}

// stopNames stops binaries in parallel: a bundle's grace periods overlap instead of adding up.
func (r *Runner) stopNames(ctx context.Context, names []string) {
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.sup.Stop(ctx, n); err != nil {
				r.log.Warn("stop", "binary", n, "err", err)
			}
		}()
	}
	wg.Wait()
}

// listenOn is the address a binary listens on over network ("unix": its socket; "tcp": host:port), or "" when it
// listens otherwise or not at all.
func listenOn(listen, network string) (string, error) {
	if listen == "" {
		return "", nil
	}
	l, err := fleet.ParseListen(listen, fleet.Vars{})
	if err != nil || l.Network != network {
		return "", err
	}
	return l.Address, nil
}

// socketOf is the unix socket a binary listens on, or "". The supervisor clears it before every start of the
// binary, restarts after a crash included.
func socketOf(listen string) (string, error) { return listenOn(listen, "unix") }

// tcpOf is the host:port a binary listens on, or "".
func tcpOf(listen string) string {
	addr, _ := listenOn(listen, "tcp")
	return addr
}

// StartProc starts one binary under the supervisor. The caller holds its app's lane.
func (r *Runner) StartProc(p Proc) error {
	spec, err := r.specOf(p)
	if err != nil {
		return err
	}
	return r.sup.Start(spec)
}

// specOf is what the supervisor runs for p.
func (r *Runner) specOf(p Proc) (supervise.Spec, error) {
	sock, err := socketOf(p.Listen)
	if err != nil {
		return supervise.Spec{}, fmt.Errorf("binary %s: %w", p.Name, err)
	}
	return supervise.Spec{Name: p.Name, Path: p.Path, Args: p.Args, Env: p.Env, Dir: p.Dir, Log: r.LogPath(p.Name), Socket: sock, TCP: tcpOf(p.Listen)}, nil
}
