package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/herofleet/herofleet/agent/apply"
	"github.com/herofleet/herofleet/agent/supervise"
)

// The commands a person sends through the cockpit API or the CLI. Each one changes the host's state through
// hostState and its processes inside the app's lane (see lanes), the path every apply takes too. Install and
// uninstall record the click and wake the converge loop, which does the work: an install is an apply like any.

// ErrUnknownBinary: no installed app has a binary of that name.
var ErrUnknownBinary = errors.New("no installed binary of that name")

// ErrQueued: the control waits for its app's lane (an apply, a removal or an earlier control of the same app) and
// is carried out in its turn.
var ErrQueued = errors.New("queued behind the app's apply or an earlier control; carried out in its turn")

// ErrBusy: too many controls already wait for their lanes.
var ErrBusy = errors.New("too many controls are queued; try again later")

// laneWait is how long a control's caller waits for it before it is told that the control is queued.
const laneWait = 10 * time.Second

// maxQueuedControls bounds the controls waiting for their lanes.
const maxQueuedControls = 64

// Sync asks for a sync as soon as possible; it never blocks. Requests that arrive while one is pending are one.
func (a *Agent) Sync() {
	a.metrics.syncRequested()
	select {
	case a.trigger <- struct{}{}:
	default:
	}
}

// Install installs app from the host's catalog (with its needs) and remembers it across restarts. The job
// follows it; the work happens in the next converge, which starts at once.
func (a *Agent) Install(app string) (Job, error) {
	j, err := a.host.click(app)
	if err == nil {
		a.Sync()
	}
	return j, err
}

// Uninstall removes an app installed on click at the next converge (which starts at once); its data stays.
func (a *Agent) Uninstall(app string) error {
	if err := a.host.unclick(app); err != nil {
		return err
	}
	a.Sync()
	return nil
}

// Suspend stops applying new fleet commits until Resume: the agent still fetches (the status shows the newest
// commit), running apps keep running, a click-install at the applied commit proceeds, and every other change
// waits. Remembered across restarts.
func (a *Agent) Suspend() error { return a.host.setSuspended(true) }

// Resume applies new fleet commits again, with a sync at once.
func (a *Agent) Resume() error {
	if err := a.host.setSuspended(false); err != nil {
		return err
	}
	a.Sync()
	return nil
}

// StartBinary starts a binary a person stopped; it stays supervised from then on.
func (a *Agent) StartBinary(ctx context.Context, binary string) error {
	return a.control(ctx, binary, func(ctx context.Context, p Proc) error {
		if err := a.host.setStopped(binary, false); err != nil {
			return err
		}
		if _, ok := a.sup.Status(binary); ok {
			return nil
		}
		return a.tx.StartProc(p)
	})
}

// StopBinary stops a binary until a person starts it again (remembered across restarts).
func (a *Agent) StopBinary(ctx context.Context, binary string) error {
	return a.control(ctx, binary, func(ctx context.Context, p Proc) error {
		if err := a.host.setStopped(binary, true); err != nil {
			return err
		}
		return a.sup.Stop(ctx, binary)
	})
}

// RestartBinary stops and starts a binary (a stopped one is started).
func (a *Agent) RestartBinary(ctx context.Context, binary string) error {
	return a.control(ctx, binary, func(ctx context.Context, p Proc) error {
		if err := a.sup.Stop(ctx, binary); err != nil {
			return err
		}
		if err := a.host.setStopped(binary, false); err != nil {
			return err
		}
		return a.tx.StartProc(p)
	})
}

// control carries do out on an installed binary inside its app's lane, in the order controls came. The caller
// waits until it is done, at most laneWait (or until ctx ends): then ErrQueued says that it is carried out in its
// turn. The work itself is bounded by the agent's life and its stop grace, never by the caller's request.
func (a *Agent) control(ctx context.Context, binary string, do func(context.Context, Proc) error) error {
	if _, _, ok := a.host.binary(binary); !ok {
		return fmt.Errorf("%s: %w", binary, ErrUnknownBinary)
	}
	if a.queued.Add(1) > maxQueuedControls {
		a.queued.Add(-1)
		return ErrBusy
	}
	done := make(chan error, 1)
	go func() {
		defer a.queued.Add(-1)
		done <- a.inLaneOf(binary, do)
	}()
	t := time.NewTimer(laneWait)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
	case <-ctx.Done():
	}
	return fmt.Errorf("%s: %w", binary, ErrQueued)
}

// inLaneOf runs do in the lane of the app that owns binary once inside: an apply that ran meanwhile may have
// changed the binary, removed it or given it to another app.
func (a *Agent) inLaneOf(binary string, do func(context.Context, Proc) error) error {
	for {
		inst, _, ok := a.host.binary(binary)
		if !ok {
			return fmt.Errorf("%s: %w", binary, ErrUnknownBinary)
		}
		leave, err := a.lanes.Enter(a.life, inst.App)
		if err != nil {
			return fmt.Errorf("%s: %w", binary, apply.ErrLanesClosed)
		}
		now, p, ok := a.host.binary(binary)
		if ok && now.App != inst.App {
			leave()
			continue // it moved to another app while this waited
		}
		if !ok {
			leave()
			return fmt.Errorf("%s: %w", binary, ErrUnknownBinary)
		}
		ctx, cancel := context.WithTimeout(a.life, a.cfg.StopGrace.Duration+laneWait)
		err = do(ctx, p)
		cancel()
		leave()
		return err
	}
}

// LogPath is the log file of a binary (rotated part: LogPath + ".1").
func (a *Agent) LogPath(binary string) (string, error) {
	if _, _, ok := a.host.binary(binary); !ok {
		return "", fmt.Errorf("%s: %w", binary, ErrUnknownBinary)
	}
	return a.tx.LogPath(binary), nil
}

// LogTail returns the last n lines of a binary's log.
func (a *Agent) LogTail(binary string, n int) (string, error) {
	p, err := a.LogPath(binary)
	if err != nil {
		return "", err
	}
	return supervise.Tail(p, n)
}

// Installed returns the binaries of an installed app exactly as they are started; nil when it is not installed.
func (a *Agent) Installed(app string) []Proc {
	if inst := a.host.installed(app); inst != nil {
		return append([]Proc(nil), inst.Binaries...)
	}
	return nil
}

// JobStatus returns an install job by id.
func (a *Agent) JobStatus(id string) (Job, bool) { return a.host.job(id) }
