package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/herofleet/herofleet/agent/supervise"
	"github.com/herofleet/herofleet/fleet"
)

// builtMarker is written into a build directory once its build succeeded; a directory without it is redone.
const builtMarker = ".herofleet-built"

// buildResult says whether the build ran; a reused build directory did not.
type buildResult struct{ ran bool }

// build checks out rev into dir and runs the app's build command there, once: a directory that already carries
// the built marker is reused. The log is kept beside the directory (<dir>.log).
func (a *Agent) build(ctx context.Context, t *target, progress io.Writer) (_ buildResult, err error) {
	dir := t.buildDir
	if _, err := os.Stat(filepath.Join(dir, builtMarker)); err == nil {
		return buildResult{}, nil
	}
	start := time.Now()
	defer func() { a.metrics.buildDone(t.app.Name, start, err) }()
	if err := os.RemoveAll(dir); err != nil { // a build killed half-way
		return buildResult{}, fmt.Errorf("clean build dir: %w", err)
	}
	if err := checkout(t.repo, t.hash, dir); err != nil {
		return buildResult{}, err
	}
	if b := t.app.Build; b != nil {
		if err := a.runBuild(ctx, t, b, progress); err != nil {
			return buildResult{ran: true}, err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, builtMarker), []byte(t.rev+"\n"), 0o644); err != nil {
		return buildResult{ran: true}, fmt.Errorf("mark build: %w", err)
	}
	return buildResult{ran: true}, nil
}

func (a *Agent) runBuild(ctx context.Context, t *target, b *fleet.Build, progress io.Writer) error {
	timeout := b.Timeout.Duration
	if timeout <= 0 {
		timeout = fleet.DefaultBuildTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	argv := make([]string, len(b.Command))
	for i, arg := range b.Command {
		v, err := fleet.Expand(arg, t.vars)
		if err != nil {
			return fmt.Errorf("build.command[%d]: %w", i, err)
		}
		argv[i] = v
	}
	logPath := t.buildDir + ".log"
	logf, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("build log: %w", err)
	}
	defer logf.Close()
	out := io.MultiWriter(logf, progress)
	fmt.Fprintf(out, "herofleet: build %s at %s: %q\n", t.app.Name, t.rev, argv)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = t.buildDir
	cmd.Env = append(supervise.Env(a.cfg.Path, a.homeDir(t.app.Name), a.cfg.Lang, a.cfg.BuildEnv), supervise.Marker(a.cfg.Dir))
	if lp, err := lookPath(argv[0], a.cfg.Path); err == nil {
		cmd.Path, cmd.Err = lp, nil // found on the config's PATH, not the agent's
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err = cmd.Run()
	fmt.Fprintf(out, "herofleet: build ended after %s: %v\n", time.Since(start).Round(time.Millisecond), err)
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("build timed out after %s (log: %s)", timeout, logPath)
	case err != nil:
		return fmt.Errorf("build failed: %v (log: %s)", err, logPath)
	}
	return nil
}

// lookPath finds prog on path (the config's PATH) the way exec.LookPath does on the process's own.
func lookPath(prog, path string) (string, error) {
	if filepath.IsAbs(prog) || filepath.Base(prog) != prog {
		return prog, nil
	}
	for _, d := range filepath.SplitList(path) {
		p := filepath.Join(d, prog)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH %s", prog, path)
}
