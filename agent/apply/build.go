package apply

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/herofleet/herofleet/agent/build"
	"github.com/herofleet/herofleet/agent/supervise"
)

// buildTree checks the target's revision out into its build directory and runs the app's build command there,
// then marks the directory built (a directory with the marker is reused by prepare and never built again).
// The log is kept beside the directory (<dir>.log), at most BuildLogMax bytes plus its rotated part.
func (r *Runner) buildTree(ctx context.Context, t *Target, progress io.Writer) (err error) {
	dir := t.buildDir // prepare calls this only when dir has no built marker
	start := time.Now()
	defer func() { r.progress.BuildDone(t.app.Name, start, err) }()
	if err := os.RemoveAll(dir); err != nil { // a build killed half-way
		return fmt.Errorf("clean build dir: %w", err)
	}
	if err := build.Checkout(t.repo, t.hash, dir); err != nil {
		return err
	}
	if b := t.app.Build; b != nil {
		logPath := dir + ".log"
		for _, p := range []string{logPath, logPath + ".1"} { // a build's log is its own, never appended to
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("build log: %w", err)
			}
		}
		logf, err := supervise.OpenLog(logPath, BuildLogMax)
		if err != nil {
			return fmt.Errorf("build log: %w", err)
		}
		defer logf.Close()
		spec := build.Spec{
			Dir: dir, Vars: t.vars, Path: r.cfg.Path, Home: r.homeDir(t.app.Name), Lang: r.cfg.Lang,
			Env: r.cfg.BuildEnv, Marker: supervise.Marker(r.cfg.Dir),
		}
		if err := build.Run(ctx, t.app.Name, b, spec, io.MultiWriter(logf, progress)); err != nil {
			return fmt.Errorf("%w (log: %s)", err, logPath)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, build.DoneMarker), []byte(t.rev+"\n"), 0o644); err != nil {
		return fmt.Errorf("mark build: %w", err)
	}
	return nil
}

// BuildLogMax caps a build's log: past it the log rotates once to <dir>.log.1, so a build printing gigabytes keeps
// its newest output in at most twice this on disk.
const BuildLogMax = 8 << 20

// builtFor reports whether t's build tree is complete and was built for t's revision: its marker names the
// revision. A tree marked for another revision (or not marked) is built again.
func builtFor(t *Target) bool {
	f, err := os.Open(filepath.Join(t.buildDir, build.DoneMarker))
	if err != nil {
		return false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 256))
	return err == nil && string(bytes.TrimSpace(b)) == t.rev
}
