package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/herofleet/herofleet/agent/supervise"
)

// ErrUnknownBinary: no installed app has a binary of that name.
var ErrUnknownBinary = errors.New("no installed binary of that name")

func (a *Agent) findProc(binary string) (*Installed, Proc, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, inst := range a.state.Apps {
		for _, p := range inst.Binaries {
			if p.Name == binary {
				return inst, p, nil
			}
		}
	}
	return nil, Proc{}, fmt.Errorf("%s: %w", binary, ErrUnknownBinary)
}

// StartBinary starts a binary a person stopped; it stays supervised from then on.
func (a *Agent) StartBinary(ctx context.Context, binary string) error {
	_, p, err := a.findProc(binary)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.state.setStopped(binary, false)
	err = a.saveLocked()
	a.mu.Unlock()
	if err != nil {
		return err
	}
	if _, ok := a.sup.Status(binary); ok {
		return nil
	}
	return a.startProc(p)
}

// StopBinary stops a binary until a person starts it again (remembered across restarts).
func (a *Agent) StopBinary(ctx context.Context, binary string) error {
	if _, _, err := a.findProc(binary); err != nil {
		return err
	}
	a.mu.Lock()
	a.state.setStopped(binary, true)
	err := a.saveLocked()
	a.mu.Unlock()
	if err != nil {
		return err
	}
	return a.sup.Stop(ctx, binary)
}

// RestartBinary stops and starts a binary (a stopped one is started).
func (a *Agent) RestartBinary(ctx context.Context, binary string) error {
	if _, _, err := a.findProc(binary); err != nil {
		return err
	}
	if err := a.sup.Stop(ctx, binary); err != nil {
		return err
	}
	return a.StartBinary(ctx, binary)
}

// LogPath is the log file of a binary (rotated part: LogPath + ".1").
func (a *Agent) LogPath(binary string) (string, error) {
	if _, _, err := a.findProc(binary); err != nil {
		return "", err
	}
	return a.logPath(binary), nil
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
	a.mu.Lock()
	defer a.mu.Unlock()
	if inst := a.state.Apps[app]; inst != nil {
		return append([]Proc(nil), inst.Binaries...)
	}
	return nil
}
