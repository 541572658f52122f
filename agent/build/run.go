package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/herofleet/herofleet/agent/supervise"
	"github.com/herofleet/herofleet/fleet"
)

// Spec is where and how a build runs: the environment is PATH, HOME, LANG and Env, never the caller's own.
type Spec struct {
	Dir              string     // the checked-out tree; the command runs here
	Vars             fleet.Vars // for ${…} in the command
	Path, Home, Lang string
	Env              map[string]string // extra variables for the build (the agent's build_env)
	Marker           string            // optional KEY=VALUE added to the environment (the agent's process marker)
}

// Tree checks out commit h of repo into spec.Dir (which must not exist) and builds app there exactly as the
// agent does; `herofleet build` uses it to build an app once for the whole fleet.
func Tree(ctx context.Context, repo *git.Repository, h plumbing.Hash, app *fleet.App, spec Spec, out io.Writer) error {
	if err := Checkout(repo, h, spec.Dir); err != nil {
		return err
	}
	if app.Build == nil {
		return nil
	}
	return Run(ctx, app.Name, app.Build, spec, out)
}

// Run runs a build command in spec.Dir in a process group of its own, killed whole at the build's timeout.
func Run(ctx context.Context, app string, b *fleet.Build, spec Spec, out io.Writer) error {
	timeout := b.Timeout.Duration
	if timeout <= 0 {
		timeout = fleet.DefaultBuildTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	argv := make([]string, len(b.Command))
	for i, arg := range b.Command {
		v, err := fleet.Expand(arg, spec.Vars)
		if err != nil {
			return fmt.Errorf("build.command[%d]: %w", i, err)
		}
		argv[i] = v
	}
	fmt.Fprintf(out, "herofleet: build %s at %s: %q\n", app, spec.Vars.Rev, argv)
	prog, err := lookPath(argv[0], spec.Path)
	if err != nil {
		fmt.Fprintf(out, "herofleet: %v\n", err)
		return err
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Path, cmd.Err = prog, nil // found on the given PATH, not the caller's
	cmd.Dir = spec.Dir
	cmd.Env = supervise.Env(spec.Path, spec.Home, spec.Lang, spec.Env)
	if spec.Marker != "" {
		cmd.Env = append(cmd.Env, spec.Marker)
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
		return fmt.Errorf("build timed out after %s", timeout)
	case err != nil:
		return fmt.Errorf("build failed: %v", err)
	}
	return nil
}

// DoneMarker is written into a tree once its build (or artifact unpack) succeeded; a tree without it is redone.
const DoneMarker = ".herofleet-built"

// ToolMissingError is a build command whose executable this host does not have: a name found nowhere on the
// build's PATH, or an absolute path that does not exist. Installing the tool fixes it; the app's spec is not wrong.
type ToolMissingError struct {
	Tool string // the executable as the command names it ("make", "/usr/bin/make")
	Path string // the PATH it was looked for on; "" for an absolute path
}

func (e *ToolMissingError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("build needs %q, which this host does not have", e.Tool)
	}
	return fmt.Sprintf("build needs %q, which is not on this host's PATH (%s)", e.Tool, e.Path)
}

// lookPath finds prog on path (the config's PATH) the way exec.LookPath does on the process's own, never on the
// agent's own PATH: a name found nowhere there, or an absolute path that does not exist, is a *ToolMissingError.
// A relative path (./configure) is the checked-out tree's, left to exec.
func lookPath(prog, path string) (string, error) {
	if filepath.IsAbs(prog) {
		if _, err := os.Stat(prog); errors.Is(err, fs.ErrNotExist) {
			return "", &ToolMissingError{Tool: prog}
		}
		return prog, nil
	}
	if filepath.Base(prog) != prog {
		return prog, nil
	}
	for _, d := range filepath.SplitList(path) {
		p := filepath.Join(d, prog)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", &ToolMissingError{Tool: prog, Path: path}
}
