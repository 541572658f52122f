package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/herofleet/herofleet/agent/supervise"
	"github.com/herofleet/herofleet/fleet"
)

// startApp starts every binary of inst that no person has stopped. If one cannot start, the ones already started
// are stopped again: an app runs whole or not at all.
func (a *Agent) startApp(ctx context.Context, inst *Installed) error {
	for _, dir := range []string{a.dataDir(inst.App), a.homeDir(inst.App), a.socketsDir(), filepath.Join(a.cfg.Dir, "logs")} {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("prepare %s: %w", dir, err)
		}
	}
	var started []string
	for _, p := range inst.Binaries {
		if a.host.isStopped(p.Name) {
			continue
		}
		if err := a.startProc(p); err != nil {
			a.stopNames(ctx, started)
			return err
		}
		started = append(started, p.Name)
	}
	return nil
}

// waitApp waits until every started binary with a health path answers.
func (a *Agent) waitApp(ctx context.Context, inst *Installed) error {
	for _, p := range inst.Binaries {
		if a.host.isStopped(p.Name) {
			continue
		}
		exits := a.sup.Exits(p.Name)
		if exits == nil {
			return fmt.Errorf("%s is not running", p.Name)
		}
		if p.Health == "" || p.Listen == "" {
			continue
		}
		if err := waitHealthy(ctx, p, exits, a.cfg.HealthTimeout.Duration); err != nil {
			return err
		}
	}
	return nil
}

// stopApp stops every binary of inst.
func (a *Agent) stopApp(ctx context.Context, inst *Installed) {
	names := make([]string, len(inst.Binaries))
	for i, p := range inst.Binaries {
		names[i] = p.Name
	}
	a.stopNames(ctx, names)
}

// stopNames stops binaries in parallel: a bundle's grace periods overlap instead of adding up.
func (a *Agent) stopNames(ctx context.Context, names []string) {
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.sup.Stop(ctx, n); err != nil {
				a.log.Warn("stop", "binary", n, "err", err)
			}
		}()
	}
	wg.Wait()
}

// socketOf is the unix socket a binary listens on, or "" for TCP or no listen address. The supervisor clears it
// before every start of the binary, restarts after a crash included.
func socketOf(listen string) (string, error) {
	if listen == "" {
		return "", nil
	}
	l, err := fleet.ParseListen(listen, fleet.Vars{})
	if err != nil || l.Network != "unix" {
		return "", err
	}
	return l.Address, nil
}

// startProc starts one binary under the supervisor.
func (a *Agent) startProc(p Proc) error {
	sock, err := socketOf(p.Listen)
	if err != nil {
		return fmt.Errorf("binary %s: %w", p.Name, err)
	}
	return a.sup.Start(supervise.Spec{Name: p.Name, Path: p.Path, Args: p.Args, Env: p.Env, Dir: p.Dir, Log: a.logPath(p.Name), Socket: sock})
}
