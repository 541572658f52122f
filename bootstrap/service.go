package bootstrap

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/herofleet/herofleet/packaging"
)

// Runner runs one command given as an argv and returns its combined output.
type Runner func(ctx context.Context, argv ...string) ([]byte, error)

// Exec runs commands on this machine.
func Exec(ctx context.Context, argv ...string) ([]byte, error) {
	return exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
}

// InitSystem names PID 1 from <proc>/1/comm: "systemd", "zinit", or whatever else runs there.
func InitSystem(proc string) string {
	b, err := os.ReadFile(filepath.Join(proc, "1", "comm"))
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// Start starts the agent under the init system after Write made changes (or none), and restarts it when its
// config, token or service file changed under an agent that already ran. It returns the commands it ran, or
// what the operator has to do when PID 1 is neither systemd nor zinit.
func Start(ctx context.Context, initSystem string, o *Options, changes []Change, run Runner) ([]string, error) {
	s := &starter{ctx: ctx, run: run, retry: time.Second, patience: 2 * time.Minute}
	switch initSystem {
	case "systemd":
		return s.systemd(changes)
	case "zinit":
		return s.zinit(changes)
	}
	return []string{fmt.Sprintf("PID 1 is %q, neither systemd nor zinit: start the agent yourself: %s agent --config %s",
		initSystem, o.Bin, ConfigPath)}, nil
}

type starter struct {
	ctx      context.Context
	run      Runner
	retry    time.Duration // between tries of a command that waits for the agent to stop
	patience time.Duration // longer than the zinit file's shutdown_timeout
	done     []string
}

func (s *starter) do(argv ...string) error {
	out, err := s.run(s.ctx, argv...)
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	s.done = append(s.done, "ran: "+strings.Join(argv, " "))
	return nil
}

func (s *starter) systemd(changes []Change) ([]string, error) {
	unit := packaging.ServiceName + ".service"
	steps := [][]string{}
	if action(changes, UnitPath) != Unchanged {
		steps = append(steps, []string{"systemctl", "daemon-reload"})
	}
	steps = append(steps, []string{"systemctl", "enable", "--now", unit})
	if action(changes, UnitPath) != Created && changed(changes, ConfigPath, TokenPath, UnitPath) {
		steps = append(steps, []string{"systemctl", "restart", unit})
	}
	for _, argv := range steps {
		if err := s.do(argv...); err != nil {
			return s.done, err
		}
	}
	return s.done, nil
}

func (s *starter) zinit(changes []Change) ([]string, error) {
	name := packaging.ServiceName
	var steps [][]string
	if _, err := s.run(s.ctx, "zinit", "status", name); err != nil {
		steps = [][]string{{"zinit", "monitor", name}} // not monitored yet
	} else if action(changes, ZinitPath) != Unchanged {
		// zinit reads a service file when it starts monitoring it: stop, forget, monitor again.
		if err := s.do("zinit", "stop", name); err != nil {
			return s.done, err
		}
		if err := s.untilStopped("zinit", "forget", name); err != nil {
			return s.done, err
		}
		steps = [][]string{{"zinit", "monitor", name}}
	} else if changed(changes, ConfigPath, TokenPath) {
		steps = [][]string{{"zinit", "restart", name}}
	}
	for _, argv := range steps {
		if err := s.do(argv...); err != nil {
			return s.done, err
		}
	}
	return s.done, nil
}

// untilStopped runs argv until it succeeds: `zinit stop` only signals the agent, and `zinit forget` refuses a
// service whose process still runs (the agent is stopping its app binaries).
func (s *starter) untilStopped(argv ...string) error {
	deadline := time.Now().Add(s.patience)
	tick := time.NewTicker(s.retry)
	defer tick.Stop()
	for {
		out, err := s.run(s.ctx, argv...)
		if err == nil {
			s.done = append(s.done, "ran: "+strings.Join(argv, " "))
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: the agent did not stop within %s: %w: %s", strings.Join(argv, " "), s.patience, err, strings.TrimSpace(string(out)))
		}
		select {
		case <-s.ctx.Done():
			return s.ctx.Err()
		case <-tick.C:
		}
	}
}

func action(changes []Change, path string) Action {
	for _, c := range changes {
		if c.Path == path {
			return c.Action
		}
	}
	return Unchanged
}

func changed(changes []Change, paths ...string) bool {
	for _, p := range paths {
		if action(changes, p) != Unchanged {
			return true
		}
	}
	return false
}
